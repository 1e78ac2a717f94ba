"""The providers' visit page in the admin: a stale page cannot undo someone else's change,
and a finished visit's provider stays as it was."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections, transaction

from audit import trail
from audit.actors import Actor
from audit.models import AuditEvent
from intake.models import TestOrder, Visit
from intake.visits import assign_provider, cancel_visit

from .test_order_admin import catalog_pk, colleague, page_data, visit_page
from .test_order_admin import with_new_orders as with_order

__all__ = ["colleague"]  # a fixture these tests use


def test_a_stale_page_saved_to_add_an_order_does_not_put_back_the_old_provider(
    provider_client, provider, colleague, visit
):
    Visit.objects.filter(pk=visit.pk).update(provider=provider)
    stale = page_data(provider_client.get(visit_page(visit)))
    # Meanwhile someone else hands the visit to a colleague.
    assign_provider(
        visit=visit,
        provider=colleague,
        actor=Actor.for_user(provider),
        expected_provider_id=provider.pk,
    )

    posted = with_order(
        stale,
        {"test": catalog_pk(visit, "emg"), "side": "right", "limb": "arm", "reason": "Twitching"},
    )
    response = provider_client.post(visit_page(visit), posted)

    assert response.status_code == 200
    assert "Someone else changed this visit while you had it open" in response.text
    assert "with rita.reviewer as provider" in response.text
    visit.refresh_from_db()
    assert visit.provider == colleague
    assert not TestOrder.objects.exists()
    # The page now holds the visit as it is, and the order as typed: saving again places
    # the order and leaves the colleague in place.
    form = response.context["adminform"].form
    shown = {field.html_name: field.value() for field in form}
    assert shown["provider"] == str(colleague.pk)
    assert "Twitching</textarea>" in response.text
    again = {**posted, **shown}

    saved = provider_client.post(visit_page(visit), again)

    assert saved.status_code == 302
    visit.refresh_from_db()
    assert visit.provider == colleague
    assert TestOrder.objects.get().test_name == "Electromyogram (EMG)"


def test_a_stale_page_is_refused_after_the_intake_changed(
    provider_client, flagged_visit, front_desk
):
    stale = page_data(provider_client.get(visit_page(flagged_visit)))
    cancel_visit(visit=flagged_visit, reason="Patient called", actor=Actor.for_user(front_desk))

    response = provider_client.post(
        visit_page(flagged_visit),
        with_order(stale, {"test": catalog_pk(flagged_visit, "emg"), "reason": "Weakness"}),
    )

    assert "it is now cancelled" in response.text
    assert not TestOrder.objects.exists()


def test_a_fresh_page_changes_the_provider(provider_client, provider, colleague, visit):
    data = page_data(provider_client.get(visit_page(visit)))

    response = provider_client.post(visit_page(visit), {**data, "provider": colleague.pk})

    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.provider == colleague


@pytest.mark.parametrize("status", [Visit.Status.CLOSED, Visit.Status.CANCELLED])
def test_a_finished_visit_shows_its_provider_and_keeps_it(
    provider_client, provider, colleague, visit, status
):
    Visit.objects.filter(pk=visit.pk).update(
        provider=provider, status=status, cancel_reason="Patient moved away"
    )

    page = provider_client.get(visit_page(visit))
    assert 'name="provider"' not in page.text
    data = page_data(page)
    provider_client.post(visit_page(visit), {**data, "provider": colleague.pk})

    visit.refresh_from_db()
    assert visit.provider == provider
    with pytest.raises(ValidationError, match="its provider can no longer change"):
        assign_provider(
            visit=visit,
            provider=colleague,
            actor=Actor.for_user(provider),
            expected_provider_id=provider.pk,
        )


def test_assigning_a_provider_someone_else_just_changed_is_refused(provider, colleague, visit):
    actor = Actor.for_user(provider)
    assign_provider(visit=visit, provider=colleague, actor=actor, expected_provider_id=None)

    with pytest.raises(ValidationError, match="Someone else changed this visit's provider"):
        assign_provider(visit=visit, provider=provider, actor=actor, expected_provider_id=None)

    visit.refresh_from_db()
    assert visit.provider == colleague


def test_a_role_refused_a_visit_in_the_admin_is_audited_with_the_patient(client, editor, visit):
    client.force_login(editor)

    response = client.get(visit_page(visit))

    assert response.status_code == 403
    [refusal] = AuditEvent.objects.exclude(action=AuditEvent.Action.SIGN_IN)
    assert (refusal.action, refusal.actor, refusal.record_type, refusal.patient_id) == (
        "deny",
        editor,
        "intake.visit",
        visit.patient_id,
    )
    assert refusal.detail == {"page": "admin:intake_visit_change"}


@pytest.mark.django_db(transaction=True)
def test_placing_an_order_while_the_patient_saves_the_same_visit_does_not_deadlock(
    client, sign_in, provider, visit
):
    # The admin's save locks the visit row; a patient's save holds that row and then
    # appends to the audit chain. Were the admin page's read audited inside its own
    # transaction, it would hold the chain's lock while waiting for the row: a deadlock.
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one writer at a time")
    sign_in(client, provider)
    data = with_order(
        page_data(client.get(visit_page(visit))),
        {"test": catalog_pk(visit, "emg"), "side": "right", "limb": "arm", "reason": "Twitching"},
    )
    row_locked, outcome = threading.Event(), {}

    def patient_saving():
        try:
            with transaction.atomic():
                Visit.objects.select_for_update().get(pk=visit.pk)
                row_locked.set()
                _wait_until_someone_waits_for_a_lock()
                trail.record(
                    action="update",
                    record=visit,
                    patient_id=visit.patient_id,
                    actor=Actor(label="pre-visit link", link_id=1),
                )
            outcome["patient"] = "saved"
        finally:
            connection.close()

    patient = threading.Thread(target=patient_saving)
    patient.start()
    row_locked.wait(timeout=10)
    response = client.post(visit_page(visit), data)
    patient.join(timeout=30)

    assert outcome == {"patient": "saved"}
    assert response.status_code == 302
    assert TestOrder.objects.filter(visit=visit).count() == 1


def _wait_until_someone_waits_for_a_lock():
    """Until another session of this database waits for a lock (the admin's save)."""
    with connections["default"].cursor() as cursor:
        for _ in range(200):
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
            threading.Event().wait(0.05)
    raise AssertionError("The admin's save never waited for the visit's row.")
