"""Checking one file against a competition's rules, without the database.

`inspect_file` is the one function the upload, the `essays inspect` CLI, the batch import
and the benchmark all use: read every part, count like Word, apply the limit rule, collect
warnings. It refuses (raises Refusal) only for files it cannot read; an over-limit file is
inspected normally and the caller decides (a hard limit refuses the upload).

A file without counted text is refused with what it holds instead: only a template's
placeholder prompts (UPLOAD_ONLY_PLACEHOLDER), only text in text boxes or notes that its
settings leave out of the count (UPLOAD_TEXT_UNCOUNTED), or nothing (UPLOAD_NO_TEXT).
A file that reaches outside or embeds objects (essays.intake.docx.outside: an attached
template or a picture at an address, fetching fields, OLE objects, ActiveX, embedded HTML)
is accepted with a warning saying what it holds and that the copies the system gives out
are defused; `outside` lists them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

from essays.intake.counting import Counts, count
from essays.intake.docx import outside
from essays.intake.docx.content import DocxContent
from essays.intake.docx.format import format_facts
from essays.intake.docx.reader import read_package
from essays.intake.docx.safety import open_package
from essays.intake.format_rules import format_warnings
from essays.platform.errors import Refusal


@dataclass(frozen=True)
class IntakeRules:
    """The competition settings that decide whether a file is acceptable."""

    char_limit: int = 3000
    limit_is_hard: bool = True  # 以内/不超过: refuse; 左右/为宜: accept and flag
    include_title: bool = True  # Word counts the whole document, title included
    format_rules: tuple[tuple[str, str], ...] = ()  # what the notice prescribes (essays.intake.format_rules)


@dataclass(frozen=True)
class LimitVerdict:
    """What the limit rule says about a count.

    - `within`: the count in context (words) is within the limit;
    - `straddles`: the range of possible counts crosses the limit (words_min <= limit <
      words_max), so how Word treats shared punctuation decides: flagged for the admin;
    - `refuse`: a hard limit and even the lowest possible count is over it;
    - `flag`: the admin should look (soft limit exceeded, or a straddling range);
    - `cut`: how many 字 to remove to be within the limit for certain (0 when within).
    """

    within: bool
    straddles: bool
    refuse: bool
    flag: bool
    cut: int


def limit_verdict(counts: Counts, limit: int, hard: bool) -> LimitVerdict:
    """The limit rule: a hard limit refuses only when the lowest possible count is over it."""
    straddles = counts.words_min <= limit < counts.words_max
    within = counts.words <= limit
    refuse = hard and counts.words_min > limit
    flag = straddles or (not within and not refuse)
    return LimitVerdict(within, straddles, refuse, flag, max(0, counts.words_min - limit))


@dataclass(frozen=True)
class Inspection:
    content: DocxContent
    counts: Counts
    verdict: LimitVerdict
    limit: int
    sha256: str
    size: int
    warnings: list[str] = field(default_factory=list)
    outside: list[outside.Reference] = field(default_factory=list)

    @property
    def title(self) -> str:
        return self.content.title


def warnings_for(content: DocxContent, counts: Counts, verdict: LimitVerdict, limit: int) -> list[str]:
    """Things the unit and the admin should know, though the file is accepted."""
    notes = []
    if verdict.straddles:
        notes.append(str(_l(
            "字数在 %(low)s 至 %(high)s 之间（取决于“……”“——”等中西文共用标点按中文还是西文计），"
            "按上下文计为 %(words)s 字；因跨越 %(limit)s 字上限，已提请政工科复核。",
            low=counts.words_min, high=counts.words_max, words=counts.words, limit=limit)))
    elif counts.words_min != counts.words_max:
        notes.append(str(_l("中西文共用标点可按两种方式计数，字数可能为 %(low)s 至 %(high)s。",
                            low=counts.words_min, high=counts.words_max)))
    if not verdict.within and not verdict.refuse:
        notes.append(str(_l("字数 %(words)s 超过了 %(limit)s 字的要求（参考值），已接收并标记。",
                            words=counts.words, limit=limit)))
    if content.stored_words and content.stored_words != counts.words:  # 0 means "not recorded"
        notes.append(str(_l(
            "文件属性中记录的字数为 %(stored)s，与实际统计的 %(words)s 不同（属性值常常过时，以实际统计为准）。",
            stored=content.stored_words, words=counts.words)))
    if not content.include_subdocs and (content.textboxes or content.notes):
        notes.append(str(_l("此文件设置为字数统计不含文本框、脚注和尾注，这些内容未计入字数。")))
    elif content.textboxes or content.notes:
        notes.append(str(_l("字数包括文本框、脚注和尾注中的文字（与 Word 默认设置一致）。")))
    return notes


OUTSIDE_WORDS = {
    "template": _l("附加的模板（%(target)s）"), "image": _l("链接的外部图片（%(target)s）"),
    "ole_link": _l("链接的 OLE 对象或外部数据（%(target)s）"), "link": _l("指向外部的链接（%(target)s）"),
    "field": _l("打开时获取外部内容的域（%(target)s）"), "mail_merge": _l("邮件合并的数据源"),
    "ole_embed": _l("嵌入的 OLE 对象"), "activex": _l("ActiveX 控件"), "html": _l("嵌入的 HTML 内容"),
    "rtf": _l("嵌入的 RTF 内容"),
}
TARGET_CHARS = 60


def outside_warning(found: list[outside.Reference]) -> str:
    """The warning for a file that reaches outside or embeds objects: what, and what is done."""
    items = []
    for kind, words in OUTSIDE_WORDS.items():
        targets = list(dict.fromkeys(r.target for r in found if r.kind == kind))
        shown = [t if len(t) <= TARGET_CHARS else t[:TARGET_CHARS] + "…" for t in targets[:3]]
        if targets:
            item = str(words) % {"target": "；".join(shown)}  # a template without the placeholder ignores it
            items.append(item + (str(_l("等 %(n)s 处", n=len(targets))) if len(targets) > 3 else ""))
    return str(_l("此文件含有打开时会访问外部地址或运行嵌入内容的部分：%(items)s。文件已接收，收到的原文件保存为凭据；"
                  "政工科下载和报送局系统的是去除了这些部分的副本（对象显示为文件中保存的图像）。"
                  "如果这些内容不是您有意加入的，请检查文件的来源。", items="；".join(items)))


def no_text(content: DocxContent) -> Refusal:
    """The refusal for a file without counted text, saying what it holds instead."""
    if not content.include_subdocs and any(p.text.strip() for p in [*content.textboxes, *content.notes]):
        return Refusal("UPLOAD_TEXT_UNCOUNTED")
    if content.placeholders:
        return Refusal("UPLOAD_ONLY_PLACEHOLDER")
    return Refusal("UPLOAD_NO_TEXT")


def inspect_file(data: bytes, rules: IntakeRules) -> Inspection:
    """Reads and counts `data`, applies the limit rule. Raises Refusal for unreadable files."""
    package = open_package(data)
    content = read_package(package)
    counts = count(content.counted(include_title=rules.include_title))
    if counts.chars_no_spaces == 0:
        raise no_text(content)
    verdict = limit_verdict(counts, rules.char_limit, rules.limit_is_hard)
    warnings = warnings_for(content, counts, verdict, rules.char_limit)
    if rules.format_rules:  # read the format only when the notice prescribes one
        warnings += format_warnings(format_facts(data), dict(rules.format_rules))
    found = outside.references(package)
    if found:
        warnings.append(outside_warning(found))
    return Inspection(content=content, counts=counts, verdict=verdict, limit=rules.char_limit,
                      sha256=hashlib.sha256(data).hexdigest(), size=len(data), warnings=warnings, outside=found)
