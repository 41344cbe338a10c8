"""Counting like Word's 字数统计 (a pure function).

字数 = 中文字符和朝鲜语单词 + 非中文单词:
- each CJK ideograph, kana, Hangul syllable and full-width or CJK punctuation mark or
  symbol counts 1 (East Asian characters);
- each run of other non-space characters counts 1 (`2008年` = 2, `3.14` = 1);
- spaces, tabs and paragraph ends count 0 and end a run; zero-width characters count
  nothing and do not split a run.
Punctuation that Chinese and Western text share (“ ” ‘ ’ … — ·) is counted as East
Asian here, which is what Word does in Chinese text typed with a Chinese input method.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

ZERO_WIDTH = {"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"}
SHARED_PUNCTUATION = set("“”‘’…—·")

_EAST_ASIAN_RANGES = (
    (0x1100, 0x11FF),  # Hangul Jamo
    (0x2E80, 0x2FDF),  # CJK radicals, Kangxi radicals
    (0x2FF0, 0x303F),  # ideographic description, CJK symbols and punctuation
    (0x3040, 0x31FF),  # kana, bopomofo, Hangul compatibility jamo, kanbun, strokes
    (0x3200, 0x33FF),  # enclosed CJK letters, CJK compatibility
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xA960, 0xA97F),  # Hangul Jamo extended A
    (0xAC00, 0xD7FF),  # Hangul syllables and Jamo extended B
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFE10, 0xFE1F),  # vertical forms
    (0xFE30, 0xFE6F),  # CJK compatibility forms, small form variants
    (0xFF00, 0xFFEF),  # half-width and full-width forms
    (0x20000, 0x3FFFF),  # CJK extensions B and later
)


def is_east_asian(ch: str) -> bool:
    if ch in SHARED_PUNCTUATION:
        return True
    code = ord(ch)
    if code < 0x1100:
        return False
    return any(lo <= code <= hi for lo, hi in _EAST_ASIAN_RANGES)


@dataclass(frozen=True)
class Counts:
    words: int  # 字数
    east_asian: int  # 中文字符和朝鲜语单词
    non_east_asian_words: int  # 非中文单词
    chars_no_spaces: int  # 字符数(不计空格)
    chars_with_spaces: int  # 字符数(计空格)

    def as_dict(self) -> dict:
        return asdict(self)


def count(paragraphs: list[str]) -> Counts:
    """Counts a list of paragraphs (each paragraph end ends a run)."""
    east = words = no_space = with_space = 0
    for paragraph in paragraphs:
        in_run = False
        for ch in paragraph:
            if ch in ZERO_WIDTH:
                continue
            if ch in "\r\n":
                in_run = False
                continue
            with_space += 1
            if ch.isspace():
                in_run = False
                continue
            no_space += 1
            if is_east_asian(ch):
                east += 1
                in_run = False
            elif not in_run:
                words += 1
                in_run = True
    return Counts(east + words, east, words, no_space, with_space)
