"""Reading the text of an essay file for copy detection: a .docx or a plain .txt.

.txt files from office PCs are often GBK (GB18030) rather than UTF-8: UTF-8 (with or
without a byte-order mark) is tried first, then GB18030. A file that decodes to control
characters is not text.
"""

from __future__ import annotations

from pathlib import Path

from essays.errors import Refusal
from essays.reader import read_docx

TEXT_SUFFIXES = (".docx", ".txt")


def decode_text(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text or sum(1 for c in text if ord(c) < 32 and c not in "\r\n\t\f") > len(text) // 100:
            break
        return text.replace("\r\n", "\n").replace("\r", "\n")
    raise Refusal("UPLOAD_NOT_DOCX")


def read_text(name: str, data: bytes) -> str:
    """The text of a .docx (its body) or .txt file; raises Refusal when it cannot be read."""
    if data[:4] == b"PK\x03\x04":
        return read_docx(data).text
    if Path(name).suffix.lower() == ".txt":
        return decode_text(data)
    raise Refusal("UPLOAD_NOT_DOCX")


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
