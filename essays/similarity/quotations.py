"""The curated common quotations (常用引语): base text for every competition, with the notice.

Every essay may quote the same slogans and 常用提法; a passage found in base text never
makes two essays similar (essays.similarity.base). Rules:
- added one per line, many at once; blank lines and lines already in the list are
  skipped, the others added together;
- each quotation has MIN_CHARS to MAX_CHARS characters once normalised (letters and
  digits only): a shorter one would mark ordinary words in every essay as quotation, a
  longer one is a text, not a quotation (put it in the reference library); with its
  punctuation a line stays under MAX_CHARS + 100, so that PostgreSQL's unique index on the
  text (at most ~2,700 bytes a key) always takes it. One bad line
  refuses the whole entry (QUOTATION_LENGTH); nothing is stored;
- adding and removing are audited ("quotation.add", "quotation.remove");
- the reports already stored keep their figures until the next check or whole run.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from essays.models import User
from essays.platform.audit import record
from essays.platform.errors import Refusal
from essays.similarity.models import BaseQuotation
from essays.similarity.normalize import normalize

MIN_CHARS = 4
MAX_CHARS = 500
SHOWN = 20  # characters of a bad line quoted in the refusal


def lines_of(text: str) -> list[str]:
    """The non-empty lines, stripped, each once, in order."""
    return list(dict.fromkeys(line.strip() for line in (text or "").splitlines() if line.strip()))


def _shown(line: str) -> str:
    return line if len(line) <= SHOWN else line[:SHOWN] + "…"


def add(session: Session, user: User, text: str) -> tuple[list[BaseQuotation], list[str]]:
    """Adds the lines of `text`; returns (added, lines already in the list)."""
    lines = lines_of(text)
    if not lines:
        raise Refusal("QUOTATION_REQUIRED")
    for line in lines:
        if not MIN_CHARS <= len(normalize(line).text) <= MAX_CHARS or len(line) > MAX_CHARS + 100:
            raise Refusal("QUOTATION_LENGTH", text=_shown(line), min=MIN_CHARS, max=MAX_CHARS)
    known = set(session.execute(select(BaseQuotation.text).where(BaseQuotation.text.in_(lines))).scalars())
    added = [BaseQuotation(text=line, created_by_id=user.id) for line in lines if line not in known]
    session.add_all(added)
    session.flush()
    if added:
        record(session, "quotation.add", actor=user, object_type="base_quotation",
               object_id=",".join(str(q.id) for q in added)[:40],
               after={"texts": [q.text for q in added], "ids": [q.id for q in added]})
    return added, [line for line in lines if line in known]


def remove(session: Session, user: User, quotation: BaseQuotation) -> None:
    before = {"text": quotation.text}
    session.delete(quotation)
    session.flush()
    record(session, "quotation.remove", actor=user, object_type="base_quotation", object_id=quotation.id,
           before=before)


def all_quotations(session: Session) -> list[BaseQuotation]:
    return list(session.execute(select(BaseQuotation).order_by(BaseQuotation.id.desc())).scalars())


def from_hot_passage(text: str) -> str:
    """A hot passage's spans ("……" between them), one per line, ready for `add`."""
    return "\n".join(part for part in (text or "").split("……") if part.strip())
