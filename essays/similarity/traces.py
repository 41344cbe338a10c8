"""Web-copy traces (网络抄袭痕迹): what a 范文 website leaves in a text copied from it.

`find_traces(text)` is pure (no clock, database or app) and reports spans of the original
text, sorted by start, then kind (in TRACE_KINDS order). Matching runs on a view of the text
that is NFKC-folded one character at a time (`（ｆā）` -> `(fā)`, `ｗｗｗ．` -> `www.`), has its
pinyin glosses removed and is converted to Simplified script (OpenCC t2s), so one rule in
Simplified matches both scripts and a gloss inside a phrase (`網(wǎng)友`) does not break it.

- pinyin_gloss: `(fā)`, `（chuàng）`, `(fa1)` right after a CJK character: one valid Mandarin
  syllable, with a tone mark or a tone digit (a digit form is lower case, two letters or more).
  A toneless syllable, `們(men)`, counts only in a text that has toned glosses too, so
  `城市管理(urban management)`, `(PDF)`, `(A4)` or `(a)` never match.
- site_boilerplate: the site's phrases (导语:, 来源于网友上传, 不代表本站观点, 此处隐藏N个字,
  ...) and a line that is only a publication time, `时间:2022-08-11 05:43:00`.
- url: http(s)/www addresses, bare domains with a known lower-case top-level domain (`163.com`,
  `xxx.com.cn`; not `3.5亿元`, not e-mail addresses) and site watermarks (`XX范文网`,
  `（来源：某某网）`, `文章来源：`, `...网整理`).
- placeholder: template years and dates (`20xx`, `２０ＸＸ年`, `XX年x月x日`, `x月x日`) and
  runs of two or more X/× (or ＊ next to a CJK character) used as blanks: `XX区`, `××局`.
  Not `某某` (ordinary anonymisation), not `XI`, `XXL` or English words.
- mixed_script: both Traditional-only characters (changed by t2s) and Simplified-only ones
  (changed by s2tw, in context, and left alone by t2s), at least 3 distinct of each in the
  whole text: one trace per line holding both, from its first to its last such character (one
  trace over all of them if each line keeps to one script). A text wholly in Traditional
  script is a conversion, not a mix, and is not reported.
- newline_residue: `x0dx0a`, literal `\\r\\n`, HTML entities (`&nbsp;`, `&#12288;`) and tags
  (`<br>`, `<p>`) left in the text.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache

import numpy as np
from flask_babel import lazy_gettext as _l

TRACE_KINDS = ("pinyin_gloss", "site_boilerplate", "url", "placeholder", "mixed_script", "newline_residue")
TRACE_NAMES = {
    "pinyin_gloss": _l("汉字后的拼音注音"),
    "site_boilerplate": _l("范文网站套话"),
    "url": _l("网址或网站水印"),
    "placeholder": _l("年份等占位符（如 20xx）"),
    "mixed_script": _l("繁简混排"),
    "newline_residue": _l("换行符残留（x0dx0a）"),
}
EXCERPT_MAX = 40
FOLD_END = 0x2FA20  # past the last character NFKC folds to one other (CJK compatibility supplement)
MIXED_MIN = 3  # distinct characters of each script, over the whole text


@dataclass(frozen=True)
class Trace:
    kind: str  # one of TRACE_KINDS
    start: int  # offset in the original text
    end: int  # exclusive
    excerpt: str  # text[start:end], shortened with "…"; for mixed_script, example characters


# Mandarin syllables without tone, ü written v, by initial ("j q x" share a row). Hand-written:
# no small, well-kept library gives the inventory offline (pypinyin is big and not installed).
_FINALS = {
    "": "a o e ai ei ao ou an en ang eng er yi ya yo ye yao you yan yin yang ying yong wu wa wo wai wei wan "
    "wen wang weng yu yue yuan yun m n ng hm hng",
    "b": "a o ai ei ao an en ang eng i ie iao ian in ing u",
    "p": "a o ai ei ao ou an en ang eng i ie iao ian in ing u",
    "m": "a o e ai ei ao ou an en ang eng i ie iao iu ian in ing u",
    "f": "a o ei ou an en ang eng u",
    "d": "a e ai ei ao ou an en ang eng ong i ia ie iao iu ian ing u uo ui uan un",
    "t": "a e ai ao ou an ang eng ong i ie iao ian ing u uo ui uan un",
    "n": "a e ai ei ao ou an en ang eng ong i ie iao iu ian in iang ing u uo uan v ve ue",
    "l": "a o e ai ei ao ou an ang eng ong i ia ie iao iu ian in iang ing u uo uan un v ve ue",
    "g k h": "a e ai ei ao ou an en ang eng ong u ua uo uai ui uan un uang",
    "zh": "a e ai ei ao ou an en ang eng ong i u ua uo uai ui uan un uang",
    "ch": "a e ai ao ou an en ang eng ong i u ua uo uai ui uan un uang",
    "sh": "a e ai ei ao ou an en ang eng i u ua uo uai ui uan un uang",
    "r": "e ao ou an en ang eng ong i u ua uo ui uan un",
    "z": "a e ai ei ao ou an en ang eng ong i u uo ui uan un",
    "c s": "a e ai ao ou an en ang eng ong i u uo ui uan un",
    "j q x": "i ia ie iao iu ian in iang ing iong u ue uan un",
}
SYLLABLES = frozenset(i + f for ks, fs in _FINALS.items() for i in (ks.split() or [""]) for f in fs.split())
_TONE_MARKS = "\u0304\u0301\u030c\u0300"  # after NFD: ā á ǎ à

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff"
_GLOSS = re.compile(rf"(?<=[{_CJK}])\(([A-Za-z\u00c0-\u024f\u0300-\u036f\u1e00-\u1eff]{{1,8}}[1-5]?)\)")

_BOILERPLATE = (
    # the header a 范文 site puts before the text, matched in Simplified (Traditional is converted)
    r"导语\s*:", r"(?:本文)?来源于网友上传", "不代表本站观点", "若需要原创文章可咨询客服", "欢迎参考", "本文来源",
    "本站", "小编",
    # teasers and links around the text
    r"此处隐藏\s*:?\s*\d+\s*个字", "免费下载", "下载全文", "全文阅读", "阅读全文", "查看全文", "更多范文", "精选范文",
    "相关推荐",
    # copyright notices
    r"版权归原作者(?:所有)?", r"转载请注明(?:出处)?",
)
# Literal alternatives only, so the regex engine skips ahead on their first characters.
_BOILERPLATE_RE = re.compile("|".join(sorted(_BOILERPLATE, key=len, reverse=True)))
# The characters each phrase must hold: its longest run of Chinese characters outside an
# optional group. Looking for these with `in` first skips the regex on almost every essay:
# its first characters (本, 不, 下, 全, 小...) are common, and it cost 0.1 ms an essay.
_BOILERPLATE_NEEDLES = tuple(
    max(re.findall(r"[\u4e00-\u9fff]+", re.sub(r"\(\?:[^()]*\)\?", "", phrase)), key=len) for phrase in _BOILERPLATE)
# A line that is only the page's publication time.
_TIME_LINE_RE = re.compile(
    r"^[^\S\n]*((?:发布|更新)?(?:时间|日期)[^\S\n]*:[^\S\n]*\d{4}[-/.]\d{1,2}[-/.]\d{1,2}"
    r"(?:[^\S\n]+\d{1,2}:\d{2}(?::\d{2})?)?)[^\S\n]*$",
    re.M,
)

_TLD = "com|net|org|cn|gov|edu|info|cc|top|vip|xyz|wang|biz|hk|tw|io"
_PATH = r"(?:/[A-Za-z0-9\-._~:/?#@!$&*+,;=%]*)?"
_URL_RE = re.compile(
    r"(?i:https?|ftp)://[A-Za-z0-9\-._~:/?#\[\]@!$&'*+,;=%]+"
    rf"|(?<![A-Za-z0-9\-._@/])(?i:www)\.(?:[A-Za-z0-9-]+\.)+[A-Za-z]{{2,}}{_PATH}"
    rf"|(?<![A-Za-z0-9\-._@/])(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+(?:{_TLD})(?![A-Za-z0-9-]){_PATH}"
)
_URL_TAIL = ".,;:!?'*"
# Site watermarks: (来源:某某网), XX范文网, 范文大全, 文秘网, 文章来源:, 某某网整理. A name before
# 范文网 or 网整理 (up to 4 letters or characters) is added to the span afterwards.
_WATERMARK_RE = re.compile(
    r"\(\s*(?:来源|出处|摘自)\s*:[^()\n]{0,30}(?:网|站|\.com|\.cn|\.net)\s*\)"
    r"|范文网|范文大全|文秘网|文章来源\s*:|网整理"
)
_SITE_NAME_RE = re.compile(r"[A-Za-z0-9\u4e00-\u9fff]{1,4}\Z")

_BLANK = "Xx×"
_PLACEHOLDER_RE = re.compile(
    # template years and dates: 20xx, 20XX年x月x日, XX年, x月x日
    rf"(?<![0-9A-Za-z])(?:(?:19|20)[{_BLANK}*]{{2}}|[{_BLANK}]{{2,4}}(?=年))"
    rf"(?:年(?:[{_BLANK}]{{1,2}}月(?:[{_BLANK}]{{1,2}}日)?)?)?(?![0-9A-Za-z])"
    rf"|(?<![0-9A-Za-z])[{_BLANK}]{{1,2}}月(?:[{_BLANK}]{{1,2}}日)?"
    # blanks: XX区, ××局, XXX同志; lower-case xx and ＊＊ only next to a CJK character
    rf"|(?<![0-9A-Za-z./@_-])(?:[X×]{{2,}}|[{_BLANK}]{{2,}}(?=[{_CJK}])|(?<=[{_CJK}])[{_BLANK}]{{2,}})(?![0-9A-Za-z./@_-])"
    rf"|(?<=[{_CJK}])\*{{2,}}|\*{{2,}}(?=[{_CJK}])"
)
_RESIDUE_RE = re.compile(
    r"(?i:x0d\s?x0a|x0d|x0a|_x000d_)|\\r\\n|\\[rn](?![A-Za-z])"
    r"|&(?:nbsp;?|(?:amp|lt|gt|quot|ldquo|rdquo|lsquo|rsquo|mdash|hellip|middot|emsp|ensp);|#\d{2,7};|#x[0-9a-fA-F]{2,6};)"
    r"|</?(?i:br|p|div|span|strong|font)\b[^<>\n]{0,80}>"
)
# Cheap tests that skip a whole regex on most essays.
_HAS_BLANK = re.compile(rf"[{_BLANK}*]")
_HAS_RESIDUE = re.compile(r"[&<\\]|(?i:x0[ad])")
# What every address _URL_RE finds holds: "://", "www.", or a dot, a known top-level domain
# and no letter after it. _URL_RE has no literal to skip ahead on (its bare domains start
# with a look-behind), so it tried every position of the 9 essays in 10 that hold a dot
# (a decimal, a list number).
_HAS_URL = re.compile(rf"://|(?i:www)\.|\.(?:{_TLD})(?![A-Za-z0-9-])")


@cache
def _fold_table() -> np.ndarray:
    """The characters NFKC changes into one other character (full-width forms, ideographic
    space, compatibility ideographs), as a table of code points up to FOLD_END: each
    character's own code point, or the one it folds to. Built once (~25 ms)."""
    table = np.arange(FOLD_END, dtype=np.uint32)
    for cp in (*range(0xA0, 0xD800), *range(0xE000, 0x10000), *range(0x2F800, 0x2FA20)):
        ch = chr(cp)
        folded = unicodedata.normalize("NFKC", ch)
        if folded != ch and len(folded) == 1:
            table[cp] = ord(folded)
    return table


def _fold(text: str) -> str:
    """NFKC one character at a time, so the result has the length of the text. Through a
    table of code points in numpy: an essay has some 200 full-width punctuation marks, and a
    regex substitution calling Python for each cost 3 s of a 20,000-essay run."""
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    table = _fold_table()
    inside = codes < FOLD_END
    folded = np.where(inside, table[np.where(inside, codes, 0)], codes)
    return folded.tobytes().decode("utf-32-le", "surrogatepass")


@cache
def _converter(config: str):
    import opencc

    return opencc.OpenCC(config)


def _convert(config: str, text: str) -> str:
    """OpenCC in context, one-to-one: per character if a phrase changed the length."""
    try:
        out = _converter(config).convert(text)
    except UnicodeEncodeError:  # a lone surrogate
        out = ""
    return out if len(out) == len(text) else "".join(_convert_one(config, ch) for ch in text)


@cache
def _convert_one(config: str, ch: str) -> str:
    try:
        out = _converter(config).convert(ch)
    except UnicodeEncodeError:
        return ch
    return out if len(out) == 1 else ch


@cache
def _syllable(raw: str) -> tuple[bool, bool]:
    """(a valid syllable, toned) for the inside of a parenthesis."""
    digit = raw[-1] in "12345"
    if digit:
        raw = raw[:-1]
        if not raw.islower() or len(raw) < 2:
            return False, False
    letters: list[str] = []
    marks = 0
    for ch in unicodedata.normalize("NFD", raw.lower()):
        if ch in _TONE_MARKS:
            marks += 1
        elif ch == "\u0308" and letters and letters[-1] == "u":
            letters[-1] = "v"
        elif "a" <= ch <= "z":
            letters.append(ch)
        else:
            return False, False
    base = "".join(letters)
    if base not in SYLLABLES or marks > 1 or (marks and digit):
        return False, False
    toned = bool(marks or digit)
    return toned or (raw.islower() and len(base) >= 2), toned


def _excerpt(s: str) -> str:
    return s if len(s) <= EXCERPT_MAX else s[:28] + "…" + s[-(EXCERPT_MAX - 29) :]


def find_traces(text: str) -> list[Trace]:
    folded = _fold(text)
    spans: list[tuple[str, int, int]] = []

    glosses: list[tuple[int, int, bool]] = []
    if "(" in folded:
        for m in _GLOSS.finditer(folded):
            valid, toned = _syllable(m.group(1))
            if valid:
                glosses.append((m.start(), m.end(), toned))
    if not any(toned for *_, toned in glosses):
        glosses = [g for g in glosses if g[2]]  # toneless ones count only beside toned ones
    spans += [("pinyin_gloss", s, e) for s, e, _ in glosses]

    # The view without glosses: view_starts[k] in the view is orig_starts[k] in the text.
    view_starts, orig_starts, parts, prev = [0], [0], [], 0
    for s, e, _ in glosses:
        parts.append(folded[prev:s])
        view_starts.append(view_starts[-1] + s - prev)
        orig_starts.append(e)
        prev = e
    view = "".join(parts) + folded[prev:] if glosses else folded

    def orig(i: int) -> int:
        k = bisect_right(view_starts, i) - 1
        return orig_starts[k] + i - view_starts[k]

    simplified = _convert("t2s", view)
    spans += [(kind, orig(s), orig(e - 1) + 1) for kind, s, e in _matches(simplified) if e > s]
    traces = [Trace(kind, s, e, _excerpt(text[s:e])) for kind, s, e in spans]
    traces += _mixed_script(text, view, simplified, orig)

    order = {kind: i for i, kind in enumerate(TRACE_KINDS)}
    traces.sort(key=lambda t: (t.start, order[t.kind], -t.end))
    kept: list[Trace] = []
    reach: dict[str, int] = {}
    for t in traces:  # drop a trace inside an earlier one of the same kind
        if t.end > reach.get(t.kind, -1):
            kept.append(t)
            reach[t.kind] = t.end
    return kept


def _matches(view: str) -> Iterator[tuple[str, int, int]]:
    """(kind, start, end) of the regex rules, in the folded, gloss-free, Simplified view."""
    if any(needle in view for needle in _BOILERPLATE_NEEDLES):
        for m in _BOILERPLATE_RE.finditer(view):
            yield "site_boilerplate", *m.span()
    if "时间" in view or "日期" in view:
        for m in _TIME_LINE_RE.finditer(view):
            yield "site_boilerplate", *m.span(1)
    if "." in view and _HAS_URL.search(view):
        for m in _URL_RE.finditer(view):
            start, end = m.span()
            while end > start and view[end - 1] in _URL_TAIL:
                end -= 1
            yield "url", start, end
    for m in _WATERMARK_RE.finditer(view):
        start = m.start()
        if m.group() in ("范文网", "网整理") and (name := _SITE_NAME_RE.search(view, max(0, start - 4), start)):
            start = name.start()
        yield "url", start, m.end()
    if _HAS_BLANK.search(view):
        for m in _PLACEHOLDER_RE.finditer(view):
            yield "placeholder", *m.span()
    if _HAS_RESIDUE.search(view):
        for m in _RESIDUE_RE.finditer(view):
            yield "newline_residue", *m.span()


def _mixed_script(text: str, view: str, simplified: str, orig: Callable[[int], int]) -> list[Trace]:
    """One trace per line holding Traditional-only and Simplified-only characters (or one over
    all of them if each line keeps to one script), when the whole text has at least MIXED_MIN
    distinct characters of each."""
    if simplified == view:
        return []
    traditional = _convert("s2tw", view)
    lines = []  # per line with marks: (view indices of Traditional-only, of Simplified-only characters)
    start = 0
    for line, to_s, to_t in zip(*(x.split("\n") for x in (view, simplified, traditional)), strict=True):
        index = range(start, start + len(line))
        t = [i for i, a, b in zip(index, line, to_s, strict=True) if a != b and a >= "\u3400"]
        s = [i for i, a, b, c in zip(index, line, to_s, to_t, strict=True) if a != c and a == b and a >= "\u3400"]
        if t or s:
            lines.append((t, s))
        start += len(line) + 1
    for side in (0, 1):
        if len({view[i] for marks in lines for i in marks[side]}) < MIXED_MIN:
            return []
    both = [(t, s) for t, s in lines if t and s]
    if not both:  # each line keeps to one script
        both = [tuple(sorted(i for marks in lines for i in marks[side]) for side in (0, 1))]

    def examples(indices: list[int]) -> str:  # the first 3 distinct characters, as in the text
        found: dict[str, None] = {}
        for i in indices:
            found[text[orig(i)]] = None
            if len(found) == 3:
                break
        return "、".join(found)

    return [
        Trace(
            "mixed_script", orig(min(t[0], s[0])), orig(max(t[-1], s[-1])) + 1,
            f"繁体“{examples(t)}”与简体“{examples(s)}”混排",
        )
        for t, s in both
    ]


def trace_summary(traces: list[Trace]) -> list[str]:
    counts = Counter(t.kind for t in traces)
    return [str(_l("%(name)s %(count)s 处", name=TRACE_NAMES[k], count=counts[k])) for k in TRACE_KINDS if counts[k]]
