"""Originals that cannot reach out (essays.intake.docx.outside): a file with an attached template
or a picture at an outside address, a linked OLE object, fields that fetch on opening, an
embedded OLE object, an ActiveX control or embedded HTML is accepted with a warning; the bytes
received are stored as they came; every copy that leaves the system (the admin's and the unit's
downloads, the package's 原件) is defused, which is checked by opening the zip; the manifest
(version 2) records both hashes and a version-1 package still imports; essay downloads are
never cached."""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile

import pytest
from sqlalchemy import select

from essays.intake.docx import outside
from essays.intake.docx.reader import read_docx
from essays.intake.docx.safety import open_package
from essays.intake.inspection import IntakeRules, inspect_file
from essays.models import SubmissionVersion
from essays.package import format as package
from essays.package.importing import import_package
from essays.platform.models import AuditLog
from review import forward, package_build
from tests.docx_samples import NAMESPACES, docx, p, r, settings_xml, with_relationships
from tests.factories import PASSWORD
from tests.test_package_import import brigade_package
from tests.test_package_import import bureau as bureau
from tests.test_review_flow import AFTER
from tests.test_review_flow import world as world
from tests.test_review_publicity import frozen as frozen
from tests.test_review_ranking_page import scored as scored

ESSAY = "城管工作要坚持以人民为中心的发展思想，把群众满意作为出发点和落脚点。"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32
PIC = 'xmlns:pic="http://schemas.openxmlformats.org/drawingml/2006/picture"'


def picture(blip: str) -> str:
    return ('<w:r><w:drawing><wp:inline><wp:docPr id="9" name="图片"/><a:graphic><a:graphicData '
            'uri="http://schemas.openxmlformats.org/drawingml/2006/picture">'
            f'<pic:pic {PIC}><pic:blipFill><a:blip {blip}/></pic:blipFill></pic:pic></a:graphicData></a:graphic>'
            "</wp:inline></w:drawing></w:r>")


def ole(kind: str, rel_id: str) -> str:
    return ('<w:r><w:object><v:shape id="_x0000_i1025" style="width:100pt;height:50pt"><v:imagedata r:id="rIdPic"/>'
            f'</v:shape><o:OLEObject Type="{kind}" ProgID="Excel.Sheet.12" ShapeID="_x0000_i1025" r:id="{rel_id}"/>'
            "</w:object></w:r>")


def complex_field(*code: str, result: str) -> str:
    return (r(inner='<w:fldChar w:fldCharType="begin"/>')
            + "".join(f'<w:r><w:instrText xml:space="preserve">{c}</w:instrText></w:r>' for c in code)
            + r(inner='<w:fldChar w:fldCharType="separate"/>') + r(result)
            + r(inner='<w:fldChar w:fldCharType="end"/>'))


PICTURE_PART = ({"word/media/image1.png": PNG}, {"png": "image/png"})
SETTINGS_WITH_TEMPLATE = (f'<w:settings {NAMESPACES}><w:attachedTemplate r:id="rIdT"/>'
                          '<w:defaultTabStop w:val="420"/></w:settings>')
ACTIVEX = ('<ax:ocx xmlns:ax="http://schemas.microsoft.com/office/2006/activeX" '
           'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
           'ax:classid="{8BD21D40-EC42-11CE-9E0D-00AA006002F3}" ax:persistence="persistStreamInit" r:id="rId1"/>')
HTML = "<html><body><p>网页中的一段文字。</p><img src=\"http://203.0.113.9/track.png\"></body></html>"


def risky(kind: str) -> bytes:
    """A file holding one kind of outside reference, its text ESSAY (and the field's result)."""
    body = p(ESSAY)
    if kind == "template":
        data = docx(body, settings=SETTINGS_WITH_TEMPLATE)
        return with_relationships(data, [("rIdT", "attachedTemplate", "http://203.0.113.9/t.dotx", "External")],
                                  source="word/settings.xml")
    if kind == "image":
        data = docx(body + p(picture('r:embed="rIdEmb" r:link="rIdImg"')) + p(picture('r:link="rIdImg"')))
        return with_relationships(data, [("rIdImg", "image", "file://///203.0.113.9/share/a.png", "External"),
                                         ("rIdEmb", "image", "media/image1.png", None)],
                                  files=PICTURE_PART[0], defaults=PICTURE_PART[1])
    if kind == "ole_link":
        data = docx(body + p(ole("Link", "rIdOle")))
        return with_relationships(data, [("rIdOle", "oleObject", "file:///C:/数据/统计.xlsx", "External"),
                                         ("rIdPic", "image", "media/image1.png", None)],
                                  files=PICTURE_PART[0], defaults=PICTURE_PART[1])
    if kind == "field":
        return docx(body + p(complex_field("INCLU", 'DEPICTURE "http://203.0.113.9/x.png" \\d', result="图片结果"))
                    + p(complex_field(' DDEAUTO c:\\\\windows\\\\system32\\\\cmd.exe "/k calc"', result="DDE结果"))
                    + p('<w:fldSimple w:instr=" INCLUDETEXT &quot;\\\\\\\\203.0.113.9\\\\s\\\\a.docx&quot; ">'
                        + r("包含的文字") + "</w:fldSimple>")
                    + p(complex_field(" PAGE ", result="1")))
    if kind == "ole_embed":
        data = docx(body + p(ole("Embed", "rIdEmbed")))
        return with_relationships(data, [("rIdEmbed", "oleObject", "embeddings/oleObject1.bin", None),
                                         ("rIdPic", "image", "media/image1.png", None)],
                                  files={**PICTURE_PART[0], "word/embeddings/oleObject1.bin": b"\xd0\xcf\x11\xe0ole"},
                                  defaults={**PICTURE_PART[1], "bin": "application/vnd.openxmlformats-officedocument."
                                            "oleObject"})
    if kind == "activex":
        data = docx(body + p('<w:r><w:object><v:shape id="_x0000_i1026"><v:imagedata r:id="rIdPic"/></v:shape>'
                             '<w:control r:id="rIdAx" w:name="CheckBox1" w:shapeid="_x0000_i1026"/></w:object></w:r>'))
        data = with_relationships(data, [("rIdAx", "control", "activeX/activeX1.xml", None),
                                         ("rIdPic", "image", "media/image1.png", None)],
                                  files={**PICTURE_PART[0], "word/activeX/activeX1.xml": ACTIVEX,
                                         "word/activeX/activeX1.bin": b"\0" * 16},
                                  defaults={**PICTURE_PART[1], "bin": "application/vnd.ms-office.activeX"},
                                  overrides={"word/activeX/activeX1.xml": "application/vnd.ms-office.activeX+xml"})
        return with_relationships(data, [("rId1", "http://schemas.microsoft.com/office/2006/relationships/"
                                          "activeXControlBinary", "activeX1.bin", None)],
                                  source="word/activeX/activeX1.xml")
    if kind == "html":
        data = docx(body + '<w:altChunk r:id="rIdHtml"/>')
        return with_relationships(data, [("rIdHtml", "aFChunk", "afchunk.htm", None)],
                                  files={"word/afchunk.htm": HTML}, defaults={"htm": "text/html"})
    raise ValueError(kind)


WARNINGS = {
    "template": "附加的模板（http://203.0.113.9/t.dotx）",
    "image": "链接的外部图片（file://///203.0.113.9/share/a.png）",
    "ole_link": "链接的 OLE 对象或外部数据（file:///C:/数据/统计.xlsx）",
    "field": '打开时获取外部内容的域（INCLUDEPICTURE "http://203.0.113.9/x.png" \\d；DDEAUTO',
    "ole_embed": "嵌入的 OLE 对象",
    "activex": "ActiveX 控件",
    "html": "嵌入的 HTML 内容",
}
KINDS = sorted(WARNINGS)
_FETCHING = re.compile(rb"INCLUDEPICTURE|INCLUDETEXT|DDEAUTO|DDE ", re.IGNORECASE)


def assert_defused(data: bytes) -> None:
    """No external relationship but hyperlinks, no embedded object, control or HTML, no fetching field."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            content = archive.read(name)
            assert not name.lower().startswith(("word/embeddings/", "word/activex/")), name
            assert not name.lower().endswith((".htm", ".html", ".mht")), name
            if name.endswith(".rels"):
                for rel in re.findall(rb"<Relationship [^>]*>", content):
                    assert b'TargetMode="External"' not in rel or b"/hyperlink" in rel, rel
                    assert not re.search(rb"/(oleObject|control|aFChunk|activeXControlBinary|attachedTemplate)\"", rel)
            if name.endswith(".xml"):
                assert not _FETCHING.search(content), (name, content)
                assert b"OLEObject" not in content and b"<w:control" not in content and b"altChunk" not in content
    assert outside.references(open_package(data)) == []


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_is_accepted_with_its_warning_and_given_out_defused(kind):
    data = risky(kind)
    inspection = inspect_file(data, IntakeRules())
    assert kind in {ref.kind for ref in inspection.outside}
    [warning] = [w for w in inspection.warnings if w.startswith("此文件含有打开时会访问外部地址或运行嵌入内容的部分")]
    assert WARNINGS[kind] in warning
    assert "收到的原文件保存为凭据；政工科下载和报送局系统的是去除了这些部分的副本" in warning
    defused = outside.defuse(data)
    assert defused != data
    assert_defused(defused)
    assert ESSAY in read_docx(defused).text  # the text is all there


def test_what_stays_in_a_defused_copy():
    image = zipfile.ZipFile(io.BytesIO(outside.defuse(risky("image"))))
    document = image.read("word/document.xml").decode()
    assert 'r:embed="rIdEmb"' in document and "r:link" not in document  # the stored picture stays
    assert "word/media/image1.png" in image.namelist()
    embedded = zipfile.ZipFile(io.BytesIO(outside.defuse(risky("ole_embed"))))
    document = embedded.read("word/document.xml").decode()
    assert 'v:imagedata r:id="rIdPic"' in document  # the object's cached picture
    types = embedded.read("[Content_Types].xml").decode()
    assert "embeddings" not in types
    fields = read_docx(outside.defuse(risky("field"))).text
    assert "图片结果" in fields and "DDE结果" in fields and "包含的文字" in fields  # the results stay
    page = zipfile.ZipFile(io.BytesIO(outside.defuse(risky("field")))).read("word/document.xml").decode()
    assert " PAGE " in page  # harmless fields keep their code
    html = read_docx(outside.defuse(risky("html"))).text
    assert html == read_docx(risky("html")).text == f"{ESSAY}\n网页中的一段文字。"  # in plain paragraphs
    assert "203.0.113.9" not in zipfile.ZipFile(io.BytesIO(outside.defuse(risky("html")))).read(
        "word/document.xml").decode()


def test_a_file_without_outside_references_is_given_out_byte_for_byte():
    plain = docx(p(ESSAY) + p(r("链接", inner="")), settings=settings_xml())
    linked = with_relationships(plain, [("rIdH", "hyperlink", "http://203.0.113.9/", "External")])
    for data in (plain, linked):
        assert outside.defuse(data) is data and inspect_file(data, IntakeRules()).outside == []
    assert outside.defuse(b"not a docx") == b"not a docx"


def test_a_chart_keeps_its_own_workbook():
    data = with_relationships(docx(p(ESSAY)), [("rId1", "package", "../embeddings/工作簿.xlsx", None)],
                              source="word/charts/chart1.xml",
                              files={"word/charts/chart1.xml": '<c:chartSpace xmlns:c="http://schemas.openxmlformats.'
                                     'org/drawingml/2006/chart"/>',
                                     "word/embeddings/工作簿.xlsx": b"PK\x05\x06" + b"\0" * 18},
                              defaults={"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"})
    assert inspect_file(data, IntakeRules()).outside == []


# --- through the app -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_the_received_bytes_are_stored_and_every_download_is_defused(client, auth, session, make, kind):
    competition = make.competition()
    unit = make.unit()
    user = make.user("unit", unit=unit, username=f"u_{kind}")
    data = risky(kind)
    submission = make.submission(competition, unit, user, data=data)
    version = submission.current
    assert version.file_bytes == data and version.sha256 == hashlib.sha256(data).hexdigest()
    assert kind in {item["kind"] for item in version.checks["outside"]}
    assert any(WARNINGS[kind] in w for w in version.checks["warnings"])
    make.user("admin", username=f"boss_{kind}")
    for login, url in ((f"boss_{kind}", f"/admin/submissions/{submission.id}/versions/1/file"),
                       (f"u_{kind}", f"/unit/submissions/{submission.id}/versions/1/file")):
        auth.login(login, PASSWORD)
        answer = client.get(url)
        assert answer.status_code == 200
        assert answer.headers["Cache-Control"] == "no-store"
        assert answer.data == outside.defuse(data) != data
        assert_defused(answer.data)
        auth.logout()


def test_the_unit_reads_the_warning_on_its_receipt(client, auth, make):
    competition = make.competition()
    unit = make.unit()
    make.user("unit", unit=unit, username="u_receipt")
    submission = make.submission(competition, unit, data=risky("template"))
    auth.login("u_receipt", PASSWORD)
    page = client.get(f"/unit/submissions/{submission.id}").get_data(as_text=True)
    assert "附加的模板（http://203.0.113.9/t.dotx）" in page


def test_a_plain_download_is_the_file_itself_and_not_cached(client, auth, make):
    competition = make.competition()
    unit = make.unit()
    make.user("unit", unit=unit, username="u_plain")
    submission = make.submission(competition, unit)
    auth.login("u_plain", PASSWORD)
    answer = client.get(f"/unit/submissions/{submission.id}/versions/1/file")
    assert answer.data == submission.current.file_bytes and answer.headers["Cache-Control"] == "no-store"


def test_the_packages_original_is_defused_and_the_manifest_records_both_hashes(session, make, frozen):
    competition, units, subs, judges, codes = frozen
    data = risky("field")
    version = codes[subs["甲"].id].version  # as if 甲 had sent this file
    version.file_bytes, version.sha256 = data, hashlib.sha256(data).hexdigest()
    session.flush()
    for rec in forward.choose(session, make.admin(), competition, "2", [], AFTER):
        forward.save_texts(session, make.admin(), rec, "主题鲜明。", "同意推荐。", AFTER)
    written = package.write(package_build.build(session, competition, AFTER))
    with zipfile.ZipFile(io.BytesIO(written)) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        assert manifest["version"] == 2
        entry = next(e for e in manifest["entries"] if e["code"] == codes[subs["甲"].id].code)
        [original] = [f for f in entry["files"] if f["kind"] == "original"]
        body = archive.read(original["name"])
    assert_defused(body)
    assert original["sha256"] == hashlib.sha256(body).hexdigest() == hashlib.sha256(outside.defuse(data)).hexdigest()
    assert original["received_sha256"] == version.sha256 != original["sha256"]
    other = next(e for e in manifest["entries"] if e is not entry)
    [plain] = [f for f in other["files"] if f["kind"] == "original"]
    assert plain["received_sha256"] == plain["sha256"]  # nothing to remove: the file as received
    read = package.read(written)
    assert {e.original.received_sha256 for e in read.entries} == {version.sha256, ""}


def _as_version_1(data: bytes) -> bytes:
    """The package as version 1 wrote it: no received_sha256."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = [(info.filename, archive.read(info)) for info in archive.infolist()]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members:
            if name == "manifest.json":
                manifest = json.loads(content)
                manifest["version"] = 1
                for entry in manifest["entries"]:
                    for item in entry["files"]:
                        item.pop("received_sha256", None)
                content = json.dumps(manifest, ensure_ascii=False).encode()
            archive.writestr(name, content)
    return out.getvalue()


def test_a_version_1_package_still_imports(session, make, bureau, clock):
    competition, unit = bureau
    built, versions = brigade_package(make)
    old = package.read(_as_version_1(package.write(built)))
    assert [e.original.received_sha256 for e in old.entries] == ["", "", ""]
    imported = import_package(session, competition, unit, make.admin(), old, clock())
    assert [i.version.sha256 for i in imported] == [v.sha256 for v in versions]
    entry = session.execute(select(AuditLog).where(AuditLog.action == "package.import")).scalar_one()
    assert [e["received_sha256"] for e in entry.after["entries"]] == [v.sha256 for v in versions]
    assert session.execute(select(SubmissionVersion).where(SubmissionVersion.id == imported[0].version.id)).scalar_one()


def test_a_damaged_member_does_not_keep_the_copy_from_being_defused():
    data = risky("template")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
        archive.writestr("word/media/broken.png", b"x" * 64)
    damaged = bytearray(out.getvalue())
    at = damaged.index(b"x" * 64)
    damaged[at:at + 8] = b"y" * 8  # its CRC no longer matches
    defused = outside.defuse(bytes(damaged))
    assert_defused(defused)
    assert "word/media/broken.png" not in zipfile.ZipFile(io.BytesIO(defused)).namelist()
