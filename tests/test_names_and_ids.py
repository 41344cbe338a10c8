"""Safe names and ids: file names stored clean and every Content-Disposition built from the
clean name (essays.platform.filenames); ids beyond the database's integer range are 404 on
every route (essays.platform.web.IdConverter) and refused in forms (parse_id); every structure
read from a package or an upload is bounded in depth and size, refused with the intake's own
error (a nested manifest, a deep .docx, a roster's zip bomb or giant field)."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from sqlalchemy import select

from essays.intake.docx.reader import read_docx
from essays.models import SubmissionVersion
from essays.package import format as package
from essays.people.roster import parse_roster
from essays.platform.errors import Refusal
from essays.platform.filenames import clean_filename
from essays.platform.web import MAX_ID, parse_id
from tests.docx_samples import docx, p
from tests.factories import docx_bytes
from tests.test_review_flow import world as world  # (the fixture)
from tests.test_review_ranking_page import scored as scored  # (the fixture)

HUGE = "99999999999999999999"


@pytest.mark.parametrize(("name", "cleaned"), [
    ("a\r\nX.docx", "a X.docx"),
    ("论文\t终稿 .docx", "论文 终稿 .docx"),
    ("..\\..\\windows\\system32.docx", ".._.._windows_system32.docx"),
    ("dir/sub/论文.docx", "dir_sub_论文.docx"),
    ("\u202excod.exe", "xcod.exe"),  # a right-to-left override shows it as exe.docx
    ("报告\u2066\u2069\u200b.docx", "报告.docx"),
    ("\x00\x1f\x7f", "文件"), ("..", "文件"), ("", "文件"),
    ("题目" * 200 + ".docx", ("题目" * 200)[:250] + ".docx"),
    ("普通的文件名 (2).docx", "普通的文件名 (2).docx"),
])
def test_clean_filename(name, cleaned):
    assert clean_filename(name) == cleaned


def _multipart(fields: dict, file_header: str, data: bytes) -> tuple[bytes, str]:
    boundary = "----zhengwen-test"
    body = b""
    for name, value in fields.items():
        body += (f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n').encode()
    body += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; {file_header}\r\n"
             "Content-Type: application/octet-stream\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def test_a_line_break_in_an_uploads_name_is_stored_clean_and_downloads_work(client, auth, make, session):
    competition = make.competition(phase="open")
    unit_user = make.user("unit", username="crlf")
    make.user("admin", username="crlfadmin")
    auth.login("crlf")
    body, content_type = _multipart({"theme_id": competition.themes[0].id, "title": "", "authors": "张三",
                                     "contact_phone": "13800000000"},
                                    "filename*=UTF-8''a%0D%0AX%E2%80%AE.docx", docx_bytes())
    response = client.post(f"/unit/competitions/{competition.id}/submit", data=body, content_type=content_type)
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    version = session.execute(select(SubmissionVersion).where(SubmissionVersion.uploader_id == unit_user.id)
                              ).scalar_one()
    assert version.original_filename == "a X.docx"
    sub = version.submission_id
    for who, url in (("crlf", f"/unit/submissions/{sub}/versions/1/file"),
                     ("crlfadmin", f"/admin/submissions/{sub}/versions/1/file")):
        auth.logout()
        auth.login(who)
        download = client.get(url)
        assert download.status_code == 200 and download.data.startswith(b"PK")
        disposition = download.headers["Content-Disposition"]
        assert disposition == 'attachment; filename="a X.docx"'


def test_a_stored_name_from_before_is_cleaned_in_the_download_header(client, auth, make, session):
    competition = make.competition(phase="open")
    sub = make.submission(competition)
    sub.current.original_filename = "旧\r\n文件\u202e.docx"  # as 0014 could have stored it
    session.flush()
    make.user("admin", username="oldname")
    auth.login("oldname")
    download = client.get(f"/admin/submissions/{sub.id}/versions/1/file")
    assert download.status_code == 200
    assert "\r" not in download.headers["Content-Disposition"]


def test_parse_id():
    assert parse_id("42") == 42 and parse_id(str(MAX_ID)) == MAX_ID
    assert parse_id(str(MAX_ID + 1)) is None and parse_id(HUGE) is None
    assert parse_id("") is None and parse_id("-1") is None and parse_id("１２") is None and parse_id(None) is None


def _urls_with_ids(app, value: str) -> list[tuple[str, str]]:
    urls = []
    for rule in app.url_map.iter_rules():
        if "<int:" not in rule.rule:
            continue
        url = re.sub(r"<int:\w+>", value, rule.rule)
        url = re.sub(r"<(?:\w+:)?\w+>", "C001", url)
        urls += [(method, url) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return urls


def test_ids_beyond_the_integer_range_are_404_on_every_route(app, client, auth, make):
    urls = _urls_with_ids(app, HUGE)
    assert len(urls) > 40
    wrong = [(m, u, r.status_code) for m, u in urls if (r := client.open(u, method=m)).status_code != 404]
    assert wrong == []  # anonymous: no route matched, so not even the login redirect
    make.user("admin", username="bigids")
    auth.login("bigids")
    wrong = [(m, u, r.status_code) for m, u in _urls_with_ids(app, str(MAX_ID + 1))
             if (r := client.open(u, method=m)).status_code != 404]
    assert wrong == []


def test_the_largest_id_is_a_plain_404_where_the_role_may_go(app, client, auth, make):
    make.user("admin", username="maxids")
    auth.login("maxids")
    admin_urls = [(m, u) for m, u in _urls_with_ids(app, str(MAX_ID)) if u.startswith("/admin/")]
    answers = {u: client.open(u, method=m).status_code for m, u in admin_urls}
    assert answers and all(status in (400, 404) for status in answers.values()), answers


def test_ids_in_forms_beyond_the_range_are_refused_not_a_server_error(client, auth, make, scored):
    competition = scored[0]
    make.user("admin", username="formids")
    auth.login("formids")
    for url, form in ((f"/admin/competitions/{competition.id}/review/pairs", {"judge_id": HUGE, "code_id": HUGE}),
                      (f"/admin/competitions/{competition.id}/ranking/extra-judge",
                       {"judge_id": HUGE, "code_id": HUGE})):
        assert client.post(url, data=form).status_code in (400, 404, 409), url


def _zip(members: dict[str, bytes | str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return out.getvalue()


@pytest.mark.parametrize("depth", [20, 100_000])
def test_a_deeply_nested_manifest_is_refused_with_the_packages_error(depth):
    manifest = '{"format": "zhengwen-package", "version": 1, "x": ' + "[" * depth + "]" * depth + "}"
    with pytest.raises(Refusal) as refused:
        package.read(_zip({"manifest.json": manifest}))
    assert refused.value.code == "PACKAGE_MANIFEST" and "嵌套超过 16 层" in refused.value.message


def test_brackets_inside_strings_do_not_count():
    assert not package.json_too_deep('{"a": "' + "[" * 1000 + '", "b": [[1]]}')
    assert package.json_too_deep("[" * 17 + "]" * 17)


def test_import_package_reports_a_nested_manifest(runner, make, tmp_path):
    competition = make.competition()
    path = tmp_path / "nested.zip"
    path.write_bytes(_zip({"manifest.json": "[" * 200_000 + "]" * 200_000}))
    result = runner.invoke(args=["essays", "import-package", str(path), "--competition", str(competition.id)])
    assert result.exit_code == 1 and "PACKAGE_MANIFEST" in result.output
    assert "RecursionError" not in result.output


@pytest.mark.parametrize("kind", ["sdt", "tbl"])
def test_a_deeply_nested_docx_is_refused_as_broken(kind):
    opening, closing = {"sdt": ("<w:sdt><w:sdtContent>", "</w:sdtContent></w:sdt>"),
                        "tbl": ("<w:tbl><w:tr><w:tc>", "</w:tc></w:tr></w:tbl>")}[kind]
    body = opening * 3000 + p("正文文字") + closing * 3000
    with pytest.raises(Refusal) as refused:
        read_docx(docx(body))
    assert refused.value.code == "UPLOAD_BROKEN"


def test_a_rosters_giant_csv_field_is_refused():
    data = ("单位,简称,联系人,联系电话,账号,姓名,角色\n" + "x" * 200_000 + ",a,b,c,d,e,单位\n").encode()
    with pytest.raises(Refusal) as refused:
        parse_roster("名单.csv", data)
    assert refused.value.code == "ROSTER_FILE_TYPE"


def test_a_roster_zip_bomb_is_refused_before_it_is_inflated():
    bomb = _zip({"[Content_Types].xml": "<Types/>", "xl/worksheets/sheet1.xml": b"<a>" + b" " * 60_000_000 + b"</a>"})
    assert len(bomb) < 2 * 1024 * 1024
    with pytest.raises(Refusal) as refused:
        parse_roster("名单.xlsx", bomb)
    assert refused.value.code == "ROSTER_TOO_LARGE"


def test_a_roster_with_broken_xml_is_refused_not_a_server_error():
    from openpyxl import Workbook

    book, out = Workbook(), io.BytesIO()
    book.active.append(["单位", "简称", "联系人", "联系电话", "账号", "姓名", "角色"])
    book.save(out)
    with zipfile.ZipFile(out) as source:
        members = {info.filename: source.read(info) for info in source.infolist()}
    members["xl/worksheets/sheet1.xml"] = b"<worksheet><sheetData><row>" * 3000
    with pytest.raises(Refusal) as refused:
        parse_roster("名单.xlsx", _zip(members))
    assert refused.value.code == "ROSTER_FILE_TYPE"

