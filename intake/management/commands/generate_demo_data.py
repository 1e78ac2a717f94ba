"""Fill the database with synthetic patients and two years of their visits."""

import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, transaction
from django.utils import timezone

from conditions.models import Condition
from intake.demo_data import DemoClinic, Staff, Tables
from intake.models import RecordNumberCounter
from intake.roles import FRONT_DESK, PROVIDER

CONDITION = "muscle-twitches"
# Record numbers have seven digits before the check digit.
LAST_RECORD_NUMBER = 9_999_999
MOST_VISITS_PER_PATIENT = 50


class Command(BaseCommand):
    help = (
        "Add synthetic patients, each with visits spread over two years around today "
        "(weekdays, clinic hours), with answers, red flags, test orders, pre-visit links "
        "and their audit trail, to the demo condition loaded by load_demo. Appends to what "
        "is there; other writers wait until it commits. Only with DEBUG on."
    )

    def add_arguments(self, parser):
        parser.add_argument("--patients", type=int, required=True)
        parser.add_argument("--visits-per-patient", type=int, required=True)
        parser.add_argument("--seed", type=int, default=0, help="The same seed, the same rows.")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *, patients, visits_per_patient, seed, database, **options):
        if not settings.DEBUG:
            raise CommandError(
                "Synthetic patients belong in development and benchmark databases only: "
                "run with DEBUG=1."
            )
        if patients < 1:
            raise CommandError("--patients must be at least 1.")
        if not 1 <= visits_per_patient <= MOST_VISITS_PER_PATIENT:
            raise CommandError(f"--visits-per-patient must be from 1 to {MOST_VISITS_PER_PATIENT}.")
        condition = (
            Condition.objects.using(database)
            .published()
            .select_related("published_version")
            .filter(slug=CONDITION)
            .first()
        )
        if condition is None:
            raise CommandError(
                f"The demo condition “{CONDITION}” is not loaded and published: run "
                "`manage.py load_demo` first."
            )
        staff = Staff(
            front_desk=_members(FRONT_DESK, database), providers=_members(PROVIDER, database)
        )
        if not (staff.front_desk and staff.providers):
            raise CommandError(
                "Visits need front-desk and provider accounts to act: run "
                "`manage.py load_demo` first, or add staff with those roles."
            )
        counter = RecordNumberCounter.objects.using(database).first()
        if (counter.last if counter else 0) + patients > LAST_RECORD_NUMBER:
            raise CommandError("There are not that many record numbers left.")

        started = time.monotonic()
        progress = Progress(self.stderr, patients * visits_per_patient)
        with transaction.atomic(using=database), Tables(database) as tables:
            clinic = DemoClinic(
                condition=condition,
                staff=staff,
                seed=seed,
                now=timezone.now(),
                tables=tables,
                using=database,
            )
            for made in clinic.make_patients(patients, visits_per_patient):
                progress.show(made, started)
            tables.finish()
        tables.analyze()
        progress.end()
        seconds = time.monotonic() - started
        rows = sum(tables.written.values())
        counts = ", ".join(
            f"{count:,} {model._meta.verbose_name_plural}"
            for model, count in tables.written.items()
        )
        self.stdout.write(
            f"Added {counts}: {rows:,} rows in {seconds:.1f} s ({rows / seconds:,.0f} rows/s)."
        )


def _members(role, database):
    User = get_user_model()
    return list(
        User.objects.using(database).filter(groups__name=role, is_active=True).order_by("pk")
    )


class Progress:
    """A progress bar on a terminal; nothing elsewhere."""

    WIDTH = 30

    def __init__(self, stream, total):
        self.stream = stream
        self.total = total
        self.on_terminal = stream.isatty()

    def show(self, done, started):
        if not self.on_terminal:
            return
        share = done / self.total
        filled = round(share * self.WIDTH)
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        elapsed = time.monotonic() - started
        self.stream.write(f"\r[{bar}] {done:,}/{self.total:,} visits, {elapsed:.0f} s", ending="")
        self.stream.flush()

    def end(self):
        if self.on_terminal:
            self.stream.write("")
