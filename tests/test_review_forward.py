"""Forwarding to the bureau (报送局系统): choosing the essays, the 推荐表 texts, the package
(its .xlsx, .docx files and manifest read back with openpyxl and python-docx), the CLI, and
importing the package into a second competition with the same texts and hashes."""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile

import pytest
from docx import Document
from openpyxl import load_workbook
from sqlalchemy import func, select

from essays.models import Submission, SubmissionVersion
from essays.package import format as package
from essays.platform.models import AuditLog
from review import forward, freeze, package_build
from review.models import Assignment, RankEntry, Recommendation, Score
from tests.test_review_flow import AFTER, flash_error, page_text
from tests.test_review_flow import world as world  # (the fixture)
from tests.test_review_publicity import frozen as frozen  # (the fixture)
from tests.test_review_ranking_page import scored as scored  # (the fixture)


@pytest.mark.parametrize(("comments", "reason"), [
    ([], []),
    (["联系实际，观点鲜明。", "", "  结构完整  "], ["联系实际，观点鲜明。", "结构完整。"]),
    (["好", "好。", "文字\n流畅!"], ["好。", "文字 流畅!"]),
])
def test_the_judges_comments_are_offered_each_once(comments, reason):
    assert forward.distinct_comments(comments) == reason


@pytest.mark.parametrize(("top", "tiers", "expected"), [
    ("3", [], (3, [])),
    (" 1 ", [""], (1, [])),
    ("", ["一等奖", "二等奖"], (None, ["一等奖", "二等奖"])),
])
def test_the_choice_is_top_n_or_tiers(top, tiers, expected):
    assert forward.parse_choice(top, tiers, ["一等奖", "二等奖"]) == expected


@pytest.mark.parametrize(("top", "tiers"), [("", []), ("3", ["一等奖"]), ("0", []), ("501", []), ("三", []),
                                            ("", ["特等奖"])])
def test_a_bad_choice_is_refused(top, tiers):
    from essays.platform.errors import Refusal

    with pytest.raises(Refusal) as e:
        forward.parse_choice(top, tiers, ["一等奖", "二等奖"])
    assert e.value.code == "FORWARD_CHOICE"


def _comment(session, code_id, text):
    for score in session.execute(select(Score).join(Assignment).where(Assignment.code_id == code_id)).scalars():
        score.comment = text
    session.flush()


def test_choosing_offers_the_comments_keeps_texts_and_skips_withdrawn_awards(session, make, frozen):
    """The 推荐理由 starts empty, the judges' comments beside it to pick from (joining them all
    would put criticism into the 推荐表)."""
    competition, units, subs, judges, codes = frozen
    admin = make.admin()
    first = codes[subs["甲"].id]
    _comment(session, first.id, "立意高远，联系实际。")
    recs = forward.choose(session, admin, competition, "2", [], AFTER)
    assert [r.entry.rank for r in recs] == [1, 2]
    assert recs[0].reason == "" and recs[0].unit_opinion == "同意推荐。"
    assert forward.comments(session, recs[0].entry) == ["立意高远，联系实际。"]
    forward.save_texts(session, admin, recs[0], "推荐理由改写。", "同意推荐，请审定。", AFTER)
    withdrawn = session.execute(select(RankEntry).where(RankEntry.rank == 2)).scalar_one()
    withdrawn.withdrawn_reason = "异议成立"
    again = forward.choose(session, admin, competition, "3", [], AFTER)
    assert [r.entry.rank for r in again] == [1, 3]  # place 2 withdrawn
    assert again[0].reason == "推荐理由改写。"  # kept
    actions = session.execute(select(AuditLog.action).where(AuditLog.action.like("review.forward%"))
                           .order_by(AuditLog.seq)).scalars().all()
    assert actions == ["review.forward_choose", "review.forward_text", "review.forward_choose"]


def test_the_page_chooses_edits_and_refuses_bad_input(client, auth, session, make, frozen):
    competition, units, subs, judges, codes = frozen
    auth.login("boss")
    base = f"/admin/competitions/{competition.id}/forward"
    page = page_text(client.get(base))
    assert "报送局系统" in page and "公示尚未结束" in page and "尚未选择报送作品" in page
    bad = client.post(base + "/choose", data={"by": "top", "top": "零"})
    assert bad.status_code == 400 and "FORWARD_CHOICE" in flash_error(bad)
    assert "请选择报送范围" in flash_error(bad)
    assert session.execute(select(func.count(Recommendation.id))).scalar_one() == 0
    assert client.post(base + "/choose", data={"by": "top", "top": "2"}).status_code == 302
    rec = session.execute(select(Recommendation).join(RankEntry).where(RankEntry.rank == 1)).scalar_one()
    empty = client.post(f"/admin/review/recommendations/{rec.id}", data={"reason": " ", "opinion": "同意"})
    assert empty.status_code == 400 and "推荐理由和单位意见都须填写" in flash_error(empty)
    assert "同意" in page_text(empty)  # what was typed is shown again
    session.refresh(rec)
    assert rec.unit_opinion == "同意推荐。"
    saved = client.post(f"/admin/review/recommendations/{rec.id}", data={"reason": "<b>优秀</b>", "opinion": "同意"})
    assert saved.status_code == 302
    page = client.get(base).get_data(as_text=True)
    assert "&lt;b&gt;优秀&lt;/b&gt;" in page and "城管执法甲中队" in page


def _shown_choice(response) -> tuple[str, str, list[str]]:
    """(the mode checked, the N typed, the tiers ticked) on the forward page."""
    html = response.get_data(as_text=True)
    form = re.search(r'<section class="card" id="choose">.*?</section>', html, re.S).group(0)
    modes = re.findall(r'<input type="radio" name="by" value="(\w+)" checked>', form)
    assert len(modes) == 1, modes
    top = re.search(r'<input type="text" id="top" name="top" value="([^"]*)"', form).group(1)
    return modes[0], top, re.findall(r'<input type="checkbox" name="tiers" value="([^"]+)" checked>', form)


def test_the_page_shows_the_choice_as_made(client, auth, session, make, frozen):
    competition = frozen[0]
    auth.login("boss")
    base = f"/admin/competitions/{competition.id}/forward"
    assert _shown_choice(client.get(base)) == ("top", "", [])  # nothing chosen yet
    # Four essays: 二等奖 and 三等奖 are the top two, so the choice cannot be read back from the list.
    assert client.post(base + "/choose", data={"by": "tiers", "tiers": ["二等奖", "三等奖"], "top": ""}
                       ).status_code == 302
    assert _shown_choice(client.get(base)) == ("tiers", "", ["二等奖", "三等奖"])
    session.execute(select(RankEntry).where(RankEntry.rank == 2)).scalar_one().withdrawn_reason = "异议成立"
    session.flush()
    assert client.post(base + "/choose", data={"by": "top", "top": "3"}).status_code == 302
    assert session.execute(select(func.count(Recommendation.id))).scalar_one() == 2  # place 2 withdrawn
    assert _shown_choice(client.get(base)) == ("top", "3", [])  # the N chosen, not the number of essays


@pytest.mark.parametrize(("data", "code", "shown"), [
    ({"by": "tiers", "top": ""}, "FORWARD_CHOICE", ("tiers", "", [])),
    ({"by": "tiers", "tiers": ["三等奖", "特等奖"]}, "FORWARD_CHOICE", ("tiers", "", ["三等奖"])),
    ({"by": "top", "top": "五百零一"}, "FORWARD_CHOICE", ("top", "五百零一", [])),
    ({"by": "top", "top": "1"}, "FORWARD_NONE", ("top", "1", [])),
])
def test_a_refused_choice_is_shown_as_made(client, auth, session, make, frozen, data, code, shown):
    competition = frozen[0]
    session.execute(select(RankEntry).where(RankEntry.rank == 1)).scalar_one().withdrawn_reason = "异议成立"
    session.flush()
    auth.login("boss")
    base = f"/admin/competitions/{competition.id}/forward"
    assert client.post(base + "/choose", data={"by": "tiers", "tiers": ["二等奖", "三等奖"]}).status_code == 302
    refused = client.post(base + "/choose", data=data)
    assert refused.status_code in (400, 409) and code in flash_error(refused)
    assert _shown_choice(refused) == shown
    assert _shown_choice(client.get(base)) == ("tiers", "", ["二等奖", "三等奖"])  # the stored choice stands


def test_forwarding_waits_for_the_frozen_ranking(client, auth, session, make, scored):
    competition = scored[0]
    auth.login("boss")
    assert client.get(f"/admin/competitions/{competition.id}/forward").status_code == 404
    assert client.get(f"/admin/competitions/{competition.id}/forward/package.zip").status_code == 404
    auth.logout()
    make.user("judge", username="peeker")
    auth.login("peeker")
    assert client.get(f"/admin/competitions/{competition.id}/forward").status_code == 403


def _package(client, competition_id) -> zipfile.ZipFile:
    response = client.get(f"/admin/competitions/{competition_id}/forward/package.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert "attachment" in response.headers["Content-Disposition"]
    return zipfile.ZipFile(io.BytesIO(response.data))


def test_the_package_holds_the_summary_the_originals_the_forms_and_the_manifest(client, auth, session, make,
                                                                                 frozen):
    competition, units, subs, judges, codes = frozen
    auth.login("boss")
    base = f"/admin/competitions/{competition.id}/forward"
    assert client.get(base + "/package.zip").status_code == 409  # nothing chosen yet: FORWARD_NONE
    client.post(base + "/choose", data={"by": "top", "top": "2"})
    rec = session.execute(select(Recommendation).join(RankEntry).where(RankEntry.rank == 1)).scalar_one()
    client.post(f"/admin/review/recommendations/{rec.id}", data={"reason": "主题鲜明。", "opinion": "同意推荐。"})
    missing = client.get(base + "/package.zip")  # place 2 has no 推荐理由 yet
    assert missing.status_code == 409 and "第 2 名的推荐理由还没有填写" in missing.get_data(as_text=True)
    second = session.execute(select(Recommendation).join(RankEntry).where(RankEntry.rank == 2)).scalar_one()
    client.post(f"/admin/review/recommendations/{second.id}", data={"reason": "联系实际。", "opinion": "同意推荐。"})
    archive = _package(client, competition.id)
    names = archive.namelist()
    manifest = json.loads(archive.read("manifest.json"))
    assert [e["rank"] for e in manifest["entries"]] == [1, 2]
    top = manifest["entries"][0]
    first = codes[subs["甲"].id]
    assert (top["code"], top["unit"], top["title"]) == (first.code, "城管执法甲中队", subs["甲"].title)
    kinds = {f["kind"]: f for f in top["files"]}
    assert kinds["original"]["name"] == f"原件/1-城管执法甲中队-{package.safe_name(subs['甲'].title)}.docx"
    assert kinds["clean"]["name"] == f"评审稿/{first.code}.docx"
    assert kinds["recommendation"]["name"] == f"推荐表/推荐表-1-{package.safe_name(subs['甲'].title)}.docx"
    original = archive.read(kinds["original"]["name"])
    assert original == first.version.file_bytes
    assert hashlib.sha256(original).hexdigest() == kinds["original"]["sha256"] == first.version.sha256
    assert all(i.flag_bits & 0x800 for i in archive.infolist() if not i.filename.isascii())

    book = load_workbook(io.BytesIO(archive.read("汇总表.xlsx")))
    sheet = book["汇总表"]
    assert sheet.freeze_panes == "A2"
    header = [c.value for c in sheet[1]]
    assert header[:6] == ["序号", "作品编号", "单位", "作者", "题目", "字数"] and header[-4:] == [
        "最终得分", "名次", "奖项", "查重结论"]
    assert sheet.cell(2, 2).value == first.code and sheet.cell(2, 1).value == 1
    assert sheet.max_row == 5 and sheet.cell(4, 1).value is None  # two essays, an empty row, the legend
    assert sheet.cell(5, 1).value.startswith("说明：“回避”表示")
    assert isinstance(sheet.cell(2, header.index("最终得分") + 1).value, (int, float))  # a number, not text

    form = Document(io.BytesIO(archive.read(kinds["recommendation"]["name"])))
    cells = {row.cells[0].text: row.cells[1].text for row in form.tables[0].rows}
    assert cells["单位"] == "城管执法甲中队" and cells["题目"] == subs["甲"].title
    assert cells["推荐理由"] == "主题鲜明。" and cells["字数"] == f"{first.version.char_count} 字"
    assert cells["单位意见"].startswith("同意推荐。") and "（盖章）" in cells["单位意见"]
    assert "年　　月　　日" in cells["单位意见"]
    assert form.core_properties.author != "python-docx"

    winners = "\n".join(p.text for p in Document(io.BytesIO(archive.read("获奖名单.docx"))).paragraphs)
    awarded = [e for e in freeze.frozen(session, competition) if e.award]
    assert "获奖名单" in winners and all(e.code.submission.title in winners for e in awarded)
    assert {"汇总表.xlsx", "获奖名单.docx", "manifest.json"} <= set(names)

    clean = Document(io.BytesIO(archive.read(kinds["clean"]["name"])))
    assert "城管执法甲中队" not in "\n".join(p.text for p in clean.paragraphs)
    assert clean.core_properties.title == first.code


def test_the_cli_exports_the_top_n(runner, session, make, frozen, tmp_path):
    competition = frozen[0]
    for rec in forward.choose(session, make.admin(), competition, "3", [], AFTER):  # written on the page
        forward.save_texts(session, make.admin(), rec, "主题鲜明，联系实际。", "同意推荐。", AFTER)
    args = ["review", "export", "--competition", str(competition.id), "--top", "3", "--out", str(tmp_path / "out")]
    unsure = runner.invoke(args=args)  # two admin accounts: which one chose?
    assert unsure.exit_code == 1 and "请用 --by 指定" in unsure.output
    result = runner.invoke(args=[*args, "--by", "boss"])
    assert result.exit_code == 0, result.output
    written = list((tmp_path / "out").glob("*.zip"))
    assert len(written) == 1 and "报送材料" in written[0].name
    read = package.read(written[0].read_bytes())
    assert [e.rank for e in read.entries] == [1, 2, 3]
    refused = runner.invoke(args=["review", "export", "--competition", str(competition.id), "--top", "0",
                                  "--out", str(tmp_path / "out2"), "--by", "boss"])
    assert refused.exit_code == 1 and "FORWARD_CHOICE" in refused.output
    assert runner.invoke(args=["review", "export", "--competition", "9999", "--out", str(tmp_path)]).exit_code == 1


ORGANISER_MISSING = ("没有指定主办单位：报送材料包的报送单位和获奖名单的落款都取自主办单位。"
                     "请在“单位”页面编辑大队本级的单位，勾选“主办单位（大队本级）”并保存，然后重新导出报送材料包。")


def _no_organiser(session, units):
    units["大队"].is_organiser = False
    session.flush()


def test_the_package_is_refused_without_an_organiser(client, auth, session, make, frozen):
    competition, units, subs, judges, codes = frozen
    auth.login("boss")
    base = f"/admin/competitions/{competition.id}/forward"
    client.post(base + "/choose", data={"by": "top", "top": "2"})
    _no_organiser(session, units)
    page = client.get(base)
    assert ORGANISER_MISSING.split("：")[0] in page_text(page)  # said before the download is tried
    assert 'href="/admin/units"' in page.get_data(as_text=True)
    entries = session.execute(select(func.count(AuditLog.id))).scalar_one()
    refused = client.get(base + "/package.zip")
    assert refused.status_code == 409 and refused.mimetype == "text/html"
    assert flash_error(refused) == f"{ORGANISER_MISSING}（错误代码 FORWARD_ORGANISER）"
    assert 'href="/admin/units"' in refused.get_data(as_text=True)  # where to fix it
    assert session.execute(select(func.count(AuditLog.id))).scalar_one() == entries
    with pytest.raises(Exception) as refusal:
        package_build.build(session, competition, AFTER)
    assert getattr(refusal.value, "code", None) == "FORWARD_ORGANISER" and refusal.value.status == 409


def test_the_cli_refuses_the_package_without_an_organiser(runner, session, make, frozen, tmp_path):
    competition, units, subs, judges, codes = frozen
    _no_organiser(session, units)
    out = tmp_path / "out"
    result = runner.invoke(args=["review", "export", "--competition", str(competition.id), "--top", "3",
                                 "--out", str(out), "--by", "boss"])
    assert result.exit_code == 1
    assert f"{ORGANISER_MISSING}（错误代码 FORWARD_ORGANISER）" in result.output
    assert not out.exists()  # nothing written
    assert session.execute(select(func.count(Recommendation.id))).scalar_one() == 0  # nor stored


def test_the_package_imports_into_a_second_competition_with_the_same_texts_and_hashes(session, make, frozen):
    from essays.package.importing import import_package, organisation_unit

    competition, units, subs, judges, codes = frozen
    admin = make.admin()
    for rec in forward.choose(session, admin, competition, "3", [], AFTER):
        forward.save_texts(session, admin, rec, "主题鲜明。", "同意推荐。", AFTER)
    data = package.write(package_build.build(session, competition, AFTER))
    read = package.read(data)
    assert read.competition["organiser"] == units["大队"].name == "城管执法大队"

    bureau = make.competition(title="局系统征文", phase="open", max_per_unit=5)
    sender = make.unit("某某区城管执法大队")
    unit = organisation_unit(session, read, "某某区城管执法大队")  # the sender's name is the brigade's own here
    assert unit.id == sender.id
    import_package(session, bureau, unit, admin, read, AFTER)
    imported = session.execute(select(SubmissionVersion).join(Submission)
                               .where(Submission.competition_id == bureau.id)
                               .order_by(SubmissionVersion.id)).scalars().all()
    sources = [codes[subs[name].id] for name in ("甲", "丙", "乙")]
    ranked = [e.code for e in freeze.frozen(session, competition)][:3]
    assert [v.sha256 for v in imported] == [c.version.sha256 for c in ranked]
    assert [v.text for v in imported] == [c.version.text for c in ranked]
    assert {c.id for c in sources} == {c.id for c in ranked}
    assert all(v.submission.unit_id == sender.id for v in imported)


def test_a_title_with_marks_of_its_own_is_shown_in_marks_once(client, auth, session, make, frozen):
    """GB/T 15834: 《平凡的世界》读后感 is shown as 《〈平凡的世界〉读后感》, never 《《…》…》."""
    competition, units, subs, judges, codes = frozen
    subs["甲"].title = "《平凡的世界》读后感"
    session.flush()
    auth.login("boss")
    base = f"/admin/competitions/{competition.id}/forward"
    client.post(base + "/choose", data={"by": "top", "top": "2"})
    for rec in forward.recommendations(session, competition):
        forward.save_texts(session, make.admin(), rec, "主题鲜明。", "同意推荐。", AFTER)
    shown = "《〈平凡的世界〉读后感》"
    for url in (base, f"/admin/competitions/{competition.id}/review/identity"):
        page = page_text(client.get(url))
        assert shown in page and "《《" not in page, url
    archive = _package(client, competition.id)
    winners = "\n".join(p.text for p in Document(io.BytesIO(archive.read("获奖名单.docx"))).paragraphs)
    assert shown in winners and "《《" not in winners
