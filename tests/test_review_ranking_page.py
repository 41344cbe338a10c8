"""The admin's ranking preview: every method beside the chosen one, subtotals, void sheets,
ties explained, awards previewed, judges' profiles and disagreements; codes only."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import select

from essays.platform.models import AuditLog
from review import assignments, freeze, scoring, standings
from review.models import Assignment, RankEntry
from tests.test_review_flow import AFTER, flash_error, page_text, prepared
from tests.test_review_flow import world as world

# judge index -> essay -> total, spread over the four criteria as (c1, c2, c3, c4)
SHEETS = {
    0: {"甲": (28, 22, 22, 18), "乙": (20, 15, 15, 10), "丙": (25, 20, 20, 15), "甲一": (10, 5, 5, 5)},
    1: {"甲": (27, 23, 21, 17), "乙": (22, 16, 14, 12), "丙": (24, 21, 19, 16), "甲一": (12, 6, 5, 5)},
    2: {"甲": (29, 24, 23, 19), "乙": (21, 14, 16, 11), "丙": (26, 20, 21, 14), "甲一": (29, 24, 24, 19)},
}


def drop_unscored(session, make, judges):
    """Removes the assignments of the two judges who scored nothing (judge_jia, judge_dd), so
    that every live sheet is submitted and the ranking can be frozen."""
    admin = make.admin()
    for a in session.execute(select(Assignment)).scalars().all():
        if a.judge_id in (judges[3].id, judges[4].id):
            assignments.remove_pair(session, admin, a, "")


@pytest.fixture
def scored(session, make, world):
    competition, units, subs, judges = world
    codes = prepared(session, make, world)
    for j, essays in SHEETS.items():
        for name, points in essays.items():
            assignment = session.execute(select(Assignment).where(
                Assignment.judge_id == judges[j].id, Assignment.code_id == codes[subs[name].id].id)).scalar_one()
            scoring.submit(session, judges[j], assignment, dict(zip(("c1", "c2", "c3", "c4"),
                                                                    map(str, points), strict=True)), {}, "", AFTER)
    make.user("admin", username="boss")
    return competition, units, subs, judges, codes


def test_standings_rank_by_trimmed_mean_with_every_method_beside(session, scored):
    competition, units, subs, judges, codes = scored
    found = standings.standings(session, competition)
    order = [row.code.submission_id for row in found.rows]
    assert order[:3] == [subs["甲"].id, subs["丙"].id, subs["乙"].id]
    top = found.rows[0].result
    assert top.scores["mean"] == 91 and top.subtotals["c1"] == 28 and top.counted == 3  # 90, 88, 95
    assert found.pending > 0  # judge_jia and judge_dd have not scored
    assert subs["甲一"].id in [r.code.submission_id for r in found.disagreements]  # 30 vs 96


def test_the_preview_page_shows_codes_only(client, auth, session, scored):
    competition, units, subs, judges, codes = scored
    auth.login("boss")
    page = client.get(f"/admin/competitions/{competition.id}/ranking")
    text = page_text(page)
    assert "排名预览" in text and "还有" in text and "份评分未提交" in text
    # Unit names only in the 优秀组织奖 section (counts per unit, no codes); nowhere else.
    html = re.sub(r'<section class="card" id="organisation">.*?</section>', "", page.get_data(as_text=True),
                  flags=re.S)
    assert not any(u.name in unescape(html) for u in units.values())
    rows = re.findall(r'<tr id="code-\d+">(.*?)</tr>', page.get_data(as_text=True), re.S)
    # Four eligible essays: 10% rounds to no 一等奖, 20% and 30% to one 二等奖 and one 三等奖.
    assert codes[subs["甲"].id].code in rows[0] and "二等奖" in unescape(rows[0])
    table = re.search(r'<table id="ranking">.*?</table>', page.get_data(as_text=True), re.S).group(0)
    assert "三等奖" in unescape(rows[1]) and "一等奖" not in table
    assert "<svg" in page.get_data(as_text=True) and "评委1号" in text
    assert "最高分与最低分相差" in text
    median = page_text(client.get(f"/admin/competitions/{competition.id}/ranking?method=median"))
    assert "中位数" in median


def test_freezing_is_refused_while_sheets_are_missing(client, auth, session, scored):
    competition, units, subs, judges, codes = scored
    auth.login("boss")
    refused = client.post(f"/admin/competitions/{competition.id}/ranking/freeze")
    assert refused.status_code == 409 and "RANK_PENDING" in flash_error(refused)
    session.refresh(competition)
    assert competition.phase == "review"
    generic = client.post(f"/admin/competitions/{competition.id}/phase",
                          data={"target": "ranked", "expected": "review"})
    assert generic.status_code == 409 and "请在“排名预览”页冻结排名" in flash_error(generic)


def test_the_rules_are_declared_then_the_ranking_frozen_with_its_seed(client, auth, session, make, scored):
    competition, units, subs, judges, codes = scored
    drop_unscored(session, make, judges)
    auth.login("boss")
    base = f"/admin/competitions/{competition.id}/ranking"
    bad = client.post(base + "/rule", data={"method": "mean", "tiers": "一等奖 十个", "cap": ""})
    assert bad.status_code == 400 and "RANK_TIERS" in flash_error(bad)
    assert client.post(base + "/rule", data={"method": "mean", "tiers": "一等奖 1\n二等奖 50%", "cap": "1"}
                       ).status_code == 302
    assert client.post(base + "/freeze").status_code == 302
    session.refresh(competition)
    assert competition.phase == "ranked"
    entries = {e.code_id: e for e in session.execute(select(RankEntry)).scalars()}
    first = entries[codes[subs["甲"].id].id]
    assert (first.rank, first.award) == (1, "一等奖")
    entry = session.execute(select(AuditLog).where(AuditLog.action == "review.freeze")).scalar_one()
    assert entry.after["method"] == "mean" and isinstance(entry.after["seed"], int) and entry.after["entries"] == 4
    page = page_text(client.get(base))
    assert "已冻结的排名" in page and "城管执法甲中队" in page  # units shown once frozen
    assert client.post(base + "/freeze").status_code == 409  # once only


def test_the_cli_prints_the_preview_then_the_frozen_ranking(runner, session, make, scored):
    import json

    competition, units, subs, judges, codes = scored
    result = runner.invoke(args=["review", "rank", "--competition", str(competition.id), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["frozen"] is False and data["entries"][0]["code"] == codes[subs["甲"].id].code
    assert "unit" not in data["entries"][0]  # codes only before freezing
    text = runner.invoke(args=["review", "rank", "--competition", str(competition.id)]).output
    assert codes[subs["甲"].id].code in text and "城管执法甲中队" not in text
    assert runner.invoke(args=["review", "rank", "--competition", "9999"]).exit_code == 1


def test_the_frozen_ranking_exports_as_csv_and_prints(client, auth, session, make, scored):
    import csv
    import io

    competition, units, subs, judges, codes = scored
    drop_unscored(session, make, judges)
    subs["乙"].title = "=HYPERLINK(\"http://x\")乙的题目"
    session.flush()
    auth.login("boss")
    base = f"/admin/competitions/{competition.id}/ranking"
    assert client.get(base + "/summary.csv").status_code == 404  # nothing frozen yet
    assert client.post(base + "/freeze").status_code == 302
    response = client.get(base + "/summary.csv")
    assert response.status_code == 200 and response.data.startswith("\ufeff".encode())
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0] == ["序号", "作品编号", "单位", "作者", "题目", "字数", "评委1", "评委2", "评委3", "最终得分",
                       "名次", "奖项", "查重结论"]
    first = rows[1]
    assert first[1] == codes[subs["甲"].id].code and first[2] == "城管执法甲中队" and first[3] == "张三"
    assert first[6:9] == ["90", "88", "95"] and first[10] == "1"
    yi = next(r for r in rows if r[2] == "城管执法乙中队")
    assert yi[4].startswith("'=HYPERLINK")  # never run as a formula
    printed = page_text(client.get(base + "/print"))
    assert "评审结果" in printed and "城管执法甲中队" in printed and "评委1" in printed
    assert not any(j.display_name in printed for j in judges)


def test_the_frozen_ranking_exports_as_xlsx(client, auth, session, make, scored):
    import io

    from openpyxl import load_workbook

    competition, units, subs, judges, codes = scored
    drop_unscored(session, make, judges)
    subs["乙"].title = "@SUM(A1:A9)乙的题目"
    session.flush()
    auth.login("boss")
    base = f"/admin/competitions/{competition.id}/ranking"
    assert client.get(base + "/summary.xlsx").status_code == 404  # nothing frozen yet
    client.post(base + "/freeze")
    response = client.get(base + "/summary.xlsx")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert sheet.title == "汇总表" and sheet.freeze_panes == "A2" and sheet["A1"].font.bold
    header = [c.value for c in sheet[1]]
    assert header[:6] == ["序号", "作品编号", "单位", "作者", "题目", "字数"] and header[-4:] == [
        "最终得分", "名次", "奖项", "查重结论"]
    first = [c.value for c in sheet[2]]
    assert first[2] == "城管执法甲中队" and first[6:9] == [90, 88, 95] and first[9] == 91
    assert first[10] == 1 and isinstance(first[5], int)  # numbers as numbers
    yi = next(row for row in sheet.iter_rows(min_row=2, values_only=True) if row[2] == "城管执法乙中队")
    assert yi[4].startswith("'@SUM")
    assert sheet.column_dimensions["C"].width >= 14  # 城管执法甲中队: 7 CJK characters


def test_the_organisation_award_candidates_are_listed_by_unit(client, auth, session, make, scored):
    from review import prepare
    from tests.test_review_flow import AFTER

    competition, units, subs, judges, codes = scored
    make.unit("城管执法丁中队", short_name="丁中队", parent_id=units["大队"].id)  # no essay
    prepare.exclude(session, make.admin(), codes[subs["甲一"].id], "抄袭", AFTER)  # out of the review: not counted
    auth.login("boss")
    page = client.get(f"/admin/competitions/{competition.id}/ranking")
    section = re.search(r'<section class="card" id="organisation">(.*?)</section>', page.get_data(as_text=True),
                        re.S).group(1)
    rows = [unescape(re.sub(r"<[^>]+>", "|", r)) for r in re.findall(r"<tr>(.*?)</tr>", section, re.S)][1:]
    listed = [[cell for cell in row.split("|") if cell.strip()] for row in rows]
    assert listed == [["城管执法甲中队", "1 篇"], ["城管执法乙中队", "1 篇"], ["城管执法丙中队", "1 篇"]]
    assert not any(c.code in section for c in codes.values())  # counts per unit, never its codes
    drop_unscored(session, make, judges)
    assert client.post(f"/admin/competitions/{competition.id}/ranking/freeze").status_code == 302
    frozen = client.get(f"/admin/competitions/{competition.id}/ranking")
    assert 'id="organisation"' in frozen.get_data(as_text=True) and 'id="second-round"' not in frozen.get_data(
        as_text=True)


@pytest.fixture
def marked(session, make, world):
    """The ranking frozen with every kind of judge cell: judge_jia (attached to 甲中队) recuses
    from 甲 and its child 甲一 and scores 乙 and 丙; judge3 declares a conflict with 丙 and is
    taken off 乙 (not assigned, no conflict); judge2's sheet of 乙 fails the gate (void);
    judge_dd is taken off everything (no column)."""
    from review.rubric import DEFAULT, Rubric

    competition, units, subs, judges = world
    admin = make.user("admin", username="boss")
    scoring.save_rubric(session, admin, competition, Rubric(DEFAULT.criteria, DEFAULT.step, ("原创",)), AFTER)
    codes = prepared(session, make, world)

    def pair(judge, name):
        return session.execute(select(Assignment).where(Assignment.judge_id == judge.id,
                                                        Assignment.code_id == codes[subs[name].id].id)).scalar_one()

    for a in session.execute(select(Assignment).where(Assignment.judge_id == judges[4].id)).scalars().all():
        assignments.remove_pair(session, admin, a, "")
    assignments.declare_conflict(session, judges[2], codes[subs["丙"].id], "作者是我的亲属", AFTER)
    assignments.remove_pair(session, admin, pair(judges[2], "乙"), "")
    sheets = {**SHEETS, 3: {"乙": (22, 15, 15, 11), "丙": (24, 20, 20, 16)}}
    for j, essays in sheets.items():
        for name, points in essays.items():
            if (j, name) in ((2, "丙"), (2, "乙")):
                continue
            gate = {"原创": not (j == 1 and name == "乙")}
            scoring.submit(session, judges[j], pair(judges[j], name),
                           dict(zip(("c1", "c2", "c3", "c4"), map(str, points), strict=True)), gate, "", AFTER)
    from review import freeze

    freeze.freeze(session, admin, competition, AFTER, seed=1)
    return competition, units, subs, judges, codes


LEGEND = ("说明：“回避”表示该评委与作品所属单位有关联（本单位或其上级、下级单位）或申报了回避，未评这篇作品；"
          "“作废”表示该评委在否决项中答了“否”，这份评分作废，不计入最终得分；空白表示未分配该评委评这篇作品。")


def _judge_cells(headers, rows) -> dict[str, list]:
    """Unit name -> the cells under 评委1…评委n."""
    first, last = headers.index("评委1"), headers.index("最终得分")
    return {row[2]: list(row[first:last]) for row in rows}


def test_the_summary_says_who_recused_and_which_sheet_is_void(client, auth, marked):
    import io

    from openpyxl import load_workbook

    competition = marked[0]
    auth.login("boss")
    base = f"/admin/competitions/{competition.id}/ranking"
    sheet = load_workbook(io.BytesIO(client.get(base + "/summary.xlsx").data)).active
    table = [[c.value for c in row] for row in sheet.iter_rows()]
    headers = table[0]
    assert headers[6:10] == ["评委1", "评委2", "评委3", "评委4"]  # judge_dd scored nothing: no column
    body = table[1:5]
    cells = _judge_cells(headers, body)
    assert cells["城管执法甲中队"] == [90, 88, 95, "回避"]
    assert cells["甲中队一分队"] == [25, 28, 96, "回避"]
    assert cells["城管执法乙中队"] == [60, "作废", None, 63]  # judge3 was not assigned 乙: blank
    assert cells["城管执法丙中队"] == [80, 80, "回避", 80]
    assert all(isinstance(v, int | float) for row in cells.values() for v in row if v not in ("回避", "作废", None))
    assert table[5] == [None] * len(headers)  # a blank row, then the legend under the table
    assert table[6][0] == LEGEND and sheet.max_row == 7


def test_the_csv_and_the_printed_table_say_who_recused_and_which_sheet_is_void(client, auth, marked):
    import csv
    import io

    competition = marked[0]
    auth.login("boss")
    base = f"/admin/competitions/{competition.id}/ranking"
    rows = list(csv.reader(io.StringIO(client.get(base + "/summary.csv").data.decode("utf-8-sig"))))
    cells = _judge_cells(rows[0], rows[1:5])
    assert cells["城管执法甲中队"] == ["90", "88", "95", "回避"]
    assert cells["城管执法乙中队"] == ["60", "作废", "", "63"]
    assert cells["城管执法丙中队"] == ["80", "80", "回避", "80"]
    assert rows[5:] == [[LEGEND]]  # the final note row
    printed = client.get(base + "/print").get_data(as_text=True)
    body = re.search(r"<tbody>(.*?)</tbody>", printed, re.S).group(1)
    printed_rows = [[unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)]
                    for r in re.findall(r"<tr>(.*?)</tr>", body, re.S)]
    cells = _judge_cells(rows[0], printed_rows)
    assert cells["城管执法乙中队"] == ["60", "作废", "", "63"] and cells["甲中队一分队"][3] == "回避"
    assert LEGEND in page_text(client.get(base + "/print"))


def test_the_package_summary_says_who_recused_and_which_sheet_is_void(session, make, marked):
    import io

    from openpyxl import load_workbook

    from essays.package import format as package
    from review import forward, package_build

    competition, units, subs, judges, codes = marked
    for rec in forward.choose(session, make.admin(), competition, "", ["二等奖", "三等奖"], AFTER):
        forward.save_texts(session, make.admin(), rec, "主题鲜明。", "同意推荐。", AFTER)
    built = package.read(package.write(package_build.build(session, competition, AFTER)))
    sheet = load_workbook(io.BytesIO(dict(built.extras)["汇总表.xlsx"])).active
    table = [[c.value for c in row] for row in sheet.iter_rows()]
    chosen = [row for row in table[1:] if isinstance(row[0], int)]
    assert len(chosen) == 2 and table[-1][0] == LEGEND
    cells = _judge_cells(table[0], chosen)
    assert any("回避" in row or "作废" in row for row in cells.values())


def test_the_print_version_keeps_short_cells_on_one_line(client, auth, session, make, scored):
    """一等奖 must not wrap into 一等 / 奖 on paper: every cell but 单位, 作者 and 题目 is nowrap."""
    from tests.test_review_publicity import drop_unscored

    competition, units, subs, judges, codes = scored
    drop_unscored(session, make, judges)
    freeze.freeze(session, make.admin(), competition, AFTER, seed=1)
    auth.login("boss")
    page = client.get(f"/admin/competitions/{competition.id}/ranking/print").get_data(as_text=True)
    cells = re.findall(r"<td( class=\"nowrap\")?>([^<]*)</td>", page)
    awards = [nowrap for nowrap, text in cells if text in ("一等奖", "二等奖", "三等奖")]
    assert awards and all(awards)
