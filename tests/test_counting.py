"""Counting like Word's 字数统计: the examples of the issue, the range over shared
punctuation, and properties checked against a plain character-by-character reference."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from essays.intake.counting import SHARED_PUNCTUATION, ZERO_WIDTH, Counts, count, is_east_asian
from essays.intake.docx.content import Paragraph, Segment

# (paragraphs, 字数, 中文字符和朝鲜语单词, 非中文单词, 字符数(不计空格), 字符数(计空格))
EXAMPLES = [
    (["2008年"], 2, 1, 1, 5, 5),
    (["3.14"], 1, 0, 1, 4, 4),
    (["Hello、World。"], 4, 2, 2, 12, 12),
    (["①②③④⑤"], 1, 0, 1, 5, 5),  # enclosed alphanumerics are not East Asian
    (["ＡＢＣＤＥ"], 5, 5, 0, 5, 5),  # full-width letters are, one each
    (["😀😀😀"], 1, 0, 1, 3, 3),
    (["👍🏻👨\u200d👩\u200d👧"], 1, 0, 1, 5, 5),  # a joiner neither counts nor splits
    (["ab\u200bcd"], 1, 0, 1, 4, 4),
    (["城\u200b管"], 2, 2, 0, 2, 2),
    (["a b\tc"], 3, 0, 3, 3, 5),
    (["城管\u3000执法"], 4, 4, 0, 4, 5),  # the ideographic space is a space
    (["城管 执法", "abc", "def"], 6, 4, 2, 10, 11),  # a paragraph end ends a run
    (["abc\ndef"], 2, 0, 2, 6, 6),  # so does a line break, which is no character
    (["“城管”"], 4, 4, 0, 4, 4),
    (["가나다 라마"], 5, 5, 0, 5, 6),  # Hangul syllables one each
    (["ひらがなカタカナ"], 8, 8, 0, 8, 8),
    (["（一）城管"], 5, 5, 0, 5, 5),
    (["e-mail"], 1, 0, 1, 6, 6),
    (["城管 work 2027年"], 5, 3, 2, 11, 13),
    ([""], 0, 0, 0, 0, 0),
    ([], 0, 0, 0, 0, 0),
]


@pytest.mark.parametrize(("paragraphs", "words", "east", "latin", "no_spaces", "with_spaces"), EXAMPLES)
def test_examples(paragraphs, words, east, latin, no_spaces, with_spaces):
    counts = count(paragraphs)
    assert (counts.words, counts.east_asian, counts.non_east_asian_words, counts.chars_no_spaces,
            counts.chars_with_spaces) == (words, east, latin, no_spaces, with_spaces)
    assert counts.words_min == counts.words == counts.words_max


@pytest.mark.parametrize(("paragraphs", "words"), [
    (["2008年"], 2),
    (["3.14"], 1),
    (["Hello、World。"], 4),
    (["①②③④⑤"], 1),
    (["ＡＢＣＤＥ"], 5),
    (["😀😀😀"], 1),
    (["ab\u200bcd"], 1),
    (["城管 执法", "abc", "def"], 6),
    (["a b\tc"], 3),
    (["“城管”"], 4),
    ([""], 0),
])
def test_word_count_like_word(paragraphs, words):
    assert count(paragraphs).words == words


def test_other_figures_of_the_count():
    counts = count(["城管 work 2027年"])
    assert counts.east_asian == 3
    assert counts.non_east_asian_words == 2
    assert counts.chars_no_spaces == 11
    assert counts.chars_with_spaces == 13


def hinted(*segments: tuple[str, bool | None]) -> Paragraph:
    return Paragraph(tuple(Segment(text, script) for text, script in segments))


# (paragraph, 字数 in context, lowest, highest)
RANGES = [
    # An ellipsis after a Latin word: part of the word, or two East Asian marks.
    (["Wait……"], 1, 1, 3),
    (["等等……"], 4, 3, 4),
    (["……"], 2, 1, 2),
    (["——"], 2, 1, 2),
    (["城管——执法"], 6, 5, 6),
    (["2008——2027"], 1, 1, 4),
    # Quotes touching Latin letters.
    (["“Hello”"], 1, 1, 3),
    (["他说“Hello”"], 4, 3, 5),
    (["“城管”"], 4, 4, 4),  # a single mark between East Asian characters counts 1 either way
    (["a · b"], 3, 3, 3),
    (["阿卜杜·热合曼"], 7, 7, 7),
    # The run's formatting decides: hint eastAsia (or an East Asian font) or Latin.
    ([hinted(("“Hello”", True))], 3, 3, 3),
    ([hinted(("“Hello”", False))], 1, 1, 1),
    ([hinted(("他说", True), ("“", True), ("Hello", None), ("”", None))], 4, 4, 5),
    ([hinted(("Wait", None), ("……", True))], 3, 3, 3),
    ([hinted(("城管", True), ("——", False), ("执法", True))], 5, 5, 5),
]


@pytest.mark.parametrize(("paragraphs", "words", "low", "high"), RANGES)
def test_shared_punctuation_range(paragraphs, words, low, high):
    counts = count(paragraphs)
    assert (counts.words, counts.words_min, counts.words_max) == (words, low, high)


def test_plain_strings_and_paragraphs_count_alike():
    text = "他说：“Hello……” 2008年"
    assert count([text]) == count([Paragraph.plain(text)]) == count([hinted((text[:5], None), (text[5:], None))])


def test_counts_add_up_and_serialise():
    both = count(["城管"]) + count(["Hello……"])
    assert both == count(["城管", "Hello……"])
    assert both.as_dict()["words_max"] == 2 + 3
    assert Counts(words=5, east_asian=5, non_east_asian_words=0, chars_no_spaces=5,
                  chars_with_spaces=5).words_max == 5


def test_is_east_asian():
    assert all(map(is_east_asian, "城管Ａかカ가、。《》「」（）！"))
    assert not any(map(is_east_asian, "aZ09.,!①😀 \u3000\t"))
    assert all(map(is_east_asian, SHARED_PUNCTUATION))  # their reading in Chinese text


# --- properties --------------------------------------------------------------------------------

BREAKS = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"
ALPHABET = list("城管执法改革ＡＢ１。，、《》（）가나かカaZz09.,-!#① \t\u3000\xa0😀") + list(ZERO_WIDTH)[:6] \
    + list(SHARED_PUNCTUATION) + list("\n\u2028")
texts = st.text(alphabet=st.sampled_from(ALPHABET), max_size=40) | st.text(max_size=20)
paragraph_lists = st.lists(texts, max_size=5)


def reference(paragraphs: list[str], shared_east_asian: bool) -> tuple[int, int, int, int, int]:
    """Word's rules one character at a time, every shared mark read one way."""
    east = latin = no_spaces = with_spaces = 0
    for text in paragraphs:
        in_word = False
        for ch in text:
            if ch in ZERO_WIDTH:
                continue
            if ch in BREAKS:
                in_word = False
                continue
            with_spaces += 1
            if ch.isspace():
                in_word = False
                continue
            no_spaces += 1
            if is_east_asian(ch) and (shared_east_asian or ch not in SHARED_PUNCTUATION):
                east += 1
                in_word = False
            elif not in_word:
                latin += 1
                in_word = True
    return east + latin, east, latin, no_spaces, with_spaces


@given(paragraph_lists)
def test_counts_are_sane(paragraphs):
    counts = count(paragraphs)
    assert all(value >= 0 for value in counts.as_dict().values())
    assert counts.words_min <= counts.words <= counts.words_max
    assert counts.words == counts.east_asian + counts.non_east_asian_words
    assert counts.chars_with_spaces >= counts.chars_no_spaces >= counts.east_asian


@given(paragraph_lists, paragraph_lists)
def test_concatenating_paragraphs_adds_their_counts(first, second):
    assert count(first + second) == count(first) + count(second)


@given(paragraph_lists)
def test_the_range_is_every_shared_mark_latin_or_east_asian(paragraphs):
    counts = count(paragraphs)
    assert counts.words_min == reference(paragraphs, shared_east_asian=False)[0]
    assert counts.words_max == reference(paragraphs, shared_east_asian=True)[0]
    assert (counts.chars_no_spaces, counts.chars_with_spaces) == reference(paragraphs, True)[3:]


@given(paragraph_lists)
def test_without_shared_marks_the_count_is_the_reference(paragraphs):
    paragraphs = [text.translate({ord(ch): None for ch in SHARED_PUNCTUATION}) for text in paragraphs]
    counts = count(paragraphs)
    assert (counts.words, counts.east_asian, counts.non_east_asian_words, counts.chars_no_spaces,
            counts.chars_with_spaces) == reference(paragraphs, shared_east_asian=True)


@given(st.lists(st.tuples(texts, st.sampled_from([True, False])), max_size=6))
def test_hinted_segments_decide_their_marks(segments):
    paragraph = hinted(*segments)
    counts = count([paragraph])
    assert counts.words_min == counts.words == counts.words_max
    as_east_asian = count([hinted(*((text, True) for text, _ in segments))])
    as_latin = count([hinted(*((text, False) for text, _ in segments))])
    assert as_latin.words <= counts.words <= as_east_asian.words
