"""The admin in Chromium, from submitted scores to the package for the bureau: freezes the
ranking on the 排名预览 page, opens 报送局系统, chooses the top two, rewrites a 推荐理由,
is told in Chinese when a required text is missing, and downloads the .zip, which holds
the originals, the forms, the 汇总表 and the manifest."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from docx import Document
from playwright.sync_api import expect
from sqlalchemy import select

from review import scoring
from review.models import Assignment
from tests.factories import DEADLINE, docx_bytes
from tests.review_setup import open_review

pytest_plugins = ["tests.browser_support"]
pytestmark = pytest.mark.browser

AFTER = DEADLINE.replace(day=22)
UNITS = ("城管执法甲中队", "城管执法乙中队", "城管执法丙中队")
TOTALS = {"城管执法甲中队": ("28", "22", "22", "18"), "城管执法乙中队": ("20", "15", "15", "10"),
          "城管执法丙中队": ("25", "20", "20", "15")}


def _scored(make) -> int:
    competition = make.competition(title="解放思想大讨论征文")
    make.unit("城管执法大队", is_organiser=True)
    for name in UNITS:
        essay = ["城管工作要坚持以人民为中心的发展思想。", f"{name[-3:]}推行“721”工作法，占道经营明显减少。"]
        make.submission(competition, make.unit(name), data=docx_bytes(essay), title=f"{name[-3:]}的探索")
    judges = [make.user("judge", username=f"judge_b{i}", display_name=f"评委{i}") for i in range(3)]
    make.user("admin", username="boss_browser")
    open_review(make, competition, AFTER)
    for assignment in make.session.execute(select(Assignment)).scalars():
        points = TOTALS[assignment.code.submission.unit.name]
        judge = next(j for j in judges if j.id == assignment.judge_id)
        scoring.submit(make.session, judge, assignment, dict(zip(("c1", "c2", "c3", "c4"), points, strict=True)),
                       {}, "立意鲜明，联系实际。", AFTER)
    return competition.id


def test_the_admin_goes_from_scores_to_the_downloaded_package(seeded, browse, live_server):
    with seeded() as make:
        competition_id = _scored(make)
    page = browse.login("boss_browser")
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{live_server.url}/admin/competitions/{competition_id}/ranking")
    with page.expect_navigation():
        page.get_by_role("button", name="冻结排名").click()
    expect(page.locator(".flash-success")).to_contain_text("排名已冻结，共 3 篇")
    expect(page.locator("#frozen-ranking")).to_contain_text("城管执法甲中队")

    page.get_by_role("link", name="报送局系统").click()
    expect(page.get_by_role("heading", name="报送局系统")).to_be_visible()
    page.get_by_label("报送篇数").fill("2")
    with page.expect_navigation():
        page.get_by_role("button", name="确定报送名单").click()
    expect(page.locator(".flash-success")).to_contain_text("已选定 2 篇报送作品")
    forms = page.locator("form.recommendation")
    expect(forms).to_have_count(2)
    first = forms.first
    expect(first).to_contain_text("城管执法甲中队")
    expect(first.get_by_label("推荐理由")).to_have_value("")  # written by the 政工科, not joined comments
    first.get_by_role("button", name="选用").first.click()  # a judge's comment, picked
    expect(first.get_by_label("推荐理由")).to_have_value("立意鲜明，联系实际。")
    browse.shot("forward-page")

    # A blank 单位意见 gets past the browser (the field is emptied by script) but not the server.
    first.get_by_label("单位意见").evaluate("el => { el.required = false; el.value = ''; }")
    with page.expect_navigation():
        first.get_by_role("button", name="保存推荐表").click()
    expect(page.locator(".flash-error")).to_contain_text("推荐理由和单位意见都须填写")
    expect(page.locator(".flash-error")).to_contain_text("FORWARD_TEXT")

    first = page.locator("form.recommendation").first
    first.get_by_label("推荐理由").fill("紧扣解放思想主题，做法具体可复制。")
    first.get_by_label("单位意见").fill("同意推荐。")
    with page.expect_navigation():
        first.get_by_role("button", name="保存推荐表").click()
    expect(page.locator(".flash-success")).to_contain_text("已保存作品")
    second = page.locator("form.recommendation").nth(1)
    second.get_by_role("button", name="选用").first.click()
    with page.expect_navigation():
        second.get_by_role("button", name="保存推荐表").click()
    expect(page.locator(".flash-success")).to_contain_text("已保存作品")

    with page.expect_download() as waiting:
        page.get_by_role("link", name="下载报送材料包（.zip）").click()
    download = waiting.value
    assert download.suggested_filename == "解放思想大讨论征文-报送材料.zip"
    archive = zipfile.ZipFile(io.BytesIO(open(download.path(), "rb").read()))
    manifest = json.loads(archive.read("manifest.json"))
    assert [(e["rank"], e["unit"]) for e in manifest["entries"]] == [(1, "城管执法甲中队"), (2, "城管执法丙中队")]
    names = archive.namelist()
    assert "原件/1-城管执法甲中队-甲中队的探索.docx" in names and "汇总表.xlsx" in names
    form = Document(io.BytesIO(archive.read("推荐表/推荐表-1-甲中队的探索.docx")))
    assert "紧扣解放思想主题，做法具体可复制。" in form.tables[0].rows[5].cells[1].text
