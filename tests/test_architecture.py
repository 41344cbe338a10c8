"""The house rules of the code (README, 代码结构 / Layout): one-way imports, no cycle,
explicit registration, models in `models` modules, and essays free of review's words."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.architecture import ROOT, cycles, modules

MODULES = modules()


def test_no_module_imports_another_in_a_cycle():
    assert cycles(MODULES) == []


def test_essays_never_imports_review_and_no_package_imports_app():
    for module in MODULES.values():
        if module.name.startswith("essays"):
            assert not {i for i in module.imports if i.split(".")[0] == "review"}, module.name
        if module.name != "app":
            assert "app" not in module.imports, module.name


def test_no_private_name_is_imported_from_another_module():
    private = [(m.name, source, name, line) for m in MODULES.values() for source, name, line in m.names
               if name.startswith("_") and not name.startswith("__") and source != m.name]
    assert private == []


def test_essays_holds_none_of_reviews_codes_labels_or_endpoints():
    from review.audit_names import ACTION_NAMES
    from review.errors import CODES

    words = [re.compile(rf"\b{code}\b") for code in CODES]
    words += [re.compile(re.escape(action)) for action in ACTION_NAMES]
    words += [re.compile(r"""['"](review_admin|judge|results)\.[a-z_]+['"]""")]
    essays_files = [p for p in (ROOT / "essays").rglob("*") if p.suffix in (".py", ".html")]
    essays_files += [p for p in (ROOT / "templates").rglob("*.html")
                     if p.relative_to(ROOT / "templates").parts[0] not in ("review", "judge")]
    found = [(str(p.relative_to(ROOT)), w.pattern) for p in essays_files for w in words
             if w.search(p.read_text(encoding="utf-8"))]
    assert found == []


def test_app_makes_no_import_for_its_side_effects():
    source = (ROOT / "app.py").read_text(encoding="utf-8")
    assert "noqa: F401" not in source and not re.search(r"^[ \t]+(import|from) ", source, flags=re.M)


def test_essays_keeps_at_most_fifteen_modules_at_its_top():
    top = [p.name for p in (ROOT / "essays").glob("*.py")]
    assert len(top) <= 15, top


IMPORT_EVERYTHING = """
import importlib, json, pkgutil
import essays, review
for package in (essays, review):
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        importlib.import_module(info.name)
from sqlalchemy import event
from sqlalchemy.orm import Session
from essays.competitions import phases
from essays.demo import build
from essays.intake import reread
from essays.jobs import queue, registry
from essays.platform import audit, audit_text

def registered():
    return {"job kinds": sorted(registry.KINDS), "minute tasks": sorted(registry.EVERY_MINUTE),
            "phase checks": sorted(phases._CHECKS), "phase entries": sorted(phases._ENTRIES),
            "demo phases": sorted(build.LATER_PHASES),
            "audit names": sorted(audit._REGISTERED),
            "audit words": sorted([*audit_text._OBJECTS, *audit_text._FIELDS, *audit_text._VALUES]),
            "reread listeners": sorted(reread.LISTENERS),
            "job listener": event.contains(Session, "after_commit", queue._send_pending)}

before = registered()
from app import create_app
app = create_app({"SECRET_KEY": "x", "TESTING": True, "DATABASE_URL": "sqlite://"})
print(json.dumps({"before": before, "after": registered()}))
"""


def test_importing_every_module_registers_nothing_and_create_app_registers_it_all():
    out = subprocess.run([sys.executable, "-c", IMPORT_EVERYTHING], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout
    import json

    seen = json.loads(out.strip().splitlines()[-1])
    assert seen["before"] == {"job kinds": [], "minute tasks": [], "phase checks": [], "phase entries": [],
                              "demo phases": [], "audit names": [], "audit words": [], "reread listeners": [],
                              "job listener": False}
    after = seen["after"]
    assert after["job kinds"] == ["batch.confirm", "references.load", "similarity.run"]
    assert after["minute tasks"] == ["essays.intake.reread.reread_versions", "essays.people.sessions.purge",
                                     "essays.people.throttle.upkeep", "essays.similarity.jobs.maintain_index",
                                     "essays.similarity.jobs.refresh_stale_reports"]
    assert after["reread listeners"] == ["review.prepare.version_reread"]
    assert after["phase checks"] == ["closed", "published", "ranked", "review"]
    assert after["phase entries"] == ["published", "ranked"]
    assert after["demo phases"] == ["closed", "published", "ranked", "review"]
    assert "review.freeze" in after["audit names"] and "score" in after["audit words"]
    assert after["job listener"] is True


def test_every_table_is_defined_in_a_models_module():
    from app import models_metadata
    from essays.platform.db import Base

    collected = set(models_metadata().tables)
    for package in ("essays", "review"):  # now import everything else too
        for path in (ROOT / package).rglob("*.py"):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            __import__(name)
    assert set(Base.metadata.tables) == collected
    for mapper in Base.registry.mappers:
        assert mapper.class_.__module__.rsplit(".", 1)[-1] == "models", mapper.class_


def test_the_admin_blueprints_hold_every_admin_page(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    for name in ("admin.home", "admin.jobs_list", "admin.audit", "admin.similarity_list", "admin.reference_library",
                 "admin.batch_import", "admin.units", "review_admin.overview", "review_admin.ranking_preview",
                 "review_admin.forward_page", "judge.home", "results.page"):
        assert name in endpoints, name
    assert Path(ROOT / "app.py").read_text(encoding="utf-8").count("init_app(app)") == 2
