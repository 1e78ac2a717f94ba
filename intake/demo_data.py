"""Synthetic records in bulk, for demos and benchmarks (`manage.py generate_demo_data`):
patients, two years of their visits, answers, test orders, pre-visit links, and the
audit trail the workflows would have left.

Each row is what intake.patients, visits, answers, links and orders would have written,
made directly as a table row and written a batch at a time: COPY on PostgreSQL, the
ORM's own prepared INSERT elsewhere. Ids follow the largest in each table and the
sequences are reset after; the tables filled are locked against other writers until the
run commits, and the audit events are chained after the trail's head (audit.trail).
The same seed, on the same day, in the same database, gives the same rows.

Not made: kept versions (django-simple-history; a record's page then lists no changes),
clinical notes, order addenda and merges.
"""

import datetime
import hashlib
import queue
import random
import threading
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.management.color import no_style
from django.db import connections
from django.utils import timezone, translation
from psycopg.types.json import Jsonb

from audit.models import AuditEvent
from audit.trail import BulkAppend
from conditions.models import HistoryQuestion, OrderableTest, RedFlagRule

from . import answer_types, consent, triage
from .links import SEND_FAILED, link_expiry
from .models import (
    Answer,
    Attestation,
    Patient,
    PreVisitLink,
    RecordNumberCounter,
    TestOrder,
    Visit,
)

# Invented people: common given and family names, combined at random.
GIVEN_NAMES = {
    "female": [
        "Amara",
        "Beatriz",
        "Chloe",
        "Dana",
        "Elif",
        "Farah",
        "Grace",
        "Hana",
        "Ines",
        "Jun",
        "Kavya",
        "Lena",
        "Maya",
        "Nadia",
        "Olivia",
        "Priya",
        "Rosa",
        "Sofia",
        "Tamar",
        "Uma",
        "Vera",
        "Wen",
        "Yara",
        "Zoe",
    ],
    "male": [
        "Aaron",
        "Bruno",
        "Carlos",
        "Daniel",
        "Emeka",
        "Felix",
        "Gabriel",
        "Hamid",
        "Ivan",
        "Jonas",
        "Kenji",
        "Luca",
        "Mateo",
        "Nikhil",
        "Omar",
        "Pavel",
        "Rafael",
        "Samuel",
        "Tariq",
        "Viktor",
        "William",
        "Yusuf",
        "Zane",
        "Theo",
    ],
}
GIVEN_NAMES["intersex"] = GIVEN_NAMES["unknown"] = [
    "Alex",
    "Jordan",
    "Kim",
    "Noor",
    "Robin",
    "Sam",
    "Ari",
    "Quinn",
]
FAMILY_NAMES = [
    "Abara",
    "Berg",
    "Castillo",
    "Dubois",
    "Eriksen",
    "Fontaine",
    "Garcia",
    "Haddad",
    "Ibrahim",
    "Jensen",
    "Kowalski",
    "Lindqvist",
    "Moreau",
    "Nakamura",
    "Okafor",
    "Petrov",
    "Quinlan",
    "Rossi",
    "Santos",
    "Tanaka",
    "Ueda",
    "Vargas",
    "Weber",
    "Xu",
    "Yilmaz",
    "Zhang",
    "Novak",
    "Murphy",
    "Nguyen",
    "Kim",
    "Patel",
    "Silva",
    "Cohen",
    "Mensah",
    "Andersen",
    "Costa",
    "Reyes",
    "Schmidt",
    "Walsh",
    "Oyelaran",
]
# Invented surnames, a first part and an ending (Marvane, Tolberg, Ostrada, ...): with the
# list above, about 940 names, so that at a million visits one surname is shared by a few
# hundred patients, as in a real clinic's records, not by one patient in 40.
SURNAME_STARTS = [
    "Al",
    "Bel",
    "Cor",
    "Dal",
    "Est",
    "Fen",
    "Gal",
    "Har",
    "Ist",
    "Jor",
    "Kel",
    "Lor",
    "Mar",
    "Nor",
    "Ost",
    "Pel",
    "Quen",
    "Ros",
    "Sal",
    "Tol",
    "Ulv",
    "Val",
    "Wen",
    "Yar",
    "Zel",
    "Bram",
    "Cal",
    "Dren",
    "Fal",
    "Grev",
]
SURNAME_ENDINGS = [
    "ane",
    "berg",
    "cott",
    "dale",
    "elli",
    "ford",
    "gard",
    "holm",
    "ida",
    "jian",
    "kov",
    "land",
    "mont",
    "nero",
    "oza",
    "pell",
    "quist",
    "rada",
    "sen",
    "ton",
    "ura",
    "vik",
    "well",
    "xo",
    "yev",
    "zari",
    "strom",
    "wick",
    "ando",
    "ova",
]
FAMILY_NAMES += [start + ending for start in SURNAME_STARTS for ending in SURNAME_ENDINGS]
SEXES = [("female", 52), ("male", 47), ("intersex", 0.5), ("unknown", 0.5)]
LANGUAGES = [
    ("en", 60),
    ("", 15),
    ("es", 12),
    ("zh", 4),
    ("vi", 2),
    ("ar", 2),
    ("fr", 1),
    ("ko", 1),
    ("ru", 1),
    ("pt", 1),
    ("ase", 0.5),
    ("other", 0.5),
]
OTHER_LANGUAGES = ["Somali", "Haitian Creole", "Amharic", "Polish", "Farsi"]
FREE_TEXT = [
    "Worse after coffee.",
    "Started after a week of little sleep.",
    "Mostly in the evening.",
    "My mother had something similar.",
    "It stops when I move the muscle.",
]
CANCEL_REASONS = [
    "The patient asked to rebook.",
    "The patient is unwell and will call back.",
    "Booked twice by mistake.",
    "The provider is away; the patient will be offered another day.",
]
ORDER_CANCEL_REASONS = [
    "The patient declined the test.",
    "Done recently elsewhere; results requested.",
    "No longer needed after the examination.",
]
CLOSE_REASON = "The patient will have the remaining tests near home; results to follow."
REVIEW_COMMENTS = ["Discussed with the patient.", "No action needed.", "Repeat in 6 months."]
# Results by catalog test: (result text, value range, unit, normal range), or text only.
RESULTS = {
    "electrolytes-panel": ("Potassium", (3.0, 5.6), "mmol/L", (3.5, 5.1)),
    "thyroid-function": ("TSH", (0.2, 6.0), "mIU/L", (0.4, 4.0)),
    "blood-chemistry-panel": ("Calcium", (8.0, 10.9), "mg/dL", (8.6, 10.3)),
}
RESULT_TEXTS = {
    OrderableTest.Kind.IMAGING: (
        ["No abnormality seen."],
        ["Mild degenerative change; no compression of the cord or nerve roots."],
    ),
    OrderableTest.Kind.NEUROPHYSIOLOGY: (
        ["Fasciculations without signs of denervation: benign pattern."],
        ["Fasciculations with chronic denervation in two segments: refer on."],
    ),
}
# Where the clinic's own staff work from, and patients' links come from (documentation
# address ranges, which belong to no one).
STAFF_ADDRESSES = [f"192.0.2.{n}" for n in range(10, 20)]
PATIENT_ADDRESSES = [f"198.51.100.{n}" for n in range(1, 250)]

PAST_DAYS = 670  # the first visits, this many days before today
FUTURE_DAYS = 60  # booked up to this far ahead
OPENS, CLOSES = datetime.time(8), datetime.time(17)
SLOT = datetime.timedelta(minutes=15)
FLAGGED_SHARE = 0.10  # of the intakes taken
MINUTE, HOUR, DAY = (
    datetime.timedelta(minutes=1),
    datetime.timedelta(hours=1),
    datetime.timedelta(days=1),
)

Status = Visit.Status
OrderStatus = TestOrder.Status
Action = AuditEvent.Action
FILLED = [Patient, Visit, Answer, PreVisitLink, Attestation, TestOrder, AuditEvent]


def _row_template(model):
    """A new row of `model`, every column at its field's default, in column order."""
    return {f.attname: f.get_default() for f in model._meta.concrete_fields}


class Tables:
    """The tables a run fills: their next ids, rows waiting to be written, and how to
    write them on this database."""

    def __init__(self, using):
        self.connection = connections[using]
        self.templates = {model: _row_template(model) for model in FILLED}
        self.pending = {model: [] for model in FILLED}
        self.written = dict.fromkeys(FILLED, 0)
        self.next_id = {}
        self.copying = None
        with self.connection.cursor() as cursor:
            if self.connection.vendor == "postgresql":
                # Other writers wait until the run commits (the audit trail has its own
                # lock, taken by BulkAppend), so the ids given here stay free.
                tables = ", ".join(
                    self.connection.ops.quote_name(model._meta.db_table)
                    for model in FILLED
                    if model is not AuditEvent
                )
                cursor.execute(f"LOCK TABLE {tables} IN EXCLUSIVE MODE")
                # Foreign keys checked as each batch is stored, beside the making of
                # the next, rather than all at once at the commit.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for model in FILLED:
                table = self.connection.ops.quote_name(model._meta.db_table)
                cursor.execute(f"SELECT MAX(id) FROM {table}")  # noqa: S608 - our own names
                self.next_id[model] = (cursor.fetchone()[0] or 0) + 1

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        # On the way out after an error too: the connection is the thread's until then.
        if self.copying is not None and self.copying.is_alive():
            self.copying.close()

    def new_id(self, model):
        self.next_id[model] += 1
        return self.next_id[model] - 1

    def add(self, model, **values):
        row = {**self.templates[model], **values}
        self.pending[model].append(row)
        return row

    def flush(self):
        """Write the waiting rows, parents before the rows that point at them: on
        PostgreSQL in the background while the next batch is made."""
        batch = {model: rows for model, rows in self.pending.items() if rows}
        self.pending = {model: [] for model in FILLED}
        if self.connection.vendor == "postgresql":
            if self.copying is None:
                self.copying = _CopyInBackground(self)
                self.copying.start()
            self.copying.put(batch)
        else:
            with self.connection.cursor() as cursor:
                for model, rows in batch.items():
                    self._insert(cursor, model, rows)
                    self.written[model] += len(rows)

    def finish(self):
        """Write what is left, and move the id sequences past the ids given here."""
        self.flush()
        if self.copying is not None:
            self.copying.close()
        with self.connection.cursor() as cursor:
            for statement in self.connection.ops.sequence_reset_sql(no_style(), FILLED):
                cursor.execute(statement)

    def analyze(self):
        """Fresh planner statistics for the tables filled (PostgreSQL)."""
        if self.connection.vendor == "postgresql":
            with self.connection.cursor() as cursor:
                for model in FILLED:
                    cursor.execute(
                        f"ANALYZE {self.connection.ops.quote_name(model._meta.db_table)}"
                    )

    def _columns(self, model):
        return [f.column for f in model._meta.concrete_fields]

    def copy(self, cursor, model, rows):
        fields = model._meta.concrete_fields
        json_at = [i for i, f in enumerate(fields) if f.get_internal_type() == "JSONField"]
        quote = self.connection.ops.quote_name
        columns = ", ".join(quote(column) for column in self._columns(model))
        with cursor.copy(f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN") as copy:
            for row in rows:
                values = list(row.values())
                for i in json_at:
                    values[i] = Jsonb(values[i])
                copy.write_row(values)
        self.written[model] += len(rows)

    def _insert(self, cursor, model, rows):
        # The values as the ORM prepares them; bulk_create itself would stamp the
        # auto_now columns with the present moment.
        fields = model._meta.concrete_fields
        quote = self.connection.ops.quote_name
        columns = ", ".join(quote(column) for column in self._columns(model))
        marks = ", ".join(["%s"] * len(fields))
        cursor.executemany(
            f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({marks})",  # noqa: S608
            [
                [
                    f.get_db_prep_save(value, self.connection)
                    for f, value in zip(fields, row.values(), strict=True)
                ]
                for row in rows
            ],
        )


class _CopyInBackground(threading.Thread):
    """COPY of each batch on the run's own connection (and so in its transaction), in a
    thread, so that PostgreSQL stores one batch while Python makes the next: one core
    each. The main thread does not use the connection until `close`."""

    def __init__(self, tables):
        super().__init__(name="generate_demo_data COPY", daemon=True)
        self.tables = tables
        self.batches = queue.Queue(maxsize=2)
        self.error = None

    def run(self):
        with self.tables.connection.connection.cursor() as cursor:
            while (batch := self.batches.get()) is not None:
                if self.error is not None:
                    continue  # drained, so the maker never waits on a full queue
                try:
                    for model, rows in batch.items():
                        self.tables.copy(cursor, model, rows)
                except Exception as error:  # handed to the main thread, which stops
                    self.error = error

    def put(self, batch):
        self._raise()
        self.batches.put(batch)

    def close(self):
        self.batches.put(None)
        self.join()
        self._raise()

    def _raise(self):
        if self.error is not None:
            raise self.error


@dataclass(frozen=True)
class Person:
    """A staff member as rows and audit events name them."""

    pk: int
    username: str


@dataclass
class Staff:
    """The people who act in the records made: lists of Persons."""

    front_desk: list
    providers: list

    @classmethod
    def of(cls, *, front_desk, providers):
        """From lists of users."""
        return cls(
            front_desk=[Person(user.pk, user.get_username()) for user in front_desk],
            providers=[Person(user.pk, user.get_username()) for user in providers],
        )


@dataclass
class Timeline:
    """What happened to one visit, by when; filled as the visit is made."""

    events: list = field(default_factory=list)

    def add(self, at, actor, action, record_type, record_id, **detail):
        self.events.append((at, actor, action, record_type, record_id, detail))


class DemoClinic:
    """Makes the rows of `patients` synthetic patients with `visits_per_patient` visits
    each, spread over two years around `now`, into `tables`."""

    def __init__(self, *, condition, staff, seed, now, tables, using):
        self.rng = random.Random(seed)  # noqa: S311 - synthetic rows, repeatable by seed
        with translation.override("en"):
            self.agreed_text = consent.agreed_text()
        self.condition = condition
        self.version = condition.published_version
        self.questions = self.version.questions()
        self.rules = self.version.red_flag_rules()
        slugs = [test["slug"] for test in self.version.content.get("tests", [])]
        self.tests = {test.slug: test for test in OrderableTest.objects.filter(slug__in=slugs)}
        self.tests_by_id = {test.pk: test for test in self.tests.values()}
        self.usual_tests = [s for s in self.version.content.get("suggests", []) if s in self.tests]
        self.staff = staff
        self.now = now
        # The clinic's time zone, asked once: timezone.localtime asks it per call.
        self.zone = timezone.get_current_timezone()
        self.today = timezone.localdate(now)
        self.days = [
            day
            for offset in range(-PAST_DAYS, FUTURE_DAYS + 1)
            if (day := self.today + datetime.timedelta(days=offset)).weekday() < 5
        ]
        self.slots = int(
            (
                datetime.datetime.combine(self.today, CLOSES)
                - datetime.datetime.combine(self.today, OPENS)
            )
            / SLOT
        )
        self.tables = tables
        self.chain = BulkAppend(using)
        self.seed = seed
        self._applicable = {}
        self._columns = {}
        self._triggers = self._rule_triggers()
        # The choice values of each choice question: all, and those no rule fires on.
        self._choices = {}
        for question in self.questions:
            choices = [value for value, _ in answer_types.of(question).rule_choices(question)]
            triggering = self._triggers.get(question.key, (set(), None))[0]
            quiet = [value for value in choices if value not in triggering] or choices
            self._choices[question.key] = (choices, quiet, sorted(triggering))

    # Patients

    def make_patients(self, count, visits_per_patient):
        """Make `count` patients and their visits; yields the number of visits made so far
        after each batch is written."""
        numbers = RecordNumberCounter.reserve(count)
        made = 0
        for mrn in numbers:
            self._patient(mrn, visits_per_patient)
            made += visits_per_patient
            if len(self.tables.pending[Visit]) >= 2000:
                self.tables.flush()
                yield made
        self.tables.flush()
        yield made

    def _patient(self, mrn, visits_per_patient):
        rng = self.rng
        sex = _weighted(rng, SEXES)
        given = rng.choice(GIVEN_NAMES[sex])
        family = rng.choice(FAMILY_NAMES)
        age_days = int(rng.triangular(16, 90, 45) * 365.25)
        born = self.today - datetime.timedelta(days=age_days)
        email = f"{given}.{family}.{mrn}@example.org".lower() if rng.random() < 0.85 else ""
        phone = f"+1 555 01{rng.randrange(100):02d}" if rng.random() < 0.9 else ""
        language = _weighted(rng, LANGUAGES)
        email_allowed = _consent(rng, bool(email))
        patient_id = self.tables.new_id(Patient)
        # What the visits need to know of their patient.
        patient = {
            "id": patient_id,
            "sex": sex,
            "born": born,
            "may_email": bool(email) and email_allowed is not False,
            "name": f"{given} {family}",
        }
        visits = [self._visit(patient, day) for day in self._visit_days(visits_per_patient)]
        created = min(visit["created_at"] for visit in visits) - rng.randrange(2, 30) * MINUTE
        clerk = rng.choice(self.staff.front_desk)
        self.tables.add(
            Patient,
            id=patient_id,
            mrn=mrn,
            given_name=given,
            family_name=family,
            date_of_birth=born,
            sex_at_birth=sex,
            email=email,
            phone=phone,
            preferred_language=language,
            other_language=rng.choice(OTHER_LANGUAGES) if language == "other" else "",
            email_allowed=email_allowed,
            sms_allowed=_consent(rng, bool(phone)),
            created_at=created,
            created_by_id=clerk.pk,
            updated_at=created,
        )
        self._audit(created, clerk, Action.CREATE, Patient, patient_id, patient_id)
        for visit in visits:
            for event in sorted(visit["timeline"].events, key=lambda event: event[0]):
                at, actor, action, model, record_id, detail = event
                self._audit(at, actor, action, model, record_id, patient_id, **detail)

    def _visit_days(self, count):
        """The days of one patient's visits: a first visit, then follow-ups weeks apart."""
        rng = self.rng
        gaps = [rng.randrange(10, 50) for _ in range(count - 1)]
        span = sum(gaps)
        if span >= len(self.days):
            gaps = [len(self.days) // count] * (count - 1)
            span = sum(gaps)
        offsets = [0]
        for gap in gaps:
            offsets.append(offsets[-1] + gap)
        # The whole run of visits falls inside the window, starting on any day that lets
        # it: the days thin out a little toward the window's ends, never pile up on them
        # (pulling runs that would overhang in to the end put 21,000 visits on each end
        # day of a million).
        first = rng.randrange(len(self.days) - span)
        return [self.days[first + offset] for offset in offsets]

    # Visits

    def _visit(self, patient, day):
        rng = self.rng
        slot = rng.randrange(self.slots)
        start = datetime.datetime.combine(day, OPENS) + slot * SLOT
        scheduled_at = start.replace(tzinfo=self.zone)
        visit_id = self.tables.new_id(Visit)
        clerk = rng.choice(self.staff.front_desk)
        provider = rng.choice(self.staff.providers)
        booked = scheduled_at - rng.randrange(2, 45) * DAY - rng.randrange(480) * MINUTE
        if booked > self.now:
            booked = self.now - rng.randrange(60, 3 * 24 * 60) * MINUTE
        timeline = Timeline()
        timeline.add(booked, clerk, Action.CREATE, Visit, visit_id)
        visit = {
            "id": visit_id,
            "patient_id": patient["id"],
            "condition_id": self.condition.pk,
            "content_version_id": self.version.pk,
            "scheduled_at": scheduled_at,
            "provider_id": provider.pk,
            "created_at": booked,
            "created_by_id": clerk.pk,
            "updated_at": booked,
            "timeline": timeline,
        }
        status = self._status(scheduled_at)
        self._visit_story(visit, patient, status, clerk, provider)
        timeline = visit.pop("timeline")
        visit["updated_at"] = max(event[0] for event in timeline.events)
        self.tables.add(Visit, **visit)
        visit["timeline"] = timeline
        return visit

    def _status(self, scheduled_at):
        """The status a visit at this time plausibly has now."""
        rng = self.rng
        roll = rng.random()
        if scheduled_at > self.now:
            if roll < 0.05:
                return Status.CANCELLED
            if roll < 0.12:
                return Status.INTAKE_COMPLETE
            if roll < 0.15:
                return Status.INTAKE_IN_PROGRESS
            return Status.SCHEDULED
        if scheduled_at.date() == self.today and self.now - scheduled_at < 2 * HOUR:
            return _weighted(
                rng,
                [
                    (Status.CHECKED_IN, 30),
                    (Status.INTAKE_COMPLETE, 25),
                    (Status.SEEN, 30),
                    (Status.DID_NOT_ATTEND, 5),
                    (Status.CANCELLED, 5),
                    (Status.SCHEDULED, 5),
                ],
            )
        if roll < 0.06:
            return Status.CANCELLED
        if roll < 0.14:
            return Status.DID_NOT_ATTEND
        return Status.CLOSED  # or seen, if its orders are not done yet (_orders)

    def _visit_story(self, visit, patient, status, clerk, provider):
        """Fill the visit's columns, links, answers and orders for its `status`."""
        rng = self.rng
        timeline = visit["timeline"]
        scheduled_at = visit["scheduled_at"]
        visit["status"] = status
        # The pre-visit link, and whether the patient answered through it.
        by_link = status in (Status.INTAKE_COMPLETE, Status.INTAKE_IN_PROGRESS) and (
            scheduled_at > self.now or rng.random() < 0.7
        )
        if status in (Status.SEEN, Status.CLOSED):
            by_link = rng.random() < 0.35
        answered = status in (
            Status.INTAKE_IN_PROGRESS,
            Status.INTAKE_COMPLETE,
            Status.SEEN,
            Status.CLOSED,
        )
        complete = status != Status.INTAKE_IN_PROGRESS
        link = None
        # Links go out in the week before a visit, for most visits coming up.
        soon = self.now < scheduled_at <= self.now + 7 * DAY
        if by_link or rng.random() < (0.6 if soon else 0.25):
            link = self._links(
                visit, patient, clerk, answered=by_link and answered, complete=complete
            )
        # Arrival.
        arrived = scheduled_at - rng.randrange(-5, 20) * MINUTE
        if status in (Status.CHECKED_IN, Status.SEEN, Status.CLOSED) or (
            answered and scheduled_at <= self.now and not by_link
        ):
            arrived = min(arrived, self.now)
            visit["checked_in_at"], visit["checked_in_by_id"] = arrived, clerk.pk
            kept = Status.INTAKE_COMPLETE if by_link and complete else Status.CHECKED_IN
            timeline.add(
                arrived, clerk, Action.UPDATE, Visit, visit["id"], status=kept, checked_in=True
            )
        # The intake.
        if answered:
            if by_link:
                at = link["submitted_at"] or min(
                    link["opened_at"] + rng.randrange(2, 20) * MINUTE, self.now
                )
                actor = link
            else:
                at = min(arrived + rng.randrange(3, 15) * MINUTE, self.now)
                actor = clerk
            visit["red_flags"], keys = self._answers(
                visit, patient, at=at, actor=actor, complete=complete
            )
            visit["intake_version"] = 1
            timeline.add(
                at,
                actor,
                Action.SUBMIT if complete else Action.UPDATE,
                Visit,
                visit["id"],
                answers_changed=keys,
            )
        if status == Status.CANCELLED:
            at = min(
                visit["created_at"] + rng.randrange(1, 20 * 24) * HOUR,
                scheduled_at - HOUR,
                self.now,
            )
            at = max(at, visit["created_at"] + MINUTE)
            visit["cancel_reason"] = rng.choice(CANCEL_REASONS)
            timeline.add(at, clerk, Action.CANCEL, Visit, visit["id"])
        elif status == Status.DID_NOT_ATTEND:
            at = min(scheduled_at + rng.randrange(20, 90) * MINUTE, self.now)
            timeline.add(at, clerk, Action.UPDATE, Visit, visit["id"], status=status)
        elif status in (Status.SEEN, Status.CLOSED):
            reviewed = visit_seen = min(scheduled_at + rng.randrange(15, 40) * MINUTE, self.now)
            visit["intake_reviewed_by_id"], visit["intake_reviewed_at"] = provider.pk, reviewed
            timeline.add(
                reviewed,
                provider,
                Action.UPDATE,
                Visit,
                visit["id"],
                fields=["intake_reviewed_by", "intake_reviewed_at"],
            )
            timeline.add(
                visit_seen, provider, Action.UPDATE, Visit, visit["id"], status=Status.SEEN
            )
            self._orders(visit, provider, seen_at=visit_seen)

    # Pre-visit links

    def _links(self, visit, patient, clerk, *, answered, complete):
        """The visit's pre-visit link (and any it replaced); returns the latest."""
        rng = self.rng
        scheduled_at = visit["scheduled_at"]
        created = max(
            scheduled_at - rng.randrange(1, 7) * DAY - rng.randrange(600) * MINUTE,
            visit["created_at"] + rng.randrange(1, 30) * MINUTE,
        )
        created = min(
            created, self.now - rng.randrange(1, 600) * MINUTE, scheduled_at - 30 * MINUTE
        )
        created = max(created, visit["created_at"] + MINUTE)
        roll = rng.random()
        if not answered and roll < 0.08:
            # A first link revoked by staff or replaced by a second one.
            first = self._link(visit, patient, clerk, created)
            revoked = min(
                created + rng.randrange(5, 24 * 60) * MINUTE, self.now, scheduled_at - MINUTE
            )
            replaced = rng.random() < 0.5
            first["revoked_at"], first["revoked_by_id"] = revoked, clerk.pk
            first["revoke_reason"] = "Replaced by a new link" if replaced else "Revoked by staff"
            if not replaced:
                visit["timeline"].add(revoked, clerk, Action.REVOKE, PreVisitLink, first["id"])
                return first
            created = revoked
        link = self._link(visit, patient, clerk, created, may_fail=not answered)
        if answered:
            opened = link["created_at"] + rng.randrange(5, 24 * 60) * MINUTE
            opened = min(opened, link["expires_at"] - 10 * MINUTE, self.now - 10 * MINUTE)
            opened = max(opened, link["created_at"] + MINUTE)
            link["opened_at"] = opened
            link["verified_at"] = opened + MINUTE
            if complete:
                link["submitted_at"] = opened + rng.randrange(3, 9) * MINUTE
                self._attestation(visit, patient, link)
        elif roll < 0.12 and link["token_hash"]:
            link["opened_at"] = min(
                created + rng.randrange(10, 600) * MINUTE, self.now - 5 * MINUTE
            )
            if roll < 0.10:
                link["failed_attempts"] = PreVisitLink.MAX_DOB_ATTEMPTS
                link["locked_at"] = link["opened_at"] + 2 * MINUTE
                visit["timeline"].add(
                    link["locked_at"], link, Action.UPDATE, PreVisitLink, link["id"], locked=True
                )
        return link

    def _link(self, visit, patient, clerk, created, *, may_fail=True):
        rng = self.rng
        link_id = self.tables.new_id(PreVisitLink)
        email = patient["may_email"] and rng.random() < 0.8
        failed = email and may_fail and rng.random() < 0.03
        token = hashlib.sha256(f"{self.seed}:{link_id}:{rng.random()}".encode()).hexdigest()
        link = self.tables.add(
            PreVisitLink,
            id=link_id,
            visit_id=visit["id"],
            token_hash=None if failed else hashlib.sha256(token.encode()).hexdigest(),
            channel=PreVisitLink.Channel.EMAIL if email else PreVisitLink.Channel.SHOWN,
            created_by_id=clerk.pk,
            created_at=created,
            expires_at=link_expiry(issued_at=created, visit_time=visit["scheduled_at"]),
            sent_at=None if failed else created + datetime.timedelta(seconds=rng.randrange(2, 40)),
            send_error=SEND_FAILED if failed else "",
        )
        visit["timeline"].add(
            created, clerk, Action.SEND, PreVisitLink, link_id, channel=link["channel"]
        )
        return link

    def _attestation(self, visit, patient, link):
        """The word of whoever sent the answers through `link`: the patient, or for one
        sending in ten a family member or carer (picked from the link's id, so the rest
        of the run is made as before)."""
        attestation_id = self.tables.new_id(Attestation)
        relations = [relation for relation in Attestation.Relation if relation != "other"]
        on_behalf = link["id"] % 10 == 0
        self.tables.add(
            Attestation,
            id=attestation_id,
            link_id=link["id"],
            respondent=Attestation.Respondent.ON_BEHALF if on_behalf else "patient",
            relation=relations[link["id"] % len(relations)] if on_behalf else "",
            full_name="A. Helper" if on_behalf else patient["name"],
            attested_at=link["submitted_at"],
            client_address=f"203.0.113.{link['id'] % 254 + 1}",
            language="en",
            text=self.agreed_text,
            text_hash=consent.text_hash(self.agreed_text),
        )
        visit["timeline"].add(
            link["submitted_at"], link, Action.CREATE, Attestation, attestation_id
        )

    # Answers and red flags

    def _rule_triggers(self):
        """{question key: (the choice values some rule fires on, the fewest days a date
        rule allows)}."""
        triggers = {}
        for rule in self.rules:
            choices, days = triggers.get(rule.question.key, (set(), None))
            if rule.kind == RedFlagRule.Kind.ANSWER_INCLUDES:
                choices = choices | {rule.choice_value}
            else:
                days = rule.days if days is None else min(days, rule.days)
            triggers[rule.question.key] = (choices, days)
        return triggers

    def _applicable_questions(self, patient, visit_day):
        age = (
            visit_day.year
            - patient["born"].year
            - ((visit_day.month, visit_day.day) < (patient["born"].month, patient["born"].day))
        )
        key = (patient["sex"], age)
        if key not in self._applicable:
            self._applicable[key] = [
                q
                for q in self.questions
                if q.applies_to_patient(sex_at_birth=patient["sex"], age=age)
            ]
        return self._applicable[key]

    def _answers(self, visit, patient, *, at, actor, complete):
        """Write the visit's answers; returns its red flags and the keys answered."""
        rng = self.rng
        visit_day = visit["scheduled_at"].astimezone(self.zone).date()
        questions = self._applicable_questions(patient, visit_day)
        flagged = rng.random() < FLAGGED_SHARE
        forced = None
        if flagged:
            asked = {q.key for q in questions}
            candidates = [rule for rule in self.rules if rule.question.key in asked]
            forced = rng.choice(candidates) if candidates else None
        if not complete:
            questions = (
                questions[: rng.randrange(1, len(questions))] if len(questions) > 1 else questions
            )
        by_patient = isinstance(actor, dict)
        answers = []
        for position, question in enumerate(questions, start=1):
            value = self._value(question, visit_day, calm=not flagged, forced=forced)
            columns = self._to_columns(question, value)
            row = self.tables.add(
                Answer,
                id=self.tables.new_id(Answer),
                visit_id=visit["id"],
                question_key=question.key,
                wording=question.wording,
                answer_type=question.answer_type,
                position=position,
                source=Answer.Source.PATIENT if by_patient else Answer.Source.STAFF,
                answered_by_id=None if by_patient else actor.pk,
                answered_at=at,
                **columns,
            )
            answers.append(row)
        keys = [row["question_key"] for row in answers]
        if not flagged:
            return [], keys  # every value was chosen to meet no rule
        saved = [
            Answer(
                **{
                    name: row[name]
                    for name in ("question_key", "wording", "answer_type", *Answer.VALUE_FIELDS)
                }
            )
            for row in answers
        ]
        return triage.red_flags(rules=self.rules, answers=saved, visit_date=visit_day), keys

    def _to_columns(self, question, value):
        """The Answer columns for `value`, as saving it would fill them (memoised: few
        distinct values)."""
        key = (question.key, frozenset(value) if isinstance(value, set) else value)
        if key not in self._columns:
            self._columns[key] = answer_types.of(question).to_columns(question, value)
        return self._columns[key]

    def _value(self, question, visit_day, *, calm, forced):
        """A plausible answer: meeting no rule when `calm`, meeting `forced` (a rule)
        when it is on this question."""
        rng = self.rng
        Type = HistoryQuestion.AnswerType
        kind = question.answer_type
        triggering, days = self._triggers.get(question.key, (set(), None))
        rule = forced if forced is not None and forced.question.key == question.key else None
        if kind == Type.DATE:
            if rule is not None:
                ago = rule.days + 1 + int(rng.expovariate(1 / 60))
            elif calm and days is not None:
                ago = rng.randrange(days + 1)
            else:
                ago = 1 + int(rng.expovariate(1 / 60))
            return visit_day - datetime.timedelta(days=ago)
        if kind == Type.DURATION:
            unit = _weighted(rng, [("seconds", 70), ("minutes", 25), ("hours", 5)])
            return (Decimal(rng.randrange(1, 30 if unit == "seconds" else 10)), unit)
        if kind == Type.YES_NO:
            if rule is not None:
                return rule.choice_value == "yes"
            values = [
                v for v in (True, False) if not calm or ("yes" if v else "no") not in triggering
            ]
            return rng.random() < 0.3 if len(values) == 2 else values[0]
        if kind == Type.FREE_TEXT:
            return rng.choice(FREE_TEXT)
        choices, quiet, triggers = self._choices[question.key]
        if rule is not None:
            picked = {rule.choice_value}
        elif calm or not triggering or rng.random() < 0.5:
            picked = {rng.choice(quiet)}
        else:
            picked = {rng.choice(triggers)}
        if answer_types.of(question).repeats:
            if not calm and triggering and picked <= triggering and rng.random() < 0.4:
                picked.add(rng.choice(triggers))
            if not triggering and rng.random() < 0.3:
                picked.add(rng.choice(choices))
            return picked
        return picked.pop()

    # Test orders

    def _orders(self, visit, provider, *, seen_at):
        """Orders placed at the visit, each as far through its steps as time allows; the
        visit is closed once they are all done (or with a reason, now and then)."""
        rng = self.rng
        # Test slug -> the clinical indication.
        reasons = {}
        if self.usual_tests and rng.random() < 0.6:
            usual = f"{self.condition.title}: usual work-up."
            for slug in rng.sample(
                self.usual_tests, rng.randrange(1, min(3, len(self.usual_tests)) + 1)
            ):
                reasons[slug] = usual
        raised = {flag["message"] for flag in visit.get("red_flags", [])}
        for rule in self.rules:
            if rule.message in raised and rng.random() < 0.7:
                for slug in rule.suggested_slugs:
                    if slug in self.tests:
                        reasons.setdefault(slug, rule.message)
        close_with_open = rng.random() < 0.05
        last_done = seen_at
        open_ids = []
        for n, (slug, reason) in enumerate(reasons.items()):
            test = self.tests[slug]
            order_id = self.tables.new_id(TestOrder)
            ordered = min(seen_at + (5 + n) * MINUTE, self.now)
            order = self.tables.add(
                TestOrder,
                id=order_id,
                visit_id=visit["id"],
                test_id=test.pk,
                test_name=test.name,
                test_code_system=test.code_system,
                test_code=test.code,
                priority=_weighted(rng, [("routine", 90), ("urgent", 9), ("stat", 1)]),
                reason=reason,
                ordered_by_id=provider.pk,
                ordered_at=ordered,
                updated_at=ordered,
                **self._site(test),
            )
            timeline = visit["timeline"]
            timeline.add(ordered, provider, Action.CREATE, TestOrder, order_id)
            done = self._order_steps(
                order, provider, timeline, stop_early=close_with_open and n == 0
            )
            if done is None:
                open_ids.append(order_id)
            else:
                last_done = max(last_done, done)
        closed = last_done + rng.randrange(30, 240) * MINUTE
        if (
            visit["status"] == Status.CLOSED
            and closed <= self.now
            and (not open_ids or close_with_open)
        ):
            visit["close_reason"] = CLOSE_REASON if open_ids else ""
            visit["timeline"].add(
                closed,
                provider,
                Action.UPDATE,
                Visit,
                visit["id"],
                status=Status.CLOSED,
                open_orders=open_ids,
            )
        else:
            visit["status"] = Status.SEEN

    def _site(self, test):
        rng = self.rng
        if test.body_site:
            return {"body_site": rng.choice(sorted(TestOrder.SITES_FOR_TEST[test.body_site]))}
        if test.asks_side_and_limb:
            return {
                "side": _weighted(rng, [("left", 40), ("right", 40), ("both", 20)]),
                "limb": rng.choice(["arm", "leg"]),
            }
        return {}

    def _order_steps(self, order, provider, timeline, *, stop_early):
        """Take an order through scheduling, result and review (or cancel it) as far as
        the clock allows; returns when it was done with, or None while it is open."""
        rng = self.rng
        ordered = order["ordered_at"]
        if rng.random() < 0.1:
            cancelled = ordered + rng.randrange(1, 7 * 24) * HOUR
            if cancelled > self.now:
                return None
            order.update(
                status=OrderStatus.CANCELLED,
                cancelled_by_id=provider.pk,
                cancelled_at=cancelled,
                cancel_reason=rng.choice(ORDER_CANCEL_REASONS),
                updated_at=cancelled,
            )
            timeline.add(
                cancelled,
                provider,
                Action.UPDATE,
                TestOrder,
                order["id"],
                status=OrderStatus.CANCELLED,
            )
            return cancelled
        last = rng.choice([0, 1, 2]) if stop_early else 3
        scheduled = ordered + rng.randrange(4, 72) * HOUR
        performed = scheduled.astimezone(self.zone).date() + rng.randrange(0, 10) * DAY
        resulted = datetime.datetime.combine(performed, OPENS, tzinfo=self.zone) + (
            rng.randrange(2, 9) * HOUR
        )
        resulted = max(resulted, scheduled + 2 * HOUR)
        # Most results are read within days; some wait weeks for the provider.
        reviewed = resulted + rng.randrange(4, 96 if rng.random() < 0.9 else 500) * HOUR
        if last < 1 or scheduled > self.now:
            return None
        order.update(
            status=OrderStatus.SCHEDULED,
            scheduled_by_id=provider.pk,
            scheduled_at=scheduled,
            updated_at=scheduled,
        )
        timeline.add(
            scheduled, provider, Action.UPDATE, TestOrder, order["id"], status=OrderStatus.SCHEDULED
        )
        if last < 2 or resulted > self.now:
            return None
        order.update(
            status=OrderStatus.RESULTED,
            performed_on=performed,
            resulted_by_id=provider.pk,
            resulted_at=resulted,
            updated_at=resulted,
            **self._result(order),
        )
        timeline.add(
            resulted, provider, Action.UPDATE, TestOrder, order["id"], status=OrderStatus.RESULTED
        )
        if last < 3 or reviewed > self.now:
            return None
        order.update(
            status=OrderStatus.REVIEWED,
            reviewed_by_id=provider.pk,
            reviewed_at=reviewed,
            review_comment=rng.choice(REVIEW_COMMENTS),
            updated_at=reviewed,
        )
        timeline.add(
            reviewed, provider, Action.UPDATE, TestOrder, order["id"], status=OrderStatus.REVIEWED
        )
        return reviewed

    def _result(self, order):
        rng = self.rng
        test = self.tests_by_id[order["test_id"]]
        if test.slug in RESULTS:
            name, (low, high), unit, (normal_low, normal_high) = RESULTS[test.slug]
            value = Decimal(f"{rng.uniform(low, high):.1f}")
            abnormal = not normal_low <= value <= normal_high
            text = (
                f"{name} {value} {unit}: {'outside' if abnormal else 'within'} the reference range."
            )
            return {
                "result_text": text,
                "result_value": value,
                "result_unit": unit,
                "abnormal": abnormal,
            }
        normal, abnormal_texts = RESULT_TEXTS.get(
            test.kind, (["Normal."], ["Abnormal: see report."])
        )
        abnormal = rng.random() < 0.15
        return {
            "result_text": rng.choice(abnormal_texts if abnormal else normal),
            "abnormal": abnormal,
        }

    # The audit trail

    def _audit(self, at, actor, action, model, record_id, patient_id, **detail):
        if isinstance(actor, dict):  # a pre-visit link row: the patient through it
            user_id, label = None, f"pre-visit link {actor['id']}"
            address = PATIENT_ADDRESSES[actor["id"] % len(PATIENT_ADDRESSES)]
        else:
            user_id, label = actor.pk, actor.username
            address = STAFF_ADDRESSES[actor.pk % len(STAFF_ADDRESSES)]
        event = self.chain.link(
            {
                "at": at,
                "actor_id": user_id,
                "actor_label": label,
                "action": action,
                "record_type": model._meta.label_lower,
                "record_id": record_id,
                "patient_id": patient_id,
                "remote_addr": address,
                "detail": detail,
            }
        )
        self.tables.add(AuditEvent, id=self.tables.new_id(AuditEvent), **event)


def _weighted(rng, choices):
    values, weights = zip(*choices, strict=True)
    return rng.choices(values, weights)[0]


def _consent(rng, has_contact):
    """Whether the patient allows contact this way: not asked (None), yes or no."""
    if not has_contact:
        return _weighted(rng, [(None, 70), (False, 30)])
    return _weighted(rng, [(None, 30), (True, 60), (False, 10)])
