"""An audit trail no one can rewrite: the database refuses UPDATE and DELETE on audit
events, each event is chained by hash to the one before, and `verify_audit` names the
first event altered, removed or inserted out of order."""

import io
import itertools
import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, models, transaction
from django.test import Client

from audit import append_only, chain, trail
from audit.actors import Actor
from audit.models import AuditEvent, ListedPatient
from intake import orders
from intake.models import Patient

from .factories import PatientFactory

REFUSED = "Audit events are append-only"


@pytest.fixture
def real_trail(desk_client, visit, intake_data, provider, editor):
    """The events a morning's work leaves: the front desk lists the day, finds the
    patient, reads the record, takes the intake; a content editor is refused the record;
    the provider orders a test."""
    desk_client.get("/staff/")
    desk_client.post("/staff/patients/", {"q": visit.patient.family_name})
    desk_client.get(f"/staff/patients/{visit.patient_id}/")
    desk_client.get(f"/staff/visits/{visit.pk}/")
    desk_client.post(f"/staff/visits/{visit.pk}/intake/", intake_data(visit))
    editor_client = Client()
    editor_client.force_login(editor)
    assert editor_client.get(f"/staff/patients/{visit.patient_id}/").status_code == 403
    orders.place_order(
        visit=visit,
        test=visit.condition.tests.get(slug="emg"),
        side="both",
        limb="leg",
        actor=Actor.for_user(provider, address="2001:DB8::7"),
        reason="Twitching for three months",
    )
    events = list(AuditEvent.objects.order_by("pk"))
    assert len(events) >= 7
    assert {"list", "view", "submit", "deny", "create"} <= {event.action for event in events}
    return events


def verify(*args):
    out = io.StringIO()
    call_command("verify_audit", *args, stdout=out)
    return out.getvalue()


def tamper(sql, params=()):
    """What someone who may drop the triggers could do to the table."""
    with append_only.lifted(connection), connection.cursor() as cursor:
        cursor.execute(sql, params)


def forge(*, copy_of, prev_hash, pk):
    """An event like `copy_of`, claiming to follow `prev_hash`, with a hash that matches
    its own content, inserted past the chain (Django's plain bulk_create, which INSERT
    lets through: appending is what the table is for)."""
    forged = AuditEvent(
        id=pk, **{name: getattr(copy_of, name) for name in ("actor_id", *chain.HASHED_FIELDS[2:])}
    )
    forged.at, forged.prev_hash, forged.actor_label = copy_of.at, prev_hash, "intruder"
    forged.hash = chain.event_hash(chain.fields_of(forged))
    models.QuerySet.bulk_create(AuditEvent.objects.all(), [forged])
    return forged


# The database refuses changes


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_auditevent SET actor_label = 'someone else'",
        "UPDATE audit_auditevent SET hash = prev_hash",
        "DELETE FROM audit_auditevent",
    ],
)
def test_the_database_refuses_sql_that_changes_or_deletes_events(real_trail, sql):
    with (
        pytest.raises(IntegrityError, match=REFUSED),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)
    assert list(AuditEvent.objects.order_by("pk")) == real_trail
    assert [event.actor_label for event in AuditEvent.objects.order_by("pk")] == [
        event.actor_label for event in real_trail
    ]


def test_the_database_refuses_the_orms_back_doors(real_trail):
    events = AuditEvent.objects.all()
    back_doors = [
        lambda: events._raw_delete(events.db),
        lambda: models.QuerySet.update(events, actor_label="someone else"),
        lambda: models.QuerySet.delete(events),
        lambda: models.Model.save(real_trail[0]),  # an UPDATE of an existing row
    ]
    for back_door in back_doors:
        with pytest.raises(IntegrityError, match=REFUSED), transaction.atomic():
            back_door()
    assert AuditEvent.objects.count() == len(real_trail)
    assert verify().startswith(f"Audit trail intact: {len(real_trail)} events checked")


def test_the_model_refuses_changes_before_they_reach_the_database(real_trail):
    event = real_trail[0]
    for change in (event.save, event.delete, AuditEvent.objects.all().delete):
        with pytest.raises(TypeError, match="append-only"):
            change()
    with pytest.raises(TypeError, match="append-only"):
        AuditEvent.objects.update(actor_label="someone else")


# The chain


def test_each_event_follows_the_one_before_it(real_trail):
    assert real_trail[0].prev_hash == chain.GENESIS
    for before, event in itertools.pairwise(real_trail):
        assert event.prev_hash == before.hash
    for event in real_trail:
        assert len(event.hash) == 64
        assert chain.event_hash(chain.fields_of(event)) == event.hash


def test_events_are_hashed_as_they_read_back_from_the_database(db):
    """Addresses as the database keeps them, detail as JSON gives it back, no address as
    NULL: the hash computed before the INSERT is the hash of what a reader sees."""
    for address in ["127.0.0.1", "::1", "2001:DB8::1", "::ffff:10.0.0.1", "", None]:
        event = trail.record(
            action=AuditEvent.Action.VIEW,
            record_type="intake:today",
            actor=Actor(label="someone", address=address),
            fields=("given_name", "family_name"),
            nested={"b": [1, 2], "a": None, "c": 1.5},
        )
        stored = AuditEvent.objects.get(pk=event.pk)
        assert chain.fields_of(stored) == chain.fields_of(event)
        assert chain.event_hash(chain.fields_of(stored)) == stored.hash == event.hash
    assert verify().startswith("Audit trail intact: 6 events checked")


def test_a_listing_is_one_event_chained_in_order_its_patients_indexed(
    db, django_assert_max_num_queries
):
    patient_ids = [PatientFactory().pk for _ in range(5)]
    first = trail.record(
        action=AuditEvent.Action.VIEW, record_type="intake:today", actor=Actor.system()
    )
    # The lock (PostgreSQL), the last hash, the event, its patients: however many.
    with django_assert_max_num_queries(4) as queries:
        listing = trail.record_listing(
            record_type=Patient,
            record_ids=patient_ids,
            patient_ids=[*patient_ids, patient_ids[0]],
            actor=Actor.system(),
        )
    inserts = [query for query in queries.captured_queries if query["sql"].startswith("INSERT")]
    assert len(inserts) == 2
    assert list(AuditEvent.objects.order_by("pk")) == [first, listing]
    assert listing.prev_hash == first.hash
    assert listing.detail == {"record_ids": sorted(patient_ids), "patient_ids": sorted(patient_ids)}
    assert sorted(listing.listed.values_list("patient_id", flat=True)) == sorted(patient_ids)
    assert verify().startswith("Audit trail intact: 2 events checked")


def test_the_patients_of_a_listing_cannot_be_changed_or_removed(db):
    patient = PatientFactory()
    listing = trail.record_listing(
        record_type=Patient, record_ids=[patient.pk], patient_ids=[patient.pk], actor=Actor.system()
    )
    rows = ListedPatient.objects.filter(event=listing)
    for back_door in (lambda: rows.update(patient_id=patient.pk + 1), rows.delete):
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
            back_door()
    assert list(rows.values_list("patient_id", flat=True)) == [patient.pk]


# verify_audit


def test_verify_audit_passes_on_a_real_trail_and_prints_its_head(real_trail):
    last = real_trail[-1]
    assert verify() == (
        f"Audit trail intact: {len(real_trail)} events checked; head {last.pk}:{last.hash}\n"
    )
    assert verify("--head", f"{last.pk}:{last.hash}", "--batch-size", "2").startswith(
        "Audit trail intact"
    )


def test_verify_audit_passes_on_an_empty_trail(db):
    assert verify() == "Audit trail intact: no events yet.\n"


def test_verify_audit_names_an_edited_event(real_trail):
    edited = real_trail[3]
    tamper("UPDATE audit_auditevent SET actor_label = %s WHERE id = %s", ["nobody", edited.pk])
    with pytest.raises(CommandError, match=rf"^Audit trail broken: Event {edited.pk} was altered"):
        verify()


def test_verify_audit_names_an_event_rewritten_with_a_new_hash(real_trail):
    rewritten = real_trail[3]
    rewritten.actor_label = "nobody"
    new_hash = chain.event_hash(chain.fields_of(rewritten))
    tamper(
        "UPDATE audit_auditevent SET actor_label = %s, hash = %s WHERE id = %s",
        ["nobody", new_hash, rewritten.pk],
    )
    with pytest.raises(
        CommandError,
        match=rf"removed between event {rewritten.pk} and event {real_trail[4].pk}, or event "
        rf"{rewritten.pk} was rewritten",
    ):
        verify()


def test_verify_audit_names_where_an_event_was_deleted(real_trail):
    tamper("DELETE FROM audit_auditevent WHERE id = %s", [real_trail[3].pk])
    with pytest.raises(
        CommandError,
        match=rf"Events were removed between event {real_trail[2].pk} and event "
        rf"{real_trail[4].pk}",
    ):
        verify()


def test_verify_audit_names_where_the_first_events_were_deleted(real_trail):
    tamper("DELETE FROM audit_auditevent WHERE id = %s", [real_trail[0].pk])
    with pytest.raises(
        CommandError, match=rf"Events were removed before event {real_trail[1].pk}, the first"
    ):
        verify()


def test_verify_audit_finds_a_cut_off_tail_from_the_head_noted_before(real_trail):
    last = real_trail[-1]
    noted = f"{last.pk}:{last.hash}"
    tamper("DELETE FROM audit_auditevent WHERE id = %s", [last.pk])
    assert verify().startswith("Audit trail intact")  # the chain alone cannot tell
    with pytest.raises(CommandError, match=rf"event {last.pk}, noted with hash .*, is gone"):
        verify("--head", noted)


def test_verify_audit_names_an_event_appended_with_a_stale_link(real_trail):
    """Someone adds an event that claims to follow an older one, to slip it in earlier."""
    last, older = real_trail[-1], real_trail[2]
    forged = forge(copy_of=older, prev_hash=older.hash, pk=last.pk + 1)
    with pytest.raises(
        CommandError,
        match=rf"Event {forged.pk} was inserted out of order: it follows event {older.pk}, "
        rf"not event {last.pk} before it",
    ):
        verify()


def make_room_after(event):
    """Move the events after `event` a thousand ids up, leaving a gap to insert into."""
    tamper("UPDATE audit_auditevent SET id = id + 1000 WHERE id > %s", [event.pk])


def test_verify_audit_names_an_event_inserted_between_two_others(real_trail):
    before, after = real_trail[2], real_trail[3]
    make_room_after(before)
    forged = forge(copy_of=after, prev_hash=real_trail[1].hash, pk=before.pk + 1)
    with pytest.raises(
        CommandError,
        match=rf"Event {forged.pk} was inserted out of order: it does not follow event "
        rf"{before.pk}, and the event after it \(event {after.pk + 1000}\) does",
    ):
        verify()


def test_verify_audit_names_both_sides_of_a_forked_chain(real_trail):
    """An inserted event linked correctly to the one before it: the event after it now
    follows the same event, and the chain cannot say which of the two is genuine."""
    before, after = real_trail[2], real_trail[3]
    make_room_after(before)
    forged = forge(copy_of=after, prev_hash=before.hash, pk=before.pk + 1)
    with pytest.raises(
        CommandError,
        match=rf"Events {forged.pk} and {after.pk + 1000} both follow event {before.pk}: "
        "one of them was inserted out of order",
    ):
        verify()


def test_verify_audit_fails_while_the_triggers_are_missing(real_trail):
    with append_only.lifted(connection):
        assert not append_only.installed(connection)
        with pytest.raises(CommandError, match="triggers are missing"):
            verify()
    assert append_only.installed(connection)
    assert verify().startswith("Audit trail intact")


# Emptying the database, as the operator's flush and the test suite do


@pytest.mark.django_db(transaction=True)
def test_flush_empties_the_trail_and_keeps_its_triggers(front_desk):
    for _ in range(3):
        trail.record(
            action=AuditEvent.Action.VIEW,
            record_type="intake:today",
            actor=Actor.for_user(front_desk),
        )

    call_command("flush", interactive=False, verbosity=0)

    assert not AuditEvent.objects.exists()
    assert append_only.installed(connection)
    event = trail.record(
        action=AuditEvent.Action.VIEW, record_type="intake:today", actor=Actor.system()
    )
    assert event.prev_hash == chain.GENESIS
    with pytest.raises(IntegrityError, match=REFUSED):
        AuditEvent.objects.all()._raw_delete(connection.alias)


# Concurrent writers


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite serialises every writer already"
)
@pytest.mark.django_db(transaction=True)
def test_the_chain_holds_when_many_write_at_once(front_desk):
    writers, events_each = 6, 15
    actor = Actor.for_user(front_desk, address="10.0.0.9")
    start = threading.Barrier(writers)
    failures = []

    def write(number):
        try:
            start.wait()
            for index in range(events_each):
                if index % 5 == 0:
                    trail.record_listing(
                        record_type=Patient,
                        record_ids=[number, number + 100],
                        patient_ids=[number, number + 100],
                        actor=actor,
                    )
                else:
                    trail.record(
                        action=AuditEvent.Action.VIEW,
                        record_type="intake:today",
                        actor=actor,
                        writer=number,
                    )
        except Exception as error:  # reported by the test thread below
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(number,)) for number in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    expected = writers * events_each  # a listing is one event, however many patients
    assert AuditEvent.objects.count() == expected
    assert ListedPatient.objects.count() == writers * (events_each // 5) * 2
    assert verify().startswith(f"Audit trail intact: {expected} events checked")
