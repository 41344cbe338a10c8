"""Which generation of a scope's shared index files to open (essays.similarity.shared): where
the files live, the pointer (current.json) that names the current base and its top, and the
check that this database holds the last print a generation names.

Rules (the files' format and how they are written: essays.similarity.shared):
- the pointer is replaced whole (`os.replace`), so it names a generation and its top that
  were both complete when it was written;
- a base or top is trusted only when the database holds, at its generation, the print it
  names (id and digest): files of another database (a restore, a test) are never used;
- when the current generation is not good, the newest older base that is serves (the last
  good one); a top is used only on the base the pointer names.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from essays.similarity.models import SimilarityPrint
from essays.similarity.shared import Generation, open_folder


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


def candidates(root: Path, scope: int) -> Iterator[Generation]:
    """The scope's generations on disk worth trying, the current one first, then the others
    newest first (the last good one, should the current be wrong); each opened when asked for."""
    folder = scope_folder(root, scope)
    pointer = read_pointer(root, scope)
    names = sorted((p.name for p in folder.glob("g*") if p.is_dir()), key=generation_of, reverse=True)
    if pointer is not None and pointer.get("folder") in names:
        names.remove(pointer["folder"])
        names.insert(0, pointer["folder"])
    for name in names:
        found = open_folder(scope, folder / name)
        if found is not None:
            yield found


def generation_of(name: str) -> int:
    try:
        return int(name[1:].split("-", 1)[0])
    except ValueError:
        return -1


def database_token(session: Session, scope: int, generation: int) -> tuple[int, str] | None:
    row = session.execute(select(SimilarityPrint.id, SimilarityPrint.digest).where(
        SimilarityPrint.scope == scope, SimilarityPrint.generation == generation)).first()
    return (row.id, row.digest) if row is not None else None


def good_generation(session: Session, root: Path, scope: int) -> Generation | None:
    """The newest base generation on disk that this database confirms (its last print is there)."""
    for g in candidates(root, scope):
        if database_token(session, scope, g.generation) == g.token:
            return g
    return None


def good_top(session: Session, root: Path, base: Generation) -> Generation | None:
    """The top that current.json names on `base`, when this database confirms it; None
    otherwise (the prints after the base are then read from the database, as a delta)."""
    top = top_pointer(read_pointer(root, base.scope), base)
    if top is None or database_token(session, base.scope, top["generation"]) != (top["print_id"], top["digest"]):
        return None
    return open_folder(base.scope, scope_folder(root, base.scope) / top["folder"])


def top_pointer(pointer: dict | None, base: Generation) -> dict | None:
    """The top named by `pointer` when it is one on `base`."""
    top = (pointer or {}).get("top")
    if not top or pointer.get("folder") != base.folder.name or top.get("after") != base.generation:
        return None
    return top


def covered(pointer: dict) -> int:
    """The generation up to which a pointer's files hold the prints (its top's, if any)."""
    return pointer["top"]["generation"] if pointer.get("top") else pointer["generation"]
