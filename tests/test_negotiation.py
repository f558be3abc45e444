"""`utils.negotiation.ContentNegotiation` picks what DRF's default negotiation picks, and still answers 406."""

import pytest
from django.http import Http404
from django.test import RequestFactory
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request

from utils.negotiation import ContentNegotiation

RENDERER_SETS = {
    "production": [JSONRenderer()],
    "debug": [JSONRenderer(), BrowsableAPIRenderer()],
}
ACCEPTS = [
    None,
    "*/*",
    " */* ",
    "application/json",
    "application/json; indent=4",
    "application/*",
    "text/html",
    "text/html, */*;q=0.8",
    "application/xml",
    "APPLICATION/JSON",
    "application/json, text/html",
    "",
]


def _choice(
    negotiator, accept: str | None, query: str = "", suffix: str | None = None, *, renderers
):
    meta = {} if accept is None else {"HTTP_ACCEPT": accept}
    request = Request(RequestFactory().get(f"/api/x/{query}", **meta))
    try:
        renderer, media_type = negotiator.select_renderer(request, renderers, suffix)
    except NotAcceptable:
        return "406"
    except Http404:  # a format suffix no renderer has
        return "404"
    return type(renderer).__name__, media_type


@pytest.mark.parametrize("renderers", RENDERER_SETS.values(), ids=RENDERER_SETS.keys())
@pytest.mark.parametrize("accept", ACCEPTS)
@pytest.mark.parametrize(
    ("query", "suffix"),
    [("", None), ("?format=json", None), ("?format=api", None), ("", "json"), ("", "api")],
)
def test_same_choice_as_drf(renderers, accept, query, suffix):
    ours = _choice(ContentNegotiation(), accept, query, suffix, renderers=renderers)
    drf = _choice(DefaultContentNegotiation(), accept, query, suffix, renderers=renderers)
    assert ours == drf


def test_shortcut_cases_return_json():
    for accept in (None, "*/*", "application/json"):
        assert _choice(ContentNegotiation(), accept, renderers=RENDERER_SETS["production"]) == (
            "JSONRenderer",
            "application/json",
        )


def test_unsupported_type_is_still_406():
    assert _choice(ContentNegotiation(), "application/xml", renderers=[JSONRenderer()]) == "406"


@settings(max_examples=200, deadline=None)
@given(
    accept=st.one_of(
        st.none(),
        st.sampled_from(["*/*", "application/json", "text/html", "application/*", "image/png"]),
        st.text(alphabet="abcdefghijklmnopqrstuvwxyz/*;=,. 0123456789q", max_size=40),
    ),
    debug=st.booleans(),
)
def test_same_choice_as_drf_for_any_header(accept, debug):
    renderers = RENDERER_SETS["debug" if debug else "production"]
    ours = _choice(ContentNegotiation(), accept, renderers=renderers)
    drf = _choice(DefaultContentNegotiation(), accept, renderers=renderers)
    assert ours == drf


def test_api_answers_406_for_an_unsupported_type(api_client):
    response = api_client.get("/healthz")  # not DRF: unaffected
    assert response.status_code == 200
    response = api_client.get("/api/users/area/", HTTP_ACCEPT="application/xml")
    assert response.status_code == 406
    assert set(response.json()) == {"detail"}
