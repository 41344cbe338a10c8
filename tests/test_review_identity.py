"""review.identity: the identity scan of essay texts, redaction, and the .docx's hidden places."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from review.identity import KINDS, Hit, fold, redact, scan
from tests import docx_samples as samples
from tests.docx_samples import app_xml, comments_xml, core_xml, docx, ole_file, p, r, zip_bytes
from tests.factories import docx_bytes

OWN = ["长沙市城管执法大队东塘中队", "东塘中队", "东塘"]
OTHERS = ["长沙市城管执法大队雨花中队", "雨花中队", "二中队", "法制科", "城南所"]
AUTHORS = ["张三", "欧阳小明"]
BODY = "城管工作要坚持以人民为中心的发展思想，我们要在改革创新中解放思想、实事求是。"


def kinds(text: str, own=OWN, others=OTHERS, authors=AUTHORS) -> list[tuple[str, str, str]]:
    return [(h.kind, h.text, h.label) for h in scan(text, own, others, authors)]


def only(text: str, **names) -> Hit:
    hits = scan(text, names.get("own", OWN), names.get("others", OTHERS), names.get("authors", AUTHORS))
    assert len(hits) == 1, hits
    return hits[0]


# --- each kind ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "found"), [
    ("近年来，东塘中队坚持改革。", ("own_unit", "东塘中队", "东塘中队")),
    ("长沙市城管执法大队东塘中队坚持改革。", ("own_unit", "长沙市城管执法大队东塘中队", "长沙市城管执法大队东塘中队")),
    ("在东塘街道开展整治。", ("own_unit", "东塘", "东塘")),
    ("学习雨花中队的经验。", ("other_unit", "雨花中队", "雨花中队")),
    ("学习第二中队的经验。", ("other_unit", "二中队", "二中队")),
    ("法制科负责审核。", ("other_unit", "法制科", "法制科")),
    ("张三同志带头巡查。", ("author", "张三", "张三")),
    ("欧阳 小明同志带头巡查。", ("author", "欧阳 小明", "欧阳小明")),
    ("本中队全体队员。", ("self_reference", "本中队", "本中队")),
    ("我们中队全体队员。", ("self_reference", "我们中队", "我们中队")),
    ("我科室负责此事。", ("self_reference", "我科室", "我科室")),
    ("本科室负责此事。", ("self_reference", "本科室", "本科室")),
    ("我科负责此事。", ("self_reference", "我科", "我科")),
    ("我队负责此事。", ("self_reference", "我队", "我队")),
    ("本单位负责此事。", ("self_reference", "本单位", "本单位")),
    ("我部门负责此事。", ("self_reference", "我部门", "我部门")),
    ("本站负责此事。", ("self_reference", "本站", "本站")),
    ("我所全体干部。", ("self_reference", "我所", "我所")),
    ("来到我所。", ("self_reference", "我所", "我所")),
    ("我們中隊全体队员。", ("self_reference", "我們中隊", "我们中队")),
])
def test_each_name_and_self_reference_is_found_with_its_offsets(text, found):
    kind, matched, label = found
    hit = only(text)
    assert (hit.kind, hit.text, hit.label) == found
    assert (hit.start, hit.end) == (text.index(matched), text.index(matched) + len(matched))
    assert text[hit.start:hit.end] == hit.text


@pytest.mark.parametrize(("last_line", "label"), [
    ("作者：王小明", "作者"),
    ("执笔人: 王小明", "执笔"),
    ("撰稿：王小明", "撰稿"),
    ("供稿单位：某某科室", "供稿"),
    ("单位：某某中队", "单位"),
    ("——某某街道中队", "unit_line"),
    ("综合执法所", "unit_line"),
    ("城南站  王小明", "unit_line"),
    ("王小明", "name_line"),
    ("王小明、李华", "name_line"),
    ("王　明", "name_line"),
])
def test_signature_lines(last_line, label):
    text = f"{BODY}\n  {last_line}  \n"
    hit = only(text)
    assert (hit.kind, hit.label, hit.text) == ("signature", label, last_line)
    assert hit.start == text.index(last_line) and hit.end == hit.start + len(last_line)


@pytest.mark.parametrize("date", ["2027年5月10日", "二〇二七年五月十日", "二○二七年五月", "2027.5.10", "2027-05-10",
                                  "2027/5/10", "２０２７年５月１０日", "写于2027年5月10日", "（2027年5月10日）"])
def test_date_lines(date):
    text = f"{BODY}\n{date}"
    hit = only(text)
    assert (hit.kind, hit.label, hit.text) == ("date_line", "date", date)
    assert (hit.start, hit.end) == (len(BODY) + 1, len(text))


def test_context_is_twenty_characters_either_side_with_newlines_shown():
    text = "一二三四五六七八九十一二三四五六七八九十甲乙丙\n东塘中队\n子丑寅卯辰巳午未申酉戌亥子丑寅卯辰巳午未申"
    hit = scan(text, ["东塘中队"], [], [])[0]
    assert hit.context == "五六七八九十一二三四五六七八九十甲乙丙↵东塘中队↵子丑寅卯辰巳午未申酉戌亥子丑寅卯辰巳午"
    assert scan("东塘中队", ["东塘中队"], [], [])[0].context == "东塘中队"


# --- what is not a hit --------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "他具有本科学历，是本科生，本科毕业后入职。",
    "我大队高度重视，本大队全体干部参加。",
    "这是基本单位，也是日本队的比赛。",
    "我所在的单位，我所做的工作，我所知道的情况。",
    "我站在街头，本站在一旁的人。",
    "我科学地安排工作，我科技水平不高。",
    "加强我们队伍建设，他的室友也来了。",
    "第十二中队和法制科学都值得学习。",
    "城南所在的区域很大。",
    "张同志说话，李明也来了。",
])
def test_no_false_positives(text):
    assert scan(text, OWN, OTHERS, [*AUTHORS, "李", " 明 "]) == []


def test_signature_and_date_rules_look_at_the_last_six_non_empty_lines_only():
    lines = ["王小明", "2027年5月10日", *[BODY] * 6]
    assert scan("\n".join(lines), OWN, OTHERS, AUTHORS) == []
    assert [h.label for h in scan("\n\n".join([*lines[2:7], "王小明"]), OWN, OTHERS, AUTHORS)] == ["name_line"]


@pytest.mark.parametrize("line", ["结语", "参考文献", "致谢", f"本文共{'很' * 30}长的一行",
                                  "2027年5月10日我们来到了东门外的街道上"])
def test_headings_and_long_lines_at_the_end_are_not_signatures(line):
    assert scan(f"{BODY}\n{line}", OWN, OTHERS, AUTHORS) == []


# --- matching rules ------------------------------------------------------------------------------

def test_longest_name_wins_and_a_contained_name_is_not_reported_twice():
    text = "长沙市城管执法大队雨花中队和雨花中队。"
    assert kinds(text) == [("other_unit", "长沙市城管执法大队雨花中队", "长沙市城管执法大队雨花中队"),
                           ("other_unit", "雨花中队", "雨花中队")]


def test_own_unit_wins_over_the_same_name_among_other_units():
    assert kinds("东塘中队", others=["东塘中队"]) == [("own_unit", "东塘中队", "东塘中队")]


def test_names_shorter_than_two_characters_are_ignored():
    assert scan("张三和李四", [" "], ["李"], ["张", "", " 四 "]) == []


def test_traditional_and_full_width_forms_match_with_offsets_in_the_original():
    text = "前言：東塘中隊與ＡＢ科室。"
    hits = scan(text, ["东塘中队"], ["ab科室"], [])
    assert [(h.kind, h.start, h.end, h.text) for h in hits] == [
        ("own_unit", 3, 7, "東塘中隊"), ("other_unit", 8, 12, "ＡＢ科室")]
    assert len(fold(text)) == len(text)


def test_overlapping_hits_merge_into_the_more_specific_kind_over_the_whole_line():
    text = f"{BODY}\n作者：张三\n单位：东塘中队"
    hits = scan(text, OWN, OTHERS, AUTHORS)
    assert [(h.kind, h.text, h.label) for h in hits] == [("author", "作者：张三", "张三"),
                                                         ("own_unit", "单位：东塘中队", "东塘中队")]
    assert [h.start for h in hits] == sorted(h.start for h in hits)
    assert {h.kind for h in hits} <= set(KINDS)


# --- redact ---------------------------------------------------------------------------------------

def hit(start: int, end: int) -> Hit:
    return Hit("author", start, end, "", "", "")


@pytest.mark.parametrize(("hits", "expected"), [
    ([], "甲乙丙丁戊己庚辛"),
    ([hit(2, 4)], "甲乙××戊己庚辛"),
    ([hit(2, 5), hit(4, 6)], "甲乙××庚辛"),  # overlapping: one mask
    ([hit(4, 6), hit(2, 5), hit(3, 4)], "甲乙××庚辛"),  # in any order
    ([hit(0, 2), hit(2, 3)], "××××丁戊己庚辛"),  # touching: two masks
    ([hit(6, 20), hit(5, 5)], "甲乙丙丁戊己××"),  # clamped; empty spans ignored
])
def test_redact(hits, expected):
    assert redact("甲乙丙丁戊己庚辛", hits) == expected


def test_redact_the_hits_of_a_scan():
    text = f"东塘中队的张三在本中队工作。\n{BODY}\n作者：张三"
    assert redact(text, scan(text, OWN, OTHERS, AUTHORS)) == f"××的××在××工作。\n{BODY}\n××"


NAME_CHARS = "城管东塘张李王赵甲乙"


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=NAME_CHARS + "本我的，。× \n", max_size=60),
       names=st.lists(st.text(alphabet=NAME_CHARS, min_size=2, max_size=4), min_size=1, max_size=6),
       split=st.integers(0, 6))
def test_redact_leaves_no_name_when_names_do_not_overlap_the_mask(text, names, split):
    own, others, authors = names[:split // 3], names[split // 3:split], names[split:]
    hits = scan(text, own, others, authors)
    redacted = redact(text, hits)
    for name in names:
        assert name not in redacted
    for found in hits:
        if found.kind in ("own_unit", "other_unit", "author"):
            assert found.text not in redacted


# --- metadata_warnings ------------------------------------------------------------------------------

def test_metadata_of_a_python_docx_file():
    data = docx_bytes(author="张三", last_modified_by="Administrator", company="东塘中队", title="征文",
                      header_text="长沙市城管执法大队东塘中队  解放思想大讨论征文", comment=("李四", "请再斟酌"))
    places = metadata_warnings(data, OWN + AUTHORS)
    assert places == [
        Place("docProps/core.xml", "dc:creator", "张三"),
        Place("docProps/core.xml", "cp:lastModifiedBy", "Administrator"),
        Place("docProps/app.xml", "Company", "东塘中队"),
        Place("word/comments.xml", "w:comment/@w:author", "李四"),
        Place("word/header1.xml", "text", "长沙市城管执法大队东塘中队  解放思想大讨论征文"),
    ]


def test_metadata_hand_written_parts():
    body = p("正文", '<w:ins w:id="1" w:author="王五" w:date="2027-01-01T00:00:00Z">' + r("插入") + "</w:ins>",
             '<w:del w:id="2" w:author="王五"><w:r><w:delText>东</w:delText></w:r>'
             '<w:r><w:delText>塘中队</w:delText></w:r></w:del>', r("隐藏：张三", vanish=True))
    data = docx(body, headers=(p("第一页"),), footers=(p("东塘中队 供稿"),),
                core=core_xml(title="东塘中队的故事", subject="征文", creator=""),
                app=app_xml(Company="", Manager="赵六", Template="Normal.dotm"),
                comments=comments_xml([("批注人", "这篇是张三写的"), ("批注人", "好")]),
                extra={"customXml/item1.xml": "<root><a>东塘</a><b>无关</b></root>"})
    places = metadata_warnings(data, OWN + AUTHORS)
    assert places == [
        Place("docProps/core.xml", "dc:title", "东塘中队的故事"),
        Place("docProps/app.xml", "Manager", "赵六"),
        Place("word/comments.xml", "w:comment/@w:author", "批注人"),
        Place("word/comments.xml", "comment", "这篇是张三写的"),
        Place("word/document.xml", "w:ins/@w:author", "王五"),
        Place("word/document.xml", "w:del/@w:author", "王五"),
        Place("word/document.xml", "w:delText", "东塘中队"),
        Place("word/document.xml", "w:vanish", "隐藏：张三"),
        Place("word/footer1.xml", "text", "东塘中队 供稿"),
        Place("customXml/item1.xml", "a", "东塘"),
    ]


def test_metadata_long_values_are_cut_around_the_name():
    data = docx(p("正文"), headers=(p("很" * 200 + "东塘中队" + "长" * 200),))
    [place] = metadata_warnings(data, ["东塘中队"])
    assert "东塘中队" in place.value and len(place.value) <= 122 and place.value[0] == place.value[-1] == "…"


def test_metadata_without_names_reports_only_author_fields():
    data = docx(p("正文"), core=core_xml(creator="张三", title="东塘中队"), headers=(p("东塘中队"),))
    assert metadata_warnings(data, []) == [Place("docProps/core.xml", "dc:creator", "张三")]


@pytest.mark.parametrize("data", [
    b"",
    b"garbage",
    b"PK\x03\x04" + b"\0" * 100,
    zip_bytes({"a.txt": "hello"}),
    ole_file("WordDocument"),
    docx(p("正文"), extra={"word/header9.xml": '<!DOCTYPE x [<!ENTITY a "东塘">]><w:hdr>&a;</w:hdr>'}),
    samples.with_declared_sizes(docx(p("正文"), core=core_xml(creator="张三")), "docProps/core.xml", 10),
])
def test_metadata_of_unreadable_or_hostile_files_is_empty(data):
    assert metadata_warnings(data, OWN) == []


def test_metadata_skips_a_broken_part_and_reads_the_others():
    data = docx(p("正文"), core=core_xml(creator="张三"), extra={"customXml/item1.xml": "<root><a>东塘</a>"})
    assert metadata_warnings(data, OWN) == [Place("docProps/core.xml", "dc:creator", "张三")]
