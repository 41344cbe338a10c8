"""essays.package.format: names valid on Windows, the .zip as Explorer needs it, the round trip,
and every refusal of read() (pure: no app, no database)."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import struct
import subprocess
import warnings
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from essays.package import format as package
from essays.package.format import Package, PackageEntry, PackageFile, safe_name
from essays.platform.errors import Refusal
from tests.docx_samples import with_declared_sizes
from tests.test_batch import make_zip

# --- Windows' rules, written out independently of essays.package.format --------------------------

WINDOWS_ILLEGAL = re.compile(r'[<>:"\\|?*\x00-\x1f]')
WINDOWS_RESERVED = re.compile(r"^(CON|PRN|AUX|NUL|COM[0-9¹²³]|LPT[0-9¹²³]|CONIN\$|CONOUT\$)( *\..*)?$", re.I)
# Explorer extracts into a folder named after the zip, e.g. under Downloads; MAX_PATH is 260.
EXTRACTED_UNDER = "C:\\Users\\zhengwengongzuozhanghao\\Downloads\\某某区城管执法大队-报送材料\\"


def windows_component_ok(component: str) -> bool:
    return (bool(component) and component not in (".", "..") and not WINDOWS_ILLEGAL.search(component)
            and not WINDOWS_RESERVED.match(component) and component[-1] not in " .")


@pytest.mark.parametrize(("text", "expected"), [
    ("a/b", "a／b"),
    ("CON", "_CON"),
    ("con.txt", "_con.txt"),
    ("Lpt1", "_Lpt1"),
    ("题目。。。", "题目。。。"),  # 。 is not a dot: Windows keeps it
    ("  . ", "未命名"),
    ("...", "未命名"),
    ("", "未命名"),
    (" .题目. ", "题目"),
    ('<>:"|?*', "＜＞：＂｜？＊"),
    ("a\\b", "a＼b"),
    ("浅谈\x00“放管服”\x07改革", "浅谈“放管服”改革"),
    ("第一行\n第二行\t完", "第一行 第二行 完"),
    ("a    b", "a b"),
    ("\u202egpj.exe", "gpj.exe"),  # a right-to-left override disguises names
    ("城管执法：如何转变作风？", "城管执法：如何转变作风？"),
])
def test_safe_name_table(text, expected):
    assert safe_name(text) == expected
    assert windows_component_ok(safe_name(text))


def test_safe_name_cuts_long_titles_and_never_ends_badly():
    title = "新时代城管执法队伍作风建设的实践与思考" * 5
    assert safe_name(title) == title[:40] and len(safe_name(title, 10)) == 10
    assert safe_name("一二三四五六七八九. 十", 10) == "一二三四五六七八九"  # no trailing ". " after the cut
    assert safe_name("CONSTANT", 3) == "_CO"  # cut to a device name, then made safe
    assert safe_name("  ", 1) == "未"
    with pytest.raises(ValueError):
        safe_name("x", 0)


@given(st.text(max_size=80), st.integers(min_value=1, max_value=60))
def test_safe_name_always_valid(text, limit):
    name = safe_name(text, limit)
    assert 1 <= len(name) <= limit and windows_component_ok(name) and "/" not in name
    assert safe_name(name, limit) == name  # already safe: unchanged
    name.encode("utf-8")


# --- a realistic package -----------------------------------------------------------------

UNITS = ["城管执法第一中队", "市容环卫科", "城管执法第十一中队"]
TITLES = ["浅谈“放管服”改革：城管执法如何转变作风？", "解放思想/推动城管工作改革创新",
          "CON", "执法为民，我们准备好了吗？？？"]


def entry(rank: int, unit: str, title: str, data: bytes) -> PackageEntry:
    stem = f"{rank}-{safe_name(unit, 20)}-{safe_name(title)}"
    return PackageEntry(rank=rank, code=f"A{rank:03d}", unit=unit, authors=["张三", "李四"], title=title,
                        words=2980 - rank, score=95.5 - rank, award="一等奖" if rank == 1 else "二等奖",
                        files=[PackageFile(f"原件/{stem}.docx", "original", data),
                               PackageFile(f"评审稿/A{rank:03d}.docx", "clean", b"clean " + data),
                               PackageFile(f"推荐表/推荐表-{rank}-{safe_name(title)}.docx", "recommendation",
                                           b"form " + data)])


def realistic() -> Package:
    entries = [entry(i + 1, UNITS[i % len(UNITS)], title, f"原件{i}".encode() * 50)
               for i, title in enumerate(TITLES)]
    return Package(competition={"title": "“解放思想大讨论”征文活动", "organiser": "某某区城管执法大队",
                                "exported_at": "2027-06-01T02:30:00+00:00", "char_limit": 3000},
                   entries=entries, extras=[("汇总表.xlsx", b"xlsx"), ("获奖名单.docx", b"docx")])


def central_headers(data: bytes) -> list[tuple[int, bytes]]:
    """(flag bits, raw name) of each central directory entry, read from the bytes."""
    end = data.rindex(b"PK\x05\x06")
    count, _size, at = struct.unpack_from("<HII", data, end + 10)
    found = []
    for _ in range(count):
        assert data[at:at + 4] == b"PK\x01\x02"
        flags = struct.unpack_from("<H", data, at + 8)[0]
        name_length, extra_length, comment_length = struct.unpack_from("<HHH", data, at + 28)
        local = struct.unpack_from("<I", data, at + 42)[0]
        found.append((flags, data[at + 46:at + 46 + name_length]))
        assert struct.unpack_from("<H", data, local + 6)[0] == flags  # the local header agrees
        at += 46 + name_length + extra_length + comment_length
    return found


def test_round_trip_is_exact_and_deterministic():
    p = realistic()
    data = package.write(p)
    assert package.read(data) == p
    assert package.write(p) == data  # fixed order and timestamps
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos = archive.infolist()
        assert infos[0].filename == "manifest.json"
        assert {i.date_time for i in infos} == {(2027, 6, 1, 10, 30, 0)}  # Shanghai time
        assert {i.compress_type for i in infos} == {zipfile.ZIP_DEFLATED}


def test_manifest_has_the_issue_shape():
    p = realistic()
    with zipfile.ZipFile(io.BytesIO(package.write(p))) as archive:
        raw = archive.read("manifest.json")
    assert "“解放思想大讨论”".encode() in raw and b"\n  \"version\": 2" in raw  # not escaped, indent 2
    content = json.loads(raw)
    assert content == package.manifest(p)
    assert (content["format"], content["version"]) == ("zhengwen-package", 2)
    first = content["entries"][0]
    assert set(first) == {"rank", "code", "unit", "authors", "title", "words", "score", "award", "files"}
    original = p.entries[0].files[0]  # as received: both hashes are the file's own
    assert first["files"][0] == {"name": original.name, "kind": "original", "sha256": original.sha256,
                                 "received_sha256": original.sha256}
    assert first["files"][1] == {"name": p.entries[0].files[1].name, "kind": p.entries[0].files[1].kind,
                                 "sha256": p.entries[0].files[1].sha256}
    assert isinstance(first["score"], float) and isinstance(first["rank"], int)


def test_every_name_is_flagged_utf8_and_extracts_on_windows():
    data = package.write(realistic())
    names = []
    for flags, raw in central_headers(data):
        assert flags & 0x800, raw  # bit 11, in the central directory and the local header
        names.append(raw.decode("utf-8"))
    assert any(not n.isascii() for n in names)
    for name in names:
        assert all(windows_component_ok(c) for c in name.split("/")), name
        assert len(EXTRACTED_UNDER + name.replace("/", "\\")) < 260, name
    keys = [n.casefold() for n in names]
    assert len(set(keys)) == len(keys)
    assert "原件/3-城管执法第十一中队-_CON.docx" in names
    assert "原件/1-城管执法第一中队-浅谈“放管服”改革：城管执法如何转变作风？.docx" in names


@pytest.mark.skipif(shutil.which("unzip") is None, reason="Info-ZIP unzip not installed")
def test_info_zip_unzip_extracts_the_names(tmp_path):
    """Another reader than Python's: Info-ZIP unzip gets every name and byte back."""
    path, target = tmp_path / "报送.zip", tmp_path / "out"
    p = realistic()
    path.write_bytes(package.write(p))
    env = {**os.environ, "LC_ALL": "C.UTF-8"}
    result = subprocess.run(["unzip", "-q", str(path), "-d", str(target)], capture_output=True, timeout=30, env=env)
    assert result.returncode == 0, result.stderr
    extracted = {f.relative_to(target).as_posix(): f.read_bytes() for f in target.rglob("*") if f.is_file()}
    assert extracted == {"manifest.json": extracted["manifest.json"], "汇总表.xlsx": b"xlsx", "获奖名单.docx": b"docx",
                         **{f.name: f.data for e in p.entries for f in e.files}}
    assert all(f.stat().st_mode & 0o644 == 0o644 for f in target.rglob("*") if f.is_file())


_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(_text, _text, st.lists(_text, max_size=3), st.binary(max_size=200)),
                min_size=1, max_size=4),
       st.dictionaries(st.sampled_from(["title", "organiser", "exported_at", "note"]), _text))
def test_round_trip_with_odd_names(items, competition):
    competition = {"title": "", "organiser": "", **competition}
    entries = [PackageEntry(rank=i + 1, code=f"A{i}", unit=unit, authors=authors, title=title, words=i,
                            score=i / 3, award=unit[:3],
                            files=[PackageFile(f"原件/{i + 1}-{safe_name(unit, 20)}-{safe_name(title)}.docx",
                                               "original", data)])
               for i, (unit, title, authors, data) in enumerate(items)]
    p = Package(competition=competition, entries=entries, extras=[])
    assert package.read(package.write(p)) == p


# --- write() refuses the builder's mistakes ----------------------------------------------


def one(*files: PackageFile) -> Package:
    return Package(competition={"title": "t", "organiser": "o"},
                   entries=[PackageEntry(1, "A001", "u", [], "t", 1, 1.0, "", list(files))], extras=[])


@pytest.mark.parametrize("names", [
    ["原件/A.docx", "原件/a.docx"],  # one file to Windows
    ["原件/CON.docx"], ["原件/a:b.docx"], ["原件/题目.", "x"], ["原件/题目 "], ["/abs.docx"],
    ["../evil.docx"], ["原件\\a.docx"], ["原件//a.docx"], ["manifest.json"],
    ["原件", "原件/a.docx"],  # a file named like a folder
    ["原件/" + "长" * 200 + ".docx"],
])
def test_write_refuses_bad_names(names):
    files = [PackageFile(names[0], "original", b"1"), *(PackageFile(n, "clean", b"2") for n in names[1:])]
    with pytest.raises(ValueError):
        package.write(one(*files))


def test_write_needs_one_original_and_known_kinds():
    with pytest.raises(ValueError):
        package.write(one(PackageFile("a.docx", "clean", b"1")))
    with pytest.raises(ValueError):
        package.write(one(PackageFile("a.docx", "original", b"1"), PackageFile("b.docx", "original", b"2")))
    with pytest.raises(ValueError):
        package.write(one(PackageFile("a.docx", "original", b"1"), PackageFile("b.docx", "draft", b"2")))


# --- read() refusals ---------------------------------------------------------------------


def rezip(data: bytes, replace: dict | None = None, drop: tuple = (), add: dict | None = None) -> bytes:
    """The package's zip with members replaced, dropped or added (manifest as a dict is dumped)."""
    replace, out = dict(replace or {}), io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename not in drop:
                content = replace.get(info.filename, source.read(info.filename))
                if isinstance(content, dict):
                    content = json.dumps(content, ensure_ascii=False).encode()
                target.writestr(info.filename, content)
        for name, content in (add or {}).items():
            target.writestr(name, content)
    return out.getvalue()


def refusal(data: bytes) -> Refusal:
    with pytest.raises(Refusal) as caught:
        package.read(data)
    assert caught.value.message.rstrip("。").endswith(("文件", "再导入")) and "请" in caught.value.message
    return caught.value


@pytest.mark.parametrize("data", [b"", b"not a zip at all", b"PK\x03\x04broken"])
def test_not_a_zip(data):
    assert refusal(data).code == "PACKAGE_NOT_ZIP"


def test_truncated_zip():
    data = package.write(realistic())
    assert refusal(data[: len(data) // 2]).code == "PACKAGE_NOT_ZIP"


def test_zip_bomb_by_declared_size():
    data = package.write(realistic())
    bomb = with_declared_sizes(data, "汇总表.xlsx", 300 * 1000 * 1000)  # a small zip claiming 300 MB
    assert len(bomb) < 10_000 and refusal(bomb).code == "PACKAGE_TOO_LARGE"


def test_zip_bomb_by_ratio_and_by_lying_about_its_size():
    zeros = rezip(package.write(realistic()), add={"zeros.bin": b"\0" * (5 * 1024 * 1024)})
    assert len(zeros) < 100_000 and refusal(zeros).code == "PACKAGE_TOO_LARGE"  # unlisted, still checked
    p = realistic()
    data = package.write(p)
    name = p.entries[0].files[0].name
    liar = with_declared_sizes(data, name, 10)  # inflates past what it declares
    assert refusal(liar).code == "PACKAGE_TOO_LARGE"


def test_too_many_entries(monkeypatch):
    monkeypatch.setattr(package, "MAX_ENTRIES", 10)
    data = rezip(package.write(realistic()), add={f"x/{i}.txt": b"x" for i in range(10)})
    assert refusal(data).code == "PACKAGE_TOO_LARGE"


def test_too_large_in_bytes(monkeypatch):
    data = package.write(realistic())
    monkeypatch.setattr(package, "MAX_PACKAGE_BYTES", len(data) - 1)
    assert refusal(data).code == "PACKAGE_TOO_LARGE"


def manifest_of(p: Package) -> dict:
    return json.loads(json.dumps(package.manifest(p)))


@pytest.mark.parametrize(("change", "detail"), [
    (lambda m: m.update(format="zip"), "format"),
    (lambda m: m.update(version=3), "第 3 版"),
    (lambda m: m.update(version=0), "本系统读取第 1、2 版"),
    (lambda m: m.update(version=True), "版"),
    (lambda m: m.update(version=1.0), "版"),
    (lambda m: m.pop("entries"), "缺少字段 entries"),
    (lambda m: m.update(entries={}), "entries 应为列表"),
    (lambda m: m["competition"].pop("organiser"), "competition.organiser"),
    (lambda m: m.update(competition="某大队"), "competition 应为对象"),
    (lambda m: m["entries"][0].update(rank="1"), "entries[0].rank 应为整数"),
    (lambda m: m["entries"][0].update(rank=True), "entries[0].rank 应为整数"),
    (lambda m: m["entries"][0].update(rank=0), "entries[0].rank 应为正整数"),
    (lambda m: m["entries"][1].update(score="95"), "entries[1].score 应为数字"),
    (lambda m: m["entries"][0].update(words=-1), "entries[0].words 不能为负数"),
    (lambda m: m["entries"][0].update(authors="张三"), "entries[0].authors 应为列表"),
    (lambda m: m["entries"][0].update(authors=["张三", 1]), "entries[0].authors 应为文字的列表"),
    (lambda m: m["entries"][0].update(title=None), "entries[0].title 应为文字"),
    (lambda m: m["entries"][0]["files"][1].update(kind="draft"), "entries[0].files[1].kind"),
    (lambda m: m["entries"][0]["files"][0].update(sha256="abc"), "SHA-256"),
    (lambda m: m["entries"][0]["files"][0].update(kind="clean"), "原件"),
    (lambda m: m["entries"][0]["files"].append(m["entries"][0]["files"][1]), "不止一次"),
    (lambda m: m["extras"][0].update(name="manifest.json"), "不止一次"),
])
def test_manifest_refusals(change, detail):
    p = realistic()
    content = manifest_of(p)
    change(content)
    e = refusal(rezip(package.write(p), replace={"manifest.json": content}))
    assert e.code == "PACKAGE_MANIFEST" and detail in e.message, e.message


@pytest.mark.parametrize(("raw", "detail"), [
    (b"{not json", "不是有效的 JSON（第 1 行"),
    (b"[]", "manifest.json 应为对象"),
    ("{}".encode("utf-16"), "UTF-8"),
    (b'{"format": "zhengwen-package", "version": 1, "x": NaN}', "NaN"),
])
def test_manifest_not_json(raw, detail):
    e = refusal(rezip(package.write(realistic()), replace={"manifest.json": raw}))
    assert e.code == "PACKAGE_MANIFEST" and detail in e.message, e.message


def test_no_manifest():
    e = refusal(rezip(package.write(realistic()), drop=("manifest.json",)))
    assert e.code == "PACKAGE_MANIFEST" and "缺少 manifest.json" in e.message


def test_tampered_and_missing_files():
    p = realistic()
    data = package.write(p)
    name = p.entries[1].files[0].name
    e = refusal(rezip(data, replace={name: b"changed"}))
    assert e.code == "PACKAGE_FILE" and name in e.message and "校验值" in e.message
    e = refusal(rezip(data, drop=("获奖名单.docx",)))
    assert e.code == "PACKAGE_FILE" and "获奖名单.docx" in e.message and "缺失" in e.message


def test_corrupt_member_is_named():
    p = realistic()
    data = bytearray(package.write(p))
    at = data.index("原件/1-".encode()) + len(p.entries[0].files[0].name.encode()) + 5  # inside its data
    data[at:at + 20] = b"\xff" * 20
    e = refusal(bytes(data))
    assert e.code == "PACKAGE_FILE" and p.entries[0].files[0].name in e.message


@pytest.mark.parametrize("name", ["../evil.docx", "/etc/passwd", "原件\\..\\evil.docx", "C:/evil.docx", "原件/./a"])
def test_unsafe_names_listed_in_the_manifest(name):
    p = realistic()
    content = manifest_of(p)
    content["entries"][0]["files"][0]["name"] = name
    e = refusal(rezip(package.write(p), replace={"manifest.json": content}))
    assert e.code == "PACKAGE_UNSAFE_NAME" and name in e.message


def test_unsafe_names_in_the_zip_even_unlisted():
    data = package.write(realistic())
    assert refusal(rezip(data, add={"../evil.docx": b"x"})).code == "PACKAGE_UNSAFE_NAME"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate it is asked to write
        twice = rezip(data, add={"汇总表.xlsx": b"other"})
    assert refusal(twice).code == "PACKAGE_UNSAFE_NAME"


def test_unlisted_files_are_ignored():
    p = realistic()
    assert package.read(rezip(package.write(p), add={"说明.txt": "请查收".encode(), "__MACOSX/._x": b""})) == p


def test_a_package_zipped_again_on_chinese_windows_is_read():
    """Extracted and zipped again by old Explorer: GBK names, no UTF-8 flag."""
    p = realistic()
    with zipfile.ZipFile(io.BytesIO(package.write(p))) as source:
        again = make_zip({info.filename: source.read(info) for info in source.infolist()}, gbk=True)
    assert not any(flags & 0x800 for flags, _raw in central_headers(again))
    assert package.read(again) == p
