"""The limit rule and the warnings (pure), and inspect_file on built documents."""

from __future__ import annotations

import pytest

from essays.intake.counting import Counts
from essays.intake.inspection import IntakeRules, inspect_file, limit_verdict
from essays.platform.errors import Refusal
from tests.factories import docx_bytes


def counts(words, low=None, high=None):
    return Counts(words=words, east_asian=words, non_east_asian_words=0, chars_no_spaces=words,
                  chars_with_spaces=words, words_min=low if low is not None else words,
                  words_max=high if high is not None else words)


@pytest.mark.parametrize(("c", "hard", "within", "straddles", "refuse", "flag", "cut"), [
    (counts(2999), True, True, False, False, False, 0),
    (counts(3000), True, True, False, False, False, 0),
    (counts(3001), True, False, False, True, False, 1),
    (counts(3050), True, False, False, True, False, 50),
    (counts(3001), False, False, False, False, True, 1),
    # The range straddles the limit: never refused, flagged, the count in context decides.
    (counts(3001, 2998, 3004), True, False, True, False, True, 0),
    (counts(2999, 2998, 3004), True, True, True, False, True, 0),
    # Entirely over, although a range: refused, cut to the lowest count.
    (counts(3010, 3005, 3012), True, False, False, True, False, 5),
    # A range entirely within: not flagged.
    (counts(2990, 2988, 2995), True, True, False, False, False, 0),
])
def test_limit_verdict(c, hard, within, straddles, refuse, flag, cut):
    verdict = limit_verdict(c, 3000, hard)
    assert (verdict.within, verdict.straddles, verdict.refuse, verdict.flag, verdict.cut) == (
        within, straddles, refuse, flag, cut)


def test_inspect_counts_the_whole_document_by_default():
    data = docx_bytes(["城管执法要解放思想。"], title="论城管改革")
    whole = inspect_file(data, IntakeRules())
    assert whole.counts.words == 15
    assert whole.title == "论城管改革"
    body_only = inspect_file(data, IntakeRules(include_title=False))
    assert body_only.counts.words == 10
    assert len(whole.sha256) == 64 and whole.size == len(data)


def test_inspect_over_limit_is_read_but_marked():
    result = inspect_file(docx_bytes(["城" * 120], title=""), IntakeRules(char_limit=100))
    assert result.verdict.refuse and result.verdict.cut == 20
    soft = inspect_file(docx_bytes(["城" * 120], title=""), IntakeRules(char_limit=100, limit_is_hard=False))
    assert not soft.verdict.refuse and soft.verdict.flag
    assert any("超过了 100 字的要求" in w for w in soft.warnings)


def test_inspect_refuses_empty_documents():
    with pytest.raises(Refusal) as excinfo:
        inspect_file(docx_bytes([""], title=""), IntakeRules())
    assert excinfo.value.code == "UPLOAD_NO_TEXT"
