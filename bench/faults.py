"""Fault tests (issue #7, item 2): a gunicorn worker killed in the middle of an upload and of
a score submit, and PostgreSQL restarted during a rush; each scenario prints PASS or FAIL.

Setup (bench/load_seed.py): a throwaway PostgreSQL 15 cluster of its own (initdb in a
temporary folder, its own port: restarting it disturbs nobody), a fresh database with
units, judges, a competition 收稿中 and one 评审中 with assignments, gunicorn as in
production (`-c gunicorn.conf.py`, 4 workers, 2 threads each), Redis database 13 for the
login limit. The client talks HTTP as the browser does (bench/load.py); the request that is
cut is sent over a plain socket, so that the worker holding its connection is known (`ss`)
and killed with SIGKILL at a chosen moment:

1. upload: with the body half sent, and at delays after the whole body was sent (before,
   during and after the upload's transaction), while other units upload beside it. Each
   cut upload is then retried as the page's script does (its XHR fails, the form is
   submitted again: the same fields and file), necessarily by another process, as is every
   background upload that failed. Checked: nothing of a cut upload is stored unless its
   transaction committed; the retry is stored once, or recognised when the first attempt
   had committed ("未重复保存"); every stored file's bytes hash to its SHA-256; no submission
   without a version; one audit entry per version; gunicorn replaced the worker.
2. score submit: likewise for judges' submits (action=submit). Checked: no half-written
   score (a sheet is either absent, a draft, or submitted with all its points, its total and
   exactly one audit entry), the retry submits it once, with the points sent.
3. PostgreSQL stopped for --outage seconds and started again while units upload, judges
   submit and the login page is fetched. Every answer while the database is away is either
   a success that needs no database or HTTP 503 with the Chinese page (数据库暂时无法连接…
   code DB_UNAVAILABLE); users retry after 503 as a person would (every second); afterwards
   every upload and score gets through without restarting gunicorn (the same worker
   processes), and the database checks of 1 and 2 hold.

Exit status 1 if any scenario fails. Everything it started is stopped and removed at the end.

    .venv/bin/python -m bench.faults            # 12 cut uploads, 12 cut submits, 40 users in the restart
    .venv/bin/python -m bench.faults --quick    # 5, 5 and 16
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

import httpx

from bench import load_seed
from bench.load import CODE_RE, ESSAY_LINK_RE, GATE_RE, POINTS_RE, SUBMISSION_RE, THEME_RE, UA, flash_text
from bench.load_seed import DOCX_TYPE, PASSWORD, Essay, EssayMaker, Server, StoredState, csrf, stored_state

DB_DOWN_TEXT = "数据库暂时无法连接"


# ------------------------------------------------------------------------------------ clients


class User:
    """A logged-in browser: a cookie jar, and the forms it last loaded."""

    def __init__(self, base: str, username: str):
        self.base, self.username = base, username
        self.http = httpx.Client(base_url=base, timeout=60, follow_redirects=False,
                                 limits=httpx.Limits(max_keepalive_connections=0),
                                 headers={"User-Agent": UA, "Accept": "text/html"})

    def login(self) -> None:
        page = self.http.get("/login")
        answer = self.http.post("/login", data={"csrf_token": csrf(page.text), "username": self.username,
                                                "password": PASSWORD})
        if answer.status_code != 302:
            raise RuntimeError(f"login {self.username}: HTTP {answer.status_code}")

    def close(self) -> None:
        self.http.close()


def upload_form(user: User, competition_id: int) -> tuple[str, dict]:
    url = f"/unit/competitions/{competition_id}/submit"
    page = user.http.get(url)
    themes = THEME_RE.findall(page.text)
    return url, {"csrf_token": csrf(page.text), "theme_id": themes[0], "title": "", "authors": "张三",
                 "contact_phone": "0731-84420000"}


def sheet_form(user: User, review_id: int, code: str, rng: random.Random) -> tuple[str, dict, dict]:
    url = f"/judge/competitions/{review_id}/essays/{code}"
    page = user.http.get(url)
    points = {key: str(rng.randint(int(float(top) * 0.5), int(float(top))))
              for key, top in POINTS_RE.findall(page.text)}
    form = {"csrf_token": csrf(page.text), **{f"points-{k}": v for k, v in points.items()},
            **{f"gate-{g}": "yes" for g in GATE_RE.findall(page.text)}, "comment": "观点鲜明。", "action": "submit"}
    return f"{url}/sheet", form, points


def raw_request(user: User, method: str, url: str, **kw) -> tuple[bytes, bytes]:
    """The request as httpx would send it (cookies, multipart body), split in head and body."""
    request = user.http.build_request(method, url, **kw)
    body = request.read()
    head = f"{method} {request.url.raw_path.decode()} HTTP/1.1\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in request.headers.items() if k.lower() != "connection")
    return (head + "Connection: close\r\n\r\n").encode("latin-1"), body


def worker_holding(server: Server, sock: socket.socket, tries: int = 100) -> int | None:
    """The pid of the gunicorn worker that accepted this connection (ss -p)."""
    port = sock.getsockname()[1]
    for _ in range(tries):
        out = subprocess.run(["ss", "-Htnp", "state", "established", f"( sport = :{server.port} and dport = :{port} )"],
                             capture_output=True, text=True, check=False).stdout
        match = re.search(r"pid=(\d+)", out)
        if match and int(match.group(1)) in server.worker_pids():
            return int(match.group(1))
        time.sleep(0.005)
    return None


@dataclass
class Cut:
    """One request cut by killing its worker."""

    label: str
    killed: int | None
    answered: bool  # a complete response arrived before the kill took effect
    stored_before_retry: bool = False
    retry_status: int = 0
    retry_pid: int | None = None
    retry_note: str = ""


def send_and_kill(server: Server, head: bytes, body: bytes, delay: float | None) -> tuple[int | None, bool]:
    """Sends the request; kills its worker with half the body sent (delay None) or `delay`
    seconds after the whole body. Returns (killed pid, whether a whole response came)."""
    sock = socket.create_connection(("127.0.0.1", server.port))
    try:
        sock.sendall(head)
        pid = worker_holding(server, sock)
        if delay is None:
            sock.sendall(body[: len(body) // 2])
            time.sleep(0.3)
        else:
            sock.sendall(body)
            time.sleep(delay)
        if pid is not None:
            os.kill(pid, signal.SIGKILL)
        sock.settimeout(10)
        data = b""
        try:
            while chunk := sock.recv(65536):
                data += chunk
        except OSError:
            pass
        return pid, data.startswith(b"HTTP/1.1 ") and b"\r\n\r\n" in data
    finally:
        sock.close()


def cut_request(server: Server, user: User, url: str, delay: float | None, **kw) -> Cut:
    """POSTs to `url` as `user` (the form in `kw`) and kills the worker serving it (send_and_kill)."""
    head, body = raw_request(user, "POST", url, **kw)
    label = "half the body sent" if delay is None else f"{delay * 1000:.0f} ms after the body"
    pid, answered = send_and_kill(server, head, body, delay)
    return Cut(label, pid, answered)


def pid_of(server: Server, bench_id: str) -> int | None:
    for _ in range(20):  # the access log line may still be on its way
        for line in reversed(server.log_lines()):
            if line.endswith(f"id={bench_id}"):
                match = re.search(r"pid=<(\d+)>", line)
                return int(match.group(1)) if match else None
        time.sleep(0.05)
    return None


def wait_workers(server: Server, count: int, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(server.worker_pids()) == count:
            return True
        time.sleep(0.1)
    return False


def retry_until(fn, attempts: int = 30, pause: float = 1.0):
    """A person retrying: again after a failure, up to `attempts` times. Returns (result,
    list of failures seen)."""
    failures = []
    for _ in range(attempts):
        try:
            result = fn()
            if result is not None:
                return result, failures
        except (httpx.HTTPError, RuntimeError) as e:
            failures.append(f"{type(e).__name__}")
        time.sleep(pause)
    return None, failures


# ------------------------------------------------------------------------------------ checks


def check_uploads(state: StoredState, expected: dict[str, str]) -> list[str]:
    """expected: username -> sha256 of the one file it uploaded (and retried)."""
    problems = []
    by_user: dict[str, list] = {}
    for v in state.versions:
        by_user.setdefault(v.username, []).append(v)
        if not v.intact:
            problems.append(f"{v.username} v{v.number}: stored bytes do not match the SHA-256 or size")
    for username, sha in expected.items():
        got = by_user.get(username, [])
        if [v.sha256 for v in got] != [sha]:
            problems.append(f"{username}: stored {[(v.number, v.sha256[:8]) for v in got]}, "
                            f"expected one version {sha[:8]}")
    if state.empty:
        problems.append(f"{state.empty} submissions without a version")
    if state.audit_versions != len(state.versions):
        problems.append(f"{state.audit_versions} audit entries for {len(state.versions)} versions")
    return problems


def check_scores(state: StoredState, expected: dict[tuple[str, str], dict]) -> list[str]:
    """No half-written sheet anywhere; the expected ones submitted once with the points sent."""
    problems = []
    for _aid, username, code, status, points, total, _sheets, audits in state.scores:
        if status == "submitted":
            if total is None or len(points or {}) != 4 or float(total) != sum(float(v) for v in points.values()):
                problems.append(f"{username}/{code}: half-written submitted sheet {points} total {total}")
            if audits != 1:
                problems.append(f"{username}/{code}: {audits} audit entries for one submit")
        elif status == "draft" and audits:
            problems.append(f"{username}/{code}: a draft with a submit audit entry")
        want = expected.get((username, code))
        if want is not None and (status != "submitted" or {k: str(v) for k, v in (points or {}).items()} != want):
            problems.append(f"{username}/{code}: status {status}, points {points}, sent {want}")
    return problems


# ------------------------------------------------------------------------------------ scenarios


@dataclass
class Scenario:
    name: str
    passed: bool = True
    notes: list[str] = field(default_factory=list)

    def fail(self, why: str) -> None:
        self.passed = False
        self.notes.append(f"FAIL: {why}")


def background_uploads(server: Server, users: list[str], essays: dict[str, Essay], open_id: int,
                       stop: threading.Event, log: list[str]) -> None:
    """Units uploading one after another beside the cuts; a failed upload is sent again."""
    for username in users:
        if stop.is_set():
            return
        user = User(server.base, username)
        essay = essays[username]
        logged = []

        def attempt(user=user, essay=essay, logged=logged):
            if not logged:
                user.login()
                logged.append(True)
            url = f"/unit/competitions/{open_id}/submit"
            page = user.http.get(url)
            if page.status_code != 200:  # not logged in after all: log in again next time
                logged.clear()
                return None
            themes = THEME_RE.findall(page.text)
            fields = {"csrf_token": csrf(page.text), "theme_id": themes[0], "title": "", "authors": "张三",
                      "contact_phone": "0731-84420000"}
            answer = user.http.post(url, data=fields, files={"file": (f"{essay.title}.docx", essay.data, DOCX_TYPE)})
            return answer if answer.status_code == 302 else None

        result, failures = retry_until(attempt, attempts=10, pause=0.5)
        if failures:
            log.append(f"{username}: {len(failures)} failed tries ({', '.join(failures)}), then "
                       f"{'stored' if result is not None else 'gave up'}")
        user.close()


def scenario_upload_kill(server: Server, seeded, maker: EssayMaker, units: list[str], background: list[str],
                         delays: list[float | None], expected: dict[str, str]) -> Scenario:
    result = Scenario("kill a worker in the middle of an upload")
    essays = {u: maker.essay() for u in units + background}
    stop, log = threading.Event(), []
    thread = threading.Thread(target=background_uploads,
                              args=(server, background, essays, seeded.open_id, stop, log))
    thread.start()
    cuts = []
    for username, delay in zip(units, delays, strict=True):
        user = User(server.base, username)
        user.login()
        url, fields = upload_form(user, seeded.open_id)
        essay = essays[username]
        files = {"file": (f"{essay.title}.docx", essay.data, DOCX_TYPE)}
        cut = cut_request(server, user, url, delay, data=fields, files=files)
        cut.stored_before_retry = any(v.username == username for v in stored_state(server.url, seeded.open_id,
                                                                                 seeded.review_id).versions)
        bench_id = f"retry-upload-{username}"
        retry, failures = retry_until(lambda user=user, url=url, fields=fields, files=files, bench_id=bench_id:
                                      user.http.post(url, data=fields, files=files,
                                                     headers={"X-Bench-Id": bench_id}))
        if retry is None:
            result.fail(f"{username}: the retry never got an answer ({failures})")
        else:
            cut.retry_status = retry.status_code
            cut.retry_pid = pid_of(server, bench_id)
            location = retry.headers.get("location", "")
            if retry.status_code != 302 or not SUBMISSION_RE.search(location):
                result.fail(f"{username}: retry answered HTTP {retry.status_code}: {flash_text(retry.text)}")
            else:
                message = flash_text(user.http.get(location).text)
                want = "未重复保存" if cut.stored_before_retry else "第 1 版"
                cut.retry_note = "recognised (未重复保存)" if "未重复保存" in message else "stored (第 1 版)"
                if want not in message:
                    result.fail(f"{username}: retry after a {'committed' if cut.stored_before_retry else 'lost'} "
                                f"upload showed {message!r}")
        if cut.retry_pid is not None and cut.retry_pid == cut.killed:
            result.fail(f"{username}: the retry was answered by the killed worker {cut.killed}?")
        if cut.killed is None:
            result.fail(f"{username}: could not find the worker holding the connection")
        expected[username] = essay.sha256
        cuts.append(cut)
        user.close()
        if not wait_workers(server, server.workers):
            result.fail("gunicorn did not replace the killed worker")
    thread.join()
    for username in background:
        expected[username] = essays[username].sha256
    problems = check_uploads(stored_state(server.url, seeded.open_id, seeded.review_id), expected)
    for p in problems:
        result.fail(p)
    for cut in cuts:
        result.notes.append(f"killed worker {cut.killed} {cut.label}: "
                            f"{'response had arrived' if cut.answered else 'no response'}; "
                            f"{'committed' if cut.stored_before_retry else 'nothing stored'} before the retry; "
                            f"retry by worker {cut.retry_pid}: HTTP {cut.retry_status}, {cut.retry_note}")
    result.notes.append(f"background uploads of {len(background)} units: " + ("; ".join(log) or "no failure"))
    return result


def scenario_submit_kill(server: Server, seeded, judges: list[str], delays: list[float | None],
                         sent: dict[tuple[str, str], dict], rng: random.Random) -> Scenario:
    result = Scenario("kill a worker in the middle of a score submit")
    cuts = []
    users = {}
    for judge in judges:
        users[judge] = User(server.base, judge)
        users[judge].login()
    queue = []
    for judge, user in users.items():
        page = user.http.get(f"/judge/competitions/{seeded.review_id}/")
        queue += [(judge, code) for code in dict.fromkeys(ESSAY_LINK_RE.findall(page.text))]
    rng.shuffle(queue)
    for (judge, code), delay in zip(queue, delays, strict=False):
        user = users[judge]
        url, form, points = sheet_form(user, seeded.review_id, code, rng)
        cut = cut_request(server, user, url, delay, data=form)
        state = stored_state(server.url, seeded.open_id, seeded.review_id)
        row = next(r for r in state.scores if r.username == judge and r.code == code)
        cut.stored_before_retry = row.status == "submitted"
        for p in check_scores(state, {}):
            result.fail(f"right after the kill: {p}")
        bench_id = f"retry-submit-{judge}-{code}"
        retry, failures = retry_until(lambda user=user, url=url, form=form, bench_id=bench_id:
                                      user.http.post(url, data=form, headers={"X-Bench-Id": bench_id}))
        if retry is None or retry.status_code != 302:
            result.fail(f"{judge}/{code}: retry {'failed' if retry is None else retry.status_code} {failures}")
        else:
            cut.retry_status, cut.retry_pid = retry.status_code, pid_of(server, bench_id)
            cut.retry_note = "accepted (the same sheet)"
        sent[(judge, code)] = points
        cuts.append(cut)
        if not wait_workers(server, server.workers):
            result.fail("gunicorn did not replace the killed worker")
    for user in users.values():
        user.close()
    for p in check_scores(stored_state(server.url, seeded.open_id, seeded.review_id), sent):
        result.fail(p)
    for cut in cuts:
        result.notes.append(f"killed worker {cut.killed} {cut.label}: "
                            f"{'response had arrived' if cut.answered else 'no response'}; "
                            f"{'submitted' if cut.stored_before_retry else 'not submitted'} before the retry; "
                            f"retry by worker {cut.retry_pid}: HTTP {cut.retry_status}, {cut.retry_note}")
    return result


def scenario_pg_restart(server: Server, cluster: load_seed.PrivateCluster, seeded, maker: EssayMaker,
                        units: list[str], judges: list[str], outage: float, expected: dict[str, str],
                        sent: dict[tuple[str, str], dict], rng: random.Random) -> Scenario:
    result = Scenario(f"restart PostgreSQL ({outage:.0f} s away) during a rush")
    essays = {u: maker.essay() for u in units}
    pids_before = server.worker_pids()
    answers: list[tuple[float, str, int, str]] = []  # (time, what, status, code or note)
    lock = threading.Lock()
    down = {"from": None, "to": None}

    def note(what: str, response: httpx.Response | None, error: str = "") -> None:
        if response is None:
            entry = (time.monotonic(), what, 0, error)
        else:
            match = CODE_RE.search(response.text) or re.search(r"<strong>([A-Z_]+)</strong>", response.text)
            code = match.group(1) if match else ""
            if response.status_code == 503:
                code = code if DB_DOWN_TEXT in response.text else f"{code} without the Chinese message"
            elif response.status_code == 500 and not code:
                code = "gunicorn's bare English 'Internal Server Error' page"
            entry = (time.monotonic(), what, response.status_code, code)
        with lock:
            answers.append(entry)

    def call(user: User, what: str, method: str, url: str, ok: tuple[int, ...], **kw) -> httpx.Response | None:
        """One request; None when it has to be tried again (503 or a dropped connection)."""
        try:
            response = user.http.request(method, url, **kw)
        except httpx.HTTPError as e:
            note(what, None, type(e).__name__)
            return None
        note(what, response)
        if response.status_code in ok:
            return response
        return None  # 503 (or anything else, noted as a failure above): the person tries again

    def unit_flow(username: str, start: float) -> str:
        time.sleep(start)
        user = User(server.base, username)
        essay = essays[username]
        logged = []
        try:
            def step():
                if not logged:
                    page = call(user, "GET /login", "GET", "/login", (200,))
                    if page is None:
                        return None
                    if call(user, "login POST", "POST", "/login", (302,), data={
                            "csrf_token": csrf(page.text), "username": username, "password": PASSWORD}) is None:
                        return None
                    logged.append(True)
                url = f"/unit/competitions/{seeded.open_id}/submit"
                page = call(user, "upload form GET", "GET", url, (200,))
                if page is None:
                    return None
                fields = {"csrf_token": csrf(page.text), "theme_id": THEME_RE.findall(page.text)[0], "title": "",
                          "authors": "张三", "contact_phone": "0731-84420000"}
                return call(user, "upload POST", "POST", url, (302,), data=fields,
                            files={"file": (f"{essay.title}.docx", essay.data, DOCX_TYPE)})

            answer, _ = retry_until(step, attempts=40, pause=1.0)
            return "stored" if answer is not None else "gave up"
        finally:
            user.close()

    def judge_flow(judge: str, start: float) -> list[str]:
        time.sleep(start)
        user = User(server.base, judge)
        outcomes = []
        try:
            def enter():
                page = call(user, "GET /login", "GET", "/login", (200,))
                if page is None or call(user, "login POST", "POST", "/login", (302,), data={
                        "csrf_token": csrf(page.text), "username": judge, "password": PASSWORD}) is None:
                    return None
                return call(user, "judge queue GET", "GET", f"/judge/competitions/{seeded.review_id}/", (200,))

            page, _ = retry_until(enter, attempts=40, pause=1.0)
            if page is None:
                return ["could not log in"]
            codes = [c for c in dict.fromkeys(ESSAY_LINK_RE.findall(page.text)) if (judge, c) not in sent]
            local = random.Random(judge)
            for code in codes:
                def step(code=code):
                    url = f"/judge/competitions/{seeded.review_id}/essays/{code}"
                    page = call(user, "essay page GET", "GET", url, (200,))
                    if page is None:
                        return None
                    points = {k: str(local.randint(int(float(t) * 0.5), int(float(t))))
                              for k, t in POINTS_RE.findall(page.text)}
                    form = {"csrf_token": csrf(page.text), **{f"points-{k}": v for k, v in points.items()},
                            **{f"gate-{g}": "yes" for g in GATE_RE.findall(page.text)}, "comment": "",
                            "action": "submit"}
                    answer = call(user, "score submit POST", "POST", f"{url}/sheet", (302,), data=form)
                    return None if answer is None else points

                points, _ = retry_until(step, attempts=40, pause=1.0)
                if points is not None:
                    sent[(judge, code)] = points
                outcomes.append("submitted" if points is not None else "gave up")
                time.sleep(0.3)
        finally:
            user.close()
        return outcomes

    def prober(stop: threading.Event) -> None:
        user = User(server.base, "nobody")
        while not stop.is_set():
            call(user, "GET /login (no database needed)", "GET", "/login", (200,))
            time.sleep(0.25)
        user.close()

    stop = threading.Event()
    probe = threading.Thread(target=prober, args=(stop,))
    probe.start()
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(units) + len(judges)) as pool:
        unit_jobs = {u: pool.submit(unit_flow, u, rng.uniform(0, 6)) for u in units}
        judge_jobs = {j: pool.submit(judge_flow, j, rng.uniform(0, 1)) for j in judges}
        time.sleep(3)
        down["from"] = time.monotonic()
        cluster.stop()
        time.sleep(outage)
        cluster.start()
        down["to"] = time.monotonic()
        unit_results = {u: f.result() for u, f in unit_jobs.items()}
        judge_results = {j: f.result() for j, f in judge_jobs.items()}
    stop.set()
    probe.join()

    for username, outcome in unit_results.items():
        if outcome != "stored":
            result.fail(f"{username}: upload {outcome}")
        expected[username] = essays[username].sha256
    for judge, outcomes in judge_results.items():
        if any(o != "submitted" for o in outcomes):
            result.fail(f"{judge}: {outcomes}")
    during = [a for a in answers if down["from"] <= a[0] <= down["to"] + 0.5]
    unavailable = [a for a in during if a[2] == 503 and a[3] == "DB_UNAVAILABLE"]
    bad = [a for a in answers if (a[2] == 503 and a[3] != "DB_UNAVAILABLE") or (a[2] >= 500 and a[2] != 503)
           or a[2] == 0]
    for a in bad[:10]:
        result.fail(f"{a[1]}: HTTP {a[2]} {a[3]} at {a[0] - down['from']:+.1f} s from the stop")
    if not unavailable:
        result.fail("no request got the DB_UNAVAILABLE page while the database was away")
    after = [a for a in answers if a[0] > down["to"] + 2]
    last_503 = max((a[0] for a in answers if a[2] == 503), default=down["to"])
    if [a for a in after if a[2] == 503]:
        result.fail(f"503 answers continued {last_503 - down['to']:.1f} s after the database was back")
    if server.worker_pids() != pids_before:
        result.fail(f"worker processes changed: {pids_before} -> {server.worker_pids()}")
    state = stored_state(server.url, seeded.open_id, seeded.review_id)
    for p in check_uploads(state, expected) + check_scores(state, sent):
        result.fail(p)
    kinds: dict[tuple[str, int, str], int] = {}
    for a in during:
        kinds[(a[1], a[2], a[3])] = kinds.get((a[1], a[2], a[3]), 0) + 1
    result.notes.append(f"database away {down['to'] - down['from']:.1f} s (stop, {outage:.0f} s, start); "
                        f"answers meanwhile: " + ", ".join(f"{w} → {s}{' ' + c if c else ''} ×{n}"
                                                           for (w, s, c), n in sorted(kinds.items())))
    result.notes.append(f"last 503 {last_503 - down['to']:+.1f} s after the start; "
                        f"{sum(1 for o in unit_results.values() if o == 'stored')}/{len(units)} uploads and "
                        f"{sum(o == 'submitted' for v in judge_results.values() for o in v)} score submits got "
                        f"through afterwards, the same {len(pids_before)} worker processes")
    return result


# ------------------------------------------------------------------------------------ main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--outage", type=float, default=5.0, help="seconds PostgreSQL stays stopped")
    parser.add_argument("--keep", action="store_true", help="keep the cluster and the log (prints where)")
    args = parser.parse_args()
    cuts = 5 if args.quick else 12
    rush_units, rush_judges = (12, 4) if args.quick else (32, 8)
    delays: list[float | None] = [None, 0.0, 0.02, 0.05, 0.08, 0.12, 0.2, 0.3, 0.03, 0.06, 0.1, 0.15][:cuts]
    background = 4 if args.quick else 10
    n_units = cuts + background + rush_units

    cluster = load_seed.PrivateCluster()
    server = None
    results: list[Scenario] = []
    try:
        cluster.create()
        maker = EssayMaker(7)
        load_seed.fresh_database(cluster.url)
        app = load_seed.seed_app(cluster.url)
        with app.app_context():
            seeded = load_seed.seed(cluster.url, maker, units=n_units, judges=3 + rush_judges,
                                    review_essays=12 if args.quick else 30, per_essay=3)
        load_seed.flush_redis()
        server = Server(cluster.url)
        server.start()
        server.warm_up()
        print(f"setup: PostgreSQL cluster on port {cluster.port}, gunicorn on {server.base}, workers "
              f"{server.worker_pids()}", flush=True)
        units = seeded.units
        expected: dict[str, str] = {}
        sent: dict[tuple[str, str], dict] = {}
        rng = random.Random(2027)
        results.append(scenario_upload_kill(server, seeded, maker, units[:cuts], units[cuts:cuts + background],
                                            delays, expected))
        print(f"{'PASS' if results[-1].passed else 'FAIL'}: {results[-1].name}", flush=True)
        results.append(scenario_submit_kill(server, seeded, seeded.judges[:3], delays, sent, rng))
        print(f"{'PASS' if results[-1].passed else 'FAIL'}: {results[-1].name}", flush=True)
        results.append(scenario_pg_restart(server, cluster, seeded, maker, units[cuts + background:],
                                           seeded.judges[3:], args.outage, expected, sent, rng))
        print(f"{'PASS' if results[-1].passed else 'FAIL'}: {results[-1].name}", flush=True)
        errors = server.log_errors()
        tracebacks = server.tracebacks()
    finally:
        if server is not None:
            server.stop()
        if args.keep:
            print(f"kept: {cluster.folder} (start it with pg_ctl as postgres), log "
                  f"{server.log_path if server else ''}")
        else:
            cluster.destroy()
            if server is not None:
                server.cleanup()
    print()
    for r in results:
        print(f"## {'PASS' if r.passed else 'FAIL'}: {r.name}")
        for n in r.notes:
            print(f"- {n}")
        print()
    print(f"server log: {len(errors)} error lines (a killed worker and the database going away are logged)")
    for e in errors[:12]:
        print(f"  {e[:240]}")
    for block in tracebacks[:3]:
        print("\n".join(f"    {line}" for line in block[-14:]))
    sys.exit(0 if results and all(r.passed for r in results) and len(results) == 3 else 1)


if __name__ == "__main__":
    main()
