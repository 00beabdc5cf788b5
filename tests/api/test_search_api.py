"""GET /api/v1/search and /search/suggest as a shopper uses them. Goods are listed through
the services (create, photo, submit, approve) and reach the index through the outbox
relay; every filter, sort, facet and typed word is then checked through the API."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from api.schemas.search import SearchOut, SuggestOut
from catalog.goods import photos
from catalog.goods import service as goods_service
from catalog.goods.models import Condition, GoodsHotScore
from catalog.goods.service import GoodsFields
from catalog.media.store import MediaStore
from catalog.money import Fen
from catalog.review import service as review
from catalog.users.models import Role, User
from indexer.documents import load_documents
from indexer.embedded import EmbeddedEngine
from indexer.relay import drain
from tests.factories import leaf_category, make_user, png_bytes

SEARCH = "/api/v1/search"
SUGGEST = "/api/v1/search/suggest"
# Listings are published an hour apart, the first one newest, so "newest" has one answer.
NEWEST_AT = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Shop:
    seller: User
    reviewer: User
    store: MediaStore


def _list(
    session: Session,
    *,
    shop: Shop,
    title: str,
    category_slug: str,
    price: int,
    condition: str,
    city: str,
    description: str = "",
    published_at: datetime | None = None,
) -> int:
    """Create, photograph, submit and approve goods; returns the id. Not indexed until the
    relay drains the outbox."""
    goods = goods_service.create_goods(
        session,
        seller=shop.seller,
        data=GoodsFields(
            category_id=leaf_category(session, category_slug).id,
            title=title,
            description=description,
            price=Fen(price),
            condition=Condition(condition),
            city=city,
        ),
    )
    photos.add_photo(
        session, actor=shop.seller, goods_id=goods.id, data=png_bytes(), store=shop.store
    )
    goods_service.submit_goods(session, actor=shop.seller, goods_id=goods.id)
    listed = review.approve(session, reviewer=shop.reviewer, goods_id=goods.id)
    if published_at is not None:
        listed.published_at = published_at
        session.flush()
    return goods.id


@dataclass(frozen=True)
class Listing:
    title: str
    category_slug: str
    price: int
    condition: str
    city: str
    description: str = ""


LISTINGS: dict[str, Listing] = {
    "iphone13": Listing("自用iPhone 13 256G 国行 电池88%", "iphone", 3200_00, "95新", "上海"),
    "iphone14": Listing("iPhone 14 Pro 128G 暗紫色", "iphone", 5200_00, "99新", "北京"),
    "xiaomi": Listing("小米手机12 Pro 8+256", "android-phones", 1500_00, "9成新", "北京"),
    "huawei": Listing("华为Mate60 Pro 512G", "android-phones", 6000_00, "全新", "上海"),
    "nokia": Listing("诺基亚老人手机 待机久", "feature-phones", 80_00, "8成新", "上海"),
    "lenovo": Listing("联想拯救者笔记本 R7000", "laptops", 4500_00, "95新", "北京"),
    "macbook": Listing(
        "MacBook Air M1 8+256", "laptops", 4200_00, "99新", "上海", "和iPhone互传文件很方便"
    ),
    "dyson": Listing("九成新 戴森吹风机", "personal-care-appliances", 1800_00, "9成新", "北京"),
    "backpack": Listing("安装简单的双肩包", "bags", 59_00, "全新", "上海"),
    "sneakers": Listing("耐克运动鞋 42码", "sneakers", 299_00, "8成新", "北京"),
    "switch": Listing("Switch游戏机 续航版", "consoles", 1600_00, "95新", "上海"),
    "sony": Listing("索尼WH-1000XM4 <降噪> 耳机&收纳包", "headphones", 1100_00, "99新", "北京"),
}
KEYS = list(LISTINGS)  # newest first
PHONE_KEYS = {"iphone13", "iphone14", "xiaomi", "huawei", "nokia"}


@dataclass(frozen=True)
class Market:
    ids: dict[str, int]
    shop: Shop

    def key_of(self, goods_id: int) -> str:
        return next(key for key, value in self.ids.items() if value == goods_id)

    def keys(self, hits: list[dict[str, Any]]) -> list[str]:
        return [self.key_of(hit["id"]) for hit in hits]


@pytest.fixture
def shop(session: Session, media_root: Path) -> Shop:
    return Shop(
        seller=make_user(session, nickname="卖家"),
        reviewer=make_user(session, role=Role.REVIEWER),
        store=MediaStore(media_root),
    )


@pytest.fixture
def market(
    client: TestClient,
    session: Session,
    session_factory: sessionmaker[Session],
    search_engine: EmbeddedEngine,
    shop: Shop,
) -> Market:
    ids = {
        key: _list(
            session,
            shop=shop,
            title=item.title,
            category_slug=item.category_slug,
            price=item.price,
            condition=item.condition,
            city=item.city,
            description=item.description,
            published_at=NEWEST_AT - timedelta(hours=age),
        )
        for age, (key, item) in enumerate(LISTINGS.items())
    }
    drain(session_factory, search_engine)
    return Market(ids=ids, shop=shop)


def _search(client: TestClient, query: str = "", **params: Any) -> dict[str, Any]:
    """One page; `query` is a raw query string, for repeated parameters."""
    response = client.get(f"{SEARCH}?{'&'.join(filter(None, [query, urlencode(params)]))}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _everything(client: TestClient, query: str = "", **params: Any) -> list[dict[str, Any]]:
    hits: list[dict[str, Any]] = _search(client, query, page_size=100, **params)["hits"]
    return hits


def _category_id(session: Session, slug: str) -> int:
    return leaf_category(session, slug).id


def _where(**fields: str) -> list[str]:
    return [
        k for k, item in LISTINGS.items() if all(getattr(item, f) == v for f, v in fields.items())
    ]


def _counts(keys: list[str], field: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for key in keys:
        value = str(getattr(LISTINGS[key], field))
        counts[value] = counts.get(value, 0) + 1
    return counts


def _marked(highlighted_title: str) -> list[str]:
    return re.findall(r"<em>(.*?)</em>", highlighted_title)


# -- a result card --------------------------------------------------------------------


def test_a_hit_carries_what_the_result_card_shows(
    client: TestClient, session: Session, market: Market
) -> None:
    body = _search(client, q="双肩")

    assert body["total"] == 1
    assert body["page"] == 1
    assert body["page_size"] == 20
    [hit] = body["hits"]
    assert hit["id"] == market.ids["backpack"]
    assert hit["title"] == "安装简单的双肩包"
    assert hit["highlighted_title"] == "安装简单的<em>双肩</em>包"
    assert hit["price"] == 59_00
    assert hit["condition"] == "全新"
    assert hit["city"] == "上海"
    assert hit["category_id"] == _category_id(session, "bags")
    published = NEWEST_AT - timedelta(hours=KEYS.index("backpack"))
    assert datetime.fromisoformat(hit["published_at"]) == published
    # The card's thumbnail is a file the site serves.
    assert hit["photo"].startswith("/media/")
    assert client.get(hit["photo"]).status_code == 200
    assert set(body["facets"]) == {"category", "condition", "city"}
    assert body["price_stats"] == {"min": 59_00, "max": 59_00}


def test_answers_are_the_documented_schemas(client: TestClient, market: Market) -> None:
    # The routes serialise their answers themselves: the API docs must still name them.
    paths = client.get("/openapi.json").json()["paths"]
    for path, schema in ((SEARCH, "SearchOut"), (SUGGEST, "SuggestOut")):
        ok = paths[path]["get"]["responses"]["200"]["content"]["application/json"]
        assert ok["schema"]["$ref"].endswith(f"/{schema}")
    SearchOut.model_validate(_search(client, q="双肩"))
    suggested = client.get(SUGGEST, params={"q": "shuang"})
    assert suggested.headers["content-type"] == "application/json"
    SuggestOut.model_validate(suggested.json())


def test_highlighting_marks_the_match_and_escapes_the_rest_of_the_title(
    client: TestClient, market: Market
) -> None:
    [hit] = _search(client, q="耳机")["hits"]

    assert hit["title"] == "索尼WH-1000XM4 <降噪> 耳机&收纳包"
    assert hit["highlighted_title"] == "索尼WH-1000XM4 &lt;降噪&gt; <em>耳机</em>&amp;收纳包"


# -- words, pinyin, typos ------------------------------------------------------------


def test_chinese_sub_words_pinyin_and_typos_find_their_titles(
    client: TestClient, market: Market
) -> None:
    expected = {
        "双肩": {"backpack"},  # a sub-word of 双肩包
        "简单": {"backpack"},  # a sub-word of 安装简单
        "shouji": {"xiaomi", "nokia"},  # pinyin of 手机
        "iphnoe": {"iphone13", "iphone14"},  # two letters swapped
        "huawie": {"huawei"},  # pinyin of 华为, with a typo
        "ＩＰＨＯＮＥ": {"iphone13", "iphone14", "macbook"},  # full-width
        "mate 60": {"huawei"},  # a model typed apart
    }

    found = {q: set(market.keys(_everything(client, q=q))) for q in expected}

    assert found == expected


def test_initials_find_the_words_they_abbreviate(client: TestClient, market: Market) -> None:
    hits = _everything(client, q="sj")

    # 手机 (shou ji) and 双肩 (shuang jian) both abbreviate to sj.
    assert set(market.keys(hits)) == {"xiaomi", "nokia", "backpack"}


def test_pinyin_highlights_the_chinese_word_it_spells(client: TestClient, market: Market) -> None:
    for q in ("shouji", "sj"):
        titles = {market.key_of(h["id"]): h["highlighted_title"] for h in _everything(client, q=q)}

        assert titles["xiaomi"] == "小米<em>手机</em>12 Pro 8+256", q
        assert titles["nokia"] == "诺基亚老人<em>手机</em> 待机久", q


def test_typed_pinyin_highlights_only_the_characters_it_spells(
    client: TestClient, market: Market
) -> None:
    [dyson] = _everything(client, q="daisen")
    [lenovo] = _everything(client, q="lian")

    assert dyson["highlighted_title"] == "九成新 <em>戴森</em>吹风机"
    assert lenovo["highlighted_title"] in {
        "<em>联</em>想拯救者笔记本 R7000",
        "<em>联想</em>拯救者笔记本 R7000",
    }


def test_model_and_storage_typed_together_find_the_exact_listing(
    client: TestClient, market: Market
) -> None:
    hits = _everything(client, q="iphone13 256g")

    assert market.keys(hits) == ["iphone13"]
    # The unit letter g is not taken for the pinyin of 国行.
    assert hits[0]["highlighted_title"] == (
        "自用<em>iPhone</em> <em>13</em> <em>256G</em> 国行 电池88%"
    )


def test_relevance_is_the_default_and_puts_title_matches_above_description_matches(
    client: TestClient, market: Market
) -> None:
    default = market.keys(_everything(client, q="iphone"))

    assert default == market.keys(_everything(client, q="iphone", sort="relevance"))
    assert set(default) == {"iphone13", "iphone14", "macbook"}
    assert default[-1] == "macbook"  # only its description mentions iPhone
    assert _marked(_everything(client, q="iphone")[-1]["highlighted_title"]) == []


# -- filters ---------------------------------------------------------------------------


def test_category_filter_by_leaf_and_by_top_level_parent(
    client: TestClient, session: Session, market: Market
) -> None:
    leaf = _search(client, category=_category_id(session, "iphone"))
    parent = _search(client, category=_category_id(session, "phones"))

    assert set(market.keys(leaf["hits"])) == {"iphone13", "iphone14"}
    assert leaf["total"] == 2
    assert set(market.keys(parent["hits"])) == PHONE_KEYS
    assert parent["total"] == len(PHONE_KEYS)


def test_price_range_includes_both_ends(client: TestClient, market: Market) -> None:
    inside = _everything(client, price_min=1500_00, price_max=4500_00)

    assert set(market.keys(inside)) == {
        "iphone13",
        "xiaomi",
        "lenovo",
        "macbook",
        "dyson",
        "switch",
    }
    assert set(market.keys(_everything(client, price_min=5200_00))) == {"iphone14", "huawei"}
    assert set(market.keys(_everything(client, price_max=80_00))) == {"nokia", "backpack"}
    assert _everything(client, price_min=0, price_max=0) == []


def test_conditions_and_cities_can_each_be_chosen_together(
    client: TestClient, market: Market
) -> None:
    one_condition = _everything(client, condition="95新")
    two_conditions = _everything(client, "condition=95新&condition=99新")
    one_city = _everything(client, city="上海")
    two_cities = _everything(client, "city=上海&city=北京")

    assert set(market.keys(one_condition)) == set(_where(condition="95新"))
    assert set(market.keys(two_conditions)) == set(_where(condition="95新")) | set(
        _where(condition="99新")
    )
    assert set(market.keys(one_city)) == set(_where(city="上海"))
    assert set(market.keys(two_cities)) == set(KEYS)
    assert _everything(client, city="广州") == []


def test_filters_combine_with_each_other_and_with_words(client: TestClient, market: Market) -> None:
    hits = _everything(client, q="pro", city="北京", price_max=3000_00)
    both = _everything(client, "condition=99新&city=北京")

    assert market.keys(hits) == ["xiaomi"]
    assert set(market.keys(both)) == {"iphone14", "sony"}


# -- sorts and pages -------------------------------------------------------------------


def test_sorts_by_price_and_by_newest(client: TestClient, market: Market) -> None:
    by_price = sorted(KEYS, key=lambda k: LISTINGS[k].price)

    assert market.keys(_everything(client, sort="price_asc")) == by_price
    assert market.keys(_everything(client, sort="price_desc")) == by_price[::-1]
    assert market.keys(_everything(client, sort="newest")) == KEYS
    assert market.keys(_everything(client, q="pro", sort="price_asc")) == [
        "xiaomi",
        "iphone14",
        "huawei",
    ]
    assert market.keys(_everything(client, q="pro", sort="newest")) == [
        "iphone14",
        "xiaomi",
        "huawei",
    ]


def test_no_words_browses_newest_first(
    client: TestClient, session: Session, market: Market
) -> None:
    assert market.keys(_everything(client)) == KEYS
    assert market.keys(_everything(client, q="  ")) == KEYS
    laptops = _everything(client, category=_category_id(session, "laptops"))
    assert market.keys(laptops) == ["lenovo", "macbook"]
    phones = _everything(client, category=_category_id(session, "phones"))
    assert market.keys(phones) == [k for k in KEYS if k in PHONE_KEYS]


def test_sort_hot_puts_the_popular_goods_first(
    client: TestClient, session: Session, search_engine: EmbeddedEngine, market: Market
) -> None:
    scores = {"sneakers": 50.0, "nokia": 10.0}
    for key, score in scores.items():
        session.add(GoodsHotScore(goods_id=market.ids[key], hot_score=score))
    session.flush()
    documents, _ = load_documents(session, [market.ids[key] for key in scores])
    search_engine.upsert(documents)

    hot = market.keys(_everything(client, sort="hot"))

    assert hot[:2] == ["sneakers", "nokia"]
    assert sorted(hot) == sorted(KEYS)


def test_pages_are_disjoint_and_together_make_the_whole_list(
    client: TestClient, market: Market
) -> None:
    for params in ({"sort": "price_asc"}, {"sort": "newest"}, {"q": "pro"}, {}):
        whole = [hit["id"] for hit in _everything(client, **params)]
        size = 5 if len(whole) > 5 else 1
        pages = [
            _search(client, page=page, page_size=size, **params)
            for page in range(1, len(whole) // size + 3)
        ]

        paged = [hit["id"] for page in pages for hit in page["hits"]]
        assert paged == whole, params
        assert pages[-1]["hits"] == [], params
        assert all(page["total"] == len(whole) for page in pages), params
        assert [page["page"] for page in pages] == list(range(1, len(pages) + 1)), params
        assert all(page["page_size"] == size for page in pages), params


# -- facets and price statistics --------------------------------------------------------


def test_choosing_a_condition_still_counts_the_other_conditions(
    client: TestClient, market: Market
) -> None:
    unfiltered = _search(client)["facets"]
    chosen = _search(client, condition="95新")

    assert unfiltered["condition"] == _counts(KEYS, "condition")
    assert unfiltered["city"] == _counts(KEYS, "city")
    assert chosen["total"] == len(_where(condition="95新"))
    # Its own facet ignores the choice, so the shopper can add 99新 …
    assert chosen["facets"]["condition"] == _counts(KEYS, "condition")
    # … while the other facets count only what is shown.
    assert chosen["facets"]["city"] == _counts(_where(condition="95新"), "city")


def test_a_city_and_a_condition_each_narrow_the_other_facet(
    client: TestClient, market: Market
) -> None:
    body = _search(client, condition="99新", city="北京")

    assert body["total"] == 2
    assert body["facets"]["condition"] == _counts(_where(city="北京"), "condition")
    assert body["facets"]["city"] == _counts(_where(condition="99新"), "city")


def test_facets_follow_the_words(client: TestClient, market: Market) -> None:
    body = _search(client, q="pro", condition="全新")

    assert market.keys(body["hits"]) == ["huawei"]
    assert body["facets"]["condition"] == {"9成新": 1, "99新": 1, "全新": 1}
    assert body["facets"]["city"] == {"上海": 1}


def test_category_facet_counts_parents_as_the_sum_of_their_children(
    client: TestClient, session: Session, market: Market
) -> None:
    facets = _search(client)["facets"]["category"]
    chosen = _search(client, category=_category_id(session, "iphone"))

    assert facets[str(_category_id(session, "iphone"))] == 2
    assert facets[str(_category_id(session, "android-phones"))] == 2
    assert facets[str(_category_id(session, "feature-phones"))] == 1
    assert facets[str(_category_id(session, "phones"))] == 5
    assert facets[str(_category_id(session, "laptops"))] == 2
    assert facets[str(_category_id(session, "computers"))] == 2
    # Choosing a category leaves the category facet whole and narrows the others.
    assert chosen["facets"]["category"] == facets
    assert chosen["facets"]["condition"] == {"95新": 1, "99新": 1}


def test_price_stats_span_the_results_and_ignore_the_price_range(
    client: TestClient, market: Market
) -> None:
    ranged = _search(client, price_min=1000_00, price_max=2000_00)

    assert _search(client)["price_stats"] == {"min": 59_00, "max": 6000_00}
    assert ranged["total"] == 4
    assert ranged["price_stats"] == {"min": 59_00, "max": 6000_00}
    # Other filters do narrow the span, with or without a price range.
    assert _search(client, city="北京")["price_stats"] == {"min": 299_00, "max": 5200_00}
    assert _search(client, city="北京", price_min=5000_00)["price_stats"] == {
        "min": 299_00,
        "max": 5200_00,
    }
    nothing = _search(client, city="广州")
    assert (nothing["total"], nothing["hits"], nothing["price_stats"]) == (0, [], None)


# -- only listed goods are found --------------------------------------------------------


def test_withdrawn_goods_disappear_after_the_relay(
    client: TestClient,
    session: Session,
    session_factory: sessionmaker[Session],
    search_engine: EmbeddedEngine,
    market: Market,
) -> None:
    goods_service.withdraw_goods(session, actor=market.shop.seller, goods_id=market.ids["dyson"])
    drain(session_factory, search_engine)

    assert "dyson" not in market.keys(_everything(client, q="戴森"))
    assert _search(client)["total"] == len(KEYS) - 1


def test_rejected_goods_never_appear(
    client: TestClient,
    session: Session,
    session_factory: sessionmaker[Session],
    search_engine: EmbeddedEngine,
    market: Market,
) -> None:
    shop = market.shop
    goods = goods_service.create_goods(
        session,
        seller=shop.seller,
        data=GoodsFields(
            category_id=_category_id(session, "cameras"),
            title="佳能相机 加微信详谈",
            price=Fen(2000_00),
            condition=Condition.GOOD_90,
            city="上海",
        ),
    )
    photos.add_photo(
        session, actor=shop.seller, goods_id=goods.id, data=png_bytes(), store=shop.store
    )
    goods_service.submit_goods(session, actor=shop.seller, goods_id=goods.id)
    review.reject(session, reviewer=shop.reviewer, goods_id=goods.id, reason="站外联系方式")
    drain(session_factory, search_engine)

    assert goods.id not in [hit["id"] for hit in _everything(client, q="佳能相机")]
    assert _search(client)["total"] == len(KEYS)


def test_a_title_edit_takes_listed_goods_out_until_approved_again(
    client: TestClient,
    session: Session,
    session_factory: sessionmaker[Session],
    search_engine: EmbeddedEngine,
    market: Market,
) -> None:
    goods_id = market.ids["lenovo"]
    goods_service.update_goods(
        session,
        actor=market.shop.seller,
        goods_id=goods_id,
        data=GoodsFields(title="联想拯救者笔记本 R7000P 加强版"),
    )
    drain(session_factory, search_engine)

    assert goods_id not in [hit["id"] for hit in _everything(client, q="联想")]
    assert _search(client)["total"] == len(KEYS) - 1

    review.approve(session, reviewer=market.shop.reviewer, goods_id=goods_id)
    drain(session_factory, search_engine)

    [hit] = _everything(client, q="r7000p")
    assert hit["id"] == goods_id
    assert hit["title"] == "联想拯救者笔记本 R7000P 加强版"


def test_a_price_change_shows_after_the_relay(
    client: TestClient,
    session: Session,
    session_factory: sessionmaker[Session],
    search_engine: EmbeddedEngine,
    market: Market,
) -> None:
    goods_id = market.ids["switch"]
    goods_service.update_goods(
        session, actor=market.shop.seller, goods_id=goods_id, data=GoodsFields(price=Fen(999_00))
    )
    drain(session_factory, search_engine)

    [hit] = _everything(client, q="switch")
    assert hit["id"] == goods_id
    assert hit["price"] == 999_00
    assert goods_id in [h["id"] for h in _everything(client, price_max=999_00)]
    assert goods_id not in [h["id"] for h in _everything(client, price_min=1600_00)]


# -- suggestions -----------------------------------------------------------------------


def _suggest(client: TestClient, q: str) -> list[dict[str, Any]]:
    response = client.get(SUGGEST, params={"q": q})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == len(body["items"])
    items: list[dict[str, Any]] = body["items"]
    return items


def test_suggest_completes_words_including_from_pinyin(client: TestClient, market: Market) -> None:
    shuang = [item for item in _suggest(client, "双") if item["kind"] == "word"]
    shouj = [item for item in _suggest(client, "shouj") if item["kind"] == "word"]

    assert {item["text"] for item in shuang} >= {"双肩"}
    assert all(item["text"].startswith("双") and item["count"] >= 1 for item in shuang)
    assert "手机" in [item["text"] for item in shouj]


def test_suggest_offers_categories_by_name(
    client: TestClient, session: Session, market: Market
) -> None:
    categories = [item for item in _suggest(client, "手机") if item["kind"] == "category"]

    assert categories[0] == {
        "text": "手机",
        "kind": "category",
        "count": 0,
        "category_id": _category_id(session, "phones"),
    }
    assert all("手机" in item["text"] for item in categories)


# -- bad input ---------------------------------------------------------------------------


def _assert_refused(response: Any, code: str, field: str) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == code, body
    assert body["message"]
    if code == "validation_error":
        # A repeated parameter names the bad one by position: condition.1.
        assert field in [item["field"].split(".")[0] for item in body["fields"]], body
    else:
        assert body.get("field") == field, body


@pytest.mark.parametrize(
    ("query", "code", "field"),
    [
        pytest.param("sort=cheapest", "validation_error", "sort", id="unknown sort"),
        pytest.param("page_size=101", "validation_error", "page_size", id="page_size 101"),
        pytest.param("page_size=0", "validation_error", "page_size", id="page_size 0"),
        pytest.param("page=0", "validation_error", "page", id="page 0"),
        pytest.param("price_min=-1", "validation_error", "price_min", id="negative price_min"),
        pytest.param("price_max=abc", "validation_error", "price_max", id="price not a number"),
        pytest.param("price_min=1.5", "validation_error", "price_min", id="price not whole fen"),
        pytest.param(
            "price_max=1000000001", "validation_error", "price_max", id="price above the cap"
        ),
        pytest.param(
            "price_min=500&price_max=100", "invalid_price_range", "price_min", id="min above max"
        ),
        # 10 KB of UTF-8 (a test client refuses URLs much longer than 64 K characters).
        pytest.param("q=" + "双肩包" * 1_140, "validation_error", "q", id="10 KB of Chinese"),
        pytest.param("q=" + "iphone " * 1_500, "validation_error", "q", id="10 KB of Latin"),
        pytest.param("q=iphone%01", "invalid_query", "q", id="control character in q"),
        pytest.param("q=%00", "invalid_query", "q", id="NUL in q"),
        pytest.param("city=%1b上海", "invalid_query", "city", id="control character in city"),
        pytest.param("city=" + "上" * 21, "validation_error", "city", id="city too long"),
        pytest.param("condition=", "validation_error", "condition", id="empty condition"),
        pytest.param("condition=九成新", "validation_error", "condition", id="unknown condition"),
        pytest.param(
            "condition=95新&condition=十成新",
            "validation_error",
            "condition",
            id="one bad condition of two",
        ),
        pytest.param("category=999999", "unknown_category", "category", id="unknown category"),
        pytest.param("category=0", "validation_error", "category", id="category 0"),
        pytest.param("category=phones", "validation_error", "category", id="category slug"),
        pytest.param(
            "page=101&page_size=100", "page_too_deep", "page", id="beyond the result window"
        ),
        pytest.param("page=501", "page_too_deep", "page", id="beyond the window at 20 a page"),
        pytest.param("page=99999999999999999999", "page_too_deep", "page", id="absurdly deep"),
    ],
)
def test_bad_search_input_is_a_clear_422(
    client: TestClient, query: str, code: str, field: str
) -> None:
    _assert_refused(client.get(f"{SEARCH}?{query}"), code, field)


@pytest.mark.parametrize(
    ("query", "code", "field"),
    [
        pytest.param("q=%01", "invalid_query", "q", id="control character"),
        pytest.param("q=" + "双" * 51, "validation_error", "q", id="too long"),
        pytest.param("q=双&limit=21", "validation_error", "limit", id="limit too high"),
        pytest.param("q=双&limit=0", "validation_error", "limit", id="limit zero"),
    ],
)
def test_bad_suggest_input_is_a_clear_422(
    client: TestClient, query: str, code: str, field: str
) -> None:
    _assert_refused(client.get(f"{SUGGEST}?{query}"), code, field)


def test_input_at_the_limits_and_query_syntax_are_answered(
    client: TestClient, market: Market
) -> None:
    deepest = _search(client, page=100, page_size=100)
    assert (deepest["hits"], deepest["total"]) == ([], len(KEYS))
    assert _search(client, q="双肩" * 50)["page"] == 1
    assert _search(client, price_max=10_000_000_00)["total"] == len(KEYS)
    # Engine query syntax is only text: nothing is parsed, nothing breaks.
    for q in ('"iphone" AND (13', "title:iphone", "*", "!!!", "📱", "\u0085"):
        _search(client, q=q)
    # No title has "and": the goods matching the most of the other words come first.
    assert market.keys(_everything(client, q='"iphone" AND (13'))[0] == "iphone13"
