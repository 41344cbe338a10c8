"""The admin's copy-detection pages: the ranked list (exact duplicates first), one essay's
report, the side-by-side comparison, decisions, thresholds, the whole run as a job, hot
passages, who may see what, and what a unit sees of its own check (only that it was done)."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import func, select

from essays.demo.text import load_corpus
from essays.intake.receive import EssayForm, receive
from essays.jobs.models import Job
from essays.models import Competition
from essays.platform.models import AuditLog
from essays.similarity import service
from essays.similarity.decisions import current_decision, is_disqualified
from essays.similarity.models import BaseQuotation, SimilarityDecision, SimilarityReport
from tests.factories import docx_bytes

# The notice of the competition: essays quote it, which is never copying.
NOTICE_QUOTE = ("认真学习贯彻党的十七大精神，深刻理解和全面把握科学发展观的科学内涵、精神实质、根本要求，"
                "增强贯彻落实科学发展观的自觉性和坚定性，做到统一认识、提高能力、解决问题、创新机制。"
                "深入推进城市管理工作改革创新，实现城市管理工作与党的中心工作、与全市经济社会发展同频共振、互促互赢。")
NOTICE = ("各中队、科室：\n为进一步解放思想、更新观念，大队决定在全大队开展“解放思想大讨论”征文活动。\n"
          f"{NOTICE_QUOTE}\n征文要围绕主题、联系实际，字数在3000字以内，于5月20日前报送政工科。")

# About 600 characters on 城市管理, copied by two units.
COPIED = ("城市管理是城市发展的重要保障，也是检验政府执政能力的一面镜子。近年来，我们坚持以人民为中心的发展思想，"
          "把群众满意作为城管工作的出发点和落脚点，在市容秩序整治、违法建设查处、占道经营疏导等方面下了很大功夫。"
          "但也要清醒地看到，城市管理中还存在重管理轻服务、重突击轻常态、重处罚轻引导等问题，一些执法人员习惯于"
          "“一罚了之”，群众对城管执法的认同感还不够强。解决这些问题，首先要解放思想，把“管”与“服”结合起来，"
          "变被动应付为主动作为。要推行“721”工作法，即百分之七十的问题用服务手段解决，百分之二十的问题用管理手段解决，"
          "百分之十的问题用执法手段解决。在老旧小区和背街小巷，要设立便民疏导点，引导流动摊贩入点经营，既保障市民的"
          "生活便利，又维护道路的通行秩序。在执法方式上，要推行柔性执法，坚持教育在先、警示在先、告诫在先，对初次"
          "轻微违法行为依法免予处罚，让执法既有力度又有温度。同时，要运用数字化城管平台，整合视频监控、网格巡查和"
          "市民热线，实现问题发现、派遣、处置、核查、结案的闭环管理，把城市管理从“人海战术”转向“智慧治理”。"
          "只有这样，才能真正让城市更干净、更有序、更安全，让群众有更多的获得感和幸福感。")
# The second unit changed a few words of it.
EDITED = COPIED.replace("下了很大功夫", "下了不少功夫").replace("要设立便民疏导点", "要科学设立便民疏导点")
OWN_A = ("结合甲中队实际，我们将在辖区主次干道推行“门前五包”责任制，组织党员志愿者开展文明劝导，"
         "每月评选一次“最美街巷”，以点带面推动市容面貌持续改善。")
OWN_B = ("乙中队负责的老城区人口密集、商户众多，流动摊贩和占道经营问题尤为突出，过去靠集中整治往往是"
         "“一阵风”，整治过后很快反弹，群众意见较大。")
OWN_C = ("垃圾分类是一场新时尚，也是城市精细化管理的一块试金石。丙中队在推进垃圾分类工作中，坚持宣传引导与执法"
         "检查相结合，组织队员深入社区、学校和农贸市场，发放宣传资料，现场演示分类方法，帮助居民养成分类投放的"
         "习惯。对拒不履行分类义务的单位，依法责令改正，并通过约谈、通报等方式督促整改。经过一年的努力，辖区居民"
         "分类投放准确率明显提高，生活垃圾减量工作取得了初步成效。")
# Mostly the notice: sent by two units as the very same file (an exact duplicate).
DUPLICATE = [NOTICE_QUOTE, "我们将以这次大讨论为契机，查找差距，改进作风，推动各项工作再上新台阶。"]
# Left by a 范文 website.
TRACED = ("20xx年以来，我局认真贯彻落实上级关于城市管理工作的部署要求。本文来源于网友上传，不代表本站观点。"
          "执法队伍建设是城管工作的根本，要抓好教育培训和作风建设，打造一支政治坚定、作风过硬的城管队伍。")


def page_text(response) -> str:
    return unescape(re.sub(r"<[^>]+>", "", response.get_data(as_text=True)))


def flash_error(response) -> str:
    found = re.search(r'<div class="flash flash-error"[^>]*>(.*?)</div>', response.get_data(as_text=True), re.S)
    assert found, "no error message on the page"
    return unescape(found.group(1))


def audit_actions(session, action: str) -> list[AuditLog]:
    return list(session.execute(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.seq)).scalars())


def count(session, model) -> int:
    return session.execute(select(func.count()).select_from(model)).scalar_one()


@pytest.fixture
def world(make, auth, session):
    competition = make.competition(notice_text=NOTICE)
    names = ["城管执法甲中队", "城管执法乙中队", "城管执法丙中队", "城管执法丁中队", "城管执法戊中队", "城管执法己中队"]
    units = {name[4]: make.unit(name) for name in names}
    subs = {
        "甲": make.submission(competition, units["甲"], title="以解放思想推动城管执法方式转变",
                              data=docx_bytes([NOTICE_QUOTE, COPIED, OWN_A], title="以解放思想推动城管执法方式转变")),
        "乙": make.submission(competition, units["乙"], title="从“一阵风”到“常态化”",
                              data=docx_bytes([OWN_B, EDITED], title="从“一阵风”到“常态化”")),
        "丙": make.submission(competition, units["丙"], title="垃圾分类的执法实践",
                              data=docx_bytes([OWN_C], title="垃圾分类的执法实践")),
        "丁": make.submission(competition, units["丁"], title="学习体会", data=docx_bytes(DUPLICATE, title="学习体会")),
        "己": make.submission(competition, units["己"], title="学习体会", data=docx_bytes(DUPLICATE, title="学习体会")),
        "戊": make.submission(competition, units["戊"], title="加强队伍建设",
                              data=docx_bytes([TRACED], title="加强队伍建设")),
    }
    service.refresh_stale(session, competition.deadline)  # what the queue's minute task does
    make.user("admin", username="boss", display_name="政工科王科长")
    assert auth.login("boss").status_code == 302
    return competition, units, subs


def report_of(session, submission) -> SimilarityReport:
    return session.get(SimilarityReport, submission.current.id)


def list_rows(client, competition, show="all") -> list[str]:
    """The unit of each row of the ranked list, in order."""
    page = client.get(f"/admin/competitions/{competition.id}/similarity?show={show}").get_data(as_text=True)
    table = re.search(r'<table id="similarity-list">.*?</table>', page, re.S)
    if table is None:
        return []
    return [unescape(u) for u in re.findall(r"<tr id=\"version-\d+\"[^>]*>\s*<td>\d+</td>\s*<td>([^<]+)</td>",
                                            table.group(0))]


# --- the ranked list --------------------------------------------------------------------------


def test_exact_duplicates_first_then_by_total_ratio(client, world, session):
    competition, units, subs = world
    ding, ji, jia, yi = (report_of(session, subs[k]) for k in "丁己甲乙")
    assert ding.duplicate_of == [subs["己"].current.id] and ji.duplicate_of == [subs["丁"].current.id]
    assert ding.total_ratio < yi.total_ratio  # a duplicate of mostly notice text has a low ratio...
    assert yi.total_ratio > jia.total_ratio > 0.5
    session.delete(report_of(session, subs["丙"]))  # a version never checked
    session.flush()
    # ...and still comes first; 未查重 comes last.
    assert list_rows(client, competition) == ["城管执法丁中队", "城管执法己中队", "城管执法乙中队", "城管执法甲中队",
                                              "城管执法戊中队", "城管执法丙中队"]
    page = client.get(f"/admin/competitions/{competition.id}/similarity")
    text = page_text(page)
    callout = re.search(r'<section class="duplicate-callout" id="duplicates">(.*?)</section>',
                        page.get_data(as_text=True), re.S)
    assert callout and "完全相同" in callout.group(1)
    named = unescape(callout.group(1))
    assert "城管执法丁中队《学习体会》" in named and "城管执法己中队《学习体会》" in named
    assert named.count("城管执法丁中队《学习体会》") == 1 and callout.group(1).count("<li>") == 1  # the pair once
    row = re.search(rf'<tr id="version-{subs["丙"].current.id}".*?</tr>', page.get_data(as_text=True), re.S).group(0)
    assert "未查重" in row
    assert "共 6 篇" in text


def test_list_row_shows_figures_source_notice_and_traces(client, world, session):
    competition, units, subs = world
    page = client.get(f"/admin/competitions/{competition.id}/similarity").get_data(as_text=True)
    yi = report_of(session, subs["乙"])
    row = unescape(re.search(rf'<tr id="version-{subs["乙"].current.id}".*?</tr>', page, re.S).group(0))
    assert f"{yi.total_ratio * 100:.1f}%" in row and f"{yi.max_ratio * 100:.1f}%" in row
    assert "城管执法甲中队《以解放思想推动城管执法方式转变》" in row  # the largest source, by unit and title
    assert "严重" in row and "未处理" in row
    ding = unescape(re.search(rf'<tr id="version-{subs["丁"].current.id}".*?</tr>', page, re.S).group(0))
    assert 'notice-high' in ding and "偏高" in ding and "完全相同" in ding  # 通知引用比 highlighted
    wu = report_of(session, subs["戊"])
    assert len(wu.traces) >= 2
    wu_row = re.search(rf'<tr id="version-{subs["戊"].current.id}".*?</tr>', page, re.S).group(0)
    assert f"<td>{len(wu.traces)}</td>" in wu_row


def test_filters(client, world, session, make):
    competition, units, subs = world
    every = list_rows(client, competition)
    assert "城管执法丙中队" in every
    flagged = list_rows(client, competition, "flagged")
    assert "城管执法丙中队" not in flagged and "城管执法乙中队" in flagged
    assert client.post(f"/admin/similarity/versions/{subs['乙'].current.id}/decision",
                       data={"decision": "confirmed", "reason": "与甲中队论文大段相同"}).status_code == 302
    undecided = list_rows(client, competition, "undecided")
    assert "城管执法乙中队" not in undecided and "城管执法甲中队" in undecided
    assert list_rows(client, competition, "nonsense") == every


def test_long_lists_are_paginated(client, world, monkeypatch):
    import essays.similarity.views

    competition, units, subs = world
    monkeypatch.setattr(essays.similarity.views, "PER_PAGE", 4)
    page = client.get(f"/admin/competitions/{competition.id}/similarity?page=2").get_data(as_text=True)
    assert re.findall(r'<tr id="version-\d+"[^>]*>\s*<td>(\d+)</td>', page) == ["5", "6"]
    assert "第 2 页，共 2 页" in page and "上一页" in page
    assert 'id="duplicates"' in page  # exact duplicates are called out on every page
    assert client.get(f"/admin/competitions/{competition.id}/similarity?page=9").status_code == 200


# --- one essay ------------------------------------------------------------------------------


def test_report_page(client, world, session):
    competition, units, subs = world
    jia = report_of(session, subs["甲"])
    response = client.get(f"/admin/similarity/versions/{subs['甲'].current.id}")
    assert response.status_code == 200
    text = page_text(response)
    assert "以解放思想推动城管执法方式转变" in text and "城管执法甲中队" in text
    assert f"{jia.total_ratio * 100:.1f}%" in text and f"{jia.base_ratio * 100:.1f}%" in text
    source = jia.sources[0]
    assert f"{source['ratio'] * 100:.1f}%" in text and f"{source['ratio_other'] * 100:.1f}%" in text
    assert "城管执法乙中队《从“一阵风”到“常态化”》" in text
    compare = f"/admin/similarity/versions/{subs['甲'].current.id}/sources/essay/{subs['乙'].current.id}"
    assert compare in response.get_data(as_text=True)
    assert "没有发现网络抄袭痕迹" in text

    duplicate = page_text(client.get(f"/admin/similarity/versions/{subs['丁'].current.id}"))
    assert duplicate.index("完全相同") < duplicate.index("总复制比")  # called out first
    assert "城管执法己中队《学习体会》" in duplicate


def test_a_stale_report_says_so_until_the_minute_task_checks_it_again(client, world, session, make):
    competition, units, subs = world
    late = make.submission(competition, make.unit("城管执法庚中队"), title="后来者",
                           data=docx_bytes([OWN_C, "庚中队的补充意见：要把垃圾分类纳入网格化管理，落实到人。"]))
    bing = subs["丙"].current.id
    assert report_of(session, subs["丙"]).stale
    row = re.search(rf'<tr id="version-{bing}".*?</tr>', client.get(
        f"/admin/competitions/{competition.id}/similarity").get_data(as_text=True), re.S).group(0)
    assert "待更新" in row
    report = page_text(client.get(f"/admin/similarity/versions/{bing}"))
    assert "待更新：之后上传的论文与本文有相同段落，系统将在一分钟内重新检查本文，届时本报告会列出它。" in report
    service.refresh_stale(session, competition.deadline)
    report = page_text(client.get(f"/admin/similarity/versions/{bing}"))
    assert "待更新" not in report and "城管执法庚中队《后来者》" in report
    assert late.current.id in [s["id"] for s in report_of(session, subs["丙"]).sources]


def test_report_shows_traces_in_context(client, world, session):
    competition, units, subs = world
    page = client.get(f"/admin/similarity/versions/{subs['戊'].current.id}").get_data(as_text=True)
    section = unescape(re.search(r'<section class="card" id="traces">.*?</section>', page, re.S).group(0))
    assert "年份等占位符（如 20xx）" in section and "范文网站套话" in section
    assert "…加强队伍建设↵<mark class=\"trace\">20xx年</mark>以来，我局认真贯彻落实" in section  # with its context
    assert "部署要求。<mark class=\"trace\">本文来源于网友上传</mark>，不代表本站观点" in section
    assert "第 8 字" in section  # where it is: after the title line


def test_report_of_a_version_never_checked(client, world, session):
    competition, units, subs = world
    session.delete(report_of(session, subs["丙"]))
    session.flush()
    response = client.get(f"/admin/similarity/versions/{subs['丙'].current.id}")
    assert response.status_code == 200 and "未查重" in page_text(response)


def test_side_by_side(client, world, session):
    competition, units, subs = world
    url = f"/admin/similarity/versions/{subs['甲'].current.id}/sources/essay/{subs['乙'].current.id}"
    response = client.get(url)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    a_col = unescape(re.search(r'<div class="sbs-text" id="a-text"[^>]*>(.*?)</div>', page, re.S).group(1))
    b_col = unescape(re.search(r'<div class="sbs-text" id="b-text"[^>]*>(.*?)</div>', page, re.S).group(1))
    # Both texts, whole.
    for fragment in (OWN_A, "城市管理是城市发展的重要保障"):
        assert fragment in re.sub(r"<[^>]+>", "", a_col)
    assert OWN_B in re.sub(r"<[^>]+>", "", b_col) and "要科学设立便民疏导点" in re.sub(r"<[^>]+>", "", b_col)
    # Copied passages are numbered alike in both texts and link to each other.
    numbers_a = re.findall(r'<a class="copied c\d" href="#b-(\d+)" data-passage="\1" id="a-\1"', a_col)
    numbers_b = re.findall(r'<a class="copied c\d" href="#a-(\d+)" data-passage="\1" id="b-\1"', b_col)
    assert numbers_a and numbers_a == numbers_b
    assert "城市管理是城市发展的重要保障" in "".join(re.findall(r'<a class="copied[^>]*>(.*?)</a>', a_col))
    # The notice quote is greyed, never counted.
    base = re.findall(r'<span class="base" title="通知/常用引语，不计入复制比">(.*?)</span>', a_col)
    assert any("深入推进城市管理工作改革创新" in b for b in base)
    assert "深入推进城市管理工作改革创新" not in "".join(re.findall(r'<a class="copied[^>]*>(.*?)</a>', a_col))
    # Ratios both ways, and the changed words inside the passage.
    text = page_text(response)
    report = report_of(session, subs["甲"])
    assert f"{report.sources[0]['ratio'] * 100:.1f}%" in text
    assert f"{report.sources[0]['ratio_other'] * 100:.1f}%" in text
    diff = re.search(r'<section class="card" id="passages">.*?</section>', page, re.S).group(0)
    assert "<del>很大</del> → <ins>不少</ins>" in diff or ("很大" in diff and "不少" in diff)
    assert "来源多出 <ins>科学</ins>" in diff


def test_side_by_side_refuses_what_is_not_a_source(client, world, make):
    competition, units, subs = world
    other = make.competition(title="另一个活动")
    elsewhere = make.submission(other, make.unit("外单位"))
    v = subs["甲"].current.id
    for url in (f"/admin/similarity/versions/{v}/sources/essay/{elsewhere.current.id}",
                f"/admin/similarity/versions/{v}/sources/essay/{v}",
                f"/admin/similarity/versions/{v}/sources/reference/999999",
                f"/admin/similarity/versions/{v}/sources/other/1",
                "/admin/similarity/versions/999999"):
        assert client.get(url).status_code == 404, url


# --- decisions ------------------------------------------------------------------------------


def decide(client, submission, decision, reason):
    return client.post(f"/admin/similarity/versions/{submission.current.id}/decision",
                       data={"decision": decision, "reason": reason})


def test_decision_needs_a_reason(client, world, session):
    competition, units, subs = world
    before = count(session, AuditLog)
    response = decide(client, subs["乙"], "disqualified", "   ")
    assert response.status_code == 400
    assert flash_error(response) == ("请填写处理理由：排除（误报）、确认抄袭和取消资格都须写明理由。"
                                     "（错误代码 SIMILARITY_REASON_REQUIRED）")
    assert 'value="disqualified" checked' in response.get_data(as_text=True)  # the choice is kept
    assert count(session, SimilarityDecision) == 0 and count(session, AuditLog) == before
    response = decide(client, subs["乙"], "expelled", "理由")
    assert response.status_code == 400 and "FORM_INVALID" in flash_error(response)
    assert count(session, SimilarityDecision) == 0 and count(session, AuditLog) == before


def test_decisions_history_and_audit(client, world, session, make):
    competition, units, subs = world
    sub = subs["乙"]
    response = decide(client, sub, "disqualified", "与甲中队论文大段相同，且未注明出处")
    assert response.status_code == 302
    assert response.location.endswith(f"/admin/similarity/versions/{sub.current.id}#decisions")
    assert is_disqualified(session, sub)
    assert decide(client, sub, "dismissed", "甲中队引用的是乙中队去年的获奖论文，乙中队为原作者").status_code == 302
    assert not is_disqualified(session, sub) and current_decision(session, sub).decision == "dismissed"
    page = client.get(f"/admin/similarity/versions/{sub.current.id}").get_data(as_text=True)
    history = unescape(re.search(r'<table id="decision-history">.*?</table>', page, re.S).group(0))
    assert history.index("排除（误报）") < history.index("取消资格")  # newest first
    assert "（现行）" in history and "政工科王科长" in history and "未注明出处" in history
    entries = audit_actions(session, "similarity.decide")
    assert [e.after["decision"] for e in entries] == ["disqualified", "dismissed"]
    assert entries[0].before is None and entries[1].before["decision"] == "disqualified"
    assert entries[1].object_type == "submission" and entries[1].object_id == str(sub.id)
    listing = client.get(f"/admin/competitions/{competition.id}/similarity").get_data(as_text=True)
    assert "排除（误报）" in re.search(rf'<tr id="version-{sub.current.id}".*?</tr>', listing, re.S).group(0)


def test_decision_on_a_replaced_version_is_refused(client, world, session, make):
    competition, units, subs = world
    sub = subs["乙"]
    old_id = sub.current.id
    receive(session, competition, units["乙"], make.admin(), EssayForm(competition.themes[0].id, "", ["张三"], "138"),
            "v2.docx", docx_bytes([OWN_B, "修改后的正文，全部重写。" * 3], title="修改稿"), competition.deadline,
            submission=sub, by_admin=True)
    response = client.post(f"/admin/similarity/versions/{old_id}/decision",
                           data={"decision": "confirmed", "reason": "抄袭"})
    assert response.status_code == 409
    assert flash_error(response) == ("这篇论文已有新版本（第 2 版），请先查看新版本的查重报告再作处理决定。"
                                     "（错误代码 SIMILARITY_DECISION_STALE）")
    assert count(session, SimilarityDecision) == 0
    page = client.get(f"/admin/similarity/versions/{old_id}").get_data(as_text=True)
    assert 'id="decision-form"' not in page and "这是旧版本。请在当前版本（第 2 版）的查重报告中作处理决定。" in page


# --- thresholds -----------------------------------------------------------------------------


def thresholds(client, competition, **values):
    data = {"sim_list_from": "5", "sim_suspect_from": "30", "sim_severe_from": "50", "sim_notice_from": "25"}
    data.update(values)
    return client.post(f"/admin/competitions/{competition.id}/similarity/settings", data=data)


THRESHOLDS_REFUSED = ("查重阈值须为大于 0、不超过 100 的百分数，且“列出”不高于“疑似”、“疑似”不高于“严重”。"
                      "（错误代码 SIMILARITY_THRESHOLDS_INVALID）")


@pytest.mark.parametrize("values", [
    {"sim_suspect_from": "60"},  # 疑似 above 严重
    {"sim_list_from": "0"},
    {"sim_severe_from": "120"},
    {"sim_notice_from": "三十"},
    {"sim_list_from": ""},
    {"sim_notice_from": "nan"},
])
def test_bad_thresholds_are_refused(client, world, session, values):
    competition, units, subs = world
    before = count(session, AuditLog)
    response = thresholds(client, competition, **values)
    assert response.status_code == 400
    assert flash_error(response) == THRESHOLDS_REFUSED
    session.refresh(competition)
    assert (competition.sim_list_from, competition.sim_suspect_from, competition.sim_severe_from,
            competition.sim_notice_from) == (0.05, 0.30, 0.50, 0.25)
    assert count(session, AuditLog) == before


def test_thresholds_relevel_stored_reports(client, world, session):
    competition, units, subs = world
    page = client.get(f"/admin/competitions/{competition.id}/similarity/settings").get_data(as_text=True)
    assert 'name="sim_suspect_from" value="30"' in page and 'name="sim_notice_from" value="25"' in page
    jia = report_of(session, subs["甲"])
    assert jia.level == "severe" and 0.5 < jia.total_ratio < 0.9
    response = thresholds(client, competition, sim_suspect_from="40", sim_severe_from="95", sim_notice_from="90％")
    assert response.status_code == 302
    session.refresh(competition)
    assert (competition.sim_suspect_from, competition.sim_severe_from, competition.sim_notice_from) == (0.4, 0.95, 0.9)
    session.refresh(jia)
    ding = report_of(session, subs["丁"])
    session.refresh(ding)
    assert jia.level == "suspect"  # recomputed without a new check
    assert ding.level == "severe" and not ding.notice_flag  # a duplicate stays 严重
    entry = audit_actions(session, "similarity.settings")[-1]
    assert entry.before["sim_severe_from"] == 0.5 and entry.after["sim_severe_from"] == 0.95
    assert entry.after["levels_changed"] >= 1


# --- the whole run --------------------------------------------------------------------------


def test_whole_run_is_a_job(client, world, session):
    competition, units, subs = world
    session.delete(report_of(session, subs["丙"]))
    session.flush()
    response = client.post(f"/admin/competitions/{competition.id}/similarity/run")
    assert response.status_code == 302
    job = session.execute(select(Job).where(Job.kind == "similarity.run")).scalar_one()
    assert response.location.endswith(f"/admin/jobs/{job.id}")
    assert job.status == "done" and job.competition_id == competition.id
    assert job.result["essays"] == 6 and job.result["severe"] >= 4
    page = page_text(client.get(response.location))
    assert "查重完成：比对论文 6 篇、比对文献 0 篇" in page and "查看查重结果" in page
    assert report_of(session, subs["丙"]) is not None  # checked again
    entry = audit_actions(session, "similarity.run")[-1]
    assert entry.object_type == "competition" and entry.after["essays"] == 6
    assert list_rows(client, competition)[:2] == ["城管执法丁中队", "城管执法己中队"]


def test_no_second_run_while_one_is_waiting(client, world, session, make):
    competition, units, subs = world
    waiting = Job(kind="similarity.run", status="queued", params={}, competition_id=competition.id,
                  created_by_id=make.admin().id, progress_done=0, progress_total=0, message="", error="", error_code="")
    session.add(waiting)
    session.flush()
    response = client.post(f"/admin/competitions/{competition.id}/similarity/run")
    assert response.status_code == 302 and response.location.endswith(f"/admin/jobs/{waiting.id}")
    assert session.execute(select(func.count(Job.id)).where(Job.kind == "similarity.run")).scalar_one() == 1
    listing = client.get(f"/admin/competitions/{competition.id}/similarity").get_data(as_text=True)
    assert "查重任务进行中，查看进度" in listing and "全活动重新查重" not in listing


# --- hot passages ---------------------------------------------------------------------------

STOCK = "坚持以人民为中心的发展思想，不断增强人民群众的获得感、幸福感、安全感"


def test_hot_passages_and_adding_one_as_a_quotation(client, auth, make, session):
    competition = make.competition(notice_text=NOTICE)
    body = [p for topic, items in load_corpus().paragraphs.items() if topic not in ("开头", "结尾", "引文句", "本单位")
            for p in items if "{" not in p]
    for n in range(12):
        unit = make.unit(f"城管执法第{n + 1}中队")
        make.submission(competition, unit, title=f"论文{n + 1}",
                        data=docx_bytes([f"{STOCK}。", body[n * 3], body[n * 3 + 1]], title=f"论文{n + 1}"))
    make.user("admin", username="boss")
    auth.login("boss")
    assert client.post(f"/admin/competitions/{competition.id}/similarity/run").status_code == 302
    page = client.get(f"/admin/competitions/{competition.id}/similarity").get_data(as_text=True)
    hot = unescape(re.search(r'<table id="hot-passages">.*?</table>', page, re.S).group(0))
    row = next(r for r in re.findall(r"<tr>.*?</tr>", hot, re.S) if "民为中心的发展思想" in r)
    assert "<td>12</td>" in row
    assert all(f"城管执法第{n}中队" in row for n in range(1, 13))
    text = re.search(r'name="text" value="([^"]+)"', row).group(1)
    response = client.post("/admin/quotations", data={"text": text, "from_hot": "1",
                                                      "competition_id": str(competition.id)})
    assert response.status_code == 302
    assert response.location.endswith(f"/admin/competitions/{competition.id}/similarity#hot")
    added = session.execute(select(BaseQuotation.text)).scalars().all()
    assert added and all("……" not in q for q in added) and any("民为中心的发展思想" in q for q in added)
    assert audit_actions(session, "quotation.add")[-1].after["texts"] == added
    # After a new run the stock phrase is base text: no longer hot, counted in 通知引用比.
    client.post(f"/admin/competitions/{competition.id}/similarity/run")
    page = client.get(f"/admin/competitions/{competition.id}/similarity").get_data(as_text=True)
    assert "没有多篇共有的段落" in page


# --- who sees what --------------------------------------------------------------------------


def new_routes(competition: Competition, subs) -> list[tuple[str, str]]:
    v, w = subs["甲"].current.id, subs["乙"].current.id
    c = competition.id
    return [
        ("GET", f"/admin/competitions/{c}/similarity"),
        ("GET", f"/admin/competitions/{c}/similarity?show=undecided"),
        ("POST", f"/admin/competitions/{c}/similarity/run"),
        ("GET", f"/admin/competitions/{c}/similarity/settings"),
        ("POST", f"/admin/competitions/{c}/similarity/settings"),
        ("GET", f"/admin/similarity/versions/{v}"),
        ("POST", f"/admin/similarity/versions/{v}/decision"),
        ("GET", f"/admin/similarity/versions/{v}/sources/essay/{w}"),
        ("GET", "/admin/references"),
        ("POST", "/admin/references"),
        ("POST", "/admin/references/1/deactivate"),
        ("GET", "/admin/quotations"),
        ("POST", "/admin/quotations"),
        ("POST", "/admin/quotations/1/remove"),
    ]


@pytest.mark.parametrize("role", ["unit", "judge", "anonymous"])
def test_only_the_admin_reaches_copy_detection(app, world, make, role):
    competition, units, subs = world
    client = app.test_client()
    if role != "anonymous":
        user = make.user(role, unit=units["甲"] if role == "unit" else None, username=f"{role}_sim")
        assert client.post("/login", data={"username": user.username, "password": "test-pass-2027"}).status_code == 302
    before_decisions = make.session.execute(select(func.count(SimilarityDecision.id))).scalar_one()
    for method, url in new_routes(competition, subs):
        response = client.open(url, method=method,
                               data={"decision": "disqualified", "reason": "x", "text": "口号口号口号"})
        if role == "anonymous":
            assert response.status_code == 302 and "/login" in response.location, url
        else:
            assert response.status_code == 403 and "FORBIDDEN" in response.get_data(as_text=True), url
    assert make.session.execute(select(func.count(SimilarityDecision.id))).scalar_one() == before_decisions
    assert make.session.execute(select(func.count(BaseQuotation.id))).scalar_one() == 0


def test_the_unit_sees_only_that_its_essay_was_checked(app, world, make, session):
    competition, units, subs = world
    make.user("unit", unit=units["乙"], username="unit_yi")
    client = app.test_client()
    assert client.post("/login", data={"username": "unit_yi", "password": "test-pass-2027"}).status_code == 302
    response = client.get(f"/unit/submissions/{subs['乙'].id}")
    assert response.status_code == 200
    page, text = response.get_data(as_text=True), page_text(response)
    assert re.search(r'<dd id="similarity-status">查重完成</dd>', page)
    assert not re.search(r"\d+(\.\d+)?\s*%", text)  # no ratio at all
    for secret in ("复制比", "城管执法甲中队", "以解放思想推动城管执法方式转变", OWN_A[:12], "严重", "疑似", "来源"):
        assert secret not in text, secret
    assert client.get(f"/admin/similarity/versions/{subs['乙'].current.id}").status_code == 403
    # Not checked: 未查重; while a whole run waits: 查重中.
    session.delete(report_of(session, subs["乙"]))
    session.flush()
    receipt = f"/unit/submissions/{subs['乙'].id}"
    assert '<dd id="similarity-status">未查重</dd>' in client.get(receipt).get_data(as_text=True)
    session.add(Job(kind="similarity.run", status="running", params={}, competition_id=competition.id,
                    created_by_id=make.admin().id, progress_done=0, progress_total=0, message="", error="",
                    error_code=""))
    session.flush()
    assert '<dd id="similarity-status">查重中</dd>' in client.get(receipt).get_data(as_text=True)


def test_the_original_of_a_copied_pair_is_marked_original(client, world, session):
    """Of an exact-duplicate pair the one first received is the original: 原创（被他文抄袭）,
    not 排除（误报）; the 汇总表's 查重结论 says so (review.export reads the same names)."""
    from essays.similarity.decisions import DECISION_NAMES, current_decision

    competition, units, subs = world
    response = decide(client, subs["丁"], "original", "丁中队先提交，己中队抄袭")
    assert response.status_code == 302
    decision = current_decision(session, subs["丁"])
    assert decision.decision == "original" and str(DECISION_NAMES["original"]) == "原创（被他文抄袭）"
    page = page_text(client.get(f"/admin/competitions/{competition.id}/similarity"))
    assert "原创（被他文抄袭）" in page


def test_a_report_says_what_it_compared_with_and_a_pending_one_says_it_is_not_checked_yet(
        client, world, session, make, monkeypatch):
    from essays.similarity import index

    competition, units, subs = world
    text = page_text(client.get(f"/admin/similarity/versions/{subs['甲'].current.id}"))
    assert "比对依据" in text
    monkeypatch.setattr(index, "_CACHES", {})  # a worker just started, no shared files on this machine
    monkeypatch.setattr(index, "DATABASE_PATH_MAX", 1)  # and more prints than an upload may read
    with client.application.app_context():  # the upload's request: the app names the index folder
        late = make.submission(competition, make.unit("城管执法庚中队"), title="后来者", data=docx_bytes([OWN_C]))
    assert report_of(session, late).compared_with == "pending"
    report = page_text(client.get(f"/admin/similarity/versions/{late.current.id}"))
    assert "尚未比对 本机的查重共享索引正在建立；建好后（通常在几分钟内）系统会自动检查本文。" in report
    assert "待更新" not in report
    row = re.search(rf'<tr id="version-{late.current.id}".*?</tr>', client.get(
        f"/admin/competitions/{competition.id}/similarity").get_data(as_text=True), re.S).group(0)
    assert "尚未比对" in row and "待更新" not in row
