"""The admin in Chromium: two units uploaded the same essay with a few words changed; the
flagged list shows them first, the side-by-side page highlights the copied passages with
matching numbers and greys the notice quote, and the admin records a decision (first
without a reason, which is refused)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from essays.similarity import service
from essays.similarity.models import SimilarityDecision
from tests.factories import docx_bytes
from tests.test_admin_similarity import COPIED, EDITED, NOTICE, NOTICE_QUOTE, OWN_A, OWN_B, OWN_C
from tests.test_browser import flash_error

pytest_plugins = ["tests.browser_support"]
pytestmark = pytest.mark.browser


def test_admin_reviews_a_copied_essay(seeded, browse, live_server):
    with seeded() as make:
        competition = make.competition(title="解放思想大讨论征文", notice_text=NOTICE)
        jia, yi, bing = make.unit("城管执法甲中队"), make.unit("城管执法乙中队"), make.unit("城管执法丙中队")
        make.submission(competition, bing, title="垃圾分类的执法实践",
                        data=docx_bytes([OWN_C], title="垃圾分类的执法实践"))
        first = make.submission(competition, jia, title="以解放思想推动城管执法方式转变",
                                data=docx_bytes([NOTICE_QUOTE, COPIED, OWN_A], title="以解放思想推动城管执法方式转变"))
        second = make.submission(competition, yi, title="从“一阵风”到“常态化”",
                                 data=docx_bytes([OWN_B, EDITED], title="从“一阵风”到“常态化”"))
        service.refresh_stale(make.session, competition.deadline)  # the queue's minute task
        make.user("admin", username="admin_sim", display_name="政工科王科长")
        competition_id, first_version, second_version = competition.id, first.current.id, second.current.id
        second_id = second.id

    page = browse.login("admin_sim")
    page.goto(f"/admin/competitions/{competition_id}")
    page.get_by_role("link", name="查重", exact=True).click()
    expect(page.get_by_role("heading", name="查重", exact=True)).to_be_visible()
    rows = page.locator("#similarity-list tbody tr")
    expect(rows).to_have_count(3)
    # Ranked by 总复制比: the two copies first (乙 copied the larger share of itself), 丙 last.
    expect(rows.nth(0)).to_contain_text("城管执法乙中队")
    expect(rows.nth(1)).to_contain_text("城管执法甲中队")
    expect(rows.nth(2)).to_contain_text("城管执法丙中队")
    expect(rows.nth(0)).to_contain_text("严重")
    expect(rows.nth(0)).to_contain_text("城管执法甲中队《以解放思想推动城管执法方式转变》")
    browse.shot("similarity-list")

    page.get_by_role("link", name="以解放思想推动城管执法方式转变", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/admin/similarity/versions/{first_version}$"))
    expect(page.locator("#figure-total")).to_contain_text("严重")
    page.get_by_role("link", name="逐段对照").first.click()
    expect(page).to_have_url(re.compile(rf"/sources/essay/{second_version}$"))

    # Copied passages highlighted in both texts, numbered alike; the notice quote greyed.
    a_first, b_first = page.locator("#a-1"), page.locator("#b-1")
    expect(a_first).to_be_visible()
    expect(b_first).to_be_visible()
    expect(a_first).to_contain_text("城市管理是城市发展的重要保障")
    expect(b_first).to_contain_text("城市管理是城市发展的重要保障")
    assert a_first.evaluate("e => getComputedStyle(e).backgroundColor") not in ("rgba(0, 0, 0, 0)", "transparent")
    base = page.locator("#a-text .base").first
    expect(base).to_contain_text("深入推进城市管理工作改革创新")
    expect(base).to_have_attribute("title", "通知/常用引语，不计入复制比")
    assert base.evaluate("e => getComputedStyle(e).color") == "rgb(138, 148, 163)"
    expect(page.locator("#b-text")).to_contain_text(OWN_B[:20])
    expect(page.locator("#passages")).to_contain_text("不少")
    # Clicking a passage jumps to its twin in the other text.
    last = page.locator("#b-text a.copied").last
    number = last.get_attribute("data-passage")
    last.click()
    expect(page).to_have_url(re.compile(rf"#a-{number}$"))
    browse.shot("similarity-side-by-side")

    # The decision: refused without a reason, then recorded.
    page.get_by_role("link", name="返回查重报告").click()
    page.get_by_label("取消资格").check()
    with page.expect_navigation():
        page.get_by_role("button", name="记录处理决定").click()
    expect(flash_error(page)).to_contain_text("请填写处理理由")
    expect(flash_error(page)).to_contain_text("SIMILARITY_REASON_REQUIRED")
    expect(page.get_by_label("取消资格")).to_be_checked()
    page.get_by_label("理由（必填）").fill("与乙中队论文约九成文字相同，未注明出处，经核实为抄袭。")
    with page.expect_navigation():
        page.get_by_role("button", name="记录处理决定").click()
    expect(page.locator(".flash-success")).to_contain_text("已记录处理决定：取消资格")
    expect(page.locator("#decision-history")).to_contain_text("政工科王科长")
    expect(page.locator("#decision-history")).to_contain_text("未注明出处")
    browse.shot("similarity-decision")
    with live_server.session() as session:
        decision = session.execute(select(SimilarityDecision)).scalar_one()
        assert decision.decision == "disqualified" and decision.submission_id != second_id

    page.get_by_role("link", name="返回查重结果").click()
    expect(page.locator(f"#version-{first_version}")).to_contain_text("取消资格")
