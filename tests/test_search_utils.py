"""Generic Elasticsearch helpers (`utils/search.py`) on a REAL cluster, with a non-topic index
(as the community app's `article` index will use them), and the service scripts."""

import os
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from apps.work.tests import search_fixtures
from utils import search as es
from utils.exceptions import SearchUnavailable

ROOT = Path(__file__).resolve().parent.parent
es_index = search_fixtures.es_index
dead_es = search_fixtures.dead_es

BODY = {"mappings": {"properties": {"title": {"type": "text"}}}}


def test_ensure_alias_swap_and_cleanup(es_index):
    alias = es.ensure_alias(es_index, "things", lambda: BODY)
    assert es.ensure_alias(es_index, "things", lambda: BODY) == alias  # idempotent
    (first,) = es.alias_indices(es_index, "things")
    assert first.endswith("things_v0")
    result = es.bulk(
        es_index,
        ({"_index": alias, "_id": i, "_source": {"title": f"t{i}"}} for i in range(25)),
        chunk_size=10,
        refresh=True,
    )
    assert (result.ok, result.errors) == (25, [])
    second = es.versioned_name("things")
    es.create_index(es_index, second, BODY)
    old = es.swap_alias(es_index, "things", second)
    assert old == [first]
    assert es.alias_indices(es_index, "things") == [second]
    assert not es_index.indices.exists(index=first)
    assert es.index_versions(es_index, "things") == {}
    gone = es.bulk(es_index, [{"_op_type": "delete", "_index": alias, "_id": 1}])
    assert (gone.ok, gone.not_found) == (0, 1)


def test_analyzer_probe(es_index):
    assert es.analyzer_exists(es_index, "standard")
    assert not es.analyzer_exists(es_index, "no_such_analyzer")
    index_analyzer, _search = es.chinese_analyzers(es_index)
    assert index_analyzer in {"ik_max_word", "smartcn", "cjk", "standard"}


def test_unreachable_cluster_is_search_unavailable(es_index, dead_es):
    with pytest.raises(SearchUnavailable), es.unavailable_as_503():
        es.get_client().cluster.health()
    with pytest.raises(SearchUnavailable):
        es.bulk(es.get_client(), [{"_index": "x", "_id": 1, "_source": {}}])


def test_elasticsearch_script_is_idempotent_when_running(es_index, settings):
    url = urlsplit(settings.ELASTICSEARCH_URL)
    if url.hostname not in ("127.0.0.1", "localhost"):
        pytest.skip("the script manages a local 127.0.0.1:<ES_PORT> cluster only")
    done = subprocess.run(
        ["bash", str(ROOT / "tests/services/elasticsearch.sh")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "ES_PORT": str(url.port or 9200)},
    )
    assert done.returncode == 0, done.stderr
    assert "already running" in done.stdout


@pytest.mark.parametrize("script", ["elasticsearch.sh", "stop.sh"])
def test_service_scripts_parse(script):
    done = subprocess.run(
        ["bash", "-n", str(ROOT / "tests/services" / script)], capture_output=True, check=False
    )
    assert done.returncode == 0, done.stderr
