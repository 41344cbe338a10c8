"""Review: blind copies and the identity check, judging, ranking, awards, publicity, the
package for the bureau and the documents made after the results. It builds on `essays` (which never imports it).

`init_app(app)` registers everything the review has on an app, in one place: its
blueprints (the admin's review pages are gathered from the modules that declare them),
its links on essays' pages (the review, the documents after the results), the judges'
landing page, its commands, the checks of the phases it owns and the operations entering
them (for `competition advance`), the demo's later phases and the names of its audit
actions. Importing a module of review registers nothing.
"""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l


def init_app(app: Flask) -> None:
    from essays.competitions import phases
    from essays.demo import build as demo
    from essays.intake import reread
    from essays.platform import audit, audit_text, pages
    from essays.platform.web import shared_blueprint
    from review import (
        admin_documents,
        admin_forward,
        admin_ranking,
        admin_scores,
        admin_views,
        audit_names,
        checks,
        freeze,
        lifecycle,
        prepare,
        publicity,
        results,
        views,
    )
    from review import demo as review_demo
    from review.cli import review_cli

    app.register_blueprint(views.bp)
    app.register_blueprint(results.bp)
    app.register_blueprint(shared_blueprint(
        "review_admin", __name__, "/admin", admin_views.routes, admin_scores.routes, admin_ranking.routes,
        admin_forward.routes, admin_documents.routes))
    app.cli.add_command(review_cli)

    pages.set_home(app, "judge", "judge.home")
    pages.add_link(app, "nav.judge", pages.Link(_l("评审"), "judge.home"))
    pages.add_link(app, "competition.actions", pages.Link(
        _l("评审"), "review_admin.overview", args=lambda competition: {"competition_id": competition.id}))
    pages.add_link(app, "competition.actions", pages.Link(
        _l("证书、汇编与通报"), "review_admin.documents_page",
        args=lambda competition: {"competition_id": competition.id},
        when=lambda competition: competition.phase in ("published", "closed")))
    pages.add_link(app, "unit.competition", pages.Link(
        _l("查看评审结果公示"), "results.page", args=lambda competition: {"competition_id": competition.id},
        when=lambda competition: competition.phase in ("published", "closed"), css=""))
    pages.add_link(app, "competition.actions", pages.Link(
        _l("排名与公示"), "review_admin.ranking_preview", args=lambda competition: {"competition_id": competition.id},
        when=lambda competition: competition.phase in ("ranked", "published", "closed")))
    pages.add_link(app, "competition.actions", pages.Link(
        _l("公示与异议"), "review_admin.ranking_preview",
        args=lambda competition: {"competition_id": competition.id, "_anchor": "publicity"},
        when=lambda competition: competition.phase in ("published", "closed")))
    pages.add_note(app, "unit.submission", results.unit_notice)

    phases.register_check("review", checks.ready_for_review)
    phases.register_check("ranked", freeze.only_by_freezing)
    phases.register_check("published", publicity.only_by_publishing)
    phases.register_check("closed", publicity.ready_to_close)
    for target, entry in lifecycle.ENTRIES.items():
        phases.register_entry(target, entry)
    demo.register_phase("review", review_demo.build_review)
    demo.register_phase("ranked", review_demo.build_ranked)
    demo.register_phase("published", review_demo.build_published)
    demo.register_phase("closed", review_demo.build_closed)
    audit.register_action_names(audit_names.ACTION_NAMES)
    audit_text.register_words(audit_names.OBJECT_NAMES, audit_names.FIELD_NAMES, audit_names.VALUE_NAMES)
    reread.register_listener(prepare.version_reread)
