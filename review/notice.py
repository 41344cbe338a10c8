"""The draft of the 表彰通报 (关于……评选结果的通报), a 公文-style .docx that the 政工科 edits
before issuing it.

Rules:
- GB/T 9704's page and type (review.office_docx): the title in 方正小标宋简体 二号, the
  主送 line, the body in 仿宋_GB2312 三号, headings 一、 in 黑体 and （一） in 楷体_GB2312;
- the opening paragraph states the figures, each taken from the database by
  review.figures (units, essays received, judges, essays judged, when the competition
  opened, closed intake and was published, essays per theme); a date the database does
  not hold (a competition moved before the dates were stored) is left out of the sentence
  rather than guessed;
- the winners by tier, each line 《题目》——单位——作者 (the title with its book-title marks
  once, essays.intake.titles); then the units granted the 优秀组织奖; a closing paragraph;
- the 附件 line, the organiser and the date as 落款, and on a new page the attachment: the
  获奖名单 as a table (序号, 奖项, 题目, 单位, 作者);
- page numbers in the footer; 草稿 in the header while the results are on 公示.
"""

from __future__ import annotations

from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Mm, Pt

from essays.intake.titles import book_title
from review import office_docx as office
from review.figures import Figures
from review.outcome import Outcome

NUMBERS = "一二三四五六七八九十"
COLUMNS_MM = (13, 25, 56, 36, 26)  # 序号, 奖项, 题目, 单位, 作者: the 156 mm line
ADDRESSEES = "各中队、各科室："
CLOSING = ("希望受到表彰的单位和个人珍惜荣誉、再接再厉，继续发挥示范带动作用。"
           "各单位要以此次征文活动为契机，认真总结经验，把学习成果转化为推动工作的实际成效，"
           "为城市管理事业高质量发展贡献力量。")


def title_of(found: Outcome) -> str:
    return f"关于{found.title}评选结果的通报"


def attachment_title(found: Outcome) -> str:
    return f"{found.title}获奖名单"


def _date(figures: Figures, moment) -> str:
    day = figures.day(moment)
    return office.chinese_date(day) if day else ""


def opening(found: Outcome, figures: Figures) -> str:
    """The first paragraph, with the figures (see the module docstring)."""
    opened, closed, published = (_date(figures, m) for m in (figures.opened, figures.intake_closed,
                                                              figures.published))
    when = f"于{opened}启动" if opened else "开展"
    said = [f"为推动理论学习走深走实，{found.organiser}{when}{found.title}。"]
    said.append(f"至{closed}收稿截止，" if closed else "")
    said.append(f"共收到{figures.units}个单位报送的征文{figures.received}篇")
    themes = [f"“{name}”{n}篇" for name, n in figures.by_theme if n]
    said.append(f"（其中{'，'.join(themes)}）。" if len(figures.by_theme) > 1 and themes else "。")
    said.append(f"经{figures.judges}名评委匿名评审，{figures.judged}篇征文获得有效评分，")
    counts = "、".join(f"{tier}{len(winners)}篇" for tier, winners in found.by_tier())
    said.append(f"评出{counts}" if counts else "评出获奖作品")
    if found.organisation:
        said.append(f"，评出优秀组织奖{len(found.organisation)}个")
    said.append(f"，评选结果自{published}起进行了公示。" if published else "。")
    said.append("现将评选结果通报如下：")
    return "".join(said)


def winner_line(title: str, unit: str, authors: tuple[str, ...]) -> str:
    return "——".join(x for x in (book_title(title), unit, "、".join(authors)) if x)


def notice_docx(found: Outcome, figures: Figures) -> bytes:
    document = office.new_document(title_of(found), found.organiser, found.when)
    section = document.sections[0]
    office.page_number_footer(section)
    if found.draft:
        office.draft_header(section)
    center, right = WD_ALIGN_PARAGRAPH.CENTER, WD_ALIGN_PARAGRAPH.RIGHT
    office.add_paragraph(document, title_of(found), office.TITLE_FONT, office.TITLE_PT, align=center)
    office.add_paragraph(document)
    office.add_paragraph(document, ADDRESSEES)
    office.add_paragraph(document, opening(found, figures), indent_chars=2, align=WD_ALIGN_PARAGRAPH.JUSTIFY)
    part = 0
    tiers = found.by_tier()
    if tiers:
        office.add_paragraph(document, f"{NUMBERS[part]}、获奖作品", office.HEI_FONT, indent_chars=2)
        part += 1
        for i, (tier, winners) in enumerate(tiers):
            office.add_paragraph(document, f"（{NUMBERS[i]}）{tier}（{len(winners)}篇）", office.KAI_FONT,
                                 indent_chars=2)
            for w in winners:
                office.add_paragraph(document, winner_line(w.title, w.unit, w.authors), indent_chars=2)
    if found.organisation:
        office.add_paragraph(document, f"{NUMBERS[part]}、优秀组织奖", office.HEI_FONT, indent_chars=2)
        office.add_paragraph(document, "、".join(found.organisation), indent_chars=2)
    office.add_paragraph(document, CLOSING, indent_chars=2, align=WD_ALIGN_PARAGRAPH.JUSTIFY)
    office.add_paragraph(document)
    office.add_paragraph(document, f"附件：{attachment_title(found)}", indent_chars=2)
    office.add_paragraph(document)
    office.add_paragraph(document)
    sign = office.add_paragraph(document, found.organiser, align=right)
    sign.paragraph_format.right_indent = Pt(4 * office.BODY_PT)
    day = office.add_paragraph(document, office.chinese_date(found.day), align=right)
    day.paragraph_format.right_indent = Pt(4 * office.BODY_PT)
    _attachment(document, found)
    return office.finish(document)


def _attachment(document, found: Outcome) -> None:
    office.add_paragraph(document, "附件", office.HEI_FONT, page_break_before=True)
    office.add_paragraph(document)
    office.add_paragraph(document, attachment_title(found), office.TITLE_FONT, office.TITLE_PT,
                         align=WD_ALIGN_PARAGRAPH.CENTER)
    office.add_paragraph(document)
    rows = [("序号", "奖项", "题目", "单位", "作者")]
    rows += [(str(i), w.award, book_title(w.title), w.unit, "、".join(w.authors))
             for i, w in enumerate(found.winners, start=1)]
    rows += [(str(len(rows) + i), "优秀组织奖", "", unit, "") for i, unit in enumerate(found.organisation)]
    table = document.add_table(rows=len(rows), cols=5)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for column, width in zip(table.columns, COLUMNS_MM, strict=True):
        column.width = Mm(width)
    for r, (row, values) in enumerate(zip(table.rows, rows, strict=True)):
        for cell, width, value in zip(row.cells, COLUMNS_MM, values, strict=True):
            cell.width = Mm(width)  # Word reads the cells' widths, LibreOffice the grid's
            paragraph = cell.paragraphs[0]
            office.off_grid(paragraph)  # a 小四 table, not 三号 body text on the 28-character grid
            paragraph.paragraph_format.space_before = paragraph.paragraph_format.space_after = Pt(3)
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER if r == 0 or len(value) < 6 else None
            office.add_run(paragraph, value, office.HEI_FONT if r == 0 else office.BODY_FONT, office.SIZES["小四"])
