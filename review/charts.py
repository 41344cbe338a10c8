"""The competition in pictures: simple SVG charts drawn on the server from review.figures
(pure functions; no JavaScript, no style attributes, so the pages' CSP holds).

- essays by unit and by theme: horizontal bars, one a row, the count after the bar;
- the 字数 distribution: a histogram of the essays' 字数 in bins of a round width (about a
  tenth of the limit), the limit marked;
- the score distribution: a histogram of the ranked essays' final scores in bins of 5
  points, each award tier's cut-off (its lowest score) marked with a line and its name.
Every label is escaped; numbers are written by the code. A bin [a, b) holds a <= v < b;
the top value falls in the last bin.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from xml.sax.saxutils import escape as _escape

from review.figures import Figures

WIDTH = 640
INK, BAR, MARK, GRID = "#1f2933", "#3b6ea5", "#c0392b", "#d9dee3"
_ROW, _LABEL_END, _BAR_LEFT, _BAR_RIGHT = 24, 200, 208, WIDTH - 56
_PLOT_TOP, _PLOT_HEIGHT, _PLOT_LEFT, _PLOT_RIGHT = 40, 180, 48, WIDTH - 16
SCORE_STEP = 5


@dataclass(frozen=True)
class Chart:
    key: str  # the element's id
    caption: str
    svg: str


def escape(text: str) -> str:
    return _escape(str(text), {'"': "&quot;"})


def _fmt(value) -> str:
    return f"{Decimal(str(value)).quantize(Decimal('0.01')).normalize():f}"


def _open(title: str, height: int) -> list[str]:
    return [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
            f'viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(title)}" font-size="12" fill="{INK}">',
            f"<title>{escape(title)}</title>"]


def _short(label: str, limit: int = 14) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def bars_svg(title: str, rows: Sequence[tuple[str, int]], unit: str = "篇") -> str:
    height = 12 + _ROW * max(len(rows), 1)
    parts = _open(title, height)
    if not rows:
        parts.append(f'<text x="{WIDTH // 2}" y="24" text-anchor="middle">暂无数据</text>')
    top = max([n for _label, n in rows] + [1])
    for i, (label, n) in enumerate(rows):
        y = 6 + _ROW * i
        length = round((_BAR_RIGHT - _BAR_LEFT) * n / top, 1)
        parts += ["<g>", f"<title>{escape(label)}：{n} {unit}</title>",
                  f'<text x="{_LABEL_END}" y="{y + 15}" text-anchor="end">{escape(_short(label))}</text>',
                  f'<rect x="{_BAR_LEFT}" y="{y + 4}" width="{length}" height="14" fill="{BAR}"/>',
                  f'<text x="{_BAR_LEFT + length + 6}" y="{y + 15}">{n}</text>', "</g>"]
    parts.append("</svg>")
    return "\n".join(parts)


def bins(values: Sequence[float], start: float, step: float, end: float) -> list[int]:
    """How many values fall in each bin [start + i·step, start + (i+1)·step) up to `end`
    (the top value in the last bin)."""
    count = max(1, math.ceil((end - start) / step))
    found = [0] * count
    for v in values:
        found[min(count - 1, max(0, int((float(v) - start) // step)))] += 1
    return found


def histogram_svg(title: str, values: Sequence[float], start: float, step: float, end: float,
                  marks: Sequence[tuple[str, float]] = (), unit: str = "篇") -> str:
    counts = bins(values, start, step, end)
    height = _PLOT_TOP + _PLOT_HEIGHT + 40 + 16 * len(marks)
    parts = _open(title, height)
    top = max([*counts, 1])
    width = (_PLOT_RIGHT - _PLOT_LEFT) / len(counts)
    base = _PLOT_TOP + _PLOT_HEIGHT
    span = step * len(counts)

    def x_of(value: float) -> float:
        return round(_PLOT_LEFT + (_PLOT_RIGHT - _PLOT_LEFT) * (float(value) - start) / span, 1)

    parts.append(f'<text x="{_PLOT_LEFT}" y="{_PLOT_TOP - 24}">{unit}数（最多 {top}）</text>')
    parts.append(f'<line x1="{_PLOT_LEFT}" y1="{_PLOT_TOP}" x2="{_PLOT_RIGHT}" y2="{_PLOT_TOP}" stroke="{GRID}"/>')
    for i, n in enumerate(counts):
        low, high = start + step * i, start + step * (i + 1)
        bar = round(_PLOT_HEIGHT * n / top, 1)
        x = round(_PLOT_LEFT + width * i, 1)
        parts += ["<g>", f"<title>{_fmt(low)}–{_fmt(high)}：{n} {unit}</title>",
                  f'<rect x="{x + 1}" y="{round(base - bar, 1)}" width="{round(width - 2, 1)}" height="{bar}" '
                  f'fill="{BAR}"/>']
        if n:
            parts.append(f'<text x="{round(x + width / 2, 1)}" y="{round(base - bar - 4, 1)}" '
                         f'text-anchor="middle">{n}</text>')
        parts.append("</g>")
    step_labels = max(1, math.ceil(len(counts) / 10))
    for i in range(0, len(counts) + 1, step_labels):
        parts.append(f'<text x="{round(_PLOT_LEFT + width * i, 1)}" y="{base + 16}" text-anchor="middle">'
                     f"{_fmt(start + step * i)}</text>")
    parts.append(f'<line x1="{_PLOT_LEFT}" y1="{base}" x2="{_PLOT_RIGHT}" y2="{base}" stroke="{INK}"/>')
    for j, (label, value) in enumerate(marks):
        x = x_of(value)
        parts += ["<g>", f"<title>{escape(label)}：{_fmt(value)}</title>",
                  f'<line x1="{x}" y1="{_PLOT_TOP - 8}" x2="{x}" y2="{base}" stroke="{MARK}" stroke-width="2" '
                  'stroke-dasharray="4 3"/>',
                  f'<text x="{_PLOT_LEFT}" y="{base + 34 + 16 * j}" fill="{MARK}">'
                  f"{escape(label)}：{_fmt(value)}（虚线）</text>", "</g>"]
    parts.append("</svg>")
    return "\n".join(parts)


def word_step(limit: int) -> int:
    """A round bin width for 字数: about a tenth of the limit, in hundreds (at least 100)."""
    return max(100, math.ceil(limit / 10 / 100) * 100)


def charts(found: Figures) -> list[Chart]:
    step = word_step(found.char_limit)
    word_end = max([found.char_limit, *found.words]) + 1
    word_end = math.ceil(word_end / step) * step
    low = min([float(s) for s in found.scores] + [100.0])
    score_start = min(math.floor(low / SCORE_STEP) * SCORE_STEP, 95)
    return [
        Chart("chart-units", "各单位来稿篇数", bars_svg("各单位来稿篇数", found.by_unit)),
        Chart("chart-themes", "各主题来稿篇数", bars_svg("各主题来稿篇数", found.by_theme)),
        Chart("chart-words", "来稿字数分布",
              histogram_svg(f"来稿字数分布（每 {step} 字一组）", found.words, 0, step, word_end,
                            [("字数上限", found.char_limit)])),
        Chart("chart-scores", "最终得分分布与获奖分数线",
              histogram_svg(f"最终得分分布（每 {SCORE_STEP} 分一组）", [float(s) for s in found.scores],
                            score_start, SCORE_STEP, 100, [(f"{name}分数线", float(v)) for name, v in found.cutoffs])),
    ]
