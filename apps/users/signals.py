"""Signals other apps listen to, so that `apps.users` need not know them."""

from functools import partial

from django.db import transaction
from django.dispatch import Signal

# Sent after the commit that changed what other apps show of a user (username or avatar), with
# `user_id` (int). Receivers refresh their copies, e.g. cached bodies that embed the avatar link.
public_profile_changed = Signal()

PUBLIC_FIELDS = frozenset({"username", "avatar"})


def send_on_public_change(sender, instance, created: bool, update_fields=None, **kwargs) -> None:
    """`post_save` receiver for User: after the commit of a save that may have changed the
    username or avatar (any save without `update_fields`, e.g. the admin's), send
    `public_profile_changed`. A new user has nothing cached yet; `last_login` saves are skipped."""
    if created or (update_fields is not None and not PUBLIC_FIELDS & set(update_fields)):
        return
    transaction.on_commit(
        partial(public_profile_changed.send, sender=type(instance), user_id=instance.pk)
    )
