"""The files `essays similar` compares: .docx and .txt files, alone or in folders.

Each file is read as a reference upload reads it (essays.similarity.reference_files): a .docx
like an upload (its body text), a .txt as UTF-16, UTF-8 or GBK, so the command line and the
app agree on what a file says.
"""

from __future__ import annotations

from pathlib import Path

from essays.similarity.reference_files import reference_text

TEXT_SUFFIXES = (".docx", ".txt")


def read_text(name: str, data: bytes) -> str:
    """The text of a .docx (its body) or .txt file; raises Refusal when it cannot be read."""
    return reference_text(name, data)


def collect(paths: list[Path]) -> list[Path]:
    """The .docx and .txt files among `paths`, folders walked in name order."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in TEXT_SUFFIXES
                                and not p.name.startswith(("~$", "."))))
        else:
            found.append(path)
    return found
