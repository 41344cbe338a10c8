"""File names as stored and as downloaded (pure).

A name comes from the client (an upload's `filename*=UTF-8''…`, a zip's entry, a typed
title) and may hold anything: a line break makes the download's Content-Disposition header
invalid (a 500 for everyone who opens that version), a path separator names a folder, a
bidi override shows `exe.docx` as `xcod.exe`. `clean_filename` keeps the name readable
and drops all that; every stored name goes through it, and so does every download name
(`download_name`), whatever its source.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import PurePosixPath

MAX_CHARS = 255
_SPACES = re.compile(r"\s+")
_SEPARATORS = "/\\"


def clean_filename(name: str | None, fallback: str = "文件") -> str:
    """`name` without control characters (a tab or line break becomes a space), format
    characters (bidi overrides and isolates, zero-width characters) or lone surrogates, with
    path separators turned into "_", spaces collapsed and trimmed, at most MAX_CHARS
    characters (the extension kept); `fallback` when nothing readable is left."""
    kept = []
    for ch in unicodedata.normalize("NFC", name or ""):
        category = unicodedata.category(ch)
        if category == "Cc" or category == "Zl" or category == "Zp":
            kept.append(" ")
        elif category in ("Cf", "Cs"):
            continue
        elif ch in _SEPARATORS:
            kept.append("_")
        else:
            kept.append(ch)
    cleaned = _SPACES.sub(" ", "".join(kept)).strip()
    if not cleaned.strip("."):
        return fallback
    if len(cleaned) > MAX_CHARS:
        suffix = PurePosixPath(cleaned).suffix
        suffix = suffix if len(suffix) <= 16 else ""
        cleaned = cleaned[: MAX_CHARS - len(suffix)].rstrip() + suffix
    return cleaned


def download_name(name: str | None, fallback: str = "文件") -> str:
    """The name a download's Content-Disposition is built from (Werkzeug's send_file writes
    it as `filename*=UTF-8''…` with an ASCII fallback)."""
    return clean_filename(name, fallback)
