"""The one thin module for Alipay (python-alipay-sdk `AliPay`, RSA2): build, sign, verify, query.

Configuration (API.md §0): `ALIPAY_APP_ID`, the app's private key (`ALIPAY_APP_PRIVATE_KEY` PEM
or `ALIPAY_APP_PRIVATE_KEY_FILE`) and Alipay's public key (`ALIPAY_PUBLIC_KEY` / `_FILE`) — two
different keys. A set variable always wins; while `ALIPAY_SIMULATOR` is on, unset ones fall back
to the simulator's generated keys and app id. Gateway: `ALIPAY_GATEWAY` = `sandbox` (default),
`production`, `simulator` or a URL; the simulator gateway is used while the app key is the
simulator's. No network I/O happens here except `trade_query`.
"""

import binascii
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from alipay import AliPay
from alipay.exceptions import AliPayException, AliPayValidationError
from alipay.utils import AliPayConfig
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest

from apps.shopping.exceptions import PaymentUnavailable

logger = logging.getLogger(__name__)

SANDBOX_GATEWAY = "https://openapi-sandbox.dl.alipaydev.com/gateway.do"
PRODUCTION_GATEWAY = "https://openapi.alipay.com/gateway.do"
SIMULATOR_GATEWAY_PATH = "/sandbox/alipay/gateway/"
PAID_TRADE_STATUSES = frozenset({"TRADE_SUCCESS", "TRADE_FINISHED"})
QUERY_TIMEOUT = 10  # seconds


@dataclass(frozen=True)
class AlipayConfig:
    """Resolved app id, PEM keys and whether the simulator stands in for Alipay."""

    app_id: str
    app_private_key: str
    alipay_public_key: str
    uses_simulator_gateway: bool


def _read(text: str, path: str) -> str:
    if text:
        return text
    if path:
        return Path(path).read_text()
    return ""


def config() -> AlipayConfig:
    """Resolve settings (and, while the simulator is on, its keys for unset variables).

    Raises PaymentUnavailable (503) when a key or the app id is missing.
    """
    app_private = _read(settings.ALIPAY_APP_PRIVATE_KEY, settings.ALIPAY_APP_PRIVATE_KEY_FILE)
    alipay_public = _read(settings.ALIPAY_PUBLIC_KEY, settings.ALIPAY_PUBLIC_KEY_FILE)
    app_id = settings.ALIPAY_APP_ID
    gateway = settings.ALIPAY_GATEWAY
    simulated_app = False
    if settings.ALIPAY_SIMULATOR:
        from apps.shopping.simulator.keys import SIMULATOR_APP_ID, simulator_keys

        keys = simulator_keys()
        simulated_app = not app_private
        app_private = app_private or keys.app_private
        alipay_public = alipay_public or keys.alipay_public
        app_id = app_id or SIMULATOR_APP_ID
    if not (app_private and alipay_public and app_id):
        logger.error("Alipay is not configured (app id / app key / Alipay public key missing)")
        raise PaymentUnavailable()
    uses_simulator = settings.ALIPAY_SIMULATOR and (
        gateway == "simulator" or (gateway == "sandbox" and simulated_app)
    )
    return AlipayConfig(app_id, app_private, alipay_public, uses_simulator)


class GatewayAliPay(AliPay):
    """`AliPay` whose server API calls go to `gateway` (the SDK only knows sandbox/production)."""

    def __init__(self, *, gateway: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._gateway = gateway


@lru_cache(maxsize=8)
def _client(app_id: str, app_private_key: str, alipay_public_key: str, gateway: str) -> AliPay:
    try:
        return GatewayAliPay(
            gateway=gateway,
            appid=app_id,
            app_private_key_string=app_private_key,
            alipay_public_key_string=alipay_public_key,
            sign_type="RSA2",
            config=AliPayConfig(timeout=QUERY_TIMEOUT),
        )
    except (ValueError, IndexError, TypeError) as exc:
        raise ImproperlyConfigured("Invalid Alipay key") from exc


def client(cfg: AlipayConfig | None = None, request: HttpRequest | None = None) -> AliPay:
    """An `AliPay` (RSA2) for the resolved configuration and gateway; cached per key set."""
    cfg = cfg or config()
    return _client(
        cfg.app_id, cfg.app_private_key, cfg.alipay_public_key, gateway_url(cfg, request)
    )


def gateway_url(cfg: AlipayConfig, request: HttpRequest | None = None) -> str:
    """Absolute gateway URL. The simulator's is built from the request's host, else from the
    origin of `ALIPAY_NOTIFY_URL` (background tasks have no request)."""
    if cfg.uses_simulator_gateway:
        if request is not None:
            return request.build_absolute_uri(SIMULATOR_GATEWAY_PATH)
        parts = urlsplit(settings.ALIPAY_NOTIFY_URL)
        return f"{parts.scheme}://{parts.netloc}{SIMULATOR_GATEWAY_PATH}"
    gateway = settings.ALIPAY_GATEWAY
    if gateway in ("sandbox", "simulator"):
        return SANDBOX_GATEWAY
    if gateway == "production":
        return PRODUCTION_GATEWAY
    return gateway


ALIPAY_TIME_ZONE = ZoneInfo("Asia/Shanghai")  # Alipay reads `time_expire` as Beijing time


def page_pay_url(
    *,
    out_trade_no: str,
    total_amount: str,
    subject: str,
    time_expire: datetime | None = None,
    request: HttpRequest | None = None,
) -> str:
    """`alipay.trade.page.pay` URL: gateway + `?` + signed params (return/notify from settings).

    `time_expire` (an aware datetime): the moment after which Alipay accepts no payment for
    the trade, sent in `biz_content` as `yyyy-MM-dd HH:mm:ss` Beijing time. Without it the trade
    stays payable for Alipay's default of 15 days. Source: Alipay open platform reference of
    `alipay.trade.page.pay`, request parameter `time_expire`.
    """
    cfg = config()
    extra = {}
    if time_expire is not None:
        extra["time_expire"] = time_expire.astimezone(ALIPAY_TIME_ZONE).strftime(
            "%Y-%m-%d %H:%M:%S"
        )
    query = client(cfg, request).api_alipay_trade_page_pay(
        subject=subject,
        out_trade_no=out_trade_no,
        total_amount=total_amount,
        return_url=settings.ALIPAY_RETURN_URL,
        notify_url=settings.ALIPAY_NOTIFY_URL,
        **extra,
    )
    return f"{gateway_url(cfg, request)}?{query}"


def verify_params(params: Mapping[str, str]) -> bool:
    """Verify Alipay's RSA2 signature over flat params (notify form or return query).

    `sign` and `sign_type` are removed; `sign_type`, if present, must be `RSA2`. Returns False
    for a missing/garbled signature; never raises for bad input.
    """
    data = dict(params)
    signature = data.pop("sign", "")
    sign_type = data.pop("sign_type", "RSA2")
    if not signature or sign_type != "RSA2":
        return False
    try:
        return client().verify(data, signature)
    except (AliPayException, ValueError, TypeError, binascii.Error):
        return False


def trade_query(*, out_trade_no: str) -> dict[str, Any]:
    """`alipay.trade.query` for `out_trade_no`; returns the verified response object.

    Shape (Alipay): `{"code": "10000", "out_trade_no", "trade_no", "trade_status",
    "total_amount", ...}`; a business error keeps its `code` (e.g. "40004" trade not exist).
    Raises PaymentUnavailable on network errors, unsigned/garbled or badly signed responses.
    """
    try:
        return client().api_alipay_trade_query(out_trade_no=out_trade_no)
    except AliPayValidationError as exc:
        logger.warning("trade query %s: bad signature on the response", out_trade_no)
        raise PaymentUnavailable() from exc
    except AliPayException as exc:
        # unsigned error_response (e.g. invalid app id): treat as "cannot tell"
        logger.warning("trade query %s: gateway error %s", out_trade_no, exc.code)
        raise PaymentUnavailable() from exc
    except (OSError, ValueError) as exc:
        logger.warning("trade query %s: gateway unreachable (%s)", out_trade_no, type(exc).__name__)
        raise PaymentUnavailable() from exc
