"""Side-by-side evidence for one essay and one source: the shared passages in both
original texts, with base text (notice, common quotations) marked to be greyed.

The two texts are aligned again from their raw text (essays.similarity.compare.match), so
the evidence always agrees with the current base text. Passages are mapped back to the
original texts through the normalisation offsets; the display splits each text into
segments: plain, copied (with the passage number) or base.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from essays.similarity.align import chain, differences
from essays.similarity.base import BaseText
from essays.similarity.compare import Prepared, match, prepare


@dataclass(frozen=True)
class Segment:
    text: str
    kind: str  # "plain", "copied", "base"
    passage: int = 0  # 1-based number of the passage for "copied"


@dataclass(frozen=True)
class EvidencePassage:
    number: int
    a: tuple[int, int]  # original-text span in the essay
    b: tuple[int, int]  # original-text span in the source
    a_text: str
    b_text: str
    chars: int  # characters of exact runs (normalised)
    diff: list[tuple[str, str, str]]  # (tag, essay text, source text) for changes inside the passage


@dataclass(frozen=True)
class Evidence:
    passages: list[EvidencePassage]
    a_segments: list[Segment]
    b_segments: list[Segment]
    ratio_a: float
    ratio_b: float


def _segments(text: str, copied: list[tuple[int, int, int]], base: np.ndarray, prep: Prepared) -> list[Segment]:
    kinds = ["plain"] * len(text)
    numbers = [0] * len(text)
    for i in np.flatnonzero(base).tolist():
        kinds[int(prep.norm.offsets[i])] = "base"
    for start, end, number in copied:
        for i in range(start, end):
            if kinds[i] != "base":
                kinds[i], numbers[i] = "copied", number
    segments: list[Segment] = []
    for i, ch in enumerate(text):
        if segments and segments[-1].kind == kinds[i] and segments[-1].passage == numbers[i]:
            last = segments[-1]
            segments[-1] = Segment(last.text + ch, last.kind, last.passage)
        else:
            segments.append(Segment(ch, kinds[i], numbers[i]))
    return segments


def evidence(text_a: str, text_b: str, base: BaseText, b_is_reference: bool = False) -> Evidence:
    a = prepare("a", text_a, base)
    b = prepare("b", text_b, BaseText() if b_is_reference else base, is_reference=b_is_reference)
    m = match(a, b)
    if m is None:
        return Evidence([], _segments(text_a, [], a.base, a), _segments(text_b, [], b.base, b), 0.0, 0.0)
    passages: list[EvidencePassage] = []
    for number, p in enumerate(chain(m.runs), start=1):
        sa, sb = a.norm.span(*p.a), b.norm.span(*p.b)
        na, nb = a.text[p.a[0]:p.a[1]], b.text[p.b[0]:p.b[1]]
        diff = [(tag, na[i1:i2], nb[j1:j2]) for tag, i1, i2, j1, j2 in differences(na, nb) if tag != "equal"]
        passages.append(EvidencePassage(number, sa, sb, text_a[sa[0]:sa[1]], text_b[sb[0]:sb[1]],
                                        sum(r.length for r in p.runs), diff[:20]))
    return Evidence(
        passages,
        _segments(text_a, [(*p.a, p.number) for p in passages], a.base, a),
        _segments(text_b, [(*p.b, p.number) for p in passages], b.base, b),
        m.ratio_a(a), m.ratio_b(b),
    )
