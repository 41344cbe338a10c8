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

    <root>/scope-<scope>/current.json           the generation to open (see `Generation`),
                                                and its top, if it has one (below)
    <root>/scope-<scope>/g<generation>-<tag>/   postings.npy ((hash uint64, print id uint32)
                                                records, 12 bytes, sorted by hash),
                                                table.npy (uint32: where each bucket starts,
                                                essays.similarity.buckets), present.npy (see
                                                `present_bits`), crowded.npy (see below),
                                                meta.json
    <root>/scope-<scope>/t<generation>-<tag>/   a top: the same files, for the prints after
                                                its base's generation (meta.json "after")

Tops. Merging the uploads since into the whole generation rewrites every posting: at
300,000 essays 2.7 GB every MERGE_FROM uploads (22 s of a core, and the page cache churned
under the workers' lookups). So a large generation (a base) is kept, and the uploads since
are merged into a small generation of their own, its top, which the next uploads' merges
rewrite instead; the top is merged into a new base only when it has grown to a share of
it (essays.similarity.index_build). A worker reads both, then its own tail.

Crowded hashes. A stock 9-gram (新时代中国特色社会主义 holds three) is held by a large
share of an archive: in bench/essaygen's 300,000 essays one hash has 90,419 postings, and a
quarter of the uploads hold it. Reading and grouping its postings cost a check 30-60 ms,
growing with the archive, for an answer that needs only a summary: such a hash is hot
(essays.similarity.candidates), so it names no candidate, and its hot group is told by its
set of holders, their number and the first few. So a hash with more than CROWDED_FROM
postings is crowded: its postings stay in postings.npy (the next build merges them), but
crowded.npy holds its summary (where its run is, the number of postings, the digest of
their print ids (`holders_digest`), the FIRST_KEPT lowest print ids), and a lookup reads
that summary instead of the run (`Generation.crowded`).

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
- building happens in the task consumer, `init-db` and `restore`, under a file lock per
  scope, never inside a request (essays.similarity.index_build);
- which generation to open: essays.similarity.pointer.
"""

from __future__ import annotations

import json
import os
import weakref
from dataclasses import dataclass
from pathlib import Path

import numpy as np

HOLD_UP_TO = 1 << 20  # postings (12 MB, about 1,400 essays): a generation read into memory whole
CROWDED_FROM = 1000  # postings of one hash (12 KB to read) above which it is crowded (module doc)
FIRST_KEPT = 64  # lowest print ids kept per crowded hash (a report names up to 55: candidates)
NO_PRINT = 2**32 - 1  # pads `first` where a hash has fewer postings (a test's small threshold)


RECORD = np.dtype([("hash", "<u8"), ("print", "<u4")])  # packed: 12 bytes
CROWD = np.dtype([("hash", "<u8"), ("start", "<i8"), ("end", "<i8"), ("digest", "<u8"),
                  ("first", "<u4", (FIRST_KEPT,))])


def mixed(prints: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser of each print id (uint64 arithmetic wraps)."""
    z = prints.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def holders_digest(prints: np.ndarray) -> int:
    """The digest of a multiset of print ids: the sum (mod 2**64) of their mixed values, so
    that it is the same whatever their order and can be added up part by part (a crowded
    hash's summary plus the postings of the tail). Two different sets of holders with the
    same number and digest would be taken for one hot group: odds of 2**-64."""
    return int(mixed(prints).sum(dtype=np.uint64))


@dataclass(frozen=True)
class Crowded:
    """The crowded hashes among a query's, from one generation (see the module doc)."""

    scope: int
    generation: int
    after: int  # the generation holds the prints after this one (0: all, a base)
    query: np.ndarray  # query indices
    count: np.ndarray  # postings of each
    digest: np.ndarray  # uint64: holders_digest of their print ids
    first: np.ndarray  # (len, FIRST_KEPT) uint32: their lowest print ids, NO_PRINT-padded


def present_bits(count: int) -> int:
    """Bits of the presence bitmap of a generation of `count` postings: about 8 bits per
    posting (fewer distinct hashes), so that a hash absent from the index finds its bit clear
    about 9 times in 10; 2**30 bits (128 MB) at most, 2**20 at least. The bitmap is mapped:
    all workers share its pages (about 32 MB of PSS each for four at 300,000 essays)."""
    return int(np.clip(np.ceil(np.log2(max(count, 1) * 8)), 20, 30))


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
    present: np.ndarray | None = None  # bitmap over the hashes' low bits (see `present_bits`), mapped
    crowd: np.ndarray | None = None  # CROWD records sorted by hash (module doc), in memory
    after: int = 0  # a top holds the prints after its base's generation; a base all (0)

    @property
    def token(self) -> tuple[int, str]:
        return (self.print_id, self.digest)

    def lookup(self, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(query index, print id) for every posting of every query hash but the crowded ones
        (see `crowded`): each hash's bucket is read (one pread: see the module doc; from
        memory for a small generation, `held`) and its postings of that hash kept.

        Every step is a random access into a large mapping, and a worker that has been idle
        for a moment finds none of it in the CPU's caches: ~8 us an access on this VM after
        0.5 s asleep, against 0.7 us back to back (BENCHMARKS.md). So a hash no posting
        has (most of an essay's) is dropped first, on its bit in the presence bitmap, and
        only the others touch the bucket table and the file."""
        asked = np.arange(len(query))
        if self.present is not None and self.held is None:
            low = (query & np.uint64(len(self.present) * 8 - 1)).astype(np.int64)  # 2**bits - 1
            asked = asked[((self.present[low >> 3] >> (low & 7).astype(np.uint8)) & 1).astype(bool)]
        wanted = query[asked]
        bucket = (wanted >> np.uint64(self.shift)).astype(np.int64)
        starts, ends = self.table[bucket].astype(np.int64), self.table[bucket + 1].astype(np.int64)
        if self.crowd is not None and len(self.crowd):
            starts, ends = self._around_crowds(wanted, bucket, starts, ends)
        counts = ends - starts
        if self.held is not None:
            records = self.held[np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())]
        else:
            pread, fd, offset = os.pread, self.fd, self.offset
            records = np.frombuffer(b"".join([
                pread(fd, (end - start) * RECORD.itemsize, offset + start * RECORD.itemsize)
                for start, end in zip(starts.tolist(), ends.tolist(), strict=True) if end > start]), RECORD)
        q = np.repeat(asked, counts)
        hit = records["hash"] == query[q]
        return q[hit], records["print"][hit].astype(np.int64)

    def _crowded_at(self, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(whether each query hash is crowded, its row in `crowd`)."""
        at = np.minimum(np.searchsorted(self.crowd["hash"], query), len(self.crowd) - 1)
        return self.crowd["hash"][at] == query, at

    def _around_crowds(self, query: np.ndarray, bucket: np.ndarray, starts: np.ndarray, ends: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray]:
        """The postings to read per query hash: none for a crowded one; for another in the
        same bucket as a crowded run (rare: a few hundred runs among millions of buckets),
        only its side of the run."""
        crowded, _ = self._crowded_at(query)
        starts, ends = np.where(crowded, 0, starts), np.where(crowded, 0, ends)
        run_bucket = (self.crowd["hash"] >> np.uint64(self.shift)).astype(np.int64)
        for i in np.flatnonzero(np.isin(bucket, run_bucket) & ~crowded).tolist():
            for run in self.crowd[run_bucket == bucket[i]]:
                if run["hash"] < query[i]:
                    starts[i] = max(starts[i], run["end"])
                else:
                    ends[i] = min(ends[i], run["start"])
        return starts, ends

    def crowded(self, query: np.ndarray) -> Crowded | None:
        """The summaries of the crowded hashes among `query`; None when it holds none."""
        if self.crowd is None or not len(self.crowd):
            return None
        crowded, at = self._crowded_at(query)
        if not crowded.any():
            return None
        rows = self.crowd[at[crowded]]
        return Crowded(self.scope, self.generation, self.after, np.flatnonzero(crowded), rows["end"] - rows["start"],
                       rows["digest"], rows["first"])

    def records(self) -> np.ndarray:
        """Every posting, mapped (for the consumer's next build, and for tests)."""
        return np.load(self.folder / "postings.npy", mmap_mode="r")

    @property
    def hashes(self) -> np.ndarray:
        return self.records()["hash"]

    @property
    def prints(self) -> np.ndarray:
        return self.records()["print"]


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
    # memory whole: a few MB per worker, and a lookup without 700 reads. Not a top: a worker
    # opens each new one inside a request.
    after = meta.get("after", 0)
    held = np.array(records) if len(records) <= HOLD_UP_TO and not after else None
    try:
        present = np.load(folder / "present.npy", mmap_mode="r") if held is None else None
    except (OSError, ValueError):
        present = None
    try:  # a generation built before crowded hashes existed has none: every run is read
        crowd = np.load(folder / "crowded.npy")
    except (OSError, ValueError):
        crowd = None
    found = Generation(scope, meta["generation"], meta["print_id"], meta["digest"], meta["built_at"], len(records),
                       table, meta["shift"], folder, fd, records.offset, held, present,
                       crowd if crowd is not None and crowd.dtype == CROWD else None, after)
    weakref.finalize(found, os.close, fd)
    return found
