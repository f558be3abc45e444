"""Regressions found by the schema fuzzer (tests/test_schemathesis.py) in the question bank."""

import pytest

from apps.work.models import TopicType
from apps.work.tests.factories import LabelFactory, SingleTopicFactory


@pytest.mark.django_db
def test_patch_options_without_is_correct_is_validated_not_500(client_for, teacher, index_calls):
    """PATCH is partial, so DRF skipped the nested `is_correct` default → KeyError (500)."""
    topic = SingleTopicFactory(label=LabelFactory(user=teacher), user=teacher)
    url = f"/api/work/topics/{topic.pk}/"
    no_correct = {"options": [{"key": "A", "text": "x"}, {"key": "B", "text": "y"}]}
    response = client_for(teacher).patch(url, no_correct, format="json")
    assert response.status_code == 400
    assert "options" in response.json()

    one_correct = {
        "options": [{"key": "A", "text": "x"}, {"key": "B", "text": "y", "is_correct": True}]
    }
    response = client_for(teacher).patch(url, one_correct, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["answer"] == "B"
    assert [o["is_correct"] for o in body["options"]] == [False, True]


@pytest.mark.django_db
def test_search_schema_documents_the_envelope():
    """The search action's schema is the paginated envelope with its query params, not one topic."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path in ("/api/topics/search/", "/api/work/topics/search/"):
        op = schema["paths"][path]["get"]
        assert {p["name"] for p in op["parameters"]} >= {"text", "type", "label", "offset", "limit"}
        ref = op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        page = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
        assert set(page["properties"]) == {"count", "next", "previous", "results"}
        assert page["properties"]["results"]["type"] == "array"
    assert TopicType.SINGLE == 0
