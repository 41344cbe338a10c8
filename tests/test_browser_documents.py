"""The admin in Chromium after the results: grants the 优秀组织奖 on the ranking page, looks
at the charts, opens 证书、汇编与通报 from the competition's page, previews the certificates
on another paper, presses each download button and gets each file (opened here with
python-docx). Screenshots of the forms, the preview image and the charts land in
test-artifacts/screenshots/."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from docx import Document
from playwright.sync_api import expect
from sqlalchemy import select

from review import freeze, publicity, scoring
from review.models import Assignment
from tests.factories import DEADLINE, docx_bytes
from tests.review_setup import open_review

pytest_plugins = ["tests.browser_support"]
pytestmark = pytest.mark.browser

AFTER = DEADLINE.replace(day=22)
SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"  # as browse.shot
UNITS = {"城管执法甲中队": ("28", "22", "22", "18"), "城管执法乙中队": ("20", "15", "15", "10"),
         "城管执法丙中队": ("25", "20", "20", "15"), "城管执法丁中队": ("18", "14", "14", "9")}
TITLES = {"城管执法甲中队": "《平凡的世界》读后感", "城管执法乙中队": "乙中队的探索",
          "城管执法丙中队": "丙中队的探索", "城管执法丁中队": "丁中队的探索"}


def _published(make) -> int:
    """Four essays scored, the ranking frozen (10% / 20% / 30%: 甲 二等奖, 丙 三等奖) and on 公示."""
    competition = make.competition(title="解放思想大讨论征文")
    make.unit("城管执法大队", is_organiser=True)
    for name in UNITS:
        essay = ["城管工作要坚持以人民为中心的发展思想。", f"{name[-3:]}推行“721”工作法，占道经营明显减少。"]
        make.submission(competition, make.unit(name), data=docx_bytes(essay, title=TITLES[name]), title=TITLES[name])
    judges = [make.user("judge", username=f"judge_d{i}", display_name=f"评委{i}") for i in range(3)]
    make.user("admin", username="boss_documents")
    admin = open_review(make, competition, AFTER)
    for assignment in make.session.execute(select(Assignment)).scalars():
        judge = next(j for j in judges if j.id == assignment.judge_id)
        points = dict(zip(("c1", "c2", "c3", "c4"), UNITS[assignment.code.submission.unit.name], strict=True))
        scoring.submit(make.session, judge, assignment, points, {}, "立意鲜明。", AFTER)
    freeze.freeze(make.session, admin, competition, AFTER, seed=1)
    publicity.publish(make.session, admin, competition, "7", AFTER)
    return competition.id


def _docx(download) -> Document:
    with open(download.path(), "rb") as f:
        return Document(io.BytesIO(f.read()))


def test_the_admin_makes_the_documents_after_the_results(seeded, browse, live_server, clock):
    clock.set(AFTER)
    with seeded() as make:
        competition_id = _published(make)
    page = browse.login("boss_documents")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    page.goto(f"{live_server.url}/admin/competitions/{competition_id}/ranking")
    section = page.locator("#organisation")
    section.get_by_label("城管执法乙中队").check()
    with page.expect_navigation():
        section.get_by_role("button", name="保存优秀组织奖").click()
    expect(page.locator(".flash-success")).to_have_text("已评定优秀组织奖：城管执法乙中队。")
    expect(page.locator("#chart-scores svg")).to_be_visible()
    page.locator("#charts").screenshot(path=str(SCREENSHOTS / "documents-charts.png"))

    page.goto(f"{live_server.url}/admin/competitions/{competition_id}")
    page.get_by_role("link", name="证书、汇编与通报").click()
    expect(page.get_by_role("heading", name="证书、汇编与通报")).to_be_visible()
    expect(page.locator("#draft-note")).to_contain_text("草稿")
    preview = page.locator("#certificate-preview svg")
    expect(preview).to_be_visible()
    expect(page.locator("#certificate-preview")).to_contain_text("张三 同志：")
    expect(page.locator("#certificate-preview")).to_contain_text("《〈平凡的世界〉读后感》")
    browse.shot("documents-page")
    preview.screenshot(path=str(SCREENSHOTS / "documents-certificate-preview.png"))

    form = page.locator("form.certificate-form")
    form.get_by_label("每篇作品一张（列出全部作者）").check()
    form.get_by_label("自定义尺寸").check()
    form.get_by_label("自定义宽").fill("240")
    form.get_by_label("高", exact=True).fill("170")
    with page.expect_navigation():
        form.get_by_role("button", name="预览").click()
    expect(page.locator("#certificate-preview figcaption")).to_contain_text("共 3 张，纸张 240×170 毫米")
    page.locator("#certificates").screenshot(path=str(SCREENSHOTS / "documents-certificate-form.png"))

    with page.expect_download() as waiting:
        page.get_by_role("button", name="下载荣誉证书").click()
    certificates = _docx(waiting.value)
    assert waiting.value.suggested_filename == "解放思想大讨论征文-荣誉证书-草稿.docx"
    assert round(certificates.sections[0].page_width.mm) == 240
    text = "\n".join(p.text for p in certificates.paragraphs)
    assert "你撰写的《〈平凡的世界〉读后感》在解放思想大讨论征文中荣获二等奖。" in text
    assert "城管执法乙中队：" in text and "荣获优秀组织奖" in text

    booklet_form = page.locator("#booklet form")
    booklet_form.get_by_label("三等奖（1 篇）").uncheck()
    page.locator("#booklet").screenshot(path=str(SCREENSHOTS / "documents-booklet-form.png"))
    with page.expect_download() as waiting:
        booklet_form.get_by_role("button", name="下载优秀征文汇编").click()
    booklet = _docx(waiting.value)
    assert [p.text for p in booklet.paragraphs if p.style.name == "Heading 1"] == ["《平凡的世界》读后感"]

    with page.expect_download() as waiting:
        page.get_by_role("link", name="下载表彰通报").click()
    notice = _docx(waiting.value)
    assert notice.paragraphs[0].text == "关于解放思想大讨论征文评选结果的通报"
    assert "城管执法乙中队" in [p.text for p in notice.paragraphs]

    # Nothing chosen for the booklet: the page again, with the message and its code.
    booklet_form = page.locator("#booklet form")
    booklet_form.get_by_label("二等奖（1 篇）").uncheck()
    booklet_form.get_by_label("三等奖（1 篇）").uncheck()
    with page.expect_navigation():
        booklet_form.get_by_role("button", name="下载优秀征文汇编").click()
    expect(page.locator(".flash-error")).to_contain_text("BOOKLET_TIERS")
