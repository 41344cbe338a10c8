"""The kinds of background job and the upkeep the consumer runs once a minute.

A feature declares what a job does as a `JobKind` (a constant in its own `jobs` module)
and its package's `init_app` registers it with `register_kind`; upkeep is a function
`fn(session, now)` registered with `register_minute_task`. Nothing registers on import:
a kind that no `init_app` registered is unknown, and `enqueue` refuses it at once rather
than leaving a job that no consumer can run.

The tables are per process and the same in every process (each builds its app with
`create_app()`, which registers them all): they hold code, not state.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session


@dataclass(frozen=True)
class JobKind:
    """`run(session, job, progress) -> dict` does the work; the dict becomes `job.result`.
    `title` (a lazy string) names the kind on the jobs page; `template` (optional) renders
    the result there, given `job` and `result`. A kind raises `Refusal` for a failure the
    user can act on; it never changes `job` itself (the runner owns the row)."""

    kind: str
    title: object
    run: Callable[..., dict]
    template: str | None = None


KINDS: dict[str, JobKind] = {}

# Upkeep the consumer runs once a minute: fn(session, now), committed after each. Not jobs
# (no row, nothing to show while nothing is to do): each audits what it changes.
EVERY_MINUTE: dict[str, Callable[[Session, datetime], object]] = {}


def register_kind(kind: JobKind) -> None:
    """Adds `kind`; registering the same kind again is a no-op (every app of the process
    registers it), another function under the same name is a programming error."""
    known = KINDS.get(kind.kind)
    if known is not None and known != kind:
        raise ValueError(f"job kind {kind.kind!r} is already registered by {known.run.__module__}")
    KINDS[kind.kind] = kind


def register_minute_task(fn: Callable[[Session, datetime], object]) -> None:
    EVERY_MINUTE[f"{fn.__module__}.{fn.__qualname__}"] = fn


def find(kind: str) -> JobKind | None:
    return KINDS.get(kind)


def kind_title(kind: str) -> str:
    known = KINDS.get(kind)
    return str(known.title) if known else kind
