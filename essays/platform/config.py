"""Configuration helpers that must be safe with several workers starting at once."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def load_secret_key(instance_path: str) -> str:
    """Reads instance/secret_key, creating it first if it does not exist.

    The file is created exclusively (os.link fails when it exists): when several gunicorn
    workers start together, exactly one creates it and the others read what it wrote, so
    all sign sessions with one key.
    The writer writes to a temporary file and links it into place, so a reader never sees
    a half-written key.
    """
    folder = Path(instance_path)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "secret_key"
    if not path.exists():
        tmp = folder / f".secret_key.{os.getpid()}.{secrets.token_hex(4)}"
        tmp.write_text(secrets.token_hex(32))
        os.chmod(tmp, 0o600)
        try:
            os.link(tmp, path)  # atomic, and fails if another process won the race
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()
