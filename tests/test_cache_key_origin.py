"""Cached pages hold absolute links: the response-cache key includes scheme, host and path."""

import pytest
from django.test import RequestFactory
from rest_framework.request import Request

from apps.users.tests.factories import StudentFactory
from apps.work.tests.factories import EssayTopicFactory
from utils.cache import OriginPathKeyBit

TOPICS = "/api/work/topics/?size=1"


@pytest.mark.django_db
def test_a_page_cached_for_one_host_is_not_served_with_its_links_to_another(client_for):
    EssayTopicFactory.create_batch(2)
    client = client_for(StudentFactory())

    first = client.get(TOPICS, HTTP_HOST="localhost")
    second = client.get(TOPICS, HTTP_HOST="127.0.0.1")

    assert first.status_code == second.status_code == 200
    assert first.json()["next"].startswith("http://localhost/api/work/topics/")
    assert second.json()["next"].startswith("http://127.0.0.1/api/work/topics/")


def test_the_bit_tells_the_two_search_paths_and_schemes_apart():
    factory = RequestFactory()
    bit = OriginPathKeyBit()

    def data(path, **extra):
        request = Request(factory.get(path, **extra))
        return bit.get_data(None, None, None, request, (), {})

    assert data("/api/topics/search/") == "http://testserver/api/topics/search/"
    assert data("/api/work/topics/search/") == "http://testserver/api/work/topics/search/"
    assert data("/api/topics/search/", secure=True) == "https://testserver/api/topics/search/"
