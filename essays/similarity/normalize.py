"""Normalisation for copy detection, with an offset map back to the original text.

Rules, applied in this order:
- pinyin glosses that 范文 sites put after characters, `發(fā)展`, are removed;
- Traditional characters become Simplified (OpenCC t2s), so a converted copy still matches;
- NFKC (full-width letters and digits become ASCII) and case folding;
- only letters and digits are kept (Unicode categories L* and N*): punctuation, spaces,
  symbols and line breaks are dropped, so re-punctuating or re-spacing a copy changes nothing.

`offsets[i]` is the index in the original text of the normalised character `i`; passages
found in normalised text are shown in the original through it.

Speed matters: a whole competition of 20,000 essays is normalised in one run. The text is
mapped through one table of code points with numpy instead of a Python loop per character;
the table is built once per process.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

import numpy as np

# A gloss is a bracketed pinyin reading right after a CJK character, as 范文 sites print them:
# `發(fā)`, `發（fā）`, `发 (fa1)`, `城市(chéng shì)`, `发[fā]`, tone marks precomposed or
# combining. Lower-case only: `(WTO)` or `(PDF)` after Chinese text is no gloss. Ordinary
# parentheses, `（一）`, `(2023年)`, hold no Latin letters and never match. A lower-case Latin
# word in parentheses (`城市(city)`) would match, which costs nothing here: it is dropped
# from the comparison text, not from the essay.
_PINYIN = "a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹ\u0300-\u036f"
GLOSS = re.compile(
    r"(?<=[\u3400-\u9fff\uf900-\ufaff])[ \t\u3000]?[(（\[【]"
    rf"[{_PINYIN}]{{1,8}}[1-5]?(?:[ ·'][{_PINYIN}]{{1,8}}[1-5]?){{0,3}}[)）\]】]"
)

TABLE_SIZE = 0x30000  # the BMP and the first supplementary planes (CJK extension B onwards)
DROP = 0
COMPLEX = 0xFFFFFFFF  # a character that NFKC expands to several: handled one by one


@dataclass(frozen=True)
class Normalized:
    text: str
    offsets: np.ndarray  # int32, len(text)

    def __len__(self) -> int:
        return len(self.text)

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original-text span [start, end) of the normalised span [start, end)."""
        if end <= start:
            return (0, 0)
        return int(self.offsets[start]), int(self.offsets[end - 1]) + 1


def _fold(ch: str) -> str:
    folded = unicodedata.normalize("NFKC", ch).casefold()
    folded = unicodedata.normalize("NFKC", folded)
    return "".join(c for c in folded if unicodedata.category(c)[0] in "LN")


@cache
def _table() -> tuple[np.ndarray, dict[int, str]]:
    table = np.zeros(TABLE_SIZE, dtype=np.uint32)
    complex_chars: dict[int, str] = {}
    for cp in range(TABLE_SIZE):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        ch = chr(cp)
        if unicodedata.category(ch)[0] in "LN" and cp < 0x80 and not ("A" <= ch <= "Z"):
            table[cp] = cp
            continue
        folded = _fold(ch)
        if len(folded) == 1:
            table[cp] = ord(folded)
        elif folded:
            table[cp] = COMPLEX
            complex_chars[cp] = folded
    return table, complex_chars


@cache
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """OpenCC t2s, kept the same length so that offsets survive.

    OpenCC converts phrases as well as characters; when a phrase changes length (rare),
    fall back to converting one character at a time.
    """
    converted = _t2s().convert(text)
    if len(converted) == len(text):
        return converted
    convert = _t2s().convert
    return "".join(c if len(c) == 1 else ch for ch, c in ((ch, convert(ch)) for ch in text))


def normalize(text: str) -> Normalized:
    glosses = [m.span() for m in GLOSS.finditer(text)] if any(b in text for b in "(（[【") else []
    simplified = to_simplified(text)
    codes = np.frombuffer(simplified.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    table, complex_chars = _table()
    inside = codes < TABLE_SIZE
    mapped = np.where(inside, table[np.where(inside, codes, 0)], COMPLEX)
    for start, end in glosses:
        mapped[start:end] = DROP
    if np.any(mapped == COMPLEX):
        return _normalize_slowly(simplified, mapped, complex_chars)
    keep = np.flatnonzero(mapped)
    return Normalized(mapped[keep].tobytes().decode("utf-32-le"), keep.astype(np.int32))


def _normalize_slowly(text: str, mapped: np.ndarray, complex_chars: dict[int, str]) -> Normalized:
    chars: list[str] = []
    offsets: list[int] = []
    for i, code in enumerate(mapped.tolist()):
        if code == DROP:
            continue
        if code == COMPLEX:
            cp = ord(text[i])
            folded = complex_chars.get(cp) if cp < TABLE_SIZE else _fold(text[i])
            for c in folded or "":
                chars.append(c)
                offsets.append(i)
        else:
            chars.append(chr(code))
            offsets.append(i)
    return Normalized("".join(chars), np.asarray(offsets, dtype=np.int32))
