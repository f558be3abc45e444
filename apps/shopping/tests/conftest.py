"""Shopping test fixtures: RSA keys generated here (never from the repo) and signing helpers."""

from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
from Cryptodome.PublicKey import RSA

from apps.shopping.simulator.keys import signed

TEST_APP_ID = "2021000000000042"
NOTIFY_PATH = "/api/shopping/payment/notify/"


@dataclass(frozen=True)
class Keys:
    app_private: str
    app_public: str
    alipay_private: str
    alipay_public: str


def _pair() -> tuple[str, str]:
    key = RSA.generate(2048)
    return key.export_key("PEM").decode(), key.publickey().export_key("PEM").decode()


@pytest.fixture(scope="session")
def alipay_keys() -> Keys:
    """Two different RSA pairs made for this session: the app's and a stand-in Alipay's."""
    app_private, app_public = _pair()
    alipay_private, alipay_public = _pair()
    return Keys(app_private, app_public, alipay_private, alipay_public)


@pytest.fixture
def alipay_settings(settings, alipay_keys):
    """Configure Alipay with the test keys (sandbox gateway, notify URL on the test host)."""
    settings.ALIPAY_APP_ID = TEST_APP_ID
    settings.ALIPAY_APP_PRIVATE_KEY = alipay_keys.app_private
    settings.ALIPAY_PUBLIC_KEY = alipay_keys.alipay_public
    settings.ALIPAY_GATEWAY = "sandbox"
    settings.ALIPAY_NOTIFY_URL = f"http://testserver{NOTIFY_PATH}"
    settings.ALIPAY_RETURN_URL = "http://testserver/pay/return"
    return settings


@pytest.fixture(scope="session")
def simulator_dir(tmp_path_factory):
    """A key directory for the simulator, shared by the session (keys generated once)."""
    return tmp_path_factory.mktemp("alipay-simulator")


@pytest.fixture
def simulator_settings(settings, simulator_dir):
    """The embedded default: simulator on, no ALIPAY_* keys, keys in a temp directory."""
    settings.ALIPAY_SIMULATOR = True
    settings.ALIPAY_SIMULATOR_DIR = str(simulator_dir)
    settings.ALIPAY_APP_ID = ""
    settings.ALIPAY_APP_PRIVATE_KEY = ""
    settings.ALIPAY_APP_PRIVATE_KEY_FILE = ""
    settings.ALIPAY_PUBLIC_KEY = ""
    settings.ALIPAY_PUBLIC_KEY_FILE = ""
    settings.ALIPAY_GATEWAY = "sandbox"
    settings.ALIPAY_NOTIFY_URL = f"http://testserver{NOTIFY_PATH}"
    settings.ALIPAY_RETURN_URL = "http://testserver/pay/return"
    return settings


def notify_params(order, *, keys: Keys, **overrides) -> dict[str, str]:
    """A notify form for `order`, signed with the stand-in Alipay private key (overrides win;
    `sign_with=<pem>` signs with another key)."""
    sign_with = overrides.pop("sign_with", keys.alipay_private)
    params = {
        "notify_time": "2024-05-01 09:31:00",
        "notify_type": "trade_status_sync",
        "notify_id": "ac05099524730693a8b330c5ecf72da9786",
        "app_id": TEST_APP_ID,
        "charset": "utf-8",
        "version": "1.0",
        "trade_no": "2024050122001400000000000001",
        "out_trade_no": order.order_id,
        "trade_status": "TRADE_SUCCESS",
        "total_amount": str(order.total_amount),
        "subject": f"Learning Exchange Platform order {order.order_id}",
    }
    params.update(overrides)
    return signed(sign_with, params)


def post_notify(client, params: dict[str, str]):
    """POST the form the way Alipay does (x-www-form-urlencoded)."""
    return client.post(
        NOTIFY_PATH, data=urlencode(params), content_type="application/x-www-form-urlencoded"
    )
