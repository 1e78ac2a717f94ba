"""The benchmarks' data: a clinic with a given number of visits, and the people, visits
and links whose pages the load generator asks for.

All synthetic: numbered names, dates counted from a fixed day.
"""

import datetime
import json
import os
import subprocess
import sys

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import get_commands
from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone

from audit.actors import Actor
from conditions.content import save_condition
from conditions.models import Condition
from intake.answers import save_answers
from intake.models import Patient, Visit
from intake.orders import place_order
from intake.patients import register_patient
from intake.roles import FRONT_DESK, PROVIDER
from intake.visits import open_visit

CONDITION = "muscle-twitches"
# A busy clinic day fills one page of Today.
VISITS_PER_DAY = 80
# generate_demo_data's patients come with this many visits each.
VISITS_PER_PATIENT = 4
# One visit in this many gets a test order.
ORDERED_EVERY = 4
FIRST_DAY = datetime.date(2026, 1, 5)
# Two sets of intake answers that differ in every question: a save alternating them
# changes each answer every time.
ANSWERS = [
    {
        "first-noticed": datetime.date(2026, 1, 1),
        "how-often": "all-the-time",
        "other-symptoms": {"weakness"},
    },
    {
        "first-noticed": datetime.date(2025, 12, 1),
        "how-often": "several-times-a-day",
        "other-symptoms": {"none-of-these"},
    },
]


def populate(size):
    """Make the database hold at least `size` visits: with generate_demo_data where it is
    installed (COPY on PostgreSQL), else through the workflows, one visit at a time."""
    missing = size - Visit.objects.count()
    if missing <= 0:
        return
    if "generate_demo_data" in get_commands():
        generate(missing)
    else:
        populate_by_workflows(size)


def generate(visits):
    """About `visits` more visits from generate_demo_data, which needs the demo condition
    and staff in both roles, and runs only with DEBUG on (hence a process of its own)."""
    demo_condition()
    clerk()
    provider()
    patients = max(1, visits // VISITS_PER_PATIENT)
    subprocess.run(
        [
            *(sys.executable, "manage.py", "generate_demo_data"),
            *("--patients", str(patients), "--visits-per-patient", str(VISITS_PER_PATIENT)),
            *("--seed", "11"),
        ],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DEBUG": "1"},
        check=True,
    )


def demo_condition():
    condition = Condition.objects.filter(slug=CONDITION).first()
    if condition is None:
        document = settings.BASE_DIR / "conditions" / "demo" / f"{CONDITION}.json"
        condition = save_condition(json.loads(document.read_text(encoding="utf-8")), publish=True)
    return condition


def persona(username, role, **fields):
    """A bench user in `role`, created once; signed in by session, never by password."""
    user, created = get_user_model().objects.get_or_create(username=username, defaults=fields)
    if created:
        user.set_unusable_password()
        user.save()
        user.groups.add(Group.objects.get(name=role))
    return user


def clerk():
    return persona("bench.frontdesk", FRONT_DESK)


def provider():
    return persona("bench.provider", PROVIDER, is_staff=True)


def populate_by_workflows(size):
    """`size` visits of numbered patients, VISITS_PER_DAY a day from FIRST_DAY, each with
    intake answers, and a test order on one in ORDERED_EVERY."""
    condition = demo_condition()
    clerk_actor = Actor.for_user(clerk())
    provider_actor = Actor.for_user(provider())
    test = None
    for n in range(Visit.objects.count(), size):
        patient = register_patient(
            actor=clerk_actor,
            given_name=f"Bench{n}",
            family_name=f"Patient{n % 97}",
            date_of_birth=datetime.date(1950, 1, 1) + datetime.timedelta(days=n % 20000),
            sex_at_birth=Patient.SexAtBirth.FEMALE,
        )
        day = FIRST_DAY + datetime.timedelta(days=n // VISITS_PER_DAY)
        visit = open_visit(
            patient=patient,
            condition=condition,
            scheduled_at=timezone.make_aware(datetime.datetime.combine(day, datetime.time(8)))
            + datetime.timedelta(minutes=5 * (n % VISITS_PER_DAY)),
            actor=clerk_actor,
        )
        save_answers(visit=visit, values=ANSWERS[0], expected_version=0, actor=clerk_actor)
        if n % ORDERED_EVERY == 0:
            test = test or visit.orderable_tests().first()
            place_order(visit=visit, test=test, actor=provider_actor, reason="Bench order")


def busiest_day():
    """The day with the most visits (the earliest of equals)."""
    return (
        Visit.objects.annotate(day=TruncDate("scheduled_at"))
        .values("day")
        .annotate(visits=Count("pk"))
        .order_by("-visits", "day")
        .values_list("day", flat=True)
        .first()
    )


def visit_to_read():
    """A visit whose pages have something in every part: answers and a test order."""
    return (
        Visit.objects.filter(answers__isnull=False, test_orders__isnull=False)
        .order_by("pk")
        .first()
    ) or Visit.objects.filter(answers__isnull=False).order_by("pk").first()


def visits_to_save(count):
    """`count` new upcoming visits whose intake the benchmark saves over and over, each
    with its first answers saved (so each later save changes answers, not adds them)."""
    condition = demo_condition()
    actor = Actor.for_user(clerk())
    start = timezone.now() + datetime.timedelta(days=3)
    visits = []
    for n in range(count):
        patient = register_patient(
            actor=actor,
            given_name=f"Saver{n}",
            family_name="Bench",
            date_of_birth=datetime.date(1980, 1, 1) + datetime.timedelta(days=n),
            sex_at_birth=Patient.SexAtBirth.FEMALE,
        )
        visit = open_visit(
            patient=patient,
            condition=condition,
            scheduled_at=start + datetime.timedelta(minutes=10 * n),
            actor=actor,
        )
        visits.append(save_answers(visit=visit, values=ANSWERS[0], expected_version=0, actor=actor))
    return visits


def intake_form(values):
    """The staff intake form's fields for typed answers, as a browser sends them."""
    form = {}
    for key, value in values.items():
        if isinstance(value, datetime.date):
            value = value.isoformat()
        elif isinstance(value, set):
            value = sorted(value)
        form[f"q_{key}"] = value
    return form
