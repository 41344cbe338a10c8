"""Finding what may reveal an essay's unit or author before blind judging. Pure functions.

scan(text, own_names, other_names, authors, contacts) looks at a text (the body judges read,
or another part of the file) and returns Hits. How the text is read (review.identity_text):
invisible characters are dropped and every character folded (NFKC, lower case, OpenCC
Traditional -> Simplified); names are matched on a compact view that also drops separators
(spaces, dots, dashes, symbols: 第·一·中·队, 周-建-平), numbers on the view that keeps them.
Offsets are always those of the original text; a span runs from the first to the last
character matched, invisible characters and separators inside included. What is looked for
(patterns: review.identity_names):
- own_unit, other_unit: each name of the essay's unit (name, short name, aliases) and of the
  other units, in each form of its numerals (第一中队 / 第1中队 / 一中队 / 1中队 / 执法一中队);
- author: the authors given at upload; contact: the unit's contact person and its accounts'
  names, its own telephone numbers (also without area code), and any telephone number (mobile
  or landline, with brackets, spaces, dashes, dots or +86) or e-mail address in the text;
  id_number: an 18-character ID number;
- every occurrence of every name is a candidate; the longest wins, then own_unit over
  author over contact over other_unit, then a name as given over a form derived from
  another (东塘中队 given as an alias over the end of 长沙市城管执法大队东塘中队), then the
  first; a candidate overlapping a chosen one is
  dropped, so a name inside a longer matched name is not reported twice. A unit name is not
  matched where it is part of another word (review.identity_names);
- self_reference: 我/我们/咱们/本 followed by a unit type: 中队, 科室, 单位, 部门, 队, 站,
  室, 所, and 科 after 我/我们/咱们 only (本科 is a degree; 本科室 is matched). Not a hit:
  我大队/本大队 (the organiser every unit belongs to); 本 after a character that makes it
  part of a word (基本单位, 日本队, 原本, 一本); 队伍; 站 as the verb (我站在, 站着, 站稳);
  科学, 科技, 科普, 科研; 室友, 室内; 所 as the particle (我所在, 我所做的): 所 counts only
  before 的, 全体, 干部, 职工, 党员, 党支部, 同志, 所长, 各, punctuation or the end;
- with `lines` (the body): signature: one of the last 6 non-empty lines, at most 30
  characters, that starts with 作者/执笔/撰稿/单位/供稿 (up to 4 more characters, then ：or :),
  or is a unit-like name (CJK characters and digits ending in 中队/科室/大队/科/所/站/队,
  optionally followed by names), or 1-3 names of 2-4 CJK characters alone. Dashes and
  brackets around the line are allowed. Not a signature: the headings 结语, 参考文献, 致谢 and
  the like. date_line: one of those lines holding a date (2027年5月10日, 二〇二七年五月十日,
  2027.5.10, 2027-05-10, 2027/5/10) with at most 6 other letters or digits around it. Such a
  hit spans its line without the whitespace around it. Without `lines` (headers, notes...),
  only the signature lines that start with 作者/执笔/撰稿/单位/供稿 are looked for, on every line;
- overlapping hits are merged into one spanning both, of the more specific kind (the order of
  KINDS; date_line ranks as signature) and its label;
- label: what the hit matched (its `identity`): the name as given, the telephone number (11
  digits, or area code-number; a unit's own number as given), the ID number, the e-mail
  address, the self-reference's words, the keyword of the signature (作者...) or
  "unit_line"/"name_line", or "date". context: up to 20 characters either side with the hit,
  newlines shown as "↵". Hits are sorted by start.

What is not looked for: names written in pinyin or split by clause punctuation, quotes,
brackets or line breaks (主张。三是 is not 张三); names of people not given (authors,
contacts, accounts) outside a signature line; telephone numbers without their area code
other than the unit's own; numbers spelt in Chinese numerals; pictures.

redact(text, hits) replaces each hit's span by "××", overlapping spans merged first, and
drops every invisible character: what judges receive holds none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from review import identity_names as names_
from review.identity_text import View, compact, fold, strip_invisible, view

__all__ = ["CONTEXT", "KINDS", "MASK", "Hit", "fold", "redact", "scan"]

KINDS = ("own_unit", "author", "contact", "id_number", "other_unit", "self_reference", "signature", "date_line")
_RANK = {**{kind: rank for rank, kind in enumerate(KINDS)}, "date_line": KINDS.index("signature")}
MASK = "××"
CONTEXT = 20
TAIL_LINES = 6
LINE_MAX = 30


@dataclass(frozen=True)
class Hit:
    kind: str
    start: int
    end: int
    text: str
    label: str
    context: str

    @property
    def identity(self) -> str:
        """What the hit matched (the label)."""
        return self.label


# --- names ---------------------------------------------------------------------------------


def _name_spans(seen: View, groups: list[tuple[str, list[str]]]) -> list[tuple[int, int, str, str]]:
    """(start, end, kind, name) in the original text of the chosen name occurrences."""
    candidates = []
    for kind, names in groups:
        for name in dict.fromkeys(n.strip() for n in names if n and n.strip()):
            patterns = names_.unit_variants(name) if kind.endswith("_unit") else \
                [p for p in [names_.person_pattern(name)] if p]
            for derived, pattern in enumerate(patterns):
                regex, at = names_.compiled(pattern), 0
                while found := regex.search(seen.text, at):
                    if found.end() > found.start():
                        candidates.append((*seen.span(found.start(), found.end()), kind, name, min(derived, 1)))
                    at = found.start() + 1  # overlapping occurrences too
    # Longest first, then by kind, then a name as given before a form derived from another name.
    candidates.sort(key=lambda c: (c[0] - c[1], _RANK[c[2]], c[4], c[0]))
    taken: set[int] = set()
    chosen = []
    for start, end, kind, name, _derived in candidates:
        if not taken.intersection(range(start, end)):
            taken.update(range(start, end))
            chosen.append((start, end, kind, name))
    return chosen


def _numbers(seen: View, contacts: list[str]) -> list[tuple[int, int, str, str]]:
    found = [(*seen.span(s, e), "contact", number) for s, e, number in names_.phones(seen.text)]
    for phone in contacts:
        pattern = names_.own_number_pattern(phone)
        for m in names_.compiled(pattern).finditer(seen.text) if pattern else ():
            found.append((*seen.span(m.start(), m.end()), "contact", phone.strip()))
    found += [(*seen.span(s, e), "id_number", number) for s, e, number in names_.id_numbers(seen.text)]
    found += [(*seen.span(s, e), "contact", address) for s, e, address in names_.emails(seen.text)]
    return found


# --- self-references, signatures, dates ------------------------------------------------------

_TYPES = (r"中队|科室(?!友)|单位|部门|队(?!伍)|站(?![在着起立稳住出到上了得不过])|室(?![友内外])"
          r"|所(?=的|全体|干部|职工|党员|党支部|同志|所长|各|[\s,.;:!?、。…“”\"')]|$)")
_SELF = re.compile(rf"(?:我们|咱们|我)(?:{_TYPES}|科(?![学技普研幻举]))"
                   rf"|(?<![根基资成日课版样剧读范原文账书标脚蓝副底一这那每几两整])本(?:{_TYPES})")
_CJK = "\u3400-\u9fff"
_NAME = rf"[{_CJK}](?:[ \t]{{0,2}}[{_CJK}]){{1,3}}"
_NAMES = rf"{_NAME}(?:[ \t、,]+{_NAME}){{0,2}}"
_SIGN_PREFIX = re.compile(r"(作者|执笔|撰稿|单位|供稿)[^:]{0,4}:")
_UNIT_LINE = re.compile(rf"[{_CJK}0-9]{{1,24}}?(?:中队|科室|大队|科|所|站|队)(?:[ \t、,]+{_NAMES})?")
_NAME_LINE = re.compile(_NAMES)
_NOT_NAMES = {"结语", "结束语", "参考文献", "致谢", "附录", "附件", "谢谢", "总结", "结论", "小结", "后记", "注释",
              "此致", "敬礼", "此致敬礼", "全文完", "完"}
_DECOR = " \t—-–~～()[]【】〔〕<>《》"
_CN_DIGIT, _CN_NUM = "〇○零一二三四五六七八九0o", "一二三四五六七八九十"
_DATE = re.compile(r"[0-9]{4}\s*年\s*[0-9]{1,2}\s*月(?:\s*[0-9]{1,2}\s*[日号])?"
                   rf"|[{_CN_DIGIT}]{{4}}年[{_CN_NUM}]{{1,3}}月(?:[{_CN_NUM}]{{1,3}}[日号])?"
                   r"|[0-9]{4}([./-])[0-9]{1,2}\1[0-9]{1,2}")
_DATE_REST = 6


def _lines(text: str) -> list[tuple[int, int]]:
    """(start, end) of the non-empty lines of `text`, whitespace around each left out."""
    lines, at = [], 0
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped:
            lead = len(line) - len(line.lstrip())
            lines.append((at + lead, at + lead + len(stripped)))
        at += len(line) + 1
    return lines


def _line_rule(line: str, prefix_only: bool = False) -> tuple[str, str] | None:
    """(kind, label) of a folded, stripped line that is a signature or a date line."""
    if len(line) > LINE_MAX:
        return None
    bare = line.strip(_DECOR)
    if (prefix := _SIGN_PREFIX.match(bare)) is not None:
        return "signature", prefix.group(1)
    if prefix_only:
        return None
    if _UNIT_LINE.fullmatch(bare):
        return "signature", "unit_line"
    if _NAME_LINE.fullmatch(bare) and re.sub(r"\s", "", bare) not in _NOT_NAMES:
        return "signature", "name_line"
    date = _DATE.search(line)
    if date is not None and len(re.sub(r"[\W_]", "", line[:date.start()] + line[date.end():])) <= _DATE_REST:
        return "date_line", "date"
    return None


def _split(contacts) -> tuple[list[str], list[str]]:
    """The contacts given as (names, telephone numbers)."""
    given = [c for c in contacts if c and c.strip()]
    return [c for c in given if not names_.is_phone(c)], [c for c in given if names_.is_phone(c)]


def scan(text: str, own_names: list[str], other_names: list[str], authors: list[str],
         contacts: list[str] = (), lines: bool = True) -> list[Hit]:
    """The places in `text` that may reveal its unit or author (rules in the module docstring).
    `contacts`: the unit's contact person and telephone numbers, and its accounts' names.
    `lines`: look for signature and date lines at the end (the body)."""
    seen = view(text)
    tight = compact(seen)
    people, phones = _split(contacts)
    spans = _name_spans(tight, [("own_unit", own_names), ("author", authors), ("contact", people),
                                ("other_unit", other_names)])
    spans += _numbers(seen, phones)
    spans += [(*tight.span(m.start(), m.end()), "self_reference", m.group()) for m in _SELF.finditer(tight.text)]
    found_lines = _lines(seen.text)
    for start, end in found_lines[-TAIL_LINES:] if lines else found_lines:
        rule = _line_rule(seen.text[start:end], prefix_only=not lines)
        if rule is not None:
            spans.append((*seen.span(start, end), *rule))
    merged: list[tuple[int, int, str, str]] = []
    for start, end, kind, label in sorted(spans, key=lambda s: (s[0], _RANK[s[2]])):
        if merged and start < merged[-1][1]:
            last = merged[-1]
            kind, label = (last[2], last[3]) if _RANK[last[2]] <= _RANK[kind] else (kind, label)
            merged[-1] = (last[0], max(end, last[1]), kind, label)
        else:
            merged.append((start, end, kind, label))
    return [Hit(kind, start, end, text[start:end], label,
                text[max(0, start - CONTEXT):end + CONTEXT].replace("\n", "↵"))
            for start, end, kind, label in merged]


def redact(text: str, hits: list[Hit]) -> str:
    """`text` with each hit's span replaced by "××" (overlapping spans merged first) and
    without any invisible character."""
    spans = sorted((max(0, h.start), min(len(text), h.end)) for h in hits)
    merged: list[list[int]] = []
    for start, end in spans:
        if start >= end:
            continue
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    for start, end in reversed(merged):
        text = text[:start] + MASK + text[end:]
    return strip_invisible(text)
