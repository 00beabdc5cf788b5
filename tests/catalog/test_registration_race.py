"""Two sign-ups with one phone number at the same moment: one account, one clear refusal."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from catalog.db import make_session_factory, unit_of_work
from catalog.errors import CatalogError
from catalog.users import service as users
from catalog.users.models import User

PHONE = "19900001111"
ATTEMPTS = 6


@pytest.fixture
def committed(engine: Engine) -> Iterator[sessionmaker[Session]]:
    factory = make_session_factory(engine)
    yield factory
    with unit_of_work(factory) as session:
        session.execute(delete(User).where(User.phone == PHONE))


def test_simultaneous_registrations_create_one_account(committed: sessionmaker[Session]) -> None:
    barrier = threading.Barrier(ATTEMPTS)
    outcomes: list[str] = []

    def sign_up() -> None:
        barrier.wait()
        try:
            with unit_of_work(committed) as session:
                users.register(
                    session, login=users.Login(phone=PHONE), password="pw-123456", nickname="抢注"
                )
            outcomes.append("ok")
        except CatalogError as error:
            outcomes.append(error.code)

    threads = [threading.Thread(target=sign_up) for _ in range(ATTEMPTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["login_taken"] * (ATTEMPTS - 1) + ["ok"]
    with unit_of_work(committed) as session:
        assert session.scalar(select(func.count()).where(User.phone == PHONE)) == 1
