"""The reference library (比对文献) and the common quotations (常用引语): uploads of .docx,
.txt (UTF-8, GBK, UTF-16) and .zip, each bad file refused with its reason, duplicates
skipped, large uploads through a job; deactivation; quotations added and removed.
Everything audited; a refused upload stores nothing."""

from __future__ import annotations

import codecs
import io
import re
from html import unescape

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from essays.jobs.models import Job
from essays.platform.db import utcnow
from essays.platform.errors import Refusal
from essays.platform.models import AuditLog
from essays.similarity import references
from essays.similarity.models import BaseQuotation, ReferenceText, SimilarityPrint, SimilarityReport
from tests.docx_samples import ole_file
from tests.factories import docx_bytes
from tests.test_admin_similarity import COPIED, NOTICE, flash_error, page_text
from tests.test_batch import make_zip

# A 范文 as offices keep it: a GBK .txt with its title on the first line.
FANWEN_TITLE = "关于城市管理执法体制改革的几点思考"
FANWEN = ("当前，城市管理执法体制改革已进入攻坚阶段。一些地方存在多头执法、职责交叉、权责脱节等问题，"
          "基层执法力量不足与执法任务繁重的矛盾日益突出。推进改革，必须坚持重心下移、力量下沉，"
          "把执法权限和资源配置到街道和社区，建立“街道吹哨、部门报到”的工作机制，"
          "让问题发现在基层、解决在基层，切实提高城市治理的精细化水平。")
OTHER = ("市容环境卫生责任区制度是城市管理的一项基础性制度。沿街单位和个体工商户应当履行门前责任，"
         "保持责任区内市容整洁、环境卫生、秩序良好，城管部门要加强检查指导，对履责不到位的依法处理。")


def upload(client, name: str, data: bytes):
    return client.post("/admin/references", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def count(session, model) -> int:
    return session.execute(select(func.count()).select_from(model)).scalar_one()


def actions(session, action: str) -> list[AuditLog]:
    return list(session.execute(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.seq)).scalars())


@pytest.fixture
def admin(make, auth):
    user = make.user("admin", username="boss", display_name="政工科")
    assert auth.login("boss").status_code == 302
    return user


# --- reading files (pure) -------------------------------------------------------------------


def test_decode_text_encodings():
    text = f"{FANWEN_TITLE}\r\n{FANWEN}"
    expected = f"{FANWEN_TITLE}\n{FANWEN}"
    assert references.decode_text(text.encode("gbk")) == expected
    assert references.decode_text(text.encode("gb18030")) == expected
    assert references.decode_text(codecs.BOM_UTF8 + text.encode("utf-8")) == expected
    assert references.decode_text(text.encode("utf-16")) == expected  # Notepad's "Unicode"
    assert references.read_reference("范文.txt", text.encode("gbk"))[0] == FANWEN_TITLE
    # No short first line: the file name is the title.
    assert references.read_reference("某网站范文.txt", FANWEN.encode())[0] == "某网站范文"


# --- single files ---------------------------------------------------------------------------


def test_upload_a_docx(client, admin, session):
    data = docx_bytes([FANWEN], title="城管执法体制改革研究")
    response = upload(client, "2019年获奖论文.docx", data)
    assert response.status_code == 302 and response.location.endswith("/admin/references")
    reference = session.execute(select(ReferenceText)).scalar_one()
    assert reference.title == "城管执法体制改革研究" and reference.collection == "2019年获奖论文.docx"
    assert reference.file_bytes == data and reference.active and FANWEN in reference.text
    assert len(reference.sha256) == 64 and reference.char_count > 100
    print_ = session.execute(select(SimilarityPrint).where(SimilarityPrint.reference_id == reference.id)).scalar_one()
    assert print_.scope == 0 and print_.active
    page = client.get(response.location)
    text = page_text(page)
    assert f"已导入比对文献“城管执法体制改革研究”（{reference.char_count} 字）。" in text
    assert "城管执法体制改革研究" in text and "在用" in text
    entry = actions(session, "reference.load")[-1]
    assert entry.after["loaded"] == 1 and entry.after["reference_ids"] == [reference.id]


def test_upload_a_gbk_txt(client, admin, session):
    response = upload(client, "范文.txt", f"{FANWEN_TITLE}\r\n{FANWEN}".encode("gbk"))
    assert response.status_code == 302
    reference = session.execute(select(ReferenceText)).scalar_one()
    assert reference.title == FANWEN_TITLE and FANWEN in reference.text


BAD_FILES = [
    ("空白.txt", b"", "上传的文件是空的（0 字节），请检查后重新上传。（错误代码 UPLOAD_EMPTY）"),
    ("只有空格.txt", "  \r\n\u3000 \n".encode(),
     "文件中没有读到正文文字。请确认正文不是图片或扫描件。（错误代码 UPLOAD_NO_TEXT）"),
    ("乱码.txt", bytes(range(256)) * 8,
     "这个 .txt 文件不是纯文本（可能是其他格式的文件改了扩展名），无法读取。请另存为 UTF-8 或 GBK 编码的 .txt，"
     "或另存为 .docx 后再上传。（错误代码 REFERENCE_NOT_TEXT）"),
    ("旧版.doc", ole_file("WordDocument"),
     "这是旧版 .doc 文件（或加了密码的文件）。请在 Word 或 WPS 中“另存为” .docx，并去掉打开密码后再上传。"
     "（错误代码 UPLOAD_OLD_DOC）"),
    ("加密.docx", ole_file("EncryptionInfo", "EncryptedPackage"),
     "文件设置了打开密码（已加密），系统无法读取。请在 Word 或 WPS 中取消密码"
     "（文件 → 信息 → 保护文档 → 用密码进行加密，"
     "清空密码）后另存再上传。（错误代码 UPLOAD_ENCRYPTED）"),
    ("损坏.docx", b"PK\x03\x04" + b"\x00" * 200,
     "文件已损坏或不是有效的 .docx，无法读取。请在 Word 或 WPS 中打开确认后重新保存再上传。（错误代码 UPLOAD_BROKEN）"),
    ("表格.xlsx", b"PK\x03\x04whatever",
     "比对文献只接受 .docx 和 .txt 文件，或装有它们的 .zip 压缩包。（错误代码 REFERENCE_FILE_TYPE）"),
    ("假压缩包.zip", b"this is not a zip",
     "这不是有效的 .zip 压缩包。请把 .docx 或 .txt 文件压缩成一个 .zip 文件后上传。（错误代码 REFERENCE_NOT_ZIP）"),
]


@pytest.mark.parametrize("name, data, message", BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_bad_single_files_are_refused(client, admin, session, name, data, message):
    before = count(session, AuditLog)
    response = upload(client, name, data)
    assert response.status_code == 400
    assert flash_error(response) == message
    assert count(session, ReferenceText) == 0 and count(session, SimilarityPrint) == 0
    assert count(session, references.ReferenceUpload) == 0 and count(session, Job) == 0
    assert count(session, AuditLog) == before


def test_no_file_chosen(client, admin, session):
    response = client.post("/admin/references", data={}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert flash_error(response) == ("请选择要上传的比对文献（.docx 或 .txt 文件，或装有它们的 .zip 压缩包）。"
                                     "（错误代码 REFERENCE_MISSING）")


def test_duplicate_single_file_is_skipped(client, admin, session):
    data = f"{FANWEN_TITLE}\n{FANWEN}".encode()
    assert upload(client, "范文.txt", data).status_code == 302
    response = upload(client, "范文（另存）.txt", data)
    assert response.status_code == 302
    assert "范文（另存）.txt：与已有的比对文献“关于城市管理执法体制改革的几点思考”完全相同，未重复导入。" in page_text(
        client.get(response.location))
    assert count(session, ReferenceText) == 1


# --- zips: a job, file by file --------------------------------------------------------------


def test_zip_with_folders_and_mixed_members(client, admin, session):
    assert upload(client, "已有.txt", OTHER.encode()).status_code == 302  # already in the library
    good = docx_bytes([FANWEN], title="城管执法体制改革研究")
    members = {
        "往年获奖论文/2019/城管执法体制改革研究.docx": good,
        "往年获奖论文/2019/同一篇的副本.docx": good,  # the same file twice in the zip
        "往年获奖论文/网站范文/门前责任.txt": OTHER.encode("gbk"),  # already loaded (same bytes? no: GBK)
        "往年获奖论文/网站范文/责任区制度.txt": OTHER.encode(),  # the very bytes loaded before
        "往年获奖论文/网站范文/执法体制改革.txt": f"{FANWEN_TITLE}\r\n{FANWEN}".encode("gbk"),
        "往年获奖论文/旧文件.doc": ole_file("WordDocument"),
        "往年获奖论文/坏了.docx": b"PK\x03\x04 broken",
        "往年获奖论文/空白.txt": b"",
        "往年获奖论文/照片.jpg": b"\xff\xd8\xff\xe0 jpeg",
        "往年获奖论文/Thumbs.db": b"junk",
        "__MACOSX/往年获奖论文/._城管执法体制改革研究.docx": b"mac",
    }
    response = upload(client, "往年获奖论文.zip", make_zip(members, gbk=True))
    assert response.status_code == 302
    job = session.execute(select(Job).where(Job.kind == "references.load")).scalar_one()
    assert response.location.endswith(f"/admin/jobs/{job.id}") and job.status == "done"
    assert job.result["files"] == 11
    assert {k: job.result[k] for k in ("loaded", "duplicate", "refused", "skipped")} == \
        {"loaded": 3, "duplicate": 2, "refused": 4, "skipped": 2}
    by_file = {o["file"]: o for o in job.result["outcomes"]}
    assert by_file["往年获奖论文/2019/城管执法体制改革研究.docx"]["status"] == "loaded"
    assert by_file["往年获奖论文/2019/同一篇的副本.docx"]["message"] == \
        "与本次上传中的“城管执法体制改革研究.docx”完全相同，未重复导入"
    assert by_file["往年获奖论文/网站范文/责任区制度.txt"]["message"].startswith("与已有的比对文献")
    assert by_file["往年获奖论文/网站范文/执法体制改革.txt"]["title"] == FANWEN_TITLE
    assert [by_file[f"往年获奖论文/{n}"]["code"] for n in ("旧文件.doc", "坏了.docx", "空白.txt", "照片.jpg")] == \
        ["UPLOAD_OLD_DOC", "UPLOAD_BROKEN", "UPLOAD_EMPTY", "REFERENCE_FILE_TYPE"]
    stored = session.execute(select(ReferenceText).where(ReferenceText.collection == "往年获奖论文.zip")
                             ).scalars().all()
    assert len(stored) == 3 and all(r.active for r in stored)
    assert session.execute(select(references.ReferenceUpload)).scalar_one().data == b""  # emptied once loaded
    page = client.get(response.location)
    text = page_text(page)
    assert "“往年获奖论文.zip”共 11 个文件：已导入 3 个，重复 2 个，拒收 4 个，跳过 2 个。" in text
    assert "往年获奖论文/旧文件.doc" in text and "错误代码 UPLOAD_OLD_DOC" in text
    assert actions(session, "reference.load")[-1].after["loaded"] == 3


def test_a_large_single_file_goes_through_the_job(client, admin, session, monkeypatch):
    monkeypatch.setattr(references, "INLINE_MAX_BYTES", 100)
    response = upload(client, "范文.txt", f"{FANWEN_TITLE}\n{FANWEN}".encode())
    assert response.status_code == 302 and "/admin/jobs/" in response.location
    assert session.execute(select(ReferenceText)).scalar_one().collection == "范文.txt"


# --- references in checks; deactivation -----------------------------------------------------


def test_references_are_sources_until_deactivated(client, admin, session, make):
    assert upload(client, "范文.txt", f"{FANWEN_TITLE}\n{COPIED}".encode()).status_code == 302
    reference = session.execute(select(ReferenceText)).scalar_one()
    competition = make.competition(notice_text=NOTICE)
    sub = make.submission(competition, make.unit("城管执法甲中队"),
                          data=docx_bytes([COPIED], title="以解放思想推动城管执法方式转变"))
    report = session.get(SimilarityReport, sub.current.id)
    assert report.sources[0]["kind"] == "reference" and report.sources[0]["id"] == reference.id
    assert report.total_ratio > 0.8
    page = page_text(client.get(f"/admin/similarity/versions/{sub.current.id}"))
    assert f"《{FANWEN_TITLE}》 （比对文献）" in page
    compare = client.get(f"/admin/similarity/versions/{sub.current.id}/sources/reference/{reference.id}")
    assert compare.status_code == 200
    assert re.search(r'<a class="copied c\d" href="#b-1" data-passage="1" id="a-1"', compare.get_data(as_text=True))

    response = client.post(f"/admin/references/{reference.id}/deactivate")
    assert response.status_code == 302
    session.refresh(reference)
    assert not reference.active
    assert not session.execute(select(SimilarityPrint.active).where(SimilarityPrint.reference_id == reference.id)
                               ).scalar_one()
    entry = actions(session, "reference.deactivate")[-1]
    assert entry.object_id == str(reference.id) and entry.after["active"] is False
    assert client.post(f"/admin/references/{reference.id}/deactivate").status_code == 302  # twice: nothing more
    assert len(actions(session, "reference.deactivate")) == 1
    assert "已停用" in page_text(client.get("/admin/references"))
    # A later check no longer finds it.
    from essays.similarity.service import check_version
    report = check_version(session, sub.current, sub.current.uploaded_at)
    assert report.sources == [] and report.total_ratio == 0


def test_library_is_paginated_and_searchable(client, admin, session):
    files = [references.BatchFile(f"范文{n:02d}.txt", data=f"第{n}篇范文\n{OTHER}{n}".encode()) for n in range(60)]
    references.load_files(session, admin, "范文合集.zip", files, utcnow())
    first = client.get("/admin/references").get_data(as_text=True)
    assert first.count('<tr id="reference-') == 50 and "第 1 页，共 2 页" in unescape(first)
    second = client.get("/admin/references?page=2").get_data(as_text=True)
    assert second.count('<tr id="reference-') == 10 and "上一页" in second
    found = client.get("/admin/references?q=第7篇").get_data(as_text=True)
    assert found.count('<tr id="reference-') == 1
    assert client.get("/admin/references?page=99").status_code == 200


# --- common quotations ----------------------------------------------------------------------


def test_quotations_added_and_removed(client, admin, session):
    response = client.post("/admin/quotations",
                           data={"text": "以人民为中心的发展思想\n\n不忘初心、牢记使命\n以人民为中心的发展思想"})
    assert response.status_code == 302
    texts = session.execute(select(BaseQuotation.text).order_by(BaseQuotation.id)).scalars().all()
    assert texts == ["以人民为中心的发展思想", "不忘初心、牢记使命"]
    assert "已加入 2 条常用引语" in page_text(client.get(response.location))
    response = client.post("/admin/quotations", data={"text": "不忘初心、牢记使命\n全心全意为人民服务"})
    page = page_text(client.get(response.location))
    assert "已加入 1 条常用引语" in page and "1 条已在常用引语中，未重复加入。" in page
    entries = actions(session, "quotation.add")
    assert [e.after["texts"] for e in entries] == [texts, ["全心全意为人民服务"]]
    quotation = session.execute(select(BaseQuotation).where(BaseQuotation.text == "不忘初心、牢记使命")).scalar_one()
    assert client.post(f"/admin/quotations/{quotation.id}/remove").status_code == 302
    assert count(session, BaseQuotation) == 2
    assert actions(session, "quotation.remove")[-1].before == {"text": "不忘初心、牢记使命"}


@pytest.mark.parametrize("text, message", [
    ("  \n ", "请填写常用引语，每行一条。（错误代码 QUOTATION_REQUIRED）"),
    ("不忘初心、牢记使命\n改革", "常用引语“改革”长度不合适：每条须为 4 至 500 个字（过短的词语会把正常行文当作引语）。"
                           "未保存任何引语。（错误代码 QUOTATION_LENGTH）"),
    ("城" * 501, "常用引语“" + "城" * 20 + "…”长度不合适：每条须为 4 至 500 个字（过短的词语会把正常行文当作引语）。"
                 "未保存任何引语。（错误代码 QUOTATION_LENGTH）"),
])
def test_bad_quotations_are_refused(client, admin, session, text, message):
    before = count(session, AuditLog)
    response = client.post("/admin/quotations", data={"text": text})
    assert response.status_code == 400
    assert flash_error(response) == message
    assert count(session, BaseQuotation) == 0 and count(session, AuditLog) == before


# --- the vectorised test for binary text ------------------------------------------------------


def _looks_binary_by_loop(text: str) -> bool:
    """The per-character loop the regex replaced (5.7 s of a 20,000-file run), kept as the reference."""
    import unicodedata

    controls = sum(1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in "\t\n\r\f\v")
    return "\x00" in text or controls > max(2, len(text) // 200)


def test_the_control_characters_are_unicodes_cc_less_whitespace():
    import unicodedata

    from essays.similarity.reference_files import _CONTROLS

    every = "".join(chr(cp) for cp in range(0x110000) if not 0xD800 <= cp <= 0xDFFF)
    expected = {ch for ch in every if unicodedata.category(ch) == "Cc" and ch not in "\t\n\r\f\v"}
    assert set(_CONTROLS.findall(every)) == expected


@pytest.mark.parametrize("text", [
    "", "a", "\x00", "正文\x00", "\x01\x02", "\x01\x02\x03", "\t\n\r\f\v" * 100, "\x85\x85\x85",
    "字" * 599 + "\x01\x02\x03", "字" * 600 + "\x01\x02\x03", "字" * 800 + "\x01" * 4, "字" * 800 + "\x01" * 5,
    "\x7f" + "字" * 10 + "\x9f\x1b", "\x1f\x0e\x08" + "字" * 2000, "\ufeff正文\u2028\u200b",
])
def test_the_binary_test_answers_as_the_loop_did(text):
    from essays.similarity.reference_files import _looks_binary

    assert _looks_binary(text) is _looks_binary_by_loop(text)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("字a \n\t\x00\x01\x0b\x1f\x7f\x80\x9f\xa0"), max_size=1200))
def test_the_binary_test_agrees_with_the_loop_on_any_text(text):
    from essays.similarity.reference_files import _looks_binary

    assert _looks_binary(text) is _looks_binary_by_loop(text)


def test_reference_text_reads_what_read_reference_reads():
    from essays.similarity.reference_files import reference_text

    for name, data in [("范文.txt", f"{FANWEN_TITLE}\r\n{FANWEN}".encode("gbk")), ("u.txt", FANWEN.encode("utf-16")),
                       ("论文.docx", docx_bytes([FANWEN], title="城管执法体制改革研究"))]:
        assert reference_text(name, data) == references.read_reference(name, data)[1]
    for name, data in [("坏.txt", b"\x00\x01binary"), ("空.txt", b""), ("表.xlsx", b"PK\x03\x04")]:
        with pytest.raises(Refusal) as caught:
            reference_text(name, data)
        with pytest.raises(Refusal) as again:
            references.read_reference(name, data)
        assert caught.value.code == again.value.code
