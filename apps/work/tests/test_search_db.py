"""The database search backend (embedded default, no ELASTICSEARCH_URL): same shape and rules as
Elasticsearch; plus the pure helpers (`highlight_text`, `reconcile_plan`, versions)."""

import html
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apps.work import search
from apps.work.tests.factories import (
    ExamLabelFactory,
    FillTopicFactory,
    LabelFactory,
    SingleTopicFactory,
)
from utils import search as es

SEARCH = "/api/topics/search/"


@pytest.fixture(autouse=True)
def database_backend(settings):
    settings.SEARCH_BACKEND = "database"
    settings.ELASTICSEARCH_URL = ""


@pytest.fixture
def bank(teacher):
    label = LabelFactory(name="唐诗", user=teacher)
    return {
        "fill": FillTopicFactory(
            label=label,
            user=teacher,
            subject="补全：床前明月光，____。",
            description="李白<静夜思>",
            answer='["疑是地上霜"]',
        ),
        "choice": SingleTopicFactory(
            label=label,
            user=teacher,
            subject="《春晓》的作者是？",
            description=None,
            options=[("A", "孟浩然", True), ("B", "李白", False)],
        ),
        "exam": FillTopicFactory(
            label=ExamLabelFactory(user=teacher), user=teacher, subject="考试：明月几时有"
        ),
    }


def _ids(result) -> set[int]:
    return {hit.id for hit in result.hits}


@pytest.mark.django_db
def test_students_get_no_exam_topics_and_no_answer_matches(bank, teacher, student, user):
    for reader in (student, user):
        assert _ids(search.search_topics(user=reader, text="明月")) == {bank["fill"].pk}
        assert search.search_topics(user=reader, text="地上霜").count == 0  # answer only
        assert search.search_topics(user=reader, text="孟浩然").count == 0  # option only
        assert search.search_topics(user=reader, text="").count == 2
    assert _ids(search.search_topics(user=teacher, text="明月")) == {
        bank["fill"].pk,
        bank["exam"].pk,
    }
    assert _ids(search.search_topics(user=teacher, text="地上霜")) == {bank["fill"].pk}
    assert _ids(search.search_topics(user=teacher, text="孟浩然")) == {bank["choice"].pk}


@pytest.mark.django_db
def test_highlights_are_escaped_and_only_of_subject_and_description(bank, teacher):
    (hit,) = search.search_topics(user=teacher, text="静夜思").hits
    assert hit.id == bank["fill"].pk
    assert hit.highlight == {"description": '李白&lt;<em class="hl">静夜思</em>&gt;'}
    (answer_hit,) = search.search_topics(user=teacher, text="地上霜").hits
    assert answer_hit.highlight == {}


@pytest.mark.django_db
def test_filters_paging_and_newest_first(bank, teacher):
    everything = search.search_topics(user=teacher, text="", offset=0, limit=2)
    rest = search.search_topics(user=teacher, text="", offset=2, limit=2)
    assert everything.count == 3
    order = [h.id for h in everything.hits + rest.hits]
    assert order == [bank["exam"].pk, bank["choice"].pk, bank["fill"].pk]
    assert _ids(search.search_topics(user=teacher, text="", type=0)) == {bank["choice"].pk}
    label = bank["exam"].label_id
    assert _ids(search.search_topics(user=teacher, text="", label=label)) == {bank["exam"].pk}


@pytest.mark.django_db
def test_search_endpoint_on_the_database_backend(bank, student, client_for):
    body = client_for(student).get(SEARCH, {"text": "明月"}).json()
    assert body["count"] == 1
    (row,) = body["results"]
    assert row["subject_highlight"] == '补全：床前<em class="hl">明月</em>光，____。'
    assert "answer" not in row


def test_highlight_text_marks_every_match_case_insensitively():
    assert search.highlight_text("Python & python", "PYTHON") == (
        '<em class="hl">Python</em> &amp; <em class="hl">python</em>'
    )
    assert search.highlight_text("abc", "x") is None
    assert search.highlight_text(None, "x") is None


@given(st.text(max_size=40), st.text(min_size=1, max_size=4))
def test_highlight_text_escapes_everything_but_its_marks(value, needle):
    marked = search.highlight_text(value, needle)
    if marked is None:
        assert needle.lower() not in value.lower() or not value
        return
    plain = marked.replace('<em class="hl">', "").replace("</em>", "")
    assert "<" not in plain
    assert ">" not in plain
    assert html.unescape(plain) == value


def test_reconcile_plan_finds_missing_stale_and_extra():
    plan = es.reconcile_plan({1: 10, 2: 20, 3: 30}, {2: 20, 3: 29, 4: 40})
    assert (plan.missing, plan.stale, plan.extra) == ([1], [3], [4])
    assert not plan.clean
    assert es.reconcile_plan({1: 1}, {1: 1}).clean


def test_versions_are_exact_microseconds():
    moment = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    assert es.to_version(moment + timedelta(microseconds=1)) - es.to_version(moment) == 1
    assert es.to_version(moment) % 1_000_000 == 678901


def test_index_helpers_refuse_without_prefix(settings):
    settings.ELASTICSEARCH_INDEX_PREFIX = ""
    with pytest.raises(ValueError, match="INDEX_PREFIX"):
        es.delete_prefixed(object())
