"""One whole competition, walked through the browser as its people walk it, with no
shortcut through the database: the 政工科's first login, the roster, a new competition,
uploads by four units (one replaced with a file of another title, one copied from another,
one bad file first), the deadline passing on the app's clock, intake closed, the copy
check and its decisions, codes and the identity check, a rubric with a 否决项, judges
assigned, three judges scoring (a recusal, a 否决项), 复议, the ranking frozen and published,
an objection and its answer, the 公示 over, 已结束, and the package for the bureau.

It asserts what people read: the confirmed titles on the 公示, in 获奖名单.docx, in the
package's 原件 names and manifest.json; the 汇总表's cells; that each role sees only
its own. Screenshots of every step go to test-artifacts/journey/. The only setup outside
the browser is the one a real deployment has: the first admin made with `create-user`.
"""

from __future__ import annotations

import io
import json
import random
import re
import zipfile
from datetime import timedelta

import pytest
from docx import Document
from openpyxl import Workbook, load_workbook
from playwright.sync_api import Page, expect

from essays.demo.text import EssayPlan, EssayWriter, load_corpus
from tests.browser_support import REPO_ROOT, open_page
from tests.factories import DEADLINE, docx_bytes

pytest_plugins = ["tests.browser_support"]
pytestmark = pytest.mark.browser

SHOTS = REPO_ROOT / "test-artifacts" / "journey"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
INITIAL = "Chushi2027mima"
NEW_PASSWORD = "Xin2027mima"

ROSTER = [  # 单位, 简称, 联系人, 联系电话, 账号, 姓名, 角色
    ("城管执法大队", "大队", "王科长", "0731-84420001", "dadui", "赵大队", "单位"),
    ("第一中队", "一中队", "陈志刚", "0731-84421101", "unit1", "陈志刚", "单位"),
    ("第二中队", "二中队", "刘卫东", "0731-84421102", "unit2", "刘卫东", "单位"),
    ("第三中队", "三中队", "周建平", "0731-84421103", "unit3", "周建平", "单位"),
    ("法制科", "法制科", "曾繁荣", "0731-84421104", "unit4", "曾繁荣", "单位"),
    ("渣土管理中队", "渣土中队", "龙海波", "0731-84421105", "unit5", "龙海波", "单位"),
    ("", "", "", "", "judge1", "李德明", "评委"),
    ("第三中队", "", "", "", "judge2", "孙评委", "评委"),
    ("", "", "", "", "judge3", "何秋云", "评委"),
]

FIRST_TITLE = "五四运动的精神内涵和历史意义"  # unit1's first version
REPLACED_TITLE = "当代青年如何践行五四精神"  # unit1's replacement: the title that must win
THIRD_TITLE = "以精细化管理提升城市品质"  # unit3
FOURTH_TITLE = "法治城管建设的思考"  # unit4
COPY_TITLE = "以思想解放推动城管发展"  # unit2, copied from unit1's replacement


def essays() -> dict[str, list[str]]:
    writer = EssayWriter(load_corpus(), "journey")
    rng = random.Random(7)

    def write(title, topics, target=1800):
        return writer.write(EssayPlan(title, topics, "全面提升城市管理水平", target=target), rng).paragraphs

    replaced = write(REPLACED_TITLE, ["服务群众", "党建作风", "文明城市创建"])
    return {
        "first": write(FIRST_TITLE, ["解放思想", "改革创新", "精细化管理"]),
        "replaced": replaced,
        "third": [*write(THIRD_TITLE, ["精细化管理", "文明城市创建"]),
                  "我们第三中队在老城区推行网格化管理，占道经营明显减少。"],
        "fourth": write(FOURTH_TITLE, ["改革创新", "存在问题"]),
        "copy": [*replaced[:-2], "以上是我们的一些粗浅体会。"],
    }


def roster_xlsx() -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(["单位", "简称", "联系人", "联系电话", "账号", "姓名", "角色"])
    for row in ROSTER:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


class Journey:
    """The people of the competition, each in a browser of their own."""

    def __init__(self, browser, live_server, clock):
        self.browser, self.server, self.clock = browser, live_server, clock
        self.contexts = []
        self.passwords: dict[str, str] = {}
        self.step = 0
        SHOTS.mkdir(parents=True, exist_ok=True)
        for old in SHOTS.glob("*.png"):  # one walk's steps, numbered in order, nothing left from another
            old.unlink()

    def person(self, username: str) -> Page:
        """A fresh browser (as on another day or another PC), logged in; a first login
        changes the initial password as the app demands."""
        context, watch = open_page(self.browser, self.server)
        context.set_default_timeout(30_000)  # a long walk on a shared machine: patience, not sleeps
        self.contexts.append((context, watch))
        page = watch.page
        page.on("dialog", lambda dialog: dialog.accept())
        page.goto("/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", self.passwords.get(username, INITIAL))
        with page.expect_navigation():
            page.get_by_role("button", name="登录", exact=True).click()
        if "/password" in page.url:
            page.fill("input[name=current]", self.passwords.get(username, INITIAL))
            page.fill("input[name=new]", NEW_PASSWORD)
            page.fill("input[name=confirm]", NEW_PASSWORD)
            with page.expect_navigation():
                page.get_by_role("button", name="保存新密码").click()
            self.passwords[username] = NEW_PASSWORD
        expect(page.locator(".topbar .account")).to_be_visible()
        return page

    def shot(self, page: Page, name: str) -> None:
        self.step += 1
        page.screenshot(path=str(SHOTS / f"{self.step:02d}-{name}.png"), full_page=True)

    def close(self):
        from tests.browser_support import check_clean

        for context, watch in self.contexts:
            try:
                check_clean(watch)
            finally:
                context.close()


def flash(page: Page, kind: str = "success"):
    return page.locator(f".flash-{kind}")


def upload(page: Page, data: bytes, filename: str, title: str = "", authors: str = "张三", theme: int = 0):
    if page.locator("select[name=theme_id]").count():
        page.locator("select[name=theme_id]").select_option(index=theme)
    page.fill("input[name=title]", title)
    page.fill("input[name=authors]", authors)
    page.fill("input[name=contact_phone]", "13800001111")
    page.set_input_files("input[name=file]", files=[{"name": filename, "mimeType": DOCX, "buffer": data}])
    # The page uploads with a progress bar (XHR) and then shows the server's answer in place:
    # the receipt, or the form again with the refusal.
    page.get_by_role("button", name="上传").click()
    expect(page.locator("#receipt, .flash-error").first).to_be_visible()


def advance(page: Page, competition_url: str, phase_name: str) -> None:
    """The competition page's 进入下一阶段 button, then 确认 on the confirmation page."""
    page.goto(competition_url)
    page.get_by_role("link", name=f"进入下一阶段：{phase_name}").click()
    with page.expect_navigation():
        page.get_by_role("button", name="确认").click()
    expect(page.locator("#current-phase")).to_have_text(phase_name)


def test_a_whole_competition_through_the_browser(browser, live_server, clock):
    app = live_server.app
    result = app.test_cli_runner().invoke(args=["create-user", "boss", "--role", "admin", "--name", "王科长",
                                                "--password", INITIAL])
    assert result.exit_code == 0, result.output
    texts = essays()
    journey = Journey(browser, live_server, clock)
    expect.set_options(timeout=15_000)
    try:
        walk(journey, texts)
    finally:
        expect.set_options(timeout=5_000)  # Playwright's default, for the tests after this one
        journey.close()


def walk(j: Journey, texts: dict[str, list[str]]) -> None:
    # --- the 政工科 sets up: first login, roster, the competition ----------------------------
    admin = j.person("boss")
    j.shot(admin, "admin-first-login")
    admin.goto("/admin/roster")
    admin.set_input_files("input[name=file]", files=[{
        "name": "名单.xlsx", "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "buffer": roster_xlsx()}])
    with admin.expect_navigation():
        admin.get_by_role("button", name="导入").click()
    rows = admin.locator("#initial-passwords tbody tr")
    expect(rows).to_have_count(len(ROSTER))
    for i in range(len(ROSTER)):  # the initial passwords, as the 政工科 hands them out
        cells = rows.nth(i).locator("td")
        j.passwords[cells.nth(2).inner_text().strip()] = cells.nth(3).inner_text().strip()
    j.shot(admin, "roster-passwords")

    admin.goto("/admin/units")
    admin.get_by_role("row", name=re.compile("城管执法大队")).get_by_role("link", name="编辑").click()
    admin.get_by_label("主办单位（大队本级）").check()
    with admin.expect_navigation():
        admin.get_by_role("button", name="保存").click()

    admin.goto("/admin/competitions/new")
    admin.fill("input[name=title]", "纪念五四运动征文活动")
    admin.fill("textarea[name=notice_text]", "关于开展纪念五四运动征文活动的通知\n\n各中队、科室：\n"
               "请围绕下列主题撰写论文，每单位报送 1 至 2 篇，每篇 3000 字以内，于5月20日前提交。")
    admin.fill("textarea[name=themes]", "弘扬五四精神\n提升城市管理水平")
    admin.fill("input[name=deadline]", "2027-05-20")
    admin.fill("input[name=min_per_unit]", "1")
    admin.fill("input[name=max_per_unit]", "2")
    with admin.expect_navigation():
        admin.get_by_role("button", name="保存").click()
    competition_url = admin.url
    competition_id = int(re.search(r"/competitions/(\d+)", competition_url).group(1))
    advance(admin, competition_url, "收稿中")
    expect(admin.locator("#next-phase-refused")).to_have_text("下一阶段“收稿截止”暂不能进入：尚未到截止时间。")
    j.shot(admin, "competition-open")

    # --- units upload ---------------------------------------------------------------------------
    unit1 = j.person("unit1")
    expect(unit1.locator(f"#quota-{competition_id}")).to_contain_text("每单位 1–2 篇")
    expect(unit1.locator(f"#notice-{competition_id}")).to_contain_text("各中队、科室")
    j.shot(unit1, "unit-home")
    unit1.get_by_role("link", name="提交论文").click()
    upload(unit1, docx_bytes(texts["first"], title=FIRST_TITLE), "五四.docx", title=FIRST_TITLE, authors="陈志刚")
    expect(flash(unit1)).to_contain_text("已收到您的文章（第 1 版）")
    unit1.get_by_role("link", name="替换为新版本").click()
    expect(unit1.locator("input[name=title]")).to_have_value("")  # the replacement starts with no title
    upload(unit1, docx_bytes(texts["replaced"], title=REPLACED_TITLE), "五四-修改稿.docx", title=FIRST_TITLE,
           authors="陈志刚")
    expect(flash(unit1, "info")).to_contain_text("您填写的题目与文中的标题不一致")
    j.shot(unit1, "title-question")
    unit1.get_by_label(re.compile("文中的标题")).check()
    with unit1.expect_navigation():
        unit1.get_by_role("button", name="确认题目").click()
    expect(unit1.locator("#receipt-title")).to_have_text(REPLACED_TITLE)
    j.shot(unit1, "receipt-replaced")

    unit2 = j.person("unit2")
    unit2.get_by_role("link", name="提交论文").click()
    upload(unit2, docx_bytes(texts["copy"], title=COPY_TITLE), "思想解放.docx", authors="刘卫东")
    expect(flash(unit2)).to_contain_text("已收到您的文章")

    unit3 = j.person("unit3")
    unit3.get_by_role("link", name="提交论文").click()
    upload(unit3, b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n", "论文.docx",
           authors="周建平")
    expect(flash(unit3, "error")).to_contain_text("UPLOAD_PDF")
    j.shot(unit3, "bad-file-refused")
    upload(unit3, docx_bytes(texts["third"], title=THIRD_TITLE), "精细化管理.docx", authors="周建平", theme=1)
    expect(flash(unit3)).to_contain_text("已收到您的文章（第 1 版）")

    unit4 = j.person("unit4")
    unit4.get_by_role("link", name="提交论文").click()
    upload(unit4, docx_bytes(texts["fourth"], title=FOURTH_TITLE), "法治城管.docx", authors="曾繁荣")
    expect(flash(unit4)).to_contain_text("已收到您的文章")
    unit4.goto("/unit/")
    for other in (REPLACED_TITLE, COPY_TITLE, THIRD_TITLE):  # a unit sees nothing of the others
        expect(unit4.locator("main")).not_to_contain_text(other)

    # The 政工科 would move the deadline a day earlier: it is told who is affected first.
    admin.goto(f"{competition_url}/edit")
    expect(admin.locator("input[name=deadline]")).to_have_value("2027年5月20日 24:00")
    admin.fill("input[name=deadline]", "2027年5月9日")
    with admin.expect_navigation():
        admin.get_by_role("button", name="保存").click()
    expect(admin.locator("#tightening")).to_contain_text("第一中队")
    j.shot(admin, "deadline-earlier-asks-first")
    admin.get_by_role("link", name="取消").click()

    # --- the deadline passes; intake closes ------------------------------------------------
    j.clock.set(DEADLINE + timedelta(hours=9))  # 5月21日 09:00
    late = j.person("unit5")
    late.goto(f"/unit/competitions/{competition_id}/submit")
    expect(late.locator("#closed")).to_contain_text("已过截止时间（2027年5月20日 24:00）")
    expect(late.locator("input[name=file]")).to_have_count(0)
    j.shot(late, "closed-after-deadline")
    admin = j.person("boss")
    advance(admin, competition_url, "收稿截止")
    admin.goto(f"{competition_url}/submissions")
    expect(admin.locator("#submissions tbody tr")).to_have_count(4)
    j.shot(admin, "submissions")

    # --- the copy check and its decisions ---------------------------------------------------
    admin.goto(f"{competition_url}/similarity")
    with admin.expect_navigation():
        admin.get_by_role("button", name="全活动重新查重").click()
    admin.goto(f"{competition_url}/similarity")
    j.shot(admin, "similarity")
    copied_row = admin.locator("tr", has=admin.locator("td:nth-child(2)", has_text="第二中队"))
    expect(copied_row).to_contain_text("严重")
    copied_row.get_by_role("link").first.click()
    admin.get_by_role("radio", name="取消资格").check()
    admin.fill("textarea[name=reason]", "与第一中队论文大段相同，未注明出处")
    admin.fill("textarea[name=unit_reason]", "文中大段内容与他人作品相同，且未注明出处。")
    with admin.expect_navigation():
        admin.get_by_role("button", name="记录处理决定").click()
    expect(flash(admin)).to_contain_text("取消资格")

    original = admin.locator("tr", has=admin.locator("td:nth-child(2)", has_text="第一中队"))
    admin.goto(f"{competition_url}/similarity")
    original.get_by_role("link").first.click()
    admin.get_by_role("radio", name="原创（被他文抄袭）").check()
    admin.fill("textarea[name=reason]", "本文先收到，第二中队的论文抄袭了本文")
    with admin.expect_navigation():
        admin.get_by_role("button", name="记录处理决定").click()
    expect(flash(admin)).to_contain_text("原创（被他文抄袭）")
    j.shot(admin, "similarity-original")

    # --- codes, the identity check, the rubric, judges ---------------------------------------
    admin.goto(f"{competition_url}/review")
    with admin.expect_navigation():
        admin.get_by_role("button", name="生成作品编号并检查身份信息").click()
    admin.goto(f"{competition_url}/review/identity")
    j.shot(admin, "identity")
    while admin.get_by_role("button", name="全部遮盖").count():
        with admin.expect_navigation():
            admin.get_by_role("button", name="全部遮盖").first.click()
    admin.goto(f"{competition_url}/review")
    admin.fill("textarea[name=gates]", "政治方向正确")
    with admin.expect_navigation():
        admin.get_by_role("button", name="保存评分细则").click()
    with admin.expect_navigation():
        admin.get_by_role("button", name="分配", exact=True).click()
    j.shot(admin, "review-prepared")
    advance(admin, competition_url, "评审中")

    # --- judges score: judge2 (of 第三中队, so never given its essay) also declares a conflict
    # with unit1's; judge3 fails unit3's and unit4's on the gate -------------------------------
    codes = {}
    for username in ("judge1", "judge2", "judge3"):
        judge = j.person(username)
        judge.get_by_role("link", name="纪念五四运动征文活动").click()
        queue = [link.inner_text() for link in judge.locator("#queue tbody a").all()]
        for code in queue:
            judge.goto(f"/judge/competitions/{competition_id}/essays/{code}")
            body = judge.locator("#essay").inner_text()
            for unit in ("第一中队", "第二中队", "第三中队", "法制科", "陈志刚", "周建平"):
                assert unit not in judge.locator("main").inner_text(), (username, code, unit)
            owner = ("unit1" if "践行五四" in body or texts["replaced"][1][:20] in body
                     else "unit3" if texts["third"][1][:20] in body else "unit4")
            codes[owner] = code
            assert not (username == "judge2" and owner == "unit3")  # the unit's own judge: 回避
            if username == "judge2" and owner == "unit1":
                judge.locator("details.conflict summary").click()
                judge.fill("#conflict-reason", "作者是我所在中队的同事")
                with judge.expect_navigation():
                    judge.get_by_role("button", name="申报回避").click()
                expect(flash(judge)).to_contain_text("已申报回避")
                continue
            points = {"unit1": ("28", "23", "23", "18"), "unit3": ("25", "20", "20", "15"),
                      "unit4": ("22", "18", "18", "12")}[owner]
            if username == "judge1" and owner == "unit1":
                judge.fill("#points-c1", "31")
                expect(judge.locator(".typed-error").first).to_have_text("超出满分，满分为 30")
                j.shot(judge, "judge-typed-over-max")
            for field, value in zip(("c1", "c2", "c3", "c4"), points, strict=True):
                judge.fill(f"#points-{field}", value)
            gate = "no" if (username == "judge3" and owner in ("unit3", "unit4")) else "yes"
            judge.locator(f"input[name='gate-政治方向正确'][value={gate}]").check()
            judge.fill("#comment", "立意鲜明，联系实际。")
            with judge.expect_navigation():
                judge.get_by_role("button", name="提交评分").click()
            expect(flash(judge)).to_contain_text("评分已提交")
        j.shot(judge, f"{username}-done")
    assert set(codes) == {"unit1", "unit3", "unit4"}  # unit2's copy has no code: disqualified

    # --- 复议: unit4's essay, failed on the gate, is taken out with words for its unit; for
    # unit3's the void sheet is kept void (维持), and it is ranked on its counted sheets -------
    admin = j.person("boss")
    admin.goto(f"{competition_url}/review")
    recheck = admin.locator("#recheck + ul li", has_text=codes["unit4"])
    expect(recheck).to_contain_text("何秋云")
    recheck.locator("input[name=reason]").fill("评委认为政治方向有偏差，经复议确认")
    recheck.locator("input[name=unit_reason]").fill("经复议，本文未通过否决项审核。")
    with admin.expect_navigation():
        recheck.get_by_role("button", name="取消资格").click()
    expect(flash(admin)).to_contain_text(f"作品 {codes['unit4']} 已移出评审（取消资格）")
    keep = admin.locator("#recheck + ul li", has_text=codes["unit3"])
    keep.locator("input[name=reason]").fill("评委意见成立，这份评分不计入")
    with admin.expect_navigation():
        keep.get_by_role("button", name="维持").click()
    expect(admin.locator("#recheck + ul li", has_text=codes["unit3"])).to_contain_text("维持否决")
    j.shot(admin, "recheck")

    # --- freezing, publishing ----------------------------------------------------------------
    admin.goto(f"{competition_url}/ranking")
    admin.fill("#tiers", "一等奖 1\n二等奖 1\n三等奖 1")
    with admin.expect_navigation():
        admin.get_by_role("button", name="保存排名规则").click()
    j.shot(admin, "ranking-preview")
    with admin.expect_navigation():
        admin.get_by_role("button", name="冻结排名").click()
    expect(flash(admin)).to_contain_text("排名已冻结")
    expect(admin.get_by_role("heading", level=1)).to_have_text("排名（已冻结）")
    admin.goto(f"{competition_url}/review")
    expect(admin.locator("#assign-closed")).to_contain_text("评审分配和评分已不能再改动")
    j.shot(admin, "review-locked-after-freezing")
    admin.goto(f"{competition_url}/ranking")
    with admin.expect_navigation():
        admin.get_by_role("button", name="发布公示").click()
    expect(flash(admin)).to_contain_text("已发布公示")
    j.shot(admin, "published")
    finish(j, texts, competition_id, competition_url, codes)


def finish(j: Journey, texts, competition_id: int, competition_url: str, codes: dict[str, str]) -> None:
    # --- the 公示: what units read, an objection and its answer ------------------------------
    unit3 = j.person("unit3")
    unit3.goto(f"/results/{competition_id}")
    results = unit3.locator("main")
    expect(results.locator("tbody tr")).to_have_count(2)  # 法制科's essay was taken out
    expect(results.locator("tbody tr").nth(0)).to_contain_text(REPLACED_TITLE)
    expect(results.locator("tbody tr").nth(0)).to_contain_text("一等奖")
    expect(results.locator("tbody tr").nth(1)).to_contain_text(THIRD_TITLE)
    expect(results).not_to_contain_text(FIRST_TITLE)
    j.shot(unit3, "results")
    unit3.locator("details").first.locator("summary").click()
    unit3.locator("textarea[name=text]").first.fill("第一中队的论文引用未注明出处。")
    with unit3.expect_navigation():
        unit3.get_by_role("button", name="提交异议").first.click()
    expect(flash(unit3)).to_contain_text("异议已提交")

    unit2 = j.person("unit2")
    expect(unit2.locator("main")).to_contain_text("文中大段内容与他人作品相同，且未注明出处。")
    expect(unit2.locator("main")).not_to_contain_text("第一中队")
    j.shot(unit2, "unit-told-disqualified")
    unit4 = j.person("unit4")
    expect(unit4.locator("main")).to_contain_text("经复议，本文未通过否决项审核。")
    expect(unit4.locator("main")).not_to_contain_text("政治方向有偏差")

    admin = j.person("boss")
    admin.goto(f"{competition_url}/ranking")
    admin.fill("input[name=answer]", "经核实，引文已在文末注明，维持原评审结果。")
    with admin.expect_navigation():
        admin.get_by_role("button", name="答复").click()

    # --- the 公示 ends; the competition closes; the package -----------------------------------
    j.clock.set(DEADLINE + timedelta(days=12))
    admin = j.person("boss")
    advance(admin, competition_url, "已结束")
    j.shot(admin, "closed")
    admin.goto(f"{competition_url}/ranking")
    with admin.expect_download() as summary:
        admin.get_by_role("link", name="下载汇总表（Excel）").click()
    sheet = load_workbook(io.BytesIO(summary.value.path().read_bytes())).active
    cells = [[str(c.value) if c.value is not None else "" for c in row] for row in sheet.iter_rows()]
    flat = "\n".join("\t".join(row) for row in cells)
    assert REPLACED_TITLE in flat and FIRST_TITLE not in flat
    header = cells[0]
    judges = [i for i, name in enumerate(header) if name.startswith("评委")]
    row = {title: next(r for r in cells if title in r) for title in (REPLACED_TITLE, THIRD_TITLE)}
    assert not any(FOURTH_TITLE in r for r in cells)  # taken out of the review: not ranked
    marks = {title: sorted(r[i] for i in judges) for title, r in row.items()}
    assert marks[REPLACED_TITLE] == ["92", "92", "回避"]  # judge2 declared a conflict
    assert marks[THIRD_TITLE] == ["80", "作废", "回避"]  # judge2 is of 第三中队; judge3 answered 否
    assert row[REPLACED_TITLE][header.index("奖项")] == "一等奖"
    assert row[REPLACED_TITLE][header.index("查重结论")] == "原创（被他文抄袭）"
    assert any(line.startswith("说明：“回避”表示") for line in flat.splitlines())

    admin.goto(f"{competition_url}/forward")
    admin.get_by_role("radio", name="按奖项：").check()
    for tier in ("一等奖", "二等奖", "三等奖"):
        checkbox = admin.get_by_role("checkbox", name=tier)
        if checkbox.count():
            checkbox.check()
    with admin.expect_navigation():
        admin.get_by_role("button", name="确定报送名单").click()
    for i in range(admin.locator("form.recommendation").count()):  # each 推荐理由 picked from the comments
        form = admin.locator("form.recommendation").nth(i)
        expect(form.get_by_label("推荐理由")).to_have_value("")
        form.get_by_role("button", name="选用").first.click()
        with admin.expect_navigation():
            form.get_by_role("button", name="保存推荐表").click()
    j.shot(admin, "forward")
    with admin.expect_download() as download:
        admin.locator("#download-package").click()
    package = zipfile.ZipFile(download.value.path())
    names = package.namelist()
    manifest = json.loads(package.read("manifest.json"))
    titles = [entry["title"] for entry in manifest["entries"]]
    assert REPLACED_TITLE in titles and FIRST_TITLE not in titles
    assert manifest["competition"]["organiser"] == "城管执法大队"
    assert any(name.startswith("原件/") and REPLACED_TITLE in name for name in names), names
    assert not any(FIRST_TITLE in name for name in names)
    winners = next(name for name in names if name.endswith("获奖名单.docx"))
    listing = "\n".join(p.text for p in Document(io.BytesIO(package.read(winners))).paragraphs)
    for table in Document(io.BytesIO(package.read(winners))).tables:
        listing += "\n".join(cell.text for row in table.rows for cell in row.cells)
    assert f"《{REPLACED_TITLE}》" in listing or REPLACED_TITLE in listing
    assert FIRST_TITLE not in listing and "《《" not in listing

    admin.goto("/admin/audit")
    expect(admin.locator("#audit")).to_contain_text("变更活动阶段：征文活动")
    expect(admin.locator("#audit")).to_contain_text("阶段：公示中 → 已结束")
    j.shot(admin, "audit-log")
