"""Shared setup of the load and fault benchmarks (bench/load.py, bench/faults.py).

- `fresh_database(url)`: drops and creates the database, migrates it (essays.platform.migrate).
- `make_essays(n)`: n distinct .docx essays of 2,850-2,990 字 (Word's count, as the intake
  counts), text from bench.essaygen's generator (People's Daily 1998 sentence templates,
  words redrawn by tag), so no two share a run of 13 characters beyond the base text;
  `over_limit_essay()`, `pdf_bytes()`: files the intake refuses.
- `seed(...)`: through the domain functions, as review/demo.py does: an admin, an
  organiser, N units with one unit account each, J judges (unattached, so no conflicts),
  the common quotations and the notice as base text, a competition in 评审中 whose essays
  (uploaded with essays.intake.receive.receive) are coded, checked, given the demo's rubric and
  assigned k judges each, and a competition 收稿中 with its deadline a week ahead, one
  essay per unit (so a second new essay is refused QUOTA_FULL). Accounts need no password
  change. Every account gets one real scrypt hash of PASSWORD (hashed once: hashing 350
  passwords one by one only slows the setup; logging in verifies the real scrypt hash).
- `Server`: gunicorn as production runs it (`-c gunicorn.conf.py`, 4 workers, the config's
  2 threads each), with the pid of the worker that served each request in its access log.
- `stored_state(url, open_id, review_id)`: what the database holds after a run, read with
  plain SQL, for the checks of both scripts.
- `PrivateCluster`: a throwaway PostgreSQL 15 cluster (initdb in a temporary folder, its
  own port), which bench/faults.py restarts without disturbing the machine's cluster.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from bench import essaygen
from bench.similarity_db import fresh_database  # noqa: F401  (part of this module's interface)
from essays.competitions.operations import CompetitionSettings, create_competition, move_phase
from essays.intake.docx.writer import DocxSpec, build_docx
from essays.intake.inspection import IntakeRules, inspect_file
from essays.intake.receive import EssayForm, receive
from essays.models import Competition, User
from essays.people import accounts
from essays.people.units import UnitFields, save_unit
from essays.platform.db import make_engine
from essays.similarity import quotations

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/zhengwen_load"
REDIS_URL = "redis://127.0.0.1:6379/13"  # a database of its own, flushed at start
PASSWORD = "load-test-2027"
GATES = ("政治方向正确", "原创")
LIMIT = 3000
OPEN_TITLE = "负载测试：截止前集中上传"
REVIEW_TITLE = "负载测试：评委集中评分"
THEMES = ["解放思想与城管工作改革创新", "加强队伍建设和基层党组织建设"]
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def tracebacks(lines: list[str]) -> list[list[str]]:
    """Each traceback in a server log, as its lines."""
    blocks, current = [], None
    for line in lines:
        if line.startswith("Traceback"):
            current = [line]
            blocks.append(current)
        elif current is not None:
            if line.startswith((" ", "\t")) or (line and not line.startswith(("[", "127.0.0.1"))):
                current.append(line)
                if not line.startswith((" ", "\t")):
                    current = None
            else:
                current = None
    return blocks


def drop_database(url: str) -> None:
    u = make_url(url)
    admin = create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{u.database}" WITH (FORCE)'))
    admin.dispose()


@dataclass
class StoredState:
    """The database after (or during) a run. `versions`: (submission_id, username, number,
    sha256, intact) in submission and version order, `intact` when the stored bytes hash to
    the recorded SHA-256 (recomputed by PostgreSQL) and have the recorded size. `scores`:
    one row per assignment of the review, (assignment_id, username, code, status, points,
    total, sheets, submit_audits); status, points and total are None without a sheet."""
    versions: list
    submissions: int
    empty: int  # submissions without a version
    audit_versions: int  # submission.create / submission.replace entries
    scores: list


def stored_state(url: str, open_id: int, review_id: int) -> StoredState:
    engine = create_engine(url)
    with engine.connect() as conn:
        versions = conn.execute(text(
            "SELECT s.id AS submission_id, u.username, v.number, v.sha256, "
            "encode(sha256(v.file_bytes), 'hex') = v.sha256 AND octet_length(v.file_bytes) = v.size AS intact "
            "FROM submission s JOIN submission_version v ON v.submission_id = s.id "
            "JOIN user_account u ON u.unit_id = s.unit_id AND u.role = 'unit' "
            "WHERE s.competition_id = :c ORDER BY s.id, v.number"), {"c": open_id}).all()
        submissions, empty, audit_versions = conn.execute(text(
            "SELECT count(*), count(*) FILTER (WHERE NOT EXISTS "
            "(SELECT 1 FROM submission_version v WHERE v.submission_id = s.id)), "
            "(SELECT count(*) FROM audit_log WHERE action IN ('submission.create', 'submission.replace') "
            "AND object_id IN (SELECT id::text FROM submission WHERE competition_id = :c)) "
            "FROM submission s WHERE s.competition_id = :c"), {"c": open_id}).one()
        scores = conn.execute(text(
            "SELECT a.id AS assignment_id, u.username, rc.code, s.status, s.points, s.total, "
            "(SELECT count(*) FROM score s2 WHERE s2.assignment_id = a.id) AS sheets, "
            "(SELECT count(*) FROM audit_log l WHERE l.action = 'review.score_submit' "
            "AND l.object_id = s.id::text) AS submit_audits "
            "FROM assignment a JOIN user_account u ON u.id = a.judge_id JOIN review_code rc ON rc.id = a.code_id "
            "LEFT JOIN score s ON s.assignment_id = a.id WHERE a.competition_id = :c"), {"c": review_id}).all()
    engine.dispose()
    return StoredState(versions, submissions, empty, audit_versions, scores)


# ------------------------------------------------------------------------------------ essays


@dataclass
class Essay:
    title: str
    data: bytes
    words: int

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


class EssayMaker:
    """Distinct essays of 2,850-2,990 字 (checked with the intake's own count)."""

    def __init__(self, seed: int = 2027):
        self.rng = random.Random(seed)
        self.builder = essaygen._Builder(self.rng)
        self.notice = essaygen.make_notice(self.builder)
        self.builder.notice_sentences = essaygen.notice_sentences(self.notice)

    def _docx(self, built, title: str, author: str) -> bytes:
        paragraphs = ["".join(piece.text for piece in paragraph) for paragraph in built.paragraphs[1:]]
        return build_docx(DocxSpec(paragraphs=paragraphs, title=title, author=author, last_modified_by=author))

    def essay(self, target: int = 2920) -> Essay:
        length = target
        for _ in range(20):
            built = self.builder.essay(length=length)
            title = "".join(piece.text for piece in built.paragraphs[0])
            data = self._docx(built, title, f"作者{self.rng.randint(1, 9999)}")
            words = inspect_file(data, IntakeRules(char_limit=LIMIT)).counts.words_max
            if 2850 <= words <= 2990:
                return Essay(title, data, words)
            length += (2920 - words) // 2 or (-10 if words > 2990 else 10)
        raise RuntimeError("could not make an essay of 2850-2990 字")

    def over_limit(self) -> Essay:
        built = self.builder.essay(length=3600)
        title = "".join(piece.text for piece in built.paragraphs[0])
        data = self._docx(built, title, "作者")
        return Essay(title, data, inspect_file(data, IntakeRules(char_limit=LIMIT)).counts.words)


def pdf_bytes() -> bytes:
    """A small valid-looking PDF: the intake refuses it as UPLOAD_PDF, by its content."""
    body = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
            b"trailer<</Root 1 0 R>>\n%%EOF\n")
    return body


# ------------------------------------------------------------------------------------ seeding


@dataclass
class Seeded:
    open_id: int
    review_id: int
    theme_id: int
    units: list[str]  # unit account usernames, unit i -> "unit{i:03d}"
    judges: list[str]
    assignments: int
    notice: str = ""
    per_judge: dict[str, int] = field(default_factory=dict)


def seed(url: str, maker: EssayMaker, *, units: int, judges: int, review_essays: int, per_essay: int) -> Seeded:
    """Fills the (freshly migrated) database; see the module doc. Needs an app context
    (the domain functions' messages are lazy translations)."""
    accounts.HASH_METHOD = "pbkdf2:sha256:1000"  # replaced below by one real scrypt hash for all
    real = datetime.now(UTC)
    engine = make_engine(url)
    with Session(engine) as session:
        admin, _ = accounts.create_user(session, None, username="admin", display_name="政工科", role="admin",
                                        password=PASSWORD, must_change=False)
        organiser = save_unit(session, admin, UnitFields("负载测试大队", "大队", [], None, "", "", is_organiser=True))
        unit_rows, unit_users = [], []
        for i in range(1, units + 1):
            unit = save_unit(session, admin, UnitFields(f"测试第{i:03d}中队", f"测{i:03d}队", [], organiser.id,
                                                        f"联系人{i}", "0731-84420000", is_organiser=False))
            user, _ = accounts.create_user(session, admin, username=f"unit{i:03d}", display_name=f"联系人{i}",
                                           role="unit", unit=unit, password=PASSWORD, must_change=False)
            unit_rows.append(unit)
            unit_users.append(user)
        judge_names = []
        for j in range(1, judges + 1):
            accounts.create_user(session, admin, username=f"judge{j:02d}", display_name=f"评委{j}", role="judge",
                                 password=PASSWORD, must_change=False)
            judge_names.append(f"judge{j:02d}")
        quotations.add(session, admin, "\n".join(essaygen.QUOTATIONS))

        # The competition in review: intake played two weeks ago.
        intake = real - timedelta(days=14)
        review = create_competition(session, admin, CompetitionSettings(
            title=REVIEW_TITLE, notice_text=maker.notice, themes=list(THEMES), char_limit=LIMIT, limit_is_hard=True,
            deadline=intake + timedelta(days=2), min_per_unit=1, max_per_unit=1))
        move_phase(session, admin, review, "draft", "open", intake)
        for i in range(review_essays):
            essay = maker.essay()
            receive(session, review, unit_rows[i], unit_users[i],
                    EssayForm(review.themes[0].id, essay.title, [f"作者{i}"], "0731-84420000"),
                    f"{essay.title}.docx", essay.data, intake + timedelta(minutes=i))
        _open_review(session, admin, review, per_essay, real)

        competition = create_competition(session, admin, CompetitionSettings(
            title=OPEN_TITLE, notice_text=maker.notice, themes=list(THEMES), char_limit=LIMIT, limit_is_hard=True,
            deadline=real + timedelta(days=7), min_per_unit=1, max_per_unit=1))
        move_phase(session, admin, competition, "draft", "open", real)
        session.flush()
        scrypt = generate_password_hash(PASSWORD)  # werkzeug's default, as accounts.HASH_METHOD
        session.execute(update(User).values(password_hash=scrypt))
        open_id, review_id, theme_id = competition.id, review.id, competition.themes[0].id
        session.commit()
        per_judge = dict(session.execute(text(
            "SELECT u.username, count(a.id) FROM user_account u JOIN assignment a ON a.judge_id = u.id "
            "WHERE a.competition_id = :c GROUP BY u.username"), {"c": review_id}).tuples().all())
    engine.dispose()
    accounts.HASH_METHOD = "scrypt"
    return Seeded(open_id, review_id, theme_id, [f"unit{i:03d}" for i in range(1, units + 1)], judge_names,
                  sum(per_judge.values()), maker.notice, per_judge)


def _open_review(session: Session, admin: User, review: Competition, per_essay: int, now: datetime) -> None:
    from review import assignments, prepare, scoring
    from review.rubric import DEFAULT, Rubric

    move_phase(session, admin, review, "open", "intake_closed", now - timedelta(hours=3))
    codes = prepare.make_codes(session, admin, review, now - timedelta(hours=2), random.Random(7))
    for code in codes:
        prepare.decide_hits(session, admin, code, None, "kept", now - timedelta(hours=2))
    scoring.save_rubric(session, admin, review, Rubric(DEFAULT.criteria, DEFAULT.step, GATES),
                        now - timedelta(hours=2))
    assignments.assign_all(session, admin, review, per_essay, now - timedelta(hours=1), seed=2027)
    move_phase(session, admin, review, "intake_closed", "review", now - timedelta(hours=1))


def seed_app(url: str):
    """The app object (never served): gives the domain functions an app context and
    registers the review package's phase checks, as create_app does for the workers."""
    from app import create_app

    if "ZHENGWEN_INSTANCE" not in os.environ:
        folder = tempfile.mkdtemp(prefix="zhengwen-load-seed-")
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        os.environ["ZHENGWEN_INSTANCE"] = folder
    return create_app({"DATABASE_URL": url, "SECRET_KEY": "seed", "HUEY_IMMEDIATE": False})


def flush_redis(uri: str = REDIS_URL) -> None:
    """Starts a local Redis if none answers, and empties the benchmark's own database
    (old login counts from an earlier run would otherwise still be there)."""
    import redis

    client = redis.Redis.from_url(uri)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        subprocess.run(["redis-server", "--daemonize", "yes", "--port", "6379", "--save", "", "--appendonly",
                        "no"], check=True)
        for _ in range(50):
            try:
                client.ping()
                break
            except redis.exceptions.ConnectionError:
                time.sleep(0.1)
    client.flushdb()


# ------------------------------------------------------------------------------------ servers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn serving the app as in production; the access log carries each request's
    worker pid (%(p)s), its duration in ms (%(M)s) and the client's X-Bench-Id header."""

    def __init__(self, url: str, *, workers: int = 4, threads: int = 2, redis_uri: str = REDIS_URL):
        self.url, self.workers, self.threads, self.redis_uri = url, workers, threads, redis_uri
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.folder = Path(tempfile.mkdtemp(prefix="zhengwen-load-"))
        self.log_path = self.folder / "gunicorn.log"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> None:
        env = {**os.environ, "DATABASE_URL": self.url, "RATELIMIT_STORAGE_URI": self.redis_uri,
               "SECRET_KEY": "zhengwen-load-benchmark", "ZHENGWEN_INSTANCE": str(self.folder / "instance"),
               "WEB_CONCURRENCY": str(self.workers), "THREADS": str(self.threads),
               "BIND": f"127.0.0.1:{self.port}"}
        env.pop("HUEY_IMMEDIATE", None)
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "gunicorn"), "-c", "gunicorn.conf.py", "--workers", str(self.workers),
             "--threads", str(self.threads), "--access-logformat",
             '%(t)s pid=%(p)s "%(r)s" %(s)s %(B)s ms=%(M)s id=%({x-bench-id}i)s', "--log-level",
             os.environ.get("BENCH_LOG_LEVEL", "info"), "app:create_app()"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited: see {self.log_path}\n{self.log_path.read_text()[-3000:]}")
            if len(self.worker_pids()) == self.workers and self._answers():
                return
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not become ready")

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b"GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                return s.recv(64).startswith(b"HTTP/1.1 200")
        except OSError:
            return False

    def worker_pids(self) -> list[int]:
        if self.proc is None:
            return []
        try:
            children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
        except OSError:
            return []
        return sorted(int(p) for p in children)

    def warm_up(self) -> None:
        """Every worker imports the app on its first request: a few requests to each."""
        for _ in range(self.workers * 6):
            self._answers()

    def log_lines(self) -> list[str]:
        return self.log_path.read_text(errors="replace").splitlines()

    def log_errors(self) -> list[str]:
        return [line for line in self.log_lines() if "Traceback" in line or "[ERROR]" in line]

    def tracebacks(self) -> list[list[str]]:
        return tracebacks(self.log_lines())

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def cleanup(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


PG_BIN = Path("/usr/lib/postgresql/15/bin")


class PrivateCluster:
    """A throwaway PostgreSQL cluster on its own port, run as the postgres user (root may
    not run a server), trust authentication on 127.0.0.1. Stopping and starting it is the
    fault; the machine's own cluster is never touched."""

    def __init__(self):
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="zhengwen-faults-pg-"))
        self.data = self.folder / "data"
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/zhengwen_faults"

    def _as_postgres(self, *command: str) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else list(command)

    def create(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        subprocess.run(self._as_postgres(str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U",
                                         "postgres", "-E", "UTF8", "--locale", "C.UTF-8"),
                       check=True, capture_output=True)
        self.start()

    def _ctl(self, *args: str) -> None:
        subprocess.run(self._as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l",
                                         str(self.folder / "server.log"), "-w", *args),
                       check=True, capture_output=True)

    def start(self) -> None:
        self._ctl("-o", f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c max_connections=200",
                  "start")

    def tracebacks(self) -> list[list[str]]:
        return tracebacks(self.log_lines())

    def stop(self) -> None:
        self._ctl("-m", "fast", "stop")

    def running(self) -> bool:
        return subprocess.run(self._as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "status"),
                              capture_output=True).returncode == 0

    def destroy(self) -> None:
        if self.data.exists() and self.running():
            self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


def versions() -> str:
    import flask
    import gunicorn
    import httpx
    import psycopg
    import sqlalchemy

    pg = subprocess.run(["psql", "--version"], capture_output=True, text=True, check=False).stdout.strip()
    server = ""
    try:
        engine = create_engine(DEFAULT_URL.rsplit("/", 1)[0] + "/postgres")
        with engine.connect() as conn:
            server = conn.execute(select(text("version()"))).scalar_one().split(",")[0]
        engine.dispose()
    except Exception:
        server = pg
    redis_v = subprocess.run(["redis-server", "--version"], capture_output=True, text=True,
                             check=False).stdout.split()
    redis_v = next((w.split("=")[1] for w in redis_v if w.startswith("v=")), "?")
    return (f"Python {sys.version.split()[0]}, gunicorn {gunicorn.__version__}, Flask {flask.__version__}, "
            f"SQLAlchemy {sqlalchemy.__version__}, psycopg {psycopg.__version__}, {server}, Redis {redis_v}, "
            f"client httpx {httpx.__version__}")


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf(html: str) -> str:
    match = CSRF_RE.search(html)
    if not match:
        raise ValueError("no CSRF token in the page")
    return match.group(1)
