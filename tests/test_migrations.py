"""The models and the Alembic migrations agree: autogenerate finds nothing to do."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app import models_metadata


def test_no_pending_autogenerate_diff(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, models_metadata())
    assert diff == []


def test_schema_is_at_head(engine):
    from alembic.script import ScriptDirectory

    from essays.platform.migrate import alembic_config

    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    head = ScriptDirectory.from_config(alembic_config(str(engine.url))).get_current_head()
    assert current == head


def test_0014_stores_titles_without_their_enclosing_marks(tmp_path):
    """Titles stored before titles were cleaned lose an enclosing 《…》 pair (and keep marks
    that do not enclose the whole title)."""
    from alembic import command
    from sqlalchemy import create_engine, text

    from essays.platform.migrate import alembic_config

    url = f"sqlite:///{tmp_path / 'old.db'}"
    command.upgrade(alembic_config(url), "0013")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO unit (id, name, short_name, aliases, contact_name, contact_phone, active, "
                          "is_organiser) VALUES (1, '一中队', '', '[]', '', '', 1, 0)"))
        conn.execute(text("INSERT INTO competition (id, title, notice_text, char_limit, limit_is_hard, deadline, "
                          "min_per_unit, max_per_unit, phase, created_at, updated_at) VALUES (1, 't', '', 3000, 1, "
                          "'2027-05-20 16:00:00', 1, 1, 'open', '2027-01-01 00:00:00', '2027-01-01 00:00:00')"))
        for n, title in enumerate(["《论城管》", "《平凡的世界》读后感", "《《双重》》", "普通题目"], start=1):
            conn.execute(text("INSERT INTO submission (id, competition_id, unit_id, title, authors, contact_phone, "
                              "created_at, updated_at) VALUES (:n, 1, 1, :t, '[]', '', '2027-01-01 00:00:00', "
                              "'2027-01-01 00:00:00')"), {"n": n, "t": title})
    command.upgrade(alembic_config(url), "head")
    with engine.connect() as conn:
        titles = list(conn.execute(text("SELECT title FROM submission ORDER BY id")).scalars())
    engine.dispose()
    assert titles == ["论城管", "《平凡的世界》读后感", "双重", "普通题目"]


def test_0015_cleans_stored_file_names_and_ends_the_locks_failed_logins_set(tmp_path):
    """File names stored before names were cleaned lose control characters, separators and bidi
    overrides; locks that failed logins had set are lifted (failed logins lock no account now)."""
    from alembic import command
    from sqlalchemy import create_engine, text

    from essays.platform.migrate import alembic_config

    url = f"sqlite:///{tmp_path / 'old.db'}"
    command.upgrade(alembic_config(url), "0014")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO user_account (id, username, display_name, role, password_hash, "
                          "must_change_password, active, failed_logins, locked_until, session_version, created_at) "
                          "VALUES (1, 'admin', 'a', 'admin', 'x', 0, 1, 5, '2027-05-20 15:00:00', 1, "
                          "'2027-01-01 00:00:00')"))
        for n, name in enumerate(["a\r\nX.docx", "dir/b\u202e.zip", "普通.zip"], start=1):
            conn.execute(text("INSERT INTO reference_upload (id, filename, data, sha256, size, status, uploaded_by_id, "
                              "created_at) VALUES (:n, :name, x'00', :sha, 1, 'pending', 1, '2027-01-01 00:00:00')"),
                         {"n": n, "name": name, "sha": str(n) * 64})
    command.upgrade(alembic_config(url), "head")
    with engine.connect() as conn:
        names = list(conn.execute(text("SELECT filename FROM reference_upload ORDER BY id")).scalars())
        user = conn.execute(text("SELECT failed_logins, locked_until, locked_at FROM user_account")).one()
    engine.dispose()
    assert names == ["a X.docx", "dir_b.zip", "普通.zip"]
    assert tuple(user) == (0, None, None)


def test_0017_takes_the_dates_intake_opened_and_closed_from_the_audit_log(tmp_path):
    """Competitions moved before the dates were stored get them from their first phase moves."""
    from alembic import command
    from sqlalchemy import create_engine, text

    from essays.platform.migrate import alembic_config

    url = f"sqlite:///{tmp_path / 'old.db'}"
    command.upgrade(alembic_config(url), "0014")
    engine = create_engine(url)
    with engine.begin() as conn:
        for cid in (1, 2):
            conn.execute(text("INSERT INTO competition (id, title, notice_text, char_limit, limit_is_hard, deadline, "
                              "min_per_unit, max_per_unit, phase, created_at, updated_at) VALUES (:id, 't', '', 3000, "
                              "1, '2027-05-20 16:00:00', 1, 1, 'open', '2027-01-01 00:00:00', '2027-01-01 00:00:00')"),
                         {"id": cid})
        moves = [(1, "open", "2027-04-01 02:00:00"), (1, "intake_closed", "2027-05-21 03:00:00"),
                 (1, "open", "2027-04-02 02:00:00")]  # only the first move counts
        for seq, (cid, phase, at) in enumerate(moves, start=1):
            conn.execute(text("INSERT INTO audit_log (seq, created_at, action, object_type, object_id, before, "
                              "after, ip, prev_hash, hash) VALUES (:seq, :at, 'competition.phase', 'competition', "
                              ":cid, NULL, :after, '', '', '')"),
                         {"seq": seq, "at": at, "cid": str(cid), "after": f'{{"phase": "{phase}"}}'})
    command.upgrade(alembic_config(url), "head")
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, opened_at, intake_closed_at FROM competition ORDER BY id")).all()
    engine.dispose()
    assert [(r[0], str(r[1])[:19], str(r[2])[:19]) for r in rows] == [
        (1, "2027-04-01 02:00:00", "2027-05-21 03:00:00"), (2, "None", "None")]
