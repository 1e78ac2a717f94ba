"""Load the demo content and the demo accounts, for development machines only."""

import datetime
import json
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from audit.actors import Actor
from conditions.content import save_condition
from conditions.models import Condition
from intake.models import Patient
from intake.patients import register_patient
from intake.roles import ADMIN_ROLES, CLINIC_ADMIN, CONTENT_EDITOR, FRONT_DESK, PROVIDER
from intake.visits import open_visit

DEMO_CONTENT = Path(settings.BASE_DIR) / "conditions" / "demo"
DEMO_PASSWORD = "demo-clinic-2026"  # noqa: S105 - published on purpose, DEBUG only
DEMO_ACCOUNTS = [
    # username, first name, last name, role, superuser
    ("frontdesk", "Fran", "Desk", FRONT_DESK, False),
    ("provider", "Pat", "Provider", PROVIDER, False),
    ("editor", "Eddie", "Editor", CONTENT_EDITOR, False),
    ("clinicadmin", "Cleo", "Manager", CLINIC_ADMIN, False),
    ("admin", "Ada", "Admin", None, True),
]
# Synthetic patients: invented names, example.org addresses, fictional phone numbers.
DEMO_PATIENTS = [
    # given, family, born, sex at birth, minutes from the next full hour to the visit
    ("Mara", "Lindqvist", datetime.date(1988, 4, 12), "female", 0),
    ("Tobias", "Okafor", datetime.date(1975, 11, 3), "male", 30),
    ("Ines", "Vargas", datetime.date(2001, 6, 21), "female", 75),
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
                email=f"{username}@example.org",
                is_staff=role in ADMIN_ROLES or superuser,
                is_superuser=superuser,
            )
            if role:
                user.groups.add(Group.objects.get(name=role))
            self.stdout.write(f"Created demo account “{username}”.")

        self._load_patients(User.objects.get(username="frontdesk"))

    def _load_patients(self, clerk):
        condition = Condition.objects.get(slug="muscle-twitches")
        provider = get_user_model().objects.get(username="provider")
        # Visits in the coming hours, so that pre-visit links can still be sent.
        next_hour = timezone.localtime().replace(minute=0, second=0, microsecond=0)
        next_hour += datetime.timedelta(hours=1)
        clerk_actor = Actor.for_user(clerk)
        for given, family, born, sex, minutes in DEMO_PATIENTS:
            if Patient.objects.filter(given_name=given, family_name=family).exists():
                continue
            patient = register_patient(
                actor=clerk_actor,
                given_name=given,
                family_name=family,
                date_of_birth=born,
                sex_at_birth=sex,
                email=f"{given.lower()}@example.org",
                phone="+1 555 0100",
            )
            open_visit(
                patient=patient,
                condition=condition,
                scheduled_at=next_hour + datetime.timedelta(minutes=minutes),
                provider=provider,
                actor=clerk_actor,
            )
            self.stdout.write(f"Created demo patient {patient} with a visit soon.")
