"""The quirks of real Word and WPS files, read as Word shows them: always on the repository's
own small copies (tests/quirk_files.py), and on the real files of ../shared/real-docx too when
they are beside the checkout (in CI; a clone skips those, saying why)."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from essays.intake.counting import count
from essays.intake.docx.reader import read_docx
from tests.quirk_essays import (
    PLAIN_ESSAYS,
    WPS_TIME,
    wps_essay_stale_count,
    wps_essay_zero_count,
    wps_mobile_essay,
)
from tests.quirk_files import (
    BOX_TEXT,
    CALLOUT_TEXTS,
    COMMENT_AUTHOR,
    COMMENTS,
    DELETED,
    FOOTNOTES,
    GLOSSARY_ONLY,
    HEADER_TEXT,
    PLACEHOLDER_PROMPTS,
    QUIRK_FILES,
    REVISION_AUTHORS,
    callout_boxes_uncounted,
    footnoted_report,
    minutes_with_header,
    notice_official_format,
    placeholder_template,
    thesis_with_fields,
    tracked_thesis,
    wps_commented_thesis,
    wps_form_check_boxes,
)
from tests.shared_folder import REAL_DOCX, needs_real_docx

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
FIELD_CODES = ("PAGEREF", "HYPERLINK \\l", "TOC \\o", "MERGEFORMAT", "STYLEREF", " SEQ ")
REAL_FILES = sorted(REAL_DOCX.glob("*.docx"))


def texts(paragraphs) -> list[str]:
    return [paragraph.text for paragraph in paragraphs]


def everything(content) -> str:
    return "\n".join([content.text, *texts(content.textboxes), *texts(content.notes), *content.headers,
                      *content.footers, *content.comments])


def _plain(element: etree._Element) -> str:
    return "".join(node.text or "" for node in element.iter(f"{W}t"))


def reads_like_word(data: bytes) -> None:
    """What holds for every real file: it is not refused, no field code shows anywhere, each text
    box is read once, deleted text and the glossary are not text, the counts are consistent."""
    content = read_docx(data)
    shown = everything(content)
    for code in FIELD_CODES:
        assert code not in shown
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        root = etree.fromstring(archive.read("word/document.xml"))
        names = archive.namelist()
        glossary = etree.fromstring(archive.read("word/glossary/document.xml")) \
            if "word/glossary/document.xml" in names else None
    # Each text box once: its text in `textboxes` as often as there are w:txbxContent outside
    # mc:Fallback (the VML copies) in the body, and nowhere in the body text.
    boxes = [box for box in root.iter(f"{W}txbxContent")
             if not any(etree.QName(a).localname in ("Fallback", "txbxContent") for a in box.iterancestors())]
    expected = sum(len(re.sub(r"\s", "", _plain(box))) for box in boxes)
    assert sum(len(re.sub(r"\s", "", text)) for text in texts(content.textboxes)) == expected
    # Deleted text is not body text (unless the same words are also kept elsewhere).
    kept = _plain(root)
    for deleted in root.iter(f"{W}delText"):
        if deleted.text and len(deleted.text.strip()) >= 4 and deleted.text not in kept:
            assert deleted.text not in content.text
    # The glossary (building blocks) is not the document.
    for node in glossary.iter(f"{W}t") if glossary is not None else ():
        if node.text and len(node.text) >= 8 and node.text not in kept:
            assert node.text not in shown
    counts = count(content.counted())
    assert counts.words_min <= counts.words <= counts.words_max
    assert counts.chars_with_spaces >= counts.chars_no_spaces >= counts.east_asian


@pytest.mark.parametrize("name", list(QUIRK_FILES))
def test_quirk_file(name):
    reads_like_word(QUIRK_FILES[name]())


@needs_real_docx
def test_the_real_files_are_there():
    assert len(REAL_FILES) == 30


@needs_real_docx
@pytest.mark.parametrize("path", REAL_FILES or [None], ids=lambda path: path.stem if path else "absent")
def test_real_file(path: Path):
    reads_like_word(path.read_bytes())


# --- plain essays: all their text is body text, counted exactly --------------------------------

@pytest.mark.parametrize("name", list(PLAIN_ESSAYS))
def test_plain_essay_counts(name):
    paragraphs, (ideographs, non_space, words) = PLAIN_ESSAYS[name]
    content = read_docx(QUIRK_FILES[name]())
    assert texts(content.body) == paragraphs
    counts = count(content.counted())
    assert len(re.findall("[\u4e00-\u9fff]", content.text)) == ideographs
    assert (counts.chars_no_spaces, counts.words, counts.words_min, counts.words_max) == (non_space, *[words] * 3)


def test_the_essays_are_zipped_as_wps_zips_them():
    with zipfile.ZipFile(io.BytesIO(wps_essay_zero_count())) as archive:
        desktop = archive.infolist()
    assert {"_rels/", "customXml/", "docProps/", "word/"} <= {info.filename for info in desktop}
    assert {info.date_time for info in desktop} == {WPS_TIME}
    with zipfile.ZipFile(io.BytesIO(wps_mobile_essay())) as archive:
        mobile = archive.namelist()
    assert mobile.index("[Content_Types].xml") == 10 and not any(name.endswith("/") for name in mobile)


# The crude tallies of SOURCES.md (ideographs and non-space characters inside w:t) hold
# exactly for these, and 字数 follows from them.
@needs_real_docx
@pytest.mark.parametrize(("name", "ideographs", "non_space", "words"), [
    ("word_essay_01", 1349, 1527, 1501),
    ("wps_essay_04", 1314, 1483, 1482),
    ("word_speech_01", 2045, 2381, 2248),
    ("wpsmobile_essay_03", 1005, 1097, 1096),
])
def test_real_essay_counts(name, ideographs, non_space, words):
    content = read_docx((REAL_DOCX / f"{name}.docx").read_bytes())
    counts = count(content.counted())
    assert len(re.findall("[\u4e00-\u9fff]", content.text)) == ideographs
    assert counts.chars_no_spaces == non_space
    assert counts.words == words


# --- one quirk each ----------------------------------------------------------------------------

def test_content_controls_showing_their_placeholders_leave_no_text():
    content = read_docx(placeholder_template())
    assert content.text.strip() == "" and count(content.counted()).words == 0
    assert (content.title, content.title_index) == ("", None)
    assert content.footers == ["2"]
    assert not any(prompt in everything(content) for prompt in [*PLACEHOLDER_PROMPTS, GLOSSARY_ONLY])


def test_vml_text_boxes_are_read_apart_and_wps_leaves_them_uncounted():
    content = read_docx(callout_boxes_uncounted())
    assert texts(content.textboxes) == CALLOUT_TEXTS
    assert not any(text in content.text for text in CALLOUT_TEXTS)
    assert not content.include_subdocs
    assert count(content.counted()).words == count(content.body).words == 29


def test_footnotes_are_counted_by_default():
    content = read_docx(footnoted_report())
    assert content.include_subdocs and len(content.notes) == FOOTNOTES
    assert [text.strip() for text in texts(content.notes)][-1] == f"参见原书第{FOOTNOTES}章。"
    assert "参见" not in content.text
    assert count(content.counted()).words == count(content.body).words + count(content.notes).words


def test_comments_are_apart_and_their_author_is_named():
    content = read_docx(wps_commented_thesis())
    assert len(content.comments) == COMMENTS and content.comments[0] == "批注1：这一部分可以多写点"
    assert content.properties["comment_authors"] == COMMENT_AUTHOR
    assert "批注" not in content.text


def test_tracked_changes_show_the_final_text_and_every_revision_author():
    content = read_docx(tracked_thesis())
    assert texts(content.body) == ["2022年6月", "本文结合本中队的实践展开论述。", "研究背景（适当扩充）"]
    assert DELETED not in content.text and "XX" not in content.text
    assert content.properties["revision_authors"] == "、".join(REVISION_AUTHORS)  # the second only restyled
    assert read_docx(notice_official_format()).properties["revision_authors"] == "123"  # an inserted ¶ mark


def test_stored_word_counts_are_exposed_never_trusted():
    zero, stale = read_docx(wps_essay_zero_count()), read_docx(wps_essay_stale_count())
    assert (zero.title, zero.title_index) == ("城管队员如何践行为民服务宗旨", 0)
    assert (zero.stored_words, count(zero.counted()).words) == (0, PLAIN_ESSAYS["wps_essay_zero_count"][1][2])
    assert (stale.stored_words, count(stale.counted()).words) == (83, PLAIN_ESSAYS["wps_essay_stale_count"][1][2])


def test_wingdings_check_boxes_are_read_as_word_stores_them():
    content = read_docx(wps_form_check_boxes())
    assert texts(content.body)[2] == "\uf0a3同意参加答辩      \uf0a3不同意参加答辩"
    assert "£" not in content.text
    assert count(content.body[2:3]).words == 1 + 6 + 1 + 7  # a box is a (Latin) word of its own


def test_headers_and_footers_are_apart_from_the_body():
    content = read_docx(minutes_with_header())
    assert content.headers == [HEADER_TEXT] and content.footers == ["2 / 2"]
    assert HEADER_TEXT not in content.text


def test_field_codes_never_show_and_their_results_do():
    content = read_docx(thesis_with_fields())
    assert texts(content.body)[:4] == ["目录", "摘要\tI", "第一章 绪论\t1", "第二章 城市管理执法的现状\t5"]
    assert "如图 1所示，详见第二章。" in texts(content.body) and "完成于2024年5月1日" in texts(content.body)
    assert texts(content.textboxes) == [BOX_TEXT]  # the DrawingML box, not its VML copy too
    assert content.headers == ["第一章 绪论", "某某大学硕士学位论文"] and content.footers == ["I"]
    shown = everything(content)
    for code in (*FIELD_CODES, "正文前标题", "PKU", "_Toc", "_Ref", "ARABIC", "ROMAN", "yyyy", "E=mc2"):
        assert code not in shown, code


@needs_real_docx
def test_real_files_features():
    read = {path.stem: read_docx(path.read_bytes()) for path in REAL_FILES}
    # 18 content controls showing their placeholders and nothing else in the body.
    assert read["macword_template_sdt_01"].text.strip() == ""
    # Six VML text boxes in the body; WPS turned off counting them.
    notice = read["word_notice_textboxes_01"]
    assert len(notice.textboxes) == 6 and not notice.include_subdocs
    assert read["word_report_footnotes_01"].include_subdocs and len(read["word_report_footnotes_01"].notes) == 14
    assert len(read["wps_thesis_comments_01"].comments) == 13
    assert "comment_authors" in read["wps_thesis_comments_01"].properties
    assert read["word_thesis_tracked_01"].properties["revision_authors"]
    assert read["wps_essay_04"].title == "当代青年如何践行五四精神"
    assert read["wps_essay_04"].stored_words == 0  # exposed, never trusted
    assert "\uf0a3" in read["wps_form_table_01"].text  # the Wingdings 2 check boxes
    assert read["word_minutes_01"].headers == ["深圳市康萌德智能科技有限公司"]
