"""The admin's intake pages: all submissions with their flags, original files, and the
two-step batch import (upload → preview → confirm or cancel)."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from urllib.parse import unquote

import pytest
from sqlalchemy import func, select

from essays.competitions.operations import grant_extension
from essays.intake.models import BatchImport
from essays.intake.receive import EssayForm, receive
from essays.models import Submission, SubmissionVersion
from essays.platform.models import AuditLog
from tests.factories import DEADLINE, PASSWORD, docx_bytes
from tests.test_batch import make_zip


@pytest.fixture
def world(client, auth, make):
    competition = make.competition(phase="open")
    units = [make.unit("城管执法一中队", short_name="一中队"), make.unit("城管执法二中队", short_name="二中队"),
             make.unit("城管执法三中队", short_name="三中队"), make.unit("城管执法十一中队", short_name="十一中队")]
    make.user("admin", username="boss", display_name="政工科")
    assert auth.login("boss").status_code == 302
    return competition, units


def essay(text: str) -> bytes:
    return docx_bytes([text], title="解放思想推动改革")


BROKEN = b"PK\x03\x04 this is no docx"
FILES = {  # in this order, so the preview's indexes are known
    "征文/一中队-张三-解放思想.docx": essay("一中队的文章正文。"),
    "征文/城管执法二中队-李四、王五-改革创新.docx": essay("二中队的文章正文。"),
    "征文/三中队_赵六_实事求是.docx": essay("三中队的文章正文。"),
    "征文/执法中队-钱七-不知是谁.docx": essay("哪个中队的文章？"),
    "征文/说明.txt": "各单位来稿，请查收。".encode(),
    "征文/四中队-孙八-坏文件.docx": BROKEN,
}


def upload(client, competition, data: bytes, filename="来稿.zip"):
    return client.post(f"/admin/competitions/{competition.id}/import",
                       data={"file": (io.BytesIO(data), filename)}, content_type="multipart/form-data")


def count(session, model) -> int:
    return session.execute(select(func.count()).select_from(model)).scalar_one()


def actions(session) -> list[str]:
    return list(session.execute(select(AuditLog.action).order_by(AuditLog.seq)).scalars())


def selected(page: str, index: int) -> str | None:
    """The value pre-selected in the unit <select> of file `index`."""
    block = re.search(rf'<select name="unit-{index}".*?</select>', page, re.S)
    assert block, f"no select for file {index}"
    chosen = re.search(r'<option value="(\d*)" selected>', block.group(0))
    return chosen.group(1) if chosen else None


def test_batch_import_web_flow(client, world, session):
    competition, (one, two, three, eleven) = world
    response = upload(client, competition, make_zip(FILES, gbk=True))
    assert response.status_code == 302
    batch = session.execute(select(BatchImport)).scalar_one()
    assert response.location.endswith(f"/admin/batches/{batch.id}") and batch.status == "pending"
    assert count(session, Submission) == 0  # nothing imported before the confirmation

    preview = client.get(response.location).get_data(as_text=True)
    assert "城管执法二中队-李四、王五-改革创新.docx" in preview  # GBK names decoded
    assert [selected(preview, i) for i in range(4)] == [str(one.id), str(two.id), str(three.id), None]
    assert 'name="unit-4"' not in preview and 'name="unit-5"' not in preview
    assert "不是 Word 文档" in preview and "UPLOAD_BROKEN" in preview and "需确认" in preview

    # The admin confirms the three matches and picks 十一中队 for the doubtful file.
    response = client.post(f"/admin/batches/{batch.id}", data={
        "unit-0": one.id, "unit-1": two.id, "unit-2": three.id, "unit-3": eleven.id})
    assert response.status_code == 302
    report = client.get(response.location).get_data(as_text=True)
    assert "导入完成：已导入 4 篇，拒收 1 个，跳过 1 个" in report

    session.expire_all()  # the requests used their own sessions
    assert batch.status == "done" and batch.data == b""
    outcomes = {o["file"].rsplit("/", 1)[-1]: o for o in batch.report}
    assert len(outcomes) == 6
    assert {n: o["status"] for n, o in outcomes.items()} == {
        "一中队-张三-解放思想.docx": "imported", "城管执法二中队-李四、王五-改革创新.docx": "imported",
        "三中队_赵六_实事求是.docx": "imported", "执法中队-钱七-不知是谁.docx": "imported",
        "说明.txt": "skipped", "四中队-孙八-坏文件.docx": "refused"}
    assert outcomes["四中队-孙八-坏文件.docx"]["code"] == "UPLOAD_BROKEN"
    assert outcomes["执法中队-钱七-不知是谁.docx"]["unit"] == "城管执法十一中队"
    assert outcomes["一中队-张三-解放思想.docx"]["words"] > 0

    submissions = {s.unit.name: s for s in session.execute(select(Submission)).scalars()}
    assert set(submissions) == {"城管执法一中队", "城管执法二中队", "城管执法三中队", "城管执法十一中队"}
    assert submissions["城管执法二中队"].authors == ["李四", "王五"]
    assert submissions["城管执法二中队"].title == "改革创新"
    assert submissions["城管执法一中队"].current.uploader.username == "boss"
    # Nothing of the refused or skipped files was stored.
    names = set(session.execute(select(SubmissionVersion.original_filename)).scalars())
    assert "四中队-孙八-坏文件.docx" not in names and "说明.txt" not in names and len(names) == 4
    log = actions(session)
    assert log.count("batch.upload") == 1 and log.count("batch.import") == 1 and log.count("submission.create") == 4
    entry = session.execute(select(AuditLog).where(AuditLog.action == "batch.import")).scalar_one()
    assert (entry.after["imported"], entry.after["refused"], entry.after["skipped"]) == (4, 1, 1)
    assert entry.actor.username == "boss"

    # A second confirmation (a double click, another worker) imports nothing more.
    again = client.post(f"/admin/batches/{batch.id}", data={"unit-0": one.id})
    assert again.status_code == 302 and count(session, SubmissionVersion) == 4
    assert "已经处理过" in client.get(again.location).get_data(as_text=True)


def test_a_doubtful_file_left_unchosen_is_not_imported(client, world, session):
    competition, (one, *_rest) = world
    files = {"一中队-张三-甲.docx": essay("甲。"), "执法中队-李四-乙.docx": essay("乙。")}
    upload(client, competition, make_zip(files))
    batch = session.execute(select(BatchImport)).scalar_one()
    client.post(f"/admin/batches/{batch.id}", data={"unit-0": one.id, "unit-1": ""})
    session.expire_all()
    assert [o["status"] for o in batch.report] == ["imported", "doubtful"]
    assert count(session, Submission) == 1


def test_cancel_imports_nothing(client, world, session):
    competition, (one, *_rest) = world
    upload(client, competition, make_zip({"一中队-张三-甲.docx": essay("甲。")}))
    batch = session.execute(select(BatchImport)).scalar_one()
    response = client.post(f"/admin/batches/{batch.id}/cancel")
    session.expire_all()
    assert response.status_code == 302 and batch.status == "cancelled" and batch.data == b""
    client.post(f"/admin/batches/{batch.id}", data={"unit-0": one.id})
    assert count(session, Submission) == 0
    assert "batch.cancel" in actions(session) and "batch.import" not in actions(session)
    assert "已取消" in client.get(f"/admin/batches/{batch.id}").get_data(as_text=True)


def test_a_single_docx_is_a_batch_of_one(client, world, session):
    competition, _units = world
    response = upload(client, competition, essay("一篇。"), filename="二中队-李四-改革.docx")
    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    assert "二中队-李四-改革.docx" in page and selected(page, 0) is not None


@pytest.mark.parametrize(("data", "filename"), [(b"not a zip", "来稿.zip"), (b"", "来稿.zip")])
def test_upload_that_is_no_zip_is_refused(client, world, session, data, filename):
    competition, _units = world
    response = upload(client, competition, data, filename)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "BATCH_NOT_ZIP" in page and "这不是有效的 .zip 压缩包" in page
    assert count(session, BatchImport) == 0


def test_upload_needs_a_file_and_an_open_competition(client, world, session):
    competition, _units = world
    response = client.post(f"/admin/competitions/{competition.id}/import", data={},
                           content_type="multipart/form-data")
    assert response.status_code == 400
    competition.phase = "review"
    session.flush()
    response = upload(client, competition, make_zip({"一中队-张三-甲.docx": essay("甲。")}))
    assert response.status_code == 409 and "NOT_OPEN" in response.get_data(as_text=True)
    assert count(session, BatchImport) == 0


def test_batch_size_limit_has_its_own_config(app, client, world):
    """A zip of essays may exceed the app-wide request limit; BATCH_MAX_BYTES bounds it."""
    competition, _units = world
    data = make_zip({"一中队-张三-甲.docx": essay("甲。" * 500)})
    app.config["MAX_CONTENT_LENGTH"] = 1000
    assert upload(client, competition, data).status_code == 302
    app.config["BATCH_MAX_BYTES"] = 1000
    response = upload(client, competition, data)
    assert response.status_code == 413 and "UPLOAD_TOO_LARGE" in response.get_data(as_text=True)


def test_unknown_unit_in_the_confirmation_is_refused(client, world, session):
    competition, _units = world
    upload(client, competition, make_zip({"一中队-张三-甲.docx": essay("甲。")}))
    batch = session.execute(select(BatchImport)).scalar_one()
    response = client.post(f"/admin/batches/{batch.id}", data={"unit-0": "99999"})
    session.expire_all()
    assert response.status_code == 400 and batch.status == "pending" and count(session, Submission) == 0


# --- submissions page and downloads --------------------------------------------------------


def test_submissions_page_shows_counts_flags_and_versions(client, world, make, session, clock):
    competition, (one, two, three, _eleven) = world
    first = make.submission(competition, one, title="一中队的文章")
    version = first.current
    version.checks = {"within": True, "straddles": True, "flag": True, "warnings": ["字数在 2995 至 3002 之间"],
                      "words_min": 2995, "words_max": 3002}
    old = make.submission(competition, two, title="旧版记录")
    old.current.checks, old.current.char_count = {}, 3100  # stored before the intake checks
    grant_extension(session, make.admin(), competition, three, DEADLINE + timedelta(days=2), "抢险任务")
    late = make.submission(competition, three, title="延期的文章", at=DEADLINE + timedelta(hours=1))
    assert late.current.late
    session.flush()
    page = client.get(f"/admin/competitions/{competition.id}/submissions").get_data(as_text=True)
    assert "一中队的文章" in page and "2995 至 3002" in page and "字数范围跨越上限" in page
    assert "字数在 2995 至 3002 之间" in page
    row = page[page.index(f'id="submission-{old.id}"'):]
    assert "超字数" in row[:row.index("</tr>")]
    row = page[page.index(f'id="submission-{late.id}"'):]
    assert "延期提交" in row[:row.index("</tr>")] and "已获延期" in row[:row.index("</tr>")]
    assert f"/admin/submissions/{first.id}/versions/1/file" in page
    assert f"/admin/competitions/{competition.id}#missing" in page


def test_download_any_version_as_the_original_file(client, world, make, session):
    competition, (one, *_rest) = world
    submission = make.submission(competition, one, data=essay("第一版。"))
    submission.current.original_filename = "一中队 论文.docx"
    receive(session, competition, one, submission.current.uploader,
            EssayForm(None, "新题", ["张三"], "13800000000"), "第二版.docx", essay("第二版。"),
            DEADLINE - timedelta(days=2), submission)
    session.flush()
    for number, name in ((1, "一中队 论文.docx"), (2, "第二版.docx")):
        response = client.get(f"/admin/submissions/{submission.id}/versions/{number}/file")
        assert response.status_code == 200
        assert response.data == submission.versions[number - 1].file_bytes
        disposition = response.headers["Content-Disposition"]
        assert disposition.startswith("attachment") and name in unquote(disposition)
    assert client.get(f"/admin/submissions/{submission.id}/versions/3/file").status_code == 404


@pytest.mark.parametrize("role", ["unit", "judge"])
def test_other_roles_cannot_use_the_intake_pages(client, auth, make, role):
    competition = make.competition(phase="open")
    submission = make.submission(competition)
    make.user(role, username="someone")
    auth.login("someone")
    for method, url in (("GET", f"/admin/competitions/{competition.id}/submissions"),
                        ("GET", f"/admin/submissions/{submission.id}/versions/1/file"),
                        ("GET", f"/admin/competitions/{competition.id}/import"),
                        ("POST", f"/admin/competitions/{competition.id}/import"),
                        ("GET", "/admin/batches/1"), ("POST", "/admin/batches/1"),
                        ("POST", "/admin/batches/1/cancel")):
        assert client.open(url, method=method).status_code == 403, url


def test_competition_page_links_to_the_intake_pages(client, world):
    competition, _units = world
    page = client.get(f"/admin/competitions/{competition.id}").get_data(as_text=True)
    assert f"/admin/competitions/{competition.id}/submissions" in page
    assert f"/admin/competitions/{competition.id}/import" in page


def csrf_token(client, url: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get(url).get_data(as_text=True)).group(1)


@pytest.mark.csrf
def test_the_import_forms_carry_csrf_tokens(client, make, session):
    competition = make.competition(phase="open")
    make.unit("城管执法一中队", short_name="一中队")
    make.user("admin", username="boss")
    client.post("/login", data={"username": "boss", "password": PASSWORD, "csrf_token": csrf_token(client, "/login")})
    zipped = make_zip({"一中队-张三-甲.docx": essay("甲。")})
    response = upload(client, competition, zipped)
    assert response.status_code == 400 and "CSRF_FAILED" in response.get_data(as_text=True)
    token = csrf_token(client, f"/admin/competitions/{competition.id}/import")
    response = client.post(f"/admin/competitions/{competition.id}/import", content_type="multipart/form-data",
                           data={"csrf_token": token, "file": (io.BytesIO(zipped), "来稿.zip")})
    assert response.status_code == 302
    preview = client.get(response.location).get_data(as_text=True)
    assert preview.count('name="csrf_token"') == 3  # logout, confirm and cancel
    batch = session.execute(select(BatchImport)).scalar_one()
    assert client.post(f"/admin/batches/{batch.id}", data={"unit-0": "1"}).status_code == 400
    assert client.post(f"/admin/batches/{batch.id}/cancel").status_code == 400
    session.expire_all()
    assert batch.status == "pending" and count(session, Submission) == 0


def test_an_imported_title_that_differs_is_flagged_and_the_admin_settles_it(client, world, session):
    """Nobody can be asked at an import: the file name's title is used and the difference is
    a flag on the submissions page, which the admin settles either way (audited)."""
    competition, units = world
    response = upload(client, competition, make_zip({"一中队-张三-解放思想.docx": essay("一中队的文章正文。")}))
    batch = session.execute(select(BatchImport)).scalar_one()
    client.post(response.location, data={"unit-0": units[0].id})
    submission = session.execute(select(Submission)).scalar_one()
    assert submission.title == "解放思想"
    assert submission.title_question == {"typed": "解放思想", "detected": "解放思想推动改革", "asked": False,
                                         "version": 1}
    page = client.get(f"/admin/competitions/{competition.id}/submissions").get_data(as_text=True)
    session.refresh(batch)
    assert "题目与文中标题不一致" in page and "《解放思想推动改革》" in page and batch.status == "done"
    settled = client.post(f"/admin/submissions/{submission.id}/title", data={"choice": "detected"})
    assert settled.status_code == 302
    session.refresh(submission)
    assert submission.title == "解放思想推动改革" and submission.title_question is None
    assert actions(session)[-1] == "submission.title"
    refused = client.post(f"/admin/submissions/{submission.id}/title", data={"choice": "typed"})
    assert refused.status_code == 400 and "FORM_INVALID" in refused.get_data(as_text=True)
