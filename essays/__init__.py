"""Essays: the base package (platform, people, competitions, intake, copy detection, the
bureau package, the demo). `review` builds on it; it never imports `review`.

`init_app(app)` registers everything essays has on an app, in one place: the platform
(database, security, error pages), the blueprints (the admin's pages are gathered from
the feature modules that declare them), the commands, the job kinds and the minute
upkeep. Importing a module of essays registers nothing.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from flask.cli import AppGroup

    from essays.competitions import cli as competition_cli
    from essays.competitions import views as competition_views
    from essays.competitions.phases import PHASE_NAMES
    from essays.demo import cli as demo_cli
    from essays.intake import admin_views as intake_views
    from essays.intake import batch, reread, unit_views
    from essays.intake import cli as intake_cli
    from essays.intake.format_rules import describe_rules
    from essays.intake.rules import STATUS_NAMES
    from essays.intake.titles import book_title
    from essays.jobs import queue, registry
    from essays.jobs import views as job_views
    from essays.package import cli as package_cli
    from essays.people import auth, sessions, throttle
    from essays.people import cli as people_cli
    from essays.people import views as people_views
    from essays.platform import audit_text, audit_views, pages, wiring
    from essays.platform import cli as platform_cli
    from essays.platform.web import shared_blueprint
    from essays.similarity import cli as similarity_cli
    from essays.similarity import index_cli, reference_views
    from essays.similarity import jobs as similarity_jobs
    from essays.similarity import views as similarity_views

    wiring.init_app(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(unit_views.bp)
    app.register_blueprint(shared_blueprint(
        "admin", __name__, "/admin", competition_views.routes, people_views.routes, intake_views.routes,
        similarity_views.routes, reference_views.routes, job_views.routes, audit_views.routes))
    pages.set_home(app, "admin", "admin.home")
    pages.set_home(app, "unit", "unit.home")
    app.jinja_env.filters["format_rules_text"] = describe_rules
    app.jinja_env.filters["book_title"] = book_title
    audit_text.register_words(values={"phase": PHASE_NAMES})
    app.jinja_env.globals.update(PHASE_NAMES=PHASE_NAMES, STATUS_NAMES=STATUS_NAMES)
    app.add_template_global(similarity_views.similarity_status)

    queue.listen()
    for kind in (*batch.KINDS, *similarity_jobs.KINDS):
        registry.register_kind(kind)
    for task in (*similarity_jobs.MINUTE_TASKS, throttle.upkeep, sessions.purge, reread.reread_versions):
        registry.register_minute_task(task)

    platform_cli.after_schema(app, index_cli.after_init_db, index_cli.after_restore)
    for command in (*platform_cli.COMMANDS, *people_cli.COMMANDS, *competition_cli.COMMANDS, demo_cli.demo_command):
        app.cli.add_command(command)
    files = AppGroup("essays", help="征文文件：上传前检查（inspect）、批量导入（import）、"
                                    "导入报送材料包（import-package）与查重（similar、similar-run）。")
    for command in (*intake_cli.COMMANDS, *package_cli.COMMANDS, *similarity_cli.COMMANDS,
                    index_cli.similar_index_command):
        files.add_command(command)
    app.cli.add_command(files)
