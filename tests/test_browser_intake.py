"""A unit uploads in Chromium: a good file, an over-limit one, an encrypted one, a
replacement and the same file twice, and sees what it should each time."""

from __future__ import annotations

import hashlib
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from essays.models import SubmissionVersion
from tests.docx_samples import ole_file
from tests.factories import docx_bytes
from tests.test_browser import flash_error, upload

pytest_plugins = ["tests.browser_support"]
pytestmark = pytest.mark.browser
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def fill_and_upload(page, name: str, data: bytes, title: str = ""):
    page.fill("input[name=title]", title)
    page.fill("input[name=authors]", "张三、李四")
    page.fill("input[name=contact_phone]", "13800000000")
    page.set_input_files("input[name=file]", files=[{"name": name, "mimeType": DOCX, "buffer": data}])
    return upload(page)


def stored_versions(live_server) -> int:
    with live_server.session() as session:
        return session.execute(select(func.count(SubmissionVersion.id))).scalar_one()


def test_unit_upload_journey(seeded, browse, live_server):
    with seeded() as make:
        unit = make.unit("城管执法七中队")
        make.user("unit", unit=unit, username="unit_journey")
        competition = make.competition(title="解放思想大讨论征文")
        competition_id = competition.id

    page = browse.login("unit_journey")
    page.goto(f"/unit/competitions/{competition_id}/submit")
    expect(page.locator(".countdown")).to_contain_text("距截止还有")
    expect(page.locator("progress.upload-progress")).to_be_hidden()

    # Over the limit: refused with the count and how much to cut; nothing stored.
    response = fill_and_upload(page, "太长.docx", docx_bytes(["城" * 3100], title=""))
    assert response.status == 400
    expect(flash_error(page)).to_contain_text(
        "正文 3100 字，超过了 3000 字的上限，未能提交。请至少删减 100 字后重新上传。")
    expect(flash_error(page)).to_contain_text("OVER_LIMIT")
    browse.shot("intake-over-limit")

    # Encrypted: refused with what to do; nothing stored.
    response = fill_and_upload(page, "加密.docx", ole_file("EncryptionInfo", "EncryptedPackage"))
    assert response.status == 400
    expect(flash_error(page)).to_contain_text("文件设置了打开密码")
    expect(flash_error(page)).to_contain_text("UPLOAD_ENCRYPTED")
    assert stored_versions(live_server) == 0

    # A good file, title left empty: the detected title is used; the receipt says so.
    good = docx_bytes(["城管执法要坚持解放思想、实事求是。"], title="论城管执法改革")
    response = fill_and_upload(page, "论城管执法改革.docx", good)
    assert response.status == 302
    expect(page).to_have_url(re.compile(r"/unit/submissions/\d+$"))
    expect(page.locator(".flash-success")).to_contain_text("第 1 版")
    expect(page.locator("#receipt-title")).to_have_text("论城管执法改革")
    expect(page.locator("#receipt code.hash")).to_have_text(hashlib.sha256(good).hexdigest())
    expect(page.locator("#receipt")).to_contain_text("按时提交")
    browse.shot("intake-receipt")
    receipt_url = page.url

    # The same file again (a retry): same receipt, nothing stored.
    page.get_by_role("link", name="替换为新版本").click()
    response = fill_and_upload(page, "论城管执法改革.docx", good, title="论城管执法改革")
    assert response.status == 302
    expect(page).to_have_url(receipt_url)
    expect(page.locator(".flash-info")).to_contain_text("完全相同，未重复保存")
    assert stored_versions(live_server) == 1

    # A replacement: version 2, history keeps version 1.
    page.get_by_role("link", name="替换为新版本").click()
    response = fill_and_upload(page, "修改稿.docx", docx_bytes(["修改后的正文。"], title="论城管执法改革（修改稿）"))
    assert response.status == 302
    expect(page.locator(".flash-success")).to_contain_text("第 2 版")
    expect(page.get_by_role("heading", name="历史版本")).to_be_visible()
    assert stored_versions(live_server) == 2
    browse.shot("intake-replaced")

    # Editing the title without a new file.
    page.fill("form[action$='/details'] input[name=title]", "论城管执法体制改革")
    with page.expect_navigation():
        page.get_by_role("button", name="保存修改").click()
    expect(page.locator("#receipt-title")).to_have_text("论城管执法体制改革")
    assert stored_versions(live_server) == 2


def test_upload_works_without_javascript(browser, seeded, live_server):
    """The plain form posts and redirects like any form when scripts are off."""
    from tests.browser_support import open_page

    with seeded() as make:
        unit = make.unit("城管执法八中队")
        make.user("unit", unit=unit, username="unit_nojs")
        competition_id = make.competition().id
    context, watch = open_page(browser, live_server, java_script_enabled=False)
    try:
        page = watch.login("unit_nojs")
        page.goto(f"/unit/competitions/{competition_id}/submit")
        page.fill("input[name=authors]", "张三")
        page.fill("input[name=contact_phone]", "13800000000")
        page.set_input_files("input[name=file]", files=[{"name": "a.docx", "mimeType": DOCX,
                                                         "buffer": docx_bytes(title="无脚本上传")}])
        with page.expect_navigation():
            page.get_by_role("button", name="上传", exact=True).click()
        expect(page.locator("#receipt-title")).to_have_text("无脚本上传")
    finally:
        context.close()
