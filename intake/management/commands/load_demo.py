"""Load the demo content and the demo accounts, for development machines only."""

import json
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError

from conditions.content import save_condition
from conditions.models import Condition
from intake.roles import CONTENT_EDITOR, FRONT_DESK, PROVIDER

DEMO_CONTENT = Path(settings.BASE_DIR) / "conditions" / "demo"
DEMO_PASSWORD = "demo-clinic-2026"  # noqa: S105 - published on purpose, DEBUG only
DEMO_ACCOUNTS = [
    # username, first name, last name, role, superuser
    ("frontdesk", "Fran", "Desk", FRONT_DESK, False),
    ("provider", "Pat", "Provider", PROVIDER, False),
    ("editor", "Eddie", "Editor", CONTENT_EDITOR, False),
    ("admin", "Ada", "Admin", None, True),
]


class Command(BaseCommand):
    help = "Load the demo condition content and the demo accounts (only while DEBUG is on)."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError(
                "Demo accounts have a published password: load them only with DEBUG=1."
            )
        for path in sorted(DEMO_CONTENT.glob("*.json")):
            document = json.loads(path.read_text(encoding="utf-8"))
            if Condition.objects.filter(slug=document["slug"]).exists():
                self.stdout.write(f"Condition “{document['title']}” is already loaded.")
                continue
            save_condition(document, publish=True, note="Demo content")
            self.stdout.write(f"Loaded condition “{document['title']}”.")
        User = get_user_model()
        for username, first_name, last_name, role, superuser in DEMO_ACCOUNTS:
            if User.objects.filter(username=username).exists():
                continue
            user = User.objects.create_user(
                username,
                password=DEMO_PASSWORD,
                first_name=first_name,
                last_name=last_name,
                is_staff=role in (PROVIDER, CONTENT_EDITOR) or superuser,
                is_superuser=superuser,
            )
            if role:
                user.groups.add(Group.objects.get(name=role))
            self.stdout.write(f"Created demo account “{username}”.")
