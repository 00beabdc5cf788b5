"""`idlemarket`: migrate, seed, serve, create users, and the one-command demo."""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session, sessionmaker

from api.serving import APP, UVICORN_OPTIONS, serve_processes, tune_interpreter
from api.settings import get_api_settings
from catalog import schema
from catalog.db import make_engine, make_session_factory, unit_of_work
from catalog.settings import get_settings
from catalog.users import service as users
from catalog.users.models import Role

app = typer.Typer(help="The idlemarket second-hand marketplace.", no_args_is_help=True)
db_app = typer.Typer(help="The database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
index_app = typer.Typer(help="The search index.", no_args_is_help=True)
app.add_typer(index_app, name="index")
ranking_app = typer.Typer(help="Ranking configuration.", no_args_is_help=True)
app.add_typer(ranking_app, name="ranking")
events_app = typer.Typer(help="Behaviour events.", no_args_is_help=True)
app.add_typer(events_app, name="events")
console = Console()


def _database_url() -> str:
    return get_settings().resolved_database_url()


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Migrate the database up to REVISION (default: the newest)."""
    schema.upgrade(_database_url(), revision)
    console.print(f"[green]database at {revision}[/green]")


@db_app.command("downgrade")
def db_downgrade(revision: str) -> None:
    """Migrate the database down to REVISION ('base' empties it)."""
    schema.downgrade(_database_url(), revision)
    console.print(f"[yellow]database at {revision}[/yellow]")


@db_app.command("current")
def db_current() -> None:
    """Print the revision the database is at."""
    schema.current(_database_url())


def _session_factory() -> sessionmaker[Session]:
    return make_session_factory(make_engine(_database_url()))


@index_app.command("rebuild")
def index_rebuild() -> None:
    """Build a new index from the catalog, swap it in, replay changes made meanwhile."""
    from rich.progress import Progress

    from indexer.engines import make_search_engine
    from indexer.maintenance import rebuild

    with Progress(console=console) as progress:
        task = progress.add_task("Indexing goods", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        started = time.perf_counter()
        result = rebuild(_session_factory(), make_search_engine(), progress=advance)
    console.print(
        f"[green]indexed {result.documents} goods in {time.perf_counter() - started:.1f} s; "
        f"replayed {result.replayed} changes; reconcile found "
        f"{result.reconciliation.differences} differences[/green]"
    )


def _rebuild_quietly() -> None:
    from indexer.engines import make_search_engine
    from indexer.maintenance import rebuild

    rebuild(_session_factory(), make_search_engine())


@index_app.command("reconcile")
def index_reconcile(
    repair: Annotated[bool, typer.Option("--repair/--dry-run")] = True,
) -> None:
    """Compare the index with the listed goods (ids and versions) and repair differences."""
    from indexer.engines import make_search_engine
    from indexer.maintenance import reconcile

    result = reconcile(_session_factory(), make_search_engine(), repair=repair)
    console.print(
        f"missing {result.missing}, stale {result.stale}, extra {result.extra}, "
        f"repaired {result.repaired}"
    )


@index_app.command("status")
def index_status() -> None:
    """The engine, documents indexed, and the outbox backlog."""
    from indexer.engines import make_search_engine
    from indexer.relay import backlog

    engine = make_search_engine()
    with unit_of_work(_session_factory()) as session:
        pending = backlog(session)
    healthy = engine.health()
    console.print(
        f"engine {engine.name} ({'healthy' if healthy else 'UNREACHABLE'}), "
        f"documents {engine.count() if healthy else '?'}, pending {pending.pending}, "
        f"parked {pending.parked}, last sync {pending.last_processed_at or 'never'}"
    )
    outdated = engine.outdated_fields() if healthy else []
    if outdated:
        console.print(
            f"[yellow]the index predates fields {', '.join(outdated)}: it still answers; "
            "`idlemarket index rebuild` adds them[/yellow]"
        )


@index_app.command("relay")
def index_relay(
    follow: Annotated[bool, typer.Option("--follow/--once")] = False,
) -> None:
    """Send pending outbox rows to the engine (once, or keep following new ones)."""
    from indexer.engines import make_search_engine
    from indexer.relay import RelayLoop, drain, listen_for_wake_ups

    factory, engine = _session_factory(), make_search_engine()
    if not follow:
        console.print(f"relayed {drain(factory, engine)} outbox rows")
        return
    loop = RelayLoop(factory, engine, poll_seconds=2.0)
    loop.start()
    stop = threading.Event()
    try:
        if _database_url().startswith("postgresql"):
            listen_for_wake_ups(_database_url(), loop.wake, stop)
        else:
            stop.wait()
    except KeyboardInterrupt:
        stop.set()
        loop.stop()


@ranking_app.command("publish")
def ranking_publish(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="a JSON file")],
    note: str = "",
) -> None:
    """Publish a ranking configuration (JSON of its fields); servers use it within seconds."""
    import json

    from pydantic import ValidationError

    from ranking.config import RankingConfig
    from ranking.config_store import publish

    try:
        config = RankingConfig.from_mapping(json.loads(file.read_text(encoding="utf-8")))
    except (ValueError, ValidationError) as error:
        console.print(f"[red]not a valid ranking configuration: {error}[/red]")
        raise typer.Exit(code=1) from error
    with unit_of_work(_session_factory()) as session:
        version = publish(session, config=config, note=note or file.name).version
    console.print(f"[green]published ranking configuration version {version}[/green]")


@events_app.command("export")
def events_export(
    out: Annotated[Path, typer.Option(help="a .parquet file to write")],
    since: Annotated[datetime, typer.Option(help="UTC, inclusive")],
    until: Annotated[datetime | None, typer.Option(help="UTC, exclusive; default now")] = None,
) -> None:
    """Export events for analysts as Parquet."""
    from ranking.export import export_events

    start = since.replace(tzinfo=UTC) if since.tzinfo is None else since
    end = until or datetime.now(UTC)
    end = end.replace(tzinfo=UTC) if end.tzinfo is None else end
    with _session_factory()() as session:
        count = export_events(session, since=start, until=end, out=out)
    console.print(f"[green]exported {count} events to {out}[/green]")


@app.command()
def seed(
    goods: Annotated[int, typer.Option(min=0, help="how many goods to generate")] = 2000,
    sellers: Annotated[int, typer.Option(min=1, help="how many sellers own them")] = 200,
    pending_share: Annotated[float, typer.Option(min=0, max=1)] = 0.05,
    random_seed: Annotated[int, typer.Option("--seed")] = 7,
) -> None:
    """Generate a realistic demo catalog (categories, sellers, goods with photos)."""
    from catalog.seed.bulk import seed_catalog

    settings = get_settings()
    report = seed_catalog(
        make_session_factory(make_engine(settings.resolved_database_url())),
        goods=goods,
        sellers=sellers,
        pending_share=pending_share,
        media_root=settings.resolved_media_root(),
        seed=random_seed,
        progress=True,
    )
    _rebuild_quietly()
    console.print(
        f"[green]seeded {report.goods} goods ({report.listed} listed, {report.pending} pending, "
        f"{report.rejected} rejected) from {report.sellers} sellers "
        f"in {report.seconds:.1f} s[/green]"
    )


@app.command("create-user")
def create_user(
    password: Annotated[str, typer.Option(prompt=True, hide_input=True)],
    role: Annotated[Role, typer.Option(help="user, reviewer, operator or admin")] = Role.USER,
    email: Annotated[str | None, typer.Option()] = None,
    phone: Annotated[str | None, typer.Option()] = None,
    nickname: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Create an account, typically staff: --role admin --email a@b.c --password ..."""
    from catalog.errors import CatalogError

    if len(password) < 8:
        raise typer.BadParameter("a password has at least 8 characters", param_hint="--password")
    factory = make_session_factory(make_engine(_database_url()))
    try:
        with unit_of_work(factory) as session:
            user = users.register(
                session,
                login=users.Login(email=email.lower() if email else None, phone=phone),
                password=password,
                nickname=nickname or (email or phone or "user").split("@")[0],
                role=role,
            )
            user_id = user.id
    except CatalogError as error:
        console.print(f"[red]{error.message}[/red]")
        raise typer.Exit(code=1) from error
    console.print(f"[green]created {role.value} #{user_id}[/green]")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="default: HOST or 127.0.0.1")] = None,
    port: Annotated[int | None, typer.Option(help="default: PORT or 8000")] = None,
    workers: Annotated[int, typer.Option(min=1, help="server processes")] = 1,
    reload: bool = False,
) -> None:
    """Serve the API (docs at /docs). With several workers, one of them runs the
    background work of the embedded default (it holds a lock under IDLEMARKET_HOME)."""
    api_settings = get_api_settings()
    bind_host, bind_port = host or api_settings.host, port or api_settings.port
    _point_sandbox_gateway_at(bind_host, bind_port)
    if workers > 1 and not reload:
        serve_processes(bind_host, bind_port, workers)
        return
    tune_interpreter()
    uvicorn.run(APP, factory=True, host=bind_host, port=bind_port, reload=reload, **UVICORN_OPTIONS)


def _point_sandbox_gateway_at(host: str, port: int) -> None:
    # The sandbox gateway notifies this very server; worker processes inherit the variable.
    if not os.environ.get("TRADE_SANDBOX_NOTIFY_URL"):
        from catalog.trade.notification_delivery import WEBHOOK_PATH

        reachable = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104 (a comparison)
        os.environ["TRADE_SANDBOX_NOTIFY_URL"] = f"http://{reachable}:{port}{WEBHOOK_PATH}"


@app.command()
def demo(
    goods: Annotated[int, typer.Option(min=0, help="generated goods on the first run")] = 2000,
    host: Annotated[str | None, typer.Option()] = None,
    port: Annotated[int | None, typer.Option()] = None,
    serve_after: Annotated[bool, typer.Option("--serve/--no-serve")] = True,
) -> None:
    """Migrate, seed a demo catalog on first run, print the demo accounts, and serve."""
    from api.demo import DEMO_ACCOUNTS, add_demo_seller_goods, ensure_demo_accounts
    from catalog.goods.models import Goods
    from catalog.media.store import MediaStore
    from catalog.seed.bulk import seed_catalog
    from catalog.seed.placeholder_photos import ensure_placeholder_photos
    from catalog.seed.taxonomy import ensure_categories

    settings = get_settings()
    url = settings.resolved_database_url()
    schema.upgrade(url)
    factory = make_session_factory(make_engine(url))
    media_root = settings.resolved_media_root()
    with unit_of_work(factory) as session:
        empty = session.query(Goods.id).first() is None
        ensure_categories(session)
        accounts = ensure_demo_accounts(session)
    if empty:
        seed_catalog(factory, goods=goods, media_root=media_root, progress=True)
        _rebuild_quietly()
        photo = media_root / ensure_placeholder_photos(media_root)["phones"].path
        with unit_of_work(factory) as session:
            seller, reviewer = (session.merge(accounts[1]), session.merge(accounts[2]))
            add_demo_seller_goods(
                session, seller=seller, reviewer=reviewer, store=MediaStore(media_root), photo=photo
            )

    table = Table(title="demo accounts (log in with email + password)")
    for column in ("role", "email", "password", "nickname"):
        table.add_column(column)
    for account in DEMO_ACCOUNTS:
        table.add_row(account.role.value, account.email, account.password, account.nickname)
    console.print(table)
    api_settings = get_api_settings()
    bind_host = host or api_settings.host
    bind_port = port or api_settings.port
    console.print(
        f"[bold]idlemarket at http://{bind_host}:{bind_port}[/bold]  "
        f"(API docs: http://{bind_host}:{bind_port}/docs, database: {url})"
    )
    if serve_after:
        serve(host=bind_host, port=bind_port)
