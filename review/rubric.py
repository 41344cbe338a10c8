"""The scoring rubric: criteria with maxima, a step, pass/fail gates; checking a judge's scores.

Pure functions over plain data, Decimal throughout (no float rounding). Errors are
stable codes (strings); the caller turns them into messages.

Rules
-----
Rubric (`check_rubric`), each code reported at most once, in this order:
- RUBRIC_EMPTY_NAME: a criterion name is blank.
- RUBRIC_DUPLICATE_NAME: two criteria have the same name (after trimming spaces).
- RUBRIC_TOO_MANY: more than 10 criteria.
- RUBRIC_POINTS: a maximum is not a finite number above 0.
- RUBRIC_STEP: the step is not 1 or 0.5, or a maximum is not a multiple of the step.
- RUBRIC_TOTAL: the maxima do not sum to exactly 100 (also when there is no criterion).
- RUBRIC_GATE_NAME: a gate name is blank, repeated, or equal to a criterion key.
Criterion keys ("c1", "c2", ...) are made by the program; a blank or repeated key is a
programming error (ValueError when the Rubric is built).

Form (`parse_rubric_form`): one criterion a line, "名称 分值", "名称：分值", "名称（分值分）"
or, where a Chinese character meets the digits, "名称分值", optionally ending in "分";
full-width digits, colon, brackets, full stop and space are read as their ASCII forms.
Blank lines are skipped. A line that does not read so gives RUBRIC_LINE (once), and then
RUBRIC_TOTAL is not reported (the total would mislead).
Keys are c1, c2, ... in line order. The step is "1" or "0.5" (blank means 1). Gates: one
name a line, blank lines skipped.

Scores (`check_scores`), for each criterion key:
- blank or missing: None; when final, SCORE_MISSING.
- not a plain decimal number ("27", "27.5", "２７", "-1"; no exponent): SCORE_NOT_NUMBER.
- below 0 or above the criterion's maximum: SCORE_OUT_OF_RANGE.
- not a multiple of the step: SCORE_STEP.
A gate answered None is GATE_MISSING when final. A draft (final=False) accepts missing
values and gates but still refuses invalid ones. Values and gates not in the rubric are
ignored. `total` is the sum when every criterion has a valid value, else None. `void` is
True when any gate is answered False: the score is stored but not counted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

MAX_CRITERIA = 10
TOTAL = Decimal(100)
STEPS = (Decimal(1), Decimal("0.5"))

# Full-width digits, colon, full stop and the ideographic space, read as ASCII.
_HALF_WIDTH = str.maketrans({**{chr(0xFF10 + d): str(d) for d in range(10)}, "：": ":", "．": ".",
                             "\u3000": " ", "－": "-", "＋": "+", "（": "(", "）": ")"})
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
# The name, then a colon, spaces, an opening bracket, or nothing when a Chinese character
# meets the digits ("思想性30"); the points, "分" and a closing bracket optional.
_LINE = re.compile(r"(?P<name>.*?)(?:\s*:\s*|\s+|\s*\(\s*|(?<=[^\x00-\x7f])(?=\d))"
                   r"(?P<points>\d+(?:\.\d+)?)\s*分?\s*\)?")


@dataclass(frozen=True)
class Criterion:
    key: str
    name: str
    max_points: Decimal


@dataclass(frozen=True)
class Rubric:
    criteria: tuple[Criterion, ...]
    step: Decimal = Decimal(1)  # 1 or 0.5
    gates: tuple[str, ...] = ()  # pass/fail gate names, e.g. ("政治方向正确", "原创")

    def __post_init__(self) -> None:
        keys = [c.key for c in self.criteria]
        if any(not key for key in keys) or len(set(keys)) != len(keys):
            raise ValueError(f"criterion keys must be non-empty and distinct: {keys}")


DEFAULT = Rubric(
    criteria=(
        Criterion("c1", "思想性", Decimal(30)),
        Criterion("c2", "创新性", Decimal(25)),
        Criterion("c3", "实践性", Decimal(25)),
        Criterion("c4", "文字表达", Decimal(20)),
    ),
    step=Decimal(1),
    gates=(),
)
DEFAULT_GATES = ("政治方向正确", "原创")


@dataclass(frozen=True)
class Checked:
    points: dict[str, Decimal | None]  # criterion key -> valid value, or None
    errors: dict[str, str]  # criterion key or gate name -> code
    total: Decimal | None  # sum when every criterion has a valid value
    void: bool  # a gate answered False

    @property
    def ok(self) -> bool:
        return not self.errors


def _multiple(value: Decimal, step: Decimal) -> bool:
    try:
        return value % step == 0  # exact, unlike a division
    except InvalidOperation:  # a quotient beyond the precision: far out of any range
        return False


def check_rubric(rubric: Rubric) -> list[str]:
    """The error codes of a rubric, [] when it is valid (see the module docstring)."""
    found: set[str] = set()
    names = [c.name.strip() for c in rubric.criteria]
    if any(not name for name in names):
        found.add("RUBRIC_EMPTY_NAME")
    filled = [name for name in names if name]
    if len(set(filled)) != len(filled):
        found.add("RUBRIC_DUPLICATE_NAME")
    if len(rubric.criteria) > MAX_CRITERIA:
        found.add("RUBRIC_TOO_MANY")
    maxima = [c.max_points for c in rubric.criteria]
    if any(not m.is_finite() or m <= 0 for m in maxima):
        found.add("RUBRIC_POINTS")
    finite = [m for m in maxima if m.is_finite()]
    if rubric.step not in STEPS or any(not _multiple(m, rubric.step) for m in finite):
        found.add("RUBRIC_STEP")
    if len(finite) != len(maxima) or sum(finite, Decimal(0)) != TOTAL:
        found.add("RUBRIC_TOTAL")
    gates = [gate.strip() for gate in rubric.gates]
    keys = {c.key for c in rubric.criteria}
    if any(not gate for gate in gates) or len(set(gates)) != len(gates) or keys & set(gates):
        found.add("RUBRIC_GATE_NAME")
    order = ("RUBRIC_EMPTY_NAME", "RUBRIC_DUPLICATE_NAME", "RUBRIC_TOO_MANY", "RUBRIC_POINTS",
             "RUBRIC_STEP", "RUBRIC_TOTAL", "RUBRIC_GATE_NAME")
    return [code for code in order if code in found]


def parse_rubric_form(lines: str, step: str, gates: str) -> Rubric | list[str]:
    """The Rubric typed in the admin form, or its error codes (see the module docstring)."""
    criteria: list[Criterion] = []
    bad_line = False
    for raw in (lines or "").splitlines():
        line = raw.translate(_HALF_WIDTH).strip()
        if not line:
            continue
        match = _LINE.fullmatch(line)
        if match is None:
            bad_line = True
            continue
        name = match["name"].strip()
        criteria.append(Criterion(f"c{len(criteria) + 1}", name, Decimal(match["points"])))

    step_text = (step or "").translate(_HALF_WIDTH).strip() or "1"
    step_value = _decimal(step_text)
    if step_value is None or step_value not in STEPS:
        step_value = Decimal(-1)  # reported as RUBRIC_STEP below
    gate_names = tuple(g.strip() for g in (gates or "").splitlines() if g.strip())

    rubric = Rubric(tuple(criteria), step_value, gate_names)
    errors = check_rubric(rubric)
    if bad_line:
        errors = ["RUBRIC_LINE", *(code for code in errors if code != "RUBRIC_TOTAL")]
    return errors or rubric


def _decimal(text: str) -> Decimal | None:
    if not _NUMBER.fullmatch(text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only plain numbers
        return None


def _canonical(value: Decimal) -> Decimal:
    """27.50 -> 27.5, 27.0 -> 27, -0 -> 0: one spelling for one value."""
    if not value.is_finite():
        return value
    if value == value.to_integral_value():
        return Decimal(int(value))
    return value.normalize()


def check_scores(rubric: Rubric, values: dict[str, str | None], gates: dict[str, bool | None],
                 final: bool) -> Checked:
    """Check one judge's scores for one essay (see the module docstring)."""
    points: dict[str, Decimal | None] = {}
    errors: dict[str, str] = {}
    for criterion in rubric.criteria:
        points[criterion.key] = None
        text = (values.get(criterion.key) or "").translate(_HALF_WIDTH).strip()
        if not text:
            if final:
                errors[criterion.key] = "SCORE_MISSING"
            continue
        value = _decimal(text)
        if value is None:
            errors[criterion.key] = "SCORE_NOT_NUMBER"
        elif value < 0 or value > criterion.max_points:
            errors[criterion.key] = "SCORE_OUT_OF_RANGE"
        elif not _multiple(value, rubric.step):
            errors[criterion.key] = "SCORE_STEP"
        else:
            points[criterion.key] = _canonical(value)

    void = False
    for gate in rubric.gates:
        answer = gates.get(gate)
        if answer is None:
            if final:
                errors[gate] = "GATE_MISSING"
        elif not answer:
            void = True

    present = [p for p in points.values() if p is not None]
    total = sum(present, Decimal(0)) if len(present) == len(rubric.criteria) else None
    return Checked(points, errors, None if total is None else _canonical(total), void)


def format_points(value: Decimal) -> str:
    """27 -> "27", 27.50 -> "27.5": no trailing zeros, no exponent."""
    value = _canonical(value)
    return format(value, "f")
