"""User services: captcha, login tokens, passwords, profile, avatar, user admin, addresses.

Sources: API.md §2.1 (users app). Writes with business rules live here; views stay thin.
"""

import logging
import threading
import uuid as uuid_lib
from functools import partial
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.models import Group, update_last_login
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.cache import caches
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from PIL import Image
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from apps.users.auth_state import invalidate_user_state
from apps.users.models import STUDENT_GROUP, TEACHER_GROUP, Address, Area, User
from apps.users.signals import public_profile_changed
from utils import captcha as captcha_draw
from utils.exceptions import CacheUnavailable, DomainError, StorageUnavailable
from utils.images import normalise

logger = logging.getLogger(__name__)

CAPTCHA_ALIAS = "verify_codes"
CAPTCHA_KEY = "login:verification:{uuid}"
CAPTCHA_TTL = 180  # seconds (API.md §1.7)
ADDRESS_LIMIT = 20  # live addresses per user
AVATAR_SIZE = (256, 256)  # pixels
ROLE_GROUPS = (TEACHER_GROUP, STUDENT_GROUP)


class CaptchaExpired(DomainError):
    """No code stored for the uuid (never issued, expired, or already consumed)."""

    default_message = "Captcha expired, request a new one."


class CaptchaIncorrect(DomainError):
    """The answer does not match the stored code (case-insensitive)."""

    default_message = "Captcha is incorrect."


class InvalidLink(DomainError):
    """A set-password `uid`/`token` pair that is malformed, expired or already used."""

    default_message = "Invalid or expired link."


class AddressLimitReached(DomainError):
    """The user already has `ADDRESS_LIMIT` live addresses."""

    default_message = f"At most {ADDRESS_LIMIT} addresses are allowed."


# --- Set-password links ------------------------------------------------------------------------


def set_password_link(*, user: User) -> str:
    """Return `{FRONTEND_URL}/set-password?uid=..&token=..` for `user`.

    The token is Django's `PasswordResetTokenGenerator`: valid `PASSWORD_RESET_TIMEOUT` seconds
    and single use, because it is bound to the password hash (and `last_login`).
    """
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return f"{settings.FRONTEND_URL}/set-password?{urlencode({'uid': uid, 'token': token})}"


def password_set_by_link(*, uid: str, token: str, new_password: str) -> User:
    """Set the password of the user named by a set-password link (API.md §2.1 "Set-password").

    Raises `InvalidLink` for a bad/expired/used link (checked first, so nothing else leaks) and
    Django's `ValidationError` when `new_password` fails the password validators. On success all
    outstanding refresh tokens of the user are blacklisted; the link is spent (hash changed).
    """
    try:
        pk = int(force_str(urlsafe_base64_decode(uid)))
    except (TypeError, ValueError, OverflowError):
        raise InvalidLink() from None
    user = User.objects.filter(pk=pk, is_active=True).first()
    if user is None or not default_token_generator.check_token(user, token):
        raise InvalidLink()
    validate_password(new_password, user)
    password_change(user=user, new_password=new_password)
    return user


# --- Captcha -----------------------------------------------------------------------------------

_local_lock = threading.Lock()  # emulates GETDEL's atomicity on local-memory caches


def _redis_client():
    """The raw Redis client of the captcha cache, or None for a non-Redis (local-memory) cache.

    The raw client is used on purpose: `DJANGO_REDIS_IGNORE_EXCEPTIONS` would turn an outage
    into a silent "miss", while the contract answers 503 (API.md §1.5).
    """
    backend = settings.CACHES[CAPTCHA_ALIAS]["BACKEND"]
    if not backend.startswith("django_redis."):
        return None
    from django_redis import get_redis_connection

    return get_redis_connection(CAPTCHA_ALIAS)


def captcha_issue(*, uuid: uuid_lib.UUID | str) -> bytes:
    """Draw a new code for `uuid`, store it for `CAPTCHA_TTL` s (replacing any), return PNG bytes.

    Key `login:verification:<uuid>` in cache alias `verify_codes`; value = the code as drawn.
    Raises `CacheUnavailable` (503) when Redis does not answer.
    """
    code = captcha_draw.generate_code()
    key = CAPTCHA_KEY.format(uuid=str(uuid))
    client = _redis_client()
    if client is None:
        caches[CAPTCHA_ALIAS].set(key, code, timeout=CAPTCHA_TTL)
    else:
        from redis.exceptions import RedisError

        try:
            client.set(key, code, ex=CAPTCHA_TTL)
        except RedisError as exc:
            logger.warning("captcha store failed: %s", type(exc).__name__)
            raise CacheUnavailable() from exc
    return captcha_draw.render_png(code)


def captcha_consume(*, uuid: uuid_lib.UUID | str) -> str | None:
    """Atomically fetch and delete the code stored for `uuid` (Redis `GETDEL`); None if absent.

    Raises `CacheUnavailable` (503) when Redis does not answer.
    """
    key = CAPTCHA_KEY.format(uuid=str(uuid))
    client = _redis_client()
    if client is None:
        cache = caches[CAPTCHA_ALIAS]
        with _local_lock:
            code = cache.get(key)
            cache.delete(key)
        return code
    from redis.exceptions import RedisError

    try:
        raw = client.getdel(key)
    except RedisError as exc:
        logger.warning("captcha consume failed: %s", type(exc).__name__)
        raise CacheUnavailable() from exc
    return None if raw is None else force_str(raw)


def captcha_check(*, uuid: uuid_lib.UUID | str, answer: str) -> None:
    """Consume the stored code and compare it with `answer`, case-insensitively.

    Every call consumes the code, right or wrong. Raises `CaptchaExpired` (none stored),
    `CaptchaIncorrect` (mismatch) or `CacheUnavailable` (Redis down).
    """
    code = captcha_consume(uuid=uuid)
    if code is None:
        raise CaptchaExpired()
    if code.lower() != (answer or "").lower():
        raise CaptchaIncorrect()


# --- Login and tokens --------------------------------------------------------------------------


def login_authenticate(*, request: HttpRequest, username: str, password: str) -> User | None:
    """The active user with these credentials, or None (unknown, wrong password, inactive)."""
    user = authenticate(request, username=username, password=password)
    return user if user is not None and user.is_active else None


def login_tokens(*, user: User) -> dict[str, str]:
    """Mint a refresh/access pair for `user` (the refresh is recorded as outstanding) and
    update `last_login`. Returns `{"access": jwt, "refresh": jwt}`."""
    refresh = RefreshToken.for_user(user)
    update_last_login(None, user)
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def blacklist_user_tokens(*, user: User) -> int:
    """Blacklist every not-yet-expired outstanding refresh token of `user`; return how many."""
    tokens = OutstandingToken.objects.filter(
        user=user, expires_at__gt=timezone.now(), blacklistedtoken__isnull=True
    )
    rows = [BlacklistedToken(token=t) for t in tokens]
    BlacklistedToken.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def logout(*, user: User, refresh: RefreshToken) -> None:
    """Blacklist `refresh`, which the caller has checked belongs to `user`."""
    refresh.blacklist()
    logger.info("user %s logged out", user.pk)


@transaction.atomic
def password_change(*, user: User, new_password: str) -> None:
    """Set `user`'s password (already validated) and blacklist all their refresh tokens."""
    user.set_password(new_password)
    user.save(update_fields=["password"])
    blacklist_user_tokens(user=user)
    logger.info("password changed for user %s", user.pk)


# --- Profile, avatar, user administration ------------------------------------------------------


def me_update(*, user: User, **fields: str | None) -> User:
    """Update the caller's own `email`, `first_name`, `last_name`, `mobile` (others ignored)."""
    allowed = {
        k: v for k, v in fields.items() if k in ("email", "first_name", "last_name", "mobile")
    }
    for name, value in allowed.items():
        setattr(user, name, value)
    if allowed:
        user.save(update_fields=list(allowed))
    return user


def avatar_set(*, user: User, image: Image.Image) -> User:
    """Store `image` (validated) as `user`'s 256×256 avatar under a server-generated name.

    The new file is saved through `default_storage` first (FastDFS in production); a storage
    failure raises `StorageUnavailable` (503) and leaves the old avatar untouched. The old file
    is deleted by a Celery task after the row update commits.
    """
    encoded = normalise(image, size=AVATAR_SIZE)
    name = f"avatars/{uuid_lib.uuid4().hex}.{encoded.ext}"
    try:
        stored = default_storage.save(name, ContentFile(encoded.content))
    except StorageUnavailable:
        raise
    except OSError as exc:
        logger.warning("avatar store failed for user %s: %s", user.pk, type(exc).__name__)
        raise StorageUnavailable() from exc
    from apps.users.tasks import delete_stored_file

    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        old = locked.avatar.name if locked.avatar else None
        User.objects.filter(pk=user.pk).update(avatar=stored)
        invalidate_user_state(user.pk)
        transaction.on_commit(partial(public_profile_changed.send, sender=User, user_id=user.pk))
        if old and old != stored:
            transaction.on_commit(partial(delete_stored_file.delay, old))
    user.avatar.name = stored
    return user


@transaction.atomic
def user_update(*, user: User, groups: list[str] | None = None, **fields: object) -> User:
    """Update `user` (staff or self-service, the caller checks who may send what).

    `fields` ⊆ `email`, `first_name`, `last_name`, `is_active`; `groups` (⊆ teacher/student)
    replaces the role groups, leaving other groups alone. Deactivation blacklists all refresh
    tokens of the user.
    """
    allowed = {
        k: v for k, v in fields.items() if k in ("email", "first_name", "last_name", "is_active")
    }
    for name, value in allowed.items():
        setattr(user, name, value)
    if allowed:
        user.save(update_fields=list(allowed))
    if groups is not None:
        user.groups.remove(*Group.objects.filter(name__in=ROLE_GROUPS))
        user.groups.add(*Group.objects.filter(name__in=set(groups)))
        user.__dict__.pop("_group_names", None)
        getattr(user, "_prefetched_objects_cache", {}).pop("groups", None)
    if allowed.get("is_active") is False:
        blacklist_user_tokens(user=user)
    return user


@transaction.atomic
def user_deactivate(*, user: User) -> None:
    """Set `is_active=False` and blacklist the user's outstanding refresh tokens (API.md DELETE)."""
    User.objects.filter(pk=user.pk).update(is_active=False)
    invalidate_user_state(user.pk)  # a queryset update sends no post_save
    user.is_active = False
    blacklist_user_tokens(user=user)
    logger.info("user %s deactivated", user.pk)


# --- Addresses ---------------------------------------------------------------------------------


def _lock_addresses(user: User) -> list[Address]:
    """Serialise address writes of one user: lock the user row, then their live address rows."""
    User.objects.select_for_update().filter(pk=user.pk).first()
    return list(Address.objects.select_for_update().filter(user=user, is_delete=False))


@transaction.atomic
def address_create(
    *,
    user: User,
    receiver: str,
    province: Area,
    city: Area,
    district: Area,
    place: str,
    mobile: str,
    is_default: bool = False,
) -> Address:
    """Create a live address of `user`; the first one is the default, and a new default clears
    the flag on the others (same transaction, under row locks). Raises `AddressLimitReached`."""
    live = _lock_addresses(user)
    if len(live) >= ADDRESS_LIMIT:
        raise AddressLimitReached()
    is_default = is_default or not live
    if is_default:
        Address.objects.filter(pk__in=[a.pk for a in live if a.is_default]).update(is_default=False)
    return Address.objects.create(
        user=user,
        receiver=receiver,
        province=province,
        city=city,
        district=district,
        place=place,
        mobile=mobile,
        is_default=is_default,
    )


@transaction.atomic
def address_update(*, address: Address, **fields: object) -> Address:
    """Update the caller's `address` (fields already validated); `is_default=True` clears the
    flag on the user's other addresses in the same transaction, under row locks.

    The fields are applied to the row as read under the lock, not to `address` as the caller
    loaded it before, so a concurrent write (another address made default, a delete) is not
    undone. Raises Http404 when the address was deleted meanwhile.
    """
    live = _lock_addresses(address.user)
    current = next((a for a in live if a.pk == address.pk), None)
    if current is None:
        raise Http404
    for name, value in fields.items():
        setattr(current, name, value)
    if fields.get("is_default"):
        others = [a.pk for a in live if a.is_default and a.pk != current.pk]
        Address.objects.filter(pk__in=others).update(is_default=False)
    current.save()
    return current


@transaction.atomic
def address_delete(*, address: Address) -> None:
    """Soft-delete `address`; if it was the default, the most recently updated other live
    address becomes the default. Orders keep their text snapshot."""
    live = _lock_addresses(address.user)
    current = next((a for a in live if a.pk == address.pk), None)
    if current is None:  # deleted meanwhile: nothing left to do
        return
    Address.objects.filter(pk=current.pk).update(is_delete=True, is_default=False)
    if current.is_default:  # as locked now, not as the caller read it before
        rest = sorted(
            (a for a in live if a.pk != address.pk), key=lambda a: a.update_time, reverse=True
        )
        if rest:
            Address.objects.filter(pk=rest[0].pk).update(is_default=True)
