"""Storing a print at its scope's next generation (see essays.similarity.models: the
generation is bumped under a row lock held to commit, so generations become visible in order)."""

from __future__ import annotations

from functools import cache

from sqlalchemy import Integer, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, make_transient_to_detached

from essays.similarity.models import SimilarityIndex, SimilarityPrint


@cache
def _insert_print_query(columns: tuple[str, ...]):
    """INSERT of a print whose generation is bumped in the same statement (PostgreSQL), built
    once (see essays.similarity.index._generations_query). Parameters: p_scope, and p_ before each of `columns`
    (a parameter named as a column would also be SET by the UPDATE)."""
    table = SimilarityPrint.__table__
    bumped = (update(SimilarityIndex).where(SimilarityIndex.scope == bindparam("p_scope", type_=Integer))
              .values(generation=SimilarityIndex.generation + 1).returning(SimilarityIndex.generation)
              .cte("bumped"))
    return (insert(table)
            .from_select(["scope", "generation", *columns],
                         select(bindparam("p_scope", type_=Integer), bumped.c.generation,
                                *(bindparam(f"p_{k}", type_=table.c[k].type) for k in columns)))
            .returning(table.c.id, table.c.generation))


def insert_print(session: Session, scope: int, values: dict) -> SimilarityPrint:
    """Stores a print at its scope's next generation and returns it, persistent in the session.

    On PostgreSQL the generation is bumped and the print inserted by one statement (the
    UPDATE in a CTE, its row lock held to commit as `bump` holds it): one round trip less
    on every upload. Elsewhere, and for a scope's first print (no row to bump yet), in two."""
    table = SimilarityPrint.__table__
    row = None
    if session.get_bind().dialect.name == "postgresql":
        row = session.execute(_insert_print_query(tuple(values)),
                              {"p_scope": scope, **{f"p_{k}": v for k, v in values.items()}}).first()
    if row is None:
        generation = bump(session, scope)
        row = session.execute(insert(table).values(scope=scope, generation=generation, **values)
                              .returning(table.c.id, table.c.generation)).one()
    stored = SimilarityPrint(id=row.id, scope=scope, generation=row.generation, **values)
    make_transient_to_detached(stored)  # it is in the database already: no second INSERT
    session.add(stored)
    return stored


def bump(session: Session, scope: int) -> int:
    """The next generation of a scope. The UPDATE locks its row until commit, so generations
    become visible in order (see the module doc of essays.similarity.models)."""
    generation = session.execute(
        update(SimilarityIndex).where(SimilarityIndex.scope == scope)
        .values(generation=SimilarityIndex.generation + 1).returning(SimilarityIndex.generation)
    ).scalar_one_or_none()
    if generation is not None:
        return generation
    try:  # a competition's first print; two first uploads may race to create the row
        with session.begin_nested():
            session.add(SimilarityIndex(scope=scope, generation=0))
            session.flush()
    except IntegrityError:
        pass
    return bump(session, scope)
