"""At 1280 px (an office monitor) no page is wider than the window; a table wider than its
card (the judges' grid in a narrow window) scrolls inside it, with a visible scrollbar, a
hint, and its first column in place.
Pages are filled by the ranked demo (five judges, every column the ranking page has)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from essays.demo.build import build_demo
from essays.models import Competition
from tests.factories import PASSWORD

pytest_plugins = ["tests.browser_support"]
pytestmark = pytest.mark.browser

ADMIN_PAGES = ["/admin/", "/admin/competitions/{c}", "/admin/competitions/{c}/submissions",
               "/admin/competitions/{c}/similarity", "/admin/competitions/{c}/review",
               "/admin/competitions/{c}/review/identity", "/admin/competitions/{c}/ranking",
               "/admin/competitions/{c}/ranking/print", "/admin/competitions/{c}/forward", "/admin/audit",
               "/admin/units", "/admin/users", "/admin/jobs", "/admin/references"]


def _no_wider_than_the_window(page, url):
    page.goto(url)
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"{url} is {width[0]} px wide in a {width[1]} px window"


def test_no_page_is_wider_than_the_window_and_wide_tables_scroll_inside(seeded, browse, live_server, clock, tmp_path):
    with seeded() as make:
        build_demo(make.session, password=PASSWORD, phase="ranked", now=clock(), files_dir=tmp_path)
    with live_server.session() as session:
        competition = session.execute(select(Competition.id)).scalar_one()
    page = browse.login("admin")
    for url in ADMIN_PAGES:
        _no_wider_than_the_window(page, url.format(c=competition))
    page.goto(f"/admin/competitions/{competition}/ranking")  # every method beside each other: wide
    table = page.locator("#ranking")
    wrap = table.locator("xpath=..")
    expect(wrap).to_have_class("table-wrap scrolls")
    assert wrap.evaluate("w => w.scrollWidth > w.clientWidth && getComputedStyle(w).overflowX === 'auto'")
    expect(wrap.locator("xpath=following-sibling::p[1]")).to_have_text("表格较宽，可左右滚动查看各列（第一列固定）。")
    first = table.locator("tbody tr").first.locator("td").first
    assert first.evaluate("e => getComputedStyle(e).position") == "sticky"
    wrap.evaluate("w => { window.scrollTo(0, w.getBoundingClientRect().top + window.scrollY - 100);"
                  " w.scrollLeft = w.scrollWidth; }")  # scrolled to the last column...
    assert abs(first.bounding_box()["x"] - wrap.bounding_box()["x"]) <= 1  # ...the place stays in view
    expect(table.locator("tbody tr").first.locator("td").last).to_be_in_viewport()
    browse.shot("layout-ranking-scrolled")
    browse.logout()
    browse.login("unit1")
    _no_wider_than_the_window(page, "/unit/")
    page.get_by_role("link", name="查看回执").first.click()
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1]
    browse.shot("layout-receipt")
