"""The simulator's generated key pairs and RSA2 (SHA256withRSA) signing helpers.

Keys live in `settings.ALIPAY_SIMULATOR_DIR` (default `var/alipay-simulator/`): `app_private.pem`
(stands in for the app's key while `ALIPAY_APP_PRIVATE_KEY*` is unset) and `alipay_private.pem`
(the simulator's "Alipay" key; its public half verifies notifies while `ALIPAY_PUBLIC_KEY*` is
unset). Generated once, written atomically so concurrent workers agree on one pair.
"""

import base64
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from Cryptodome.Hash import SHA256
from Cryptodome.PublicKey import RSA
from Cryptodome.Signature import PKCS1_v1_5
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

SIMULATOR_APP_ID = "9021000000000001"  # the simulator's app id (16 digits, like Alipay's)
KEY_BITS = 2048


@dataclass(frozen=True)
class SimulatorKeys:
    """PEM texts of both pairs: the app's (private/public) and the simulated Alipay's."""

    app_private: str
    app_public: str
    alipay_private: str
    alipay_public: str


def key_dir() -> Path:
    """Directory of the generated keys (`ALIPAY_SIMULATOR_DIR` or `var/alipay-simulator/`)."""
    return Path(
        getattr(settings, "ALIPAY_SIMULATOR_DIR", None)
        or Path(settings.BASE_DIR) / "var" / "alipay-simulator"
    )


def _load_or_create(path: Path) -> RSA.RsaKey:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = RSA.generate(KEY_BITS).export_key("PEM")
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".key-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
        try:
            os.link(tmp, path)  # fails if another process won the race: keep theirs
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    return RSA.import_key(path.read_bytes())


@lru_cache(maxsize=4)
def _keys_in(directory: str) -> SimulatorKeys:
    app = _load_or_create(Path(directory) / "app_private.pem")
    alipay = _load_or_create(Path(directory) / "alipay_private.pem")
    return SimulatorKeys(
        app_private=app.export_key("PEM").decode(),
        app_public=app.publickey().export_key("PEM").decode(),
        alipay_private=alipay.export_key("PEM").decode(),
        alipay_public=alipay.publickey().export_key("PEM").decode(),
    )


def simulator_keys() -> SimulatorKeys:
    """Return (generating on first use) the simulator's key pairs.

    Raises ImproperlyConfigured when the simulator is off: its keys are never used then.
    """
    if not settings.ALIPAY_SIMULATOR:
        raise ImproperlyConfigured("The Alipay simulator is disabled; its keys are not used.")
    return _keys_in(str(key_dir()))


def content_to_sign(params: Mapping[str, str], *, request: bool = False) -> str:
    """Alipay's string to sign: `k=v` pairs sorted by key, `&`-joined, minus `sign` and
    `sign_type` — except for app requests (`request=True`), whose `sign_type` is signed too."""
    skip = ("sign",) if request else ("sign", "sign_type")
    items = sorted((k, v) for k, v in params.items() if k not in skip)
    return "&".join(f"{k}={v}" for k, v in items)


def rsa2_sign(private_pem: str, message: str) -> str:
    """Base64 SHA256withRSA (PKCS#1 v1.5) signature of `message` (UTF-8)."""
    key = RSA.import_key(private_pem)
    signature = PKCS1_v1_5.new(key).sign(SHA256.new(message.encode()))
    return base64.b64encode(signature).decode()


def rsa2_verify(public_pem: str, message: str, signature: str) -> bool:
    """True when `signature` (base64) is a valid SHA256withRSA signature of `message`."""
    try:
        raw = base64.b64decode(signature, validate=True)
        key = RSA.import_key(public_pem)
        return bool(PKCS1_v1_5.new(key).verify(SHA256.new(message.encode()), raw))
    except (ValueError, TypeError):
        return False


def signed(private_pem: str, params: Mapping[str, str]) -> dict[str, str]:
    """`params` plus `sign` (over `content_to_sign`) and `sign_type=RSA2`."""
    out = dict(params)
    out["sign"] = rsa2_sign(private_pem, content_to_sign(out))
    out["sign_type"] = "RSA2"
    return out
