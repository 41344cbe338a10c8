"""Titles: stored bare, shown in book-title marks once, chosen at upload."""

from __future__ import annotations

import pytest

from essays.intake.titles import TitleChoice, book_title, choose_title, clean_title, same_title


@pytest.mark.parametrize(("raw", "stored"), [
    ("论城管", "论城管"),
    ("《论城管》", "论城管"),
    ("  《 论城管 》 ", "论城管"),
    ("《《论城管》》", "论城管"),
    ("《平凡的世界》读后感", "《平凡的世界》读后感"),
    ("《论语》与《孟子》", "《论语》与《孟子》"),
    ("《读〈论语〉有感》", "读〈论语〉有感"),
    ("《未闭合", "《未闭合"),
    ("解放思想\n 推动 改革", "解放思想 推动 改革"),
    ("", ""),
])
def test_stored_titles_have_no_enclosing_pair(raw, stored):
    assert clean_title(raw) == stored


@pytest.mark.parametrize(("title", "shown"), [
    ("论城管", "《论城管》"),
    ("《论城管》", "《论城管》"),
    ("《平凡的世界》读后感", "《〈平凡的世界〉读后感》"),
    ("《论语》与《孟子》", "《〈论语〉与〈孟子〉》"),
    ("", ""),
])
def test_shown_titles_get_one_pair_with_inner_marks_as_angle_brackets(title, shown):
    assert book_title(title) == shown


def test_the_same_title_to_a_reader():
    assert same_title("《论城管》", "论 城管")
    assert same_title("解放思想，推动改革", "解放思想,推动改革")  # full and half width
    assert not same_title("当代青年如何践行五四精神", "五四运动的精神内涵和历史意义")


def test_the_typed_title_wins_when_it_is_the_documents_or_there_is_none():
    assert choose_title("论城管", "《论城管》", "a.docx", can_ask=True) == TitleChoice("论城管")
    assert choose_title("论城管", "", "a.docx", can_ask=True) == TitleChoice("论城管")


def test_an_empty_field_takes_the_detected_title_then_the_file_name():
    detected = "当代青年如何践行五四精神"
    assert choose_title("", detected, "x.docx", can_ask=True) == TitleChoice(detected)
    assert choose_title(" ", "", "《我的文章》.docx", can_ask=False) == TitleChoice("我的文章")


def test_a_unit_is_asked_for_a_title_the_file_does_not_have():
    assert choose_title("", "", "word_essay_01.docx", can_ask=True) == TitleChoice(
        "word_essay_01", {"typed": "", "detected": "", "asked": True, "missing": True})


def test_a_difference_is_a_question_for_a_unit_and_a_flag_for_an_import():
    asked = choose_title("五四运动的精神内涵和历史意义", "当代青年如何践行五四精神", "a.docx", can_ask=True)
    assert asked == TitleChoice("五四运动的精神内涵和历史意义", {
        "typed": "五四运动的精神内涵和历史意义", "detected": "当代青年如何践行五四精神", "asked": True})
    imported = choose_title("文件名的题目", "文中的题目", "a.docx", can_ask=False)
    assert imported.title == "文件名的题目" and imported.question["asked"] is False
