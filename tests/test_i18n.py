"""The English locale: switching with /lang/<code>, translated pages and messages, and the
catalog itself (complete, not fuzzy, placeholders kept, compiled .mo up to date).

Refresh the catalog with `make translations`, translate what is new in
translations/en/LC_MESSAGES/messages.po, then compile again (the .mo is committed).
"""

from __future__ import annotations

import gettext
import re
from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"
PO = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po"
MO = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.mo"
POT = TRANSLATIONS / "messages.pot"

CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")
PLACEHOLDER = re.compile(r"%\(([^)]+)\)[a-zA-Z]")
TITLE = re.compile(r"<title>(.*?)</title>", re.S)


def title_of(page: str) -> str:
    match = TITLE.search(page)
    assert match, "page has no <title>"
    return match.group(1)


def english(client) -> None:
    response = client.get("/lang/en?next=/login")
    assert response.status_code == 302


def read_catalog(path: Path = PO):
    with path.open("rb") as f:
        return read_po(f, locale="en")


def messages(catalog):
    return [m for m in catalog if m.id]


# --- pages -------------------------------------------------------------------------------


def test_chinese_by_default_even_for_an_english_browser(client):
    response = client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "登录" in page and "Log in" not in page
    assert '<html lang="zh-CN">' in page


def test_lang_en_switches_the_login_page_to_english(client):
    english(client)
    page = client.get("/login", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "Log in" in page and "Zhengwen essay review" in page
    assert "Political Work Section" in page
    assert not CJK.search(title_of(page)), title_of(page)
    assert "登录" not in page


def test_lang_zh_switches_back(client):
    english(client)
    client.get("/lang/zh")
    page = client.get("/login").get_data(as_text=True)
    assert "登录" in title_of(page) and "Log in" not in page


def test_admin_sees_the_english_navigation(client, auth, make):
    make.user("admin", username="x")
    assert auth.login("x").status_code == 302
    english(client)
    response = client.get("/admin/")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    nav = re.search(r'<nav class="nav"[^>]*>(.*?)</nav>', page, re.S)
    assert nav, "no main navigation on /admin/"
    labels = [label.strip() for label in re.findall(r">([^<>]+)</a>", nav.group(1))]
    assert labels == ["Essay competition", "Unit", "Account", "Notice", "Audit log"]
    assert 'aria-label="Main navigation"' in page
    assert "Change password" in page and "Log out" in page
    assert "New essay competition" in page
    assert not CJK.search(nav.group(0))
    assert not CJK.search(title_of(page)), title_of(page)


def test_wrong_password_message_in_english_keeps_the_code(client, auth, make):
    make.user("admin", username="x")
    english(client)
    response = auth.login("x", "not-the-password-1")
    page = response.get_data(as_text=True)
    assert response.status_code == 401
    flash = re.search(r'<div class="flash flash-error"[^>]*>(.*?)</div>', page, re.S)
    assert flash, "no error message shown"
    text = flash.group(1)
    assert "LOGIN_FAILED" in text
    assert "Incorrect username or password, or the account is disabled" in text and "error code" in text
    assert not CJK.search(text), text


def test_form_field_labels_follow_the_locale(client):
    english(client)
    page = client.get("/login").get_data(as_text=True)
    assert ">Account</label>" in page and ">Password</label>" in page


# --- the catalog -------------------------------------------------------------------------


def test_every_message_is_translated_and_not_fuzzy():
    catalog = read_catalog()
    entries = messages(catalog)
    assert entries, "empty catalog"
    assert not catalog.fuzzy, "the catalog header is marked fuzzy"
    problems = []
    for m in entries:
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        if not all(s and s.strip() for s in strings):
            problems.append(f"untranslated: {m.id!r}")
        if m.fuzzy:
            problems.append(f"fuzzy: {m.id!r}")
    assert not problems, "\n".join(problems)


def test_placeholders_are_kept():
    problems = []
    for m in messages(read_catalog()):
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        wanted = set().union(*(PLACEHOLDER.findall(s) for s in ids))
        for s in strings:
            found = set(PLACEHOLDER.findall(s or ""))
            if found != wanted:
                problems.append(f"{m.id!r}: {sorted(wanted)} vs {sorted(found)} in {s!r}")
            elif wanted:
                s % dict.fromkeys(wanted, "x")  # raises on a malformed % sequence
    assert not problems, "\n".join(problems)


def test_catalog_covers_the_template():
    """Every message in messages.pot has an entry in the English catalog (run `pybabel update`)."""
    with POT.open("rb") as f:
        template = read_po(f)
    missing = {m.id for m in messages(template)} - {m.id for m in messages(read_catalog())}
    assert not missing, f"not in messages.po: {sorted(missing)}"


def _mo_catalog(data: bytes) -> dict:
    translations = gettext.GNUTranslations(BytesIO(data))
    return {key: value for key, value in translations._catalog.items() if key != ""}


def test_compiled_mo_is_up_to_date():
    assert MO.exists(), "run: pybabel compile -d translations"
    fresh = BytesIO()
    write_mo(fresh, read_catalog())
    committed = _mo_catalog(MO.read_bytes())
    expected = _mo_catalog(fresh.getvalue())
    stale = {k for k in expected.keys() | committed.keys() if expected.get(k) != committed.get(k)}
    assert not stale, f"messages.mo differs from messages.po (run pybabel compile): {sorted(stale)[:10]}"


@pytest.mark.parametrize("msgid, msgstr", [("征文评审", "Zhengwen essay review"), ("登录", "Log in")])
def test_committed_mo_is_what_the_app_loads(msgid, msgstr):
    with MO.open("rb") as f:
        assert gettext.GNUTranslations(f).gettext(msgid) == msgstr
