"""Cached authentication state of a user: what a request needs to know about its caller.

The JWT carries only the user id (API.md §1.2); each request still needs `is_active` and the
role. Loading the user row and its groups on every request is most of the cost of a cached read
(issue 7), so the state `{"id", "username", "is_active", "is_staff", "is_superuser", "avatar",
"groups": [names]}` is cached in the `default` cache for `USER_STATE_TIMEOUT` seconds and deleted
whenever it changes (user saved, groups changed, deactivation by queryset update — see
`invalidate_user_state`; a group cleared, renamed or deleted invalidates its members). Deletion
happens at once and again after commit, so a request that read the old row between the two
cannot keep a stale state past the commit.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from functools import partial
from typing import Any

from django.contrib.auth.models import Group
from django.core.cache import caches
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete

from apps.users.models import User
from utils import cache as response_cache

logger = logging.getLogger(__name__)

USER_STATE_KEY = "auth:user:{id}"
USER_STATE_TIMEOUT = 300  # seconds; a safety net, invalidation is explicit
# An integer bumped by every invalidation; a cached state is valid only with the generation it
# was loaded under (a reader that read the row before a change and stored it after the change's
# invalidation would otherwise keep the old state for USER_STATE_TIMEOUT).
USER_GENERATION_KEY = "auth:user:{id}:gen"
USER_GENERATION_TIMEOUT = 24 * 3600  # seconds; a new generation starts at a nanosecond clock value
STATE_FIELDS = ("id", "username", "is_active", "is_staff", "is_superuser", "avatar")


def _cache():
    return caches["default"]


def load_user_state(user_id: int) -> dict | None:
    """Return the cached state of `user_id` (loading it from the DB on a miss); None if no row."""
    return load_user_state_with(user_id, ())[0]


def load_user_state_with(
    user_id: int,
    keys: Sequence[str],
    counters: Sequence[tuple[str, str, int]] = (),
) -> tuple[dict | None, dict[str, Any], list[tuple[int, int]] | None]:
    """As `load_user_state`, also reading `keys` of the `default` cache and counting `counters`
    (throttle windows, see `utils.cache.get_many_and_count`) in the same round trip.

    Returns `(state or None, {key: value} for the keys found, counts or None)`: one Redis command
    (a Lua script: `MGET` + `INCR`/`EXPIRE`/`GET` per counter) serves the caller's state, e.g. the
    response-cache versions of the view it calls, and its throttle counts. A cached state counts
    only under the user's current generation (`USER_GENERATION_KEY`, read in the same command).
    """
    key, gen_key = USER_STATE_KEY.format(id=user_id), USER_GENERATION_KEY.format(id=user_id)
    if keys or counters:
        found, counts = response_cache.get_many_and_count([key, gen_key, *keys], list(counters))
    else:
        found, counts = _cache().get_many([key, gen_key]), None
    state, generation = found.pop(key, None), found.pop(gen_key, None)
    if state is not None and state.get("generation") == generation:
        return state, found, counts
    row = User.objects.filter(pk=user_id).values(*STATE_FIELDS).first()
    if row is None:
        return None, found, counts
    groups = list(
        User.groups.through.objects.filter(user_id=user_id).values_list("group__name", flat=True)
    )
    # the generation read before the row: if an invalidation came in between, this state is
    # already outdated under the new generation and the next request loads the row again
    state = {**row, "groups": sorted(groups), "generation": generation}
    _cache().set(key, state, USER_STATE_TIMEOUT)
    return state, found, counts


def user_from_state(state: dict) -> User:
    """Build a `User` instance from `state` without a query.

    The other fields (password, email, ...) are *deferred*: reading one loads it from the DB,
    and `save()` writes only loaded fields, so a partial instance can never blank a column.
    """
    # from_db wants the loaded values in the model's concrete field order
    names = [f.attname for f in User._meta.concrete_fields if f.attname in STATE_FIELDS]
    user = User.from_db("default", names, [state[name] for name in names])
    user._group_names = set(state["groups"])
    return user


def invalidate_user_state(user_id: int) -> None:
    """Forget the cached state of `user_id` now and once more after the current commit: delete
    it and bump the user's generation, so that a state read from the old row by a concurrent
    request and stored after this is not used either."""
    _forget(user_id)
    transaction.on_commit(partial(_forget, user_id))


def _forget(user_id: int) -> None:
    cache = _cache()
    cache.delete(USER_STATE_KEY.format(id=user_id))
    gen_key = USER_GENERATION_KEY.format(id=user_id)
    try:
        cache.incr(gen_key)
    except ValueError:  # no generation yet (or it expired): start one that no earlier one equals
        if not cache.add(gen_key, time.time_ns(), USER_GENERATION_TIMEOUT):
            cache.incr(gen_key)  # another process started it meanwhile


def _on_user_saved(sender, instance: User, **kwargs) -> None:
    invalidate_user_state(instance.pk)


def _on_groups_changed(sender, instance, action: str, reverse: bool, pk_set, **kwargs) -> None:
    # a clear names no pks and, once done, leaves no members to find: take them before it
    if action not in ("post_add", "post_remove", "pre_clear"):
        return
    if not reverse:
        invalidate_user_state(instance.pk)
    else:  # group.user_set.add(...) / .clear(): instance is the group
        for user_id in pk_set or _member_ids(instance):
            invalidate_user_state(user_id)


def _member_ids(group: Group) -> list[int]:
    return list(User.objects.filter(groups=group).values_list("pk", flat=True))


def _on_group_changed(sender, instance: Group, **kwargs) -> None:
    """A group renamed or deleted changes its members' roles (roles come from group names)."""
    for user_id in _member_ids(instance):
        invalidate_user_state(user_id)


def connect_signals() -> None:
    """Wire invalidation to User saves/deletes and group membership changes (AppConfig.ready)."""
    post_save.connect(_on_user_saved, sender=User, dispatch_uid="user_state_saved")
    post_delete.connect(_on_user_saved, sender=User, dispatch_uid="user_state_deleted")
    m2m_changed.connect(
        _on_groups_changed, sender=User.groups.through, dispatch_uid="user_state_groups"
    )
    post_save.connect(_on_group_changed, sender=Group, dispatch_uid="user_state_group_saved")
    # before the delete: afterwards the group has no members left to find
    pre_delete.connect(_on_group_changed, sender=Group, dispatch_uid="user_state_group_deleted")
