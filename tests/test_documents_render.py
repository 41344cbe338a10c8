"""The documents made after the results, rendered for a look: LibreOffice from Debian's
packages converts each kind once to PDF (`soffice --headless --convert-to pdf`), poppler's
`pdftoppm` makes page images for people to look at, kept in test-artifacts/documents/, and
the test checks the page count and that the text is there (`pdfinfo`, `pdftotext`).

`make test` installs libreoffice-writer-nogui and poppler-utils as root, as it does
Chromium; like the browser tests, these tests fail (rather than skip) without them.

LibreOffice 7.4 (Debian 12) lays a GB/T 9704 grid (28 三号 characters a line on a 156 mm
line, each cell a little narrower than the type, as Word compresses it) by giving each
character two cells, so the 通报's and the booklet's images show the characters spread
out; Word and WPS set 28 a line. The certificates have no grid. The checks below do not
depend on that spacing: the booklet's essays are short enough to keep to a page either way,
and the 通报 is checked for its first and last pages.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from review import certificates, documents
from tests.test_review_documents import SHOWN_ONCE
from tests.test_review_documents import published as published  # (the fixture)
from tests.test_review_flow import AFTER
from tests.test_review_flow import world as world  # (the fixture)
from tests.test_review_ranking_page import scored as scored  # (the fixture)

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "documents"
TOOLS = ("soffice", "pdftoppm", "pdfinfo", "pdftotext")


def _tools() -> dict[str, str]:
    found = {tool: shutil.which(tool) for tool in TOOLS}
    missing = [tool for tool, path in found.items() if path is None]
    if missing:
        pytest.fail(f"{', '.join(missing)} not found: the rendering test needs LibreOffice and poppler from "
                    "Debian's packages (apt-get install libreoffice-writer-nogui poppler-utils; `make test` "
                    "installs them as root).", pytrace=False)
    return found


def _run(*args: str, timeout: int = 120) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True, timeout=timeout).stdout


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_the_documents_render_with_their_pages_and_text(session, published, tmp_path):
    tools = _tools()
    competition, units, subs, *_ = published
    made = {
        "certificates": documents.make_certificates(session, competition, AFTER, "author", certificates.paper_from()),
        "booklet": documents.make_booklet(session, competition, AFTER, ["二等奖", "三等奖"]),
        "notice": documents.make_notice(session, competition, AFTER),
    }
    for kind, document in made.items():
        (tmp_path / f"{kind}.docx").write_bytes(document.data)
    # One LibreOffice run converts the three (a profile of its own: no clash with another soffice).
    _run(tools["soffice"], f"-env:UserInstallation=file://{tmp_path / 'profile'}", "--headless",
         "--convert-to", "pdf", "--outdir", str(tmp_path), *(str(tmp_path / f"{k}.docx") for k in made))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pdf = {kind: tmp_path / f"{kind}.pdf" for kind in made}

    def pages(kind: str) -> int:
        return int(re.search(r"^Pages:\s+(\d+)", _run(tools["pdfinfo"], str(pdf[kind])), re.M).group(1))

    def page_text(kind: str, page: int) -> str:
        return _flat(_run(tools["pdftotext"], "-f", str(page), "-l", str(page), str(pdf[kind]), "-"))

    for kind in made:
        for old in ARTIFACTS.glob(f"{kind}-*.png"):
            old.unlink()
        _run(tools["pdftoppm"], "-r", "60", "-png", str(pdf[kind]), str(ARTIFACTS / kind))
        shutil.copy(tmp_path / f"{kind}.docx", ARTIFACTS / f"{kind}.docx")

    # Certificates: one page each (张三 and 李四 for 甲, 王五 for 丙, 乙's 优秀组织奖).
    assert pages("certificates") == made["certificates"].count == 4
    for page, who in enumerate(("张三同志", "李四同志", "王五同志", "城管执法乙中队："), start=1):
        text = page_text("certificates", page)
        assert who in text and "特发此证。" in text and "城管执法大队" in text and "草稿" in text
    assert _flat(f"你撰写的{SHOWN_ONCE}在解放思想大讨论征文中荣获二等奖。") in page_text("certificates", 1)

    # Booklet: the cover, the contents, then each essay on a page of its own.
    assert pages("booklet") == 2 + made["booklet"].count == 4
    assert "优秀征文汇编" in page_text("booklet", 1) and "目录" in page_text("booklet", 2)
    assert _flat("《平凡的世界》读后感") in page_text("booklet", 2)
    third, fourth = page_text("booklet", 3), page_text("booklet", 4)
    assert third.startswith(_flat("草稿《平凡的世界》读后感城管执法甲中队张三、李四（二等奖）"))
    assert "张明" in third and "××" not in third  # the original text, not the judges' redacted copy
    assert fourth.startswith(_flat(f"草稿{subs['丙'].title}城管执法丙中队王五（三等奖）"))

    # 通报: the title on the first page, the attachment (the 获奖名单 table) on the last.
    count = pages("notice")
    assert count >= 2
    first, last = page_text("notice", 1), page_text("notice", count)
    assert _flat("关于解放思想大讨论征文评选结果的通报") in first and "各中队、各科室：" in first
    assert last.startswith(_flat("草稿附件解放思想大讨论征文获奖名单"))
    assert all(cell in last for cell in ("序号", "奖项", "题目", "单位", "作者", "城管执法乙中队", "优秀组织奖"))
    assert len(list(ARTIFACTS.glob("*.png"))) >= 4 + 4 + count
