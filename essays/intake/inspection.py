"""Checking one file against a competition's rules, without the database.

`inspect_file` is the one function the upload, the `essays inspect` CLI, the batch import
and the benchmark all use: read every part, count like Word, apply the limit rule, collect
warnings. It refuses (raises Refusal) only for files it cannot read; an over-limit file is
inspected normally and the caller decides (a hard limit refuses the upload).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

from essays.intake.counting import Counts, count
from essays.intake.docx.content import DocxContent
from essays.intake.docx.format import format_facts
from essays.intake.docx.reader import read_docx
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


def inspect_file(data: bytes, rules: IntakeRules) -> Inspection:
    """Reads and counts `data`, applies the limit rule. Raises Refusal for unreadable files."""
    content = read_docx(data)
    counts = count(content.counted(include_title=rules.include_title))
    if counts.chars_no_spaces == 0:
        raise Refusal("UPLOAD_NO_TEXT")
    verdict = limit_verdict(counts, rules.char_limit, rules.limit_is_hard)
    warnings = warnings_for(content, counts, verdict, rules.char_limit)
    if rules.format_rules:  # read the format only when the notice prescribes one
        warnings += format_warnings(format_facts(data), dict(rules.format_rules))
    return Inspection(content=content, counts=counts, verdict=verdict, limit=rules.char_limit,
                      sha256=hashlib.sha256(data).hexdigest(), size=len(data), warnings=warnings)
