"""What the identity scan looks for (review.identity): name patterns, telephone and ID
numbers, e-mail addresses, and the default author names that identify nobody. Pure.

Names are matched on the compact view (review.identity_text: folded, without invisible
characters or separators), so spaces, dots, dashes and the like between their characters do
not hide them. A name shorter than 2 characters (as matched) is ignored.
- A unit's name matches in each script and form of its numerals: a run of digits or of
  Chinese numerals (1-99: 一 ... 九十九; 两 and 〇 are not read as numbers) matches either (第一中队 = 第1中队),
  with or without 第 before it. When the numeral is followed by a unit type (中队, 大队, 分队,
  科, 所, 站, 室, 组...), the name's end from the numeral on is a name too (城管执法第一中队 ->
  第一中队, 一中队, 1中队), and so is that end after the last two to four characters before it
  (执法一中队). The end of a name after its last 市/区/县/局/大队/支队 is one as well
  (长沙市城管执法大队东塘中队 -> 东塘中队) when it ends with a unit type.
- A unit name is not matched where it is part of another word: when it starts with a numeral,
  right after another numeral (二中队 in 十二中队); when it ends in 科/站/所/队/室, before a
  character making a word of that last one (法制科 in 法制科学, 执法站在, 派出所在, 中队伍,
  办公室友). People's names have no such exceptions.
- Telephone numbers, on the view with its separators: a mobile number (11 digits, 1[3-9]...,
  whole or as 3-4-4 with spaces, dashes or dots), a landline with its area code (0 and 2
  or 3 digits, in brackets or followed by a space, dash or dot, then 7 or 8 digits whose first
  is 2-9, whole or split 3/4-4), either after +86, 0086 or (+86); never inside a longer number
  or a decimal, never followed by a unit of quantity (元, 万, 亿, %, 人, 次, 年...), never
  ending in five zeros (round figures): dates, years, amounts, percentages and statistics stay
  quiet. A unit's own numbers (given as contacts) are found also without their area code, with
  any spaces, dashes or dots between their digits.
- ID numbers: 18 characters, a region code (6 digits, not starting with 0), a birth date
  (18xx-20xx, a real month and day), 3 digits and a check character (digit or X), optionally
  split 6-8-4 by spaces; never inside a longer run of letters or digits.
- E-mail addresses.
"""

from __future__ import annotations

import re
from functools import lru_cache

from review.identity_text import key

NUMERAL_CLASS = "0-9一二三四五六七八九十〇○零两"
_NUMERAL_RUN = re.compile(r"[0-9]+|[一二三四五六七八九十]+")
_TYPES = ("中队", "大队", "分队", "小队", "支队", "中心", "科室", "科", "所", "站", "室", "组", "股", "班", "队", "处")
_LEVEL = re.compile(r".*(?:市|区|县|局|大队|支队)")
_WORD_AFTER = {"科": "学技普研幻举", "站": "在着起立稳住出到上了得不过", "所": "在以属谓需", "队": "伍", "室": "友"}
_CN = "零一二三四五六七八九"


def chinese_number(number: int) -> str | None:
    """1-99 in Chinese numerals (十一, 二十, 九十九); None outside that range."""
    if not 1 <= number <= 99:
        return None
    tens, ones = divmod(number, 10)
    if not tens:
        return _CN[ones]
    return ("" if tens == 1 else _CN[tens]) + "十" + (_CN[ones] if ones else "")


def parse_number(run: str) -> int | None:
    """The value of a run of digits or of Chinese numerals (up to 99), else None."""
    if run.isdigit():
        return int(run) if len(run) <= 2 else None
    if "十" not in run:
        return _CN.index(run) if len(run) == 1 else None
    tens, _, ones = run.partition("十")
    if len(tens) > 1 or len(ones) > 1 or "十" in ones:
        return None
    return (_CN.index(tens) if tens else 1) * 10 + (_CN.index(ones) if ones else 0)


def _numeral(run: str) -> str:
    value = parse_number(run)
    forms = {run, str(value), chinese_number(value)} if value is not None else {run}
    return "(?:" + "|".join(sorted((re.escape(f) for f in forms if f), key=len, reverse=True)) + ")"


def _ending(name: str) -> str:
    """The guard after a unit name ending in a character that makes words (the rules above)."""
    return f"(?![{_WORD_AFTER[name[-1]]}])" if name and name[-1] in _WORD_AFTER else ""


def unit_variants(name: str) -> list[str]:
    """Regular expressions of a unit's name in its forms (the rules above), on the compact view."""
    folded = key(name)
    if len(folded) < 2:
        return []
    found = [folded]
    tail = _LEVEL.sub("", folded, count=1)
    if tail != folded and len(tail) >= 4 and tail.endswith(_TYPES):
        found.append(tail)
    patterns = []
    for text in found:
        runs = list(_NUMERAL_RUN.finditer(text))
        pattern, at = "", 0
        for run in runs:
            before = text[at:run.start()]
            if before.endswith("第"):
                before = before[:-1]
            pattern += re.escape(before) + f"(?<![{NUMERAL_CLASS}])第?" + _numeral(run.group()) + \
                f"(?![{NUMERAL_CLASS}])"
            at = run.end()
        pattern += re.escape(text[at:]) + _ending(text)
        patterns.append(pattern)
        if runs and not pattern.startswith("(?<!"):  # a numeral inside the name: its end is a name too
            last = runs[-1]
            rest = text[last.end():]
            if rest in _TYPES:
                core = f"(?<![{NUMERAL_CLASS}])第?" + _numeral(last.group()) + re.escape(rest) + _ending(text)
                head = text[:last.start()].removesuffix("第")
                prefixes = [head[-n:] for n in (4, 3, 2) if len(head) >= n]
                patterns.append(("(?:" + "|".join(map(re.escape, prefixes)) + ")?" if prefixes else "") + core)
    return list(dict.fromkeys(patterns))


def person_pattern(name: str) -> str | None:
    """The regular expression of a person's name (or an account's), on the compact view."""
    folded = key(name)
    return re.escape(folded) if len(folded) >= 2 else None


@lru_cache(maxsize=2048)
def compiled(pattern: str) -> re.Pattern:
    return re.compile(pattern)


# --- numbers --------------------------------------------------------------------------------

_QUANTITY = "%‰元角分万亿千百个人次份件条项户台辆吨米年月日号天岁名位篇字页套间座所家批"
_BEFORE = r"(?<![0-9.,])"
_AFTER = rf"(?![0-9]|[.,][0-9])(?!\s?[{_QUANTITY}])"
_PREFIX = r"(?:(?:\+|00)\s?86[\s-]?|\(\s?\+?86\s?\)\s?)?"
MOBILE = re.compile(rf"{_BEFORE}{_PREFIX}(1[3-9][0-9])[ .-]{{0,2}}([0-9]{{4}})[ .-]{{0,2}}([0-9]{{4}}){_AFTER}")
_AREA = r"(?:[12][0-9]|[3-9][0-9]{2})"
LANDLINE = re.compile(
    rf"{_BEFORE}(?:\(\s?(0{_AREA})\s?\)\s?|(0{_AREA})[ .-]?|(?:\+|00)\s?86[\s-]?\(?0?({_AREA})\)?[ .-]?)"
    rf"([2-9][0-9]{{2,3}})[ .-]?([0-9]{{4}}){_AFTER}")
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])([1-9][0-9]{5}) ?((?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])"
                       r"(?:0[1-9]|[12][0-9]|3[01])) ?([0-9]{3}[0-9Xx])(?![0-9A-Za-z])")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.ASCII)
_ROUND = re.compile(r"0{5}$")


def phones(text: str) -> list[tuple[int, int, str]]:
    """(start, end, number) of the telephone numbers in a folded text; the number as
    11 digits (mobile) or area code-number (landline)."""
    found = []
    for m in MOBILE.finditer(text):
        number = "".join(m.groups())
        if not _ROUND.search(number):
            found.append((m.start(), m.end(), number))
    for m in LANDLINE.finditer(text):
        area = m.group(1) or m.group(2) or "0" + m.group(3)
        number = m.group(4) + m.group(5)
        if not _ROUND.search(number) and not any(s < m.end() and m.start() < e for s, e, _ in found):
            found.append((m.start(), m.end(), f"{area}-{number}"))
    return found


def id_numbers(text: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), "".join(m.groups()).upper()) for m in ID_NUMBER.finditer(text)]


def emails(text: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.group().lower()) for m in EMAIL.finditer(text)]


def is_phone(value: str) -> bool:
    """A contact given as a telephone number (at least 7 digits, nothing but digits, spaces,
    dashes, dots, brackets and +)."""
    return bool(re.fullmatch(r"[0-9０-９ \-.+()（）－]+", value.strip())) and \
        sum(ch.isdigit() for ch in value) >= 7


def own_number_pattern(phone: str) -> str | None:
    """A unit's own number as it may be written without its area code: its local digits (7 or
    8) with any spaces, dashes or dots between them; None for a mobile number (found anyway)."""
    digits = re.sub(r"[^0-9]", "", phone.translate(str.maketrans("０１２３４５６７８９", "0123456789")))
    if digits.startswith("86") and len(digits) >= 12:
        digits = digits[2:]
    if digits.startswith("0") and 10 <= len(digits) <= 12:
        digits = digits[3:] if digits[1] in "12" else digits[4:]
    if not 7 <= len(digits) <= 8 or digits[0] in "01":
        return None
    return r"(?<![0-9])" + "[ .-]?".join(digits) + r"(?![0-9])"


# --- author names that identify nobody ----------------------------------------------------------

DEFAULT_AUTHORS = {
    "administrator", "admin", "user", "users", "owner", "guest", "author", "unknown", "microsoft",
    "microsoft office user", "microsoft office 用户", "microsoft 用户", "微软用户", "微软", "微软中国",
    "微软(中国)有限公司", "microsoft china", "microsoft corporation", "windows user", "windows 用户",
    "wps", "wps 用户", "wps用户", "kingsoft", "金山", "python-docx", "openpyxl", "libreoffice", "lenovo",
    "dell", "hp", "hewlett-packard", "acer", "asus", "toshiba", "china", "中国", "organization", "home",
    "微软公司", "sky123.org", "番茄花园", "雨林木风", "深度技术", "系统之家", "mc system", "ylmf", "www.ylmf.com",
    "deepin", "pc", "个人用户", "用户", "作者", "未知", "匿名",
}
_MACHINE = re.compile(r"(?:desktop|laptop|pc|win|user|admin|ms|yos|dell|hp|lenovo|thinkpad|sky|microsoft|wps)"
                      r"(?:[-_ ][0-9a-z]{4,}|[0-9][0-9a-z]{3,})|[0-9a-f]{8,}|[0-9]+|[a-z]", re.IGNORECASE)


def is_default_author(value: str) -> bool:
    """An author or company name that identifies nobody: a program's default (Administrator,
    微软用户, Microsoft Office 用户, WPS 用户...) or one a machine made up (DESKTOP-7F3K2QH,
    USER-20190101AB, a hexadecimal string, digits alone)."""
    folded = re.sub(r"\s+", " ", value.strip().lower().replace("（", "(").replace("）", ")"))
    return not folded or folded in DEFAULT_AUTHORS or bool(_MACHINE.fullmatch(folded))
