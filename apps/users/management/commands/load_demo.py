"""`manage.py load_demo`: load every app's demo data (idempotent), for `make run`."""

from importlib import import_module

from django.core.management.base import BaseCommand

DEMO_APPS = ("users", "school", "work", "community", "shopping")


class Command(BaseCommand):
    help = "Load the demo school, question bank, articles and commodities (idempotent)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--topics", type=int, default=2000, help="topics to import")

    def handle(self, *args, **options) -> None:
        for app in DEMO_APPS:
            try:
                demo = import_module(f"apps.{app}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"apps.{app}.demo":
                    raise
                continue
            self.stdout.write(f"== demo data: {app}")
            demo.load(stdout=self.stdout, options=options)
