"""The audit log is append-only and hash-chained, and concurrent writers cannot fork it."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select, text, update

from essays.platform.audit import last_entry, record, verify_chain
from essays.platform.db import database
from essays.platform.models import AuditLog


def test_entries_chain_and_verify(session, make):
    admin = make.admin()
    first = record(session, "test.one", actor=admin, object_type="x", object_id=1, after={"a": 1})
    second = record(session, "test.two", actor=admin, before={"a": 1}, after={"a": 2})
    assert second.prev_hash == first.hash
    assert second.seq == first.seq + 1
    assert verify_chain(session) == (True, None)


def test_the_last_entry_of_an_action_about_an_object(session, make):
    admin, other = make.admin(), make.unit("某中队")
    unit = make.unit("另一中队")
    assert last_entry(session, "test.choose", unit) is None
    record(session, "test.choose", actor=admin, obj=unit, after={"n": 1})
    record(session, "test.choose", actor=admin, obj=other, after={"n": 2})  # another object
    newest = record(session, "test.choose", actor=admin, obj=unit, after={"n": 3})
    record(session, "test.other", actor=admin, obj=unit, after={"n": 4})  # another action
    assert last_entry(session, "test.choose", unit) == newest


def test_tampering_breaks_the_chain(session, make):
    record(session, "test.one", actor=make.admin(), after={"score": 80})
    entry = record(session, "test.two", after={"score": 90})
    record(session, "test.three")
    # Bypass the ORM guard, as someone editing the database directly would.
    session.execute(text("UPDATE audit_log SET after = :v WHERE seq = :s"),
                    {"v": '{"score": 99}', "s": entry.seq})
    session.expire_all()
    intact, bad = verify_chain(session)
    assert not intact and bad == entry.seq


def test_deleting_an_entry_breaks_the_chain(session):
    record(session, "test.one")
    entry = record(session, "test.two")
    record(session, "test.three")
    session.execute(text("DELETE FROM audit_log WHERE seq = :s"), {"s": entry.seq})
    session.expire_all()
    assert verify_chain(session)[0] is False


def test_orm_refuses_updates_and_deletes(session):
    entry = record(session, "test.one")
    entry.action = "changed"
    with pytest.raises(PermissionError):
        session.flush()
    session.rollback()
    entry = record(session, "test.two")
    session.delete(entry)
    with pytest.raises(PermissionError):
        session.flush()


def test_core_updates_bypass_the_guard_but_break_the_chain(session):
    record(session, "test.one")
    session.execute(update(AuditLog).values(action="x"))  # core statements bypass the ORM
    session.expire_all()
    assert verify_chain(session)[0] is False


def test_concurrent_writers_do_not_fork_the_chain(committed_app):
    """Eight threads, each with its own connection and transaction, append at once."""
    factory = database(committed_app).sessionmaker
    errors = []

    def write(n):
        try:
            with factory() as s:
                for i in range(5):
                    record(s, "test.concurrent", object_type="thread", object_id=f"{n}-{i}")
                    s.commit()
        except Exception as e:  # surfaced below
            errors.append(e)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with factory() as s:
        entries = s.execute(select(AuditLog).order_by(AuditLog.seq)).scalars().all()
        assert [e.seq for e in entries] == list(range(1, 41))
        assert verify_chain(s) == (True, None)


def test_the_address_is_part_of_the_hash(session):
    entry = record(session, "test.ip", ip="10.1.2.3")
    record(session, "test.after")
    session.execute(text("UPDATE audit_log SET ip = '10.9.9.9' WHERE seq = :s"), {"s": entry.seq})
    session.expire_all()
    assert verify_chain(session) == (False, entry.seq)
