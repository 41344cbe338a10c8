"""The folder ../shared beside the checkout: CI has it (real-docx: 30 real Word/WPS files; seed:
the notice as copied from a 范文 website), a user's `git clone` does not.

Tests that read it skip, saying so, when it is absent, and always run in CI. What they check is
also checked on the repository's own fixtures (tests/quirk_files.py; FANWEN_COPY in
tests/test_similarity_traces.py), so a clone with nothing beside it still covers every behaviour.
"""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"
REAL_DOCX = SHARED / "real-docx"
SEED = SHARED / "seed" / "000_07867b3095a794de.txt"

needs_real_docx = pytest.mark.skipif(
    not REAL_DOCX.exists(), reason="../shared/real-docx is not beside the checkout (CI has it)")
needs_seed = pytest.mark.skipif(not SEED.exists(), reason="../shared/seed is not beside the checkout (CI has it)")
