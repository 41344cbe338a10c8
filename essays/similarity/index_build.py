"""Building the shared index files of copy detection (essays.similarity.shared): in the task
consumer (a minute task), `init-db`, `restore` and `essays similar-index`, never in a request.

Rules:
- a scope is due for a new generation when it has none that the database confirms, or when
  MERGE_FROM prints were stored since the good one (or any, once it is MERGE_AFTER old);
- a new generation merges the good one with the prints stored since, in one pass over its
  file; without a good one, it is built whole from every print of the scope;
- a base of TOP_FROM postings or more is not rewritten for each delta: the delta is merged
  into its top (essays.similarity.shared), a new top each time, until the top holds a
  TOP_SHARE of the base's postings; then base, top and delta make a new base (at 300,000
  essays: a top of ~170 MB rewritten every MERGE_FROM uploads on average, and the 2.7 GB
  base once every ~37,000 uploads, instead of the base every MERGE_FROM uploads);
- one process builds a scope at a time (a file lock); another that finds it held skips it;
- the task consumer builds at the lowest CPU priority (`at_idle_priority`): a merge at
  100,000 essays keeps a core busy for 10 s, and the checks of the uploads coming meanwhile
  must not wait for it.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from essays.similarity import shared
from essays.similarity.buckets import search_in_buckets, shift_for
from essays.similarity.models import SimilarityIndex, SimilarityPrint
from essays.similarity.pointer import generation_of, good_generation, good_top, scope_folder
from essays.similarity.shared import (
    CROWD,
    FIRST_KEPT,
    NO_PRINT,
    RECORD,
    Generation,
    holders_digest,
    open_folder,
    present_bits,
)

MERGE_FROM = 200  # prints stored since the current generation: a new one is built
TOP_FROM = 1 << 22  # postings (about 5,600 essays): a base this large gets tops (module doc)
TOP_SHARE = 8  # a top holding an eighth of its base's postings is merged into a new base
MERGE_AFTER = 600  # seconds: a smaller delta is merged once the generation is this old
CHUNK = 2000  # prints read per round trip while building
WRITE_CHUNK = 1 << 22  # postings written at a time (48 MB)


def _read_prints(session: Session, scope: int, after: int) -> tuple[np.ndarray, np.ndarray, int, tuple | None]:
    """(hashes, print ids, last generation, its token) of the scope's prints stored after
    generation `after`, in one statement, streamed in chunks."""
    result = session.execute(
        select(SimilarityPrint.id, SimilarityPrint.generation, SimilarityPrint.digest, SimilarityPrint.hashes)
        .where(SimilarityPrint.scope == scope, SimilarityPrint.generation > after)
        .order_by(SimilarityPrint.generation)
        .execution_options(yield_per=CHUNK))
    hashes, prints, last, token = [], [], after, None
    for rows in result.partitions():
        chunk = [np.frombuffer(r.hashes, dtype="<u8") for r in rows]
        hashes.append(np.concatenate(chunk) if chunk else np.zeros(0, np.uint64))
        prints.append(np.repeat(np.array([r.id for r in rows], dtype=np.uint32), [len(c) for c in chunk]))
        last, token = rows[-1].generation, (rows[-1].id, rows[-1].digest)
    if not hashes:
        return np.zeros(0, np.uint64), np.zeros(0, np.uint32), last, token
    return np.concatenate(hashes).astype(np.uint64), np.concatenate(prints), last, token


class _Crowds:
    """The crowded hashes (essays.similarity.shared) of postings given in hash order, a chunk
    at a time: a run of one hash may span chunks, so the last run of a chunk is carried."""

    def __init__(self, crowded_from: int):
        self.crowded_from, self.found = crowded_from, []
        self.carry: tuple[int, int, list[np.ndarray]] | None = None  # (hash, start, prints)

    def feed(self, chunk: np.ndarray, offset: int) -> None:
        hashes, prints = chunk["hash"], chunk["print"]
        n = len(hashes)
        if not n:
            return
        cuts = np.flatnonzero(hashes[1:] != hashes[:-1]) + 1
        starts, ends = np.concatenate(([0], cuts)), np.append(cuts, n)
        # Only the long runs, the first (it may continue the carry) and the last (it may go on).
        keep = (ends - starts > self.crowded_from) | (starts == 0) | (ends == n)
        for start, end in zip(starts[keep].tolist(), ends[keep].tolist(), strict=True):
            if start == 0 and self.carry is not None and self.carry[0] == int(hashes[0]):
                self.carry[2].append(prints[:end].copy())
            else:
                self.close()
                self.carry = (int(hashes[start]), offset + start, [prints[start:end].copy()])
            if end < n:
                self.close()

    def close(self) -> None:
        """Ends the carried run: kept if it is crowded."""
        if self.carry is None:
            return
        hash_, start, parts = self.carry
        self.carry = None
        prints = np.concatenate(parts)
        if len(prints) > self.crowded_from:
            first = np.full(FIRST_KEPT, NO_PRINT, dtype=np.uint32)
            lowest = np.sort(prints)[:FIRST_KEPT]
            first[:len(lowest)] = lowest
            self.found.append((hash_, start, start + len(prints), holders_digest(prints), first))

    def records(self) -> np.ndarray:
        self.close()
        return np.array(self.found, dtype=CROWD)


def _write(root: Path, scope: int, generation: int, token: tuple[int, str], count: int, chunks,
           base: Generation | None = None) -> Generation:
    """Writes a generation of `count` postings, given in order as record `chunks`, into a new
    folder, then makes it current: as a base, or as the top of `base`. The file is written
    front to back with write() rather than filled through a mapping: a new mapped file faults
    in (and zeroes) a page at a time, which made a merge at 100,000 essays twice as long."""
    folder = scope_folder(root, scope)
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{'t' if base is not None else 'g'}{generation}-{uuid.uuid4().hex[:8]}"
    work = folder / f".build-{name}"
    work.mkdir()
    shift = shift_for(count)
    per_bucket = np.zeros(1 << (64 - shift), dtype=np.int64)
    bits = present_bits(count)
    present = np.zeros(1 << bits, dtype=bool)
    low = np.uint64((1 << bits) - 1)
    written = 0
    crowds = _Crowds(shared.CROWDED_FROM)  # read here, so that a test can lower it
    with open(work / "postings.npy", "wb") as out:
        np.lib.format.write_array_header_1_0(out, {"descr": np.lib.format.dtype_to_descr(RECORD),
                                                   "fortran_order": False, "shape": (count,)})
        for chunk in chunks:
            chunk.tofile(out)
            per_bucket += np.bincount((chunk["hash"] >> np.uint64(shift)).astype(np.int64),
                                      minlength=len(per_bucket))
            present[(chunk["hash"] & low).astype(np.int64)] = True
            crowds.feed(chunk, written)
            written += len(chunk)
    if written != count:
        raise RuntimeError(f"wrote {written} postings of {count}")
    np.save(work / "table.npy", np.concatenate(([0], np.cumsum(per_bucket))).astype(np.uint32))
    np.save(work / "present.npy", np.packbits(present, bitorder="little"))
    del present
    crowded = crowds.records()
    np.save(work / "crowded.npy", crowded)
    meta = {"scope": scope, "generation": generation, "print_id": token[0], "digest": token[1],
            "postings": count, "shift": shift, "present_bits": bits, "crowded": len(crowded),
            "built_at": time.time(), "after": base.generation if base is not None else 0}
    (work / "meta.json").write_text(json.dumps(meta))
    os.rename(work, folder / name)
    if base is None:
        current = {**meta, "folder": name}
    else:
        current = {**json.loads((base.folder / "meta.json").read_text()), "folder": base.folder.name,
                   "top": {**meta, "folder": name}}
    pointer = folder / f".current-{name}.json"
    pointer.write_text(json.dumps(current))
    os.replace(pointer, folder / "current.json")
    _prune(folder, keep={name} | ({base.folder.name} if base is not None else set()))
    return open_folder(scope, folder / name)


def _prune(folder: Path, keep: set[str]) -> None:
    """Keeps the generations just made current and, of bases and of tops each, the one
    before them; removes older ones and builds that never finished (a build killed
    half-way). A worker that still reads a removed file keeps it until it lets go of it
    (POSIX unlink semantics)."""
    for kind in ("g", "t"):
        names = sorted((p.name for p in folder.glob(f"{kind}*") if p.is_dir()), key=generation_of, reverse=True)
        for name in [n for n in names if n not in keep][1:]:
            shutil.rmtree(folder / name, ignore_errors=True)
    for stray in folder.glob(".build-*"):
        if stray.name[len(".build-"):] not in keep:
            shutil.rmtree(stray, ignore_errors=True)


def build_whole(session: Session, root: Path, scope: int, base: Generation | None = None) -> Generation | None:
    """A generation made from every print of the scope (or a top of `base`, from every print
    after it); None when there is none."""
    hashes, prints, last, token = _read_prints(session, scope, base.generation if base is not None else 0)
    if token is None:
        return None
    # np.argsort's default (introsort) is not stable, and needs not be: the postings of one
    # hash are read as a set (essays.similarity.candidates). It is ~1.7x faster than stable.
    order = np.argsort(hashes)

    def chunks():
        for start in range(0, len(order), WRITE_CHUNK):
            at = order[start:start + WRITE_CHUNK]
            chunk = np.empty(len(at), RECORD)
            chunk["hash"], chunk["print"] = hashes[at], prints[at]
            yield chunk

    return _write(root, scope, last, token, len(order), chunks(), base)


def build_next(session: Session, root: Path, base: Generation, top_of: Generation | None = None) -> Generation:
    """The next generation: `base` with the prints stored since, merged in one pass; with
    `top_of`, `base` is its top and the result its next top."""
    new_h, new_p, last, token = _read_prints(session, base.scope, base.generation)
    if token is None:
        return base
    order = np.argsort(new_h, kind="stable")
    fresh = np.empty(len(new_h), RECORD)
    fresh["hash"], fresh["print"] = new_h[order], new_p[order]
    # Where each new posting goes: after the base's postings of smaller or equal hashes.
    at = search_in_buckets(base.hashes, base.table, base.shift, fresh["hash"], "right") + np.arange(len(fresh))
    old = base.records()
    count = len(old) + len(fresh)

    def chunks():
        for start in range(0, count, WRITE_CHUNK):
            end = min(start + WRITE_CHUNK, count)
            first, last_new = np.searchsorted(at, [start, end])
            chunk = np.empty(end - start, RECORD)
            is_new = np.zeros(end - start, dtype=bool)
            is_new[at[first:last_new] - start] = True
            chunk[is_new] = fresh[first:last_new]
            chunk[~is_new] = old[start - first:end - last_new]
            yield chunk

    return _write(root, base.scope, last, token, count, chunks(), top_of)


@contextmanager
def _locked(root: Path, scope: int):
    """Holds the scope's build lock, or yields False at once when another process builds."""
    folder = scope_folder(root, scope)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def due(session: Session, good: Generation | None, scope: int, generation: int, now: float) -> bool:
    """Whether the scope needs a new generation: none is good, or enough prints (or old
    enough ones) were stored since the good one (`good`: the top, if there is one)."""
    if good is None:
        return generation > 0
    waiting = session.execute(select(func.count()).select_from(SimilarityPrint).where(
        SimilarityPrint.scope == scope, SimilarityPrint.generation > good.generation)).scalar_one()
    return waiting >= MERGE_FROM or (waiting > 0 and now - good.built_at >= MERGE_AFTER)


def build_due(session: Session, root: Path, good: Generation, top: Generation | None) -> Generation:
    """The generation that takes the prints since `good` (and its `top`): a new base when
    the base is small or its top has grown to a TOP_SHARE of it; else a new top."""
    if good.count < TOP_FROM or (top is not None and top.count * TOP_SHARE >= good.count):
        return build_next(session, root, good)
    if top is None:
        return build_whole(session, root, good.scope, base=good)
    return build_next(session, root, top, top_of=good)


def refresh(session: Session, root: Path, scope: int, generation: int, now: float | None = None,
            whole: bool = False) -> Generation | None:
    """Brings one scope's files up to date when they are due (`whole`: always, and from
    nothing); returns the generation built, or None when nothing was built."""
    with _locked(root, scope) as mine:
        if not mine:
            return None
        good = None if whole else good_generation(session, root, scope)
        top = good_top(session, root, good) if good is not None else None
        if not whole and not due(session, top or good, scope, generation, time.time() if now is None else now):
            return None
        return build_due(session, root, good, top) if good is not None else build_whole(session, root, scope)


def refresh_all(session: Session, root: Path, whole: bool = False, idle: bool = False) -> list[Generation]:
    """Every scope the database has, brought up to date (see `refresh`); `idle`: built at
    the lowest CPU priority (the task consumer's way: `at_idle_priority`)."""
    scopes = session.execute(select(SimilarityIndex.scope, SimilarityIndex.generation)).all()

    def build() -> list[Generation | None]:
        return [refresh(session, root, s.scope, s.generation, whole=whole) for s in scopes]

    return [g for g in (at_idle_priority(build) if idle else build()) if g is not None]


def at_idle_priority(work):
    """`work()`, run in a thread of Linux's SCHED_IDLE class, waited for; its result or its
    exception. The app's two cores are shared by the request workers, PostgreSQL and the task
    consumer: at normal priority a merge (seconds of sorting and writing) takes a core from
    the upload checks of the deadline hour, whose answer a person is waiting for; at SCHED_IDLE
    it runs on what they leave (nice 19 would still take 1.5% of a busy core and preempt less
    eagerly). A thread of its own because an unprivileged thread can lower its priority but
    not raise it again, and the consumer's thread goes on to run other tasks; the session is
    handed over, not shared: the caller only waits. Where the class does not exist (not
    Linux), the work runs at normal priority."""
    outcome: dict = {}

    def run() -> None:
        try:
            if hasattr(os, "SCHED_IDLE"):
                os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))  # 0: this thread
            outcome["result"] = work()
        except BaseException as error:  # handed to the caller, who raises it
            outcome["error"] = error

    thread = threading.Thread(target=run, name="index-build")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


def disk_bytes(root: Path) -> int:
    """What the index files take on disk (every generation kept)."""
    return sum(p.stat().st_size for p in Path(root).rglob("*.npy"))
