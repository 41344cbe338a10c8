"""After the results, through the pages and the commands: the 优秀组织奖 granted on the
ranking page (stored, audited, shown on the results and in the package), the documents page
(forms, the certificate preview, downloads, refusals), the charts for the admin only, the
three commands, and the demo in phases 公示中 and 已结束."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import timedelta
from urllib.parse import unquote

import pytest
from docx import Document
from sqlalchemy import select

from essays.competitions.operations import move_phase
from essays.demo.build import build_demo
from essays.models import Competition
from essays.platform.audit import verify_chain
from essays.platform.models import AuditLog
from review import charts, forward, freeze, organisation, package_build, publicity
from review.models import OrganisationAward, RankEntry
from tests.conftest import FIXED_NOW
from tests.test_review_documents import SHOWN_ONCE
from tests.test_review_documents import published as published  # (the fixture)
from tests.test_review_flow import AFTER, flash_error, page_text
from tests.test_review_flow import world as world  # (the fixture)
from tests.test_review_ranking_page import drop_unscored
from tests.test_review_ranking_page import scored as scored  # (the fixture)


@pytest.fixture
def frozen(app, session, make, scored, clock):
    competition, units, subs, judges, codes = scored
    drop_unscored(session, make, judges)
    freeze.freeze(session, make.admin(), competition, AFTER, seed=1)
    return competition, units, subs, judges, codes


def _granted(session, competition) -> list[str]:
    return organisation.granted_names(session, competition)


def test_the_admin_grants_the_organisation_award_on_the_ranking_page(client, auth, session, make, frozen):
    competition, units, *_ = frozen
    auth.login("boss")
    page = client.get(f"/admin/competitions/{competition.id}/ranking").get_data(as_text=True)
    section = re.search(r'<section class="card" id="organisation">(.*?)</section>', page, re.S).group(1)
    assert section.count('name="unit_id"') == 4 and "候选" in section  # every unit with an essay in the review
    url = f"/admin/competitions/{competition.id}/organisation-awards"
    done = client.post(url, data={"unit_id": [str(units["甲"].id), str(units["乙"].id)]}, follow_redirects=True)
    assert "已评定优秀组织奖：城管执法乙中队、城管执法甲中队。" in page_text(done)
    assert _granted(session, competition) == ["城管执法乙中队", "城管执法甲中队"]
    changed = client.post(url, data={"unit_id": [str(units["乙"].id)]}, follow_redirects=True)
    assert "已取消优秀组织奖：城管执法甲中队。" in page_text(changed)
    same = client.post(url, data={"unit_id": [str(units["乙"].id)]}, follow_redirects=True)
    assert "优秀组织奖没有变化。" in page_text(same)
    logged = session.execute(select(AuditLog).where(AuditLog.action == "review.organisation_award")
                             .order_by(AuditLog.seq)).scalars().all()
    assert len(logged) == 2 and logged[-1].before == {"units": ["城管执法乙中队", "城管执法甲中队"]}
    assert logged[-1].after == {"units": ["城管执法乙中队"], "granted": [], "withdrawn": ["城管执法甲中队"]}
    assert "评定优秀组织奖" in page_text(client.get("/admin/audit"))
    organiser = client.post(url, data={"unit_id": [str(units["大队"].id)]})  # not a unit with an essay
    assert organiser.status_code == 400 and "FORM_INVALID" in flash_error(organiser)
    assert _granted(session, competition) == ["城管执法乙中队"]


def test_the_organisation_award_is_refused_before_freezing_and_after_closing(client, auth, session, make, scored,
                                                                          published, clock):
    competition, units, *_ = published
    auth.login("boss")
    later = AFTER + timedelta(days=8)
    clock.set(later)
    move_phase(session, make.admin(), competition, "published", "closed", later)
    auth.login("boss")  # eight days later: a new session
    refused = client.post(f"/admin/competitions/{competition.id}/organisation-awards", data={})
    assert refused.status_code == 409 and "ORGANISATION_PHASE" in flash_error(refused)
    assert _granted(session, competition) == ["城管执法乙中队"]  # nothing changed
    closed = page_text(client.get(f"/admin/competitions/{competition.id}/ranking"))
    assert "已评定：城管执法乙中队" in closed


def test_the_award_is_shown_on_the_results_and_in_the_package(client, auth, session, make, published):
    competition, units, *_ = published
    make.user("unit", unit=units["丙"], username="bing")
    auth.login("bing")
    results = client.get(f"/results/{competition.id}").get_data(as_text=True)
    assert re.search(r'id="organisation-award">.*?城管执法乙中队', results, re.S)
    assert 'id="charts"' not in results and "<svg" not in results  # the charts are the admin's
    for rec in forward.choose(session, make.admin(), competition, "1", [], AFTER):
        forward.save_texts(session, make.admin(), rec, "主题鲜明。", "同意推荐。", AFTER)
    built = package_build.build(session, competition, AFTER)
    assert built.competition["organisation_awards"] == ["城管执法乙中队"]
    winners = Document(io.BytesIO(dict(built.extras)["获奖名单.docx"]))
    text = [p.text for p in winners.paragraphs]
    assert "优秀组织奖（1 个）" in text and "城管执法乙中队" in text


def test_the_documents_page_previews_the_first_certificate_and_downloads_each_file(client, auth, session, published):
    competition, *_ = published
    auth.login("boss")
    home = page_text(client.get(f"/admin/competitions/{competition.id}"))
    assert "证书、汇编与通报" in home
    base = f"/admin/competitions/{competition.id}/documents"
    page = client.get(base)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="draft-note"' in html
    preview = re.search(r'<figure class="certificate-preview" id="certificate-preview">(.*?)</figure>', html, re.S)
    assert preview and "<svg" in preview.group(1) and "张三 同志：" in preview.group(1)
    assert SHOWN_ONCE in preview.group(1).replace("&lt;", "<")  # the title, its marks once
    assert "共 4 张" in page_text(page)
    portrait = page_text(client.get(base, query_string={"per": "essay", "paper": "a4_portrait", "heading": "1"}))
    assert "共 3 张，纸张 210×297 毫米" in portrait
    for name, query in (("certificates.docx", {"per": "author", "paper": "a4_landscape"}),
                        ("booklet.docx", {"tiers": ["二等奖", "三等奖"]}), ("notice.docx", {})):
        got = client.get(f"{base}/{name}", query_string=query)
        assert got.status_code == 200 and got.data.startswith(b"PK"), name
        assert unquote(got.headers["Content-Disposition"]).endswith("-草稿.docx")
        assert Document(io.BytesIO(got.data)).paragraphs


def test_the_documents_page_refuses_with_the_code_and_keeps_the_form(client, auth, session, make, published):
    competition, units, *_ = published
    auth.login("boss")
    base = f"/admin/competitions/{competition.id}/documents"
    paper = client.get(f"{base}/certificates.docx", query_string={"paper": "custom", "width": "30", "height": "20"})
    assert paper.status_code == 400 and "CERT_PAPER" in flash_error(paper)
    assert 'value="30"' in paper.get_data(as_text=True)
    none = client.get(f"{base}/booklet.docx")
    assert none.status_code == 400 and "BOOKLET_TIERS" in flash_error(none)
    units["大队"].is_organiser = False
    session.flush()
    bare = client.get(f"{base}/notice.docx")
    assert bare.status_code == 409 and "DOCS_ORGANISER" in flash_error(bare)
    assert 'id="no-organiser"' in bare.get_data(as_text=True)


def test_no_documents_page_before_the_publicity(client, auth, session, frozen):
    competition, *_ = frozen
    auth.login("boss")
    assert client.get(f"/admin/competitions/{competition.id}/documents").status_code == 404
    assert client.get(f"/admin/competitions/{competition.id}/documents/notice.docx").status_code == 404
    assert "证书、汇编与通报" not in page_text(client.get(f"/admin/competitions/{competition.id}"))


def test_the_admin_sees_the_competition_in_pictures(client, auth, session, make, published):
    competition, units, subs, *_ = published
    auth.login("boss")
    for url in (f"/admin/competitions/{competition.id}/ranking", f"/admin/competitions/{competition.id}/ranking/print",
                f"/results/{competition.id}"):
        html = client.get(url).get_data(as_text=True)
        for key in ("chart-units", "chart-themes", "chart-words", "chart-scores"):
            assert f'<figure id="{key}"><svg' in html, (url, key)
        scores = re.search(r'<figure id="chart-scores">(.*?)</figure>', html, re.S).group(1)
        lowest = {e.award: e.score for e in freeze.frozen(session, competition) if e.award}
        for tier, score in lowest.items():
            assert f"{tier}分数线：{score.normalize():f}" in scores
        assert "style=" not in html.split('id="charts"')[1]  # the CSP allows no inline style


def test_charts_escape_labels_and_put_the_top_value_in_the_last_bin():
    assert charts.bins([0, 4.9, 5, 100], 0, 5, 100) == [2, 1] + [0] * 17 + [1]
    svg = charts.bars_svg("各单位", [("<script>甲</script>", 2)])
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    marked = charts.histogram_svg("得分", [90, 80], 75, 5, 100, [("一等奖分数线", 90)])
    assert "一等奖分数线：90（虚线）" in marked and 'stroke-dasharray="4 3"' in marked


def _cli(runner, *args):
    return runner.invoke(args=["review", *args])


def test_the_commands_write_each_document_and_print_its_path(runner, session, published, tmp_path, clock):
    competition, *_ = published
    clock.set(AFTER)
    cid = str(competition.id)
    made = {}
    for name, more in (("certificates", ["--per", "essay"]), ("booklet", ["--tiers", "二等奖"]), ("notice", [])):
        result = runner.invoke(args=["review", name, "--competition", cid, "--out", str(tmp_path / "out"), *more])
        assert result.exit_code == 0, result.output
        path = result.stdout.strip().splitlines()[-1]
        assert path.endswith("-草稿.docx") and (tmp_path / "out").joinpath(path.split("/")[-1]).is_file()
        made[name] = Document(path)
    assert sum(1 for p in made["certificates"].paragraphs if p.paragraph_format.page_break_before) == 2  # 3 pages
    assert [p.text for p in made["booklet"].paragraphs if p.style.name == "Heading 1"] == ["《平凡的世界》读后感"]
    paper = runner.invoke(args=["review", "certificates", "--competition", cid, "--out", str(tmp_path),
                                "--paper", "custom", "--width", "240", "--height", "170", "--margins", "40,20,30,30"])
    assert paper.exit_code == 0 and round(Document(paper.stdout.strip()).sections[0].page_width.mm) == 240
    refused = runner.invoke(args=["review", "booklet", "--competition", cid, "--out", str(tmp_path),
                                  "--tiers", "特等奖"])
    assert refused.exit_code == 1 and "（错误代码 BOOKLET_TIERS）" in refused.output


def test_the_commands_are_refused_before_the_publicity(runner, session, frozen, tmp_path):
    competition, *_ = frozen
    result = runner.invoke(args=["review", "notice", "--competition", str(competition.id), "--out", str(tmp_path)])
    assert result.exit_code == 1 and "（错误代码 DOCS_PHASE）" in result.output
    assert not list(tmp_path.iterdir())
    missing = runner.invoke(args=["review", "notice", "--competition", "999999", "--out", str(tmp_path)])
    assert missing.exit_code == 1 and "没有编号为 999999 的征文活动" in missing.output


@pytest.mark.parametrize("phase", ["published", "closed"])
def test_the_demo_in_publicity_and_closed_gives_the_documents(app, session, tmp_path, clock, phase):
    from review import documents
    from review.certificates import paper_from

    clock.set(FIXED_NOW)
    report = build_demo(session, password="demo-pass-2027", phase=phase, now=FIXED_NOW, files_dir=tmp_path / "files")
    competition = session.execute(select(Competition)).scalar_one()
    assert competition.phase == phase
    assert competition.opened_at < competition.intake_closed_at < FIXED_NOW
    pub = publicity.publication(session, competition)
    assert (pub.ends_at > FIXED_NOW) == (phase == "published")
    assert session.execute(select(OrganisationAward)).scalar_one().unit.name in "\n".join(report.lines())
    winners = [e for e in session.execute(select(RankEntry).where(RankEntry.award != "")).scalars()]
    for made in (documents.make_certificates(session, competition, FIXED_NOW, "author", paper_from()),
                 documents.make_booklet(session, competition, FIXED_NOW, ["一等奖", "二等奖", "三等奖"]),
                 documents.make_notice(session, competition, FIXED_NOW)):
        assert ("-草稿" in made.filename) == (phase == "published")
    assert len(winners) == 4
    assert verify_chain(session) == (True, None)
    lines = "\n".join(report.lines())
    assert ("公示期间为草稿" in lines) == (phase == "published") and ("活动已结束" in lines) == (phase == "closed")


def test_the_packaged_manifest_keeps_its_format_with_the_award(session, make, published):
    competition, *_ = published
    for rec in forward.choose(session, make.admin(), competition, "1", [], AFTER):
        forward.save_texts(session, make.admin(), rec, "主题鲜明。", "同意推荐。", AFTER)
    from essays.package import format as package

    data = package.write(package_build.build(session, competition, AFTER))
    read = package.read(data)
    assert read.competition["organisation_awards"] == ["城管执法乙中队"]
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert "获奖名单.docx" in z.namelist()


@pytest.mark.parametrize("phase", ["ranked", "published", "closed"])
def test_the_later_demo_phases_build_at_any_hour(app, session, tmp_path, clock, phase):
    """At 01:30 Shanghai too: intake closes after the demo's extension (which ends at a midnight)."""
    from datetime import UTC, datetime

    night = datetime(2027, 5, 9, 17, 30, tzinfo=UTC)
    clock.set(night)
    build_demo(session, password="demo-pass-2027", phase=phase, now=night, files_dir=tmp_path / "files")
    competition = session.execute(select(Competition)).scalar_one()
    assert competition.phase == phase
    assert max(e.until for e in competition.extensions) <= competition.intake_closed_at
