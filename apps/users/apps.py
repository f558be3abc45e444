from django.apps import AppConfig


class UsersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.users"
    label = "users"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from apps.users import schema  # noqa: F401  (registers the OpenAPI auth extension)
        from apps.users.auth_state import connect_signals
        from apps.users.models import User
        from apps.users.signals import send_on_public_change

        connect_signals()
        post_save.connect(send_on_public_change, sender=User, dispatch_uid="user_public_change")
