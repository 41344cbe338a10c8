"""`flask --app app review identity-scan [--json] [--roster 名单.xlsx|.csv] [--unit 单位名称]...
[--person 姓名]... FILE...`: the identity check of .docx files before anyone reads them, without
a database (like `essays inspect`): a unit on its own file, the bureau on a brigade's package.

Whom it looks for: `--unit` names (own_unit: the unit whose files they are), the units of the
roster (the import format, essays.people.roster: 单位 and 简称, other_unit unless also given
with --unit), their 联系人 and 联系电话 and the 姓名 of their unit accounts (contact), and
`--person` names (author); and in every file, whoever is named: telephone and ID numbers,
e-mail addresses, self-references, signature and date lines (review.identity). Every part of
the file is read (review.identity_places: body, headers, footers, notes, comments, text boxes,
properties). The findings are the competition's check's, printed by the same code
(identity_places.finding_json). A FILE ending in .zip is read as a package for the bureau
(essays.package.format): each essay's 原件 and 评审稿 are checked, named FILE:原件/....

Output: a Chinese report per file by default; with --json an array, one object per file:
{"file", "ok", "error": null | {"code", "message"}, "hits": [finding_json...]}. Exit status 0
when no file has a finding and every file could be read, 1 otherwise."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from essays.package import format as package
from essays.people.roster import ROLE_WORDS, roster_entries
from essays.platform.cli import fail
from essays.platform.errors import Refusal
from review import identity_places


def names_from(roster: Path | None, units: tuple[str, ...], persons: tuple[str, ...]) -> identity_places.Names:
    """Whom to look for (the rules in the module docstring)."""
    others: list[str] = []
    contacts: list[str] = []
    if roster is not None:
        try:
            entries = roster_entries(roster.name, roster.read_bytes())
        except Refusal as e:
            fail(f"{roster}：{e.message}（错误代码 {e.code}）")
        for entry in entries:
            others += [entry.unit, entry.short_name]
            role = entry.role.lower() if entry.role.isascii() else entry.role
            if ROLE_WORDS.get(role) == "unit" and entry.unit:
                contacts += [entry.contact_name, entry.contact_phone, entry.display_name]
    own = [u.strip() for u in units if u.strip()]
    return identity_places.Names(
        tuple(own), tuple(n for n in dict.fromkeys(o.strip() for o in others if o.strip()) if n not in own),
        tuple(p.strip() for p in persons if p.strip()),
        tuple(dict.fromkeys(c.strip() for c in contacts if c and len(c.strip()) >= 2)))


def _scan(path: Path, names: identity_places.Names) -> list[identity_places.Finding]:
    limit = current_app.config.get("UPLOAD_MAX_BYTES", 10 * 1024 * 1024)
    if path.stat().st_size > limit:
        raise Refusal("UPLOAD_TOO_LARGE", limit=f"{limit // (1024 * 1024)} MB")
    return identity_places.findings(path.read_bytes(), names)


def _package_files(path: Path) -> list[tuple[str, bytes]] | None:
    """(name, bytes) of the originals and judges' copies in a package for the bureau
    (essays.package.format), named path:原件/...; None when `path` is not one."""
    if path.suffix.lower() != ".zip":
        return None
    read = package.read(path.read_bytes())  # Refusal (PACKAGE_*) for a damaged or unsafe package
    return [(f"{path}:{f.name}", f.data) for entry in read.entries for f in entry.files
            if f.kind in ("original", "clean")]


def _items(path: Path, names: identity_places.Names):
    """(file, findings or None, refusal or None) of a .docx, or of each essay of a package."""
    try:
        inside = _package_files(path)
    except Refusal as e:
        yield str(path), None, e
        return
    if inside is None:
        try:
            yield str(path), _scan(path, names), None
        except Refusal as e:
            yield str(path), None, e
        return
    for name, data in inside:
        try:
            yield name, identity_places.findings(data, names), None
        except Refusal as e:
            yield name, None, e


def _report(file: str, found: list[identity_places.Finding] | None, refusal: Refusal | None) -> list[str]:
    if found is None:
        return [f"文件：{file}", f"  ✗ 无法读取：{refusal.message}（错误代码 {refusal.code}）"]
    if not found:
        return [f"文件：{file}", "  ✓ 未发现身份信息"]
    return [f"文件：{file}", f"  ! 发现可能暴露身份的信息 {len(found)} 处：",
            *(f"    {identity_places.describe(f)}" for f in found)]


@click.command("identity-scan")
@with_appcontext
@click.option("--json", "as_json", is_flag=True, help="输出 JSON 数组，每个文件一项")
@click.option("--roster", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="单位名单（.xlsx 或 .csv，与导入名单的格式相同）")
@click.option("--unit", "units", multiple=True, help="本单位名称（可重复：全称、简称、别名）")
@click.option("--person", "persons", multiple=True, help="作者等人员姓名（可重复）")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def identity_scan_command(as_json: bool, roster: Path | None, units: tuple[str, ...], persons: tuple[str, ...],
                          files: tuple[Path, ...]) -> None:
    """Checks .docx files for what may reveal a unit or an author, without the database."""
    names = names_from(roster, units, persons)
    results, lines, flagged = [], [], False
    for path in files:
        for file, found, refusal in _items(path, names):
            flagged = flagged or refusal is not None or bool(found)
            results.append({"file": file, "ok": refusal is None,
                            "error": {"code": refusal.code, "message": refusal.message} if refusal else None,
                            "hits": [identity_places.finding_json(f) for f in found or []]})
            lines += [*_report(file, found, refusal), ""]
    if as_json:
        click.echo(json.dumps(results, ensure_ascii=False, indent=2))
    else:
        click.echo("\n".join(lines).rstrip())
    sys.exit(1 if flagged else 0)
