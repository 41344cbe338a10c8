"""Times: stored in UTC, shown in Asia/Shanghai. Pure functions, no clock inside.

A deadline is an exclusive instant. "5月20日 24:00" means the first instant of 5月21日
in Shanghai; it is stored as that instant and shown back as "5月20日 24:00", because
that is how the notice says it and how every unit reads it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def end_of_day(day: date) -> datetime:
    """The exclusive instant that ends `day` in Shanghai ("day 24:00"), in UTC."""
    midnight = datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=SHANGHAI)
    return midnight.astimezone(UTC)


def local(moment: datetime) -> datetime:
    return moment.astimezone(SHANGHAI)


def deadline_day(deadline: datetime) -> date:
    """The calendar day a deadline closes, as the notice names it."""
    shown = local(deadline)
    if shown.time() == time(0, 0):
        return shown.date() - timedelta(days=1)
    return shown.date()


MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def format_deadline(deadline: datetime, with_year: bool = True, lang: str = "zh") -> str:
    """`2027年5月20日 24:00` for an end-of-day deadline, otherwise the exact local time.

    In English: `20 May 2027, 24:00`."""
    shown = local(deadline)
    if shown.time() == time(0, 0):
        day, clock = shown.date() - timedelta(days=1), "24:00"
    else:
        day, clock = shown.date(), shown.strftime("%H:%M")
    if lang == "en":
        year = f" {day.year}" if with_year else ""
        return f"{day.day} {MONTHS_EN[day.month - 1]}{year}, {clock}"
    prefix = f"{day.year}年" if with_year else ""
    return f"{prefix}{day.month}月{day.day}日 {clock}"


def format_time(moment: datetime | None) -> str:
    """`2027-05-20 18:03` in Shanghai time, or an empty string."""
    if moment is None:
        return ""
    return local(moment).strftime("%Y-%m-%d %H:%M")


def next_may_20(now: datetime) -> datetime:
    """The next 5月20日 24:00 (Shanghai) that is still ahead of `now`."""
    year = local(now).year
    while end_of_day(date(year, 5, 20)) <= now:
        year += 1
    return end_of_day(date(year, 5, 20))


def parse_local(text: str) -> datetime:
    """Parses `YYYY-MM-DD` (meaning that day 24:00) or `YYYY-MM-DDTHH:MM` (Shanghai) to UTC.

    Raises ValueError on anything else.
    """
    text = text.strip()
    if len(text) == 10:
        return end_of_day(date.fromisoformat(text))
    naive = datetime.fromisoformat(text.replace(" ", "T"))
    if naive.tzinfo is not None:
        raise ValueError("expected a local time without zone")
    return naive.replace(tzinfo=SHANGHAI).astimezone(UTC)
