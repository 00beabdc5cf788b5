"""Our settings, filters, sorts, requests and responses in Meilisearch's documented syntax,
checked without a server; then the adapter's write rules against a recording stand-in for
the client (the live server is exercised in test_meili_live.py when MEILI_URL is set)."""

from __future__ import annotations

import json
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import pytest
import requests
from meilisearch.errors import MeilisearchApiError, MeilisearchCommunicationError

from indexer.documents import GoodsDocument
from indexer.engine import (
    FACETABLE,
    FILTERABLE,
    SORTABLE,
    And,
    AnyOf,
    EngineUnavailable,
    Eq,
    Not,
    Or,
    Range,
    SearchRequest,
    Sort,
)
from indexer.meili import (
    STORED_FIELDS,
    MeiliEngine,
    MeiliError,
    filter_expression,
    from_meili_hit,
    index_settings,
    parse_result,
    removal_filter,
    search_params,
    settings_match,
    sort_expression,
    to_meili_document,
)


def _doc(goods_id: int = 7, **fields: Any) -> GoodsDocument:
    base = GoodsDocument(
        id=goods_id,
        version=3,
        title="苹果手机 iPhone13",
        description="电池健康，256GB 无划痕",
        category_id=12,
        category_ids=(12, 1),
        category_names=("手机", "数码"),
        price=3500_00,
        condition="95新",
        city="上海",
        seller_id=9,
        photo=None,
        published_at=1_700_000_000,
        hot_score=2.5,
    )
    return replace(base, **fields)


# -- settings -----------------------------------------------------------------------------


def test_settings_search_our_tokens_first_and_break_ties_by_popularity() -> None:
    settings = index_settings()
    assert settings["searchableAttributes"] == ["tokens", "title", "description_tokens"]
    assert settings["rankingRules"] == [
        "words",
        "sort",
        "typo",
        "proximity",
        "attribute",
        "exactness",
        "hot_score:desc",
    ]
    assert set(settings["filterableAttributes"]) == {*FILTERABLE, *FACETABLE, "id", "version"}
    assert settings["sortableAttributes"] == list(SORTABLE)
    assert settings["displayedAttributes"] == list(STORED_FIELDS)
    assert "description" not in settings["displayedAttributes"]
    assert settings["pagination"] == {"maxTotalHits": 10_000}
    assert settings["faceting"] == {"maxValuesPerFacet": 1_000}
    assert settings["typoTolerance"] == {
        "enabled": True,
        "minWordSizeForTypos": {"oneTypo": 5, "twoTypos": 9},
        "disableOnNumbers": True,
    }


def test_settings_leave_out_typo_setting_older_servers_reject() -> None:
    assert "disableOnNumbers" not in index_settings(disable_typos_on_numbers=False)["typoTolerance"]


def test_settings_match_ignores_order_of_sets_and_keys_we_do_not_set() -> None:
    wanted = index_settings()
    current: dict[str, Any] = {
        **wanted,
        "filterableAttributes": sorted(wanted["filterableAttributes"]),
        "sortableAttributes": sorted(wanted["sortableAttributes"]),
        "typoTolerance": {**wanted["typoTolerance"], "disableOnWords": []},
        "faceting": {"maxValuesPerFacet": 1_000, "sortFacetValuesBy": {"*": "alpha"}},
        "stopWords": [],
    }
    assert settings_match(current, wanted)
    assert not settings_match({**current, "rankingRules": ["words"]}, wanted)
    assert not settings_match({**current, "pagination": {"maxTotalHits": 1000}}, wanted)
    assert not settings_match({**current, "filterableAttributes": ["price"]}, wanted)


# -- filters ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        (Eq("city", "上海"), 'city = "上海"'),
        (Eq("category_ids", 12), "category_ids = 12"),
        (AnyOf("condition", ("95新", "全新")), 'condition IN ["95新", "全新"]'),
        (AnyOf("seller_id", (3, 4)), "seller_id IN [3, 4]"),
        (AnyOf("city", ()), "id IN []"),
        (Range("price", 100, 500), "price 100 TO 500"),
        (Range("price", low=100), "price >= 100"),
        (Range("price", high=500), "price <= 500"),
        (Range("price"), "id EXISTS"),
        (Not(Eq("city", "深圳")), 'NOT city = "深圳"'),
        (
            And((Eq("category_ids", 1), Range("price", 0, 99))),
            "category_ids = 1 AND price 0 TO 99",
        ),
        (Or((Eq("city", "北京"), Eq("city", "上海"))), 'city = "北京" OR city = "上海"'),
        (And(()), "id EXISTS"),
        (Or(()), "id IN []"),
        (And((Eq("seller_id", 9),)), "seller_id = 9"),
    ],
)
def test_each_filter_node_in_meilisearch_syntax(expression: Any, expected: str) -> None:
    assert filter_expression(expression) == expected


def test_nesting_is_parenthesised() -> None:
    expression = And(
        (
            Eq("category_ids", 1),
            Or((AnyOf("condition", ("全新",)), Range("price", high=500))),
            Not(Or((Eq("city", "深圳"), Eq("seller_id", 9)))),
            Not(Not(Eq("city", "北京"))),
        )
    )
    assert filter_expression(expression) == (
        'category_ids = 1 AND (condition IN ["全新"] OR price <= 500)'
        ' AND NOT (city = "深圳" OR seller_id = 9) AND NOT (NOT city = "北京")'
    )
    assert filter_expression(Or((And((Eq("city", "a"), Eq("seller_id", 1))), Eq("city", "b")))) == (
        '(city = "a" AND seller_id = 1) OR city = "b"'
    )


def test_quotes_and_backslashes_in_strings_are_escaped() -> None:
    assert filter_expression(Eq("city", '上"海\\')) == r'city = "上\"海\\"'
    assert filter_expression(AnyOf("city", ('a\\"b', "AND"))) == r'city IN ["a\\\"b", "AND"]'


@pytest.mark.parametrize(
    "expression",
    [
        Eq("title", "iphone"),
        And((Eq("city", "上海"), Not(Range("hot_score", low=1)))),
        Or((AnyOf("id", (1,)),)),
    ],
)
def test_fields_that_are_not_filterable_are_refused(expression: Any) -> None:
    with pytest.raises(ValueError, match="not filterable"):
        filter_expression(expression)


def test_removals_delete_unless_a_newer_version_is_indexed() -> None:
    assert removal_filter([(1, 0), (2, 5), (3, 0)]) == "id IN [1, 3] OR (id = 2 AND version <= 5)"
    assert removal_filter([(2, 5)]) == "(id = 2 AND version <= 5)"


# -- sorts and requests -------------------------------------------------------------------


def test_sort_expressions() -> None:
    assert sort_expression(None, has_query=False) == ["published_at:desc"]
    assert sort_expression(None, has_query=True) == []
    assert sort_expression(Sort("price", descending=False), has_query=True) == ["price:asc"]
    assert sort_expression(Sort("hot_score"), has_query=False) == ["hot_score:desc"]
    with pytest.raises(ValueError, match="not sortable"):
        sort_expression(Sort("seller_id"), has_query=False)


def test_browsing_asks_for_the_newest_first() -> None:
    params = search_params(SearchRequest(filter=Eq("category_ids", 12), offset=40, limit=20))
    assert params == {
        "q": "",
        "filter": "category_ids = 12",
        "sort": ["published_at:desc"],
        "offset": 40,
        "limit": 20,
        "attributesToRetrieve": list(STORED_FIELDS),
        "showRankingScore": True,
    }


def test_a_query_is_sent_as_the_tokens_it_was_indexed_with() -> None:
    params = search_params(
        SearchRequest(
            query="iPhone13 256GB",
            facets=("city", "condition"),
            stats=("price",),
            sort=Sort("price", descending=False),
        )
    )
    assert params == {
        "q": "iphone 13 256 g",
        "facets": ["city", "condition", "price"],
        "sort": ["price:asc"],
        "offset": 0,
        "limit": 20,
        "attributesToRetrieve": list(STORED_FIELDS),
        "showRankingScore": True,
    }
    relevance = search_params(SearchRequest(query="九成新 手机", facets=("city",), stats=("city",)))
    assert relevance["q"] == "九成新 手机"
    assert relevance["facets"] == ["city"]
    assert "sort" not in relevance


def test_facets_on_unfilterable_fields_are_refused() -> None:
    with pytest.raises(ValueError, match="not facetable"):
        search_params(SearchRequest(facets=("title",)))
    with pytest.raises(ValueError, match="not filterable"):
        search_params(SearchRequest(filter=Eq("description", "x")))


# -- documents and results ----------------------------------------------------------------


def test_documents_carry_tokens_and_no_long_description() -> None:
    stored = to_meili_document(_doc())
    assert stored == {
        "id": 7,
        "version": 3,
        "title": "苹果手机 iPhone13",
        "category_id": 12,
        "category_ids": [12, 1],
        "category_names": ["手机", "数码"],
        "price": 3500_00,
        "condition": "95新",
        "city": "上海",
        "seller_id": 9,
        "photo": None,
        "published_at": 1_700_000_000,
        "hot_score": 2.5,
        "tokens": (
            "苹果 手机 iphone13 iphone 13 数码 苹 果 手 机 果手 数 码"
            " pingguo pg ping guo shouji sj shou ji shuma sm shu ma"
        ),
        "description_tokens": "电池 健康 256gb 256g 256 g 无 划痕",
    }
    assert json.loads(json.dumps(stored)) == stored  # plain JSON
    assert from_meili_hit({**stored, "_rankingScore": 0.5}) == _doc(description="")


def _documented_response() -> dict[str, Any]:
    # The shape of POST /indexes/{uid}/search with facets and showRankingScore.
    first = to_meili_document(_doc(7, title="Apple iPhone13 256GB 九成新"))
    second = to_meili_document(_doc(8, title="<苹果> iphone 12", city="北京", price=1999_00))
    for hit in (first, second):
        del hit["tokens"], hit["description_tokens"]
    return {
        "hits": [{**first, "_rankingScore": 0.9712}, {**second, "_rankingScore": 0.88}],
        "query": "iphone",
        "processingTimeMs": 3,
        "limit": 2,
        "offset": 0,
        "estimatedTotalHits": 41,
        "facetDistribution": {
            "city": {"上海": 30, "北京": 11},
            "category_id": {"12": 41},
            "price": {"199900": 1, "350000": 40},
        },
        "facetStats": {"price": {"min": 1999_00, "max": 3500_00}},
    }


def test_a_documented_response_becomes_our_result() -> None:
    request = SearchRequest(query="iphone", facets=("city", "category_id"), stats=("price",))
    result = parse_result(_documented_response(), request)
    assert result.total == 41
    assert [hit.document.id for hit in result.hits] == [7, 8]
    assert result.hits[0].score == 0.9712
    assert result.hits[1].document.city == "北京"
    assert result.hits[0].highlighted_title == "Apple <em>iPhone</em>13 256GB 九成新"
    assert result.hits[1].highlighted_title == "&lt;苹果&gt; <em>iphone</em> 12"
    assert result.facets == {"city": {"上海": 30, "北京": 11}, "category_id": {"12": 41}}
    assert result.stats == {"price": (1999_00.0, 3500_00.0)}


def test_exhaustive_total_is_preferred_and_missing_facets_are_empty() -> None:
    response = {**_documented_response(), "totalHits": 2, "facetDistribution": {}}
    del response["facetStats"]
    result = parse_result(response, SearchRequest(facets=("condition",), stats=("price",)))
    assert result.total == 2
    assert result.facets == {"condition": {}}
    assert result.stats == {}


# -- the adapter against a recording stand-in for the client ------------------------------


def _api_error(status: int, code: str, message: str, error_type: str) -> MeilisearchApiError:
    response = requests.Response()
    response.status_code = status
    body = {"message": message, "code": code, "type": error_type, "link": ""}
    response._content = json.dumps(body).encode()
    return MeilisearchApiError("", response)


class _StubIndex:
    def __init__(self, client: _StubClient) -> None:
        self.client = client

    def get_settings(self) -> dict[str, Any]:
        return self.client.settings

    def update_settings(self, body: dict[str, Any]) -> SimpleNamespace:
        return self.client.task("settingsUpdate", body)

    def get_documents(self, parameters: dict[str, Any]) -> SimpleNamespace:
        self.client.calls.append(("get_documents", parameters))
        rows = [SimpleNamespace(id=i, version=v) for i, v in self.client.indexed.items()]
        return SimpleNamespace(results=rows, total=len(rows))

    def add_documents(self, documents: list[dict[str, Any]], primary_key: str) -> SimpleNamespace:
        return self.client.task("documentAdditionOrUpdate", documents)

    def delete_documents(self, *, filter: str) -> SimpleNamespace:
        return self.client.task("documentDeletion", filter)


class _StubClient:
    """Records what the engine sends; tasks end as `outcome` says."""

    def __init__(self, *, version: str = "1.11.3", exists: bool = False) -> None:
        self.version = version
        self.exists = exists
        self.settings: dict[str, Any] = {}
        self.indexed: dict[int, int] = {}
        self.calls: list[tuple[str, Any]] = []
        self.outcome: dict[str, Any] = {"status": "succeeded", "error": None}
        self.unreachable = False

    def task(self, kind: str, payload: Any) -> SimpleNamespace:
        if self.unreachable:
            raise MeilisearchCommunicationError("connection refused")
        self.calls.append((kind, payload))
        return SimpleNamespace(task_uid=len(self.calls))

    def wait_for_task(self, uid: int, timeout_in_ms: int) -> SimpleNamespace:
        return SimpleNamespace(uid=uid, type="task", **self.outcome)

    def get_version(self) -> dict[str, str]:
        return {"pkgVersion": self.version}

    def get_index(self, uid: str) -> object:
        if not self.exists:
            raise _api_error(404, "index_not_found", f"Index `{uid}` not found.", "invalid_request")
        return object()

    def create_index(self, uid: str, options: dict[str, Any]) -> SimpleNamespace:
        self.exists = True
        return self.task("indexCreation", {"uid": uid, **options})

    def index(self, uid: str) -> _StubIndex:
        return _StubIndex(self)

    def of(self, kind: str) -> list[Any]:
        return [payload for call, payload in self.calls if call == kind]


def _engine(client: _StubClient) -> MeiliEngine:
    return MeiliEngine("http://meili.invalid", None, client=client)  # type: ignore[arg-type]


def test_first_use_creates_the_index_with_settings_the_server_accepts() -> None:
    client = _StubClient(version="1.11.3")
    engine = _engine(client)
    engine.apply([_doc()], [])
    engine.apply([_doc(8)], [])
    assert client.of("indexCreation") == [{"uid": "goods", "primaryKey": "id"}]
    assert client.of("settingsUpdate") == [index_settings(disable_typos_on_numbers=False)]
    assert len(client.of("documentAdditionOrUpdate")) == 2

    newer = _StubClient(version="1.15.2", exists=True)
    _engine(newer).apply([_doc()], [])
    assert newer.of("indexCreation") == []
    assert newer.of("settingsUpdate") == [index_settings()]


def test_an_older_snapshot_than_the_indexed_one_is_not_sent() -> None:
    client = _StubClient(exists=True)
    client.settings = index_settings(disable_typos_on_numbers=False)
    client.indexed = {7: 5}
    _engine(client).apply([_doc(7, version=4), _doc(8, version=1), _doc(8, version=2)], [])
    assert client.of("get_documents") == [
        {"filter": "id IN [7, 8]", "fields": ["id", "version"], "limit": 2}
    ]
    [sent] = client.of("documentAdditionOrUpdate")
    assert [(d["id"], d["version"]) for d in sent] == [(8, 2)]


def test_removals_are_conditional_on_the_indexed_version() -> None:
    client = _StubClient(exists=True)
    client.settings = index_settings(disable_typos_on_numbers=False)
    _engine(client).delete([(7, 4), (9, 0)])
    assert client.of("documentDeletion") == ["id IN [9] OR (id = 7 AND version <= 4)"]


def test_a_failed_task_raises_meilisearchs_error() -> None:
    client = _StubClient(exists=True)
    client.settings = index_settings(disable_typos_on_numbers=False)
    engine = _engine(client)
    engine.apply([_doc()], [])  # the index is ready
    client.outcome = {
        "status": "failed",
        "error": {
            "message": 'Document identifier `"a b"` is invalid.',
            "code": "invalid_document_id",
            "type": "invalid_request",
            "link": "https://docs.meilisearch.com/errors#invalid_document_id",
        },
    }
    with pytest.raises(MeiliError, match="invalid_document_id") as raised:
        engine.apply([_doc()], [])
    assert not isinstance(raised.value, EngineUnavailable)  # the relay retries one by one
    client.outcome = {
        "status": "failed",
        "error": {"message": "No space left", "code": "no_space_left_on_device", "type": "system"},
    }
    with pytest.raises(EngineUnavailable, match="no_space_left_on_device"):
        engine.apply([_doc()], [])


def test_an_unreachable_server_is_unavailable() -> None:
    client = _StubClient(exists=True)
    client.settings = index_settings(disable_typos_on_numbers=False)
    engine = _engine(client)
    engine.apply([_doc()], [])
    client.unreachable = True
    with pytest.raises(EngineUnavailable, match="connection refused"):
        engine.delete([(7, 0)])
