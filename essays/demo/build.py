"""The demo: fills an empty database with a competition built on the seed notice.

`build_demo()` creates, through the domain functions (so the audit log and the rules
apply as in the app): the organiser (the 大队) and eight units (中队、科室), the accounts
admin, judge1…judge5 and unit1…unit8 (all with the given password, no forced change),
the competition 解放思想大讨论征文活动 in phase 收稿中, and six essays:

- two units (渣土管理中队, 法制科) have not submitted;
- 机动中队 was granted an extension (until the deadline + 7 days). No upload is ever dated
  after the demo's `now`: in phase 收稿中 (the deadline ahead) its essay came before now like
  the others; in the later phases, whose intake is played in the past, it arrives 2 days
  after the deadline, within its extension, and is stored late (延期提交);
- 第三中队's essay copies most paragraphs of 第二中队's; 执法监察中队's pastes two paragraphs
  of a 范文 site's article, which is in the reference library (essays.demo.similarity), with
  the site's pinyin glosses and source line; six common quotations are listed;
- every file carries the core properties real files carry (author, last modified by,
  company); one has a Word comment, one the unit's name in its header, and one names its
  own unit in the body.

The files are also written to `files_dir` with an over-limit sample (not stored) and a
README.txt.

Later phases are built by the packages that own them (`register_phase`, called from their
package's `init_app`: review registers "review", "ranked", "published" and "closed"): the
intake above is then played 12 days in the past, with a deadline the next day and the
extension over about 3 days before `now` (at a midnight), and the phase's builder carries
the competition on from there at `now`. A phase nobody registered is refused before anything
is written.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from flask_babel import force_locale
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from essays.competitions.operations import CompetitionSettings, create_competition, grant_extension, move_phase
from essays.competitions.phases import PHASE_NAMES
from essays.demo import similarity as demo_similarity
from essays.demo.text import (
    Essay,
    EssayPlan,
    EssayWriter,
    derive_copy,
    load_corpus,
    load_notice,
    notice_quotes,
)
from essays.intake.docx.writer import DocxSpec, build_docx
from essays.intake.receive import EssayForm, receive
from essays.models import Competition, Unit, User
from essays.people.accounts import create_user, password_problem
from essays.people.units import UnitFields, save_unit
from essays.platform.timeutil import SHANGHAI, end_of_day, format_deadline, local, next_may_20
from essays.similarity.service import refresh_stale

DEMO_URL = "http://127.0.0.1:5000"
TITLE = "解放思想大讨论征文活动"
# Taken from the notice (三、（二）3 and its list of aspects).
THEMES = ["解放思想与城管工作改革创新", "加强队伍建设和基层党组织建设",
          "提升城市管理水平，实现创建文明城市目标"]
ORGANISER = ("长沙市城市管理执法大队", "大队", ["城管执法大队", "执法大队"], "苏建国",
             "0731-84416200")
# name, short name, aliases, contact, phone
UNITS = [
    ("第一中队", "一中队", ["一中队", "执法一中队"], "陈志刚", "0731-84421101"),
    ("第二中队", "二中队", ["二中队", "执法二中队"], "刘卫东", "0731-84421102"),
    ("第三中队", "三中队", ["三中队", "执法三中队"], "周建平", "13873112633"),
    ("执法监察中队", "监察中队", ["监察中队", "督查中队"], "谭湘林", "0731-84421205"),
    ("机动中队", "机动中队", ["机动队", "快速反应中队"], "彭志勇", "13907318845"),
    ("渣土管理中队", "渣土中队", ["渣土中队", "渣土办"], "龙海波", "0731-84421318"),
    ("政工科", "政工科", ["政工室", "大队政工科"], "黄丽华", "0731-84416231"),
    ("法制科", "法制科", ["法规科", "法制室"], "曾繁荣", "0731-84416236"),
]
ADMIN = ("admin", "王晓燕（政工科）")
# username, name, unit (judges attached to a unit cannot fairly judge its essay)
JUDGES = [("judge1", "李德明", "第一中队"), ("judge2", "张慧", "执法监察中队"),
          ("judge3", "赵国强", None), ("judge4", "孙立新", None), ("judge5", "何秋云", None)]
EXTENDED_UNIT, EXTENSION_REASON = "机动中队", "因执勤任务延期提交"
LATE_AFTER = timedelta(days=2)  # when the extended unit's essay came, once the deadline has passed
ORIGINAL_UNIT, COPYING_UNIT = "第二中队", "第三中队"
OVER_LIMIT_FILE = "超字数示例.docx"
FANWEN = "范文"  # the 范文 site's article, in the reference library (essays.demo.similarity)


@dataclass
class Paper:
    """One unit's essay: what it says, who wrote it, what its file carries, when it came."""

    unit: str
    plan: EssayPlan | None  # None: copied from ORIGINAL_UNIT
    theme: int  # 1-3
    authors: list[str]
    phone: str
    company: str
    last_modified_by: str
    uploaded: tuple[int, int, int]  # (days before now, hour, minute)
    note: str
    header: bool = False
    comment: tuple[str, str] | None = None
    # The extended unit's: once the deadline has passed, its essay came LATE_AFTER the
    # deadline (instead of at `uploaded`), and this is its note.
    late_note: str = ""


def _papers(quotes: list[str]) -> list[Paper]:
    q = quotes

    def plan(title, topics, i, target, quote_section=1, own=""):
        return EssayPlan(title, topics, q[2 * i], q[2 * i + 1], target, own, quote_section)

    return [
        Paper(ORIGINAL_UNIT, plan("以思想大解放推动城市管理精细化",
                                  ["解放思想", "精细化管理", "文明城市创建", "改革创新"], 1, 2650),
              3, ["杨光辉"], "13975102284", "微软中国", "杨光辉", (6, 16, 42),
              "第三中队的来稿大段照搬了这一篇。"),
        Paper("第一中队", plan("解放思想 改革创新 推动城管执法工作再上新台阶",
                               ["解放思想", "存在问题", "服务群众", "改革创新"], 0, 2500,
                               quote_section=3, own="第一中队"),
              1, ["李建军", "王海燕"], "13808451376", ORGANISER[0], "王海燕",
              (4, 10, 15), "正文中写有“我们第一中队……”（文中自报单位）。"),
        Paper("执法监察中队", plan("强化执法监督 提升城管队伍执行力的几点思考",
                                   ["存在问题", "规范执法", "队伍建设", "党建作风"], 2, 2350, 3),
              1, ["罗建华"], "13787014459", "长沙市城管执法大队执法监察中队", "谭湘林",
              (3, 15, 8), "页眉中印有单位名称；有两段抄自范文网站（留有拼音注音和“本文来源”）。",
              header=True),
        Paper("政工科", plan("加强思想政治工作 锻造过硬城管队伍",
                             ["党建作风", "队伍建设", "解放思想", "规范执法"], 4, 2200, 2),
              2, ["唐小兰", "易新民"], "13607487720", ORGANISER[0], "黄丽华",
              (1, 11, 36), "文档中留有一条 Word 批注。",
              comment=("黄丽华", "第三部分的例子能否再具体一些？请作者再斟酌。")),
        Paper(COPYING_UNIT, None, 3, ["周建平"], "13873112633", "微软中国", "周建平",
              (0, 9, 5), "大部分段落与第二中队的来稿相同（演示雷同检查）；"
              "文件属性中的作者仍是原作者。"),
        Paper(EXTENDED_UNIT, plan("创新勤务机制 服务文明城市创建",
                                  ["文明城市创建", "服务群众", "精细化管理", "队伍建设"], 3, 2450),
              3, ["蒋卫平"], "13574129063", "中国", "彭志勇", (2, 14, 20),
              f"机动中队获准延期（{EXTENSION_REASON}），来稿在截止前提交。",
              late_note=f"机动中队获准延期（{EXTENSION_REASON}），在截止时间后 2 天、延期期限内提交，标为“延期提交”。"),
    ]


# Phrases of the notice the essays quote: (opening, body) for each plan, then the copy's
# opening and the over-limit sample's.
WANTED_QUOTES = [
    "从安于现状的思想惰性中走出来，树立进取的精神状态",
    "以创新的思路、创新的举措突破城管工作难点、打造城管工作亮点",
    "思想大解放、观念大更新、工作大促进", "与城管精细化管理结合，攻克工作难关",
    "破除一切影响科学发展的体制弊端", "以优良的作风带政风促行风",
    "与创建全国文明城市结合，实现创建目标", "一手抓活动开展，一手抓当前工作",
    "带头讲党性，树立城管干部可靠形象", "清除一切阻碍科学发展的思想观念",
    "立足实际破旧制，著眼长远立新规", "人人提良策、自己怎么办",
]


@dataclass
class DemoAccount:
    username: str
    role: str
    display_name: str
    unit: str  # unit name, or "" for an unattached account


@dataclass
class DemoReport:
    """What `flask demo` prints: where to go, how to log in, what is in the demo."""

    password: str
    competition: str
    deadline: datetime
    accounts: list[DemoAccount]
    files_dir: Path
    files: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    extension: str = ""
    url: str = DEMO_URL
    phase: str = "open"
    notes: list[str] = field(default_factory=list)  # what a later phase's builder did

    def lines(self) -> list[str]:
        roles = {"admin": "管理员", "judge": "评委", "unit": "单位账号"}
        out = [f"演示数据已装入：{self.competition}（{chinese_phase(self.phase)}）",
               f"请打开 {self.url} 登录。",
               f"截止时间：{format_deadline(self.deadline)}",
               f"所有演示账号的密码：{self.password}",
               "账号\t角色\t单位\t姓名"]
        for a in self.accounts:
            unit = a.unit or ("政工科（管理员）" if a.role == "admin" else "（不属任何单位）")
            out.append(f"{a.username}\t{roles[a.role]}\t{unit}\t{a.display_name}")
        out.append(f"未提交的单位：{'、'.join(self.missing)}")
        if self.extension:
            out.append(f"延期：{self.extension}")
        out.append(f"演示文件（各单位来稿与超字数示例，见 README.txt）：{self.files_dir}")
        return out + self.notes


# phase -> builder(session, admin, competition, now) returning lines for the report
LATER_PHASES: dict[str, Callable[[Session, User, Competition, datetime], list[str]]] = {}
INTAKE_BEFORE = timedelta(days=12)  # how long before `now` the intake is played for a later phase


def register_phase(phase: str, builder: Callable[[Session, User, Competition, datetime], list[str]]) -> None:
    """Lets a package built on essays carry the demo on to `phase` (see the module doc)."""
    LATER_PHASES[phase] = builder


def chinese_phase(phase: str) -> str:
    with force_locale("zh"):  # the report is printed in Chinese whatever the caller's language
        return str(PHASE_NAMES.get(phase, phase))


def _check_can_build(session: Session, password: str, phase: str) -> None:
    if phase != "open" and phase not in LATER_PHASES:
        raise ValueError(f"未知的演示阶段：{phase}（可选 open{''.join('、' + p for p in LATER_PHASES)}）。")
    # The shape only: the demo's shared password is printed for everyone and is no secret.
    if not password or (problem := password_problem(password, strict=False)):
        raise ValueError(f"演示密码不符合要求：{problem or '不能为空'}")
    for model in (User, Unit, Competition):
        if session.execute(select(func.count()).select_from(model)).scalar_one():
            raise ValueError("数据库中已有数据，演示数据只能装入空数据库。")


def build_demo(session: Session, *, password: str, phase: str, now: datetime,
               files_dir: Path) -> DemoReport:
    """Fills the (empty) database with the demo; the caller commits. See the module doc."""
    _check_can_build(session, password, phase)
    if phase == "open":
        return _build_intake(session, password, now, next_may_20(now), files_dir, now)
    intake = now - INTAKE_BEFORE
    report = _build_intake(session, password, intake, end_of_day(local(intake).date() + timedelta(days=1)),
                           files_dir, now)
    competition = session.execute(select(Competition).where(Competition.title == TITLE)).scalar_one()
    admin = session.execute(select(User).where(User.username == ADMIN[0])).scalar_one()
    report.phase = phase
    report.notes = LATER_PHASES[phase](session, admin, competition, now)
    return report


def _build_intake(session: Session, password: str, now: datetime, deadline: datetime,
                  files_dir: Path, demo_now: datetime) -> DemoReport:
    """The intake as of `now` (the demo's own `demo_now`, or earlier for a later phase)."""
    admin, _ = create_user(session, None, username=ADMIN[0], display_name=ADMIN[1],
                           role="admin", password=password, must_change=False)
    accounts = [DemoAccount(admin.username, "admin", admin.display_name, "")]
    name, short, aliases, contact, phone = ORGANISER
    organiser = save_unit(session, admin, UnitFields(name, short, aliases, None, contact, phone,
                                                     is_organiser=True))
    units: dict[str, Unit] = {}
    for name, short, aliases, contact, phone in UNITS:
        units[name] = save_unit(session, admin, UnitFields(name, short, aliases, organiser.id,
                                                           contact, phone, is_organiser=False))
    for username, display, unit_name in JUDGES:
        create_user(session, admin, username=username, display_name=display, role="judge",
                    unit=units.get(unit_name), password=password, must_change=False)
        accounts.append(DemoAccount(username, "judge", display, unit_name or ""))
    unit_users: dict[str, User] = {}
    for i, (name, *_rest) in enumerate(UNITS, start=1):
        contact = units[name].contact_name
        unit_users[name], _ = create_user(session, admin, username=f"unit{i}",
                                          display_name=contact, role="unit", unit=units[name],
                                          password=password, must_change=False)
        accounts.append(DemoAccount(f"unit{i}", "unit", contact, name))

    notice = load_notice()
    competition = create_competition(session, admin, CompetitionSettings(
        title=TITLE, notice_text=notice, themes=list(THEMES), char_limit=3000,
        limit_is_hard=True, deadline=deadline, min_per_unit=1, max_per_unit=1))
    move_phase(session, admin, competition, "draft", "open", now)
    until = deadline + timedelta(days=7)
    grant_extension(session, admin, competition, units[EXTENDED_UNIT], until, EXTENSION_REASON)

    files_dir = Path(files_dir)
    files_dir.mkdir(parents=True, exist_ok=True)
    quotes = notice_quotes(notice, WANTED_QUOTES, at_least=len(WANTED_QUOTES))
    papers = _papers(quotes)
    essays = _write_essays(papers, quotes)
    demo_similarity.load(session, admin, essays.pop(FANWEN), now)
    readme = []
    # Late under the extension only where that lies in the past: never an upload after `demo_now`.
    late_at = deadline + LATE_AFTER
    late = {p.unit for p in papers if p.late_note and late_at <= demo_now}
    times = {p.unit: late_at if p.unit in late else _office_time(now, *p.uploaded) for p in papers}
    for paper in sorted(papers, key=lambda p: times[p.unit]):
        essay, at = essays[paper.unit], times[paper.unit]
        data = _paper_docx(paper, essay, units[paper.unit], at, papers)
        filename = f"{paper.unit}-{_safe(essay.title)}.docx"
        (files_dir / filename).write_bytes(data)
        form = EssayForm(theme_id=competition.themes[paper.theme - 1].id, title=essay.title,
                         authors=paper.authors, contact_phone=paper.phone)
        receive(session, competition, units[paper.unit], unit_users[paper.unit], form,
                filename, data, at)
        note = paper.late_note if paper.unit in late else paper.note
        readme.append(f"{filename}\n    {paper.unit}的来稿，{essay.words} 字。{note}")
    # Earlier essays' reports that later uploads made stale, as the queue's minute task would.
    refresh_stale(session, now)

    over = essays[OVER_LIMIT_FILE]
    (files_dir / OVER_LIMIT_FILE).write_bytes(build_docx(DocxSpec(
        paragraphs=over.paragraphs, title=over.title, author="邹文斌", last_modified_by="邹文斌",
        company="微软中国", created=now - timedelta(days=2))))
    missing = [name for name, *_ in UNITS if name not in essays]
    tryer = next(u for u in unit_users.values() if u.unit.name == missing[0])
    readme.append(f"{OVER_LIMIT_FILE}\n    约 {over.words} 字，超过 3000 字的上限，没有入库。"
                  f"可用尚未交稿的单位账号（如 {tryer.username}，{missing[0]}）上传它，"
                  "查看系统如何拒收超字数来稿。")
    extension = f"{EXTENDED_UNIT}，至 {format_deadline(until)}（{EXTENSION_REASON}）"
    if EXTENDED_UNIT in late:
        extension += f"，来稿在截止后 {LATE_AFTER.days} 天、延期期限内提交，标为“延期提交”"
    _write_readme(files_dir, readme, missing, extension, deadline)
    return DemoReport(password=password, competition=TITLE, deadline=deadline,
                      accounts=accounts, files_dir=files_dir,
                      files=[line.split("\n")[0] for line in readme], missing=missing,
                      extension=extension)


def _write_essays(papers: list[Paper], quotes: list[str]) -> dict[str, Essay]:
    """Every paper's essay, and the over-limit sample under OVER_LIMIT_FILE."""
    corpus = load_corpus()
    writer = EssayWriter(corpus, seed="zhengwen-demo")
    essays: dict[str, Essay] = {}
    for paper in papers:
        if paper.plan is not None:
            essays[paper.unit] = writer.write(paper.plan, random.Random(f"demo:{paper.unit}"))
    original = next(p for p in papers if p.unit == ORIGINAL_UNIT)
    essays[COPYING_UNIT] = derive_copy(
        essays[ORIGINAL_UNIT], writer, "以解放思想为先导 走城市管理精细化之路", quotes[10],
        original.plan.topics, random.Random(f"demo:{COPYING_UNIT}"))
    essays[FANWEN] = demo_similarity.write_fanwen(writer, quotes[9])
    essays[demo_similarity.COPIER] = demo_similarity.copy_into(essays[demo_similarity.COPIER], essays[FANWEN])
    sample = EssayWriter(corpus, seed="zhengwen-demo-over-limit")
    essays[OVER_LIMIT_FILE] = sample.write(EssayPlan(
        "浅谈新形势下城管执法工作的改革与创新",
        ["改革创新", "精细化管理", "服务群众", "党建作风", "存在问题"], quotes[11], quotes[0],
        target=3400), random.Random("demo:over-limit"))
    return essays


def _paper_docx(paper: Paper, essay: Essay, unit: Unit, at: datetime,
                papers: list[Paper]) -> bytes:
    author = paper.authors[0]
    if paper.plan is None:  # a copied file keeps its original author in its properties
        author = next(p for p in papers if p.unit == ORIGINAL_UNIT).authors[0]
    header = f"{ORGANISER[0]}{unit.name}  解放思想大讨论征文" if paper.header else ""
    return build_docx(DocxSpec(
        paragraphs=essay.paragraphs, title=essay.title, author=author,
        last_modified_by=paper.last_modified_by, company=paper.company, header_text=header,
        comment=paper.comment, created=at - timedelta(days=3, hours=7)))


def _office_time(now: datetime, days: int, hour: int, minute: int) -> datetime:
    """`hour:minute` Shanghai time `days` days before `now` (a day earlier if not past)."""
    day = local(now).date() - timedelta(days=days)
    at = datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI).astimezone(UTC)
    while at >= now:
        at -= timedelta(days=1)
    return at


def _safe(title: str) -> str:
    """A title usable in a file name on every system."""
    return re.sub(r'[\\/:*?"<>|\s]+', "", title)[:60]


def _write_readme(files_dir: Path, entries: list[str], missing: list[str], extension: str,
                  deadline: datetime) -> None:
    text = [
        "演示文件说明",
        "",
        f"这些文件由 flask --app app demo 生成，对应演示活动“{TITLE}”"
        f"（3000 字以内，截止 {format_deadline(deadline)}）。",
        "除超字数示例外，每个文件都已作为该单位的来稿存入演示数据库，可在系统中下载对照。",
        "各文件的“属性”里都保留了作者、最后修改者和单位（公司），与真实来稿一样。",
        "",
        *entries,
        "",
        f"未提交的单位：{'、'.join(missing)}。",
        f"延期：{extension}。",
    ]
    (files_dir / "README.txt").write_text("\n".join(text) + "\n", encoding="utf-8")
