"""Essays as files leaving the system: what every download of an essay is.

- the copy given out is the defused one (essays.intake.docx.outside.defuse): a file whose
  template, pictures or fields reach outside, or that embeds objects, loses them; any other
  file is given out byte for byte. The bytes received stay stored as evidence, with their
  SHA-256 (SubmissionVersion.file_bytes, sha256);
- `Cache-Control: no-store`: an essay is not left in a browser's or a proxy's cache
  (send_file's own default, no-cache, still lets the browser keep it on disk).
"""

from __future__ import annotations

import io

from flask import Response, send_file

from essays.intake.docx.outside import defuse

DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


def essay_file(data: bytes, download_name: str) -> Response:
    """An essay's file as a download: the defused copy, never cached."""
    return no_store(send_file(io.BytesIO(defuse(data)), as_attachment=True, mimetype=DOCX_MIME,
                              download_name=download_name))
