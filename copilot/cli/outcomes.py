"""`copilot outcomes report [--since] [--until] [--tenant] [--json]`: resolution (confirmed, assumed), handoff and
containment rates by intent and by tool (copilot/telemetry/outcomes.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer

from copilot.packs import load_pack
from copilot.settings import Settings
from copilot.store.database import make_engine
from copilot.telemetry.outcomes import OutcomeCounts, OutcomesReport, intent_labeller, outcomes

outcomes_app = typer.Typer(help="Conversation outcomes: resolution, handoff and containment rates.")
When = Annotated[
    datetime | None,
    typer.Option(help="Conversations started at or after (--since) / before (--until) this UTC time or day."),
]
_COLUMNS = ("conversations", "confirmed", "assumed", "pending", "handed_off", "unresolved")


@outcomes_app.command("report")
def report(
    since: When = None,
    until: When = None,
    tenant: Annotated[str | None, typer.Option(help="One tenant (default: every tenant).")] = None,
    window_hours: Annotated[
        float | None, typer.Option(min=0.001, help="Default: COPILOT_RESOLUTION_WINDOW_HOURS.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Print resolution (confirmed, assumed), handoff and containment rates, by intent and by tool."""
    settings = Settings()
    window = timedelta(hours=window_hours or settings.resolution_window_hours)
    pack = load_pack(settings.pack_path)
    labeller = intent_labeller(pack.intents, pack.articles_dir)
    engine = make_engine(settings.resolved_database_url)
    try:
        result = outcomes(
            engine, since=_utc(since), until=_utc(until), tenant=tenant, window=window, labeller=labeller
        )
    finally:
        engine.dispose()
    typer.echo(json.dumps(to_json(result), indent=2) if as_json else "\n".join(lines(result)))


def lines(result: OutcomesReport) -> list[str]:
    span = f"{_day(result.since)} … {_day(result.until)}"
    hours = result.window.total_seconds() / 3600
    head = f"outcomes of {result.tenant or 'every tenant'}, conversations started {span} (window {hours:g} h)"
    out = [head, _summary(result.total), ""]
    for title, groups in (("intent", result.by_intent), ("tool", result.by_tool)):
        width = max([len(title), *map(len, groups)]) + 2
        out.append(
            f"{'by ' + title:<{width + 3}}"
            + "".join(f"{c:>14}" for c in (*_COLUMNS, "resolution", "handoff"))
        )
        for key, counts in groups.items():
            cells = [str(getattr(counts, c)) for c in _COLUMNS] + [
                _pct(counts.resolution_rate),
                _pct(counts.handoff_rate),
            ]
            out.append(f"   {key:<{width}}" + "".join(f"{cell:>14}" for cell in cells))
        out.append("")
    return out


def _summary(t: OutcomeCounts) -> str:
    return (
        f"conversations {t.conversations} · resolution {_pct(t.resolution_rate)} · confirmed {t.confirmed} "
        f"({_pct(t.confirmed_rate)}) · assumed {t.assumed} ({_pct(t.assumed_rate)}) · pending {t.pending} · "
        f"unresolved {t.unresolved} · handoff {_pct(t.handoff_rate)} · containment {_pct(t.containment_rate)} · "
        f"feedback {t.feedback_up} up / {t.feedback_down} down · cost ${t.cost_usd:.4f}, per resolution "
        f"{'-' if t.cost_per_resolution is None else f'${t.cost_per_resolution:.4f}'}"
    )


def to_json(result: OutcomesReport) -> dict[str, object]:
    return {
        "tenant": result.tenant,
        "since": result.since.isoformat() if result.since else None,
        "until": result.until.isoformat() if result.until else None,
        "window_hours": result.window.total_seconds() / 3600,
        "total": result.total.as_dict(),
        "by_intent": {key: counts.as_dict() for key, counts in result.by_intent.items()},
        "by_tool": {key: counts.as_dict() for key, counts in result.by_tool.items()},
        "by_day": {key: counts.as_dict() for key, counts in result.by_day.items()},
    }


def _pct(rate: float | None) -> str:
    return "-" if rate is None else f"{rate:.1%}"


def _day(value: datetime | None) -> str:
    return value.isoformat() if value is not None else "(any)"


def _utc(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value
