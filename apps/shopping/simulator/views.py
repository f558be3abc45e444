"""Simulator gateway (`/sandbox/alipay/gateway/`): page pay, notify + signed return, trade query.

It verifies the app's RSA2 signature with the public half of the configured app key, signs
everything it sends with its own generated "Alipay" key, and keeps paid trades as JSON files in
its key directory. Refused (404) whenever `ALIPAY_SIMULATOR` is off.
"""

import json
import logging
import secrets
from collections.abc import Mapping
from functools import wraps
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from urllib.request import Request, urlopen

from Cryptodome.PublicKey import RSA
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.test import RequestFactory
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from apps.shopping import alipay
from apps.shopping.simulator.keys import (
    content_to_sign,
    key_dir,
    rsa2_sign,
    rsa2_verify,
    signed,
    simulator_keys,
)

logger = logging.getLogger(__name__)

SELLER_ID = "2088000000000001"
BUYER_ID = "2088000000000002"
BUYER_LOGON_ID = "stu***@sandbox.com"
NOTIFY_TIMEOUT = 10  # seconds


def simulator_only(view):
    """404 unless `ALIPAY_SIMULATOR` is on (it can only be on while DEBUG, see settings)."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not settings.ALIPAY_SIMULATOR:
            raise Http404("simulator disabled")
        return view(request, *args, **kwargs)

    return wrapped


def _now_text() -> str:
    return timezone.localtime().strftime("%Y-%m-%d %H:%M:%S")


def _app_signature_ok(params: Mapping[str, str]) -> tuple[bool, str]:
    """Verify the app's signature (public half of the configured app key) and app id."""
    cfg = alipay.config()
    if params.get("app_id") != cfg.app_id:
        return False, "app_id 无效"
    if params.get("sign_type", "RSA2") != "RSA2" or not params.get("sign"):
        return False, "缺少签名或签名类型不支持"
    app_public = RSA.import_key(cfg.app_private_key).publickey().export_key("PEM").decode()
    if not rsa2_verify(app_public, content_to_sign(params, request=True), params["sign"]):
        return False, "验签出错"
    return True, ""


def _trade_path(out_trade_no: str) -> Path:
    safe = "".join(c for c in out_trade_no if c.isalnum())[:64]
    return key_dir() / "trades" / f"{safe}.json"


def _load_trade(out_trade_no: str) -> dict | None:
    path = _trade_path(out_trade_no)
    return json.loads(path.read_text()) if path.exists() else None


def _save_trade(trade: dict) -> None:
    path = _trade_path(trade["out_trade_no"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(trade, ensure_ascii=False))


def _biz(params: Mapping[str, str]) -> dict:
    try:
        biz = json.loads(params.get("biz_content") or "{}")
    except ValueError:
        return {}
    return biz if isinstance(biz, dict) else {}


@simulator_only
@require_GET
def gateway(request: HttpRequest) -> HttpResponse:
    """`alipay.trade.page.pay` → the pay screen (HTML); `alipay.trade.query` → signed JSON."""
    params = request.GET.dict()
    method = params.get("method", "")
    ok, reason = _app_signature_ok(params)
    if method == "alipay.trade.query":
        return _trade_query(params, ok, reason)
    if method != "alipay.trade.page.pay":
        return render(
            request, "shopping/simulator/error.html", {"reason": "不支持的接口"}, status=400
        )
    if not ok:
        return render(request, "shopping/simulator/error.html", {"reason": reason}, status=400)
    biz = _biz(params)
    context = {
        "params": sorted(params.items()),
        "out_trade_no": biz.get("out_trade_no", ""),
        "total_amount": biz.get("total_amount", ""),
        "subject": biz.get("subject", ""),
        "paid": _load_trade(biz.get("out_trade_no", "")) is not None,
    }
    return render(request, "shopping/simulator/gateway.html", context)


def _trade_query(params: Mapping[str, str], ok: bool, reason: str) -> HttpResponse:
    if not ok:  # Alipay answers unsigned `error_response` for gateway-level errors
        body = {
            "code": "40002",
            "msg": "Invalid Arguments",
            "sub_code": "isv.invalid-signature",
            "sub_msg": reason,
        }
        return JsonResponse({"error_response": body})
    out_trade_no = _biz(params).get("out_trade_no", "")
    trade = _load_trade(out_trade_no) if out_trade_no else None
    if trade is None:
        answer = {
            "code": "40004",
            "msg": "Business Failed",
            "sub_code": "ACQ.TRADE_NOT_EXIST",
            "sub_msg": "交易不存在",
            "out_trade_no": out_trade_no,
        }
    else:
        answer = {
            "code": "10000",
            "msg": "Success",
            "trade_no": trade["trade_no"],
            "out_trade_no": out_trade_no,
            "buyer_logon_id": BUYER_LOGON_ID,
            "trade_status": "TRADE_SUCCESS",
            "total_amount": trade["total_amount"],
            "send_pay_date": trade["gmt_payment"],
        }
    inner = json.dumps(answer, ensure_ascii=False, separators=(",", ":"))
    sign = rsa2_sign(simulator_keys().alipay_private, inner)
    raw = f'{{"alipay_trade_query_response":{inner},"sign":"{sign}"}}'
    return HttpResponse(raw, content_type="application/json; charset=utf-8")


def _deliver_notify(request: HttpRequest, params: Mapping[str, str]) -> str:
    """POST the signed notify to ALIPAY_NOTIFY_URL; in-process when it names this server."""
    url = settings.ALIPAY_NOTIFY_URL
    parts = urlsplit(url)
    body = urlencode(params)
    if parts.netloc == request.get_host():
        try:
            match = resolve(parts.path)
        except Resolver404:
            return "failure"
        fake = RequestFactory().post(
            parts.path, data=body, content_type="application/x-www-form-urlencoded"
        )
        response = match.func(fake, *match.args, **match.kwargs)
        return response.content.decode(errors="replace").strip()
    req = Request(url, data=body.encode(), method="POST")
    req.add_header("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
    try:
        with urlopen(req, timeout=NOTIFY_TIMEOUT) as resp:
            return resp.read().decode(errors="replace").strip()
    except OSError as exc:
        logger.warning("simulator notify to %s failed: %s", url, exc)
        return "failure"


@simulator_only
@require_POST
def pay(request: HttpRequest) -> HttpResponse:
    """The buyer pressed "pay": record the trade, send the notify, redirect to `return_url`."""
    params = request.POST.dict()
    params.pop("csrfmiddlewaretoken", None)
    ok, reason = _app_signature_ok(params)
    if not ok or params.get("method") != "alipay.trade.page.pay":
        return render(
            request, "shopping/simulator/error.html", {"reason": reason or "参数错误"}, status=400
        )
    cfg = alipay.config()
    biz = _biz(params)
    out_trade_no = biz.get("out_trade_no", "")
    total_amount = biz.get("total_amount", "")
    trade = _load_trade(out_trade_no) or {
        "out_trade_no": out_trade_no,
        "trade_no": timezone.localtime().strftime("%Y%m%d")
        + "2200"
        + f"{secrets.randbelow(10**16):016d}",
        "total_amount": total_amount,
        "gmt_create": _now_text(),
        "gmt_payment": _now_text(),
    }
    _save_trade(trade)
    alipay_private = simulator_keys().alipay_private
    notify = signed(
        alipay_private,
        {
            "notify_time": _now_text(),
            "notify_type": "trade_status_sync",
            "notify_id": secrets.token_hex(16),
            "app_id": cfg.app_id,
            "auth_app_id": cfg.app_id,
            "charset": "utf-8",
            "version": "1.0",
            "trade_no": trade["trade_no"],
            "out_trade_no": out_trade_no,
            "buyer_id": BUYER_ID,
            "buyer_logon_id": BUYER_LOGON_ID,
            "seller_id": SELLER_ID,
            "trade_status": "TRADE_SUCCESS",
            "total_amount": total_amount,
            "receipt_amount": total_amount,
            "buyer_pay_amount": total_amount,
            "subject": biz.get("subject", ""),
            "gmt_create": trade["gmt_create"],
            "gmt_payment": trade["gmt_payment"],
        },
    )
    answer = _deliver_notify(request, notify)
    logger.info("simulator notify for %s answered %r", out_trade_no, answer)
    return_params = signed(
        alipay_private,
        {
            "charset": "utf-8",
            "out_trade_no": out_trade_no,
            "method": "alipay.trade.page.pay.return",
            "total_amount": total_amount,
            "trade_no": trade["trade_no"],
            "auth_app_id": cfg.app_id,
            "version": "1.0",
            "app_id": cfg.app_id,
            "seller_id": SELLER_ID,
            "timestamp": _now_text(),
        },
    )
    return_url = params.get("return_url")
    if not return_url:
        context = {"out_trade_no": out_trade_no, "answer": answer}
        return render(request, "shopping/simulator/done.html", context)
    parts = urlsplit(return_url)
    query = urlencode([*parse_qsl(parts.query), *return_params.items()])
    return HttpResponseRedirect(urlunsplit(parts._replace(query=query)))
