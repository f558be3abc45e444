"""Regressions found by the schema fuzzer (tests/test_schemathesis.py) in the shopping app."""

import pytest

NOTIFY = "/api/shopping/payment/notify/"


@pytest.mark.django_db
def test_empty_notify_body_is_failure_not_500(client):
    """An empty form parses to a plain dict (no `.dict()`): was AttributeError → 500."""
    response = client.post(NOTIFY, data="", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert response.content == b"failure"


def test_commodity_image_schema_is_the_image_url():
    """The upload answers `{"image": url}`, which the schema now says (was the full commodity)."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    op = schema["paths"]["/api/shopping/commodity/{id}/image/"]["post"]
    ref = op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    body = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert set(body["properties"]) == {"image"}


HUGE = 2**127  # past any primary key: SQLite raised OverflowError in the order inputs (500)


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["address", "cart"])
def test_huge_ids_in_an_order_are_400_not_500(client_for, field):
    from apps.shopping.tests.factories import AddressFactory, ShoppingCartFactory, UserFactory

    user = UserFactory()
    body = {
        "address": AddressFactory(user=user).pk,
        "pay_method": 2,
        "cart": [ShoppingCartFactory(user=user).pk],
    }
    body[field] = HUGE if field == "address" else [HUGE]
    response = client_for(user).post("/api/shopping/orders/", body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
