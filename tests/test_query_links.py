"""`utils.drf.with_query_params` builds the URL DRF's chained `replace_query_param` builds."""

from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework.utils.urls import replace_query_param

from utils.drf import with_query_params

query_text = st.text(alphabet="abc=&%+ 明月?#;xyz019_-", max_size=30)


@settings(max_examples=300, deadline=None)
@given(query=query_text, offset=st.integers(0, 10_000), limit=st.integers(1, 50))
def test_same_url_as_chained_replace_query_param(query, offset, limit):
    url = f"https://host/api/topics/search/?{query}"
    chained = replace_query_param(replace_query_param(url, "offset", offset), "limit", limit)
    assert with_query_params(url, offset=offset, limit=limit) == chained


def test_keeps_other_params_and_sorts_keys():
    url = "http://h/api/topics/search/?text=%E6%98%8E%E6%9C%88&type=0&offset=10&limit=10&_nc=7"
    assert with_query_params(url, offset=20, limit=10) == (
        "http://h/api/topics/search/?_nc=7&limit=10&offset=20&text=%E6%98%8E%E6%9C%88&type=0"
    )
