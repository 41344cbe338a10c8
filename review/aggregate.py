"""Final scores of the review from the judges' submitted sheets: pure functions, no database,
no Flask, no clock.

Decimal throughout (no float): intermediate values keep 50 significant digits, sums are taken
in sorted order (so the input order cannot change a digit), and every reported figure is
rounded once, at the end, with quantize(Decimal("0.01"), ROUND_HALF_UP); a rounded zero is
"0.00", never "-0.00".

Input
-----
A `Sheet` is one judge's submitted score of one essay, all sheets of one competition. A judge
scores an essay at most once: two sheets for the same (judge, essay) are a ValueError. A void
sheet (a failed pass/fail gate) is left out of every figure and only counted in `void`; the
other sheets are "counted".

Per essay (`aggregate`), for every essay that has a sheet, keyed and ordered by essay id:
- mean: the arithmetic mean of the counted totals.
- trimmed_mean: with 5 or more counted sheets, drop exactly one highest and one lowest total
  (one each even when tied) and average the rest, `trimmed` True; with fewer it is the mean and
  `trimmed` is False, so the page can say no score was dropped.
- median: the middle counted total, or the mean of the two middle ones.
- zscore (标准分, corrects harsh and lenient judges): for each judge, m_j and s_j are the mean
  and population standard deviation of all that judge's counted totals in the input; a sheet's
  z = (total - m_j) / s_j, or 0 when s_j = 0 (also when the judge has a single sheet). The
  essay's z is the mean of its counted sheets' z, reported as the T-score 50 + 10 * z clamped
  to [0, 100]. The T-score puts it on the same 0..100 range as the other methods (50 = the
  judges' usual level, 10 points = one standard deviation); the clamp only matters for
  |z| > 5. It ranks essays; it is not points a judge gave.
- subtotals: for each key of `criteria`, the mean of that criterion over the counted sheets
  that have a value for it; a key no counted sheet has is left out, keys not in `criteria`
  are ignored.
- counted, void: the number of counted and of void sheets.
- spread: the highest minus the lowest counted total, 0 with fewer than 2.
- An essay with no counted sheet: every method None, `trimmed` False, `subtotals` empty,
  `counted` 0, `spread` 0.

Per judge (`judge_profiles`), for every judge with a counted sheet (a judge whose every sheet
is void has no profile), keyed and ordered by judge id:
- sheets: their counted sheets; mean, spread: mean and population standard deviation of
  their counted totals.
- offset: the mean, over their counted sheets on essays that another judge also counted, of
  (their total - the mean of the other judges' counted totals on that essay); below 0 the
  judge is harsh, above 0 lenient; 0 when no essay of theirs has another judge.

`disagreements`: ids of the essays whose spread is strictly above the threshold (20 by
default), the largest spread first, then by essay id.

`profile_chart_svg`: an SVG 480 px wide, one row a judge, most lenient first (then by judge
id): the label (cut to 10 characters, the full label in the row's <title>), a bar from the
zero line (right: lenient, left: harsh) and the signed offset. The bars' scale reaches the
largest |offset|, at least 5 points, so small offsets look small. Presentation attributes
only (no style=, no script, no external reference); labels are escaped; a judge without a
label shows as "评委 <id>". The same input gives the same text.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext

from markupsafe import escape

METHODS = ("mean", "trimmed_mean", "median", "zscore")
METHOD_NAMES = {
    "mean": "平均分",
    "trimmed_mean": "去掉一个最高分和一个最低分后的平均分",
    "median": "中位数",
    "zscore": "标准分（按评委校正）",
}
TRIM_AT = 5  # counted sheets needed before the highest and the lowest are dropped
DISAGREEMENT = Decimal(20)

_CONTEXT = Context(prec=50)
_CENT = Decimal("0.01")
_ZERO = Decimal(0)


@dataclass(frozen=True)
class Sheet:
    """One judge's submitted score of one essay."""

    judge_id: int
    essay_id: int
    total: Decimal
    points: Mapping[str, Decimal]  # criterion key -> points
    void: bool  # a failed pass/fail gate: left out of every figure


@dataclass(frozen=True)
class EssayResult:
    essay_id: int
    scores: Mapping[str, Decimal | None]  # method -> final score; None when no counted sheet
    trimmed: bool  # trimmed_mean really dropped the highest and the lowest
    subtotals: Mapping[str, Decimal]  # criterion key -> mean over counted sheets
    counted: int
    void: int
    spread: Decimal  # highest minus lowest counted total


@dataclass(frozen=True)
class Profile:
    judge_id: int
    sheets: int  # counted sheets
    mean: Decimal  # of their counted totals
    spread: Decimal  # population standard deviation of their counted totals
    offset: Decimal  # their total minus the other judges' mean on the same essay, averaged


def _round(value: Decimal) -> Decimal:
    rounded = value.quantize(_CENT, rounding=ROUND_HALF_UP)
    return rounded.copy_abs() if rounded == 0 else rounded


def _mean(values: Sequence[Decimal]) -> Decimal:
    return sum(sorted(values), _ZERO) / len(values)


def _pstdev(values: Sequence[Decimal]) -> Decimal:
    middle = _mean(values)
    return _mean([(value - middle) ** 2 for value in values]).sqrt()


def _median(ordered: Sequence[Decimal]) -> Decimal:
    half = len(ordered) // 2
    return ordered[half] if len(ordered) % 2 else (ordered[half - 1] + ordered[half]) / 2


def _distinct(sheets: Iterable[Sheet]) -> list[Sheet]:
    listed = list(sheets)
    seen: set[tuple[int, int]] = set()
    for sheet in listed:
        pair = (sheet.judge_id, sheet.essay_id)
        if pair in seen:
            raise ValueError(f"judge {sheet.judge_id} has two sheets for essay {sheet.essay_id}")
        seen.add(pair)
    return listed


def _z_scores(counted: Sequence[Sheet]) -> dict[tuple[int, int], Decimal]:
    """(judge, essay) -> z of that sheet against the judge's own level and range.

    The judge's whole set of sheets is used, not only the essays at hand: a judge who scored
    only some essays is still measured against their own usual level, so a harsh judge's 70
    can count as much as a lenient judge's 85 even when they never scored the same essay."""
    by_judge: dict[int, list[Sheet]] = defaultdict(list)
    for sheet in counted:
        by_judge[sheet.judge_id].append(sheet)
    found: dict[tuple[int, int], Decimal] = {}
    for judge_id, own in by_judge.items():
        totals = [sheet.total for sheet in own]
        middle, deviation = _mean(totals), _pstdev(totals)
        for sheet in own:
            z = _ZERO if deviation == 0 else (sheet.total - middle) / deviation
            found[(judge_id, sheet.essay_id)] = z
    return found


def _essay(essay_id: int, own: Sequence[Sheet], criteria: Sequence[str],
           z: Mapping[tuple[int, int], Decimal]) -> EssayResult:
    counted = [sheet for sheet in own if not sheet.void]
    void = len(own) - len(counted)
    if not counted:
        return EssayResult(essay_id, dict.fromkeys(METHODS), False, {}, 0, void, _round(_ZERO))
    totals = sorted(sheet.total for sheet in counted)
    trimmed = len(totals) >= TRIM_AT
    t_score = 50 + 10 * _mean([z[(sheet.judge_id, essay_id)] for sheet in counted])
    scores = {
        "mean": _mean(totals),
        "trimmed_mean": _mean(totals[1:-1] if trimmed else totals),
        "median": _median(totals),
        "zscore": min(max(t_score, _ZERO), Decimal(100)),
    }
    subtotals: dict[str, Decimal] = {}
    for key in criteria:
        values = [sheet.points[key] for sheet in counted if sheet.points.get(key) is not None]
        if values:
            subtotals[key] = _round(_mean(values))
    return EssayResult(essay_id, {method: _round(scores[method]) for method in METHODS}, trimmed,
                       subtotals, len(counted), void, _round(totals[-1] - totals[0]))


def aggregate(sheets: Iterable[Sheet], criteria: Sequence[str]) -> dict[int, EssayResult]:
    """Each essay's final scores by every method (see the module docstring)."""
    with localcontext(_CONTEXT):
        listed = _distinct(sheets)
        z = _z_scores([sheet for sheet in listed if not sheet.void])
        by_essay: dict[int, list[Sheet]] = defaultdict(list)
        for sheet in listed:
            by_essay[sheet.essay_id].append(sheet)
        return {essay_id: _essay(essay_id, by_essay[essay_id], criteria, z) for essay_id in sorted(by_essay)}


def judge_profiles(sheets: Iterable[Sheet]) -> dict[int, Profile]:
    """How each judge scores: level, range, and how harsh or lenient against the others."""
    with localcontext(_CONTEXT):
        counted = [sheet for sheet in _distinct(sheets) if not sheet.void]
        by_essay: dict[int, list[Sheet]] = defaultdict(list)
        by_judge: dict[int, list[Sheet]] = defaultdict(list)
        for sheet in counted:
            by_essay[sheet.essay_id].append(sheet)
            by_judge[sheet.judge_id].append(sheet)
        profiles: dict[int, Profile] = {}
        for judge_id in sorted(by_judge):
            own = by_judge[judge_id]
            totals = [sheet.total for sheet in own]
            gaps = []
            for sheet in own:
                others = [o.total for o in by_essay[sheet.essay_id] if o.judge_id != judge_id]
                if others:
                    gaps.append(sheet.total - _mean(others))
            offset = _mean(gaps) if gaps else _ZERO
            profiles[judge_id] = Profile(judge_id, len(own), _round(_mean(totals)), _round(_pstdev(totals)),
                                         _round(offset))
        return profiles


def disagreements(results: Mapping[int, EssayResult], threshold: Decimal = DISAGREEMENT) -> list[int]:
    """Essays the judges disagree on: spread above the threshold, largest first, then by id."""
    wide = [(result.spread, essay_id) for essay_id, result in results.items() if result.spread > threshold]
    return [essay_id for spread, essay_id in sorted(wide, key=lambda item: (-item[0], item[1]))]


# The chart's geometry, in px.
WIDTH = 480
_LABEL_END = 124  # labels end here (text-anchor end)
_BAR_LEFT, _BAR_RIGHT = 132, 416
_ZERO_X = (_BAR_LEFT + _BAR_RIGHT) // 2
_VALUE_END = WIDTH - 4
_TOP, _ROW, _BAR_HEIGHT = 28, 24, 14
_MIN_REACH = Decimal(5)
_LENIENT, _HARSH, _INK = "#3a6ea5", "#c0602a", "#333333"
_LABEL_CHARS = 10


def _signed(value: Decimal) -> str:
    return f"+{value:.2f}" if value > 0 else f"{value:.2f}"


def _short(label: str) -> str:
    return label if len(label) <= _LABEL_CHARS else label[: _LABEL_CHARS - 1] + "…"


def profile_chart_svg(profiles: Mapping[int, Profile], labels: Mapping[int, str]) -> str:
    """Each judge's offset as a bar around a zero line (see the module docstring)."""
    rows = sorted(profiles.values(), key=lambda p: (-p.offset, p.judge_id))
    if not rows:  # no axis to draw: the message alone, where no line crosses it
        return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="28" viewBox="0 0 {WIDTH} 28" '
                f'role="img" aria-label="评委宽严" font-size="12" fill="{_INK}">'
                f'<text x="{_BAR_LEFT}" y="18">暂无已提交的评分</text></svg>')
    height = _TOP + _ROW * len(rows) + 8
    reach = max([abs(p.offset) for p in rows] + [_MIN_REACH])
    half = Decimal(_ZERO_X - _BAR_LEFT)
    title = "评委宽严：与其他评委对同一作品平均分之差（分）"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{title}" font-size="12" fill="{_INK}">',
        f"<title>{title}</title>",
        f'<text x="{_BAR_LEFT}" y="16">← 偏严</text>',
        f'<text x="{_ZERO_X}" y="16" text-anchor="middle">0</text>',
        f'<text x="{_BAR_RIGHT}" y="16" text-anchor="end">偏宽 →</text>',
    ]
    for index, profile in enumerate(rows):
        y = _TOP + _ROW * index
        label = labels.get(profile.judge_id) or f"评委 {profile.judge_id}"
        length = (half * abs(profile.offset) / reach).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        x = _ZERO_X if profile.offset >= 0 else Decimal(_ZERO_X) - length
        value = _signed(profile.offset)
        parts += [
            "<g>",
            f"<title>{escape(label)}：{value}</title>",
            f'<text x="{_LABEL_END}" y="{y + 16}" text-anchor="end">{escape(_short(label))}</text>',
            f'<rect x="{x}" y="{y + 5}" width="{length}" height="{_BAR_HEIGHT}" '
            f'fill="{_LENIENT if profile.offset >= 0 else _HARSH}"/>',
            f'<text x="{_VALUE_END}" y="{y + 16}" text-anchor="end">{value}</text>',
            "</g>",
        ]
    parts.append(f'<line x1="{_ZERO_X}" y1="{_TOP - 4}" x2="{_ZERO_X}" y2="{height - 4}" '
                 f'stroke="{_INK}" stroke-width="1"/>')
    parts.append("</svg>")
    return "\n".join(parts)
