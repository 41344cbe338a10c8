"""Web-copy traces: every kind with what it must and must not match, a notice copied from a
范文 website (our own, FANWEN_COPY, and the real seed of ../shared/seed when it is beside the
checkout), offsets in the original text, and a property over arbitrary text."""

from __future__ import annotations

import re

import opencc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from essays.similarity.traces import (
    EXCERPT_MAX,
    SYLLABLES,
    TRACE_KINDS,
    TRACE_NAMES,
    Trace,
    find_traces,
    trace_summary,
)
from tests.shared_folder import SEED, needs_seed

GLOSS = re.compile(r"(?<=[\u4e00-\u9fff])\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+\)")  # found independently

CLEAN = (
    "（一）加强城市管理。2023年，我区投入3.5亿元改善市容环境，新增停车位1.2万个，"
    "认真贯彻落实《关于加强城市精细化管理的通知》要求，着力解决群众反映强烈的突出问题。\n"
    "（二）深化党建引领。各党支部把党建工作与业务工作同部署、同落实，乾隆年间的老街得到修缮，"
    "干部群众齐心协力，后来评为示范街区。第XI届运动会期间，某某社区志愿者坚守岗位。"
)


def seed() -> str:
    return SEED.read_text(encoding="utf-8")


# A notice as a 范文 website serves it, built by hand like the seed: the site's title, time and
# 导语 lines, the text in Traditional script with pinyin glosses after some characters (inside
# the site's phrases too), and characters the site left in Simplified script (于, 咨, 采, 干, 后).
FANWEN_COPY = """開展城市管理徵文活動方案

時間:2022-08-11 05:43:00

導語:開展城市管理徵文活動方案一文來源于網(wǎng)友上傳,不代表本站觀點,若需要原創(chuàng)文章可咨詢客服老師,歡迎參考。

開展城市管理徵文活動方案

根據(jù)局黨委《關于開展城市管理徵文活動的通知》精神,大隊決定在全大隊開展徵文活動,特制定如下方案:

一、活動安排

(一)動員階段(3月10日至4月5日)

各中隊、科室(部門)要采取多種形式組織學習,干部帶頭撰寫論文,營造良好氛圍。

(二)徵文階段

每個單位報送論文一篇,字數(shù)不超過3000字,于5月20日前報政工科,由政工科統(tǒng)一收集后報送局論文評比。

二、工作要求

各單位要高度重視,認真組織,聯(lián)系轄(xiá)區(qū)實際,確保徵文活動取得實效,推動城市管理工作創(chuàng)新發(fā)展。
"""


def kinds(text: str) -> list[str]:
    return [t.kind for t in find_traces(text)]


def spans(text: str, kind: str) -> list[str]:
    return [text[t.start : t.end] for t in find_traces(text) if t.kind == kind]


# --- a notice copied from a 范文 website ------------------------------------------------------


def test_copy_glosses_are_all_found_with_their_offsets():
    expected = [m.span() for m in GLOSS.finditer(FANWEN_COPY)]
    assert len(expected) == 10
    assert [(t.start, t.end) for t in find_traces(FANWEN_COPY) if t.kind == "pinyin_gloss"] == expected
    assert "(3月10日至4月5日)" in FANWEN_COPY and "(部門)" in FANWEN_COPY and "(一)" in FANWEN_COPY  # left alone


def test_copy_boilerplate_is_the_header_and_the_time_line():
    assert spans(FANWEN_COPY, "site_boilerplate") == [
        "時間:2022-08-11 05:43:00", "導語:", "來源于網(wǎng)友上傳", "不代表本站觀點",
        "若需要原創(chuàng)文章可咨詢客服", "歡迎參考"]  # a gloss inside a phrase does not break it


def test_copy_is_half_converted_line_by_line():
    traces = find_traces(FANWEN_COPY)
    assert {t.kind for t in traces} == {"pinyin_gloss", "site_boilerplate", "mixed_script"}
    mixed = [t for t in traces if t.kind == "mixed_script"]
    assert [t.excerpt for t in mixed] == [
        "繁体“導、語、開”与简体“于、咨”混排", "繁体“據、黨、關”与简体“于”混排", "繁体“隊、門、種”与简体“采、干”混排",
        "繁体“個、單、報”与简体“于、后”混排"]
    assert FANWEN_COPY[mixed[0].start : mixed[0].end].startswith("導語:開展城市管理")
    assert FANWEN_COPY[mixed[0].start : mixed[0].end].endswith("歡迎參")  # to the line's last marked character


def test_copy_fully_converted_either_way_is_not_mixed():
    simplified = opencc.OpenCC("t2s").convert(GLOSS.sub("", FANWEN_COPY))
    traditional = opencc.OpenCC("s2tw").convert(simplified)
    assert kinds(simplified) == kinds(traditional) == ["site_boilerplate"] * 6


def test_summary_of_the_copy():
    assert trace_summary(find_traces(FANWEN_COPY)) == ["汉字后的拼音注音 10 处", "范文网站套话 6 处", "繁简混排 4 处"]


# The real seed (../shared/seed): the same, on the whole 2008 notice as the site serves it.


@needs_seed
def test_seed_glosses_are_all_found_with_their_offsets():
    text = seed()
    expected = [m.span() for m in GLOSS.finditer(text)]
    found = [(t.start, t.end) for t in find_traces(text) if t.kind == "pinyin_gloss"]
    assert len(expected) > 100
    assert found == expected
    assert "(3月10日至4月5日)" in text and "(部門)" in text  # ordinary parentheses are left alone


@needs_seed
def test_seed_boilerplate_includes_the_header_and_the_time_line():
    text = seed()
    found = spans(text, "site_boilerplate")
    assert "時間:2022-08-11 05:43:00" in found
    assert "導語:" in found
    assert "來源于網(wǎng)友上傳" in found  # the gloss inside the phrase does not break it
    assert "不代表本站觀點" in found
    assert "若需要原創(chuàng)文章可咨詢客服" in found
    assert "歡迎參考" in found


@needs_seed
def test_seed_is_half_converted_and_has_no_other_traces():
    traces = find_traces(seed())
    assert {t.kind for t in traces} == {"pinyin_gloss", "site_boilerplate", "mixed_script"}
    mixed = [t for t in traces if t.kind == "mixed_script"]
    assert len(mixed) > 5
    assert all(re.fullmatch(r"繁体“.+”与简体“.+”混排", t.excerpt) for t in mixed)
    first = mixed[0]
    assert first.excerpt == "繁体“導、語、開”与简体“于、咨”混排"
    assert seed()[first.start : first.end].startswith("導語:開展科學發(fā)展")


@needs_seed
def test_the_seed_fully_converted_either_way_is_not_mixed():
    text = re.sub(r"\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+\)", "", seed())
    simplified = opencc.OpenCC("t2s").convert(text)
    traditional = opencc.OpenCC("s2tw").convert(simplified)
    assert "mixed_script" not in kinds(simplified)
    assert "mixed_script" not in kinds(traditional)
    assert "pinyin_gloss" not in kinds(simplified)


@needs_seed
def test_summary_of_the_seed():
    traces = find_traces(seed())
    glosses = sum(t.kind == "pinyin_gloss" for t in traces)
    summary = trace_summary(traces)
    assert summary[0] == f"汉字后的拼音注音 {glosses} 处"
    assert [s.split(" ")[0] for s in summary] == ["汉字后的拼音注音", "范文网站套话", "繁简混排"]
    assert all(type(s) is str for s in summary)


# --- a clean official essay ----------------------------------------------------------------


def test_a_clean_official_paragraph_has_no_traces():
    assert find_traces(CLEAN) == []
    assert trace_summary([]) == []
    assert find_traces("") == []


# --- pinyin_gloss ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, gloss",
    [
        ("發(fā)展", "(fā)"),
        ("創(chuàng)業", "(chuàng)"),
        ("發（fā）展", "（fā）"),
        ("發（ｆā）展", "（ｆā）"),
        ("發(fa1)展", "(fa1)"),
        ("綠(lǜ)色", "(lǜ)"),
        ("綠(lv4)色", "(lv4)"),
        ("女(nǚ)士", "(nǚ)"),
        ("發(Fā)展", "(Fā)"),
        ("小(xia\u030co)", "(xia\u030co)"),  # a combining tone mark
    ],
)
def test_a_gloss_is_one_syllable_after_a_character(text, gloss):
    assert spans(text, "pinyin_gloss") == [gloss]


@pytest.mark.parametrize(
    "text",
    [
        "方案（一）", "(一)", "会议（2023年）召开", "文件(PDF)", "详见(附件1)", "管理办法（试行）",
        "城市管理(urban management)", "打印(A4)纸", "方案(a)", "城市(run)", "他們(men)", "(fā)开头",
        "中国(China)", "发(xyz)", "发(fāā)", "发(fā1)", "资料(B2)",
    ],
)
def test_ordinary_parentheses_are_not_glosses(text):
    assert "pinyin_gloss" not in kinds(text)


def test_a_toneless_gloss_counts_beside_toned_ones():
    assert spans("他們(men)發(fā)展", "pinyin_gloss") == ["(men)", "(fā)"]


def test_the_syllable_table():
    assert 400 <= len(SYLLABLES) <= 430
    assert {"zhuang", "chuang", "lv", "nve", "lue", "yong", "er", "shei", "ng"} <= SYLLABLES
    assert not {"pdf", "tingx", "fia", "bue", "jv", "zhing", "urban"} & SYLLABLES


# --- site_boilerplate ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, phrase",
    [
        ("导语：开展活动", "导语："),
        ("本文来源于网友上传，", "本文来源于网友上传"),
        ("来源於網友上傳", "来源於網友上傳"),
        ("不代表本站觀點", "不代表本站觀點"),
        ("……此处隐藏：1234个字……", "此处隐藏：1234个字"),
        ("此處隱藏12個字", "此處隱藏12個字"),
        ("点击免费下载", "免费下载"),
        ("查看全文", "查看全文"),
        ("更多范文请访问", "更多范文"),
        ("版權歸原作者所有", "版權歸原作者所有"),
        ("转载请注明出处", "转载请注明出处"),
        ("小编为大家整理了", "小编"),
        ("相关推荐：", "相关推荐"),
        ("标题\n時間：2022-08-11 05:43:00\n正文", "時間：2022-08-11 05:43:00"),
        ("标题\n  发布时间:2022/8/11  \n正文", "发布时间:2022/8/11"),
    ],
)
def test_boilerplate_in_either_script(text, phrase):
    assert spans(text, "site_boilerplate") == [phrase]


@pytest.mark.parametrize(
    "text",
    ["活动时间：2023年5月10日", "会议时间：2022-08-11，地点：二楼", "我们要参考先进经验", "全文共三部分", "隐藏的问题"],
)
def test_ordinary_text_is_not_boilerplate(text):
    assert "site_boilerplate" not in kinds(text)


# --- url -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, found",
    [
        ("详见http://www.fanwen.com/a/1.html。", "http://www.fanwen.com/a/1.html"),
        ("访问HTTPS://Example.cn/x?id=3，", "HTTPS://Example.cn/x?id=3"),
        ("网址www.diyifanwen.com", "www.diyifanwen.com"),
        ("ｗｗｗ．ｆａｎｗｅｎ．ｃｏｍ", "ｗｗｗ．ｆａｎｗｅｎ．ｃｏｍ"),
        ("访问xxx.com.cn了解", "xxx.com.cn"),
        ("来自163.com的消息", "163.com"),
        ("域名my-site.net。", "my-site.net"),
        ("（来源：第一范文网）", "（来源：第一范文网）"),
        ("本文由出国留学网整理", "出国留学网整理"),
        ("XX范文网", "XX范文网"),
        ("范文大全", "范文大全"),
        ("文秘網提供", "文秘網"),
        ("文章来源：网络", "文章来源："),
    ],
)
def test_addresses_and_watermarks(text, found):
    assert spans(text, "url") == [found]


@pytest.mark.parametrize(
    "text",
    [
        "投入3.5亿元，增长1.2万", "版本2.0.1", "邮箱zhang@qq.com", "（来源：新华社）", "ASP.NET平台",
        "文件report.docx", "第3.2节", "文章来源于生活",
    ],
)
def test_ordinary_text_is_not_an_address(text):
    assert "url" not in kinds(text)


def test_a_long_address_is_shortened_in_the_excerpt():
    url = "http://www.fanwen.com/" + "a" * 60 + "/end.html"
    [trace] = find_traces(f"见{url}。")
    assert trace.kind == "url" and (trace.start, trace.end) == (1, 1 + len(url))
    assert len(trace.excerpt) == EXCERPT_MAX and "…" in trace.excerpt
    assert trace.excerpt.startswith("http://www.fanwen.com/") and trace.excerpt.endswith("/end.html")


# --- placeholder -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, found",
    [
        ("20xx年工作总结", ["20xx年"]),
        ("２０ＸＸ年", ["２０ＸＸ年"]),
        ("20××年x月x日", ["20××年x月x日"]),
        ("于XX年x月召开", ["XX年x月"]),
        ("于x月x日前", ["x月x日"]),
        ("XX区XX街道", ["XX", "XX"]),
        ("××局", ["××"]),
        ("XXX同志：", ["XXX"]),
        ("＊＊局", ["＊＊"]),
        ("致xx单位", ["xx"]),
    ],
)
def test_template_blanks(text, found):
    assert spans(text, "placeholder") == found


@pytest.mark.parametrize(
    "text",
    ["某某单位某某同志", "第XI章", "XIV", "XXL码", "box xx large", "X光检查", "******", "2020年", "3x3矩阵", "x0dx0a"],
)
def test_ordinary_text_is_not_a_placeholder(text):
    assert "placeholder" not in kinds(text)


# --- mixed_script ----------------------------------------------------------------------------


def test_a_half_converted_line_is_mixed():
    text = "各单位要认真组织。\n學習討論，干部带头并征求意见。"
    [trace] = find_traces(text)
    assert trace.kind == "mixed_script"
    assert trace.excerpt == "繁体“學、習、討”与简体“干、带、头”混排"
    assert text[trace.start : trace.end] == "學習討論，干部带头并征求意见"


def test_scripts_alternating_by_line_give_one_trace():
    text = "開展學習討論活動。\n各单位要认真组织。"
    [trace] = find_traces(text)
    assert trace.kind == "mixed_script"
    assert (trace.start, trace.end) == (0, len(text) - 1)


@pytest.mark.parametrize(
    "text",
    [
        # wholly Traditional (Taiwan), with 著, 乾淨, 皇后 and a 周末 and 咨詢 of its own
        "臺灣的教育制度在過去幾十年裡經歷了許多變革。著名學者指出，教育的目的不僅是培養人才。"
        "我們應該關心群眾的需要，周末到公園裡散步，乾淨的環境讓人心情愉快。他後來被皇后召見，咨詢專家意見。",
        # wholly Simplified, with 乾隆 and 著力
        "乾隆年间的老街得到修缮，我们著力解决群众反映强烈的问题，干部群众齐心协力。",
        # a few Traditional characters only
        "开展學習活动，认真组织，确保实效。",
        # Traditional text with only two Simplified-only characters
        "開展學習討論活動，于是干勁十足。",
    ],
)
def test_one_script_is_not_mixed(text):
    assert "mixed_script" not in kinds(text)


# --- newline_residue -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, found",
    [
        ("第一段x0dx0a第二段", ["x0dx0a"]),
        ("第一段x0d x0a第二段", ["x0d x0a"]),
        ("第一段X0DX0A", ["X0DX0A"]),
        (r"一\r\n二", [r"\r\n"]),
        ("&nbsp;&nbsp;正文&#12288;", ["&nbsp;", "&nbsp;", "&#12288;"]),
        ("A&amp;B", ["&amp;"]),
        ("<br>文字<p>正文</p>", ["<br>", "<p>", "</p>"]),
        ("文字<br/>", ["<br/>"]),
    ],
)
def test_residue(text, found):
    assert spans(text, "newline_residue") == found


@pytest.mark.parametrize("text", ["C:\\new\\file", "A & B", "3 < 5", "x0 坐标", "第一段\r\n第二段"])
def test_ordinary_text_is_not_residue(text):
    assert "newline_residue" not in kinds(text)


# --- the whole result ------------------------------------------------------------------------


def test_offsets_skip_glosses_and_follow_the_original():
    text = "標題x0dx0a導語：來源於網(wǎng)友上傳，詳見www.fanwen.com，20xx年"
    traces = find_traces(text)
    got = [(t.kind, text[t.start : t.end]) for t in traces]
    assert got == [
        ("newline_residue", "x0dx0a"),
        ("site_boilerplate", "導語："),
        ("site_boilerplate", "來源於網(wǎng)友上傳"),
        ("pinyin_gloss", "(wǎng)"),
        ("url", "www.fanwen.com"),
        ("placeholder", "20xx年"),
    ]
    assert all(t.excerpt == text[t.start : t.end] for t in traces)


def test_a_trace_inside_another_of_its_kind_is_dropped():
    text = "（来源：www.fanwen.com）"
    assert [(t.kind, t.start, t.end) for t in find_traces(text)] == [("url", 0, len(text))]


def test_sorted_by_start_then_kind():
    text = "XX范文网"
    assert [(t.kind, t.start) for t in find_traces(text)] == [("url", 0), ("placeholder", 0)]


def test_summary_in_kind_order_outside_an_app():
    traces = [Trace("placeholder", 0, 2, "XX"), Trace("url", 3, 6, "文秘网"), Trace("placeholder", 7, 9, "××")]
    assert trace_summary(traces) == ["网址或网站水印 1 处", "年份等占位符（如 20xx） 2 处"]
    assert set(TRACE_NAMES) == set(TRACE_KINDS)


# --- any text --------------------------------------------------------------------------------

PIECES = [
    "發", "(fā)", "（chuàng）", "(men)", "网", "導語:", "来源于网友上传", "www.", "fanwen", ".com", "ｃｏｍ", "20",
    "xx", "XX", "×", "年", "月", "日", "\n", " ", "时间:2022-08-11 05:43:00", "x0d", "x0a", "&nbsp;", "<br>", "干部",
    "開學", "发", "并", "征", "于", "乾隆", "豈", "范文网", "(", ")", "（", "）", "…", "①", "\ud800", "\U00020000",
]


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=80), st.lists(st.sampled_from(PIECES), max_size=40).map("".join)))
def test_any_text_gives_well_formed_traces(text):
    traces = find_traces(text)
    order = {kind: i for i, kind in enumerate(TRACE_KINDS)}
    assert traces == sorted(traces, key=lambda t: (t.start, order[t.kind], -t.end))
    for t in traces:
        assert t.kind in TRACE_KINDS
        assert 0 <= t.start < t.end <= len(text)
        span = text[t.start : t.end]
        if t.kind == "mixed_script":
            examples = re.fullmatch(r"繁体“(.+)”与简体“(.+)”混排", t.excerpt)
            assert examples
            assert all(ch in span for ch in "、".join(examples.groups()).split("、"))
        elif len(span) <= EXCERPT_MAX:
            assert t.excerpt == span
        else:  # shortened: a head, "…", a tail
            assert len(t.excerpt) == EXCERPT_MAX and t.excerpt[28] == "…"
            assert span.startswith(t.excerpt[:28]) and span.endswith(t.excerpt[29:])
    assert sum(int(s.split(" ")[-2]) for s in trace_summary(traces)) == len(traces)


def test_the_fold_table_folds_as_nfkc_one_character_at_a_time():
    """The numpy fold gives what the regex substitution it replaced gave, on every character."""
    import unicodedata

    from essays.similarity.traces import _fold

    every = "".join(chr(cp) for cp in range(0x110000) if not 0xD800 <= cp <= 0xDFFF) + "\ud800"
    expected = []
    for ch in every:
        cp = ord(ch)
        folded = unicodedata.normalize("NFKC", ch) if (0xA0 <= cp < 0xD800 or 0xE000 <= cp < 0x10000
                                                        or 0x2F800 <= cp < 0x2FA20) else ch
        expected.append(folded if len(folded) == 1 else ch)
    assert _fold(every) == "".join(expected)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("wW.:/-_@3x中文aco mnetrgvhkps")), max_size=40))
def test_an_address_is_never_skipped_by_the_cheap_test(text):
    from essays.similarity.traces import _HAS_URL, _URL_RE

    if _URL_RE.search(text):
        assert _HAS_URL.search(text)


@pytest.mark.parametrize("phrase", [
    "导语:", "导语 :", "本文来源于网友上传", "来源于网友上传", "不代表本站观点", "此处隐藏:100个字", "此处隐藏 3 个字",
    "版权归原作者", "版权归原作者所有", "转载请注明", "转载请注明出处", "本站", "小编", "更多范文", "相关推荐",
])
def test_every_boilerplate_phrase_holds_one_of_the_needles_looked_for_first(phrase):
    from essays.similarity.traces import _BOILERPLATE_NEEDLES, _BOILERPLATE_RE

    assert _BOILERPLATE_RE.fullmatch(phrase)
    assert any(needle in phrase for needle in _BOILERPLATE_NEEDLES)
    assert [t.kind for t in find_traces(f"正文开头。{phrase}正文结尾。")] == ["site_boilerplate"]
