"""The `warroom` command: server commands and a client of the HTTP API."""

from __future__ import annotations

import sys

import typer

from warroom.cli import (
    alerts,
    apply,
    config,
    incidents,
    oncall,
    postmortems,
    report,
    server,
    statuspage,
    users,
)
from warroom.cli.client import CliError
from warroom.cli.output import errors, esc

app = typer.Typer(
    name="warroom",
    help="Incident management: declare, run and resolve incidents.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

app.command("serve")(server.serve)
app.command("worker")(server.worker_command)
app.command("demo")(server.demo_command)
app.command("apply")(apply.apply)
app.add_typer(server.db_app, name="db")
app.command("login")(users.login)
app.add_typer(users.user_app, name="user")
app.add_typer(users.token_app, name="token")
app.add_typer(users.team_app, name="team")
app.add_typer(users.service_app, name="service")
app.add_typer(config.severity_app, name="severity")
app.add_typer(config.template_app, name="template")
app.add_typer(alerts.integration_app, name="integration")
app.command("alerts")(alerts.alerts)
app.command("report-issue")(alerts.report_issue)
app.command("changes")(alerts.changes)
users.service_app.command("alert-settings")(alerts.service_alert_settings)
app.add_typer(oncall.oncall_app, name="oncall")
app.add_typer(oncall.schedule_app, name="schedule")
app.add_typer(oncall.policy_app, name="policy")
app.add_typer(oncall.contact_app, name="contact")
app.add_typer(oncall.notify_app, name="notify")
app.command("pages")(oncall.pages)
app.command("outbox")(oncall.outbox_ls)
app.command("postmortem")(postmortems.postmortem)
app.command("report")(report.report)
app.add_typer(statuspage.statuspage_app, name="statuspage")
app.add_typer(postmortems.action_app, name="action")
app.command("escalate")(oncall.escalate)
app.command("reassign")(oncall.reassign)
for command in incidents.COMMANDS:
    app.command(command.__name__)(command)


def run() -> None:
    """Entry point: run the CLI; user mistakes end in one line, not a traceback."""
    try:
        app(standalone_mode=True)
    except CliError as error:
        errors.print(f"[bold red]error:[/bold red] {esc(error.message)}", soft_wrap=True)
        sys.exit(error.code)
