"""The phases of a competition and the rules for moving between them (pure functions).

draft → open (收稿中) → intake_closed (收稿截止) → review (评审中) → ranked (排名已冻结)
→ published (公示中) → closed (已结束). Moves go one step forward; each is refused with
a reason when its preconditions fail.

Later features add their own preconditions with `register_check`, called from their
package's `init_app` (the `review` package does, since `essays` never imports it; nothing
registers on import). A phase that needs a feature not yet installed (`REQUIRES_FEATURE`)
is refused until that feature registers a check for it. The table is the same in every
process (each builds its app with `create_app()`): it holds code, not state.

A package that enters a phase by an operation of its own (the review freezes the ranking to
enter `ranked` and publishes to enter `published`) registers it with `register_entry`, from
its `init_app`. Only the command `flask --app app competition advance` looks entries up
(essays.competitions.cli), so that a script moves through every phase with the same
operation the package's own page calls; the generic phase page never does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise

from flask_babel import lazy_gettext as _l

from essays.models import PHASES

PHASE_NAMES = {
    "draft": _l("草稿"),
    "open": _l("收稿中"),
    "intake_closed": _l("收稿截止"),
    "review": _l("评审中"),
    "ranked": _l("排名已冻结"),
    "published": _l("公示中"),
    "closed": _l("已结束"),
}

NEXT = dict(pairwise(PHASES))

# Phases whose preconditions belong to a later feature (ranking, publicity).
REQUIRES_FEATURE = {"ranked", "published", "closed"}

# target phase -> checks(session, competition, now) returning a reason or None
_CHECKS: dict[str, list[Callable]] = {}


def register_check(target: str, check: Callable) -> None:
    """Adds a precondition for entering `target` (from a package's init_app); registering
    the same check again changes nothing."""
    checks = _CHECKS.setdefault(target, [])
    if check not in checks:
        checks.append(check)


def extra_checks(target: str) -> list[Callable]:
    return list(_CHECKS.get(target, ()))


@dataclass(frozen=True)
class PhaseEntry:
    """How the package owning `target` enters it. `run(session, actor, competition, now,
    **options)` does the move (checks, audit and all, as the package's page does) and returns
    what it did, in the user's language; `confirm` is the question asked before (a lazy string)."""

    run: Callable[..., str]
    confirm: object


# target phase -> the operation that enters it (see the module docstring)
_ENTRIES: dict[str, PhaseEntry] = {}


def register_entry(target: str, entry: PhaseEntry) -> None:
    """Names the operation that enters `target` (from a package's init_app); registering again
    replaces it, so building a second app changes nothing."""
    _ENTRIES[target] = entry


def entry_for(target: str) -> PhaseEntry | None:
    return _ENTRIES.get(target)


@dataclass(frozen=True)
class PhaseFacts:
    """What the base rules need to know about a competition, gathered by the caller."""

    now: datetime
    deadline: datetime
    theme_count: int
    notice_text: str
    running_extensions: int
    submission_count: int
    active_judges: int
    untitled: int = 0  # essays still under their file name: no title found, none typed yet


def refusal_reason(current: str, target: str, facts: PhaseFacts) -> str | None:
    """Why moving from `current` to `target` is refused, or None when it is allowed."""
    if NEXT.get(current) != target:
        return str(_l("只能按顺序进入下一阶段（当前为“%(current)s”）。",
                      current=PHASE_NAMES[current]))
    if target == "open":
        if not 1 <= facts.theme_count <= 3:
            return str(_l("须先设置 1 至 3 个主题。"))
        if not facts.notice_text.strip():
            return str(_l("须先填写活动通知。"))
        if facts.deadline <= facts.now:
            return str(_l("截止时间已过，请先修改截止时间。"))
    if target == "intake_closed":
        if facts.now < facts.deadline:
            return str(_l("尚未到截止时间。"))
        if facts.running_extensions:
            return str(_l("还有 %(n)s 个单位的延期尚未到期。", n=facts.running_extensions))
    if target == "review":
        if facts.submission_count == 0:
            return str(_l("没有任何来稿。"))
        if facts.active_judges == 0:
            return str(_l("还没有可用的评委账号。"))
        if facts.untitled:  # a file name must not reach the 公示 as a title
            return str(_l("还有 %(n)s 篇论文没有题目（文中未识别出标题，单位尚未填写），请先在“全部来稿”中代为填写。",
                          n=facts.untitled))
    if target in REQUIRES_FEATURE and not _CHECKS.get(target):
        return str(_l("本系统尚未启用该阶段所需的功能（排名与公示），暂不能进入。"))
    return None
