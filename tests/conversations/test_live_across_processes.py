"""Live delivery across server processes: a message posted to one server reaches a socket
held by another (through Redis), once and in order; a socket that reconnects with the last
id it saw gets exactly what it missed, then live ones; strangers are refused.

Two real `idlemarket serve` processes share a PostgreSQL database of their own (`live_test`
on TEST_DATABASE_URL's server: other tests reset the schema of TEST_DATABASE_URL's
database) and Redis database 13. Without TEST_DATABASE_URL or TEST_REDIS_URL the tests
skip, unless REQUIRE_POSTGRES / REQUIRE_REDIS ask for a failure instead.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlencode, urlsplit, urlunsplit

import httpx2
import pytest
import redis
from sqlalchemy import Engine, create_engine, func, make_url, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from api.live import LiveHub, publish_announcements_on_commit
from catalog import schema
from catalog.clock import utcnow
from catalog.conversations import service as conversations
from catalog.conversations.models import Message
from catalog.db import make_engine, make_session_factory
from catalog.live_redis import Announcement
from catalog.seed.taxonomy import ensure_categories
from catalog.users.models import User
from tests.factories import PASSWORD, listed_goods, make_user
from tests.servers import free_port, stop, wait_until_up

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "")
DATABASE = "live_test"
REDIS_DB = 13
PROJECT_ROOT = Path(__file__).resolve().parents[2]
V1 = "/api/v1"
WAIT = 10.0  # seconds a server may take to answer, or a socket to hear what it should
QUIET = 1.0  # seconds of silence that count as "nothing more arrives"
LIMITLESS = "1000000"
_ROLES = {"seller": "卖家", "buyer": "买家", "stranger": "路人"}


@dataclass(frozen=True)
class World:
    """Two servers on one database and one Redis, and three logged-in people."""

    database_url: str
    redis_url: str
    first: str  # messages are posted here
    second: str  # sockets listen here
    engine: Engine
    factory: sessionmaker[Session]
    media_root: Path
    user_ids: dict[str, int]
    tokens: dict[str, str]

    def headers(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


def _unavailable(reason: str, required: str) -> NoReturn:
    if os.environ.get(required, "") not in ("", "0", "false"):
        pytest.fail(f"{required} is set but {reason}")
    pytest.skip(reason)


def _own_database() -> str:
    """A fresh database next to TEST_DATABASE_URL's, for these tests alone."""
    if not POSTGRES_URL:
        _unavailable("TEST_DATABASE_URL is not set", "REQUIRE_POSTGRES")
    url = make_url(POSTGRES_URL)
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{DATABASE}"'))
    except OperationalError as error:
        _unavailable(f"PostgreSQL at TEST_DATABASE_URL is unreachable: {error}", "REQUIRE_POSTGRES")
    finally:
        admin.dispose()
    return url.set(database=DATABASE).render_as_string(hide_password=False)


def _own_redis() -> str:
    """TEST_REDIS_URL's server, database 13 (other tests use TEST_REDIS_URL's own)."""
    if not REDIS_URL:
        _unavailable("TEST_REDIS_URL is not set", "REQUIRE_REDIS")
    url = urlunsplit(urlsplit(REDIS_URL)._replace(path=f"/{REDIS_DB}", query=""))
    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.RedisError as error:
        _unavailable(f"Redis at TEST_REDIS_URL is unreachable: {error}", "REQUIRE_REDIS")
    finally:
        client.close()
    return url


def _serve(env: dict[str, str], home: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    home.mkdir(parents=True)
    with (home / "server.log").open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 (our own interpreter, fixed arguments)
            [sys.executable, "-m", "api", "serve", "--port", str(port)],
            env={**env, "IDLEMARKET_HOME": str(home), "PORT": str(port)},
            cwd=PROJECT_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    return process, f"127.0.0.1:{port}"


def _wait_until_up(servers: list[tuple[subprocess.Popen[bytes], str]], home: Path) -> None:
    deadline = time.monotonic() + 60

    def logs() -> str:
        return "\n".join(p.read_text(errors="replace")[-3000:] for p in home.glob("*/*.log"))

    for process, host in servers:
        wait_until_up(
            f"http://{host}{V1}/healthz",
            process,
            seconds=max(0.1, deadline - time.monotonic()),
            output=logs,
        )


def _log_in(host: str, email: str) -> str:
    response = httpx2.post(
        f"http://{host}{V1}/auth/login",
        json={"email": email, "password": PASSWORD},
        timeout=WAIT,
    )
    assert response.status_code == 200, response.text
    return str(response.json()["token"])


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    redis_url = _own_redis()
    database_url = _own_database()
    root = tmp_path_factory.mktemp("live")
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        # One address, a few hundred requests: the limiter is not under test here.
        "MESSAGES_PER_MINUTE": LIMITLESS,
        "WRITES_PER_MINUTE": LIMITLESS,
        "LOGIN_ATTEMPTS_PER_WINDOW": LIMITLESS,
    }
    # Each server has a home of its own (search index, media); they share only the database
    # and Redis, as servers on two machines would. They boot while the schema is migrated
    # (nothing reads a table before the first request).
    servers: list[tuple[subprocess.Popen[bytes], str]] = []
    engine = make_engine(database_url)
    try:
        servers += [_serve(env, root / "first"), _serve(env, root / "second")]
        schema.upgrade(database_url)
        factory = make_session_factory(engine)
        user_ids, emails = _people(factory)
        _wait_until_up(servers, root)
        first, second = (host for _, host in servers)
        tokens = {role: _log_in(first, email) for role, email in emails.items()}
        yield World(
            database_url=database_url,
            redis_url=redis_url,
            first=first,
            second=second,
            engine=engine,
            factory=factory,
            media_root=root / "media",
            user_ids=user_ids,
            tokens=tokens,
        )
    finally:
        for process, _ in servers:
            stop(process, seconds=10)
        engine.dispose()


def _people(factory: sessionmaker[Session]) -> tuple[dict[str, int], dict[str, str]]:
    """The seller, the buyer and a stranger: their ids and emails."""
    with factory() as session:
        # The live channel is one for every Redis database number: user ids far from other
        # runs' keep their announcements from reaching our sockets, and ours theirs.
        session.execute(
            text("SELECT setval(pg_get_serial_sequence('users', 'id'), :start)"),
            {"start": random.randrange(10**9, 2 * 10**9)},
        )
        ensure_categories(session)
        people = {role: make_user(session, nickname=name) for role, name in _ROLES.items()}
        session.commit()
        return (
            {role: user.id for role, user in people.items()},
            {role: user.email or "" for role, user in people.items()},
        )


def _open_conversation(world: World) -> int:
    """New listed goods of the seller's, and the buyer's conversation about them (server 1)."""
    with world.factory() as session:
        seller = session.get_one(User, world.user_ids["seller"])
        goods_id = listed_goods(
            session, seller=seller, title="九成新 索尼 WH-1000XM4 耳机", media_root=world.media_root
        )
        session.commit()
    response = httpx2.post(
        f"http://{world.first}{V1}/goods/{goods_id}/conversations",
        headers=world.headers("buyer"),
        timeout=WAIT,
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


@pytest.fixture
def conversation(world: World) -> int:
    return _open_conversation(world)


def _post(world: World, conversation_id: int, text: str) -> dict[str, Any]:
    """The buyer says `text` through server 1; the message as stored."""
    response = httpx2.post(
        f"http://{world.first}{V1}/conversations/{conversation_id}/messages",
        json={"text": text},
        headers=world.headers("buyer"),
        timeout=WAIT,
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def _socket(
    world: World,
    token: str,
    *,
    after: int = 0,
    conversation_id: int | None = None,
    server: str | None = None,
) -> ClientConnection:
    """A live socket on `server` (server 2 unless told)."""
    query: dict[str, str | int] = {"token": token, "after": after}
    if conversation_id is not None:
        query["conversation_id"] = conversation_id
    return connect(
        f"ws://{server or world.second}{V1}/ws?{urlencode(query)}",
        open_timeout=WAIT,
        close_timeout=2,
        proxy=None,
    )


def _next_message(live: ClientConnection, timeout: float = WAIT) -> dict[str, Any]:
    """The next chat message on the socket (notices about messages are skipped)."""
    deadline = time.monotonic() + timeout
    while True:
        event = _decode(live.recv(timeout=max(0.0, deadline - time.monotonic())))
        if event.get("type") == "message":
            return event


def _messages_within(live: ClientConnection, seconds: float) -> list[dict[str, Any]]:
    """Every chat message the socket hears in the next `seconds`."""
    heard = []
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            event = _decode(live.recv(timeout=left))
        except TimeoutError:
            break
        if event.get("type") == "message":
            heard.append(event)
    return heard


def _decode(raw: str | bytes) -> dict[str, Any]:
    event = json.loads(raw)
    assert isinstance(event, dict), event
    return event


def _last_message_id(world: World) -> int:
    with world.factory() as session:
        return int(session.scalar(select(func.max(Message.id))) or 0)


def test_messages_posted_on_one_server_reach_a_socket_on_the_other_once_in_order(
    world: World, conversation: int
) -> None:
    with _socket(world, world.tokens["seller"], conversation_id=conversation) as live:
        sent = [_post(world, conversation, f"第{n}条：还在吗？") for n in range(1, 11)]
        heard = [_next_message(live) for _ in sent]
        assert [m["id"] for m in heard] == [m["id"] for m in sent]
        assert [m["id"] for m in heard] == sorted({m["id"] for m in heard})
        assert [m["text"] for m in heard] == [m["text"] for m in sent]
        assert {m["sender_id"] for m in heard} == {world.user_ids["buyer"]}
        # Nothing comes twice: the next message heard is the next one sent.
        last = _post(world, conversation, "最后一条")
        assert _next_message(live)["id"] == last["id"]


def test_messages_sent_on_a_socket_of_one_server_reach_a_socket_on_the_other_once_in_order(
    world: World, conversation: int
) -> None:
    texts = [f"第{n}条：能便宜点吗？" for n in range(60)]
    with (
        _socket(world, world.tokens["seller"], conversation_id=conversation) as seller,
        _socket(
            world, world.tokens["buyer"], conversation_id=conversation, server=world.first
        ) as buyer,
    ):
        # All at once, so the server commits them in batches.
        for n, text in enumerate(texts):
            frame = {"type": "send", "conversation_id": conversation, "text": text, "ref": str(n)}
            buyer.send(json.dumps(frame, ensure_ascii=False))
        answers: dict[str, dict[str, Any]] = {}
        while len(answers) < len(texts):
            event = _decode(buyer.recv(timeout=WAIT))
            if event["type"] in ("sent", "error"):
                answers[event["ref"]] = event
        heard = [_next_message(seller) for _ in texts]
        assert _messages_within(seller, 0.5) == []  # and nothing twice

    acknowledged = [answers[str(n)] for n in range(len(texts))]
    assert {a["type"] for a in acknowledged} == {"sent"}
    ids = [a["id"] for a in acknowledged]
    assert ids == sorted(set(ids))  # committed in the order sent
    assert [m["id"] for m in heard] == ids
    assert [m["text"] for m in heard] == texts
    with world.factory() as session:
        stored = session.scalars(
            select(Message.text).where(Message.conversation_id == conversation)
        ).all()
    assert sorted(stored) == sorted(texts)


def test_a_reconnecting_socket_gets_exactly_what_it_missed_then_live_ones(
    world: World, conversation: int
) -> None:
    with _socket(world, world.tokens["seller"], conversation_id=conversation) as live:
        seen = _post(world, conversation, "在吗")
        assert _next_message(live)["id"] == seen["id"]
    missed = [_post(world, conversation, f"离线时第{n}条") for n in range(1, 4)]

    with _socket(
        world, world.tokens["seller"], after=seen["id"], conversation_id=conversation
    ) as live:
        caught_up = [_next_message(live) for _ in missed]
        assert [(m["id"], m["text"]) for m in caught_up] == [(m["id"], m["text"]) for m in missed]
        now = _post(world, conversation, "重连后实时一条")
        assert _next_message(live)["id"] == now["id"]
        assert _messages_within(live, QUIET) == []


def _refusal(world: World, token: str, conversation_id: int | None = None) -> int:
    """How server 2 refuses the socket: an HTTP status at the handshake, or a close code."""
    try:
        with _socket(world, token, conversation_id=conversation_id) as live:
            live.recv(timeout=WAIT)
    except InvalidStatus as refused:
        return refused.response.status_code
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else 1005  # 1005: closed without a code
    except TimeoutError:
        pass
    pytest.fail("the socket was let in")


def test_sockets_without_a_login_or_into_someone_elses_conversation_are_refused(
    world: World, conversation: int
) -> None:
    _post(world, conversation, "只给卖家看")
    assert _refusal(world, "") in (403, 4401)
    assert _refusal(world, "not-a-token") in (403, 4401)
    assert _refusal(world, world.tokens["stranger"], conversation) in (403, 4403)


@pytest.mark.parametrize(("who", "code"), [("nobody", 4401), ("stranger", 4403)])
def test_refused_sockets_are_told_why_by_close_code(
    world: World, conversation: int, who: str, code: int
) -> None:
    token = world.tokens.get(who, "not-a-token")
    assert _refusal(world, token, conversation) == code


class _HeldHub(LiveHub):
    """A server whose thread is slow to announce what it committed: it holds them back."""

    def __init__(self) -> None:
        super().__init__()
        self.held: list[Announcement] = []

    def publish(self, announcements: Sequence[Announcement]) -> None:
        self.held.extend(announcements)


def test_an_announcement_that_leaves_late_still_reaches_the_socket(
    world: World, conversation: int
) -> None:
    # This process stands in for a server whose announcing thread was preempted between
    # its commit and its publish, while server 1 committed and announced the next message.
    slow_server = _HeldHub()
    factory = make_session_factory(world.engine)
    publish_announcements_on_commit(factory, slow_server)
    token = world.tokens["seller"]
    with _socket(world, token, conversation_id=conversation) as live:
        with factory() as session:
            buyer = session.get_one(User, world.user_ids["buyer"])
            slow = conversations.post_message(
                session, user=buyer, conversation_id=conversation, text="先交后报", now=utcnow()
            )
            session.commit()
        fast = _post(world, conversation, "后交先报")
        assert slow.id < fast["id"]
        # The later announcement names the message before it: the socket fills the hole
        # from the database, in order, and the late announcement adds nothing.
        assert [_next_message(live)["id"], _next_message(live)["id"]] == [slow.id, fast["id"]]
        LiveHub(world.redis_url).publish([slow_server.held[0]])
        assert _messages_within(live, QUIET) == []


def test_a_message_committed_after_a_later_numbered_one_still_reaches_the_socket(
    world: World, conversation: int
) -> None:
    other = _open_conversation(world)
    # This process stands in for a third server: its commits are announced on the channel.
    factory = make_session_factory(world.engine)
    publish_announcements_on_commit(factory, LiveHub(world.redis_url))
    after = _last_message_id(world)
    with _socket(world, world.tokens["seller"], after=after) as live:
        with factory() as session:
            buyer = session.get_one(User, world.user_ids["buyer"])
            slow = conversations.post_message(
                session, user=buyer, conversation_id=conversation, text="先写后交", now=utcnow()
            )
            # Server 1 numbers, commits and announces a message in another conversation
            # while this transaction is still open.
            fast = _post(world, other, "后写先交")
            assert slow.id < fast["id"]
            assert _next_message(live)["id"] == fast["id"]
            session.commit()
        heard = [m["id"] for m in _messages_within(live, QUIET)]
    # A client that missed it live would reconnect from the last id it saw.
    with _socket(world, world.tokens["seller"], after=fast["id"]) as live:
        heard += [m["id"] for m in _messages_within(live, QUIET)]
    assert slow.id in heard
