"""Factories for units, users, competitions and submissions, built through the domain
functions (so the audit log and the rules apply as in the app)."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

from essays.competitions.operations import CompetitionSettings, create_competition
from essays.intake.docx.writer import DocxSpec, build_docx
from essays.intake.receive import EssayForm, receive
from essays.models import Competition, Submission, Unit, User
from essays.people.accounts import create_user
from essays.platform.timeutil import end_of_day

PASSWORD = "test-pass-2027"
DEADLINE = end_of_day(date(2027, 5, 20))  # 2027-05-20 24:00 Shanghai
ESSAY = ["城管工作要坚持以人民为中心的发展思想。", "我们要在改革创新中解放思想、实事求是。"]

_seq = itertools.count(1)


def docx_bytes(paragraphs=None, title="解放思想与城管工作改革创新", **props) -> bytes:
    return build_docx(DocxSpec(paragraphs=list(paragraphs or ESSAY), title=title, **props))


class Factories:
    def __init__(self, session: Session):
        self.session = session
        self._admin: User | None = None

    def unit(self, name: str | None = None, **fields) -> Unit:
        n = next(_seq)
        unit = Unit(name=name or f"测试{n}中队", short_name=fields.pop("short_name", f"{n}中队"),
                    aliases=fields.pop("aliases", []), contact_name=fields.pop("contact_name", "王联络"),
                    contact_phone=fields.pop("contact_phone", "0731-8888000"), **fields)
        self.session.add(unit)
        self.session.flush()
        return unit

    def user(self, role: str = "unit", unit: Unit | None = None, username: str | None = None,
             password: str = PASSWORD, must_change: bool = False, **fields) -> User:
        if role == "unit" and unit is None:
            unit = self.unit()
        user, _ = create_user(self.session, None, username=username or f"{role}{next(_seq)}",
                              display_name=fields.pop("display_name", "测试用户"), role=role,
                              unit=unit, password=password, must_change=must_change)
        for key, value in fields.items():
            setattr(user, key, value)
        self.session.flush()
        return user

    def admin(self) -> User:
        if self._admin is None:
            self._admin = self.user("admin", username=f"admin{next(_seq)}")
        return self._admin

    def competition(self, phase: str = "open", deadline: datetime = DEADLINE,
                    themes=("解放思想与城管工作改革创新",), **fields) -> Competition:
        settings = CompetitionSettings(
            title=fields.pop("title", "解放思想大讨论征文"),
            notice_text=fields.pop("notice_text", "通知全文"),
            themes=list(themes), char_limit=fields.pop("char_limit", 3000),
            limit_is_hard=fields.pop("limit_is_hard", True), deadline=deadline,
            min_per_unit=fields.pop("min_per_unit", 1), max_per_unit=fields.pop("max_per_unit", 1),
        )
        competition = create_competition(self.session, self.admin(), settings)
        competition.phase = phase
        self.session.flush()
        return competition

    def submission(self, competition: Competition, unit: Unit | None = None,
                   user: User | None = None, paragraphs=None, at: datetime | None = None,
                   title: str = "解放思想 推动城管改革", data: bytes | None = None,
                   replacing: Submission | None = None) -> Submission:
        """A unit's upload through the intake (`replacing`: a new version of that submission,
        uploaded by an account of its unit)."""
        unit = replacing.unit if replacing is not None else unit
        unit = unit or (user.unit if user else self.unit())
        user = user or self.user("unit", unit=unit)
        saved_phase = competition.phase
        competition.phase = "open"
        at = at or competition.deadline - timedelta(days=3)
        submission, _, _ = receive(
            self.session, competition, unit, user,
            EssayForm(theme_id=competition.themes[0].id, title=title, authors=["张三"],
                      contact_phone="13800000000"),
            "essay.docx", data or docx_bytes(paragraphs), at, submission=replacing)
        competition.phase = saved_phase
        self.session.flush()
        return submission


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)
