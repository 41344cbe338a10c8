"""review.aggregate: every method on hand-computed examples, void sheets, harsh and lenient
judges, profiles, disagreements, the SVG chart, and properties over any sheets."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from review.aggregate import (
    METHOD_NAMES,
    METHODS,
    EssayResult,
    Profile,
    Sheet,
    aggregate,
    disagreements,
    judge_profiles,
    profile_chart_svg,
)

D = Decimal
SVG = "{http://www.w3.org/2000/svg}"


def sheet(judge: int, essay: int, total: str | int, void: bool = False, points: dict | None = None) -> Sheet:
    return Sheet(judge, essay, D(total), {"c1": D(total)} if points is None else points, void)


def one_essay(totals: list[str | int]) -> list[Sheet]:
    return [sheet(judge, 1, total) for judge, total in enumerate(totals, start=1)]


# totals of one essay (judge 1, 2, ... in order) -> mean, trimmed_mean, trimmed, median, spread
METHOD_TABLE = [
    ("one judge", [80], "80.00", "80.00", False, "80.00", "0.00"),
    ("two judges", [70, 85], "77.50", "77.50", False, "77.50", "15.00"),
    ("three, odd median", [75, 70, 71], "72.00", "72.00", False, "71.00", "5.00"),
    ("thirds round down", [70, 70, 71], "70.33", "70.33", False, "70.00", "1.00"),
    ("thirds round up", [70, 71, 71], "70.67", "70.67", False, "71.00", "1.00"),
    # 322.5 / 4 = 80.625: half up gives 80.63 (half even would give 80.62)
    ("four, half up", ["80", "80.5", "81", "81"], "80.63", "80.63", False, "80.75", "1.00"),
    ("four, even median", [95, 60, 80, 70], "76.25", "76.25", False, "75.00", "35.00"),
    # exactly 5: drop 60 and 95, (70 + 75 + 80) / 3
    ("five", [60, 70, 75, 80, 95], "76.00", "75.00", True, "75.00", "35.00"),
    # ties at both ends: drop one 60 and one 90 only, (60 + 70 + 90) / 3 = 73.333
    ("five, tied extremes", [60, 90, 70, 60, 90], "74.00", "73.33", True, "70.00", "30.00"),
    ("five, all equal", [80, 80, 80, 80, 80], "80.00", "80.00", True, "80.00", "0.00"),
    # 441.5 / 5 = 88.3; drop 79.5 and 92: 270 / 3
    ("five, half points", ["88.5", "90", "91.5", "92", "79.5"], "88.30", "90.00", True, "90.00", "12.50"),
    # 460 / 6 = 76.667; drop 60 and 100: 300 / 4; median (70 + 80) / 2
    ("six", [60, 65, 70, 80, 85, 100], "76.67", "75.00", True, "75.00", "40.00"),
    # 506 / 7 = 72.2857; drop 50 and 99: 357 / 5
    ("seven", [50, 62, 70, 71, 74, 80, 99], "72.29", "71.40", True, "71.00", "49.00"),
    # 585 / 7 = 83.571; drop one 70 and one 95: 420 / 5
    ("seven, tied extremes", [95, 70, 80, 85, 90, 95, 70], "83.57", "84.00", True, "85.00", "25.00"),
]


@pytest.mark.parametrize(("name", "totals", "mean", "trimmed_mean", "trimmed", "median", "spread"), METHOD_TABLE,
                         ids=[row[0] for row in METHOD_TABLE])
def test_methods_on_one_essay(name, totals, mean, trimmed_mean, trimmed, median, spread):
    result = aggregate(one_essay(totals), ["c1"])[1]
    assert result.scores["mean"] == D(mean)
    assert result.scores["trimmed_mean"] == D(trimmed_mean)
    assert result.trimmed is trimmed
    assert result.scores["median"] == D(median)
    assert result.spread == D(spread)
    assert result.counted == len(totals) and result.void == 0
    assert result.subtotals == {"c1": D(mean)}
    # every judge scored only this essay: no level to correct against, z = 0 for all
    assert result.scores["zscore"] == D("50.00")
    assert all(value.as_tuple().exponent == -2 for value in [*result.scores.values(), result.spread])


# (judge, essay, total) -> essay -> zscore, computed by hand
ZSCORE_TABLE = [
    # judge 1: 80, 90 (m 85, s 5); judge 2: 60, 70 (m 65, s 5): z -1 and +1 for both
    ("two judges, different levels", [(1, 10, 80), (1, 20, 90), (2, 10, 60), (2, 20, 70)],
     {10: "40.00", 20: "60.00"}),
    # one judge 70, 80, 90: m 80, s = sqrt(200/3) = 8.16497, z = -/+ 1.224745: 50 -/+ 12.24745
    ("one judge, three essays", [(1, 10, 70), (1, 20, 80), (1, 30, 90)],
     {10: "37.75", 20: "50.00", 30: "62.25"}),
    # judge 1 as above; judge 2 scored only essays 10, 20 (85, 95: z -1, +1); judge 3 only
    # essay 30 (z 0). Essay 10: (-1.224745 - 1) / 2 = -1.112372; 20: (0 + 1) / 2; 30: 1.224745 / 2
    ("judges who scored only some essays", [(1, 10, 70), (1, 20, 80), (1, 30, 90), (2, 10, 85), (2, 20, 95),
                                            (3, 30, 60)],
     {10: "38.88", 20: "55.00", 30: "56.12"}),
    # judge 1 gave 80 twice (s 0: z 0); judge 2: 70, 90 (z -1, +1)
    ("a judge with no range", [(1, 10, 80), (1, 20, 80), (2, 10, 70), (2, 20, 90)],
     {10: "45.00", 20: "55.00"}),
    # one judge, 26 zeros and one 100: m = 100/27, s = 100 sqrt(26) / 27; the 100 has
    # z = sqrt(26) = 5.099 (50 + 50.99, clamped to 100); a zero has z = -1/sqrt(26) = -0.196116
    ("clamped above z = 5", [(1, essay, 0) for essay in range(1, 27)] + [(1, 27, 100)],
     {1: "48.04", 26: "48.04", 27: "100.00"}),
]


@pytest.mark.parametrize(("name", "rows", "expected"), ZSCORE_TABLE, ids=[row[0] for row in ZSCORE_TABLE])
def test_zscore(name, rows, expected):
    results = aggregate([sheet(judge, essay, total) for judge, essay, total in rows], ["c1"])
    for essay_id, value in expected.items():
        assert results[essay_id].scores["zscore"] == D(value)


# Essays 1 and 2 were scored by everyone; X (10) by the harsh judge H and the neutral N, Y (20) by
# the lenient judge L and N. N, who scored both, puts X (80) above Y (76).
H, L, N = 1, 2, 3
X, Y = 10, 20
HARSH_AND_LENIENT = [
    sheet(N, 1, 60), sheet(N, 2, 80), sheet(N, X, 80), sheet(N, Y, 76),
    sheet(H, 1, 50), sheet(H, 2, 70), sheet(H, X, 72),
    sheet(L, 1, 70), sheet(L, 2, 90), sheet(L, Y, 88),
]


def test_zscore_corrects_a_harsh_and_a_lenient_judge_where_the_mean_is_swayed():
    results = aggregate(HARSH_AND_LENIENT, ["c1"])
    # mean: X (72 + 80) / 2 = 76 below Y (88 + 76) / 2 = 82, only because of who scored them
    assert results[X].scores["mean"] == D("76.00") and results[Y].scores["mean"] == D("82.00")
    assert results[X].scores["mean"] < results[Y].scores["mean"]
    # zscore: X above Y, as the judge who read both ranks them
    assert results[X].scores["zscore"] > results[Y].scores["zscore"]
    # the shared essays keep their order
    assert results[1].scores["zscore"] < results[2].scores["zscore"]


def test_judge_profiles_show_harsh_and_lenient():
    profiles = judge_profiles(HARSH_AND_LENIENT)
    # H: 50 - (60+70)/2, 70 - (80+90)/2, 72 - 80 = -15, -15, -8: -38/3
    # L: 70 - (60+50)/2, 90 - (80+70)/2, 88 - 76 = 15, 15, 12: 14
    # N: 60 - 60, 80 - 80, 80 - 72, 76 - 88 = 0, 0, 8, -12: -1
    # spread: H 50, 70, 72: m 64, var (196 + 36 + 64) / 3 = 98.667, sqrt 9.933
    assert profiles == {
        H: Profile(H, 3, D("64.00"), D("9.93"), D("-12.67")),
        L: Profile(L, 3, D("82.67"), D("8.99"), D("14.00")),
        N: Profile(N, 4, D("74.00"), D("8.25"), D("-1.00")),
    }
    assert profiles[H].offset < 0 < profiles[L].offset


def test_profile_alone_on_every_essay_and_only_void_sheets():
    profiles = judge_profiles([sheet(1, 10, 70), sheet(1, 20, 90), sheet(2, 30, 60), sheet(3, 10, 40, void=True),
                               sheet(2, 10, 0, void=True)])
    assert profiles == {1: Profile(1, 2, D("80.00"), D("10.00"), D("0.00")),
                        2: Profile(2, 1, D("60.00"), D("0.00"), D("0.00"))}
    assert str(profiles[2].offset) == "0.00"


def test_void_sheets_are_left_out_and_counted():
    rows = [sheet(1, 10, 80), sheet(2, 10, 90, void=True), sheet(3, 10, 70), sheet(2, 20, 60), sheet(1, 20, 75)]
    result = aggregate(rows, ["c1"])[10]
    assert result.counted == 2 and result.void == 1
    assert result.scores["mean"] == D("75.00") and result.spread == D("10.00")
    # the void sheet is not part of judge 2's level either: same figures as without it
    without = aggregate([row for row in rows if not row.void], ["c1"])
    assert aggregate(rows, ["c1"])[20] == without[20]
    assert result.scores == without[10].scores


def test_an_essay_whose_every_sheet_is_void():
    result = aggregate([sheet(1, 10, 80, void=True), sheet(2, 10, 70, void=True), sheet(1, 20, 75)], ["c1"])[10]
    assert result == EssayResult(10, dict.fromkeys(METHODS), False, {}, 0, 2, D("0.00"))


def test_subtotals_per_criterion():
    rows = [
        sheet(1, 10, "77.5", points={"c1": D(27), "c2": D("50.5"), "extra": D(3)}),
        sheet(2, 10, 79, points={"c1": D(28), "c2": D(51)}),
        sheet(3, 10, 80, points={"c1": D(30), "c2": D(50)}),
        sheet(4, 10, 10, void=True, points={"c1": D(0), "c2": D(10)}),
    ]
    # c1: 85 / 3 = 28.333; c2: 151.5 / 3 = 50.5; "extra" is not a criterion; c3 has no value
    assert aggregate(rows, ["c1", "c2", "c3"])[10].subtotals == {"c1": D("28.33"), "c2": D("50.50")}


def test_two_sheets_for_one_judge_and_essay_are_refused():
    with pytest.raises(ValueError, match="two sheets"):
        aggregate([sheet(1, 10, 80), sheet(1, 10, 70)], ["c1"])
    with pytest.raises(ValueError, match="two sheets"):
        judge_profiles([sheet(1, 10, 80), sheet(1, 10, 70, void=True)])


def test_method_names_cover_methods():
    assert tuple(METHOD_NAMES) == METHODS


def result_with_spread(essay_id: int, spread: str) -> EssayResult:
    return EssayResult(essay_id, dict.fromkeys(METHODS), False, {}, 2, 0, D(spread))


# spreads by essay, threshold -> expected ids
DISAGREEMENT_TABLE = [
    ("default 20, strictly above", {1: "20.00", 2: "20.50", 3: "35.00"}, None, [3, 2]),
    ("ties by id", {9: "25.00", 4: "25.00", 7: "30.00", 5: "5.00"}, None, [7, 4, 9]),
    ("lower threshold", {1: "10.00", 2: "10.01", 3: "0.00"}, "10", [2]),
    ("none", {1: "3.00"}, None, []),
]


@pytest.mark.parametrize(("name", "spreads", "threshold", "expected"), DISAGREEMENT_TABLE,
                         ids=[row[0] for row in DISAGREEMENT_TABLE])
def test_disagreements(name, spreads, threshold, expected):
    results = {essay_id: result_with_spread(essay_id, spread) for essay_id, spread in spreads.items()}
    found = disagreements(results) if threshold is None else disagreements(results, D(threshold))
    assert found == expected


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 - the module's own output, parsed to prove it well-formed


def _rows_by_title(root: ET.Element) -> dict[str, ET.Element]:
    return {group.find(f"{SVG}title").text: group for group in root.iter(f"{SVG}g")}


def test_profile_chart_svg():
    profiles = {
        1: Profile(1, 3, D("64.00"), D("9.93"), D("-12.67")),
        2: Profile(2, 3, D("82.67"), D("8.99"), D("14.00")),
        3: Profile(3, 4, D("74.00"), D("8.25"), D("0.00")),
    }
    labels = {1: "<script>alert(1)</script>", 2: "张三 & \"李四\""}
    svg = profile_chart_svg(profiles, labels)
    assert svg == profile_chart_svg(dict(reversed(profiles.items())), labels)  # deterministic
    root = _parse(svg)
    assert root.tag == f"{SVG}svg" and root.get("width") == "480"
    assert "&lt;script&gt;" in svg and "<script" not in svg.lower()
    assert "style=" not in svg
    assert re.findall(r"https?:[^\"'\s<]*", svg) == ["http://www.w3.org/2000/svg"]
    assert not any(element.tag in (f"{SVG}script", f"{SVG}foreignObject", f"{SVG}image")
                   for element in root.iter())
    rows = _rows_by_title(root)
    assert set(rows) == {"<script>alert(1)</script>：-12.67", "张三 & \"李四\"：+14.00", "评委 3：0.00"}
    zero = float(root.find(f"{SVG}line").get("x1"))
    lenient = rows["张三 & \"李四\"：+14.00"].find(f"{SVG}rect")
    harsh = rows["<script>alert(1)</script>：-12.67"].find(f"{SVG}rect")
    assert float(lenient.get("x")) == zero and float(lenient.get("width")) > 0  # right of zero
    assert float(harsh.get("x")) + float(harsh.get("width")) == zero  # left of zero
    texts = [element.text for element in root.iter(f"{SVG}text")]
    assert "+14.00" in texts and "-12.67" in texts
    # most lenient first
    assert list(rows) == ["张三 & \"李四\"：+14.00", "评委 3：0.00", "<script>alert(1)</script>：-12.67"]


def test_profile_chart_svg_without_profiles():
    root = _parse(profile_chart_svg({}, {}))
    assert "暂无已提交的评分" in [element.text for element in root.iter(f"{SVG}text")]
    assert not list(root.iter(f"{SVG}line"))  # no axis for the message to sit on
    assert [element.text for element in root.iter(f"{SVG}text")] == ["暂无已提交的评分"]


_SHEET_ROWS = st.lists(
    st.tuples(st.integers(1, 5), st.integers(1, 4), st.integers(0, 200), st.booleans()),
    max_size=24, unique_by=lambda row: (row[0], row[1]),
)


def _sheets(rows) -> list[Sheet]:
    return [Sheet(judge, essay, D(half) / 2, {"c1": D(half) / 2}, void) for judge, essay, half, void in rows]


@settings(max_examples=200, deadline=None)
@given(rows=_SHEET_ROWS, data=st.data())
def test_properties_for_any_sheets(rows, data):
    sheets = _sheets(rows)
    results = aggregate(sheets, ["c1"])
    assert set(results) == {s.essay_id for s in sheets}
    for essay_id, result in results.items():
        own = [s for s in sheets if s.essay_id == essay_id]
        totals = [s.total for s in own if not s.void]
        assert (result.counted, result.void) == (len(totals), len(own) - len(totals))
        if not totals:
            assert all(value is None for value in result.scores.values())
            continue
        for method in ("mean", "trimmed_mean", "median"):
            assert min(totals) <= result.scores[method] <= max(totals)
        assert D(0) <= result.scores["zscore"] <= D(100)
        assert result.spread == max(totals) - min(totals)
        assert result.trimmed is (len(totals) >= 5)
        assert all(value.as_tuple().exponent == -2 for value in [*result.scores.values(), result.spread])

    shuffled = data.draw(st.permutations(sheets))
    assert aggregate(shuffled, ["c1"]) == results
    assert judge_profiles(shuffled) == judge_profiles(sheets)
