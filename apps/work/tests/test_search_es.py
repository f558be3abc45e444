"""Topic search on a REAL Elasticsearch (API.md §2.4 "Search", §3 index `topic`)."""

import pytest

from apps.work import search
from apps.work.models import Topic, TopicType
from apps.work.tests import search_fixtures
from apps.work.tests.factories import (
    ExamLabelFactory,
    FillTopicFactory,
    JudgeTopicFactory,
    LabelFactory,
    SingleTopicFactory,
)
from apps.work.tests.search_fixtures import refresh
from utils import search as es
from utils.exceptions import SearchUnavailable

SEARCH = "/api/topics/search/"
es_index = search_fixtures.es_index
dead_es = search_fixtures.dead_es


def _index(client, *topics) -> None:
    search.sync_topics(topic_ids=[t.pk for t in topics])
    refresh(client)


def _ids(result) -> list[int]:
    return [hit.id for hit in result.hits]


@pytest.fixture
def poems(teacher):
    label = LabelFactory(name="唐诗", user=teacher)
    exam = ExamLabelFactory(name="期末考试", user=teacher)
    return {
        "jys": FillTopicFactory(
            label=label,
            user=teacher,
            subject="补全唐诗：床前明月光，疑是地上霜。举头望明月，____。",
            description="出自唐·李白《静夜思》。",
            answer='["低头思故乡"]',
        ),
        "jys_judge": JudgeTopicFactory(
            label=label,
            user=teacher,
            subject="判断：“床前明月光，疑是地上霜”唐代杜甫所作。",
            description="题目：静夜思。",
            answer="false",
        ),
        "dgql": FillTopicFactory(
            label=label,
            user=teacher,
            subject="补全唐诗：白日依山尽，黄河入海流。欲穷千里目，____。",
            description="出自唐·王之涣《登鹳雀楼》。",
            answer='["更上一层楼"]',
        ),
        "exam": JudgeTopicFactory(
            label=exam,
            user=teacher,
            subject="判断：“床前明月光”出自《静夜思》。",
            description=None,
            answer="true",
        ),
        "choice": SingleTopicFactory(
            label=label,
            user=teacher,
            subject="《春晓》的作者是？",
            description="唐诗单选题。",
            options=[("A", "孟浩然", True), ("B", "李白", False), ("C", "杜甫", False)],
        ),
    }


@pytest.mark.django_db
def test_verse_fragment_finds_its_poems_topics_first(es_index, poems, teacher, student):
    _index(es_index, *poems.values())
    result = search.search_topics(user=student, text="床前明月光", offset=0, limit=10)
    assert set(_ids(result)[:2]) == {poems["jys"].pk, poems["jys_judge"].pk}
    assert poems["dgql"].pk not in _ids(result)
    assert result.count == len(result.hits)
    other = search.search_topics(user=student, text="黄河入海流", offset=0, limit=10)
    assert _ids(other) == [poems["dgql"].pk]
    assert other.hits[0].highlight["subject"].count('<em class="hl">') >= 1


@pytest.mark.django_db
def test_students_never_get_exam_topics(es_index, poems, teacher, student, user):
    _index(es_index, *poems.values())
    as_teacher = search.search_topics(user=teacher, text="床前明月光", offset=0, limit=10)
    assert poems["exam"].pk in _ids(as_teacher)
    for reader in (student, user):
        for text in ("床前明月光", "静夜思", ""):
            result = search.search_topics(user=reader, text=text, offset=0, limit=50)
            assert poems["exam"].pk not in _ids(result)
            assert result.count == len(result.hits)
    everything = search.search_topics(user=student, text="", offset=0, limit=50)
    assert everything.count == 4
    assert search.search_topics(user=teacher, text="", offset=0, limit=50).count == 5


@pytest.mark.django_db
def test_answers_and_options_are_searched_for_teachers_only(es_index, poems, teacher, student):
    _index(es_index, *poems.values())
    for text, key in (("低头思故乡", "jys"), ("孟浩然", "choice")):
        assert search.search_topics(user=student, text=text, offset=0, limit=10).count == 0
        found = search.search_topics(user=teacher, text=text, offset=0, limit=10)
        assert _ids(found) == [poems[key].pk]
        assert set(found.hits[0].highlight) <= {"subject", "description"}  # never answer/options


@pytest.mark.django_db
def test_highlight_is_html_escaped(es_index, teacher, student):
    topic = JudgeTopicFactory(
        label=LabelFactory(user=teacher),
        user=teacher,
        subject="<script>alert('明月')</script> & <b>明月</b>",
        description="<img src=x onerror=alert(1)> 明月",
        answer="true",
    )
    _index(es_index, topic)
    hit = search.search_topics(user=student, text="明月", offset=0, limit=10).hits[0]
    for name in ("subject", "description"):
        value = hit.highlight[name]
        stripped = value.replace('<em class="hl">', "").replace("</em>", "")
        assert "<" not in stripped
        assert ">" not in stripped
        assert '<em class="hl">明</em>' in value or '<em class="hl">明月</em>' in value
    assert "&lt;script&gt;" in hit.highlight["subject"]
    assert "&amp;" in hit.highlight["subject"]


@pytest.mark.django_db
def test_filters_paging_and_empty_text_newest_first(es_index, poems, teacher):
    _index(es_index, *poems.values())
    newest_first = list(
        Topic.objects.filter(is_delete=False)
        .order_by("-update_time", "-id")
        .values_list("pk", flat=True)
    )
    page1 = search.search_topics(user=teacher, text="", offset=0, limit=2)
    page2 = search.search_topics(user=teacher, text="", offset=2, limit=2)
    assert _ids(page1) + _ids(page2) == newest_first[:4]
    assert page1.count == 5
    assert all(hit.highlight == {} for hit in page1.hits)
    fill = search.search_topics(user=teacher, text="唐诗", type=TopicType.FILL, offset=0, limit=10)
    assert set(_ids(fill)) == {poems["jys"].pk, poems["dgql"].pk}
    exam_label = poems["exam"].label_id
    by_label = search.search_topics(user=teacher, text="", label=exam_label, offset=0, limit=10)
    assert _ids(by_label) == [poems["exam"].pk]


@pytest.mark.django_db
def test_missing_index_counts_zero(es_index, teacher):
    result = search.search_topics(user=teacher, text="明月", offset=0, limit=10)
    assert (result.count, result.hits) == (0, [])


@pytest.mark.django_db
def test_unreachable_cluster_raises_search_unavailable(es_index, dead_es, teacher, client_for):
    with pytest.raises(SearchUnavailable):
        search.search_topics(user=teacher, text="明月", offset=0, limit=10)
    response = client_for(teacher).get(SEARCH, {"text": "明月"})
    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable"


@pytest.mark.django_db
def test_search_endpoint_on_elasticsearch(es_index, poems, student, teacher, client_for):
    _index(es_index, *poems.values())
    body = client_for(student).get(SEARCH, {"text": "床前明月光"}).json()
    assert body["count"] == 2
    ids = [row["id"] for row in body["results"]]
    assert set(ids) == {poems["jys"].pk, poems["jys_judge"].pk}
    assert all("answer" not in row for row in body["results"])
    assert all('<em class="hl">' in row["subject_highlight"] for row in body["results"])
    teacher_body = client_for(teacher).get(SEARCH, {"text": "床前明月光"}).json()
    assert teacher_body["count"] == 3
    assert all("answer" in row for row in teacher_body["results"])


@pytest.mark.django_db
def test_sync_upserts_live_and_deletes_deleted_or_missing(es_index, poems):
    topics = list(poems.values())
    _index(es_index, *topics)
    gone = topics[0]
    Topic.objects.filter(pk=gone.pk).update(is_delete=True)
    result = search.sync_topics(topic_ids=[gone.pk, 987654], refresh=True)
    assert (result.deleted, result.not_found) == (1, 1)
    alias = es.alias_name("topic")
    assert not es_index.exists(index=alias, id=gone.pk)
    assert es_index.count(index=alias)["count"] == len(topics) - 1
    again = search.sync_topics(topic_ids=[t.pk for t in topics[1:]], refresh=True)
    assert again.indexed == len(topics) - 1  # idempotent: same versions are accepted again
    assert es_index.count(index=alias)["count"] == len(topics) - 1


@pytest.mark.django_db
def test_late_stale_write_never_overwrites_newer_state(es_index, poems):
    topic = poems["dgql"]
    _index(es_index, topic)
    old_state = Topic.objects.get(pk=topic.pk)
    topic.subject = "补全唐诗：白日依山尽，____。"
    topic.save()
    _index(es_index, topic)
    alias = es.alias_name("topic")
    late = es.bulk(es_index, [search._index_action(old_state, alias)], refresh=True)
    assert late.conflicts == 1
    doc = es_index.get(index=alias, id=topic.pk)
    assert doc["_source"]["subject"] == topic.subject
    assert doc["_version"] == es.to_version(Topic.objects.get(pk=topic.pk).update_time)


@pytest.mark.django_db
def test_label_change_reindexes_its_topics(es_index, poems, student):
    _index(es_index, *poems.values())
    label = poems["jys"].label
    label.name = "唐诗三百首"
    label.is_exam = True
    label.save()
    search.sync_label(label_id=label.pk, refresh=True)
    doc = es_index.get(index=es.alias_name("topic"), id=poems["jys"].pk)["_source"]
    assert (doc["label_name"], doc["label_is_exam"]) == ("唐诗三百首", True)
    assert search.search_topics(user=student, text="", offset=0, limit=50).count == 0


@pytest.mark.django_db
def test_index_mapping_is_explicit_with_a_chinese_capable_analyzer(es_index, poems):
    _index(es_index, poems["jys"])
    ((index, body),) = es_index.indices.get_mapping(index=es.alias_name("topic")).body.items()
    assert index == es.alias_name("topic") + "_v0"
    mapping = body["mappings"]
    assert mapping["dynamic"] == "strict"
    assert mapping["properties"]["label_is_exam"]["type"] == "boolean"
    analyzer = mapping["_meta"]["analyzer"]
    assert analyzer in {"ik_max_word", "smartcn", "cjk", "standard"}
    tokens = es_index.indices.analyze(index=index, field="subject", text="明月光")["tokens"]
    assert len(tokens) >= 2  # Chinese text is split, never one opaque token
