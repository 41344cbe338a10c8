"""review.identity: the identity scan of essay texts, redaction, and the .docx's hidden places."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from essays.platform.errors import Refusal
from review.identity import KINDS, Hit, fold, redact, scan
from review.identity_names import is_default_author
from review.identity_places import HIDDEN_PARTS, Names, describe, findings, hidden_findings
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
    ("学习第二中队的经验。", ("other_unit", "第二中队", "二中队")),
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


# --- the parts judges never receive (review.identity_places) -----------------------------------

NAMES = Names(tuple(OWN), tuple(OTHERS), tuple(AUTHORS))


def described(data: bytes, names: Names = NAMES, parts=HIDDEN_PARTS) -> list[str]:
    return [describe(f) for f in findings(data, names, parts)]


def test_the_hidden_parts_of_a_python_docx_file_in_words():
    data = docx_bytes(author="张三", last_modified_by="Administrator", company="东塘中队", title="征文",
                      header_text="长沙市城管执法大队东塘中队  解放思想大讨论征文", comment=("李四", "请再斟酌"))
    assert described(data) == [
        "页眉：长沙市城管执法大队东塘中队（本单位名称）",
        "文档属性·作者：张三（作者姓名）",  # Administrator, the last modifier, identifies nobody
        "文档属性·单位：东塘中队（本单位名称）",
        "批注的作者：李四（文件的作者信息）",  # a name the check does not know, in an author field
    ]


def test_the_hidden_parts_of_a_hand_written_file_with_their_offsets():
    body = p("正文", '<w:ins w:id="1" w:author="王五" w:date="2027-01-01T00:00:00Z">' + r("插入") + "</w:ins>",
             '<w:del w:id="2" w:author="王五"><w:r><w:delText>东</w:delText></w:r>'
             '<w:r><w:delText>塘中队</w:delText></w:r></w:del>', r("隐藏：张三", vanish=True))
    data = docx(body, headers=(p("第一页"),), footers=(p("东塘中队 供稿"),),
                core=core_xml(title="东塘中队的故事", subject="征文", creator=""),
                app=app_xml(Company="", Manager="赵六", Template="Normal.dotm"),
                comments=comments_xml([("批注人", "这篇是张三写的"), ("批注人", "好")]),
                extra={"customXml/item1.xml": "<root><a>东塘</a><b>无关</b></root>"})
    found = findings(data, NAMES, HIDDEN_PARTS)
    assert [describe(f) for f in found] == [
        "页脚：东塘中队（本单位名称）",
        "批注：张三（作者姓名）",
        "文档属性·标题：东塘中队（本单位名称）",
        "文档属性·经理：赵六（文件的作者信息）",
        "批注的作者：批注人（文件的作者信息）",
        "修订的作者：王五（文件的作者信息）",
        "已删除的修订文字：东塘中队（本单位名称）",
        "隐藏文字：张三（作者姓名）",
        "自定义 XML 数据·a：东塘（本单位名称）",
    ]
    assert [(f.part, f.start, f.end) for f in found[:2]] == [("footer", 0, 4), ("comment", 3, 5)]
    assert {(f.start, f.end) for f in found[2:]} == {(None, None)} and {f.part for f in found[2:]} == {"metadata"}


@pytest.mark.parametrize("name", ["Administrator", "administrator", "User", "微软用户", "Microsoft Office 用户",
                                  "Microsoft Office User", "WPS 用户", "Windows 用户", "DESKTOP-7F3K2QH",
                                  "USER-20190101AB", "PC-20200101ABCD", "9a8b7c6d5e4f", "Sky123.Org", "微软中国", "a",
                                  "python-docx", "  ", "7"])
def test_author_names_that_identify_nobody_are_not_findings(name):
    assert is_default_author(name)
    data = docx(p("正文"), core=core_xml(creator=name, last_modified_by=name), app=app_xml(Company=name))
    assert described(data) == []


@pytest.mark.parametrize("name", ["王五", "zhangsan", "Winnie Wang", "杨光辉（政工科）"])
def test_other_author_names_are_findings(name):
    assert not is_default_author(name)
    assert described(docx(p("正文"), core=core_xml(creator=name))) == [f"文档属性·作者：{name}（文件的作者信息）"]


def test_the_organisers_name_in_an_author_field_is_no_finding():
    data = docx(p("正文"), app=app_xml(Company="长沙市城管执法大队"))
    assert described(data, Names(neutral=("长沙市城管执法大队",))) == []
    assert described(data) == ["文档属性·单位：长沙市城管执法大队（文件的作者信息）"]


def test_long_author_values_are_cut():
    [finding] = findings(docx(p("正文"), core=core_xml(creator="很" * 300)), NAMES, HIDDEN_PARTS)
    assert len(finding.text) == 121 and finding.text.endswith("…")


@pytest.mark.parametrize("data", [
    b"",
    b"garbage",
    b"PK\x03\x04" + b"\0" * 100,
    zip_bytes({"a.txt": "hello"}),
    ole_file("WordDocument"),
    docx(p("正文"), extra={"word/header9.xml": '<!DOCTYPE x [<!ENTITY a "东塘">]><w:hdr>&a;</w:hdr>'}),
    samples.with_declared_sizes(docx(p("正文"), core=core_xml(creator="张三")), "docProps/core.xml", 10),
])
def test_unreadable_or_hostile_files_have_no_hidden_findings_and_are_refused_by_findings(data):
    assert hidden_findings(data, NAMES) == []
    with pytest.raises(Refusal):
        findings(data, NAMES)


def test_a_broken_metadata_part_is_skipped_and_the_others_read():
    data = docx(p("正文"), core=core_xml(creator="张三"), extra={"customXml/item1.xml": "<root><a>东塘</a>"})
    assert described(data) == ["文档属性·作者：张三（作者姓名）"]


# --- obfuscations ---------------------------------------------------------------------------------

UNIT = ["城管执法第一中队", "一中队", "执法一中队"]
OTHER_UNITS = ["城管执法第二中队", "二中队", "东风路中队"]
PEOPLE = ["李建军", "周建平"]
CONTACTS = ["陈志刚", "0731-84421101", "13873112633"]
FILLER = "\n" + "\n".join([BODY] * 7)  # the names stand in the body, not in its closing lines
ZWSP, ZWNJ, ZWJ, WJ, BOM, SHY, VS16 = "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\ufe0f"

# (text, the hit's text, kind, identity: the name as given that matched, 一中队 before the forms derived
# from 城管执法第一中队)
OBFUSCATIONS = [
    ("我们第1中队坚持改革。", "第1中队", "own_unit", "一中队"),
    ("他在1中队工作。", "1中队", "own_unit", "一中队"),
    ("执法一中队坚持改革。", "执法一中队", "own_unit", "执法一中队"),
    ("城管执法第1中队坚持改革。", "城管执法第1中队", "own_unit", "城管执法第一中队"),
    ("管执法一中队坚持改革。", "管执法一中队", "own_unit", "城管执法第一中队"),
    ("第·一·中·队的经验。", "第·一·中·队", "own_unit", "一中队"),
    ("第 1 中 队的经验。", "第 1 中 队", "own_unit", "一中队"),
    (f"第{ZWSP}一{ZWJ}中{WJ}队的经验。", f"第{ZWSP}一{ZWJ}中{WJ}队", "own_unit", "一中队"),
    (f"我们中{ZWSP}队全体队员。", f"我们中{ZWSP}队", "self_reference", "我们中队"),
    ("我·们·中·队全体队员。", "我·们·中·队", "self_reference", "我们中队"),
    (f"李{ZWSP}建军同志带头。", f"李{ZWSP}建军", "author", "李建军"),
    (f"李{SHY}建{VS16}军同志带头。", f"李{SHY}建{VS16}军", "author", "李建军"),
    (f"李{BOM}建{ZWNJ}军同志带头。", f"李{BOM}建{ZWNJ}军", "author", "李建军"),
    ("周-建-平同志带头。", "周-建-平", "author", "周建平"),
    ("李　建　军同志带头。", "李　建　军", "author", "李建军"),
    (f"李*建/{ZWSP}军同志带头。", f"李*建/{ZWSP}军", "author", "李建军"),
    ("請與陳志剛聯繫。", "陳志剛", "contact", "陈志刚"),
    ("學習東風路中隊的經驗。", "東風路中隊", "other_unit", "东风路中队"),
    ("学习第2中队的经验。", "第2中队", "other_unit", "二中队"),
    ("联系电话138-0845-1376。", "138-0845-1376", "contact", "13808451376"),
    ("联系电话138 0845 1376。", "138 0845 1376", "contact", "13808451376"),
    ("联系电话138.0845.1376。", "138.0845.1376", "contact", "13808451376"),
    ("联系电话138 0845-1376。", "138 0845-1376", "contact", "13808451376"),
    ("联系电话13808451376。", "13808451376", "contact", "13808451376"),
    ("联系电话+86 138 0845 1376。", "+86 138 0845 1376", "contact", "13808451376"),
    ("联系电话(+86)13808451376。", "(+86)13808451376", "contact", "13808451376"),
    ("联系电话１３８０８４５１３７６。", "１３８０８４５１３７６", "contact", "13808451376"),
    (f"联系电话138{ZWSP}0845{ZWSP}1376。", f"138{ZWSP}0845{ZWSP}1376", "contact", "13808451376"),
    ("座机(0731)84421101。", "(0731)84421101", "contact", "0731-84421101"),
    ("座机（0731）8442-1101。", "（0731）8442-1101", "contact", "0731-84421101"),
    ("座机0731 8442 1101。", "0731 8442 1101", "contact", "0731-84421101"),
    ("座机0731-84421101。", "0731-84421101", "contact", "0731-84421101"),
    ("座机0731.84421101。", "0731.84421101", "contact", "0731-84421101"),
    ("座机+86 731 84421101。", "+86 731 84421101", "contact", "0731-84421101"),
    ("座机010-62345678。", "010-62345678", "contact", "010-62345678"),
    ("本地号码8442 1101。", "8442 1101", "contact", "0731-84421101"),  # the unit's own, without area code
    ("本地号码84421101。", "84421101", "contact", "0731-84421101"),
    ("本地号码8442-11-01。", "8442-11-01", "contact", "0731-84421101"),
    ("号码430102199003071234。", "430102199003071234", "id_number", "430102199003071234"),
    ("号码43010219900307123x。", "43010219900307123x", "id_number", "43010219900307123X"),
    ("号码430102 19900307 1234。", "430102 19900307 1234", "id_number", "430102199003071234"),
    ("邮箱 zhang.san@example.cn。", "zhang.san@example.cn", "contact", "zhang.san@example.cn"),
]


@pytest.mark.parametrize(("text", "matched", "kind", "identity"), OBFUSCATIONS)
def test_each_obfuscation_is_found_and_redacted_with_its_invisible_characters(text, matched, kind, identity):
    text += FILLER
    [hit] = scan(text, UNIT, OTHER_UNITS, PEOPLE, CONTACTS)
    assert (hit.text, hit.kind, hit.identity) == (matched, kind, identity)
    assert (hit.start, hit.end) == (text.index(matched), text.index(matched) + len(matched))
    redacted = redact(text, [hit])
    assert redacted == text.replace(matched, "××", 1).translate(dict.fromkeys(map(ord, INVISIBLE)))
    assert not set(INVISIBLE) & set(redacted)


INVISIBLE = "".join(map(chr, [*range(0x200B, 0x2010), *range(0x2060, 0x2065), 0xFEFF, 0xAD, *range(0xFE00, 0xFE10),
                              *range(0x202A, 0x202F), *range(0x2066, 0x206A)]))


def test_combinations_in_one_text_are_all_found():
    text = (f"我们第·1{ZWSP}中队的李-建{SHY}军同志，电话（0731）8442-1101，手机138 0845 1376，"
            f"身份证430102 19900307 1234，邮箱li@example.cn，和執法二中隊一起。" + FILLER)
    hits = scan(text, UNIT, OTHER_UNITS, PEOPLE, CONTACTS)
    assert [(h.kind, h.text) for h in hits] == [
        ("own_unit", f"第·1{ZWSP}中队"), ("author", f"李-建{SHY}军"), ("contact", "（0731）8442-1101"),
        ("contact", "138 0845 1376"), ("id_number", "430102 19900307 1234"), ("contact", "li@example.cn"),
        ("other_unit", "執法二中隊")]
    assert redact(text, hits).startswith("我们××的××同志，电话××，手机××，身份证××，邮箱××，和××一起。")


def test_invisible_characters_never_reach_what_judges_read():
    text = f"正文{ZWSP}中的{BOM}零宽{SHY}字符{VS16}。" + FILLER
    assert scan(text, UNIT, OTHER_UNITS, PEOPLE, CONTACTS) == []
    assert redact(text, []) == "正文中的零宽字符。" + FILLER


FIGURES = """2027年全市城管系统共办理案件12,345件，同比增长12.5%，结案率98.7%，较2026年提高3.2个百分点。
全年罚没收入1380845137元，其中第一季度2.3亿元、第二季度5.6亿元；专项资金15000000000元已下达。
本文共2986字，数据截至2027年5月10日（2027-05-10 24:00），统计口径见GB/T 15834-2011和2027.5.10的通知。
检查门店1380家，整改820家，立案36起；比例为1:500，绿化面积2万平方米，每天巡查8小时、共24小时值守。
12345热线、12319城管热线和110报警电话全年受理诉求13.5、14.2、15.0万件，平均处置时间0.0731天。
编号CS2027-0518的文件要求3.14159265358倍的效率，排名前13808451376名只是说笑。
近五年（2023—2027年）群众满意度分别为84%、88%、91%、93%和96%，2028年目标为98%以上。"""


def test_a_text_full_of_figures_yields_nothing():
    assert scan(FIGURES, UNIT, OTHER_UNITS, PEOPLE, CONTACTS) == []
