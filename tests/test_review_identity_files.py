"""The identity check of whole files (review.identity_places): each obfuscation in each part of a
.docx (body, header, footer, text box, footnote, comment, properties) is found; in the body it is
redacted in what judges receive, elsewhere it is reported to the admin in words; the demo's clean
essays and an essay of figures give nothing; `review identity-scan` in both output modes."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import pytest
from sqlalchemy import select

from essays.intake.docx.reader import read_docx
from essays.models import Submission, Unit
from review import clean_copy, identity_places, prepare
from review.identity_places import Names, describe, findings, part_texts
from tests.docx_samples import app_xml, comments_xml, core_xml, docx, note_ref, notes_xml, p, textbox
from tests.factories import docx_bytes
from tests.test_demo import demo as demo  # (the fixture)
from tests.test_review_flow import AFTER, page_text
from tests.test_review_identity import FIGURES, INVISIBLE

ZWSP, SHY = "\u200b", "\u00ad"
UNIT = ("城管执法第一中队", "一中队", "执法一中队")
NAMES = Names(own=UNIT, others=("城管执法第二中队", "二中队"), authors=("李建军",),
              contacts=("陈志刚", "0731-84421101"))
SENTENCE = (f"我们第1中队的李{ZWSP}建{SHY}军同志，电话138-0845-1376，座机(0731)8442 1101，科长陈·志·刚，"
            "身份证430102 19900307 1234，執法一中隊。")
FOUND = [("own_unit", "第1中队"), ("author", f"李{ZWSP}建{SHY}军"), ("contact", "138-0845-1376"),
         ("contact", "(0731)8442 1101"), ("contact", "陈·志·刚"), ("id_number", "430102 19900307 1234"),
         ("own_unit", "執法一中隊")]
ESSAY = [f"城管工作要坚持以人民为中心的发展思想，把群众满意作为出发点和落脚点，第{n}段。" for n in range(1, 8)]
BODY = "".join(p(text) for text in ESSAY)
FILES = {
    "body": docx(p(ESSAY[0]) + p(SENTENCE) + BODY),
    "header": docx(BODY, headers=(p(SENTENCE),)),
    "footer": docx(BODY, footers=(p(SENTENCE),)),
    "textbox": docx(p(ESSAY[0], textbox(p(SENTENCE))) + BODY),
    "note": docx(p(ESSAY[0], note_ref("footnote", 1)) + BODY, footnotes=notes_xml("footnote", {1: SENTENCE})),
    "comment": docx(BODY, comments=comments_xml([("审稿人", SENTENCE)])),
}
WHERE = {"body": "正文第2段", "header": "页眉", "footer": "页脚", "textbox": "文本框", "note": "脚注或尾注",
         "comment": "批注"}


@pytest.mark.parametrize("part", sorted(FILES))
def test_each_obfuscation_is_found_in_each_part_with_offsets_in_its_text(part):
    found = [f for f in findings(FILES[part], NAMES) if f.part != "metadata"]  # (a comment has its author)
    assert [(f.kind, f.text) for f in found] == FOUND
    text = dict(part_texts(read_docx(FILES[part])))[part]
    for finding in found:
        assert finding.part == part and finding.where == WHERE[part]
        assert text[finding.start:finding.end] == finding.text
    assert f"{WHERE[part]}：第1中队（本单位名称）" in [describe(f) for f in found]
    assert f"{WHERE[part]}：138-0845-1376（电话号码）" in [describe(f) for f in found]
    assert f"{WHERE[part]}：陈·志·刚（本单位联系人）" in [describe(f) for f in found]


def test_each_obfuscation_is_found_in_the_properties():
    data = docx(BODY, core=core_xml(creator=f"李{ZWSP}建军", title="第·一·中·队的做法", description=SENTENCE,
                                     last_modified_by="Administrator"),
                app=app_xml(Company="城管执法第1中队", Manager="陈志刚"))
    found = [describe(f) for f in findings(data, NAMES)]
    assert found[:3] == [f"文档属性·作者：李{ZWSP}建军（作者姓名）", "文档属性·标题：第·一·中·队（本单位名称）",
                         "文档属性·备注：第1中队（本单位名称）"]
    assert f"文档属性·备注：李{ZWSP}建{SHY}军（作者姓名）" in found
    assert "文档属性·备注：(0731)8442 1101（电话号码）" in found
    assert found[-2:] == ["文档属性·单位：城管执法第1中队（本单位名称）", "文档属性·经理：陈志刚（本单位联系人）"]
    assert not any("Administrator" in line for line in found)
    assert {f.part for f in findings(data, NAMES)} == {"metadata"}


def test_an_essay_of_figures_gives_nothing_in_any_part():
    data = docx_bytes(FIGURES.split("\n"), title="数据说话：城管工作的五年", author="Administrator",
                      last_modified_by="微软用户", header_text="解放思想大讨论征文")
    assert findings(data, NAMES) == []


# --- through the competition: redacted for judges, reported to the admin ---------------------------

@pytest.fixture
def flagged(app, session, make, clock):
    clock.set(AFTER)
    make.unit("城管执法大队", short_name="大队", is_organiser=True)
    unit = make.unit(UNIT[0], short_name=UNIT[1], aliases=[UNIT[2]], contact_name="陈志刚",
                     contact_phone="0731-84421101")
    make.unit("城管执法第二中队", short_name="二中队")
    competition = make.competition()
    data = docx(p("解放思想 推动城管改革") + p(SENTENCE) + BODY, headers=(p(SENTENCE),), footers=(p("第·一·中·队"),),
                comments=comments_xml([("审稿人", f"李{ZWSP}建军写得好")]), core=core_xml(creator="陈志刚"))
    submission = make.submission(competition, unit, data=data)
    submission.authors = ["李建军"]
    competition.phase = "intake_closed"
    session.flush()
    admin = make.user("admin", username="boss")
    [code] = prepare.make_codes(session, admin, competition, AFTER)
    return competition, code, admin


def test_the_body_is_redacted_exactly_and_judges_receive_no_invisible_character(session, flagged):
    competition, code, admin = flagged
    assert [(h.kind, h.text) for h in code.hits] == FOUND
    assert not set(INVISIBLE) & set(code.text)  # even before any decision
    prepare.decide_hits(session, admin, code, None, "redacted", AFTER)
    expected = "我们××的××同志，电话××，座机××，科长××，身份证××，××。"
    assert code.text.split("\n")[1] == expected
    blocks = prepare.judge_blocks(code)
    clean = clean_copy.clean_docx(code.code, code.code, blocks)
    with zipfile.ZipFile(io.BytesIO(clean)) as archive:
        everything = "".join(archive.read(n).decode("utf-8") for n in archive.namelist())
    for secret in ("第1中队", "李", "138", "0731", "8442", "陈", "430102", "執法", ZWSP, SHY):
        assert secret not in code.text and secret not in everything


def test_the_admin_reads_where_each_finding_is(client, auth, session, flagged):
    competition, code, admin = flagged
    auth.login("boss")
    page = page_text(client.get(f"/admin/competitions/{competition.id}/review/identity"))
    assert "正文第2段" in page
    for line in ("页眉：第1中队（本单位名称）", "页眉：138-0845-1376（电话号码）", "页脚：第·一·中·队（本单位名称）",
                 f"批注：李{ZWSP}建军（作者姓名）", "文档属性·作者：陈志刚（本单位联系人）"):
        assert line in page
    assert "docProps" not in page and "dc:creator" not in page


# --- the demo ---------------------------------------------------------------------------------------


def test_the_demos_clean_essays_give_no_finding_in_the_text_judges_read(session, demo):
    units = list(session.execute(select(Unit)).scalars())
    named = {}
    for submission in session.execute(select(Submission)).scalars():
        found = findings(submission.current.file_bytes, prepare.names_for(session, submission, units), ("body",))
        named[submission.unit.name] = [describe(f) for f in found]
    assert {unit for unit, lines in named.items() if lines} == {"第一中队"}  # the one essay naming its unit
    assert "正文第5段：第一中队（本单位名称）" in named["第一中队"]


# --- review identity-scan ------------------------------------------------------------------------------

@pytest.fixture
def files(tmp_path):
    roster = tmp_path / "名单.csv"
    with roster.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["单位", "简称", "联系人", "联系电话", "账号", "姓名", "角色"])
        writer.writerow(["城管执法第二中队", "二中队", "刘卫东", "0731-84421102", "unit2", "王二", "单位"])
        writer.writerow(["", "", "", "", "judge1", "评委甲", "评委"])
    paths = {"clean": tmp_path / "clean.docx", "flagged": tmp_path / "flagged.docx", "broken": tmp_path / "坏.docx"}
    paths["clean"].write_bytes(docx(BODY, core=core_xml(creator="Administrator")))
    paths["flagged"].write_bytes(docx(p(ESSAY[0]) + p(SENTENCE + "学习二中队刘卫东的经验，电话8442 1102。") + BODY,
                                      core=core_xml(creator="王二")))
    paths["broken"].write_bytes(b"PK\x03\x04garbage")
    return roster, paths


def scan_args(roster, *more):
    return ["review", "identity-scan", "--roster", str(roster), "--unit", UNIT[0], "--unit", UNIT[1],
            "--person", "李建军", *map(str, more)]


def test_identity_scan_prints_json_in_the_shared_schema(runner, files):
    roster, paths = files
    result = runner.invoke(args=scan_args(roster, "--json", paths["clean"], paths["flagged"], paths["broken"]))
    assert result.exit_code == 1, result.output
    clean, flagged, broken = json.loads(result.output)
    assert clean == {"file": str(paths["clean"]), "ok": True, "error": None, "hits": []}
    assert broken["ok"] is False and broken["hits"] == [] and broken["error"]["code"] == "UPLOAD_BROKEN"
    assert broken["error"]["message"].startswith("文件已损坏")
    hits = flagged["hits"]
    assert all(set(h) == {"text", "kind", "identity", "part", "where", "start", "end"} for h in hits)
    body = read_docx(paths["flagged"].read_bytes()).text
    assert all(body[h["start"]:h["end"]] == h["text"] for h in hits if h["part"] == "body")
    assert [(h["kind"], h["text"], h["identity"]) for h in hits] == [
        ("own_unit", "第1中队", "一中队"), ("author", f"李{ZWSP}建{SHY}军", "李建军"),
        ("contact", "138-0845-1376", "13808451376"), ("contact", "(0731)8442 1101", "0731-84421101"),
        ("id_number", "430102 19900307 1234", "430102199003071234"), ("own_unit", "執法一中隊", "城管执法第一中队"),
        ("other_unit", "二中队", "二中队"), ("contact", "刘卫东", "刘卫东"), ("contact", "8442 1102", "0731-84421102"),
        ("contact", "王二", "王二")]
    assert hits[0]["where"] == "正文第2段" and hits[-1]["part"] == "metadata" and hits[-1]["start"] is None
    assert "陈·志·刚" not in [h["text"] for h in hits]  # not in the roster or on the command line


def test_identity_scan_prints_a_chinese_report_and_exits_0_when_nothing_is_found(runner, files):
    roster, paths = files
    result = runner.invoke(args=scan_args(roster, paths["flagged"], paths["broken"]))
    assert result.exit_code == 1
    assert f"文件：{paths['flagged']}" in result.output
    assert "! 发现可能暴露身份的信息 10 处：" in result.output
    for line in ("正文第2段：第1中队（本单位名称）", "正文第2段：二中队（其他单位名称）",
                 "正文第2段：8442 1102（电话号码）", "文档属性·作者：王二（本单位联系人）"):
        assert f"    {line}\n" in result.output
    assert "✗ 无法读取：文件已损坏或不是有效的 .docx，无法读取。" in result.output
    assert "（错误代码 UPLOAD_BROKEN）" in result.output
    quiet = runner.invoke(args=scan_args(roster, paths["clean"]))
    assert (quiet.exit_code, quiet.output) == (0, f"文件：{paths['clean']}\n  ✓ 未发现身份信息\n")


def test_identity_scan_without_names_still_finds_numbers_and_file_authors(runner, files):
    _, paths = files
    result = runner.invoke(args=["review", "identity-scan", "--json", str(paths["flagged"])])
    kinds = [(h["kind"], h["text"]) for h in json.loads(result.output)[0]["hits"]]
    assert ("contact", "138-0845-1376") in kinds and ("id_number", "430102 19900307 1234") in kinds
    assert ("file_author", "王二") in kinds and result.exit_code == 1


def test_identity_scan_refuses_a_roster_it_cannot_read(runner, files, tmp_path):
    _, paths = files
    bad = tmp_path / "名单.txt"
    bad.write_text("x")
    result = runner.invoke(args=["review", "identity-scan", "--roster", str(bad), str(paths["clean"])])
    assert result.exit_code == 1 and "（错误代码 ROSTER_FILE_TYPE）" in result.output


def test_the_finding_schema_is_the_same_for_prepare_and_identity_scan(session, flagged):
    competition, code, admin = flagged
    stored = prepare.hit_json(code.hits[0])
    names = prepare.names_for(session, code.submission)
    scanned = identity_places.finding_json(findings(code.version.file_bytes, names, ("body",))[0])
    assert {k: stored[k] for k in scanned} == scanned


def test_identity_scan_reads_a_package_for_the_bureau_essay_by_essay(runner, make, tmp_path):
    from essays.package import format as package
    from tests.test_package_import import brigade_package

    built, _ = brigade_package(make)
    zipped = tmp_path / "报送材料.zip"
    zipped.write_bytes(package.write(built))
    broken = tmp_path / "坏的材料包.zip"
    broken.write_bytes(b"PK\x05\x06" + b"\0" * 18)
    result = runner.invoke(args=["review", "identity-scan", "--json", "--unit", "市容环卫科", "--person", "深化",
                                 str(zipped), str(broken)])
    items = json.loads(result.output)
    assert [i["file"] for i in items[:2]] == [f"{zipped}:{f.name}" for f in built.entries[0].files[:2]]
    assert len(items) == 7 and all(i["ok"] for i in items[:6])
    assert [(h["kind"], h["text"]) for h in items[0]["hits"]] == [("author", "深化")]  # the first original's text
    assert items[6]["file"] == str(broken) and items[6]["error"]["code"] == "PACKAGE_MANIFEST"
    assert result.exit_code == 1
