"""Counting like Word's 字数统计 (a pure function).

字数 = 中文字符和朝鲜语单词 + 非中文单词, where:
- each CJK ideograph, kana, Hangul syllable, and full-width or CJK punctuation mark or
  symbol counts 1 (中文字符和朝鲜语单词, `east_asian`; Word's label speaks of Korean
  *words*, but for this Chinese competition one per syllable, as the issue specifies);
- each run of other non-space characters counts 1 (非中文单词): `2008年` = 2, `3.14` = 1,
  `Hello、World。` = 4, `①②③④⑤` = 1 (enclosed alphanumerics are not East Asian), an emoji
  run = 1, `ＡＢＣＤＥ` = 5 (full-width letters are East Asian, one each);
- spaces (including U+3000 and no-break spaces) and tabs count 0 and end a run; a
  paragraph end or line break counts 0 and ends a run;
- zero-width and other invisible format characters (ZWSP, ZWJ, soft hyphen, BOM,
  direction marks, variation selectors) count nothing and do not split a run.
字符数(计空格) counts every character but paragraph ends and line breaks; 字符数(不计空格)
leaves out spaces and tabs too. Characters are Unicode code points.

Punctuation that Chinese and Western text share (“ ” ‘ ’ … — ― · ‥) is East Asian or Latin
according to how its run is formatted, as in Word: a run marked East Asian
(w:rFonts/@w:hint="eastAsia", or East Asian fonts in use) makes it East Asian, a run marked
Latin makes it Latin (part of the surrounding word). When the file says nothing
(`Segment.east_asian is None`, or plain `str` input) a group of such marks takes the
script of its neighbours: East Asian when the character before or after it is East
Asian, else Latin when one of them is a Latin letter, digit or sign, else (alone between
spaces) East Asian, the common case in Chinese text. Because that guess can matter
(`……` = 2 East Asian or 1 word, `“Hello”` = 3 or 1), `words_min` and `words_max` give the
range with every undecided mark taken as Latin and as East Asian: taking a mark as East
Asian never lowers the count (it adds 1 and at most splits one word in two), so these
are the true extremes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields

from essays.intake.docx.content import Paragraph

SHARED_PUNCTUATION = frozenset("“”‘’…—―·‥")
ZERO_WIDTH = frozenset("\u00ad\u061c\u180e\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                       "\u2060\u2061\u2062\u2063\u2064\ufeff") | frozenset(map(chr, range(0xFE00, 0xFE10)))

_EAST_ASIAN_RANGES = (
    (0x1100, 0x11FF),  # Hangul Jamo
    (0x2E80, 0x2FDF),  # CJK radicals, Kangxi radicals
    (0x2FF0, 0x2FFF),  # ideographic description
    (0x3001, 0x303F),  # CJK symbols and punctuation (U+3000, the ideographic space, is a space)
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

_EA = "".join(f"{chr(lo)}-{chr(hi)}" for lo, hi in _EAST_ASIAN_RANGES)
_SHARED = "".join(sorted(SHARED_PUNCTUATION))
_EA_RE = re.compile(f"[{_EA}]")
_EA_RUN_RE = re.compile(f"[{_EA}]+")  # runs, not characters: far fewer matches to build
_SHARED_RE = re.compile(f"[{_SHARED}]")
_SHARED_GROUP_RE = re.compile(f"[{_SHARED}]+")
_LATIN_RE = re.compile(f"[^\\s{_EA}{_SHARED}]")  # a character of a Latin word
_ZERO_WIDTH_RE = re.compile("[" + "".join(sorted(ZERO_WIDTH)) + "]")
_BREAK_RE = re.compile("[\r\v\f\x1c-\x1e\x85\u2028\u2029]")  # all line and paragraph breaks
_AS_EAST_ASIAN = "\u4e00"  # stands in for a mark decided East Asian: one EA character
_AS_LATIN = "a"  # stands in for a mark decided Latin: part of a word


def is_east_asian(ch: str) -> bool:
    """Whether Word counts the character on its own (1 each) as 中文字符和朝鲜语单词.

    Shared punctuation (“ ” ‘ ’ … — ― · ‥) answers True, its reading in Chinese text; the
    counter itself decides it by formatting and context (see the module docstring)."""
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
    words_min: int = -1  # the 字数 range when shared punctuation could go either way
    words_max: int = -1

    def __post_init__(self):
        if self.words_min < 0:
            object.__setattr__(self, "words_min", self.words)
        if self.words_max < 0:
            object.__setattr__(self, "words_max", self.words)

    def as_dict(self) -> dict:
        return asdict(self)

    def __add__(self, other: Counts) -> Counts:
        """Field by field: the counts of two texts counted as separate paragraphs."""
        return Counts(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))


def count(paragraphs: Iterable[str | Paragraph]) -> Counts:
    """Counts paragraphs (plain strings, or Paragraphs whose segments carry script hints).

    Each paragraph end ends a run; nothing carries over from one paragraph to the next,
    so the count of a list is the sum of the counts of its items."""
    text = "\n".join(map(_resolved_text, paragraphs))
    text = _BREAK_RE.sub("\n", _ZERO_WIDTH_RE.sub("", text))
    if not _SHARED_RE.search(text):
        east, latin, no_spaces, with_spaces = _tally(text)
        return Counts(east + latin, east, latin, no_spaces, with_spaces)
    # Most marks sit alone between Chinese characters, where they count 1 whatever their
    # script (and are taken as East Asian); only the others need their neighbours looked at.
    all_east_asian = _SHARED_RE.sub(_AS_EAST_ASIAN, text)
    groups = [group for group in _SHARED_GROUP_RE.finditer(text) if _matters(group)]
    if not groups:
        east, latin, no_spaces, with_spaces = _tally(all_east_asian)
        return Counts(east + latin, east, latin, no_spaces, with_spaces)
    pieces, at = [], 0
    for group in groups:
        pieces += (text[at:group.start()], _by_neighbours(group))
        at = group.end()
    pieces.append(text[at:])
    in_context = _SHARED_RE.sub(_AS_EAST_ASIAN, "".join(pieces))
    east, latin, no_spaces, with_spaces = _tally(in_context)
    low = sum(_tally(_SHARED_RE.sub(_AS_LATIN, text))[:2])
    high = sum(_tally(all_east_asian)[:2])
    return Counts(east + latin, east, latin, no_spaces, with_spaces, low, high)


def _resolved_text(paragraph: str | Paragraph) -> str:
    """The paragraph's text with the shared marks of hinted segments replaced by a
    stand-in of the script they were given (same length); undecided marks stay."""
    if isinstance(paragraph, str):
        return paragraph
    pieces = []
    for segment in paragraph.segments:
        piece = segment.text
        if segment.east_asian is not None and _SHARED_RE.search(piece):
            piece = _SHARED_RE.sub(_AS_EAST_ASIAN if segment.east_asian else _AS_LATIN, piece)
        pieces.append(piece)
    return "".join(pieces)


def _matters(group: re.Match) -> bool:
    """Whether a group of undecided shared marks counts differently as Latin and as East
    Asian: when it is two marks or more, or touches a Latin character. A mark taken as
    East Asian adds 1 and at most splits a word in two, so the count only grows with the
    marks taken East Asian, and groups apart from Latin words do not interact."""
    text, start, end = group.string, group.start(), group.end()
    return end - start > 1 or bool(start and _LATIN_RE.match(text[start - 1])) or \
        bool(end < len(text) and _LATIN_RE.match(text[end]))


def _by_neighbours(match: re.Match) -> str:
    """The script of a group of undecided shared marks whose script matters, from the
    characters around it: East Asian when one of them is East Asian, else Latin when one
    is a Latin character, else (between spaces) East Asian."""
    text, start, end = match.string, match.start(), match.end()
    before = text[start - 1] if start else " "
    after = text[end] if end < len(text) else " "
    if _EA_RE.match(before) or _EA_RE.match(after):
        stand_in = _AS_EAST_ASIAN
    elif not before.isspace() or not after.isspace():
        stand_in = _AS_LATIN
    else:
        stand_in = _AS_EAST_ASIAN
    return stand_in * (end - start)


def _tally(text: str) -> tuple[int, int, int, int]:
    """(east_asian, non_east_asian_words, chars_no_spaces, chars_with_spaces) of a text
    whose paragraphs are joined by newlines; a newline counts as no character."""
    no_spaces = sum(map(len, text.split()))  # str.split() splits on exactly \s (isspace)
    latin_only, runs = _EA_RUN_RE.subn(" ", text)
    east = len(text) - len(latin_only) + runs
    return east, len(latin_only.split()), no_spaces, len(text) - text.count("\n")
