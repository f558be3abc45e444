"""End to end through the offline Alipay simulator (API.md §2.6 "Offline sandbox simulator").

pay_url → simulator gateway page (checks the app's signature) → "pay" → signed notify → order
paid → signed return → the return endpoint reports paid. A second flow loses the notify and is
settled by the trade-query task against a live server's simulator gateway.
"""

from decimal import Decimal
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

from apps.shopping.models import Order, Payment
from apps.shopping.services import payments_query_pending
from apps.shopping.tests.conftest import (  # noqa: F401 - fixtures
    NOTIFY_PATH,
    simulator_dir,
    simulator_settings,
)
from apps.shopping.tests.factories import AddressFactory, ShoppingCartFactory, UserFactory

pytestmark = pytest.mark.usefixtures("simulator_settings")


def _press_pay(client, params):
    """The gateway page's form post (urlencoded, as a browser sends it)."""
    return client.post(
        "/sandbox/alipay/gateway/pay/",
        urlencode(params),
        content_type="application/x-www-form-urlencoded",
    )


def _order_and_pay_url(client_for):
    buyer = UserFactory()
    row = ShoppingCartFactory(user=buyer, commodity__price=Decimal("19.90"), number=2)
    client = client_for(buyer)
    order = client.post(
        "/api/shopping/orders/",
        {"address": AddressFactory(user=buyer).pk, "pay_method": 1, "cart": [row.pk]},
        format="json",
    ).json()
    pay_url = client.get(f"/api/shopping/payment/{order['order_id']}/pay/").json()["pay_url"]
    return client, order, pay_url


@pytest.mark.django_db
def test_pay_through_the_simulator_end_to_end(client_for):
    client, order, pay_url = _order_and_pay_url(client_for)
    url = urlsplit(pay_url)
    assert f"{url.scheme}://{url.netloc}{url.path}" == "http://testserver/sandbox/alipay/gateway/"
    params = dict(parse_qsl(url.query))

    page = client.get(url.path, params)
    assert page.status_code == 200
    html = page.content.decode()
    assert "确认付款" in html
    assert "39.80" in html

    paid = _press_pay(client, params)

    assert paid.status_code == 302
    back = urlsplit(paid["Location"])
    assert back.path == "/pay/return"
    db_order = Order.objects.get(pk=order["order_id"])
    assert db_order.status == Order.Status.TO_SHIP
    payment = Payment.objects.get(order=db_order)
    report = client.put(f"/api/shopping/orders/status/?{back.query}")
    assert report.status_code == 200
    assert report.json() == {
        "order_id": order["order_id"],
        "status": 2,
        "paid": True,
        "trade_id": payment.trade_id,
    }
    again = client.get(f"/api/shopping/payment/{order['order_id']}/pay/")
    assert again.status_code == 409


@pytest.mark.django_db
def test_simulator_gateway_refuses_a_tampered_request(client_for):
    client, order, pay_url = _order_and_pay_url(client_for)
    params = dict(parse_qsl(urlsplit(pay_url).query))
    params["biz_content"] = params["biz_content"].replace("39.80", "0.01")

    assert client.get("/sandbox/alipay/gateway/", params).status_code == 400
    assert _press_pay(client, params).status_code == 400
    assert Order.objects.get(pk=order["order_id"]).status == Order.Status.UNPAID


@pytest.mark.django_db
def test_simulator_is_refused_when_disabled(client_for, settings):
    client, _order, pay_url = _order_and_pay_url(client_for)
    settings.ALIPAY_SIMULATOR = False
    params = dict(parse_qsl(urlsplit(pay_url).query))
    assert client.get("/sandbox/alipay/gateway/", params).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_lost_notify_is_settled_by_the_trade_query(client_for, live_server, settings):
    settings.ALIPAY_NOTIFY_URL = f"{live_server.url}/nowhere/"  # the notify is lost (404)
    client, order, pay_url = _order_and_pay_url(client_for)
    params = dict(parse_qsl(urlsplit(pay_url).query))
    assert _press_pay(client, params).status_code == 302
    assert Order.objects.get(pk=order["order_id"]).status == Order.Status.UNPAID

    settings.ALIPAY_NOTIFY_URL = f"{live_server.url}{NOTIFY_PATH}"  # gateway origin for the query
    assert payments_query_pending() == 1

    assert Order.objects.get(pk=order["order_id"]).status == Order.Status.TO_SHIP
    assert Payment.objects.filter(order_id=order["order_id"]).count() == 1
    assert payments_query_pending() == 0
