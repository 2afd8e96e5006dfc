"""`warroom apply -f org.yaml`: make the server match an organisation file, never deleting.

The whole file is checked (format, then every name it refers to, against the
file and the server) before the first write; a problem names file:line and
nothing is applied. The file's format is in examples/org.yaml.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from warroom.cli.apply_diff import plan
from warroom.cli.apply_plan import Change, Delta, attachments, check_references, fetch
from warroom.cli.apply_schema import Item, read_org
from warroom.cli.apply_yaml import Checker, load
from warroom.cli.client import EXIT_REFUSED, EXIT_USAGE, Client, CliError
from warroom.cli.output import console, errors, esc, print_json

KIND_NAMES = {"policy": "escalation policy"}
SIGNS = {"create": "[green]+[/green]", "change": "[yellow]~[/yellow]", "same": "[dim]=[/dim]"}


def apply(
    file: Annotated[
        Path, typer.Option("--file", "-f", help="organisation file (YAML), e.g. org.yaml")
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="show what would change; change nothing")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the changes as JSON")] = False,
) -> None:
    """Create or update what an organisation file describes; prints one line per object."""
    checker, items = _read(file)
    client = Client.from_env()
    server = fetch(client, items)
    check_references(items, server, checker)
    _stop_on_problems(str(file), checker)
    changes = plan(items, server)
    secrets = [] if dry_run else execute(client, changes)
    if as_json:
        print_json(
            {"dry_run": dry_run, "changes": [_change_json(c) for c in changes], "secrets": secrets}
        )
        return
    show(changes, dry_run=dry_run)
    show_secrets(secrets)


def _read(file: Path) -> tuple[Checker, list[Item]]:
    """The file's objects, or a usage error listing every problem with its line."""
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as error:
        raise CliError(f"cannot read {file}: {error.strerror or error}", EXIT_USAGE) from None
    except UnicodeDecodeError:
        raise CliError(f"{file}: not UTF-8 text", EXIT_USAGE) from None
    checker = load(text)
    items = attachments(read_org(checker), checker) if checker.data is not None else []
    _stop_on_problems(str(file), checker)
    return checker, items


def _stop_on_problems(name: str, checker: Checker) -> None:
    problems = sorted(dict.fromkeys(checker.problems), key=lambda p: p.line)
    if not problems:
        return
    for problem in problems:
        errors.print(
            f"[bold red]error:[/bold red] {esc(name)}:{problem.line}: {esc(problem.message)}",
            soft_wrap=True,
        )
    count = f"{len(problems)} problem{'s' if len(problems) > 1 else ''}"
    raise CliError(f"{name}: {count}; nothing applied", EXIT_USAGE)


def execute(client: Client, changes: list[Change]) -> list[dict[str, Any]]:
    """Send every planned call, by phase; returns the keys and secrets to show once."""
    calls = sorted(
        ((call, change) for change in changes for call in change.calls), key=lambda p: p[0].phase
    )
    secrets: list[dict[str, Any]] = []
    for done, (call, change) in enumerate(calls):
        try:
            body = call.build(client) if call.build else call.body
            reply = client.request(call.method, call.path, json_body=body)
        except CliError as error:
            if error.code != EXIT_REFUSED:
                raise
            so_far = f"{done} earlier request(s) went through" if done else "nothing was changed"
            raise CliError(
                f"{_name(change)}: {error.message} ({so_far}; fix the file and apply again)",
                EXIT_REFUSED,
            ) from None
        secret = reply.get("key") or reply.get("secret") if isinstance(reply, dict) else None
        if call.secret_of and secret:
            secrets.append(
                {"for": call.secret_of, "secret": secret, "endpoint": reply.get("endpoint")}
            )
    return secrets


def _name(change: Change) -> str:
    return f"{KIND_NAMES.get(change.item.kind, change.item.kind)} {change.item.key}"


def show_value(value: Any) -> str:
    """A value as a diff shows it."""
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        return ", ".join(show_value(v) for v in value) or "(empty)"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {show_value(v)}" for k, v in value.items()) + "}"
    return str(value) if value != "" else '""'


def _deltas(deltas: list[Delta]) -> str:
    return "; ".join(f"{d.field}: {show_value(d.old)} → {show_value(d.new)}" for d in deltas)


def show(changes: list[Change], *, dry_run: bool) -> None:
    """One line per object: + created, ~ changed (field: old → new), = unchanged, ! unsupported."""
    for change in changes:
        for line in _lines(change):
            console.print(line)
    console.print(summary(changes, dry_run=dry_run))


def _lines(change: Change) -> list[str]:
    name = esc(_name(change))
    supported = [d for d in change.deltas if d.supported]
    unsupported = [d for d in change.deltas if not d.supported]
    lines = []
    if change.action == "create":
        once = " (its key is shown once, when applied)" * (change.item.kind == "integration")
        lines.append(f"{SIGNS['create']} {name}{once}")
    elif change.action == "change":
        lines.append(f"{SIGNS['change']} {name}" + f": {esc(_deltas(supported))}" * bool(supported))
    elif not unsupported:
        lines.append(f"{SIGNS['same']} {name}: unchanged")
    if unsupported:
        stuck = esc(_deltas(unsupported))
        lines.append(f"[red]![/red] {name}: {stuck} (not supported by the server yet)")
    lines += [f"  [dim]{name}: {esc(note)}[/dim]" for note in change.notes]
    return lines


def summary(changes: list[Change], *, dry_run: bool) -> str:
    """The last line: how many objects were (or would be) created, changed, left unchanged."""
    created, changed, same = (sum(c.action == a for c in changes) for a in SIGNS)
    stuck = sum(any(not d.supported for d in c.deltas) for c in changes)
    if not created and not changed:
        line = f"no changes ({same} unchanged)"
    elif dry_run:
        line = (
            f"dry run: would create {created}, change {changed}; {same} unchanged; nothing applied"
        )
    else:
        line = f"applied: {created} created, {changed} changed, {same} unchanged"
    if stuck:
        line += f"; {stuck} with differences the server cannot change yet (! above)"
    return line


def show_secrets(secrets: list[dict[str, Any]]) -> None:
    for secret in secrets:
        where = f"  (send to {secret['endpoint']})" if secret.get("endpoint") else ""
        console.print(f"{esc(secret['for'])}: {esc(secret['secret'])}{esc(where)}")
    if secrets:
        errors.print("[dim]keys and secrets are shown only now: store them somewhere safe[/dim]")


def _change_json(change: Change) -> dict[str, Any]:
    return {
        "kind": change.item.kind,
        "name": change.item.key,
        "action": change.action,
        "deltas": [
            {"field": d.field, "old": d.old, "new": d.new, "supported": d.supported}
            for d in change.deltas
        ],
        "notes": change.notes,
    }
