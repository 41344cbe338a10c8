"""The scoring rubric: checking a rubric, reading the admin form, checking a judge's
scores (drafts and final), gates that void a score, and Decimal all the way."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from review.rubric import (
    DEFAULT,
    DEFAULT_GATES,
    Criterion,
    Rubric,
    check_rubric,
    check_scores,
    format_points,
    parse_rubric_form,
)


def rubric(*points, step="1", names=None, gates=()):
    names = names or [f"项{i}" for i in range(len(points))]
    criteria = tuple(Criterion(f"c{i + 1}", n, D(p)) for i, (n, p) in enumerate(zip(names, points, strict=True)))
    return Rubric(criteria, D(step), tuple(gates))


def test_default_rubric_is_valid():
    assert check_rubric(DEFAULT) == []
    assert [c.name for c in DEFAULT.criteria] == ["思想性", "创新性", "实践性", "文字表达"]
    assert sum(c.max_points for c in DEFAULT.criteria) == 100
    assert DEFAULT.gates == ()
    assert check_rubric(Rubric(DEFAULT.criteria, DEFAULT.step, DEFAULT_GATES)) == []


@pytest.mark.parametrize(("subject", "codes"), [
    (rubric(30, 25, 25, 19), ["RUBRIC_TOTAL"]),
    (rubric(30, 25, 25, 21), ["RUBRIC_TOTAL"]),
    (Rubric((), D(1)), ["RUBRIC_TOTAL"]),
    (rubric(50, 50, step="2"), ["RUBRIC_STEP"]),
    (rubric(50, 50, step="0.25"), ["RUBRIC_STEP"]),
    (rubric("49.5", "50.5"), ["RUBRIC_STEP"]),  # step 1: maxima must be whole
    (rubric("49.5", "50.5", step="0.5"), []),
    (rubric(50, 50, names=["思想性", "  "]), ["RUBRIC_EMPTY_NAME"]),
    (rubric(50, 50, names=["思想性", " 思想性 "]), ["RUBRIC_DUPLICATE_NAME"]),
    (rubric(*[10] * 10), []),
    (rubric(*[10] * 9, 5, 5), ["RUBRIC_TOO_MANY"]),
    (rubric(100, 0), ["RUBRIC_POINTS"]),
    (rubric(110, -10), ["RUBRIC_POINTS"]),
    (rubric(50, "NaN"), ["RUBRIC_POINTS", "RUBRIC_TOTAL"]),
    (rubric(100, gates=["原创", ""]), ["RUBRIC_GATE_NAME"]),
    (rubric(100, gates=["原创", "原创 "]), ["RUBRIC_GATE_NAME"]),
    (rubric(100, gates=["c1"]), ["RUBRIC_GATE_NAME"]),  # a gate must not shadow a criterion key
    (rubric(60, 60, names=["", ""], step="3", gates=[""]),
     ["RUBRIC_EMPTY_NAME", "RUBRIC_STEP", "RUBRIC_TOTAL", "RUBRIC_GATE_NAME"]),
])
def test_check_rubric(subject, codes):
    assert check_rubric(subject) == codes


def test_huge_maximum_is_refused_not_crashing():
    assert check_rubric(rubric("1e40", 100)) == ["RUBRIC_STEP", "RUBRIC_TOTAL"]


def test_rubric_keys_must_be_distinct():
    with pytest.raises(ValueError, match="keys"):
        Rubric((Criterion("c1", "甲", D(50)), Criterion("c1", "乙", D(50))), D(1))


# The admin form.

def test_parse_form_accepts_the_usual_spellings():
    lines = "思想性 30\n创新性：２５\n\n  实践性:25分 \n文字 表达　２０\n"
    parsed = parse_rubric_form(lines, "１", "政治方向正确\n\n 原创 \n")
    assert parsed == Rubric(
        (Criterion("c1", "思想性", D(30)), Criterion("c2", "创新性", D(25)),
         Criterion("c3", "实践性", D(25)), Criterion("c4", "文字 表达", D(20))),
        D(1), ("政治方向正确", "原创"))


def test_parse_form_half_points():
    parsed = parse_rubric_form("思想性 30.5\n其他 69.5", "0.5", "")
    assert isinstance(parsed, Rubric)
    assert parsed.step == D("0.5")
    assert [c.max_points for c in parsed.criteria] == [D("30.5"), D("69.5")]


def test_parse_form_reads_lines_as_offices_write_them():
    parsed = parse_rubric_form("思想性30\n创新性（25分）\n实践性（２５）\n文字表达：20分", "1", "")
    assert isinstance(parsed, Rubric)
    assert [(c.name, c.max_points) for c in parsed.criteria] == [
        ("思想性", 30), ("创新性", 25), ("实践性", 25), ("文字表达", 20)]
    assert parse_rubric_form("指标1 60\n指标2 40", "1", "").criteria[0].name == "指标1"


def test_parse_form_blank_step_means_one():
    parsed = parse_rubric_form("全部 100", "", "")
    assert isinstance(parsed, Rubric) and parsed.step == 1


@pytest.mark.parametrize(("lines", "step", "gates", "codes"), [
    ("思想性\n创新性 70", "1", "", ["RUBRIC_LINE"]),  # no points: no total error on top
    ("思想性 三十\n创新性 70", "1", "", ["RUBRIC_LINE"]),
    ("思想性 -30\n创新性 130", "1", "", ["RUBRIC_LINE"]),
    ("思想性 30\n创新性 60", "1", "", ["RUBRIC_TOTAL"]),
    ("思想性 50\n创新性 50", "2", "", ["RUBRIC_STEP"]),
    ("思想性 50\n创新性 50", "abc", "", ["RUBRIC_STEP"]),
    ("思想性 49.5\n创新性 50.5", "1", "", ["RUBRIC_STEP"]),
    ("：50\n创新性 50", "1", "", ["RUBRIC_EMPTY_NAME"]),
    ("思想性 50\n思想性 50", "1", "", ["RUBRIC_DUPLICATE_NAME"]),
    ("\n".join(f"项{i} 5" for i in range(20)), "1", "", ["RUBRIC_TOO_MANY"]),
    ("思想性 100", "1", "原创\n原创", ["RUBRIC_GATE_NAME"]),
    ("坏行\n思想性 50\n思想性 50", "2", "", ["RUBRIC_LINE", "RUBRIC_DUPLICATE_NAME", "RUBRIC_STEP"]),
])
def test_parse_form_errors(lines, step, gates, codes):
    assert parse_rubric_form(lines, step, gates) == codes


# Scores.

HALF = rubric(30, 25, 25, 20, step="0.5", gates=["政治方向正确", "原创"])
GATES_OK = {"政治方向正确": True, "原创": True}


def scores(c1=None, c2=None, c3=None, c4=None):
    return {"c1": c1, "c2": c2, "c3": c3, "c4": c4}


@pytest.mark.parametrize(("value", "code"), [
    ("27", None),
    ("27.5", "SCORE_STEP"),  # step 1
    ("２７", None),
    (" 27 ", None),
    ("27.0", None),
    ("0", None),
    ("30", None),
    ("30.5", "SCORE_OUT_OF_RANGE"),
    ("31", "SCORE_OUT_OF_RANGE"),
    ("-1", "SCORE_OUT_OF_RANGE"),
    ("abc", "SCORE_NOT_NUMBER"),
    ("2 7", "SCORE_NOT_NUMBER"),
    ("1e1", "SCORE_NOT_NUMBER"),
    ("NaN", "SCORE_NOT_NUMBER"),
    ("Infinity", "SCORE_NOT_NUMBER"),
    ("２７．５", "SCORE_STEP"),
])
def test_one_value_step_one(value, code):
    checked = check_scores(DEFAULT, scores(value, "20", "20", "15"), {}, final=True)
    assert checked.errors == ({} if code is None else {"c1": code})
    assert (checked.points["c1"] is None) == (code is not None)


def test_step_half_accepts_half_points_only():
    checked = check_scores(HALF, scores("27.5", "24.5", "0.5", "20"), GATES_OK, final=True)
    assert checked.ok
    assert checked.points == {"c1": D("27.5"), "c2": D("24.5"), "c3": D("0.5"), "c4": D(20)}
    assert checked.total == D("72.5")
    assert format_points(checked.total) == "72.5"
    refused = check_scores(HALF, scores("27.3", "24.25", "25.5", "19.50"), GATES_OK, final=True)
    assert refused.errors == {"c1": "SCORE_STEP", "c2": "SCORE_STEP", "c3": "SCORE_OUT_OF_RANGE"}
    assert refused.points["c4"] == D("19.5") and str(refused.points["c4"]) == "19.5"
    assert refused.total is None


def test_range_is_per_criterion():
    checked = check_scores(DEFAULT, scores("30", "26", "25", "21"), {}, final=True)
    assert checked.errors == {"c2": "SCORE_OUT_OF_RANGE", "c4": "SCORE_OUT_OF_RANGE"}


def test_draft_accepts_missing_but_not_invalid():
    draft = check_scores(HALF, scores("27", None, "  ", None), {"原创": True}, final=False)
    assert draft.ok and draft.total is None and not draft.void
    assert draft.points == {"c1": D(27), "c2": None, "c3": None, "c4": None}
    bad = check_scores(HALF, scores("27", "abc"), {}, final=False)
    assert bad.errors == {"c2": "SCORE_NOT_NUMBER"}


def test_final_requires_everything():
    checked = check_scores(HALF, scores("27", None, ""), {"原创": True, "政治方向正确": None}, final=True)
    assert checked.errors == {"c2": "SCORE_MISSING", "c3": "SCORE_MISSING", "c4": "SCORE_MISSING",
                              "政治方向正确": "GATE_MISSING"}
    assert checked.total is None


def test_missing_keys_are_missing_and_unknown_keys_ignored():
    checked = check_scores(DEFAULT, {"c1": "1", "zz": "abc"}, {"不存在": False}, final=True)
    assert checked.errors == {"c2": "SCORE_MISSING", "c3": "SCORE_MISSING", "c4": "SCORE_MISSING"}
    assert not checked.void


@pytest.mark.parametrize(("gates", "void"), [
    ({"政治方向正确": True, "原创": True}, False),
    ({"政治方向正确": False, "原创": True}, True),
    ({"政治方向正确": True, "原创": False}, True),
])
def test_a_failed_gate_voids_the_score_but_keeps_it(gates, void):
    checked = check_scores(HALF, scores("27", "20", "20", "15"), gates, final=True)
    assert checked.ok
    assert checked.void is void
    assert checked.total == D(82)  # still stored


def test_a_draft_can_be_void():
    assert check_scores(HALF, {}, {"原创": False}, final=False).void


@pytest.mark.parametrize(("value", "text"), [
    (D(27), "27"), (D("27.0"), "27"), (D("27.50"), "27.5"), (D("0"), "0"), (D("-0"), "0"),
    (D("100"), "100"), (D("1E+2"), "100"), (D("0.5"), "0.5"),
])
def test_format_points(value, text):
    assert format_points(value) == text


def test_no_float_surprises():
    checked = check_scores(rubric(*["10"] * 10, step="0.5"), {f"c{i}": "0.5" for i in range(1, 11)}, {}, final=True)
    assert checked.total == D(5) and format_points(checked.total) == "5"


# Properties.

FULL_WIDTH = str.maketrans("0123456789.", "０１２３４５６７８９．")


@st.composite
def valid_rubrics(draw):
    step = draw(st.sampled_from([D(1), D("0.5")]))
    units = int(100 / step)
    n = draw(st.integers(1, 10))
    cuts = sorted(draw(st.lists(st.integers(1, units - 1), min_size=n - 1, max_size=n - 1, unique=True)))
    bounds = [0, *cuts, units]
    names = draw(st.lists(st.text(alphabet="思想创新实践文字表达性原则甲乙丙", min_size=1, max_size=6),
                          min_size=n, max_size=n, unique=True))
    criteria = tuple(Criterion(f"c{i + 1}", names[i], (bounds[i + 1] - bounds[i]) * step) for i in range(n))
    gates = tuple(draw(st.lists(st.sampled_from(["政治方向正确", "原创", "无抄袭"]), unique=True)))
    return Rubric(criteria, step, gates)


@settings(max_examples=200)
@given(valid_rubrics(), st.data())
def test_valid_rubric_and_valid_values(subject, data):
    assert check_rubric(subject) == []
    values, expected = {}, D(0)
    for criterion in subject.criteria:
        steps = data.draw(st.integers(0, int(criterion.max_points / subject.step)))
        value = steps * subject.step
        expected += value
        text = format_points(value)
        if data.draw(st.booleans()):
            text = text.translate(FULL_WIDTH)
        values[criterion.key] = text
    gates = {gate: True for gate in subject.gates}
    checked = check_scores(subject, values, gates, final=True)
    assert checked.errors == {}
    assert checked.total == expected
    assert not checked.void


@settings(max_examples=100)
@given(valid_rubrics())
def test_form_round_trip(subject):
    lines = "\n".join(f"{c.name} {format_points(c.max_points)}" for c in subject.criteria)
    assert parse_rubric_form(lines, format_points(subject.step), "\n".join(subject.gates)) == subject
