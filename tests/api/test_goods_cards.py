"""Feed cards rendered once per goods version, never shown stale or for unlisted goods."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy.orm import Session

from api.goods_cards import GoodsCards
from api.schemas.feed import ForYouOut, GoodsCardOut
from catalog.goods import service as goods_service
from catalog.goods.models import Goods
from catalog.goods.service import GoodsFields
from catalog.money import Fen
from catalog.users.models import User
from tests.factories import listed_goods, make_user


def _listed(session: Session, media_root: Path, count: int) -> list[int]:
    seller = make_user(session)
    return [
        listed_goods(session, seller=seller, title=f"二手相机 {n}", media_root=media_root)
        for n in range(count)
    ]


def _card(session: Session, goods_id: int) -> dict[str, object]:
    view = goods_service.view_goods(session, viewer=None, goods_id=goods_id)
    return GoodsCardOut.of(view).model_dump(mode="json")


def _seller_of(session: Session, goods_id: int) -> User:
    goods = session.get(Goods, goods_id)
    assert goods is not None
    seller = session.get(User, goods.seller_id)
    assert seller is not None
    return seller


def test_cards_come_in_the_given_order_as_the_goods_are_now(
    session: Session, media_root: Path
) -> None:
    first, second, third = _listed(session, media_root, 3)
    cards = GoodsCards()

    shown = cards.listed(session, [third, 999_999, first, second], limit=2)

    assert [json.loads(card)["id"] for card in shown] == [third, first]
    assert json.loads(shown[0]) == _card(session, third)
    assert json.loads(shown[0])["photo"]  # the main photo's thumbnail


def test_a_card_is_rendered_once_and_again_after_the_goods_changes(
    session: Session, media_root: Path
) -> None:
    kept, edited = _listed(session, media_root, 2)
    cards = GoodsCards()
    before = cards.listed(session, [kept, edited], limit=10)

    goods_service.update_goods(
        session,
        actor=_seller_of(session, edited),
        goods_id=edited,
        data=GoodsFields(price=Fen(500_00)),
    )
    after = cards.listed(session, [kept, edited], limit=10)

    assert after[0] is before[0]  # unchanged: the very bytes rendered the first time
    assert json.loads(before[1])["price"] == 999_00
    assert json.loads(after[1])["price"] == 500_00


def test_goods_no_longer_listed_are_left_out_though_their_cards_are_kept(
    session: Session, media_root: Path
) -> None:
    stays, goes = _listed(session, media_root, 2)
    cards = GoodsCards()
    cards.listed(session, [stays, goes], limit=10)

    goods_service.withdraw_goods(session, actor=_seller_of(session, goes), goods_id=goes)

    assert [json.loads(card)["id"] for card in cards.listed(session, [stays, goes], 10)] == [stays]


def test_the_least_recently_shown_cards_make_room(session: Session, media_root: Path) -> None:
    first, second = _listed(session, media_root, 2)
    cards = GoodsCards(capacity=1)
    (once,) = cards.listed(session, [first], limit=1)
    cards.listed(session, [second], limit=1)

    (again,) = cards.listed(session, [first], limit=1)

    assert again == once
    assert again is not once  # rendered anew: the second goods took its place


def test_a_page_around_rendered_cards_is_the_page_the_model_gives(
    session: Session, media_root: Path
) -> None:
    ids = _listed(session, media_root, 2)
    rendered = GoodsCards().listed(session, ids, limit=10)
    items = [GoodsCardOut.model_validate_json(card) for card in rendered]

    for cards, cursor in ((rendered, "abc"), ([], None)):
        page = ForYouOut.json_around(cards, next_cursor=cursor, request_id="r-1", ranker_version=3)
        whole = ForYouOut(
            items=items[: len(cards)], next_cursor=cursor, request_id="r-1", ranker_version=3
        )
        assert page == whole.model_dump_json().encode()
