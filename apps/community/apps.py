from django.apps import AppConfig


class CommunityConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.community"
    label = "community"

    def ready(self) -> None:
        from apps.community import services
        from apps.users.signals import public_profile_changed

        # cached article and comment bodies embed the author's avatar link
        public_profile_changed.connect(
            services.author_profile_changed, dispatch_uid="community_author_profile"
        )
