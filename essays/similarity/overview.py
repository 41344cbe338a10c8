"""What the admin's copy-detection pages show, read from the stored reports: the ranked list
of a competition's essays, the names of sources, the hot passages and the web-copy traces
in context. Reads only; the figures are the reports' (essays.similarity.service, .runs).

Ranking of the list: exact duplicates (same normalised text as another unit's essay) come
first, whatever their ratios; then 总复制比, then 单篇最大复制比, largest first; versions
never checked (未查重) come last. An essay is *flagged* when its level is 列出 or above or
its 通知引用比 reaches the notice threshold; *undecided* when flagged without a decision.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field, replace

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, defer, selectinload

from essays.intake.titles import book_title
from essays.models import Competition, Submission, SubmissionVersion
from essays.similarity.decisions import decisions_in_force
from essays.similarity.models import ReferenceText, SimilarityDecision, SimilarityReport
from essays.similarity.traces import TRACE_NAMES

LEVEL_NAMES = {"none": _l("未达列出线"), "listed": _l("列出"), "suspect": _l("疑似"), "severe": _l("严重")}
LEVEL_CLASSES = {"none": "status-missing", "listed": "level-listed", "suspect": "status-extended",
                 "severe": "status-overdue"}
FILTERS = {"all": _l("全部"), "flagged": _l("仅看标记的"), "undecided": _l("标记但未处理的")}
CONTEXT = 30  # characters shown before and after a trace
TRACE_SHOWN = 120  # characters of a trace itself, at most


@dataclass(frozen=True)
class Label:
    """A source or duplicate as the admin reads it: 单位《题目》 or the reference's title."""

    kind: str  # essay | reference
    id: int
    unit: str = ""
    title: str = ""
    version_number: int = 0
    current: bool = True  # an essay: still its submission's newest version; a reference: active

    @property
    def text(self) -> str:
        return f"{self.unit}{book_title(self.title)}" if self.kind == "essay" else book_title(self.title)


def labels(session: Session, version_ids: set[int], reference_ids: set[int]) -> dict[tuple[str, int], Label]:
    found: dict[tuple[str, int], Label] = {}
    if version_ids:
        versions = session.execute(
            select(SubmissionVersion).where(SubmissionVersion.id.in_(version_ids))
            .options(defer(SubmissionVersion.file_bytes), defer(SubmissionVersion.text),
                     selectinload(SubmissionVersion.submission).selectinload(Submission.unit),
                     selectinload(SubmissionVersion.submission).selectinload(Submission.versions)
                     .defer(SubmissionVersion.file_bytes).defer(SubmissionVersion.text))).scalars()
        for v in versions:
            s = v.submission
            found[("essay", v.id)] = Label("essay", v.id, s.unit.name, s.title, v.number, s.current.id == v.id)
    if reference_ids:
        for r in session.execute(select(ReferenceText).where(ReferenceText.id.in_(reference_ids))).scalars():
            found[("reference", r.id)] = Label("reference", r.id, "", r.title, 0, r.active)
    return found


def label_of(found: dict, kind: str, ident: int) -> Label:
    return found.get((kind, ident)) or Label(kind, ident, "?", str(_l("（已不存在）")), 0, False)


@dataclass
class Row:
    submission: Submission
    version: SubmissionVersion
    report: SimilarityReport | None
    decision: SimilarityDecision | None
    top_source: Label | None = None
    duplicates: list[Label] = field(default_factory=list)

    @property
    def checked(self) -> bool:
        return self.report is not None

    @property
    def flagged(self) -> bool:
        r = self.report
        return r is not None and (r.level != "none" or r.notice_flag or bool(r.duplicate_of))

    @property
    def undecided(self) -> bool:
        return self.flagged and self.decision is None

    def rank(self) -> tuple:
        r = self.report
        if r is None:
            return (2, 0.0, 0.0, self.submission.id)
        return (0 if r.duplicate_of else 1, -r.total_ratio, -r.max_ratio, self.submission.id)


def duplicate_groups(rows: list[Row]) -> list[list[Row]]:
    """Essays with the same text, each group once (A = B, never also B = A), its members
    in the order they arrived: the first is where the text was first seen."""
    by_version = {r.version.id: r for r in rows}
    groups: dict[frozenset[int], list[Row]] = {}
    for row in rows:
        if not row.report or not row.report.duplicate_of:
            continue
        key = frozenset([row.version.id, *row.report.duplicate_of])
        groups.setdefault(key, sorted((by_version[v] for v in key if v in by_version),
                                      key=lambda r: (r.version.uploaded_at, r.version.id)))
    return [group for group in groups.values() if len(group) > 1]


def competition_rows(session: Session, competition: Competition, which: str = "all") -> list[Row]:
    """The current version of every submission with its report, ranked, filtered by `which`."""
    submissions = session.execute(
        select(Submission).where(Submission.competition_id == competition.id)
        .options(selectinload(Submission.unit), selectinload(Submission.versions)
                 .options(defer(SubmissionVersion.file_bytes), defer(SubmissionVersion.text)))
        .order_by(Submission.id)).scalars().all()
    versions = {s.current.id: s for s in submissions if s.current is not None}
    reports = {r.version_id: r for r in session.execute(
        select(SimilarityReport).where(SimilarityReport.version_id.in_(list(versions) or [-1]))).scalars()}
    decided = decisions_in_force(session, competition)
    rows = [Row(s, s.current, reports.get(vid), decided.get(s.id)) for vid, s in versions.items()]
    want_versions, want_refs = set(), set()
    for row in rows:
        r = row.report
        if r is None:
            continue
        want_versions.update(r.duplicate_of or [])
        if r.sources:
            (want_refs if r.sources[0]["kind"] == "reference" else want_versions).add(r.sources[0]["id"])
    found = labels(session, want_versions, want_refs)
    for row in rows:
        r = row.report
        if r is None:
            continue
        row.duplicates = [label_of(found, "essay", v) for v in r.duplicate_of or []]
        if r.sources:
            row.top_source = label_of(found, r.sources[0]["kind"], r.sources[0]["id"])
    rows.sort(key=Row.rank)
    if which == "flagged":
        return [r for r in rows if r.flagged]
    if which == "undecided":
        return [r for r in rows if r.undecided]
    return rows


@dataclass
class HotPassage:
    text: str
    version_ids: list[int]
    members: list[Label]


def hot_passages(session: Session, reports: list[SimilarityReport], limit: int = 50) -> list[HotPassage]:
    """The passages many essays share (the reports' `hot`), one entry per text with every
    essay that holds it (the report's own version included), most widely shared first."""
    grouped: dict[str, set[int]] = {}
    for report in reports:
        for hot in report.hot or []:
            text = (hot.get("text") or "").strip()
            if text:
                grouped.setdefault(text, set()).update([report.version_id, *hot.get("members", [])])
    ranked = sorted(grouped.items(), key=lambda item: (-len(item[1]), item[0]))[:limit]
    found = labels(session, {v for _, ids in ranked for v in ids}, set())
    return [HotPassage(text, sorted(ids), [label_of(found, "essay", v) for v in sorted(ids)])
            for text, ids in ranked]


@dataclass(frozen=True)
class TraceView:
    kind: str
    name: str
    start: int
    before: str
    match: str
    after: str
    cut: bool  # the trace was longer than shown


def _flat(text: str) -> str:
    return text.replace("\r", "").replace("\n", "↵")


def trace_views(text: str, traces: list[dict]) -> list[TraceView]:
    """Each web-copy trace with CONTEXT characters before and after it in the essay."""
    views = []
    for t in traces or []:
        start, end = max(0, int(t.get("start", 0))), min(len(text), int(t.get("end", 0)))
        if end <= start:
            continue
        shown_end = min(end, start + TRACE_SHOWN)
        views.append(TraceView(t.get("kind", ""), str(TRACE_NAMES.get(t.get("kind"), t.get("kind", ""))), start,
                               _flat(text[max(0, start - CONTEXT):start]), _flat(text[start:shown_end]),
                               _flat(text[end:end + CONTEXT]), shown_end < end))
    return views


def trace_counts(traces: list[dict]) -> list[tuple[str, int]]:
    counts: dict[str, int] = {}
    for t in traces or []:
        counts[t.get("kind", "")] = counts.get(t.get("kind", ""), 0) + 1
    return [(str(TRACE_NAMES.get(k, k)), n) for k, n in counts.items()]


def report_sources(session: Session, report: SimilarityReport) -> list[tuple[dict, Label]]:
    """The report's sources, largest share first, each with its label."""
    sources = list(report.sources or [])
    found = labels(session, {s["id"] for s in sources if s["kind"] == "essay"} | set(report.duplicate_of or []),
                   {s["id"] for s in sources if s["kind"] == "reference"})
    return [(s, label_of(found, s["kind"], s["id"])) for s in sources]


def duplicate_labels(session: Session, report: SimilarityReport) -> list[Label]:
    found = labels(session, set(report.duplicate_of or []), set())
    return [label_of(found, "essay", v) for v in report.duplicate_of or []]


def _is_filler(text: str) -> bool:
    """Punctuation and spaces only: characters normalisation drops."""
    return all(not unicodedata.category(ch).startswith(("L", "N")) for ch in text)


def smooth(segments: list) -> list:
    """The side-by-side text with the punctuation between two pieces of base text (or of one
    copied passage) shown as part of them, so that a quoted sentence is greyed whole rather
    than character run by character run. Display only: the figures are unchanged."""
    out: list = []
    for i, seg in enumerate(segments):
        before = out[-1] if out else None
        after = segments[i + 1] if i + 1 < len(segments) else None
        if (seg.kind == "plain" and before is not None and after is not None and _is_filler(seg.text)
                and "\n" not in seg.text and before.kind == after.kind != "plain" and before.passage == after.passage):
            seg = replace(seg, kind=before.kind, passage=before.passage)
        if before is not None and before.kind == seg.kind and before.passage == seg.passage:
            out[-1] = replace(before, text=before.text + seg.text)
        else:
            out.append(seg)
    return out
