"""A judge in Chromium: from the home page to the queue, reads an anonymous essay with the
rubric beside it, types the scores by keyboard (the draft saves itself and survives a
reload), submits, and finds the score locked and the queue's progress moved on. Also the
reading page on a tablet held upright."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from review.models import ReviewCode, Score
from tests.factories import DEADLINE, docx_bytes
from tests.review_setup import open_review

pytest_plugins = ["tests.browser_support"]
pytestmark = pytest.mark.browser

AFTER = DEADLINE.replace(day=22)


def _review(make) -> tuple[int, list[str]]:
    competition = make.competition(title="解放思想大讨论征文")
    for name, words in (("城管执法甲中队", "我中队推行“721”工作法，占道经营明显减少。"),
                        ("城管执法乙中队", "解放思想，就是要敢于打破常规。")):
        essay = ["城管工作要坚持以人民为中心的发展思想。", words]
        make.submission(competition, make.unit(name), data=docx_bytes(essay))
    make.user("judge", username="judge_browser", display_name="评委王")
    open_review(make, competition, AFTER)
    codes = sorted(make.session.execute(select(ReviewCode.code)).scalars())
    return competition.id, codes


def test_a_judge_scores_an_essay_from_the_queue_to_submit(seeded, browse, live_server):
    with seeded() as make:
        competition_id, codes = _review(make)
    page = browse.login("judge_browser")
    page.on("dialog", lambda dialog: dialog.accept())
    expect(page.locator("main")).to_contain_text("已评 0/2")
    page.get_by_role("link", name="解放思想大讨论征文").click()
    expect(page.locator("#queue tbody tr")).to_have_count(2)
    page.get_by_role("link", name=codes[0], exact=True).click()
    expect(page.get_by_role("heading", name=f"作品 {codes[0]}")).to_be_visible()
    expect(page.locator("#essay")).not_to_contain_text("甲中队")
    expect(page.locator("#essay")).not_to_contain_text("乙中队")
    browse.shot("judge-essay")

    first = page.get_by_label("思想性（满分 30）")
    first.fill("31")  # above the maximum: flagged as typed, before any submit
    flagged = page.locator(".field", has=first).locator(".typed-error")
    expect(flagged).to_have_text("超出满分，满分为 30")
    expect(first).to_have_attribute("aria-invalid", "true")
    first.fill("2六")
    expect(flagged).to_have_text("分数须为数字，如 27 或 27.5")
    first.fill("")
    expect(flagged).to_be_hidden()
    first.focus()
    page.keyboard.type("26")
    expect(flagged).to_be_hidden()
    for points in ("21", "20", "17"):
        page.keyboard.press("Tab")
        page.keyboard.type(points)
    expect(page.locator("#total")).to_contain_text("84")
    expect(page.locator("#autosave-status")).to_contain_text("草稿已自动保存", timeout=8000)
    page.reload()
    expect(page.get_by_label("文字表达（满分 20）")).to_have_value("17")
    page.get_by_label("评语").fill("联系实际，观点鲜明。")

    with page.expect_navigation():
        page.get_by_role("button", name="提交评分").click()
    expect(page.locator(".flash-success")).to_contain_text(f"作品 {codes[0]} 的评分已提交")
    expect(page.get_by_role("heading", name=f"作品 {codes[1]}")).to_be_visible()  # on to the next
    page.goto(f"/judge/competitions/{competition_id}/essays/{codes[0]}")
    expect(page.locator("#locked")).to_be_visible()
    expect(page.get_by_label("思想性（满分 30）")).to_be_disabled()
    page.get_by_role("link", name="返回评审任务").click()
    expect(page.locator("#progress")).to_have_text("已评 1/2")
    browse.shot("judge-queue")

    with live_server.app.app_context():
        session = live_server.session()
        score = session.execute(select(Score)).scalar_one()
        assert (score.status, score.total, score.comment) == ("submitted", 84, "联系实际，观点鲜明。")
        session.close()


def test_the_reading_page_on_a_tablet(seeded, tablet, live_server):
    with seeded() as make:
        competition_id, codes = _review(make)
    page = tablet.login("judge_browser")
    page.goto(f"/judge/competitions/{competition_id}/essays/{codes[1]}")
    text, sheet = page.locator("#essay").bounding_box(), page.locator(".sheet").bounding_box()
    assert text["width"] > 300 and sheet["width"] > 250  # both readable, no overflow
    assert page.evaluate("document.documentElement.scrollWidth") <= 768  # the tablet fixture's width
    tablet.shot("judge-essay-tablet")
