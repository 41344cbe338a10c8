"""Essay titles: stored bare, shown in book-title marks, chosen at upload (pure functions).

Rules:
- A title is stored without an enclosing 《…》 pair (and without surrounding spaces), so
  that the marks are added in exactly one place when it is shown (`book_title`). A pair
  encloses the title only when the first 《 closes at the very end: 《论城管》 is stored
  as 论城管, but 《平凡的世界》读后感 and 《论语》与《孟子》 keep their marks.
- Shown in marks, a title that contains marks of its own has them turned into 〈〉
  (GB/T 15834: marks inside marks), so 《平凡的世界》读后感 shows as 《〈平凡的世界〉读后感》.
- At upload (`choose_title`) the title the uploader typed wins when it is the document's
  own title or the document has none; an empty field takes the detected title, then the
  file name. When the typed and the detected titles differ, a unit is asked which is right
  (the question is kept with the submission and the typed title stands until it answers);
  an import, where nobody can be asked, uses the name it was given (the file name's title,
  the package's) and the question is a flag for the admin.
- A unit's file with no title detected and none typed is stored under its file name for
  now, and the unit is asked to type the title (`missing`): a file name such as
  word_essay_01 must not reach the 公示.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import PurePath

MAX_LENGTH = 200
_SPACES = re.compile(r"\s+")


def _enclosed(text: str) -> bool:
    """Whether the 《 at the start closes exactly at the end."""
    if not (text.startswith("《") and text.endswith("》")):
        return False
    depth = 0
    for at, ch in enumerate(text):
        depth += (ch == "《") - (ch == "》")
        if depth == 0:
            return at == len(text) - 1
    return False


def clean_title(text: str) -> str:
    """The title as stored: spaces collapsed, no enclosing 《…》 pair (repeatedly: 《《X》》)."""
    title = _SPACES.sub(" ", text or "").strip()
    while _enclosed(title):
        title = title[1:-1].strip()
    return title[:MAX_LENGTH]


def inner_title(title: str) -> str:
    """The title ready to sit inside 《》: its own marks turned into 〈〉."""
    return clean_title(title).replace("《", "〈").replace("》", "〉")


def book_title(title: str) -> str:
    """The title as shown: 《…》 around it, its own marks as 〈〉."""
    inner = inner_title(title)
    return f"《{inner}》" if inner else ""


def same_title(a: str, b: str) -> bool:
    """Whether two titles are the same to a reader: width, spaces and enclosing marks aside."""
    def key(text: str) -> str:
        return _SPACES.sub("", unicodedata.normalize("NFKC", clean_title(text)))

    return key(a) == key(b)


@dataclass(frozen=True)
class TitleChoice:
    title: str
    question: dict | None = None  # {"typed", "detected", "asked"[, "missing"]}: which is right is open


def choose_title(typed: str, detected: str, filename: str, *, can_ask: bool) -> TitleChoice:
    """The title an upload is stored under (see the module docstring). `can_ask`: the
    uploader is a unit that can be asked; False for imports."""
    typed, detected = clean_title(typed), clean_title(detected)
    if not typed and not detected and can_ask:
        return TitleChoice(clean_title(PurePath(filename).stem),
                           {"typed": "", "detected": "", "asked": True, "missing": True})
    if not typed:
        return TitleChoice(detected or clean_title(PurePath(filename).stem))
    if not detected or same_title(typed, detected):
        return TitleChoice(typed)
    return TitleChoice(typed, {"typed": typed, "detected": detected, "asked": can_ask})
