"""The documents made after the results (review.documents): award certificates, the
优秀征文汇编 and the 表彰通报, opened with python-docx and checked against the database;
GB/T 9704's page, grid and type; drafts during the 公示; the refusals."""

from __future__ import annotations

import io
import math
from datetime import timedelta

import pytest
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.oxml.ns import qn
from lxml import etree
from sqlalchemy import distinct, func, select

from essays.competitions.operations import move_phase
from essays.models import Submission, SubmissionVersion
from essays.platform.errors import Refusal
from review import certificates, documents, freeze, organisation, publicity
from review.models import Assignment, Publication, Score
from tests.test_review_flow import AFTER
from tests.test_review_flow import world as world  # (the fixture)
from tests.test_review_ranking_page import drop_unscored
from tests.test_review_ranking_page import scored as scored  # (the fixture)

TITLE_WITH_MARKS = "《平凡的世界》读后感"
SHOWN_ONCE = "《〈平凡的世界〉读后感》"


@pytest.fixture
def published(app, session, make, scored, clock):
    """The `scored` world frozen and on 公示 (7 days from AFTER): 甲 二等奖 (two authors, a
    title with marks of its own), 丙 三等奖; 乙 granted the 优秀组织奖."""
    competition, units, subs, judges, codes = scored
    subs["甲"].title, subs["甲"].authors = TITLE_WITH_MARKS, ["张三", "李四"]
    subs["丙"].authors = ["王五"]
    drop_unscored(session, make, judges)
    freeze.freeze(session, make.admin(), competition, AFTER, seed=1)
    publicity.publish(session, make.admin(), competition, "7", AFTER)
    organisation.grant(session, make.admin(), competition, [str(units["乙"].id)], AFTER)
    return competition, units, subs, judges, codes


def opened(made: documents.Made):
    return Document(io.BytesIO(made.data))


def pages(document) -> list[str]:
    """The document's text page by page, a page starting at each paragraph with pageBreakBefore."""
    found: list[list[str]] = []
    for paragraph in document.paragraphs:
        if not found or paragraph.paragraph_format.page_break_before:
            found.append([])
        found[-1].append(paragraph.text)
    return ["\n".join(page) for page in found]


def all_text(document) -> str:
    cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


def test_one_certificate_page_per_author_and_award(session, published):
    competition, units, subs, *_ = published
    made = documents.make_certificates(session, competition, AFTER, "author", certificates.paper_from())
    document = opened(made)
    shown = pages(document)
    assert made.count == len(shown) == 4  # 张三 and 李四 (甲), 王五 (丙), 乙 (优秀组织奖)
    assert "张三 同志：" in shown[0] and "李四 同志：" in shown[1] and "王五 同志：" in shown[2]
    for page in shown[:2]:
        assert f"你撰写的{SHOWN_ONCE}在解放思想大讨论征文中荣获二等奖。" in page and "特发此证。" in page
        assert "《《" not in page and "》》" not in page
    assert "荣获三等奖" in shown[2] and "城管执法丙中队" not in shown[2]
    assert shown[3].startswith("荣 誉 证 书\n城管执法乙中队：") and "荣获优秀组织奖" in shown[3]
    assert all("城管执法大队\n2027年5月23日" in page for page in shown)  # the organiser, the day (Shanghai)
    section = document.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (297, 210)  # A4 landscape by default
    assert section.orientation == WD_ORIENT.LANDSCAPE
    assert made.filename.endswith("荣誉证书-草稿.docx")
    assert [p.text for p in section.header.paragraphs] == ["草稿"]


def test_one_certificate_per_essay_lists_every_author_on_the_paper_asked_for(session, published):
    competition, *_ = published
    paper = certificates.paper_from("custom", "240", "170", "40", "20", "30", "30")
    made = documents.make_certificates(session, competition, AFTER, "essay", paper, heading=False)
    document = opened(made)
    shown = pages(document)
    assert len(shown) == 3 and shown[0].startswith("张三、李四 同志：\n你们撰写的")
    assert "荣 誉 证 书" not in "".join(shown)
    section = document.sections[0]
    assert round(section.page_width.mm, 1) == 240 and round(section.page_height.mm, 1) == 170
    assert [round(m.mm) for m in (section.top_margin, section.bottom_margin, section.left_margin,
                                  section.right_margin)] == [40, 20, 30, 30]


@pytest.mark.parametrize("args", [("custom", "", "170"), ("custom", "50", "170"), ("custom", "abc", "170"),
                                  ("a4_landscape", "", "", "200"), ("a4_portrait", "", "", "1", "1", "90", "90"),
                                  ("custom", "nan", "170")])
def test_a_paper_that_does_not_fit_is_refused(args):
    with pytest.raises(Refusal) as refused:
        certificates.paper_from(*args)
    assert refused.value.code == "CERT_PAPER"


def test_the_certificate_type_fits_every_certificate_on_its_page():
    long_title = "关于" + "新时代城市管理综合执法体制改革" * 6 + "的思考"
    made = [certificates.Certificate("张三 同志：", (f"你撰写的《{long_title}》在某活动中荣获一等奖。", "特发此证。"),
                                     ("张三",), "一等奖", long_title)]
    small = certificates.paper_from("custom", "180", "120", "20", "15", "20", "20")
    short = certificates.layout(small)
    fitted = certificates.layout(small, made)
    assert fitted.body_pt < short.body_pt  # the long title makes the type smaller
    ems = small.text_width / (fitted.body_pt * 25.4 / 72)
    lines = certificates.lines_of(made[0], ems) + 4
    assert lines * fitted.line_pt + fitted.heading_line_pt + fitted.body_pt <= small.text_height / 25.4 * 72


def test_the_booklet_has_a_filled_table_of_contents_and_the_winning_essays_in_award_order(session, published):
    competition, units, subs, *_ = published
    made = documents.make_booklet(session, competition, AFTER, ["二等奖", "三等奖"])
    document = opened(made)
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    assert headings == [TITLE_WITH_MARKS, subs["丙"].title] and made.count == 2  # 二等奖 first, as shown once
    body = document.element.body
    instructions = [t.text for t in body.iter(qn("w:instrText"))]
    assert any(i.strip().startswith("TOC ") for i in instructions)
    toc = [p.text for p in document.paragraphs if p.style.name == "toc 1"]
    assert len(toc) == 2 and all(h in entry for h, entry in zip(headings, toc, strict=True))
    kinds = [f.get(qn("w:fldCharType")) for f in body.iter(qn("w:fldChar"))]
    assert kinds[:2] == ["begin", "separate"] and "end" in kinds  # the TOC's result is in place
    assert document.settings.element.find(qn("w:updateFields")) is None  # nobody is asked to update
    jia = pages(document)[2]
    assert jia.startswith(f"{TITLE_WITH_MARKS}\n城管执法甲中队　张三、李四\n（二等奖）")
    # The original text, paragraph by paragraph: not the judges' copy, where 甲's name was redacted.
    text = subs["甲"].current.text
    for line in (x.strip() for x in text.splitlines() if x.strip() and x.strip() != "改革创新谈"):
        assert line in jia.split("\n")
    assert "城管执法甲中队 张明" in jia and "××" not in jia
    footer = document.sections[0].footer.paragraphs[0]
    assert "PAGE" in "".join(t.text for t in footer._element.iter(qn("w:instrText")))
    assert document.sections[0].different_first_page_header_footer  # no page number on the cover
    cover = pages(document)[0]
    assert all(x in cover for x in ("解放思想大讨论征文", "优秀征文汇编", "城管执法大队", "2027年5月"))


def test_the_booklet_takes_only_the_tiers_chosen(session, published):
    competition, units, subs, *_ = published
    document = opened(documents.make_booklet(session, competition, AFTER, ["三等奖"]))
    assert [p.text for p in document.paragraphs if p.style.name == "Heading 1"] == [subs["丙"].title]
    for chosen in ([], ["一等奖"], ["特等奖"]):
        with pytest.raises(Refusal) as refused:
            documents.make_booklet(session, competition, AFTER, chosen)
        assert refused.value.code == "BOOKLET_TIERS" and "二等奖、三等奖" in refused.value.message


def _database_figures(session, competition) -> dict:
    """The figures the 通报 states, asked of the database here independently."""
    cid = competition.id
    with_version = select(SubmissionVersion.submission_id)
    return {
        "units": session.execute(select(func.count(distinct(Submission.unit_id)))
                                 .where(Submission.competition_id == cid)).scalar_one(),
        "received": session.execute(select(func.count()).select_from(Submission).where(
            Submission.competition_id == cid, Submission.id.in_(with_version))).scalar_one(),
        "judged": session.execute(select(func.count(distinct(Assignment.code_id))).join(Score).where(
            Assignment.competition_id == cid, Score.status == "submitted", Score.void.is_(False))).scalar_one(),
        "judges": session.execute(select(func.count(distinct(Assignment.judge_id))).join(Score).where(
            Assignment.competition_id == cid, Score.status == "submitted")).scalar_one(),
        "published": session.get(Publication, cid).starts_at,
    }


def test_the_notice_states_the_figures_of_the_database(session, make, published):
    competition, units, subs, judges, codes = published
    # The factories set phases by hand: the dates the phase moves would have stored, here.
    competition.opened_at = AFTER - timedelta(days=40)
    competition.intake_closed_at = AFTER - timedelta(days=1)
    session.flush()
    want = _database_figures(session, competition)
    assert (want["units"], want["received"], want["judged"], want["judges"]) == (4, 4, 4, 3)
    document = opened(documents.make_notice(session, competition, AFTER))
    text = all_text(document)
    opening = next(p.text for p in document.paragraphs if p.text.startswith("为"))
    assert f"共收到{want['units']}个单位报送的征文{want['received']}篇" in opening
    assert f"经{want['judges']}名评委匿名评审，{want['judged']}篇征文获得有效评分" in opening
    assert "于2027年4月13日启动" in opening and "至2027年5月22日收稿截止" in opening  # Shanghai days
    assert "评选结果自2027年5月23日起进行了公示" in opening and want["published"] == AFTER
    assert "评出二等奖1篇、三等奖1篇，评出优秀组织奖1个" in opening
    assert document.paragraphs[0].text == "关于解放思想大讨论征文评选结果的通报"
    assert f"{SHOWN_ONCE}——城管执法甲中队——张三、李四" in text and "《《" not in text
    assert "城管执法乙中队" in [p.text for p in document.paragraphs]  # 优秀组织奖
    table = document.tables[-1]
    rows = [[c.text for c in row.cells] for row in table.rows]
    assert rows[0] == ["序号", "奖项", "题目", "单位", "作者"]
    assert rows[1] == ["1", "二等奖", SHOWN_ONCE, "城管执法甲中队", "张三、李四"]
    assert rows[3] == ["3", "优秀组织奖", "", "城管执法乙中队", ""] and len(rows) == 4


def test_official_documents_follow_gbt_9704(session, published):
    competition, *_ = published
    for made in (documents.make_notice(session, competition, AFTER),
                 documents.make_booklet(session, competition, AFTER, ["二等奖"])):
        document = opened(made)
        sect = document.sections[0]._sectPr
        size, margins = sect.find(qn("w:pgSz")), sect.find(qn("w:pgMar"))
        assert (int(size.get(qn("w:w"))), int(size.get(qn("w:h")))) == (11906, 16838)  # A4
        got = {k: round(int(margins.get(qn(f"w:{k}"))) * 25.4 / 1440) for k in ("top", "bottom", "left", "right")}
        assert got == {"top": 37, "bottom": 35, "left": 28, "right": 26}
        grid = sect.find(qn("w:docGrid"))
        assert grid.get(qn("w:type")) == "linesAndChars"
        height = int(size.get(qn("w:h"))) - int(margins.get(qn("w:top"))) - int(margins.get(qn("w:bottom")))
        width = int(size.get(qn("w:w"))) - int(margins.get(qn("w:left"))) - int(margins.get(qn("w:right")))
        assert height // int(grid.get(qn("w:linePitch"))) == 22
        pitch = 16 + int(grid.get(qn("w:charSpace"))) / 4096  # a 三号 character and the grid's spacing
        assert math.floor(width / 20 / pitch) == 28
        normal = document.styles["Normal"]
        assert normal.font.size.pt == 16  # 正文 三号
        fonts = normal.element.rPr.find(qn("w:rFonts"))
        assert fonts.get(qn("w:eastAsia")) == "仿宋_GB2312" and fonts.get(qn("w:asciiTheme")) is None
    title = document.styles["Heading 1"]
    assert title.font.size.pt == 22 and title.element.rPr.find(qn("w:rFonts")).get(qn("w:eastAsia")) == "方正小标宋简体"
    notice = opened(documents.make_notice(session, competition, AFTER))
    first = notice.paragraphs[0].runs[0]
    assert first.font.size.pt == 22
    assert first._element.rPr.find(qn("w:rFonts")).get(qn("w:eastAsia")) == "方正小标宋简体"


def test_the_fonts_are_declared_with_their_east_asian_fallbacks(session, published):
    competition, *_ = published
    document = opened(documents.make_notice(session, competition, AFTER))
    table = document.part.part_related_by(
        "http://schemas.openxmlformats.org/officeDocument/2006/relationships/fontTable")
    root = etree.fromstring(table.blob)
    declared = {f.get(qn("w:name")): (f.find(qn("w:altName")).get(qn("w:val")),
                                      f.find(qn("w:charset")).get(qn("w:val")))
                for f in root.iter(qn("w:font")) if f.find(qn("w:altName")) is not None}
    assert declared == {"方正小标宋简体": ("宋体", "86"), "仿宋_GB2312": ("仿宋", "86"), "楷体_GB2312": ("楷体", "86"),
                        "黑体": ("微软雅黑", "86")}


def test_final_documents_once_the_competition_is_closed(session, make, published, clock):
    competition, *_ = published
    later = AFTER + timedelta(days=8)
    move_phase(session, make.admin(), competition, "published", "closed", later)
    for made in (documents.make_notice(session, competition, later),
                 documents.make_certificates(session, competition, later, "author", certificates.paper_from()),
                 documents.make_booklet(session, competition, later, ["二等奖"])):
        assert "草稿" not in made.filename
        assert all(p.text == "" for p in opened(made).sections[0].header.paragraphs)


def test_a_withdrawn_award_gets_no_certificate_and_stays_out_of_the_documents(session, make, published):
    competition, units, subs, judges, codes = published
    entry = next(e for e in freeze.frozen(session, competition) if e.award == "三等奖")
    publicity.withdraw(session, make.admin(), entry, "经核查与往年作品雷同", AFTER)
    made = documents.make_certificates(session, competition, AFTER, "author", certificates.paper_from())
    assert made.count == 3 and "王五" not in all_text(opened(made))
    assert "王五" not in all_text(opened(documents.make_notice(session, competition, AFTER)))
    with pytest.raises(Refusal) as refused:
        documents.make_booklet(session, competition, AFTER, ["三等奖"])
    assert refused.value.code == "BOOKLET_TIERS"


def test_documents_are_refused_before_the_publicity_and_without_an_organiser(session, make, scored):
    competition, units, *_ = scored
    for make_document in (lambda: documents.make_notice(session, competition, AFTER),
                          lambda: documents.make_booklet(session, competition, AFTER, ["二等奖"])):
        with pytest.raises(Refusal) as refused:
            make_document()
        assert refused.value.code == "DOCS_PHASE" and "评审中" in refused.value.message
    competition.phase = "published"
    units["大队"].is_organiser = False
    session.flush()
    with pytest.raises(Refusal) as refused:
        documents.make_notice(session, competition, AFTER)
    assert refused.value.code == "DOCS_ORGANISER"


def test_the_booklet_keeps_an_essays_headings_and_tables():
    from datetime import datetime

    from review import booklet, clean_copy
    from review.outcome import Outcome, Winner

    text = ("城管改革的几点思考\n一、坚持以人民为中心\n"
            "城市管理要让群众满意，这是我们工作的出发点和落脚点，必须始终坚持。\n项目\t数量\n占道经营\t12\n二、创新执法方式\n推行“721”工作法，服务为主、管理为辅、执法为补，取得明显成效。")
    winner = Winner(1, 1, "一等奖", "城管执法甲中队", ("张三",), "城管改革的几点思考", 1)
    found = Outcome(1, "解放思想大讨论征文", "城管执法大队", False, ("一等奖",), (winner,), (), datetime(2027, 6, 1))
    document = Document(io.BytesIO(booklet.booklet_docx(
        found, [booklet.Essay(winner, tuple(clean_copy.blocks(text, winner.title)))])))
    styled = [(p.style.name, p.text) for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert styled == [("Heading 1", "城管改革的几点思考"), ("Heading 2", "一、坚持以人民为中心"),
                      ("Heading 2", "二、创新执法方式")]
    assert [[c.text for c in row.cells] for row in document.tables[0].rows] == [["项目", "数量"], ["占道经营", "12"]]
    assert sum(p.text == "城管改革的几点思考" for p in document.paragraphs) == 1  # the text's own title not repeated
