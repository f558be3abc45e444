"""Commodity, cart and order endpoints (API.md §2.6): roles, owner scope, shapes, caching."""

import io
import json
from decimal import Decimal

import pytest
from PIL import Image

from apps.shopping.models import Commodity, Order, ShoppingCart
from apps.shopping.tests.factories import (
    AddressFactory,
    CommodityFactory,
    OrderFactory,
    ShoppingCartFactory,
    UserFactory,
)
from apps.users.tests.factories import StaffFactory

COMMODITY = "/api/shopping/commodity/"
CART = "/api/shopping/cart/"
ORDERS = "/api/shopping/orders/"


# --- Commodity ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_commodity_list_search_ordering_and_shape(client_for):
    CommodityFactory(name="高数笔记", price=Decimal("9.90"), sales=5)
    CommodityFactory(name="英语笔记", price=Decimal("59.90"), sales=1)
    CommodityFactory(name="书包", price=Decimal("99.00"))
    CommodityFactory(name="删除的笔记", is_delete=True)
    client = client_for(UserFactory())

    body = client.get(COMMODITY, {"search": "笔记", "ordering": "-price"}).json()

    assert [c["name"] for c in body["results"]] == ["英语笔记", "高数笔记"]
    first = body["results"][0]
    assert set(first) == {
        "id", "name", "description", "price", "stock", "sales", "image", "create_time", "update_time",
    }  # fmt: skip
    assert first["price"] == "59.90"
    assert first["image"] is None
    assert body["count"] == 2


@pytest.mark.django_db
def test_commodity_ordering_outside_the_whitelist_is_400(client_for):
    response = client_for(UserFactory()).get(COMMODITY, {"ordering": "stock"})
    assert response.status_code == 400
    assert "ordering" in response.json()


@pytest.mark.django_db
def test_commodity_requires_authentication(api_client):
    assert api_client.get(COMMODITY).status_code == 401


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "expected"), [("student", 403), ("teacher", 403), ("staff", 201)])
def test_commodity_create_is_staff_only(client_for, request, role, expected):
    user = StaffFactory() if role == "staff" else request.getfixturevalue(role)
    payload = {"name": "草稿本", "price": "3.50", "stock": 7, "sales": 999, "description": None}
    response = client_for(user).post(COMMODITY, payload, format="json")
    assert response.status_code == expected
    if expected == 201:
        assert response.json()["sales"] == 0  # server-owned field ignored
        assert response.json()["price"] == "3.50"


@pytest.mark.django_db
def test_commodity_validation(client_for):
    client = client_for(StaffFactory())
    response = client.post(COMMODITY, {"name": "", "price": "0.00", "stock": -1}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"name", "price", "stock"}


@pytest.mark.django_db
def test_commodity_soft_delete_hides_it_and_keeps_orders(
    client_for, django_capture_on_commit_callbacks
):
    staff = StaffFactory()
    commodity = CommodityFactory()
    client = client_for(staff)
    assert client.get(f"{COMMODITY}{commodity.pk}/").status_code == 200  # cached now

    with django_capture_on_commit_callbacks(execute=True):
        assert client.delete(f"{COMMODITY}{commodity.pk}/").status_code == 204

    assert client.get(f"{COMMODITY}{commodity.pk}/").status_code == 404
    assert Commodity.objects.filter(pk=commodity.pk, is_delete=True).exists()


@pytest.mark.django_db
def test_commodity_cache_is_invalidated_by_staff_writes_and_orders(
    client_for, django_capture_on_commit_callbacks
):
    commodity = CommodityFactory(stock=5, price=Decimal("10.00"))
    buyer = UserFactory()
    reader = client_for(buyer)
    assert reader.get(f"{COMMODITY}{commodity.pk}/").json()["stock"] == 5
    assert reader.get(COMMODITY).json()["results"][0]["stock"] == 5

    with django_capture_on_commit_callbacks(execute=True):
        client_for(StaffFactory()).patch(
            f"{COMMODITY}{commodity.pk}/", {"price": "11.00"}, format="json"
        )
    assert reader.get(f"{COMMODITY}{commodity.pk}/").json()["price"] == "11.00"

    row = ShoppingCartFactory(user=buyer, commodity=commodity, number=2)
    address = AddressFactory(user=buyer)
    with django_capture_on_commit_callbacks(execute=True):
        created = reader.post(
            ORDERS, {"address": address.pk, "pay_method": 1, "cart": [row.pk]}, format="json"
        )
    assert created.status_code == 201
    fresh = reader.get(f"{COMMODITY}{commodity.pk}/").json()
    assert (fresh["stock"], fresh["sales"]) == (3, 2)
    listed = reader.get(COMMODITY).json()["results"][0]
    assert listed["stock"] == 3


def _png(size=(8, 8)) -> io.BytesIO:
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buf, format="PNG")
    buf.seek(0)
    buf.name = "x.png"
    return buf


@pytest.mark.django_db
def test_commodity_image_upload(client_for, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    commodity = CommodityFactory()
    url = f"{COMMODITY}{commodity.pk}/image/"
    assert (
        client_for(UserFactory()).post(url, {"file": _png()}, format="multipart").status_code == 403
    )

    client = client_for(StaffFactory())
    response = client.post(url, {"file": _png()}, format="multipart")

    assert response.status_code == 200
    image = response.json()["image"]
    assert image.startswith("http://testserver/media/commodity/")
    assert image.endswith(".png")
    assert client.get(f"{COMMODITY}{commodity.pk}/").json()["image"] == image
    fake = io.BytesIO(b"not an image at all")
    fake.name = "x.png"
    bad = client.post(url, {"file": fake}, format="multipart")
    assert bad.status_code == 400
    assert "file" in bad.json()


# --- Cart ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_cart_post_merges_repeats_and_caps(client_for):
    user = UserFactory()
    commodity = CommodityFactory()
    client = client_for(user)

    first = client.post(CART, {"commodity": commodity.pk, "number": 50}, format="json")
    again = client.post(CART, {"commodity": commodity.pk, "number": 60}, format="json")

    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["number"] == 99
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["commodity_detail"]["name"] == commodity.name
    assert "private" in first["Cache-Control"]
    assert "no-store" in first["Cache-Control"]


@pytest.mark.django_db
def test_cart_rejects_deleted_commodity_and_bad_number(client_for):
    client = client_for(UserFactory())
    gone = CommodityFactory(is_delete=True)
    response = client.post(CART, {"commodity": gone.pk, "number": 100}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"commodity", "number"}


@pytest.mark.django_db
def test_cart_is_owner_scoped(client_for):
    mine = ShoppingCartFactory()
    theirs = ShoppingCartFactory()
    client = client_for(mine.user)

    assert [r["id"] for r in client.get(CART).json()["results"]] == [mine.pk]
    assert client.get(f"{CART}{theirs.pk}/").status_code == 404
    assert client.patch(f"{CART}{theirs.pk}/", {"number": 3}, format="json").status_code == 404
    assert client.delete(f"{CART}{theirs.pk}/").status_code == 404
    assert ShoppingCart.objects.get(pk=theirs.pk).number == theirs.number

    patched = client.patch(f"{CART}{mine.pk}/", {"number": 7}, format="json")
    assert patched.status_code == 200
    assert patched.json()["number"] == 7
    assert client.put(f"{CART}{mine.pk}/", {"number": 7}, format="json").status_code == 405
    assert client.delete(f"{CART}{mine.pk}/").status_code == 204


# --- Orders -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_order_create_shape(client_for):
    user = UserFactory()
    address = AddressFactory(user=user)
    row = ShoppingCartFactory(user=user, commodity__price=Decimal("43.23"), number=3)
    client = client_for(user)

    response = client.post(
        ORDERS,
        {
            "address": address.pk,
            "pay_method": 1,
            "cart": [row.pk],
            "status": 5,
            "total_amount": "1",
        },
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    assert body["status"] == 1
    assert body["total_amount"] == "129.69"
    assert body["total_count"] == 3
    assert body["address"] == address.snapshot
    assert body["goods"] == [
        {
            "id": body["goods"][0]["id"],
            "commodity": row.commodity_id,
            "name": row.commodity.name,
            "image": None,
            "number": 3,
            "price": "43.23",
        }
    ]
    assert "no-store" in response["Cache-Control"]
    detail = client.get(f"{ORDERS}{body['order_id']}/")
    assert detail.status_code == 200
    assert detail.json() == body


@pytest.mark.django_db
def test_order_create_rejects_foreign_cart_and_address_like_unknown_ids(client_for):
    user = UserFactory()
    other = UserFactory()
    mine = ShoppingCartFactory(user=user)
    theirs = ShoppingCartFactory(user=other)
    their_address = AddressFactory(user=other)
    client = client_for(user)

    response = client.post(
        ORDERS,
        {"address": their_address.pk, "pay_method": 1, "cart": [mine.pk, theirs.pk]},
        format="json",
    )

    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"address", "cart"}
    assert str(theirs.pk) in body["cart"][0]
    assert str(their_address.pk) in body["address"][0]
    assert not Order.objects.exists()
    theirs.commodity.refresh_from_db()
    assert theirs.commodity.stock == 10


@pytest.mark.django_db
@pytest.mark.parametrize(
    "payload",
    [
        {"pay_method": 3},
        {"cart": []},
        {"cart": [1, 1]},
        {"cart": list(range(1, 52))},
    ],
)
def test_order_create_validation(client_for, payload):
    user = UserFactory()
    row = ShoppingCartFactory(user=user)
    base = {"address": AddressFactory(user=user).pk, "pay_method": 1, "cart": [row.pk]}
    response = client_for(user).post(ORDERS, {**base, **payload}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == set(payload)


@pytest.mark.django_db
def test_order_create_insufficient_stock_is_409(client_for):
    user = UserFactory()
    ok = ShoppingCartFactory(user=user, commodity__stock=5, number=1)
    short = ShoppingCartFactory(user=user, commodity__stock=1, number=2)
    response = client_for(user).post(
        ORDERS,
        {"address": AddressFactory(user=user).pk, "pay_method": 2, "cart": [ok.pk, short.pk]},
        format="json",
    )
    assert response.status_code == 409
    assert response.json() == {
        "detail": "Insufficient stock.",
        "code": "insufficient_stock",
        "commodity": [short.commodity_id],
    }
    assert ShoppingCart.objects.filter(user=user).count() == 2


@pytest.mark.django_db
def test_orders_are_owner_scoped_and_read_only(client_for):
    mine = OrderFactory()
    theirs = OrderFactory()
    OrderFactory(user=mine.user, status=Order.Status.TO_SHIP)
    client = client_for(mine.user)

    listed = client.get(ORDERS).json()
    assert listed["count"] == 2
    assert client.get(ORDERS, {"status": 1}).json()["count"] == 1
    assert client.get(ORDERS, {"status": 9}).status_code == 400
    assert client.get(f"{ORDERS}{theirs.pk}/").status_code == 404
    assert client.put(f"{ORDERS}{mine.pk}/", {}, format="json").status_code == 405
    assert client.patch(f"{ORDERS}{mine.pk}/", {}, format="json").status_code == 405
    assert client.delete(f"{ORDERS}{mine.pk}/").status_code == 405


@pytest.mark.django_db
def test_order_list_query_count_is_flat(client_for, django_assert_max_num_queries):
    user = UserFactory()
    for _ in range(5):
        order = OrderFactory(user=user)
        ShoppingCartFactory(user=user)  # unrelated rows
        order.goods.create(commodity=CommodityFactory(), number=1, price=Decimal("1.00"))
    client = client_for(user)
    with django_assert_max_num_queries(6):  # user, count, orders, goods+commodity (+savepoints)
        assert len(client.get(ORDERS).json()["results"]) == 5


@pytest.mark.django_db
def test_order_create_is_throttled(client_for, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "order_create": "2/min",
        },
    }
    from rest_framework.throttling import SimpleRateThrottle

    SimpleRateThrottle.THROTTLE_RATES = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    try:
        user = UserFactory()
        client = client_for(user)
        codes = [
            client.post(
                ORDERS, {"address": 1, "pay_method": 1, "cart": [1]}, format="json"
            ).status_code
            for _ in range(3)
        ]
    finally:
        from rest_framework.settings import api_settings

        SimpleRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
    assert codes == [400, 400, 429]


@pytest.mark.django_db
@pytest.mark.parametrize("pay_method", [1, 2])
def test_order_create_response_equals_order_serializer(client_for, settings, pay_method):
    from apps.shopping.selectors import order_list_for_user
    from apps.shopping.serializers import OrderSerializer

    settings.ORDER_FREIGHT = "8.50"
    user = UserFactory()
    pictured = ShoppingCartFactory(
        user=user, commodity__image="commodity/pic.png", commodity__price=Decimal("0.10"), number=7
    )
    plain = ShoppingCartFactory(user=user, commodity__price=Decimal("99999.99"), number=2)
    client = client_for(user)

    response = client.post(
        ORDERS,
        {"address": AddressFactory(user=user).pk, "pay_method": pay_method,
         "cart": [plain.pk, pictured.pk]},
        format="json",
    )  # fmt: skip

    assert response.status_code == 201
    body = response.json()
    order = order_list_for_user(user=user).get(pk=body["order_id"])
    expected = OrderSerializer(order, context={"request": response.wsgi_request}).data
    assert body == json.loads(json.dumps(expected))
    assert body["total_amount"] == "200009.18"
    assert [g["commodity"] for g in body["goods"]] == sorted(
        [plain.commodity_id, pictured.commodity_id]
    )
    assert body["goods"][0 if pictured.commodity_id < plain.commodity_id else 1]["image"].endswith(
        "commodity/pic.png"
    )


@pytest.mark.django_db
def test_order_create_statements(client_for):
    """Address + cart (one SELECT), one UPDATE per row, prices, order, goods, cart DELETE."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    user = UserFactory()
    rows = [ShoppingCartFactory(user=user) for _ in range(3)]
    address = AddressFactory(user=user)
    client = client_for(user)
    client.get(ORDERS)  # auth state cached
    with CaptureQueriesContext(connection) as queries:
        response = client.post(
            ORDERS, {"address": address.pk, "pay_method": 1, "cart": [r.pk for r in rows]},
            format="json",
        )  # fmt: skip
    assert response.status_code == 201
    kinds = [
        q["sql"].split()[0].upper()
        for q in queries.captured_queries
        if not q["sql"].upper().startswith(("SAVEPOINT", "RELEASE", "BEGIN", "COMMIT"))
    ]
    assert kinds == ["SELECT", "UPDATE", "UPDATE", "UPDATE", "SELECT", "INSERT",
                     "INSERT", "DELETE"]  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize("address", ["deleted", "abc", True, None, 0])
def test_order_create_rejects_unusable_address(client_for, address):
    user = UserFactory()
    row = ShoppingCartFactory(user=user)
    if address == "deleted":
        address = AddressFactory(user=user, is_delete=True).pk
    response = client_for(user).post(
        ORDERS, {"address": address, "pay_method": 1, "cart": [row.pk]}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()) == {"address"}
    assert ShoppingCart.objects.filter(pk=row.pk).exists()
