"""Fixtures of the search tests (imported by `test_search_*.py`): a REAL Elasticsearch index.

`es_index` switches the settings to the Elasticsearch backend with a per-run index prefix
(`<ELASTICSEARCH_INDEX_PREFIX or test_>w<pid>_`), deletes that prefix's indices before and after,
and yields the client. Missing Elasticsearch → `require_service` (fails under CI, skips elsewhere).
`dead_es` points the client at a closed port (an unreachable cluster).
"""

import os

import pytest

from conftest import require_service
from utils import search as es

DEAD_URL = "http://127.0.0.1:9"  # discard port: nothing listens there


def _healthy(url: str) -> bool:
    from elasticsearch import Elasticsearch

    try:
        Elasticsearch(url, request_timeout=3).cluster.health(timeout="2s")
    except Exception:
        return False
    return True


@pytest.fixture
def es_index(settings):
    """The Elasticsearch client on a clean, test-only index prefix (backend = elasticsearch)."""
    url = settings.ELASTICSEARCH_URL or os.environ.get("ELASTICSEARCH_URL", "")
    require_service(
        "Elasticsearch", bool(url) and _healthy(url), "ELASTICSEARCH_URL unset or not answering"
    )
    settings.ELASTICSEARCH_URL = url
    settings.SEARCH_BACKEND = "elasticsearch"
    settings.ELASTICSEARCH_INDEX_PREFIX = (
        f"{settings.ELASTICSEARCH_INDEX_PREFIX or 'test_'}w{os.getpid()}_"
    )
    client = es.get_client()
    es.delete_prefixed(client)
    yield client
    settings.ELASTICSEARCH_URL = url
    es.delete_prefixed(es.get_client())


@pytest.fixture
def dead_es(settings):
    """Switch `ELASTICSEARCH_URL` to a port nobody listens on; returns a function restoring it."""
    url = settings.ELASTICSEARCH_URL
    settings.ELASTICSEARCH_URL = DEAD_URL

    def restore() -> None:
        settings.ELASTICSEARCH_URL = url

    return restore


def refresh(client) -> None:
    """Make every write to the `topic` alias visible to search now."""
    client.indices.refresh(index=es.alias_name("topic"))


class Outage:
    """`down()` points the client at a closed port, `up()` back at the real cluster."""

    def __init__(self, settings) -> None:
        self.settings = settings
        self.url = settings.ELASTICSEARCH_URL

    def down(self) -> None:
        self.settings.ELASTICSEARCH_URL = DEAD_URL

    def up(self) -> None:
        self.settings.ELASTICSEARCH_URL = self.url


@pytest.fixture
def es_outage(es_index, settings) -> Outage:
    """An `Outage` switch over the `es_index` cluster (starts up)."""
    return Outage(settings)
