"""`manage.py load_demo`: load every app's demo data (idempotent), for `make run`."""

from importlib import import_module

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

DEMO_APPS = ("users", "school", "work", "community", "shopping")


class Command(BaseCommand):
    help = "Load the demo school, question bank, articles and commodities (idempotent)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--topics", type=int, default=2000, help="topics to import")
        parser.add_argument(
            "--force", action="store_true", help="run even with DEBUG off (never in production)"
        )

    def handle(self, *args, **options) -> None:
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "load_demo makes 'admin' a superuser with a password published in the repository; "
                "it runs with DEBUG on (the embedded default of `make run`), or with --force."
            )
        for app in DEMO_APPS:
            try:
                demo = import_module(f"apps.{app}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"apps.{app}.demo":
                    raise
                continue
            self.stdout.write(f"== demo data: {app}")
            demo.load(stdout=self.stdout, options=options)
