"""The fingerprint index of a scope as read-only files, shared by every worker of a machine.

At bureau scale (100,000 essays: 75 million postings) an index held in each worker's
memory costs ~2.9 GB per worker and 25 s to load after every start. Instead, the postings
are written once into files under the instance folder, sorted by hash, and every worker
reads them through the kernel's page cache: the data lives once per machine, whatever the
number of workers, and a fresh worker opens them in milliseconds.

A worker maps the small bucket table (`np.load(mmap_mode="r")`) and reads each query hash's
bucket of postings with `os.pread` (about 18 postings, 216 bytes, at 100,000 essays), one
call per hash: ~1 ms for an essay's 700 hashes. The postings are not mapped: on this kernel
the page cache holds large folios, and a fault on a mapped file maps the whole folio, so one
lookup mapped 358 MB and a few hundred checks the whole file into every worker; the pages
were still shared, but each worker's PSS grew to the file's size divided by the number of
workers (225 MB each for four at 100,000 essays, three times that at 300,000). A read copies
only the bytes asked for. numpy's .npy format is used because it is exactly these arrays; a
database engine (LMDB, SQLite) would add its own cost to what is one read per hash.

Layout, per scope (a competition; 0 is the reference library):

    <root>/scope-<scope>/current.json           the generation to open (see `Generation`)
    <root>/scope-<scope>/g<generation>-<tag>/   postings.npy ((hash uint64, print id uint32)
                                                records, 12 bytes, sorted by hash),
                                                table.npy (uint32: where each bucket starts,
                                                essays.similarity.buckets), meta.json

Rules:
- the database stays the source of truth: a generation holds every print of the scope up to
  its generation number, read in one statement (so one snapshot); delete the folder and the
  task consumer builds it again;
- a generation is written into a new folder, then named by replacing current.json
  (`os.replace`: atomic), so a reader sees either the old generation or the new one, whole;
  the previous generation is kept (a worker may still be reading it, and it is the last
  good one if the current one turns out wrong); older ones are removed;
- a generation names its last print (id and digest): a reader trusts it only when the
  database holds that same print at that generation, so files left from another database
  (a restore, a test) are never used;
- building happens in the task consumer (`maintain`), `init-db` and `restore`, under a file
  lock per scope, never inside a request: a new generation merges the previous one with
  the prints stored since (one pass), or is built whole when there is no good one.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
import uuid
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from essays.similarity.buckets import search_in_buckets, shift_for
from essays.similarity.models import SimilarityIndex, SimilarityPrint

MERGE_FROM = 200  # prints stored since the current generation: a new one is built
MERGE_AFTER = 600  # seconds: a smaller delta is merged once the generation is this old
CHUNK = 2000  # prints read per round trip while building
WRITE_CHUNK = 1 << 22  # postings written at a time (48 MB)
HOLD_UP_TO = 1 << 20  # postings (12 MB, about 1,400 essays): a generation read into memory whole


RECORD = np.dtype([("hash", "<u8"), ("print", "<u4")])  # packed: 12 bytes


@dataclass(frozen=True, eq=False)
class Generation:
    """One built generation of a scope: its bucket table mapped, its postings read on demand."""

    scope: int
    generation: int
    print_id: int  # the print at `generation`: with its digest, checked against the database
    digest: str
    built_at: float
    count: int  # postings
    table: np.ndarray  # uint32, 2**bits + 1 entries: where each bucket starts
    shift: int
    folder: Path
    fd: int  # postings.npy, open for reading
    offset: int  # where its records start (after the .npy header)
    held: np.ndarray | None = None  # the records in this process's memory: a small generation

    @property
    def token(self) -> tuple[int, str]:
        return (self.print_id, self.digest)

    def lookup(self, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(query index, print id) for every posting of every query hash: each hash's bucket
        is read (one pread: see the module doc; from memory for a small generation, `held`)
        and its postings of that hash kept."""
        bucket = (query >> np.uint64(self.shift)).astype(np.int64)
        starts, ends = self.table[bucket].astype(np.int64), self.table[bucket + 1].astype(np.int64)
        counts = ends - starts
        if self.held is not None:
            records = self.held[np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())]
        else:
            pread, fd, offset = os.pread, self.fd, self.offset
            records = np.frombuffer(b"".join([
                pread(fd, (end - start) * RECORD.itemsize, offset + start * RECORD.itemsize)
                for start, end in zip(starts.tolist(), ends.tolist(), strict=True) if end > start]), RECORD)
        q = np.repeat(np.arange(len(query)), counts)
        hit = records["hash"] == query[q]
        return q[hit], records["print"][hit].astype(np.int64)

    def records(self) -> np.ndarray:
        """Every posting, mapped (for the consumer's next build, and for tests)."""
        return np.load(self.folder / "postings.npy", mmap_mode="r")

    @property
    def hashes(self) -> np.ndarray:
        return self.records()["hash"]

    @property
    def prints(self) -> np.ndarray:
        return self.records()["print"]


def index_root(app) -> Path | None:
    """Where the app keeps its shared index: SIMILARITY_INDEX_DIR, by default the instance
    folder's similarity-index; None when SIMILARITY_SHARED_INDEX is off (every worker then
    reads the whole index from the database, as before shared files existed)."""
    if not app.config.get("SIMILARITY_SHARED_INDEX", True):
        return None
    return Path(app.config.get("SIMILARITY_INDEX_DIR") or Path(app.instance_path) / "similarity-index")


def scope_folder(root: Path, scope: int) -> Path:
    return Path(root) / f"scope-{scope}"


def read_pointer(root: Path, scope: int) -> dict | None:
    try:
        return json.loads((scope_folder(root, scope) / "current.json").read_text())
    except (OSError, ValueError):
        return None


def pointer_stamp(root: Path, scope: int) -> tuple[int, int] | None:
    """What changes whenever current.json is replaced (checked by workers on every lookup:
    one stat call)."""
    try:
        st = os.stat(scope_folder(root, scope) / "current.json")
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns)


def open_folder(scope: int, folder: Path) -> Generation | None:
    """The generation in `folder`, opened; None when it is incomplete or unreadable. Its file
    is closed when the Generation is dropped."""
    try:
        meta = json.loads((folder / "meta.json").read_text())
        records = np.load(folder / "postings.npy", mmap_mode="r")
        table = np.load(folder / "table.npy", mmap_mode="r")
        fd = os.open(folder / "postings.npy", os.O_RDONLY)
    except (OSError, ValueError):
        return None
    if len(records) != meta["postings"] or records.dtype != RECORD:
        os.close(fd)
        return None
    # A small generation (a brigade's competition, a short reference library) is read into
    # memory whole: a few MB per worker, and a lookup without 700 reads.
    held = np.array(records) if len(records) <= HOLD_UP_TO else None
    found = Generation(scope, meta["generation"], meta["print_id"], meta["digest"], meta["built_at"], len(records),
                       table, meta["shift"], folder, fd, records.offset, held)
    weakref.finalize(found, os.close, fd)
    return found


def candidates(root: Path, scope: int) -> Iterator[Generation]:
    """The scope's generations on disk worth trying, the current one first, then the others
    newest first (the last good one, should the current be wrong); each opened when asked for."""
    folder = scope_folder(root, scope)
    pointer = read_pointer(root, scope)
    names = sorted((p.name for p in folder.glob("g*") if p.is_dir()), key=_generation_of, reverse=True)
    if pointer is not None and pointer.get("folder") in names:
        names.remove(pointer["folder"])
        names.insert(0, pointer["folder"])
    for name in names:
        found = open_folder(scope, folder / name)
        if found is not None:
            yield found


def _generation_of(name: str) -> int:
    try:
        return int(name[1:].split("-", 1)[0])
    except ValueError:
        return -1


def database_token(session: Session, scope: int, generation: int) -> tuple[int, str] | None:
    row = session.execute(select(SimilarityPrint.id, SimilarityPrint.digest).where(
        SimilarityPrint.scope == scope, SimilarityPrint.generation == generation)).first()
    return (row.id, row.digest) if row is not None else None


def good_generation(session: Session, root: Path, scope: int) -> Generation | None:
    """The newest generation on disk that this database confirms (its last print is there)."""
    for g in candidates(root, scope):
        if database_token(session, scope, g.generation) == g.token:
            return g
    return None


# --- building (the task consumer, init-db, restore) ---------------------------------------


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


def _write(root: Path, scope: int, generation: int, token: tuple[int, str], count: int, chunks) -> Generation:
    """Writes a generation of `count` postings, given in order as record `chunks`, into a new
    folder, then makes it current. The file is written front to back with write() rather than
    filled through a mapping: a new mapped file faults in (and zeroes) a page at a time, which
    made a merge at 100,000 essays twice as long."""
    folder = scope_folder(root, scope)
    folder.mkdir(parents=True, exist_ok=True)
    name = f"g{generation}-{uuid.uuid4().hex[:8]}"
    work = folder / f".build-{name}"
    work.mkdir()
    shift = shift_for(count)
    per_bucket = np.zeros(1 << (64 - shift), dtype=np.int64)
    written = 0
    with open(work / "postings.npy", "wb") as out:
        np.lib.format.write_array_header_1_0(out, {"descr": np.lib.format.dtype_to_descr(RECORD),
                                                   "fortran_order": False, "shape": (count,)})
        for chunk in chunks:
            chunk.tofile(out)
            per_bucket += np.bincount((chunk["hash"] >> np.uint64(shift)).astype(np.int64),
                                      minlength=len(per_bucket))
            written += len(chunk)
    if written != count:
        raise RuntimeError(f"wrote {written} postings of {count}")
    np.save(work / "table.npy", np.concatenate(([0], np.cumsum(per_bucket))).astype(np.uint32))
    meta = {"scope": scope, "generation": generation, "print_id": token[0], "digest": token[1],
            "postings": count, "shift": shift, "built_at": time.time()}
    (work / "meta.json").write_text(json.dumps(meta))
    os.rename(work, folder / name)
    pointer = folder / f".current-{name}.json"
    pointer.write_text(json.dumps({**meta, "folder": name}))
    os.replace(pointer, folder / "current.json")
    _prune(folder, keep={name})
    return open_folder(scope, folder / name)


def _prune(folder: Path, keep: set[str]) -> None:
    """Keeps the new generation and the one before it; removes older ones and builds that
    never finished (a build killed half-way). A worker that still maps a removed file
    keeps its pages until it lets go of them (POSIX unlink semantics)."""
    names = sorted((p.name for p in folder.glob("g*") if p.is_dir()), key=_generation_of, reverse=True)
    for name in [n for n in names if n not in keep][1:]:
        shutil.rmtree(folder / name, ignore_errors=True)
    for stray in folder.glob(".build-*"):
        if stray.name[len(".build-"):] not in keep:
            shutil.rmtree(stray, ignore_errors=True)


def build_whole(session: Session, root: Path, scope: int) -> Generation | None:
    """A generation made from every print of the scope; None when it has none."""
    hashes, prints, last, token = _read_prints(session, scope, 0)
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

    return _write(root, scope, last, token, len(order), chunks())


def build_next(session: Session, root: Path, base: Generation) -> Generation:
    """The next generation: `base` with the prints stored since, merged in one pass."""
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

    return _write(root, base.scope, last, token, count, chunks())


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
    enough ones) were stored since the good one."""
    if good is None:
        return generation > 0
    waiting = session.execute(select(func.count()).select_from(SimilarityPrint).where(
        SimilarityPrint.scope == scope, SimilarityPrint.generation > good.generation)).scalar_one()
    return waiting >= MERGE_FROM or (waiting > 0 and now - good.built_at >= MERGE_AFTER)


def refresh(session: Session, root: Path, scope: int, generation: int, now: float | None = None,
            whole: bool = False) -> Generation | None:
    """Brings one scope's files up to date when they are due (`whole`: always, and from
    nothing); returns the generation built, or None when nothing was built."""
    with _locked(root, scope) as mine:
        if not mine:
            return None
        good = None if whole else good_generation(session, root, scope)
        if not whole and not due(session, good, scope, generation, time.time() if now is None else now):
            return None
        return build_next(session, root, good) if good is not None else build_whole(session, root, scope)


def refresh_all(session: Session, root: Path, whole: bool = False) -> list[Generation]:
    """Every scope the database has, brought up to date (see `refresh`)."""
    scopes = session.execute(select(SimilarityIndex.scope, SimilarityIndex.generation)).all()
    built = [refresh(session, root, s.scope, s.generation, whole=whole) for s in scopes]
    return [g for g in built if g is not None]


def disk_bytes(root: Path) -> int:
    """What the index files take on disk (every generation kept)."""
    return sum(p.stat().st_size for p in Path(root).rglob("*.npy"))
