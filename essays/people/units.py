"""Units: creating and editing them, and their family (parent and children).

Rules: names are unique; at most one unit is the organiser (the 大队 itself); a unit
cannot be its own ancestor.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from essays.models import Unit, User
from essays.platform.audit import record
from essays.platform.errors import Refusal


@dataclass
class UnitFields:
    name: str
    short_name: str
    aliases: list[str]
    parent_id: int | None
    contact_name: str
    contact_phone: str
    is_organiser: bool


def _snapshot(unit: Unit) -> dict:
    return {"name": unit.name, "short_name": unit.short_name, "aliases": list(unit.aliases),
            "parent_id": unit.parent_id, "contact_name": unit.contact_name,
            "contact_phone": unit.contact_phone, "is_organiser": unit.is_organiser}


def split_aliases(text: str) -> list[str]:
    """Aliases typed one per line or separated by 、 , ，; blanks and repeats dropped."""
    parts = [p.strip() for chunk in text.splitlines() for p in
             chunk.replace("，", ",").replace("、", ",").split(",")]
    return list(dict.fromkeys(p for p in parts if p))


def save_unit(session: Session, actor: User, fields: UnitFields, unit: Unit | None = None) -> Unit:
    name = fields.name.strip()
    if not name:
        raise Refusal("FORM_INVALID")
    clash = session.execute(select(Unit).where(Unit.name == name)).scalar_one_or_none()
    if clash is not None and clash is not unit:
        raise Refusal("UNIT_NAME_TAKEN", name=name)
    if fields.is_organiser:
        organiser = session.execute(select(Unit).where(Unit.is_organiser.is_(True))).scalar_one_or_none()
        if organiser is not None and organiser is not unit:
            raise Refusal("ORGANISER_TAKEN", name=organiser.name)
    parent = session.get(Unit, fields.parent_id) if fields.parent_id else None
    ancestor = parent
    while ancestor is not None:
        if unit is not None and ancestor.id == unit.id:
            raise Refusal("FORM_INVALID")
        ancestor = ancestor.parent
    before = _snapshot(unit) if unit is not None else None
    if unit is None:
        unit = Unit()
        session.add(unit)
    unit.name, unit.short_name = name, fields.short_name.strip()
    unit.aliases, unit.parent = fields.aliases, parent
    unit.contact_name, unit.contact_phone = fields.contact_name.strip(), fields.contact_phone.strip()
    unit.is_organiser = fields.is_organiser
    unit.active = True
    session.flush()
    record(session, "unit.update" if before else "unit.create", actor=actor, obj=unit,
           before=before, after=_snapshot(unit))
    return unit
