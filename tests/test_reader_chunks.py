"""Reading what Word shows: altChunk parts (an embedded .docx, HTML, MHT, text) are body text,
counted; nesting deeper than 3 is refused; an encrypted file with upper-case OLE stream names
is UPLOAD_ENCRYPTED; a file holding only placeholder prompts, or only text boxes its settings
leave out of the count, is told so; stored versions are read again by the minute upkeep
(essays.intake.reread)."""

from __future__ import annotations

import base64
import quopri

import pytest
from sqlalchemy import select

from essays.intake.docx import chunks
from essays.intake.docx.reader import READER_VERSION, read_docx
from essays.intake.inspection import IntakeRules, inspect_file
from essays.intake.reread import reread_versions
from essays.platform.errors import Refusal
from essays.platform.models import AuditLog
from essays.similarity.models import SimilarityPrint, SimilarityReport
from tests.docx_samples import PLACEHOLDER, docx, ole_file, p, r, settings_xml, textbox, with_relationships

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
CHUNK = "<w:altChunk r:id=\"rIdChunk\"/>"
ESSAY = "城管工作要坚持以人民为中心的发展思想，把群众满意作为出发点和落脚点。"


def with_chunk(body: str, name: str, data: bytes | str, content_type: str | None, depth_id: str = "rIdChunk") -> bytes:
    """A .docx whose body is `body` (holding a w:altChunk r:id="rIdChunk") and its chunk part."""
    extension = name.rsplit(".", 1)[1]
    return with_relationships(docx(body), [(depth_id, "aFChunk", name.split("/", 1)[1], None)],
                              files={name: data}, defaults={extension: content_type} if content_type else {})


def nested(depth: int, text: str = "最深处的正文。") -> bytes:
    """A .docx holding a .docx holding ... `depth` levels of embedded documents."""
    data = docx(p(text))
    for level in range(depth):
        data = with_chunk(p(f"第 {depth - level} 层之前的文字。") + CHUNK, "word/afchunk.docx", data, DOCX_TYPE)
    return data


def texts(data: bytes) -> list[str]:
    return [paragraph.text for paragraph in read_docx(data).body]


def test_an_embedded_docx_is_read_where_it_stands_and_counted():
    inner = docx(p("嵌入文档的第一段。") + p(r("嵌入文档的第二段", inner='<w:footnoteReference w:id="1"/>')),
                 footnotes='<w:footnotes xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
                           '<w:footnote w:id="1"><w:p><w:r><w:t>嵌入文档的脚注</w:t></w:r></w:p></w:footnote>'
                           '</w:footnotes>')
    data = with_chunk(p("前言。") + CHUNK + p("结语。"), "word/afchunk.docx", inner, DOCX_TYPE)
    content = read_docx(data)
    assert [x.text for x in content.body] == ["前言。", "嵌入文档的第一段。", "嵌入文档的第二段", "结语。"]
    assert [x.text for x in content.notes] == ["嵌入文档的脚注"]
    inspection = inspect_file(data, IntakeRules())
    assert inspection.counts.words == len("前言。嵌入文档的第一段。嵌入文档的第二段结语。嵌入文档的脚注")
    assert "嵌入文档的第一段。" in inspection.content.text


def test_an_html_chunk_is_text_without_scripts_styles_or_hidden_parts():
    page = ("<!DOCTYPE html><html><head><meta charset=\"gbk\"><title>标题栏</title><script>alert('x')</script>"
            "<style>p {color: red}</style></head><body><h1 align=\"center\">征文题目</h1><p>第一段  正文，\n换行"
            "只是空白。</p><img src=\"http://203.0.113.9/a.png\"><div style=\"display: none\">隐藏的单位名称</div>"
            "<p hidden>也隐藏</p><table><tr><td>单元格一</td><td>单元格二</td></tr></table><p>第二<br>行</p>"
            "<iframe src=\"http://203.0.113.9/\">框架</iframe><noscript>无脚本</noscript></body></html>")
    data = with_chunk(p("前言。") + CHUNK, "word/afchunk.htm", page.encode("gbk"), "text/html")
    content = read_docx(data)
    assert [x.text for x in content.body] == ["前言。", "征文题目", "第一段 正文， 换行只是空白。", "单元格一",
                                             "单元格二", "第二\n行"]
    assert content.title == "征文题目"  # h1, centred
    assert inspect_file(data, IntakeRules()).counts.words > 20


def test_an_mht_chunk_is_read_from_its_html_part_as_its_headers_say():
    html = "<html><body><p>来自 MHT 的正文。</p><p>第二段。</p></body></html>".encode("gb18030")
    mht = (b"MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary=\"B\"\r\n\r\n--B\r\n"
           b"Content-Type: text/html; charset=\"gb2312\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
           + quopri.encodestring(html) + b"\r\n--B\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n"
           b"Content-Location: http://203.0.113.9/a.png\r\n\r\n" + base64.b64encode(b"\x89PNG") + b"\r\n--B--\r\n")
    data = with_chunk(CHUNK, "word/afchunk.mht", mht, "message/rfc822")
    assert texts(data) == ["来自 MHT 的正文。", "第二段。"]


def test_a_text_chunk_is_one_paragraph_a_line_and_an_rtf_chunk_is_not_read():
    data = with_chunk(CHUNK, "word/afchunk.txt", "第一行\r\n\r\n第二行".encode("utf-8-sig"), "text/plain")
    assert texts(data) == ["第一行", "第二行"]
    rtf = with_chunk(p("正文。") + CHUNK, "word/afchunk.rtf", rb"{\rtf1 hello}", "application/rtf")
    assert texts(rtf) == ["正文。"]


def test_a_document_whose_only_text_is_in_a_chunk_is_accepted():
    data = with_chunk(CHUNK, "word/afchunk.docx", docx(p(ESSAY)), DOCX_TYPE)
    assert inspect_file(data, IntakeRules()).content.text == ESSAY


def test_nesting_three_deep_is_read_four_deep_is_refused():
    assert texts(nested(3))[-1] == "最深处的正文。"
    with pytest.raises(Refusal) as refused:
        read_docx(nested(4))
    assert refused.value.code == "UPLOAD_NESTING"
    assert "超过了 3 层" in refused.value.message


def test_an_embedded_docx_passes_the_same_checks():
    bomb = with_chunk(CHUNK, "word/afchunk.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, DOCX_TYPE)
    with pytest.raises(Refusal) as refused:
        read_docx(bomb)
    assert refused.value.code == "UPLOAD_OLD_DOC"
    macro = docx(p("x"), main_type="application/vnd.ms-word.document.macroEnabled.main+xml")
    with pytest.raises(Refusal) as refused:
        read_docx(with_chunk(CHUNK, "word/afchunk.docx", macro, DOCX_TYPE))
    assert refused.value.code == "UPLOAD_MACRO"


def test_an_html_chunk_never_fetches_anything(monkeypatch):
    import socket

    def refuse(*args, **kwargs):
        raise AssertionError("the reader opened a connection")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    page = ('<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0//EN" "http://203.0.113.9/x.dtd"><html><body>'
            '<p>正文</p><img src="http://203.0.113.9/x.png"><link rel="stylesheet" href="http://203.0.113.9/s.css">'
            "</body></html>")
    assert chunks.html_paragraphs(page.encode()) == chunks.html_paragraphs(page.encode())
    assert [x.text for x in chunks.html_paragraphs(page.encode())] == ["正文"]


@pytest.mark.parametrize("names", [("\x06DataSpaces", "ENCRYPTIONINFO", "ENCRYPTEDPACKAGE"),
                                   ("encryptioninfo", "EncryptedPackage"), ("ENCRYPTEDPACKAGE",)])
def test_an_encrypted_file_is_encrypted_whatever_the_case_of_its_stream_names(names):
    with pytest.raises(Refusal) as refused:
        read_docx(ole_file(*names))
    assert refused.value.code == "UPLOAD_ENCRYPTED"


def test_a_damaged_encrypted_file_with_upper_case_names_is_still_encrypted():
    damaged = bytearray(ole_file("ENCRYPTEDPACKAGE"))
    damaged[0x1E:0x20] = b"\x07\x00"  # a sector size no file has: the directory cannot be read
    with pytest.raises(Refusal) as refused:
        read_docx(bytes(damaged))
    assert refused.value.code == "UPLOAD_ENCRYPTED"


def test_a_file_holding_only_placeholder_prompts_is_told_so():
    with pytest.raises(Refusal) as refused:
        inspect_file(docx(PLACEHOLDER + p("")), IntakeRules())
    assert refused.value.code == "UPLOAD_ONLY_PLACEHOLDER"
    assert refused.value.message.startswith("文件中只有模板的提示文字")
    assert "图片或扫描件" not in refused.value.message


def test_a_file_whose_text_is_all_in_uncounted_text_boxes_is_told_so():
    data = docx(p(textbox(p(ESSAY))), settings=settings_xml(no_subdocs=True))
    with pytest.raises(Refusal) as refused:
        inspect_file(data, IntakeRules())
    assert refused.value.code == "UPLOAD_TEXT_UNCOUNTED"
    assert "字数统计不包括这些内容" in refused.value.message
    counted = docx(p(textbox(p(ESSAY))))  # counted by default: accepted
    assert inspect_file(counted, IntakeRules()).counts.words == len(ESSAY)


def test_an_empty_file_is_still_asked_about_pictures():
    with pytest.raises(Refusal) as refused:
        inspect_file(docx(p("")), IntakeRules())
    assert refused.value.code == "UPLOAD_NO_TEXT"


# --- reading stored versions again ----------------------------------------------------------


def test_versions_read_by_the_old_reader_are_read_again(app, session, make, clock):
    competition = make.competition()
    plain = make.submission(competition, data=docx(p(ESSAY)))
    chunked_data = with_chunk(p("前言部分的文字。") + CHUNK, "word/afchunk.docx", docx(p(ESSAY)), DOCX_TYPE)
    chunked = make.submission(competition, data=chunked_data)
    for version in (plain.current, chunked.current):
        assert version.reader == READER_VERSION
    # As the old reader stored them: no chunk text.
    old_text, old_words = "前言部分的文字。", len("前言部分的文字。")
    chunked.current.text, chunked.current.char_count, chunked.current.reader = old_text, old_words, 1
    plain.current.reader = 1
    session.flush()
    assert session.get(SimilarityReport, chunked.current.id) is not None
    changed = reread_versions(session, clock())
    assert changed == [chunked.current.id]
    session.refresh(chunked.current)
    assert chunked.current.text == "前言部分的文字。\n" + ESSAY
    assert chunked.current.char_count == old_words + len(ESSAY) and chunked.current.reader == READER_VERSION
    assert session.get(SimilarityReport, chunked.current.id).stale  # the copy check runs again
    assert session.execute(select(SimilarityPrint).where(SimilarityPrint.version_id == chunked.current.id)).first() \
        is None
    assert plain.current.reader == READER_VERSION and plain.current.text == ESSAY
    entry = session.execute(select(AuditLog).where(AuditLog.action == "version.reread")).scalar_one()
    assert entry.after == {"versions": [plain.current.id, chunked.current.id],
                           "changed": {str(chunked.current.id): {"words_before": old_words,
                                                                 "words": old_words + len(ESSAY)}}}
    assert reread_versions(session, clock()) == []  # nothing left: no entry either
    assert session.execute(select(AuditLog).where(AuditLog.action == "version.reread")).scalar_one()
    from essays.similarity.service import refresh_stale

    assert chunked.current.id in refresh_stale(session, clock())  # (the plain one shares its text: stale too)
    assert session.execute(select(SimilarityPrint).where(SimilarityPrint.version_id == chunked.current.id)).first()


def test_a_chunk_named_many_times_is_read_once_and_thousands_are_refused(monkeypatch):
    calls = []
    real = chunks.html_paragraphs
    monkeypatch.setattr(chunks, "html_paragraphs", lambda *a: calls.append(1) or real(*a))
    page = "<p>重复的段落。</p>".encode()
    data = with_chunk(CHUNK * 3, "word/afchunk.htm", page, "text/html")
    assert texts(data) == ["重复的段落。"] * 3 and len(calls) == 1  # shown three times, as Word shows it
    with pytest.raises(Refusal) as refused:
        read_docx(with_chunk(CHUNK * 201, "word/afchunk.htm", page, "text/html"))
    assert refused.value.code == "UPLOAD_ZIP_BOMB"


def test_a_chunk_declared_too_large_is_refused_before_it_is_inflated():
    from tests.docx_samples import with_declared_sizes

    data = with_chunk(CHUNK, "word/afchunk.htm", b"<p>x</p>", "text/html")
    with pytest.raises(Refusal) as refused:
        read_docx(with_declared_sizes(data, "word/afchunk.htm", chunks.MAX_CHUNK_BYTES + 1))
    assert refused.value.code == "UPLOAD_ZIP_BOMB"


def test_a_code_made_from_a_version_read_again_is_scanned_again_while_intake_is_closed(app, session, make, clock):
    from review import prepare
    from review.models import ReviewCode

    unit = make.unit("城管执法东塘中队", short_name="东塘中队")
    competition = make.competition()
    inner = docx(p("东塘中队在老城区推行“721”工作法。") + p(ESSAY))
    data = with_chunk(p("前言部分的文字。") + CHUNK, "word/afchunk.docx", inner, DOCX_TYPE)
    submission = make.submission(competition, unit, data=data)
    version = submission.current
    version.text, version.reader = "前言部分的文字。", 1  # as the old reader stored it
    competition.phase = "intake_closed"
    session.flush()
    admin = make.admin()
    [code] = prepare.make_codes(session, admin, competition, clock())
    assert code.hits == [] and code.text == "前言部分的文字。"
    assert reread_versions(session, clock()) == [version.id]
    session.refresh(code)
    assert [(h.kind, h.text, h.status) for h in code.hits] == [("own_unit", "东塘中队", "open")]
    assert code.text == version.text and "东塘中队" in code.text
    entry = session.execute(select(AuditLog).where(AuditLog.action == "review.rescan")).scalar_one()
    assert entry.after == {"version_id": version.id, "hits": 1, "reread": True} and entry.actor_id is None
    # Once the review has opened, what judges read stays as they read it.
    other = make.submission(competition, make.unit(), data=data)
    other.current.text, other.current.reader = "前言部分的文字。", 1
    other_code = ReviewCode(competition=competition, submission=other, version=other.current, code="X100",
                            text="前言部分的文字。", created_at=clock())
    session.add(other_code)
    competition.phase = "review"
    session.flush()
    assert reread_versions(session, clock()) == []  # judged as it was read: the difference recorded only
    session.refresh(other_code)
    assert other_code.text == "前言部分的文字。" and other_code.hits == []
    assert other.current.text == "前言部分的文字。" and other.current.reader > 1
    last = session.execute(select(AuditLog).where(AuditLog.action == "version.reread")
                           .order_by(AuditLog.seq.desc())).scalars().first()
    assert last.after["changed"][str(other.current.id)]["kept"] is True


def test_a_file_the_reader_fails_on_does_not_stop_the_others(app, session, make, clock, monkeypatch):
    from essays.intake import reread

    competition = make.competition()
    first, second = make.submission(competition), make.submission(competition)
    for version in (first.current, second.current):
        version.text, version.reader = "旧的读法。", 1
    session.flush()
    real = reread.inspect_file
    calls = []

    def failing_once(data, rules):
        calls.append(1)
        if len(calls) == 1:
            raise ValueError("a reader bug")
        return real(data, rules)

    monkeypatch.setattr(reread, "inspect_file", failing_once)
    assert reread.reread_versions(session, clock()) == [second.current.id]
    assert first.current.reader > 1 and first.current.text == "旧的读法。"  # not tried again every minute


def test_control_characters_in_a_text_chunk_never_reach_the_stored_text():
    """A NUL in a plain-text (or MHT) chunk would make PostgreSQL refuse the version's text:
    text read outside the XML loses the characters XML cannot hold."""
    data = with_chunk(CHUNK, "word/afchunk.txt", "这是\x00第二段\x07的文字。".encode(), "text/plain")
    text = read_docx(data).text
    assert "这是第二段的文字。" in text and not any(ord(ch) < 0x20 and ch not in "\t\n" for ch in text)
