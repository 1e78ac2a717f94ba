"""generate_demo_data: synthetic records in bulk, as the workflows would have left them."""

import datetime
import hashlib
import re
from collections import Counter
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.utils import timezone

from audit.actors import Actor
from audit.models import AuditEvent
from conditions.models import HistoryQuestion
from intake import triage
from intake.models import Answer, Attestation, Patient, PreVisitLink, TestOrder, Visit
from intake.patients import register_patient
from intake.visits import open_visit

PATIENTS, VISITS_EACH = 120, 4
GENERATED = [Patient, Visit, Answer, PreVisitLink, Attestation, TestOrder, AuditEvent]


@pytest.fixture
def staff(front_desk, provider):
    return front_desk, provider


@pytest.fixture
def generate(settings, condition, staff, clock):
    """Run the command (DEBUG on, as on a development machine); returns its output."""
    settings.DEBUG = True

    def generate(patients=PATIENTS, visits_per_patient=VISITS_EACH, seed=7):
        out = StringIO()
        call_command(
            "generate_demo_data",
            patients=patients,
            visits_per_patient=visits_per_patient,
            seed=seed,
            stdout=out,
            stderr=out,
        )
        return out.getvalue()

    return generate


@pytest.fixture
def generated(generate):
    return generate()


def test_makes_the_patients_and_visits_asked_for_with_a_one_line_summary(generated):
    assert Patient.objects.count() == PATIENTS
    assert Visit.objects.count() == PATIENTS * VISITS_EACH
    assert generated.count("\n") == 1
    assert generated.startswith(f"Added {PATIENTS} patients, {PATIENTS * VISITS_EACH} visits")
    assert "rows/s" in generated


def test_every_record_passes_the_models_own_checks(generated):
    for model in (Patient, Visit, PreVisitLink, Attestation, TestOrder):
        for record in model.objects.all():
            record.full_clean()
    for answer in Answer.objects.all()[:400]:  # made alike: a sample tells
        answer.full_clean()
    assert len(set(Patient.objects.values_list("mrn", flat=True))) == PATIENTS


def test_visits_are_on_weekdays_in_clinic_hours_over_two_years(generated, condition):
    visits = list(Visit.objects.all())
    times = [timezone.localtime(visit.scheduled_at) for visit in visits]
    assert all(moment.weekday() < 5 for moment in times)
    assert all(datetime.time(8) <= moment.time() < datetime.time(17) for moment in times)
    assert all(moment.minute % 15 == 0 for moment in times)
    days = [moment.date() for moment in times]
    assert (max(days) - min(days)).days > 365
    assert {visit.content_version_id for visit in visits} == {condition.published_version_id}
    past = [v for v in visits if v.scheduled_at < timezone.now() - datetime.timedelta(days=1)]
    future = [v for v in visits if v.scheduled_at > timezone.now()]
    assert {v.status for v in past} <= {
        Visit.Status.CLOSED,
        Visit.Status.SEEN,
        Visit.Status.DID_NOT_ATTEND,
        Visit.Status.CANCELLED,
    }
    assert {Visit.Status.CLOSED, Visit.Status.DID_NOT_ATTEND, Visit.Status.CANCELLED} <= {
        v.status for v in past
    }
    assert future
    assert {v.status for v in future} <= {
        Visit.Status.SCHEDULED,
        Visit.Status.INTAKE_IN_PROGRESS,
        Visit.Status.INTAKE_COMPLETE,
        Visit.Status.CANCELLED,
    }


def test_every_answer_type_of_the_questionnaire_is_answered(generated, condition):
    asked = {question.answer_type for question in condition.published_version.questions()}
    assert set(Answer.objects.values_list("answer_type", flat=True)) == asked
    for answer in Answer.objects.all():
        assert not answer.is_blank
        assert answer.display


def test_choice_answers_keep_the_labels_the_question_shows(generated, condition):
    questions = {q.key: q for q in condition.published_version.questions()}
    answer = Answer.objects.filter(answer_type=HistoryQuestion.AnswerType.FREQUENCY).first()
    labels = dict(questions[answer.question_key].choice_list)
    (choice,) = answer.value_choices
    assert labels[choice["value"]] == choice["label"]


def test_red_flags_are_exactly_what_the_rules_make_of_the_answers(generated):
    answered = Visit.objects.filter(intake_version__gt=0).select_related("content_version")
    for visit in answered:
        assert visit.red_flags == triage.red_flags(
            rules=visit.red_flag_rules(),
            answers=visit.answers.all(),
            visit_date=timezone.localtime(visit.scheduled_at).date(),
        ), visit.pk
    flagged = [visit for visit in answered if visit.red_flags]
    assert 0.04 < len(flagged) / len(answered) < 0.2


def test_orders_in_every_status_with_their_dates_in_order(generated):
    assert set(TestOrder.objects.values_list("status", flat=True)) == set(TestOrder.Status)
    for order in TestOrder.objects.select_related("test"):
        assert not order.site_errors()
        if order.resulted_at:
            assert order.ordered_at <= order.resulted_at <= timezone.now()
            assert order.performed_on >= timezone.localtime(order.ordered_at).date()
        if order.reviewed_at:
            assert order.resulted_at <= order.reviewed_at <= timezone.now()


def test_closed_visits_have_their_orders_done_or_a_reason(generated):
    for visit in Visit.objects.filter(status=Visit.Status.CLOSED):
        still_open = visit.test_orders.exclude(
            status__in=[TestOrder.Status.REVIEWED, TestOrder.Status.CANCELLED]
        )
        assert bool(visit.close_reason) == still_open.exists()


def test_pre_visit_links_in_their_states(generated):
    links = PreVisitLink.objects.select_related("visit")
    states = {link.state for link in links}
    assert {
        PreVisitLink.State.ACTIVE,
        PreVisitLink.State.SUBMITTED,
        PreVisitLink.State.REVOKED,
        PreVisitLink.State.CLOSED,
    } <= states
    attested = {attestation.link_id: attestation for attestation in Attestation.objects.all()}
    for link in links:
        assert link.created_at <= link.expires_at <= link.visit.scheduled_at
        if link.submitted_at:
            assert link.opened_at <= link.submitted_at <= link.expires_at
            assert attested.pop(link.pk).attested_at == link.submitted_at
    assert not attested
    for attestation in Attestation.objects.all():
        attestation.full_clean()


def test_the_audit_trail_verifies_and_tells_each_patients_story(generated):
    out = StringIO()
    call_command("verify_audit", stdout=out)
    assert "Audit trail intact" in out.getvalue()
    assert not AuditEvent.objects.filter(at__gt=timezone.now()).exists()
    assert not Answer.objects.filter(answered_at__gt=timezone.now()).exists()
    patient = Patient.objects.first()
    events = AuditEvent.objects.about_patient(patient.pk)
    assert events.filter(action=AuditEvent.Action.CREATE, record_type="intake.patient").exists()
    assert events.filter(record_type="intake.visit").count() >= VISITS_EACH


def test_a_second_run_appends_and_normal_work_carries_on(generate, generated, front_desk):
    generate(patients=5, visits_per_patient=2)
    assert Patient.objects.count() == PATIENTS + 5
    assert Visit.objects.count() == PATIENTS * VISITS_EACH + 10
    call_command("verify_audit", stdout=StringIO())
    # New rows take ids after the generated ones (sequences moved past them).
    clerk = Actor.for_user(front_desk)
    patient = register_patient(
        actor=clerk,
        given_name="Noor",
        family_name="Haddad",
        date_of_birth=datetime.date(1990, 5, 1),
        sex_at_birth="female",
    )
    visit = open_visit(
        patient=patient,
        condition=Visit.objects.first().condition,
        scheduled_at=timezone.now() + datetime.timedelta(days=1),
        actor=clerk,
    )
    assert patient.pk == Patient.objects.order_by("pk").last().pk
    assert visit.pk == Visit.objects.order_by("pk").last().pk
    assert len(set(Patient.objects.values_list("mrn", flat=True))) == PATIENTS + 6
    call_command("verify_audit", stdout=StringIO())


def test_the_pages_answer_for_the_generated_records(generated, provider, sign_in, client):
    staff_client = sign_in(client, provider)
    visit = Visit.objects.filter(status=Visit.Status.CLOSED).first()
    day = timezone.localtime(visit.scheduled_at).date()
    response = staff_client.get("/staff/", {"day": day.isoformat()})
    assert response.status_code == 200
    assert visit.patient.family_name in response.text
    assert staff_client.get(f"/staff/visits/{visit.pk}/").status_code == 200
    assert staff_client.get(f"/staff/visits/{visit.pk}/review/").status_code == 200
    assert staff_client.get(f"/staff/patients/{visit.patient_id}/").status_code == 200
    response = staff_client.post("/staff/patients/", {"q": visit.patient.family_name})
    assert response.status_code == 200
    assert visit.patient.mrn in response.text


def test_the_admin_lists_answer_for_the_generated_records(generated, sign_in, client):
    admin = get_user_model().objects.create_superuser("ada.admin", "ada@example.org", "x-y-z")
    admin_client = sign_in(client, admin)
    for page in ("intake/patient", "intake/visit", "intake/testorder", "audit/auditevent"):
        assert admin_client.get(f"/admin/{page}/").status_code == 200, page
    order = TestOrder.objects.filter(status=TestOrder.Status.REVIEWED).first()
    assert admin_client.get(f"/admin/intake/testorder/{order.pk}/change/").status_code == 200


def _digest():
    """A hash of every generated row, in id order."""
    digest = hashlib.sha256()
    for model in GENERATED:
        for row in model.objects.order_by("pk").values_list():
            digest.update(repr(row).encode())
    return digest.hexdigest()


def _digest_of_a_run(generate, seed):
    with transaction.atomic():
        generate(patients=10, visits_per_patient=3, seed=seed)
        digest = _digest()
        transaction.set_rollback(True)
    return digest


@pytest.mark.skipif(
    connection.vendor != "sqlite",
    reason="PostgreSQL sequences do not roll back, so a second run takes other ids.",
)
def test_the_same_seed_makes_the_same_rows(generate):
    first = _digest_of_a_run(generate, seed=3)
    assert Patient.objects.count() == 0
    assert _digest_of_a_run(generate, seed=3) == first
    assert _digest_of_a_run(generate, seed=4) != first


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"patients": 0, "visits_per_patient": 4}, "--patients must be at least 1."),
        ({"patients": -3, "visits_per_patient": 4}, "--patients must be at least 1."),
        ({"patients": 5, "visits_per_patient": 0}, "--visits-per-patient must be from 1 to 50."),
        ({"patients": 5, "visits_per_patient": 51}, "--visits-per-patient must be from 1 to 50."),
    ],
)
def test_refuses_sizes_that_make_no_sense(generate, arguments, message):
    with pytest.raises(CommandError, match=re.escape(message)):
        generate(**arguments)
    assert not Patient.objects.exists()


def test_refuses_without_the_demo_condition(settings, db, staff):
    settings.DEBUG = True
    with pytest.raises(CommandError, match=re.escape("run `manage.py load_demo` first")):
        call_command("generate_demo_data", patients=5, visits_per_patient=2)


def test_refuses_without_staff_to_act(settings, condition):
    settings.DEBUG = True
    with pytest.raises(CommandError, match="front-desk and provider accounts"):
        call_command("generate_demo_data", patients=5, visits_per_patient=2)


def test_refuses_with_debug_off(condition, staff):
    with pytest.raises(CommandError, match="run with DEBUG=1"):
        call_command("generate_demo_data", patients=5, visits_per_patient=2)
    assert not Patient.objects.exists()


def test_refuses_a_size_that_is_not_a_number(generate):
    with pytest.raises(CommandError, match="invalid int value"):
        call_command("generate_demo_data", "--patients", "many", "--visits-per-patient", "2")


def test_no_day_gathers_the_visits_that_would_overhang_the_window(generated):
    per_day = Counter(
        timezone.localtime(at).date() for at in Visit.objects.values_list("scheduled_at", flat=True)
    )
    # 480 visits over about 520 weekdays: a day with a handful is chance, not a pile-up.
    assert max(per_day.values()) <= 5
