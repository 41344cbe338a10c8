"""Times: stored in UTC, shown in Asia/Shanghai. Pure functions, no clock inside.

A deadline is an exclusive instant. "5月20日 24:00" means the first instant of 5月21日
in Shanghai; it is stored as that instant and shown back as "5月20日 24:00", because
that is how the notice says it and how every unit reads it.
"""

from __future__ import annotations

import re
import unicodedata
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


_DATE_TIME = re.compile(
    r"(?:(?P<year>\d{4})\s*[-/.年]\s*)?(?P<month>\d{1,2})\s*[-/.月]\s*(?P<day>\d{1,2})\s*[日号]?"
    r"(?:\s*[T\s]?\s*(?P<hour>\d{1,2})\s*(?:[:：点时]\s*(?P<minute>\d{1,2})?\s*分?)?)?")


def parse_local(text: str, now: datetime | None = None) -> datetime:
    """A deadline typed by a person, in Shanghai time, to UTC.

    Accepted, each with or without a time after the date (`18:00`, `24:00`, `18点`):
    `2027年5月20日` (the way the app shows it), `2027-05-20`, `2027/5/20`, `2027.5.20`,
    `2027-05-20T17:30`, and `5月20日` without a year: the next such date whose deadline is
    still ahead of `now` (required then). A date alone, or `24:00`, means the end of that
    day. Full-width digits and punctuation are read like half-width ones. Raises ValueError
    on anything else (an impossible date or time included)."""
    found = _DATE_TIME.fullmatch(unicodedata.normalize("NFKC", text or "").strip())
    if found is None:
        raise ValueError(f"not a date: {text!r}")
    month, day = int(found["month"]), int(found["day"])
    hour = int(found["hour"]) if found["hour"] is not None else 24
    minute = int(found["minute"] or 0)
    if not (0 <= hour <= 24 and 0 <= minute <= 59) or (hour == 24 and minute):
        raise ValueError(f"not a time: {text!r}")

    def moment(year: int) -> datetime:
        if hour == 24:
            return end_of_day(date(year, month, day))
        return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)

    if found["year"] is not None:
        return moment(int(found["year"]))
    if now is None:
        raise ValueError("a date without a year needs today's date")
    year = local(now).year
    for candidate in range(year, year + 9):  # 2月29日 waits for a leap year
        try:
            when = moment(candidate)
        except ValueError:
            continue
        if when > now:
            return when
    raise ValueError(f"not a date: {text!r}")
