"""Text for the demo essays: the corpus, quotes from the notice, and essay assembly.

The essays are assembled from essays/data/demo_corpus.txt, hand-written paragraphs in
the register of a 城管 unit's 调研论文, grouped by topic. An `EssayWriter` deals the
paragraphs of each topic out of a shuffled pool, so that essays written by the same
writer share no paragraph (until a pool runs dry). Everything is seeded: the same
calls give the same essays.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from pathlib import Path

from essays.intake.counting import count

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
CORPUS_PATH = DATA_DIR / "demo_corpus.txt"
NOTICE_PATH = DATA_DIR / "seed_notice.txt"

# Section numbers, as Chinese papers number their parts.
NUMERALS = "一二三四五六七八九十"

# Special topics of the corpus (the others are body topics with headings).
OPENINGS, CLOSINGS, QUOTE_SENTENCES, OWN_UNIT = "开头", "结尾", "引文句", "本单位"

# The half-width punctuation the cleaned notice keeps, and its full-width form.
_FULL_WIDTH = str.maketrans({",": "，", ";": "；", ":": "：", "(": "（", ")": "）", "!": "！",
                             "?": "？"})


@dataclass
class Corpus:
    paragraphs: dict[str, list[str]]  # topic -> paragraphs
    headings: dict[str, list[str]]  # topic -> headings (without number)

    def topic(self, name: str) -> list[str]:
        if name not in self.paragraphs:
            raise KeyError(f"demo corpus has no topic {name!r}")
        return self.paragraphs[name]


def parse_corpus(text: str) -> Corpus:
    """Parses the corpus format (see the head of demo_corpus.txt)."""
    paragraphs: dict[str, list[str]] = {}
    headings: dict[str, list[str]] = {}
    topic = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("//"):
            continue
        if line.startswith("# "):
            topic = line[2:].strip()
            paragraphs.setdefault(topic, [])
            headings.setdefault(topic, [])
        elif topic is None:
            raise ValueError(f"demo corpus: text before the first topic: {line[:20]}")
        elif line.startswith("== "):
            headings[topic].append(line[3:].strip())
        else:
            paragraphs[topic].append(line)
    return Corpus(paragraphs, headings)


def load_corpus() -> Corpus:
    return parse_corpus(CORPUS_PATH.read_text(encoding="utf-8"))


def load_notice() -> str:
    return NOTICE_PATH.read_text(encoding="utf-8").strip()


def full_width(text: str) -> str:
    """Chinese punctuation for the half-width marks the cleaned notice still has."""
    return text.translate(_FULL_WIDTH)


def notice_quotes(notice: str, wanted: list[str], at_least: int = 0) -> list[str]:
    """The `wanted` phrases that the notice really contains (as an essay would quote
    them, with Chinese punctuation), topped up with clauses cut from the notice."""
    text = full_width(notice)
    found = [p for p in wanted if full_width(p) in text]
    if len(found) < at_least:
        clauses = [c for c in re.split(r"[，。；：！？\n]", text) if 8 <= len(c) <= 24
                   and "“" not in c and "”" not in c and c not in found]
        found += clauses[: at_least - len(found)]
    return [full_width(p) for p in found]


def words(paragraphs: list[str]) -> int:
    """字数 as the intake counts it."""
    return count(paragraphs).words


@dataclass
class Essay:
    title: str
    paragraphs: list[str]  # body, without the title

    @property
    def words(self) -> int:
        return words([self.title, *self.paragraphs])


@dataclass
class EssayPlan:
    title: str
    topics: list[str]  # one section per topic, in order
    opening_quote: str  # quoted in the opening paragraph
    body_quote: str = ""  # quoted once more, in section quote_section
    target: int = 2500  # 字数 to reach, title included
    own_unit: str = ""  # a unit the essay names as its own (我们……在……), if any
    quote_section: int = 1  # the section whose first paragraph carries body_quote


class EssayWriter:
    """Deals corpus paragraphs to essays; one writer's essays do not repeat a paragraph."""

    def __init__(self, corpus: Corpus, seed: str):
        self.corpus = corpus
        shuffler = random.Random(seed)
        self._pools: dict[str, list[str]] = {}
        for topic, items in corpus.paragraphs.items():
            pool = list(items)
            shuffler.shuffle(pool)
            self._pools[topic] = pool
        self._headings = {}
        for topic, items in corpus.headings.items():
            pool = list(items)
            shuffler.shuffle(pool)
            self._headings[topic] = pool

    def take(self, topic: str) -> str | None:
        """The next unused paragraph of `topic`, or None when the topic is used up."""
        self.corpus.topic(topic)
        pool = self._pools[topic]
        return pool.pop() if pool else None

    def heading(self, topic: str, rng: random.Random) -> str:
        pool = self._headings.get(topic) or []
        if pool:
            return pool.pop()
        return rng.choice(self.corpus.headings[topic] or [topic])

    def write(self, plan: EssayPlan, rng: random.Random) -> Essay:
        """An essay: opening with a quote, numbered sections, closing; about plan.target 字."""
        opening = self._fill(OPENINGS, "{引文}", plan.opening_quote)
        closing = self.take(CLOSINGS) or rng.choice(self.corpus.topic(CLOSINGS))
        headings = [f"{NUMERALS[i]}、{self.heading(t, rng)}" for i, t in enumerate(plan.topics)]
        extras = []
        if plan.body_quote:
            extras.append(self._fill(QUOTE_SENTENCES, "{引文}", plan.body_quote))
        own = self._fill(OWN_UNIT, "{单位}", plan.own_unit) if plan.own_unit else ""
        if own:
            extras.append(own)
        total = words([plan.title, opening, closing, *headings, *extras])
        sections: list[list[str]] = [[] for _ in plan.topics]
        dry: set[int] = set()
        turn = 0
        while total < plan.target and len(dry) < len(plan.topics):
            index = turn % len(plan.topics)
            turn += 1
            if index in dry:
                continue
            item = self.take(plan.topics[index])
            if item is None:
                dry.add(index)
                continue
            sections[index].append(item)
            total += words([item])
        paragraphs = [opening]
        for index, (heading, items) in enumerate(zip(headings, sections, strict=True)):
            paragraphs.append(heading)
            grouped = _group(items, rng)
            if index == plan.quote_section % len(plan.topics) and plan.body_quote and grouped:
                grouped[0] = extras[0] + grouped[0]
            if index == 0 and own:
                grouped.insert(min(1, len(grouped)), own)
            paragraphs.extend(grouped)
        paragraphs.append(closing)
        return Essay(plan.title, paragraphs)

    def _fill(self, topic: str, placeholder: str, value: str) -> str:
        template = self.take(topic) or self.corpus.topic(topic)[0]
        return template.replace(placeholder, value)


def _group(items: list[str], rng: random.Random) -> list[str]:
    """Joins the items of a section into paragraphs of one or two items."""
    paragraphs, i = [], 0
    while i < len(items):
        take = 2 if i + 1 < len(items) and rng.random() < 0.6 else 1
        paragraphs.append("".join(items[i:i + take]))
        i += take
    return paragraphs


def derive_copy(original: Essay, writer: EssayWriter, title: str, opening_quote: str,
                topics: list[str], rng: random.Random, changes: int = 2) -> Essay:
    """An essay that copies `original` but for its title, its opening and `changes` body
    paragraphs rewritten from the corpus (as a unit that copied another's file would)."""
    paragraphs = list(original.paragraphs)
    paragraphs[0] = writer._fill(OPENINGS, "{引文}", opening_quote)
    body = [i for i, p in enumerate(paragraphs[1:-1], start=1) if p[:2] not in _HEADS]
    # Which section each body paragraph is in, so that a replacement stays on topic.
    section, where = -1, {}
    for i, p in enumerate(paragraphs):
        if p[:2] in _HEADS:
            section += 1
        where[i] = max(section, 0)
    for i in sorted(rng.sample(body, min(changes, len(body)))):
        fresh = writer.take(topics[where[i]]) or writer.take(topics[0])
        if fresh:
            paragraphs[i] = fresh
    return Essay(title, paragraphs)


_HEADS = {f"{n}、" for n in NUMERALS}
