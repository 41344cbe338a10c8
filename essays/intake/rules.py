"""Intake rules as pure functions of the facts and the time."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l

STATUS_NAMES = {
    "submitted": _l("已提交"),
    "missing": _l("未提交"),
    "overdue": _l("逾期"),
    "extended": _l("延期中"),
}


def effective_deadline(deadline: datetime, extension_until: datetime | None) -> datetime:
    """A unit's deadline: the competition's, or its extension's when that is later."""
    if extension_until is not None and extension_until > deadline:
        return extension_until
    return deadline


def is_on_time(now: datetime, deadline: datetime, extension_until: datetime | None) -> bool:
    """Deadlines are exclusive: an upload at the deadline instant itself is late."""
    return now < effective_deadline(deadline, extension_until)


def unit_status(submitted: int, minimum: int, now: datetime, deadline: datetime,
                extension_until: datetime | None) -> str:
    """已提交 when the unit has its minimum number of essays; otherwise 延期中 when it
    has an extension still running, 逾期 once its deadline has passed, else 未提交."""
    if submitted >= minimum:
        return "submitted"
    if extension_until is not None and extension_until > deadline:
        return "extended" if now < extension_until else "overdue"
    return "overdue" if now >= deadline else "missing"
