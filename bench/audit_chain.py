"""The audit trail's hash chain: events appended per second by one writer and by several
at once, and how fast verify_audit walks a long trail.

    .venv/bin/python bench/audit_chain.py            # a throwaway SQLite database
    createdb -h 127.0.0.1 -U postgres clinic_bench_audit
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/clinic_bench_audit
    .venv/bin/python bench/audit_chain.py

Each append is its own transaction, as a page's audited read is. The database is migrated
and emptied (flush) first.
"""

import io
import threading
import time

import environment  # noqa: F401  (sets Django up; must come first)
from django.core.management import call_command
from django.db import OperationalError, connection, models, transaction
from django.utils import timezone

from audit import trail
from audit.actors import Actor
from audit.models import AuditEvent
from intake.models import Patient

EVENTS = 2000
WRITERS = [1, 2, 4, 8]
TRAIL = 100_000


def append(count, actor):
    """Audited reads through trail.record, each its own transaction."""
    for number in range(count):
        trail.record(
            action=AuditEvent.Action.VIEW, record_type="intake:today", actor=actor, n=number
        )
        yield


def insert_unchained(count, actor):
    """The same rows through Django's plain bulk_create: no lock, no chain (a baseline)."""
    for number in range(count):
        event = AuditEvent(
            at=timezone.now(),
            actor_label=actor.label,
            action=AuditEvent.Action.VIEW,
            record_type="intake:today",
            remote_addr=actor.address,
            detail={"n": number},
        )
        with transaction.atomic():
            models.QuerySet.bulk_create(AuditEvent.objects.all(), [event])
        yield


def per_second(writers, write):
    """Events written per second by `writers` threads at once, and the writes that failed
    (SQLite gives up on a writer that waited longer than its timeout for the lock)."""
    actor = Actor(label="bench", address="10.0.0.1")
    each = EVENTS // writers
    start = threading.Barrier(writers + 1)
    written, failed = [], []

    def run():
        start.wait()
        try:
            for _ in write(each, actor):
                written.append(1)
        except OperationalError:
            failed.append(1)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(writers)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return len(written) / (time.perf_counter() - began), len(failed)


def verify_seconds():
    began = time.perf_counter()
    call_command("verify_audit", stdout=io.StringIO())
    return time.perf_counter() - began


def main():
    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    print(f"database: {connection.vendor}")
    print(f"{'writers':>8}{'chained/s':>11}{'unchained/s':>13}{'writers failed':>16}")
    for writers in WRITERS:
        chained, chained_failed = per_second(writers, append)
        unchained, unchained_failed = per_second(writers, insert_unchained)
        failed = f"{chained_failed} / {unchained_failed}"
        print(f"{writers:>8}{chained:>11.0f}{unchained:>13.0f}{failed:>16}")
    # The unchained rows break the chain on purpose; the trail to verify starts afresh.
    call_command("flush", interactive=False, verbosity=0)

    actor = Actor(label="bench", address="10.0.0.1")
    while (missing := TRAIL - AuditEvent.objects.count()) > 0:
        # A page listing a thousand patients: one chained INSERT.
        listed = range(min(missing, 1000))
        trail.record_listing(record_type=Patient, patient_ids=listed, actor=actor)
    seconds = verify_seconds()
    count = AuditEvent.objects.count()
    print(f"verify_audit: {count} events in {seconds:.2f} s ({count / seconds:,.0f} events/s)")


if __name__ == "__main__":
    main()
