"""`manage.py demo_logins`: print the demo accounts a new user can log in with."""

from django.core.management.base import BaseCommand

from apps.users.models import User

DEMO_PASSWORD = "stsys-demo-2026"  # demo accounts only (make run); never used in production


class Command(BaseCommand):
    help = "Print the demo logins created by load_demo."

    def handle(self, *args, **options) -> None:
        self.stdout.write(f"   Demo logins (password for all: {DEMO_PASSWORD}):")
        for username in ("admin", "teacher", "student"):
            user = User.objects.filter(username=username).first()
            if user is not None:
                self.stdout.write(f"     {username:<8} role={user.role}")
