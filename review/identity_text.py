"""The text as the identity scan reads it (review.identity): folded, without invisible
characters, and once more without the separators one may slip between the characters of a
name, each with a map back to the original text. Pure functions.

- Invisible characters are dropped before anything is matched: zero-width spaces and joiners,
  the direction marks (U+200B-U+200F), the word joiner and invisible operators
  (U+2060-U+2064), the bidirectional embeddings, overrides and isolates (U+202A-U+202E,
  U+2066-U+2069), the byte-order mark (U+FEFF), the soft hyphen (U+00AD), the combining
  grapheme joiner (U+034F), the Mongolian vowel separator (U+180E), variation selectors
  (U+FE00-U+FE0F, U+E0100-U+E01EF) and tag characters (U+E0000-U+E007F). `strip_invisible`
  removes them from what judges receive.
- Each remaining character is folded: NFKC (full-width letters, digits and brackets,
  compatibility ideographs, U+3000 and NBSP become their plain forms; a character NFKC expands,
  such as ㈠, becomes several, each mapped to it), lower case, then Traditional -> Simplified by
  OpenCC (t2s, kept to the same length: essays.similarity.normalize.to_simplified).
- The compact view also drops separators: whitespace, dashes, connectors (_), symbols (· • * / |
  ~ ★ ...) and punctuation other than what ends or splits a clause or quotes (。，、；：！？…
  and their ASCII forms, quotation marks and brackets) and line breaks. So 第·一·中·队,
  周-建-平 and 李 建 军 read as the names they hide, while 主张。三是 or 主张“三个” never
  read as 张三: a clause break, a quote or a bracket between two characters says they
  belong to different words.
`View.span(start, end)` is the original span of a span of the view: from the original of its
first character to the original of its last, so invisible characters and separators inside a
match are part of the span (and of what is redacted).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from essays.similarity.normalize import to_simplified

_INVISIBLE_RANGES = ((0x200B, 0x200F), (0x2060, 0x2064), (0x202A, 0x202E), (0x2066, 0x2069), (0xFE00, 0xFE0F),
                     (0xE0100, 0xE01EF), (0xE0000, 0xE007F))
_INVISIBLE_SINGLE = {0xFEFF, 0x00AD, 0x034F, 0x180E}
# Punctuation that ends or splits a clause, and quotes: a name is never read across them.
_BREAKS = set("。，、；：！？…‥,;:!?\"'\n\r\v\f\u2028\u2029\x1c\x1d\x1e\x85")
_SEPARATOR_CATEGORIES = {"Zs", "Pd", "Pc", "Po", "Sm", "Sk", "So", "Cc"}


def is_invisible(ch: str) -> bool:
    code = ord(ch)
    return code in _INVISIBLE_SINGLE or any(low <= code <= high for low, high in _INVISIBLE_RANGES)


def strip_invisible(text: str) -> str:
    """`text` without the invisible characters above."""
    return "".join(ch for ch in text if not is_invisible(ch))


@lru_cache(maxsize=8192)
def _fold_char(ch: str) -> str:
    """NFKC and lower case of one character (possibly several characters)."""
    return unicodedata.normalize("NFKC", ch).lower()


@lru_cache(maxsize=4096)
def is_separator(ch: str) -> bool:
    """A folded character the compact view drops (the rules above)."""
    return ch not in _BREAKS and (ch in "\t " or unicodedata.category(ch) in _SEPARATOR_CATEGORIES)


def fold(text: str) -> str:
    """`text` folded character by character, of the same length: NFKC and lower case when the
    result is one character, then OpenCC t2s. (Names are matched through `view`.)"""
    folded = "".join(f if len(f := _fold_char(ch)) == 1 else ch for ch in text)
    return to_simplified(folded)


@dataclass(frozen=True)
class View:
    text: str
    offsets: tuple[int, ...]  # the original index of each character of `text`

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span [start, end) of the view's span [start, end) (non-empty)."""
        return self.offsets[start], self.offsets[end - 1] + 1


def view(text: str) -> View:
    """`text` folded, without invisible characters (the rules above)."""
    chars: list[str] = []
    offsets: list[int] = []
    for at, ch in enumerate(text):
        if is_invisible(ch):
            continue
        for folded in _fold_char(ch):
            chars.append(folded)
            offsets.append(at)
    return View(to_simplified("".join(chars)), tuple(offsets))


def compact(seen: View) -> View:
    """The view without separators (the rules above)."""
    kept = [(ch, at) for ch, at in zip(seen.text, seen.offsets, strict=True) if not is_separator(ch)]
    return View("".join(ch for ch, _ in kept), tuple(at for _, at in kept))


def key(name: str) -> str:
    """A name as it is matched: folded, without invisible characters or separators."""
    return compact(view(name)).text
