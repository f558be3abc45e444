from django.apps import AppConfig


class UsersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.users"
    label = "users"

    def ready(self) -> None:
        from apps.users import schema  # noqa: F401  (registers the OpenAPI auth extension)
        from apps.users.auth_state import connect_signals

        connect_signals()
