"""The phases the review enters by operations of its own, as `flask --app app competition
advance` enters them (registered with essays.competitions.phases.register_entry from review's
init_app; essays never imports the review):
- 排名已冻结 (ranked): freezing the ranking under the declared rules (review.freeze.freeze), as
  the ranking page's 冻结排名 button does;
- 公示中 (published): publishing it for `days` days (review.publicity.publish; "" gives the
  page's default), as the ranking page's 发布公示 button does.
Checks, refusals and audit entries are the pages' own, since the operations are the same;
each returns the message the page flashes.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from essays.competitions.phases import PhaseEntry
from essays.models import Competition, User
from essays.platform.timeutil import format_time
from review import freeze, publicity


def enter_ranked(session: Session, admin: User, competition: Competition, now: datetime, **options) -> str:
    n = freeze.freeze(session, admin, competition, now)
    return str(_l("排名已冻结，共 %(n)s 篇。名次、奖项和抽签结果已记入审计日志。", n=n))


def enter_published(session: Session, admin: User, competition: Competition, now: datetime, days: str = "",
                    **options) -> str:
    pub = publicity.publish(session, admin, competition, days, now)
    return str(_l("已发布公示，至 %(end)s 止，各单位登录后可见。", end=format_time(pub.ends_at)))


ENTRIES = {
    "ranked": PhaseEntry(enter_ranked, _l("确定冻结排名吗？冻结后不能再修改评分和排名规则。")),
    "published": PhaseEntry(enter_published, _l("确定发布公示吗？发布后各单位登录即可看到获奖名单。")),
}
