"""Format hints: the notice's format rules against a document's facts (pure), and on the pages."""

from __future__ import annotations

import io

import pytest
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from sqlalchemy import select

from essays.intake.docx.format import FormatFacts
from essays.intake.format_rules import clean_rules, describe_rules, format_warnings
from essays.models import Competition, Submission

RULES = {"paper": "A4", "body_font": "仿宋_GB2312", "body_size": "三号"}


def facts(page="A4", body_font="仿宋_GB2312", body_size=16.0, title_font=None, title_size=None):
    return FormatFacts(page=page, page_mm=(210, 297), landscape=False, body_font=body_font,
                       body_size_pt=body_size, title_font=title_font, title_size_pt=title_size)


@pytest.mark.parametrize(("document", "rules", "expected"), [
    (facts(), RULES, []),
    (facts(body_font="仿宋"), RULES, []),  # 仿宋 stands for 仿宋_GB2312 on most machines
    (facts(page="B5"), RULES, ["版面为 B5，通知要求 A4 纸。"]),
    (facts(body_font="宋体", body_size=12.0), RULES, ["正文字体字号主要为 宋体 小四，通知要求 仿宋_GB2312 三号。"]),
    (facts(body_size=15.0), RULES, ["正文字体字号主要为 仿宋_GB2312 小三，通知要求 仿宋_GB2312 三号。"]),
    (facts(title_font="黑体", title_size=22.0), {"title_font": "方正小标宋简体", "title_size": "二号"},
     ["标题字体字号主要为 黑体 二号，通知要求 方正小标宋简体 二号。"]),
    (facts(), {"title_font": "方正小标宋简体"}, []),  # no title detected: nothing to compare
    (facts(page="B5", body_font="宋体"), {}, []),
])
def test_format_warnings(document, rules, expected):
    assert format_warnings(document, rules) == expected


def test_clean_rules():
    assert clean_rules({"paper": "A4", "body_font": " 仿宋_GB2312 ", "body_size": "", "other": "x"}) == {
        "paper": "A4", "body_font": "仿宋_GB2312"}
    with pytest.raises(ValueError):
        clean_rules({"body_size": "很大"})
    with pytest.raises(ValueError):
        clean_rules({"paper": "A0"})
    assert describe_rules(RULES) == "A4 纸；正文 仿宋_GB2312 三号"


def song_ti_b5() -> bytes:
    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(176), Mm(250)
    run = document.add_paragraph().add_run("城管执法改革要坚持解放思想、实事求是。" * 5)
    run.font.size = Pt(12)
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "宋体")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_admin_sets_format_rules_and_the_receipt_warns(client, auth, make, session):
    make.user("admin", username="fmt_admin")
    auth.login("fmt_admin")
    form = {"title": "征文", "themes": "主题", "char_limit": 3000, "limit_is_hard": "hard", "count_title": "whole",
            "deadline": "2027-05-20", "min_per_unit": 1, "max_per_unit": 1, "notice_text": "通知",
            "format_paper": "A4", "format_body_font": "仿宋_GB2312", "format_body_size": "三号",
            "format_title_font": "", "format_title_size": ""}
    response = client.post("/admin/competitions/new", data={**form, "format_body_size": "很大"})
    assert response.status_code == 400 and "字号应写作" in response.get_data(as_text=True)
    assert client.post("/admin/competitions/new", data=form).status_code == 302
    competition = session.execute(select(Competition)).scalar_one()
    assert competition.format_rules == RULES
    page = client.get(f"/admin/competitions/{competition.id}").get_data(as_text=True)
    assert "A4 纸；正文 仿宋_GB2312 三号" in page
    competition.phase = "open"
    session.flush()
    auth.logout()
    unit = make.unit("格式中队")
    make.user("unit", unit=unit, username="fmt_unit")
    auth.login("fmt_unit")
    response = client.post(f"/unit/competitions/{competition.id}/submit", content_type="multipart/form-data",
                           data={"theme_id": competition.themes[0].id, "title": "", "authors": "张三",
                                 "contact_phone": "13800000000", "file": (io.BytesIO(song_ti_b5()), "a.docx")})
    assert response.status_code == 302  # a format problem is a hint, never a refusal
    page = client.get(response.location).get_data(as_text=True)
    assert "版面为 B5，通知要求 A4 纸。" in page
    assert "正文字体字号主要为 宋体 小四，通知要求 仿宋_GB2312 三号。" in page
    assert session.execute(select(Submission)).scalar_one().current.checks["warnings"]
