"""The reference library (比对文献): known texts every essay is checked against (a past
year's essays, 范文 from websites), shared by all competitions.

Rules:
- accepted: .docx, .txt (UTF-8, GBK, UTF-16) or a .zip of them, read as
  essays.similarity.reference_files says;
- each file gets an outcome: loaded, duplicate (same SHA-256 as a stored reference, or as
  an earlier file of the same upload: skipped), refused (code and message) or skipped;
  a bad file never stops the others;
- a loaded file becomes a ReferenceText (bytes, SHA-256, text, title from the document or
  else the file name, collection = the upload's file name) indexed at once (scope 0);
- a zip, or a single file over INLINE_MAX_BYTES, is kept in `reference_upload` and loaded
  by a job of kind "references.load" (essays.similarity.jobs); its bytes are emptied once
  loaded. Each upload is audited once ("reference.load") with its tally;
- deactivating a reference (audited) marks its print inactive: no later check or run uses
  it. References are never deleted: stored reports may name them.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from essays.intake.batch_files import BatchFile, basename
from essays.models import User
from essays.platform.audit import record
from essays.platform.errors import Refusal
from essays.platform.filenames import clean_filename
from essays.similarity.models import ReferenceText, ReferenceUpload, SimilarityPrint
from essays.similarity.reference_files import (  # noqa: F401  (the upload's reading, re-exported)
    check_name,
    check_zip,
    decode_text,
    entries_of,
    is_zip_name,
    read_reference,
)
from essays.similarity.service import index_reference

log = logging.getLogger(__name__)

INLINE_MAX_BYTES = 2 * 1024 * 1024  # a single file up to this is loaded in the request


@dataclass
class Outcome:
    file: str
    status: str  # loaded | duplicate | refused | skipped
    title: str = ""
    chars: int = 0
    reference_id: int | None = None
    code: str = ""
    message: str = ""
    params: dict = field(default_factory=dict)  # the refusal's, to refuse a single upload with it


DUPLICATE = _l("与已有的比对文献“%(title)s”完全相同，未重复导入")
DUPLICATE_INACTIVE = _l("与已停用的比对文献“%(title)s”完全相同，未重复导入")
DUPLICATE_HERE = _l("与本次上传中的“%(name)s”完全相同，未重复导入")


# --- loading ---------------------------------------------------------------------------------


def _existing(session: Session, sha256: str) -> ReferenceText | None:
    return session.execute(select(ReferenceText).where(ReferenceText.sha256 == sha256)).scalar_one_or_none()


def _refused(name: str, refusal: Refusal) -> Outcome:
    return Outcome(name, "refused", code=refusal.code, message=refusal.message,
                   params={k: str(v) for k, v in refusal.params.items()})


def _load_one(session: Session, user: User, collection: str, f: BatchFile, seen: dict[str, str],
              now: datetime) -> Outcome:
    if f.skipped:
        return Outcome(f.name, "skipped", message=f.skipped)
    if f.refusal is not None:
        return _refused(f.name, f.refusal)
    digest = hashlib.sha256(f.data).hexdigest()
    if digest in seen:
        return Outcome(f.name, "duplicate", message=str(DUPLICATE_HERE % {"name": seen[digest]}))
    known = _existing(session, digest)
    if known is not None:
        template = DUPLICATE if known.active else DUPLICATE_INACTIVE
        return Outcome(f.name, "duplicate", title=known.title, reference_id=known.id,
                       message=str(template % {"title": known.title}))
    try:
        title, text, chars = read_reference(f.name, f.data)
    except Refusal as e:
        return _refused(f.name, e)
    except Exception:  # a hostile file the readers did not expect: this file only
        log.exception("reference %s could not be read", f.name)
        return _refused(f.name, Refusal("UPLOAD_BROKEN"))
    seen[digest] = basename(f.name)
    reference = ReferenceText(title=title[:200], collection=collection[:200], filename=clean_filename(basename(f.name)),
                              file_bytes=f.data, sha256=digest, text=text, char_count=chars, active=True,
                              created_by_id=user.id, created_at=now)
    session.add(reference)
    session.flush()
    index_reference(session, reference)
    return Outcome(f.name, "loaded", title=reference.title, chars=chars, reference_id=reference.id)


def tally(outcomes: list[Outcome]) -> dict[str, int]:
    return {s: sum(1 for o in outcomes if o.status == s) for s in ("loaded", "duplicate", "refused", "skipped")}


def load_files(session: Session, user: User, collection: str, files: list[BatchFile], now: datetime,
               progress: Callable[[int, int, str], None] | None = None,
               upload: ReferenceUpload | None = None) -> list[Outcome]:
    """Loads each file as a reference; one outcome per file, in order; audited once."""
    seen: dict[str, str] = {}
    outcomes = []
    for done, f in enumerate(files):
        if progress is not None:
            progress(done, len(files), _l("正在读取第 %(n)s 个文件（共 %(total)s 个）：%(name)s", n=done + 1,
                                          total=len(files), name=basename(f.name)))
        outcomes.append(_load_one(session, user, collection, f, seen, now))
    if progress is not None:
        progress(len(files), len(files), _l("导入完成"))
    record(session, "reference.load", actor=user, obj=upload, object_type="reference_upload" if upload else "",
           after={"collection": collection, **tally(outcomes),
                  "reference_ids": [o.reference_id for o in outcomes if o.status == "loaded"]})
    return outcomes


def store_upload(session: Session, user: User, filename: str, data: bytes) -> ReferenceUpload:
    """Keeps an upload for its job; a zip's directory is checked first (refusals store nothing)."""
    if not data:
        raise Refusal("UPLOAD_EMPTY")
    if is_zip_name(filename):
        check_zip(data)
    upload = ReferenceUpload(filename=clean_filename(basename(filename)), data=data,
                             sha256=hashlib.sha256(data).hexdigest(), size=len(data), status="pending",
                             uploaded_by_id=user.id)
    session.add(upload)
    session.flush()
    return upload


def load_upload(session: Session, upload: ReferenceUpload, user: User, now: datetime, max_file_bytes: int,
                progress: Callable[[int, int, str], None] | None = None) -> list[Outcome] | None:
    """Loads a stored upload once (None when it was loaded already) and empties its bytes."""
    claimed = session.execute(update(ReferenceUpload).where(ReferenceUpload.id == upload.id,
                                                             ReferenceUpload.status == "pending")
                              .values(status="done")).rowcount
    session.refresh(upload)
    if claimed != 1:
        return None
    outcomes = load_files(session, user, upload.filename, entries_of(upload.filename, upload.data, max_file_bytes),
                          now, progress, upload)
    upload.data = b""
    session.flush()
    return outcomes


def as_dicts(outcomes: list[Outcome]) -> list[dict]:
    return [asdict(o) for o in outcomes]


# --- the library -----------------------------------------------------------------------------


def deactivate(session: Session, user: User, reference: ReferenceText) -> bool:
    """Stops using a reference (its print becomes inactive); False when it was inactive already."""
    if not reference.active:
        return False
    reference.active = False
    session.execute(update(SimilarityPrint).where(SimilarityPrint.reference_id == reference.id).values(active=False))
    session.flush()
    record(session, "reference.deactivate", actor=user, obj=reference, before={"active": True},
           after={"active": False, "title": reference.title, "collection": reference.collection})
    return True
