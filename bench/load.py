"""Load test (issue #7, item 1): the deadline rush and 50 judges scoring, against gunicorn
with 4 workers and PostgreSQL on this machine, through HTTP exactly as the browser talks to
the app; then the database is checked.

Setup (not timed; bench/load_seed.py): a fresh database `zhengwen_load` (dropped and created
at start, dropped at the end unless --keep), 300 units with one account each (and 13 more
for the warm-up and solo phases), 50 judges (and 2 more), a competition 收稿中 (deadline a
week ahead, one essay per unit) and one 评审中 with 100 essays, 5 judges each (500
assignments, about 10 per judge); Redis database 13 for the login rate limit shared by the
workers; gunicorn `-c gunicorn.conf.py --workers 4` (2 threads each, the config's default)
on a free port of 127.0.0.1. The login rate limit is left as it is: it counts per (username,
address), so hundreds of accounts from one address never reach it.

The client: asyncio + httpx, one client (cookie jar) per virtual user, a new connection
per request as nginx in front of gunicorn makes them (--keepalive: reuse them, as a
browser talking straight to gunicorn would). Phases, in one run, on one server:

0. warm-up (not reported): 8 units and a judge at once, so that every worker has loaded
   its code, templates and copy-detection index before anything is measured.
1. idle: 200 GET /login one at a time (the trivial endpoint with nothing else running).
2. solo: 5 units one after another, then one judge through their queue without pauses:
   each operation's latency with nothing else running.
3. rush (a): 300 unit users upload at random times within --window seconds (60). Each
   opens the login page (GET /login: the trivial endpoint, under the same load), logs in
   (scrypt), opens its home page and the upload form, fills it in (--fill: 30-120 s
   between the login and the upload, uniform; `--fill 0 0` uploads at once, so that
   all 300 logins fall in the same minute) and uploads a distinct .docx of
   2,850-2,990 字 as static/js/app.js does (XHR: multipart FormData of the form, the
   browser's headers; the XHR follows the redirect to the receipt, timed apart).
   Some units upload twice: 10% the very same file again at once (double click, retry:
   recognised, not stored), 10% a replacement a few seconds later (a new version);
   10 try a second essay (refused QUOTA_FULL); 10 first send a bad file (3 empty, 3 PDF,
   4 over the limit: refused with their code) and then their essay. With --prelogin the
   units log in before the window (4 at a time, not reported): the rush is the upload
   path alone.
4. judges log in: 50 judges log in within 2 s (scrypt; reported as a phase of its own).
5. scoring (b): then all 50 work through their queues at once, each starting within 2 s:
   open an essay, a pause (--think, mean 5 s: a real judge reads a 3,000-字 essay for
   minutes, so this is still tens of times denser than judging; --think 1 is the stress
   figure), the page's autosave (POST, JSON), a pause, submit (302 to the next essay);
   10% of the submits are sent twice (double click). --no-scoring skips 4 and 5,
   --no-rush skips 3.

Beside each phase a prober asks GET /login 4 times a second: the trivial endpoint of the
same app on the same server under the same load; ratios are taken against it.

Reported: per operation the count, throughput, p50/p95/p99 latency (client side, from the
request's first byte sent to the response's last byte read) and the server's own time from
the gunicorn access log; errors (any unexpected status, a refusal with another code or
without its Chinese message, a connection error). Then the database is checked: every
accepted upload stored once with the SHA-256 of the bytes sent (recomputed in PostgreSQL
from the stored bytes), no other versions, every refusal answered with its code and
message and nothing stored for it, one score per assignment with the submitted points and
total, one audit entry per stored version and per submitted score, the audit chain intact.
Exit status 1 if any check fails or any error occurred.

    .venv/bin/python -m bench.load                          # the issue's load (about 7 minutes)
    .venv/bin/python -m bench.load --fill 0 0 --think 1     # the stress: logins in the rush, judges 1 s apart
    .venv/bin/python -m bench.load --prelogin --no-scoring  # the upload path alone (about 3 minutes)
    .venv/bin/python -m bench.load --quick                  # 40 units, 10 judges, 15 s window, 1 s pauses

Other work on the machine takes CPU from the server: the run waits (--wait-quiet, up to
300 s) for the machine to be idle and reports what other processes used in each phase.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import itertools
import json
import random
import re
import resource
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench import load_seed
from bench.intake import machine
from bench.load_seed import DOCX_TYPE, PASSWORD, Essay, EssayMaker, Server, csrf

KEEPALIVE = 0  # set by --keepalive
WARM_UNITS = 8  # units (and one judge) that warm the workers up before anything is measured
SOLO_UNITS = 5  # units (and one judge) beyond the rush's, for the unloaded figures
UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
ACCEPT_HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
CODE_RE = re.compile(r"（错误代码 ([A-Z_]+)）")
FLASH_RE = re.compile(r'class="flash flash-(\w+)"[^>]*>\s*([^<]+)')
SUBMISSION_RE = re.compile(r"/unit/submissions/(\d+)$")
THEME_RE = re.compile(r'<option[^>]*value="(\d+)"')
ESSAY_LINK_RE = re.compile(r'/judge/competitions/\d+/essays/([A-Za-z0-9]+)"')
POINTS_RE = re.compile(r'name="points-([^"]+)"[^>]*data-max="([0-9.]+)"')
GATE_RE = re.compile(r'name="gate-([^"]+)" value="yes"')


# ------------------------------------------------------------------------------------ recording


@dataclass
class Sample:
    op: str
    phase: str
    start: float
    duration: float
    status: int
    bench_id: str


@dataclass
class Recorder:
    phase: str = ""
    samples: list[Sample] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seq: itertools.count = field(default_factory=itertools.count)

    def error(self, op: str, detail: str) -> None:
        self.errors.append(f"[{self.phase}] {op}: {detail}")


class Client:
    """One virtual user: its own cookie jar and connections, the browser's headers."""

    def __init__(self, base: str, rec: Recorder, timeout: float = 120):
        self.base, self.rec = base, rec
        # One connection per request, as nginx in front of gunicorn does by default (HTTP/1.0
        # upstream, README: production runs behind the office's reverse proxy). With
        # keep-alive straight to gunicorn 27's gthread worker, about 1 request in 200 on a
        # reused connection was dropped unread after ~2 s (--keepalive to measure that).
        self.http = httpx.AsyncClient(base_url=base, timeout=timeout, follow_redirects=False,
                                      limits=httpx.Limits(max_keepalive_connections=KEEPALIVE,
                                                          keepalive_expiry=1.0),
                                      headers={"User-Agent": UA, "Accept": ACCEPT_HTML,
                                               "Accept-Language": "zh-CN,zh;q=0.9"})

    async def close(self) -> None:
        await self.http.aclose()

    async def call(self, op: str, method: str, url: str, expect: tuple[int, ...], **kw) -> httpx.Response | None:
        bench_id = f"{op.replace(' ', '_')}#{next(self.rec.seq)}"
        headers = {"X-Bench-Id": bench_id, **kw.pop("headers", {})}
        started = time.perf_counter()
        try:
            response = await self.http.request(method, url, headers=headers, **kw)
        except httpx.HTTPError as e:
            self.rec.error(op, f"{method} {url}: {type(e).__name__} {e} after {time.perf_counter() - started:.2f} s "
                               f"(id {bench_id})")
            self.rec.samples.append(Sample(op, self.rec.phase, started, time.perf_counter() - started, 0, bench_id))
            return None
        elapsed = time.perf_counter() - started
        self.rec.samples.append(Sample(op, self.rec.phase, started, elapsed, response.status_code, bench_id))
        if response.status_code not in expect:
            self.rec.error(op, f"{method} {url}: HTTP {response.status_code}, expected {expect}: "
                               f"{flash_text(response.text)[:200]}")
            return None
        return response

    async def login(self, username: str) -> bool:
        page = await self.call("GET /login (trivial)", "GET", "/login", (200,))
        if page is None:
            return False
        answer = await self.call("login POST", "POST", "/login", (302,), data={
            "csrf_token": csrf(page.text), "username": username, "password": PASSWORD},
            headers={"Origin": self.base, "Referer": f"{self.base}/login"})
        return answer is not None and "/password" not in answer.headers.get("location", "")


def flash_text(html: str) -> str:
    return " | ".join(f"{kind}: {message.strip()}" for kind, message in FLASH_RE.findall(html)) or html[:120]


def refusal_code(html: str) -> str | None:
    match = CODE_RE.search(html)
    return match.group(1) if match else None


class Prober:
    """GET /login at a fixed rate beside a phase: the trivial endpoint under that load."""

    def __init__(self, base: str, rec: Recorder, rate: float = 4.0):
        self.client, self.rate, self.task, self.pending = Client(base, rec), rate, None, set()

    async def _run(self) -> None:
        while True:
            task = asyncio.ensure_future(self.client.call("trivial GET /login (prober)", "GET", "/login", (200,)))
            self.pending.add(task)
            task.add_done_callback(self.pending.discard)
            await asyncio.sleep(1 / self.rate)

    def start(self) -> None:
        self.task = asyncio.ensure_future(self._run())

    async def stop(self) -> None:
        self.task.cancel()
        if self.pending:
            await asyncio.gather(*self.pending)
        await self.client.close()


# ------------------------------------------------------------------------------------ the rush


@dataclass
class UnitPlan:
    username: str
    essay: Essay
    arrive: float  # when the upload is sent, seconds into the window
    fill: float = 0.0  # logged in this long before, filling in the form meanwhile
    bad: tuple[str, bytes, str, str] | None = None  # (kind, bytes, filename, expected code)
    again: bool = False  # the same bytes again at once
    replace: Essay | None = None
    second: Essay | None = None  # a second new essay: QUOTA_FULL


@dataclass
class UnitOutcome:
    username: str
    submission_id: int | None = None
    stored: list[str] = field(default_factory=list)  # sha256 of accepted new versions, in order
    recognised: int = 0
    refused: list[tuple[str, str, bool]] = field(default_factory=list)  # (sha256, code, clear message)


def plan_rush(maker: EssayMaker, units: list[str], window: float, rng: random.Random,
              fill: tuple[float, float] = (0.0, 0.0)) -> list[UnitPlan]:
    plans = [UnitPlan(u, maker.essay(), rng.uniform(0, window), rng.uniform(*fill)) for u in units]
    chosen = rng.sample(range(len(plans)), len(plans))
    n = len(plans)
    k = max(1, n // 10)
    for i in chosen[:k]:
        plans[i].again = True
    for i in chosen[k:2 * k]:
        plans[i].replace = maker.essay()
    bad_n = min(10, max(3, n // 30))
    second_n = min(10, max(2, n // 30))
    for number, i in enumerate(chosen[2 * k:2 * k + bad_n]):
        kind = ("empty", "pdf", "over")[number % 3]
        if kind == "empty":
            plans[i].bad = ("empty", b"", "空文件.docx", "UPLOAD_EMPTY")
        elif kind == "pdf":
            plans[i].bad = ("pdf", load_seed.pdf_bytes(), "论文.pdf", "UPLOAD_PDF")
        else:
            over = maker.over_limit()
            plans[i].bad = ("over", over.data, f"{over.title}.docx", "OVER_LIMIT")
    for i in chosen[2 * k + bad_n:2 * k + bad_n + second_n]:
        plans[i].second = maker.essay()
    return plans


def _form_fields(html: str, title: str, theme: str | None = None) -> dict:
    themes = THEME_RE.findall(html)
    return {"csrf_token": csrf(html), "theme_id": theme or (themes[0] if themes else ""), "title": title,
            "authors": "张三、李四", "contact_phone": "0731-84420000"}


async def unit_user(base: str, rec: Recorder, plan: UnitPlan, competition_id: int, t0: float,
                    client: Client | None = None) -> UnitOutcome:
    """One unit's visit: logs in `plan.fill` seconds before `plan.arrive` (unless `client` is
    already logged in: --prelogin), opens the home page and the form, fills it in meanwhile
    and uploads at `plan.arrive`."""
    out = UnitOutcome(plan.username)
    await asyncio.sleep(max(0.0, t0 + plan.arrive - plan.fill - time.perf_counter()))
    if client is None:
        client = Client(base, rec)
        if not await client.login(plan.username):
            await client.close()
            return out
    try:
        if await client.call("unit home GET", "GET", "/unit/", (200,)) is None:
            return out
        form_url = f"/unit/competitions/{competition_id}/submit"
        page = await client.call("upload form GET", "GET", form_url, (200,))
        if page is None:
            return out
        fields = _form_fields(page.text, "")
        await asyncio.sleep(max(0.0, t0 + plan.arrive - time.perf_counter()))
        if plan.bad:
            kind, data, filename, code = plan.bad
            mime = "application/pdf" if kind == "pdf" else DOCX_TYPE
            await _refused_upload(client, out, form_url, fields, data, filename, mime, code, "upload POST refused")
        await _upload(client, out, form_url, fields, plan.essay, "upload POST (new)")
        if plan.again:
            await _upload(client, out, form_url, fields, plan.essay, "upload POST (same file again)", same=True)
        if plan.second is not None:
            await _refused_upload(client, out, form_url, fields, plan.second.data, f"{plan.second.title}.docx",
                                  DOCX_TYPE, "QUOTA_FULL", "upload POST refused")
        if plan.replace is not None and out.submission_id is not None:
            await asyncio.sleep(random.uniform(2, 5))
            url = f"/unit/submissions/{out.submission_id}/replace"
            page = await client.call("replace form GET", "GET", url, (200,))
            if page is not None:
                await _upload(client, out, url, _form_fields(page.text, ""), plan.replace, "upload POST (replace)")
    finally:
        await client.close()
    return out


async def _upload(client: Client, out: UnitOutcome, url: str, fields: dict, essay: Essay, op: str,
                  same: bool = False) -> None:
    answer = await client.call(op, "POST", url, (302,), data=fields,
                               files={"file": (f"{essay.title}.docx", essay.data, DOCX_TYPE)},
                               headers={"Origin": client.base, "Referer": client.base + url})
    if answer is None:
        return
    location = answer.headers.get("location", "")
    match = SUBMISSION_RE.search(location)
    if not match:
        client.rec.error(op, f"redirected to {location!r}, not to a receipt")
        return
    receipt = await client.call("receipt GET (after upload)", "GET", location, (200,))
    if receipt is None:
        return
    sid = int(match.group(1))
    message = flash_text(receipt.text)
    if same:
        if sid != out.submission_id or "未重复保存" not in message:
            client.rec.error(op, f"same file again: submission {sid} (first {out.submission_id}), flash {message!r}")
        out.recognised += 1
        return
    if out.submission_id is not None and sid != out.submission_id:
        client.rec.error(op, f"replacement stored under submission {sid}, not {out.submission_id}")
    expected = f"第 {len(out.stored) + 1} 版"
    if expected not in message or essay.sha256 not in receipt.text:
        client.rec.error(op, f"receipt does not show {expected} and the file's SHA-256: {message!r}")
    out.submission_id = sid
    out.stored.append(essay.sha256)


async def _refused_upload(client: Client, out: UnitOutcome, url: str, fields: dict, data: bytes, filename: str,
                          mime: str, code: str, op: str) -> None:
    status = {"QUOTA_FULL": 409, "OVER_LIMIT": 400, "UPLOAD_EMPTY": 400, "UPLOAD_PDF": 400}[code]
    answer = await client.call(op, "POST", url, (status,), data=fields, files={"file": (filename, data, mime)},
                               headers={"Origin": client.base, "Referer": client.base + url})
    if answer is None:
        return
    got = refusal_code(answer.text)
    message = flash_text(answer.text)
    clear = got == code and re.search(r"error: [\u4e00-\u9fff]", message) is not None
    if not clear:
        client.rec.error(op, f"expected {code} with a Chinese message, got {got}: {message!r}")
    out.refused.append((hashlib.sha256(data).hexdigest(), got or "", clear))


# ------------------------------------------------------------------------------------ the judges


@dataclass
class JudgeOutcome:
    username: str
    submitted: dict[str, dict] = field(default_factory=dict)  # code -> points sent
    queue: int = 0


async def judge_user(base: str, rec: Recorder, username: str, review_id: int, t0: float, delay: float,
                     think: float, rng: random.Random, client: Client | None = None) -> JudgeOutcome:
    """One judge through their whole queue; `client`: already logged in (judges_phase)."""
    out = JudgeOutcome(username)
    await asyncio.sleep(max(0.0, t0 + delay - time.perf_counter()))
    if client is None:
        client = Client(base, rec)
        if not await client.login(username):
            await client.close()
            return out
    try:
        if await client.call("judge home GET", "GET", "/judge/", (200,)) is None:
            return out
        queue = await client.call("judge queue GET", "GET", f"/judge/competitions/{review_id}/", (200,))
        if queue is None:
            return out
        codes = list(dict.fromkeys(ESSAY_LINK_RE.findall(queue.text)))
        out.queue = len(codes)
        for code in codes:
            url = f"/judge/competitions/{review_id}/essays/{code}"
            page = await client.call("essay page GET", "GET", url, (200,))
            if page is None:
                continue
            criteria = POINTS_RE.findall(page.text)
            gates = GATE_RE.findall(page.text)
            points = {key: str(rng.randint(int(float(top) * 0.5), int(float(top)))) for key, top in criteria}
            form = {"csrf_token": csrf(page.text), **{f"points-{k}": v for k, v in points.items()},
                    **{f"gate-{g}": "yes" for g in gates}, "comment": "结构完整，联系实际。"}
            await asyncio.sleep(rng.expovariate(1 / think) if think else 0)
            saved = await client.call("score autosave POST (JSON)", "POST", f"{url}/sheet", (200,),
                                      data={**form, "autosave": "1"},
                                      headers={"Accept": "application/json", "Origin": base, "Referer": base + url})
            if saved is not None and not saved.json().get("ok"):
                rec.error("score autosave POST (JSON)", f"{url}: {saved.text[:200]}")
            await asyncio.sleep(rng.expovariate(1 / think) if think else 0)
            twice = rng.random() < 0.1
            for attempt in range(2 if twice else 1):
                op = "score submit POST" if attempt == 0 else "score submit POST (again)"
                answer = await client.call(op, "POST", f"{url}/sheet", (302,), data={**form, "action": "submit"},
                                           headers={"Origin": base, "Referer": base + url})
                if answer is not None:
                    out.submitted[code] = points
    finally:
        await client.close()
    return out


# ------------------------------------------------------------------------------------ phases


async def idle_phase(base: str, rec: Recorder, n: int = 200) -> None:
    rec.phase = "idle"
    client = Client(base, rec)
    for _ in range(n):
        await client.call("trivial GET /login (idle)", "GET", "/login", (200,))
    await client.close()


async def solo_phase(base: str, rec: Recorder, plans: list[UnitPlan], competition_id: int, judge: str,
                     review_id: int) -> tuple[list[UnitOutcome], JudgeOutcome]:
    """The same operations with nothing else running: a few units one after another, then
    one judge through their whole queue without pauses (each op's unloaded latency)."""
    rec.phase = "solo"
    outcomes = []
    for plan in plans:
        outcomes.append(await unit_user(base, rec, plan, competition_id, time.perf_counter() - plan.arrive))
    judged = await judge_user(base, rec, judge, review_id, time.perf_counter(), 0, 0, random.Random(1))
    return outcomes, judged


async def warm_phase(base: str, rec: Recorder, plans: list[UnitPlan], competition_id: int, judge: str,
                     review_id: int) -> tuple[list[UnitOutcome], JudgeOutcome]:
    """Each worker's first upload, essay page and so on load code, templates and the
    copy-detection index: a few users at once warm every worker up (not in the figures)."""
    rec.phase = "warm-up"
    t0 = time.perf_counter()
    outcomes = await asyncio.gather(*(unit_user(base, rec, p, competition_id, t0) for p in plans),
                                    judge_user(base, rec, judge, review_id, t0, 0, 0, random.Random(2)))
    return list(outcomes[:-1]), outcomes[-1]


async def rush_phase(base: str, rec: Recorder, plans: list[UnitPlan], competition_id: int,
                     prelogin: bool = False) -> list[UnitOutcome]:
    clients: list[Client | None] = [None] * len(plans)
    if prelogin:  # every unit logged in earlier (sessions last 8 hours): the rush is uploads only
        rec.phase = "pre-login"
        gate = asyncio.Semaphore(4)

        async def login(i: int) -> None:
            async with gate:
                clients[i] = Client(base, rec)
                await clients[i].login(plans[i].username)

        await asyncio.gather(*(login(i) for i in range(len(plans))))
    rec.phase = "rush"
    prober = Prober(base, rec)
    prober.start()
    t0 = time.perf_counter() + max(p.fill for p in plans)  # the first login at once, uploads from t0 on
    outcomes = await asyncio.gather(*(unit_user(base, rec, p, competition_id, t0, c) for p, c in zip(plans, clients,
                                                                                                      strict=True)))
    await prober.stop()
    return list(outcomes)


async def judges_phase(base: str, rec: Recorder, judges: list[str], review_id: int, think: float,
                       seed: int, between: Callable[[], None] = lambda: None) -> list[JudgeOutcome]:
    """The judges log in within 2 s (phase "judges log in", with its own prober), then all
    of them score at once, each starting within 2 s (phase "scoring"). The logins are a
    phase of their own because 50 scrypt checks in 2 s take the two CPUs for several
    seconds: mixed into the scoring figures they made its p95 the latency of the first
    essay pages queued behind them, not of scoring. `between` runs when the logins are done
    (main() reads the CPU counters there)."""
    rng = random.Random(seed)
    rec.phase = "judges log in"
    prober = Prober(base, rec)
    prober.start()
    t0 = time.perf_counter()

    async def login(username: str, delay: float) -> Client | None:
        await asyncio.sleep(max(0.0, t0 + delay - time.perf_counter()))
        client = Client(base, rec)
        if await client.login(username):
            return client
        await client.close()
        return None

    clients = await asyncio.gather(*(login(j, rng.uniform(0, 2)) for j in judges))
    await prober.stop()
    between()
    rec.phase = "scoring"
    prober = Prober(base, rec)
    prober.start()
    t0 = time.perf_counter()
    outcomes = await asyncio.gather(*(judge_user(base, rec, j, review_id, t0, rng.uniform(0, 2), think,
                                                 random.Random(rng.random()), c)
                                      for j, c in zip(judges, clients, strict=True) if c is not None))
    await prober.stop()
    return [*outcomes, *(JudgeOutcome(j) for j, c in zip(judges, clients, strict=True) if c is None)]


# ------------------------------------------------------------------------------------ checks


def verify(url: str, open_id: int, review_id: int, units: list[UnitOutcome], judges: list[JudgeOutcome],
           assignments: int) -> list[tuple[str, bool, str]]:
    """The database after the run. Returns (check, passed, detail) rows."""
    checks = []
    state = load_seed.stored_state(url, open_id, review_id)
    rows = state.versions
    by_user: dict[str, list] = defaultdict(list)
    for row in rows:
        by_user[row.username].append(row)
    bad_bytes = [r for r in rows if not r.intact]
    checks.append(("every stored file's bytes hash to its recorded SHA-256 and size", not bad_bytes,
                   f"{len(rows)} versions, {len(bad_bytes)} mismatched"))
    wrong, missing, extra = [], 0, 0
    for out in units:
        stored = by_user.get(out.username, [])
        shas = [r.sha256 for r in stored]
        if shas != out.stored:
            wrong.append(out.username)
        missing += sum(1 for s in out.stored if s not in shas)
        extra += sum(1 for s in shas if s not in out.stored)
        if out.stored and any(r.submission_id != out.submission_id for r in stored):
            wrong.append(out.username)
    accepted = sum(len(o.stored) for o in units)
    checks.append(("every accepted upload stored exactly once, in order, with the SHA-256 of the bytes sent",
                   not wrong and not missing and not extra,
                   f"{accepted} accepted uploads, {len(rows)} versions stored; {missing} missing, {extra} not "
                   f"accepted by the client, units differing: {sorted(set(wrong))[:5]}"))
    dupes = len(rows) - len({(r.submission_id, r.sha256) for r in rows})
    checks.append(("no submission holds the same file twice (same file again recognised)", dupes == 0,
                   f"{sum(o.recognised for o in units)} same-file uploads recognised; {dupes} duplicate versions"))
    numbering = all([r.number for r in v] == list(range(1, len(v) + 1)) for v in by_user.values())
    checks.append(("one submission per unit, versions numbered 1..n, no submission without a version",
                   numbering and state.empty == 0 and state.submissions == len(by_user) and all(
                       len({r.submission_id for r in v}) == 1 for v in by_user.values()),
                   f"{state.submissions} submissions, {state.empty} without a version"))
    refused = [r for o in units for r in o.refused]
    stored_shas = {r.sha256 for r in rows}
    leaked = [r for r in refused if r[0] in stored_shas]
    checks.append(("every refused upload answered with its code and a Chinese message, nothing stored",
                   all(r[2] for r in refused) and not leaked,
                   f"{len(refused)} refused ({', '.join(sorted({r[1] for r in refused}))}); "
                   f"{sum(1 for r in refused if not r[2])} unclear, {len(leaked)} stored anyway"))
    checks.append(("one audit entry per stored version", state.audit_versions == len(rows),
                   f"{state.audit_versions} entries, {len(rows)} versions"))

    sent = {(j.username, code): pts for j in judges for code, pts in j.submitted.items()}
    ran = {j.username for j in judges}
    problems = []
    scores = state.scores
    for aid, username, code, status, points, total, count, _audits in scores:
        if username not in ran:  # --no-scoring: only the warm-up and solo judges scored
            continue
        expected = sent.get((username, code))
        if count != 1 or status != "submitted" or total is None:
            problems.append(f"assignment {aid}: {count} sheets, status {status}, total {total}")
        elif expected is None or {k: str(v) for k, v in (points or {}).items()} != expected:
            problems.append(f"assignment {aid}: stored {points}, sent {expected}")
        elif float(total) != sum(float(v) for v in expected.values()):
            problems.append(f"assignment {aid}: total {total} != sum {expected}")
    checks.append(("one submitted score per assignment, with the points sent and their total",
                   not problems and len(scores) == assignments,
                   f"{len(scores)} assignments, {len(sent)} submitted by the judges; problems: {problems[:3]}"))
    entries = sum(s.submit_audits for s in scores)
    audited = sum(1 for s in scores if s.submit_audits)
    checks.append(("one audit entry per submitted score (a second submit of the same sheet adds none)",
                   entries == audited == sum(1 for s in scores if s.username in ran),
                   f"{entries} entries for {audited} scores"))
    app = load_seed.seed_app(url)
    with app.app_context():
        from sqlalchemy.orm import Session

        from essays.platform.audit import verify_chain
        from essays.platform.db import make_engine

        engine = make_engine(url)
        with Session(engine) as session:
            intact, bad = verify_chain(session)
        engine.dispose()
    checks.append(("audit chain intact", intact, f"first bad entry: {bad}"))
    return checks


# ------------------------------------------------------------------------------------ report


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(q) - 1]


def server_times(server: Server) -> dict[str, float]:
    """bench id -> the server's own time (ms) from the access log."""
    out = {}
    for line in server.log_lines():
        match = re.search(r"ms=(\d+) id=(\S+)", line)
        if match:
            out[match.group(2)] = float(match.group(1))
    return out


def report(rec: Recorder, server: Server, phases: dict[str, float]) -> tuple[list[str], dict]:
    times = server_times(server)
    lines = ["| phase | operation | n | per s | p50 ms | p95 ms | p99 ms | max ms | server p50 / p95 ms | "
             "p50 / p95 ÷ trivial | errors |", "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    groups: dict[tuple[str, str], list[Sample]] = defaultdict(list)
    for s in rec.samples:
        groups[(s.phase, s.op)].append(s)
    trivial = {phase: sorted(s.duration for s in groups.get((phase, "trivial GET /login (prober)"), []))
               for phase in phases}
    trivial["solo"] = trivial["idle"] = sorted(s.duration for s in groups.get(("idle", "trivial GET /login (idle)"),
                                                                                []))
    figures = {}
    order = ["warm-up", "pre-login", *phases]
    # a phase's span: from its first request sent to its last answer (the pre-login excluded)
    spans = {phase: spans_of(rec, phase) or 1.0 for phase in phases}
    for (phase, op), samples in sorted(groups.items(), key=lambda kv: (order.index(kv[0][0]), kv[0][1])):
        if phase in ("warm-up", "pre-login"):
            continue
        ok = sorted(s.duration * 1000 for s in samples if s.status)
        errors = sum(1 for s in samples if not s.status or s.status >= 500)
        server_ms = sorted(times[s.bench_id] for s in samples if s.bench_id in times)
        base = trivial.get(phase) or []
        ratio = "–"
        if base and "trivial" not in op:
            ratio = (f"{pct(ok, 50) / (pct(base, 50) * 1000):.1f} / "
                     f"{pct(ok, 95) / (pct(base, 95) * 1000):.1f}")
        rate = len(samples) / spans[phase]
        lines.append(f"| {phase} | {op} | {len(samples)} | {rate:.1f} | {pct(ok, 50):.0f} | {pct(ok, 95):.0f} | "
                     f"{pct(ok, 99):.0f} | {max(ok) if ok else 0:.0f} | "
                     f"{pct(server_ms, 50):.0f} / {pct(server_ms, 95):.0f} | {ratio} | {errors} |")
        figures[(phase, op)] = {"n": len(samples), "p50": pct(ok, 50), "p95": pct(ok, 95), "p99": pct(ok, 99)}
    return lines, figures


def spans_of(rec: Recorder, phase: str) -> float:
    mine = [s for s in rec.samples if s.phase == phase]
    return max(s.start + s.duration for s in mine) - min(s.start for s in mine) if mine else 0.0


def cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / 100
        except OSError:
            pass
    return total


def counters(workers: list[int]) -> tuple[float, ...]:
    """CPU seconds so far: the workers, PostgreSQL, this client; the machine's busy and total."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    return (cpu_seconds(workers), cpu_seconds(postgres_pids()), own.ru_utime + own.ru_stime, *machine_cpu())


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    idle = fields[3] + fields[4]
    return (sum(fields) - idle) / 100, sum(fields) / 100


def wait_quiet(limit: float) -> str:
    """Waits (up to `limit` s) until the machine is idle: other work running beside the
    benchmark (a test suite) would take CPU from the server. Says how quiet it was."""
    deadline = time.monotonic() + limit
    busy = 1.0
    while True:
        b0, t0 = machine_cpu()
        time.sleep(5)
        b1, t1 = machine_cpu()
        busy = (b1 - b0) / max(t1 - t0, 1e-9)
        if busy < 0.1 or time.monotonic() > deadline:
            return f"machine {busy:.0%} busy just before the run"


def postgres_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    pids.append(int(entry.name))
            except OSError:
                pass
    return pids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="40 units, 10 judges, a 15 s window")
    parser.add_argument("--units", type=int, default=300)
    parser.add_argument("--judges", type=int, default=50)
    parser.add_argument("--review-essays", type=int, default=100)
    parser.add_argument("--per-essay", type=int, default=5)
    parser.add_argument("--window", type=float, default=60.0, help="seconds over which the units arrive")
    parser.add_argument("--think", type=float, default=5.0,
                        help="judges' mean pause between actions (s); 1: the stress figures")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--url", default=load_seed.DEFAULT_URL)
    parser.add_argument("--keep", action="store_true", help="keep the database and the server log afterwards")
    parser.add_argument("--seed", type=int, default=2027)
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--wait-quiet", type=float, default=300,
                        help="wait up to this many seconds for the machine to be idle before measuring")
    parser.add_argument("--fill", type=float, nargs=2, default=(30.0, 120.0), metavar=("MIN", "MAX"),
                        help="a unit logs in this many seconds (uniform) before its upload, filling in the form "
                             "meanwhile; 0 0: logs in and uploads at once")
    parser.add_argument("--no-scoring", action="store_true", help="skip the judges' phases")
    parser.add_argument("--no-rush", action="store_true", help="skip the units' rush")
    parser.add_argument("--prelogin", action="store_true",
                        help="units log in before the rush (not timed): the rush is the upload path alone")
    parser.add_argument("--keepalive", action="store_true", help="reuse connections (browser-style keep-alive)")
    args = parser.parse_args()
    if args.keepalive:
        global KEEPALIVE
        KEEPALIVE = 20
    if args.quick:
        args.units, args.judges, args.review_essays, args.per_essay, args.window = 40, 10, 20, 5, 15.0
        args.fill, args.think = (5.0, 15.0), 1.0

    started = time.perf_counter()
    maker = EssayMaker(args.seed)
    rng = random.Random(args.seed)
    load_seed.fresh_database(args.url)
    app = load_seed.seed_app(args.url)
    with app.app_context():
        seeded = load_seed.seed(args.url, maker, units=args.units + SOLO_UNITS + WARM_UNITS,
                                judges=args.judges + 2, review_essays=args.review_essays, per_essay=args.per_essay)
    plans = plan_rush(maker, seeded.units[:args.units], args.window, rng, tuple(args.fill))
    solo_plans = plan_rush(maker, seeded.units[args.units:args.units + SOLO_UNITS], 0, rng)
    warm_plans = plan_rush(maker, seeded.units[args.units + SOLO_UNITS:], 1, rng)
    judges, solo_judge, warm_judge = seeded.judges[:args.judges], seeded.judges[-2], seeded.judges[-1]
    load_seed.flush_redis()
    print(f"setup: {args.units} units, {args.judges} judges, {seeded.assignments} assignments, "
          f"{len(plans)} essays of {min(p.essay.words for p in plans)}-{max(p.essay.words for p in plans)} 字 "
          f"({statistics.median(len(p.essay.data) for p in plans) / 1024:.0f} KiB median) "
          f"in {time.perf_counter() - started:.0f} s", flush=True)

    server = Server(args.url, workers=args.workers, threads=args.threads)
    rec = Recorder()
    phases: dict[str, float] = {}
    cpu: dict[str, tuple[float, float, float]] = {}
    mark: tuple[float, tuple] = (0.0, ())

    def logged_in() -> None:
        """The judges' logins are done: they are a phase of their own (see judges_phase)."""
        nonlocal mark
        now, counted = time.perf_counter(), counters(workers)
        phases["judges log in"] = now - mark[0]
        cpu["judges log in"] = tuple(a - b for a, b in zip(counted, mark[1], strict=True))
        mark = (now, counted)
    try:
        server.start()
        server.warm_up()
        workers = server.worker_pids()
        quiet = wait_quiet(args.wait_quiet)
        print(quiet, flush=True)
        for name, run in (("warm-up", lambda: warm_phase(server.base, rec, warm_plans, seeded.open_id, warm_judge,
                                                          seeded.review_id)),
                          ("idle", lambda: idle_phase(server.base, rec)),
                          ("solo", lambda: solo_phase(server.base, rec, solo_plans, seeded.open_id, solo_judge,
                                                      seeded.review_id)),
                          ("rush", lambda: rush_phase(server.base, rec, plans, seeded.open_id, args.prelogin)),
                          ("scoring", lambda: judges_phase(server.base, rec, judges, seeded.review_id,
                                                           args.think, args.seed, logged_in))):
            if name == "scoring" and args.no_scoring:
                judge_outcomes = []
                continue
            if name == "rush" and args.no_rush:
                unit_outcomes = []
                continue
            mark = (time.perf_counter(), counters(workers))
            result = asyncio.run(run())
            phases[name] = time.perf_counter() - mark[0]
            cpu[name] = tuple(a - b for a, b in zip(counters(workers), mark[1], strict=True))
            if name == "warm-up":
                warm_units, warm_judged = result
            elif name == "solo":
                solo_units, solo_judged = result
            elif name == "rush":
                unit_outcomes = result
            elif name == "scoring":
                judge_outcomes = result
            print(f"phase {name}: {phases[name]:.1f} s, errors so far {len(rec.errors)}", flush=True)
        server_errors = server.log_errors()
    finally:
        server.stop()
    checks = verify(args.url, seeded.open_id, seeded.review_id, warm_units + solo_units + unit_outcomes,
                    [warm_judged, solo_judged, *judge_outcomes], seeded.assignments)
    lines, figures = report(rec, server, phases)
    if args.keep:
        print(f"kept: the database {args.url} and the server's log {server.log_path}")
    else:
        load_seed.drop_database(args.url)
        server.cleanup()

    facts = machine()
    login = "units logged in before the rush" if args.prelogin else \
        f"each unit logs in {args.fill[0]:.0f}-{args.fill[1]:.0f} s before its upload"
    print()
    print(f"{facts['date']} · {facts['cpu']} · {facts['uname']}")
    print(load_seed.versions())
    print(f"gunicorn -c gunicorn.conf.py --workers {args.workers} --threads {args.threads} (gthread); "
          f"{args.units} units within {args.window:.0f} s; {args.judges} judges, {seeded.assignments} "
          f"assignments, think time mean {args.think} s; login limit as configured (10 per minute per "
          f"username and address); {login}"
          f"; {'keep-alive' if args.keepalive else 'a new connection per request'}")
    print()
    print("\n".join(lines))
    print()
    print(f"- {quiet}; per s: requests per second over the phase's span (first request to last answer: "
          + ", ".join(f"{p} {spans_of(rec, p):.1f} s" for p in phases) + ")")
    for name, (workers_cpu, pg_cpu, client_cpu, busy, total) in cpu.items():
        others = max(0.0, busy - workers_cpu - pg_cpu - client_cpu)
        print(f"- CPU during {name} ({phases[name]:.1f} s wall, machine {busy / total:.0%} busy): gunicorn workers "
              f"{workers_cpu:.1f} s, PostgreSQL {pg_cpu:.1f} s, this client {client_cpu:.1f} s, "
              f"other processes {others:.1f} s")
    accepted = sum(len(o.stored) for o in unit_outcomes)
    print(f"- uploads: {accepted} stored, {sum(o.recognised for o in unit_outcomes)} recognised as the same file, "
          f"{sum(len(o.refused) for o in unit_outcomes)} refused; scores submitted: "
          f"{sum(len(j.submitted) for j in judge_outcomes)}")
    print(f"- errors: {len(rec.errors)}; server log tracebacks/errors: {len(server_errors)}")
    for e in rec.errors[:20]:
        print(f"  - {e}")
    for e in server_errors[:10]:
        print(f"  - server: {e}")
    print()
    print("| database check | result | detail |")
    print("|---|---|---|")
    for name, passed, detail in checks:
        print(f"| {name} | {'PASS' if passed else 'FAIL'} | {detail} |")
    if args.json:
        Path(args.json).write_text(json.dumps({f"{p}:{o}": v for (p, o), v in figures.items()}, indent=1,
                                              ensure_ascii=False))
    failed = rec.errors or server_errors or not all(passed for _, passed, _ in checks)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
