"""Importing a package (essays.package.format) into a competition: the bureau enters the essays a
brigade forwarded as submissions of the unit of its own roster that stands for that brigade.

Rules:
- the unit is the one named on import, else the one whose name, short name or an alias
  equals the package's organiser (compared without spaces, full-width forms or case); a
  unit's own name is preferred to another's short name or alias. None or several: refused;
- each entry's original is received as that unit's upload by the admin
  (essays.intake.receive.receive with by_admin), with the entry's title and authors: every intake
  rule applies (phase open or intake closed, the reader, the count, the limit, the quota,
  the similarity check). The stored file is the package's bytes, so its SHA-256 is the
  manifest's; the SHA-256 of the file the sender received (version 2 of the format) goes
  into the audit entry;
- an original that is already the newest version of one of that unit's submissions (the
  same package imported again) stores nothing and is reported as already there; it does
  not count against the quota;
- all or nothing: the first entry refused raises PACKAGE_ENTRY naming it and the inner
  refusal, and the caller rolls back;
- one audit entry `package.import` when anything new was stored: the source (organiser,
  competition title, export time) and per entry its rank, code, award, score, SHA-256 (and
  the sender's received_sha256) and the submission it became.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from essays.competitions.operations import participating_units
from essays.intake.receive import EssayForm, check_can_upload, receive
from essays.intake.titles import inner_title
from essays.models import Competition, Submission, SubmissionVersion, Unit, User
from essays.package.format import Package, PackageEntry
from essays.platform.audit import record
from essays.platform.errors import Refusal


@dataclass
class ImportedEntry:
    entry: PackageEntry
    submission: Submission
    version: SubmissionVersion
    new: bool  # False: the same file was there already (nothing stored)


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or "")).casefold()


def organisation_unit(session: Session, package: Package, unit_name: str = "") -> Unit:
    """The unit of the importing roster (active, not the organiser) that stands for the
    sending organisation: the unit named `unit_name` if given, else the unit whose name,
    short name or one of its aliases equals package.competition["organiser"]."""
    wanted = unit_name or str(package.competition.get("organiser") or "")
    key = _norm(wanted)
    units = participating_units(session) if key else []
    by_name = [u for u in units if _norm(u.name) == key]
    found = by_name or [u for u in units if key in {_norm(n) for n in (u.short_name, *(u.aliases or []))}]
    if len(found) != 1:
        raise Refusal("PACKAGE_UNIT", organiser=wanted or "（材料包未写明）")
    return found[0]


def _check_entries(package: Package) -> None:
    if not package.entries:
        raise Refusal("PACKAGE_MANIFEST", detail=_l("清单中没有任何论文"))
    first: dict[str, int] = {}
    for entry in package.entries:
        # Two entries with one original would become one submission: the sender's error.
        other = first.setdefault(entry.original.sha256, entry.rank)
        if other != entry.rank:
            raise Refusal("PACKAGE_MANIFEST", detail=_l("第 %(rank)s 名与第 %(other)s 名的原件完全相同",
                                                        rank=entry.rank, other=other))


def import_package(session: Session, competition: Competition, unit: Unit, user: User,
                   package: Package, now: datetime) -> list[ImportedEntry]:
    """Receives every entry's original as a submission of `unit` (rules above), in the
    package's order. Raises Refusal (NOT_OPEN, PACKAGE_MANIFEST, PACKAGE_ENTRY); the
    caller then rolls back."""
    _check_entries(package)
    check_can_upload(session, competition, unit, now, by_admin=True)  # before any entry: one clear refusal
    imported = []
    for entry in package.entries:
        original = entry.original
        form = EssayForm(theme_id=None, title=entry.title, authors=list(entry.authors), contact_phone="")
        try:
            submission, version, new = receive(session, competition, unit, user, form,
                                               original.name.rsplit("/", 1)[-1], original.data, now,
                                               by_admin=True)
        except Refusal as e:
            raise Refusal("PACKAGE_ENTRY", rank=entry.rank, title=inner_title(entry.title), inner=e.code,
                          reason=e.message) from e
        imported.append(ImportedEntry(entry, submission, version, new))
    if any(i.new for i in imported):
        source = package.competition
        record(session, "package.import", actor=user, obj=competition, after={
            "organiser": source.get("organiser"), "competition": source.get("title"),
            "exported_at": source.get("exported_at"), "unit_id": unit.id, "unit": unit.name,
            "entries": [{"rank": i.entry.rank, "code": i.entry.code, "award": i.entry.award,
                         "score": i.entry.score, "sha256": i.version.sha256,
                         "received_sha256": i.entry.original.received_sha256 or i.version.sha256,
                         "submission_id": i.submission.id,
                         "version": i.version.number, "new": i.new} for i in imported]})
    return imported
