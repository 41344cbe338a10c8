"""The CLI commands, the README's promises and the error-code list."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from essays.models import User
from essays.platform import errors
from essays.platform.audit import verify_chain
from essays.platform.config import load_secret_key
from review import errors as review_errors

CODES = {**errors.CODES, **review_errors.CODES}  # every stable code: essays' and the review's

ROOT = Path(__file__).resolve().parent.parent


def test_readme_lists_every_error_code():
    """Code, status and message, exactly as essays/platform/errors.py and review/errors.py have them."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    listed = {code: (int(status), message) for code, status, message in
              re.findall(r"^\| `([A-Z_]+)` \| (\d+) \| (.*) \|$", readme, flags=re.M)}
    assert listed == {code: (status, str(message)) for code, (status, message) in CODES.items()}


def test_no_code_is_in_both_tables():
    assert not set(errors.CODES) & set(review_errors.CODES)


def test_readme_gives_the_two_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make run" in readme and "make test" in readme
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci and "TEST_DATABASE_URL" in ci


def test_every_code_has_a_chinese_message():
    for code, (status, message) in CODES.items():
        assert 400 <= status < 600, code
        assert re.search(r"[\u4e00-\u9fff]", str(message)), code


def test_secret_key_is_created_once(tmp_path):
    first = load_secret_key(str(tmp_path / "instance"))
    second = load_secret_key(str(tmp_path / "instance"))
    assert first == second and len(first) == 64
    assert oct((tmp_path / "instance" / "secret_key").stat().st_mode)[-3:] == "600"


def test_concurrent_workers_read_one_secret_key(tmp_path):
    """Eight processes start at once; all end up with the same key."""
    code = ("import sys; from essays.platform.config import load_secret_key; "
            "print(load_secret_key(sys.argv[1]))")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path / "inst")], cwd=ROOT,
                              stdout=subprocess.PIPE, text=True) for _ in range(8)]
    keys = {p.communicate()[0].strip() for p in procs}
    assert len(keys) == 1 and len(keys.pop()) == 64


def test_app_factory_does_not_touch_the_database(tmp_path):
    """create_app and a CLI command that needs no database run with the database unreachable."""
    env = {"DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none",
           "ZHENGWEN_INSTANCE": str(tmp_path / "inst"), "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "routes"], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "/login" in result.stdout


def test_init_db_creates_schema_and_key(tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/fresh.db", "ZHENGWEN_INSTANCE": str(tmp_path / "inst"),
           "PATH": "/usr/bin:/bin"}
    run = lambda *args: subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args],  # noqa: E731
                                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    result = run("create-user", "boss")
    assert result.returncode == 1 and "init-db" in result.stderr
    result = run("init-db")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "inst" / "secret_key").exists()
    result = run("init-db")  # idempotent
    assert result.returncode == 0
    result = run("create-user", "boss", "--role", "admin", "--name", "政工科")
    assert result.returncode == 0 and "初始密码" in result.stdout
    result = run("create-user", "boss")
    assert result.returncode == 1 and "USERNAME_TAKEN" in result.stderr
    result = run("audit-verify")
    assert result.returncode == 0 and "审计日志完整" in result.stdout


def test_create_user_command(runner, session):
    result = runner.invoke(args=["create-user", "judge9", "--role", "judge", "--password", "Judge2027pw"])
    assert result.exit_code == 0, result.output
    user = session.execute(select(User).where(User.username == "judge9")).scalar_one()
    assert user.role == "judge" and user.must_change_password
    result = runner.invoke(args=["create-user", "u9", "--role", "unit"])
    assert result.exit_code == 1 and "UNIT_REQUIRED" in result.output
    result = runner.invoke(args=["create-user", "weak", "--password", "123"])
    assert result.exit_code == 1 and "密码不符合要求" in result.output
    assert verify_chain(session) == (True, None)
