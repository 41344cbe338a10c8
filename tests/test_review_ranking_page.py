"""The admin's ranking preview: every method beside the chosen one, subtotals, void sheets,
ties explained, awards previewed, judges' profiles and disagreements; codes only."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import select

from review import scoring, standings
from review.models import Assignment
from tests.test_review_flow import AFTER, page_text, prepared
from tests.test_review_flow import world as world

# judge index -> essay -> total, spread over the four criteria as (c1, c2, c3, c4)
SHEETS = {
    0: {"甲": (28, 22, 22, 18), "乙": (20, 15, 15, 10), "丙": (25, 20, 20, 15), "甲一": (10, 5, 5, 5)},
    1: {"甲": (27, 23, 21, 17), "乙": (22, 16, 14, 12), "丙": (24, 21, 19, 16), "甲一": (12, 6, 5, 5)},
    2: {"甲": (29, 24, 23, 19), "乙": (21, 14, 16, 11), "丙": (26, 20, 21, 14), "甲一": (29, 24, 24, 19)},
}


@pytest.fixture
def scored(session, make, world):
    competition, units, subs, judges = world
    codes = prepared(session, make, world)
    for j, essays in SHEETS.items():
        for name, points in essays.items():
            assignment = session.execute(select(Assignment).where(
                Assignment.judge_id == judges[j].id, Assignment.code_id == codes[subs[name].id].id)).scalar_one()
            scoring.submit(session, judges[j], assignment, dict(zip(("c1", "c2", "c3", "c4"),
                                                                    map(str, points), strict=True)), {}, "", AFTER)
    make.user("admin", username="boss")
    return competition, units, subs, judges, codes


def test_standings_rank_by_trimmed_mean_with_every_method_beside(session, scored):
    competition, units, subs, judges, codes = scored
    found = standings.standings(session, competition)
    order = [row.code.submission_id for row in found.rows]
    assert order[:3] == [subs["甲"].id, subs["丙"].id, subs["乙"].id]
    top = found.rows[0].result
    assert top.scores["mean"] == 91 and top.subtotals["c1"] == 28 and top.counted == 3  # 90, 88, 95
    assert found.pending > 0  # judge_jia and judge_dd have not scored
    assert subs["甲一"].id in [r.code.submission_id for r in found.disagreements]  # 30 vs 96


def test_the_preview_page_shows_codes_only(client, auth, session, scored):
    competition, units, subs, judges, codes = scored
    auth.login("boss")
    page = client.get(f"/admin/competitions/{competition.id}/ranking")
    text = page_text(page)
    assert "排名预览" in text and "还有" in text and "份评分未提交" in text
    assert not any(u.name in text for u in units.values())
    rows = re.findall(r'<tr id="code-\d+">(.*?)</tr>', page.get_data(as_text=True), re.S)
    # Four eligible essays: 10% rounds to no 一等奖, 20% and 30% to one 二等奖 and one 三等奖.
    assert codes[subs["甲"].id].code in rows[0] and "二等奖" in unescape(rows[0])
    assert "三等奖" in unescape(rows[1]) and "一等奖" not in page.get_data(as_text=True)
    assert "<svg" in page.get_data(as_text=True) and "评委1号" in text
    assert "最高分与最低分相差" in text
    median = page_text(client.get(f"/admin/competitions/{competition.id}/ranking?method=median"))
    assert "中位数" in median
