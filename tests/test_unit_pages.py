"""A unit's pages: uploading, replacing, receipts, refusals, and nothing of other units."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from essays.models import Submission, SubmissionVersion
from tests import docx_samples as samples
from tests.factories import DEADLINE, docx_bytes
from tests.test_reader import BAD_INPUTS


@pytest.fixture
def setup(client, auth, make):
    competition = make.competition(phase="open")
    unit = make.unit("第一中队")
    user = make.user("unit", unit=unit, username="yizhongdui")
    auth.login("yizhongdui")
    return competition, unit, user


def form(competition, data: bytes, filename="论文.docx", **extra):
    values = {"theme_id": competition.themes[0].id, "title": "解放思想 推动城管改革",
              "authors": "张三、李四", "contact_phone": "13800001111",
              "file": (io.BytesIO(data), filename)}
    values.update(extra)
    return values


def post(client, url, values):
    return client.post(url, data=values, content_type="multipart/form-data")


def versions(session):
    return session.execute(select(func.count(SubmissionVersion.id))).scalar_one()


def test_upload_gives_a_receipt(client, setup, session):
    competition, unit, user = setup
    response = post(client, f"/unit/competitions/{competition.id}/submit",
                    form(competition, docx_bytes(["城管工作要解放思想。"])))
    assert response.status_code == 302
    submission = session.execute(select(Submission)).scalar_one()
    assert submission.authors == ["张三", "李四"] and submission.unit is unit
    version = submission.current
    assert version.sha256 and version.size > 0 and version.char_count > 0
    page = client.get(response.location).get_data(as_text=True)
    assert "提交回执" in page and version.sha256 in page and "已收到您的文章（第 1 版）" in page
    download = client.get(f"/unit/submissions/{submission.id}/versions/1/file")
    assert download.data == version.file_bytes


def test_replace_before_deadline_keeps_history(client, setup, make, session):
    competition, unit, user = setup
    submission = make.submission(competition, unit, user)
    response = post(client, f"/unit/submissions/{submission.id}/replace",
                    form(competition, docx_bytes(["新的一版正文。"]), title="新题目"))
    assert response.status_code == 302
    session.refresh(submission)
    assert [v.number for v in submission.versions] == [1, 2]
    assert submission.title == "新题目"


def test_same_file_twice_is_stored_once(client, setup, make, session):
    competition, unit, user = setup
    data = docx_bytes(["重复提交的正文。"])
    submission = make.submission(competition, unit, user, data=data)
    response = post(client, f"/unit/submissions/{submission.id}/replace", form(competition, data))
    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    assert "完全相同，未重复保存" in page
    assert versions(session) == 1


def test_quota_is_enforced(client, setup, make, session):
    competition, unit, user = setup
    make.submission(competition, unit, user)
    response = post(client, f"/unit/competitions/{competition.id}/submit",
                    form(competition, docx_bytes(["另一篇文章。"])))
    assert response.status_code == 409
    assert "QUOTA_FULL" in response.get_data(as_text=True)
    assert versions(session) == 1


def test_double_click_on_the_first_upload_gives_one_receipt(client, setup, session):
    """The same bytes posted twice to "submit" (a double click, a retry): one submission."""
    competition, _, _ = setup
    competition.max_per_unit = 2
    session.flush()
    data = docx_bytes(["双击提交的正文。"])
    first = post(client, f"/unit/competitions/{competition.id}/submit", form(competition, data))
    second = post(client, f"/unit/competitions/{competition.id}/submit", form(competition, data))
    assert first.status_code == second.status_code == 302
    assert first.location == second.location
    assert session.execute(select(func.count(Submission.id))).scalar_one() == 1
    assert "完全相同，未重复保存" in client.get(second.location).get_data(as_text=True)


def test_deadline_is_enforced_and_extension_allows_late(client, auth, setup, make, session, clock):
    competition, unit, user = setup
    clock.set(DEADLINE)
    auth.login("yizhongdui")  # days later: the session from before has ended
    response = post(client, f"/unit/competitions/{competition.id}/submit", form(competition, docx_bytes()))
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "DEADLINE_PASSED" in page and "2027年5月20日 24:00" in page
    from essays.competitions.operations import grant_extension

    grant_extension(session, make.admin(), competition, unit, DEADLINE + timedelta(days=7), "执勤")
    response = post(client, f"/unit/competitions/{competition.id}/submit", form(competition, docx_bytes()))
    assert response.status_code == 302
    assert session.execute(select(SubmissionVersion)).scalar_one().late


def test_closed_competition_refuses(client, setup, session):
    competition, _, _ = setup
    competition.phase = "intake_closed"
    session.flush()
    response = post(client, f"/unit/competitions/{competition.id}/submit", form(competition, docx_bytes()))
    assert response.status_code == 409 and "NOT_OPEN" in response.get_data(as_text=True)


def _zip(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return out.getvalue()


BAD_FILES = [
    ("论文.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "UPLOAD_OLD_DOC", "旧版 .doc 文件"),
    ("论文.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "UPLOAD_OLD_DOC", "去掉打开密码"),
    ("论文.pdf", b"%PDF-1.7\n...", "UPLOAD_PDF", "这是 PDF 文件"),
    ("论文.docx", b"%PDF-1.7\n...", "UPLOAD_PDF", "这是 PDF 文件"),
    ("论文.docx", b"", "UPLOAD_EMPTY", "空的（0 字节）"),
    ("论文.docx", b"PK\x03\x04garbage", "UPLOAD_BROKEN", "文件已损坏"),
    ("论文.docx", _zip({"a.txt": b"x"}), "UPLOAD_NOT_DOCX", "只接受 Word 的 .docx 文件"),
    ("论文.docx", _zip({"word/document.xml": b"<w:document"}), "UPLOAD_BROKEN", "文件已损坏"),
    ("论文.txt", "纯文本".encode(), "UPLOAD_NOT_DOCX", "另存为"),
    ("论文.wps", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "UPLOAD_OLD_DOC", "另存为” .docx"),
    ("论文.docx", b"anything at all", "UPLOAD_NOT_DOCX", "只接受 Word 的 .docx 文件"),
    ("论文.docx", b"{\\rtf1\\ansi hello}", "UPLOAD_NOT_DOCX", "另存为"),
    ("论文.docx", b"<!DOCTYPE html><html><body>x</body></html>", "UPLOAD_NOT_DOCX", "另存为"),
    ("论文.docx", docx_bytes([""], title=""), "UPLOAD_NO_TEXT", "没有读到正文文字"),
    ("论文.docx", samples.docx(samples.PLACEHOLDER), "UPLOAD_ONLY_PLACEHOLDER",
     "文件中只有模板的提示文字（如“单击或点击此处输入文字”），没有填写正文。"),
    ("论文.docx", samples.docx(samples.p(samples.textbox(samples.p("城管工作要坚持以人民为中心。"))),
                             settings=samples.settings_xml(no_subdocs=True)), "UPLOAD_TEXT_UNCOUNTED",
     "文件的文字都在文本框、脚注或尾注中，而文件设置为字数统计不包括这些内容，因此正文为空。"),
]


@pytest.mark.parametrize(("filename", "data", "code", "message"), BAD_FILES)
def test_bad_files_get_clear_messages_and_store_nothing(client, setup, session, filename, data,
                                                        code, message):
    competition, _, _ = setup
    response = post(client, f"/unit/competitions/{competition.id}/submit",
                    form(competition, data, filename=filename))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert code in page and message in page
    assert versions(session) == 0


def test_bad_replacement_keeps_the_stored_version(client, setup, make, session):
    competition, unit, user = setup
    submission = make.submission(competition, unit, user)
    stored = submission.current.sha256
    response = post(client, f"/unit/submissions/{submission.id}/replace",
                    form(competition, b"PK\x03\x04broken"))
    assert response.status_code == 400
    session.refresh(submission)
    assert len(submission.versions) == 1 and submission.current.sha256 == stored


def test_over_the_hard_limit_is_refused(client, setup, session):
    competition, _, _ = setup
    long_text = ["城" * 1600, "管" * 1600]
    response = post(client, f"/unit/competitions/{competition.id}/submit",
                    form(competition, docx_bytes(long_text, title="")))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "OVER_LIMIT" in page
    assert "正文 3200 字，超过了 3000 字的上限，未能提交。请至少删减 200 字后重新上传。" in page
    assert versions(session) == 0


def upload_under_soft_limit(client, session, competition, chars: int):
    """Uploads an essay of `chars` Chinese characters to a competition whose limit is soft (左右)."""
    competition.limit_is_hard = False
    session.flush()
    return post(client, f"/unit/competitions/{competition.id}/submit",
                form(competition, docx_bytes(["城" * chars], title="")))


def test_soft_limit_accepts_and_flags(client, setup, session):
    competition, _, _ = setup
    response = upload_under_soft_limit(client, session, competition, 3200)
    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    assert "超过 3000 字" in page


def test_missing_file_and_bad_fields(client, setup, session):
    competition, _, _ = setup
    values = form(competition, b"")
    values.pop("file")
    response = post(client, f"/unit/competitions/{competition.id}/submit", values)
    assert response.status_code == 400 and "UPLOAD_MISSING" in response.get_data(as_text=True)
    response = post(client, f"/unit/competitions/{competition.id}/submit",
                    form(competition, docx_bytes(), contact_phone="abc"))
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "FORM_INVALID" in page and "电话号码格式不正确" in page


def test_too_large_upload(app, client, setup):
    competition, _, _ = setup
    app.config["UPLOAD_MAX_BYTES"] = 2000
    response = post(client, f"/unit/competitions/{competition.id}/submit",
                    form(competition, b"PK" + b"x" * 5000))
    assert response.status_code == 413 and "UPLOAD_TOO_LARGE" in response.get_data(as_text=True)


def test_other_units_submissions_are_invisible(client, setup, make, session):
    competition, _, _ = setup
    other = make.submission(competition, make.unit("第二中队"))
    for url in (f"/unit/submissions/{other.id}", f"/unit/submissions/{other.id}/replace",
                f"/unit/submissions/{other.id}/versions/1/file"):
        assert client.get(url).status_code == 404
    page = client.get("/unit/").get_data(as_text=True)
    assert "第二中队" not in page


def test_draft_competitions_are_hidden_from_units(client, setup, make):
    draft = make.competition(phase="draft", title="筹备中的活动")
    assert "筹备中的活动" not in client.get("/unit/").get_data(as_text=True)
    assert client.get(f"/unit/competitions/{draft.id}/submit").status_code == 404


def test_content_decides_not_the_extension(client, setup, session):
    competition, _, _ = setup
    response = post(client, f"/unit/competitions/{competition.id}/submit",
                    form(competition, docx_bytes(), filename="论文.doc"))
    assert response.status_code == 302
    assert session.execute(select(SubmissionVersion)).scalar_one().original_filename == "论文.doc"


def test_empty_title_takes_the_detected_one_and_can_be_edited(client, setup, session):
    competition, _, _ = setup
    response = post(client, f"/unit/competitions/{competition.id}/submit",
                    form(competition, docx_bytes(["正文。"], title="论精细化管理"), title=""))
    assert response.status_code == 302
    submission = session.execute(select(Submission)).scalar_one()
    assert submission.title == "论精细化管理"
    assert submission.current.checks["detected_title"] == "论精细化管理"
    response = client.post(f"/unit/submissions/{submission.id}/details",
                           data={"theme_id": competition.themes[0].id, "title": "论城市精细化管理",
                                 "authors": "王五", "contact_phone": "0731-1234567"})
    assert response.status_code == 302
    session.refresh(submission)
    assert submission.title == "论城市精细化管理" and submission.authors == ["王五"]
    assert len(submission.versions) == 1


def test_details_cannot_change_after_the_deadline(client, auth, setup, make, session, clock):
    competition, unit, user = setup
    submission = make.submission(competition, unit, user)
    clock.set(DEADLINE)
    auth.login("yizhongdui")  # days later: the session from before has ended
    response = client.post(f"/unit/submissions/{submission.id}/details",
                           data={"theme_id": competition.themes[0].id, "title": "迟到的修改",
                                 "authors": "王五", "contact_phone": "0731-1234567"})
    assert response.status_code == 409 and "DEADLINE_PASSED" in response.get_data(as_text=True)
    session.refresh(submission)
    assert submission.title != "迟到的修改"


def test_receipt_shows_breakdown_and_warnings(client, setup, session):
    competition, _, _ = setup
    response = upload_under_soft_limit(client, session, competition, 3100)
    page = client.get(response.location).get_data(as_text=True)
    assert "中文字符 3100" in page and "按时提交" in page and "北京时间" in page
    assert "超过了 3000 字的要求（参考值），已接收并标记" in page
    assert "距截止还有" in page


@pytest.mark.parametrize("kind", sorted(BAD_INPUTS))
def test_every_bad_input_kind_through_the_page(client, setup, make, session, kind):
    """Each kind the reader refuses, sent as a replacement: the code and its Chinese message
    are shown, and the stored version (and the audit log) stay exactly as they were."""
    from essays.platform.errors import Refusal
    from essays.platform.models import AuditLog

    data, code = BAD_INPUTS[kind]
    competition, unit, user = setup
    submission = make.submission(competition, unit, user)
    stored = submission.current.sha256
    entries = session.execute(select(func.count(AuditLog.id))).scalar_one()
    response = post(client, f"/unit/submissions/{submission.id}/replace", form(competition, data))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert code in page
    assert Refusal(code).message.split("%")[0][:20] in page
    session.refresh(submission)
    assert [v.sha256 for v in submission.versions] == [stored]
    assert session.execute(select(func.count(AuditLog.id))).scalar_one() == entries


# --- the title of a replacement (a bug: the old title went to the 公示 and the package) -----

OLD, NEW = "五四运动的精神内涵和历史意义", "当代青年如何践行五四精神"


@pytest.fixture
def replaced(client, setup, session):
    """A first version titled OLD, typed as such."""
    competition, _, _ = setup
    post(client, f"/unit/competitions/{competition.id}/submit",
         form(competition, docx_bytes(["五四精神的正文。"], title=OLD), title=OLD))
    submission = session.execute(select(Submission)).scalar_one()
    assert submission.title == OLD and submission.title_question is None
    return competition, submission


def test_the_replace_form_starts_with_no_title(client, replaced):
    competition, submission = replaced
    page = client.get(f"/unit/submissions/{submission.id}/replace").get_data(as_text=True)
    assert 'name="title" type="text" value=""' in page or 'name="title" value=""' in page
    assert OLD not in page.split('name="title"')[1].split(">")[0]
    assert "张三、李四" in page  # authors and phone are kept


def test_a_replacement_with_no_typed_title_takes_the_new_files_title(client, replaced, session):
    competition, submission = replaced
    response = post(client, f"/unit/submissions/{submission.id}/replace",
                    form(competition, docx_bytes(["新的正文。"], title=NEW), title=""))
    assert response.status_code == 302
    session.refresh(submission)
    assert submission.title == NEW and submission.title_question is None


def test_a_typed_title_that_differs_from_the_files_is_asked_and_answered_after_the_deadline(
        client, auth, replaced, session, clock):
    from essays.platform.models import AuditLog

    competition, submission = replaced
    response = post(client, f"/unit/submissions/{submission.id}/replace",
                    form(competition, docx_bytes(["新的正文。"], title=NEW), title=OLD))
    assert response.status_code == 302
    session.refresh(submission)
    assert submission.title == OLD and len(submission.versions) == 2
    assert submission.title_question == {"typed": OLD, "detected": NEW, "asked": True, "version": 2}
    receipt = client.get(response.location).get_data(as_text=True)
    assert "您填写的题目与文中的标题不一致，请在回执中确认以哪个为准。" in receipt
    assert f"您填写的：《{OLD}》" in receipt and f"文中的标题：《{NEW}》" in receipt
    clock.set(DEADLINE + timedelta(days=1))  # received before the deadline: answered whenever
    auth.login("yizhongdui")  # days later: the session from before has ended
    answered = client.post(f"/unit/submissions/{submission.id}/title", data={"choice": "detected"})
    assert answered.status_code == 302
    session.refresh(submission)
    assert submission.title == NEW and submission.title_question is None
    assert submission.current.uploaded_at < DEADLINE
    entry = session.execute(select(AuditLog).where(AuditLog.action == "submission.title")).scalar_one()
    assert entry.before["title"] == OLD and entry.after == {"title": NEW, "choice": "detected", "version": 2}
    again = client.post(f"/unit/submissions/{submission.id}/title", data={"choice": "typed"})
    assert again.status_code == 400 and "FORM_INVALID" in again.get_data(as_text=True)
    session.refresh(submission)
    assert submission.title == NEW


def test_a_new_title_typed_in_the_details_settles_the_question(client, replaced, session):
    competition, submission = replaced
    post(client, f"/unit/submissions/{submission.id}/replace",
         form(competition, docx_bytes(["新的正文。"], title=NEW), title=OLD))
    details = {"theme_id": competition.themes[0].id, "authors": "张三", "contact_phone": "13800001111"}
    client.post(f"/unit/submissions/{submission.id}/details", data={**details, "title": OLD})
    session.refresh(submission)
    assert submission.title_question is not None  # the same title sent back: still open
    client.post(f"/unit/submissions/{submission.id}/details", data={**details, "title": "《五四精神代代传》"})
    session.refresh(submission)
    assert submission.title == "五四精神代代传" and submission.title_question is None


def test_titles_are_stored_without_their_enclosing_marks(client, setup, session):
    competition, _, _ = setup
    post(client, f"/unit/competitions/{competition.id}/submit",
         form(competition, docx_bytes(["正文。"], title="《平凡的世界》读后感"), title="《《平凡的世界》读后感》"))
    submission = session.execute(select(Submission)).scalar_one()
    assert submission.title == "《平凡的世界》读后感" and submission.title_question is None


def test_units_see_the_quota_range_and_their_count(client, auth, make):
    competition = make.competition(phase="open", min_per_unit=1, max_per_unit=2)
    unit = make.unit("第二中队")
    user = make.user("unit", unit=unit, username="erzhongdui")
    make.submission(competition, unit, user)
    make.submission(competition, unit, user, paragraphs=["第二篇的正文。"])
    auth.login("erzhongdui")
    page = client.get("/unit/").get_data(as_text=True)
    assert "每单位 1–2 篇，3000字以内，.docx 格式" in page and "（本单位已交 2 篇）" in page
    assert "每单位 1 篇" not in page


def test_units_read_the_whole_notice(client, auth, make):
    notice = "关于开展解放思想大讨论征文活动的通知\n\n各中队、科室：\n请于5月20日前报送。"
    competition = make.competition(phase="open", notice_text=notice)
    make.user("unit", unit=make.unit("第三中队"), username="sanzhongdui")
    auth.login("sanzhongdui")
    page = client.get("/unit/").get_data(as_text=True)
    assert f'id="notice-{competition.id}" open' in page and "活动通知（全文）" in page
    assert notice in page.replace("&#34;", '"')


# --- a disqualified unit is told, after publication, in words written for it ---------------


def test_a_unit_disqualified_for_copying_is_told_after_publication(client, auth, make, session):
    from essays.similarity.decisions import decide

    competition = make.competition(phase="open")
    unit = make.unit("第四中队")
    make.user("unit", unit=unit, username="sizhongdui")
    copied = make.submission(competition, unit)
    decide(session, make.admin(), copied.current, "disqualified", "与第一中队《解放思想》大段相同", DEADLINE,
           unit_reason="文中大段内容与他人作品相同，且未注明出处。")
    auth.login("sizhongdui")
    competition.phase = "review"
    session.flush()
    assert "取消资格" not in client.get("/unit/").get_data(as_text=True)  # not before the 公示
    competition.phase = "published"
    session.flush()
    page = client.get("/unit/").get_data(as_text=True)
    assert f'id="notice-submission-{copied.id}"' in page and "文中大段内容与他人作品相同，且未注明出处。" in page
    assert "第一中队" not in page  # the admin's own reason names the other essay: never shown


def test_without_a_text_for_the_unit_it_reads_one_that_names_nobody(client, auth, make, session):
    from essays.similarity.decisions import decide

    competition = make.competition(phase="open")
    unit = make.unit("第五中队")
    make.user("unit", unit=unit, username="wuzhongdui")
    copied = make.submission(competition, unit)
    decide(session, make.admin(), copied.current, "disqualified", "抄袭第一中队", DEADLINE)
    competition.phase = "closed"
    session.flush()
    auth.login("wuzhongdui")
    page = client.get("/unit/").get_data(as_text=True)
    assert "经政工科审核，本文被取消评选资格。如有疑问，请联系政工科。" in page and "第一中队" not in page


def test_a_unit_whose_essay_left_the_review_is_told_after_publication(client, auth, make, session):
    from review import prepare

    competition = make.competition(phase="open")
    unit = make.unit("第六中队")
    make.user("unit", unit=unit, username="liuzhongdui")
    essay = make.submission(competition, unit)
    competition.phase = "intake_closed"
    session.flush()
    admin = make.admin()
    code = prepare.make_codes(session, admin, competition, DEADLINE)[0]
    prepare.exclude(session, admin, code, "评委一致认为政治方向有误（第一中队举报）", DEADLINE,
                    unit_reason="经复议，本文未通过否决项审核。")
    auth.login("liuzhongdui")
    assert "取消资格" not in client.get("/unit/").get_data(as_text=True)
    competition.phase = "published"
    session.flush()
    page = client.get("/unit/").get_data(as_text=True)
    assert f'id="notice-submission-{essay.id}"' in page and "经复议，本文未通过否决项审核。" in page
    assert "第一中队" not in page


def test_after_the_deadline_the_forms_say_why_they_are_closed(client, auth, setup, make, session, clock):
    competition, unit, user = setup
    submission = make.submission(competition, unit, user)
    clock.set(DEADLINE + timedelta(hours=1))
    auth.login("yizhongdui")  # another day: the earlier session has ended
    for url in (f"/unit/competitions/{competition.id}/submit", f"/unit/submissions/{submission.id}/replace"):
        page = client.get(url).get_data(as_text=True)
        assert "现在不能提交或替换论文。" in page and "已过截止时间（2027年5月20日 24:00）" in page
        assert "请尽快联系政工科说明原因、申请延期" in page and 'name="file"' not in page
    competition.phase = "intake_closed"
    session.flush()
    page = client.get(f"/unit/submissions/{submission.id}/replace").get_data(as_text=True)
    assert "本活动当前不在收稿阶段" in page and 'name="file"' not in page


def test_a_file_with_no_title_is_received_and_the_unit_asked_to_type_one(client, auth, setup, session, clock):
    competition, _, _ = setup
    response = post(client, f"/unit/competitions/{competition.id}/submit",
                    form(competition, docx_bytes(["第一段没有标题的正文，以句号结尾。", "第二段。"], title=None),
                         filename="word_essay_01.docx", title=""))
    assert response.status_code == 302
    submission = session.execute(select(Submission)).scalar_one()
    assert submission.title == "word_essay_01" and submission.title_question["missing"] is True
    receipt = client.get(response.location).get_data(as_text=True)
    assert "文中没有识别出标题，请在回执中填写文章题目。" in receipt
    assert "文中没有识别出标题，暂以文件名“word_essay_01”代替。" in receipt
    clock.set(DEADLINE + timedelta(days=2))  # answered after the deadline: it was received in time
    auth.login("yizhongdui")
    url = f"/unit/submissions/{submission.id}/title"
    empty = client.post(url, data={"choice": "own", "title": "  "})
    assert empty.status_code == 400
    assert "请填写文章题目（文中没有识别出标题）。（错误代码 TITLE_REQUIRED）" in empty.get_data(as_text=True)
    typed = client.post(url, data={"choice": "own", "title": "《论城市精细化管理》"})
    assert typed.status_code == 302
    session.refresh(submission)
    assert submission.title == "论城市精细化管理" and submission.title_question is None
