"""Format hints: compare a document's format facts with what the notice prescribes.

Pure functions. They only ever produce warnings: a unit whose essay is in 宋体 instead of
仿宋_GB2312 is told so on its receipt and can fix it, but the essay is never refused for
its format (the notice's 原创 and 字数 rules are what disqualify).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from essays.intake.docx.format import FormatFacts, parse_size, same_font, size_name

FIELDS = ("paper", "body_font", "body_size", "title_font", "title_size")
PAPERS = ("A4", "A3", "A5", "B5", "16开", "Letter")


def clean_rules(values: dict) -> dict:
    """Keeps the non-empty, known entries; sizes must parse (三号, 16, 16pt, 16磅)."""
    rules = {k: str(v).strip() for k, v in values.items() if k in FIELDS and str(v or "").strip()}
    for key in ("body_size", "title_size"):
        if key in rules and parse_size(rules[key]) is None:
            raise ValueError(key)
    if "paper" in rules and rules["paper"] not in PAPERS:
        raise ValueError("paper")
    return rules


def describe_rules(rules: dict) -> str:
    """`A4 纸；正文 仿宋_GB2312 三号；标题 方正小标宋简体 二号` for pages."""
    parts = []
    if rules.get("paper"):
        parts.append(str(_l("%(paper)s 纸", paper=rules["paper"])))
    for part, label in (("body", _l("正文")), ("title", _l("标题"))):
        value = " ".join(x for x in (rules.get(f"{part}_font", ""), rules.get(f"{part}_size", "")) if x)
        if value:
            parts.append(f"{label} {value}")
    return "；".join(parts)


def _describe(font: str | None, size: float | None) -> str:
    return " ".join(part for part in (font or "", size_name(size)) if part) or str(_l("未能识别"))


def format_warnings(facts: FormatFacts, rules: dict) -> list[str]:
    """One warning per prescribed property the document does not meet."""
    notes = []
    paper = rules.get("paper")
    if paper and facts.page and facts.page != paper:
        notes.append(str(_l("版面为 %(page)s，通知要求 %(paper)s 纸。", page=facts.page, paper=paper)))
    for part, label in (("body", _l("正文")), ("title", _l("标题"))):
        want_font = rules.get(f"{part}_font")
        want_size = parse_size(rules.get(f"{part}_size", "")) if rules.get(f"{part}_size") else None
        font, size = getattr(facts, f"{part}_font"), getattr(facts, f"{part}_size_pt")
        if part == "title" and font is None and size is None:
            continue  # no title detected: nothing to compare
        font_off = want_font is not None and not same_font(font, want_font)
        size_off = want_size is not None and (size is None or abs(size - want_size) > 0.25)
        if font_off or size_off:
            wanted = " ".join(x for x in (want_font or "", size_name(want_size)) if x)
            notes.append(str(_l("%(part)s字体字号主要为 %(have)s，通知要求 %(want)s。",
                                part=label, have=_describe(font, size), want=wanted)))
    return notes
