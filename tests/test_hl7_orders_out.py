"""Orders out over HL7 v2: the ORM^O01 an order becomes, and sending it to the performer
for its test kind over a real socket, with the ACK, a refusal, silence and retries."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hl7apy.parser import parse_message

from audit.actors import Actor
from audit.models import AuditEvent
from hl7v2 import messages, sending
from hl7v2.models import OrderMessage, Performer
from intake import orders
from intake.models import TestOrder

from .hl7_peers import Performer as FakePerformer
from .hl7_peers import SilentPerformer, closed_port

State = OrderMessage.State


@pytest.fixture(autouse=True)
def short_waits(settings):
    """Long enough for a performer on this machine to answer under a loaded test run;
    the test of one that never answers waits only a fifth of a second."""
    settings.HL7_CONNECT_TIMEOUT = 2
    settings.HL7_ACK_TIMEOUT = 2
    settings.HL7_SEND_ATTEMPTS = 3
    settings.HL7_RETRY_SECONDS = 60


@pytest.fixture
def lab():
    performer = FakePerformer()
    yield performer
    performer.stop()


def performer_at(port, kind="neurophysiology", name="Valley Neurophysiology"):
    return Performer.objects.create(
        name=name,
        test_kind=kind,
        host="127.0.0.1",
        port=port,
        receiving_application="NEUROSYS",
        receiving_facility="VALLEY",
    )


def place(visit, provider, slug="emg", **fields):
    fields = (
        {"side": "left", "limb": "leg", **fields}
        if slug in {"emg", "nerve-conduction-studies"}
        else fields
    )
    return orders.place_orders(
        visit=visit,
        actor=Actor.for_user(provider),
        lines=[
            {
                "test": visit.condition.tests.get(slug=slug),
                "reason": "Twitching | weakness in the left calf",
                **fields,
            }
        ],
    )[0]


def segments(text):
    parsed = parse_message(text, find_groups=False)
    return {segment.name: segment for segment in parsed.children}


# The message


def test_an_emg_order_becomes_an_orm_o01_naming_patient_test_side_and_limb(visit, provider):
    order = place(visit, provider, "emg", priority="urgent", notes="Needle EMG only")
    performer = performer_at(2575)

    text = messages.order_message(order=order, performer=performer, event="NW", control_id="CTRL1")

    seg = segments(text)
    msh, pid, orc, obr, nte = seg["MSH"], seg["PID"], seg["ORC"], seg["OBR"], seg["NTE"]
    assert msh.msh_9.to_er7() == "ORM^O01^ORM_O01"
    assert (msh.msh_10.to_er7(), msh.msh_12.to_er7()) == ("CTRL1", "2.5.1")
    assert [msh.msh_3.to_er7(), msh.msh_4.to_er7()] == ["CLINIC_INTAKE", "CLINIC"]
    assert [msh.msh_5.to_er7(), msh.msh_6.to_er7()] == ["NEUROSYS", "VALLEY"]
    patient = visit.patient
    assert pid.pid_3.to_er7() == f"{patient.mrn}^^^CLINIC^MR"
    assert pid.pid_5.to_er7() == "Lindqvist^Mara"
    assert pid.pid_7.to_er7() == f"{patient.date_of_birth:%Y%m%d}"
    assert pid.pid_8.to_er7() == "F"
    assert orc.orc_1.to_er7() == "NW"
    assert orc.orc_2.to_er7() == obr.obr_2.to_er7() == f"{order.pk}^CLINIC_INTAKE"
    assert orc.orc_7.to_er7() == "^^^^^A"  # urgent: as soon as possible
    assert orc.orc_12.to_er7().startswith("pat.provider^")
    assert obr.obr_4.to_er7() == "95860^Electromyogram (EMG)^C4"
    assert obr.obr_13.to_er7() == "Twitching \\F\\ weakness in the left calf"
    assert obr.obr_15.to_er7() == "^^^leg&Leg&99CLN^L&Left&HL70495"
    assert nte.nte_3.to_er7() == "Needle EMG only"


def test_a_spine_scan_without_a_code_is_named_not_coded_and_names_its_region(visit, provider):
    order = place(visit, provider, "mri-spine", body_site="lumbar-spine")

    obr = segments(
        messages.order_message(order=order, performer=performer_at(1), event="NW", control_id="A")
    )["OBR"]

    assert obr.obr_4.to_er7() == "^MRI scan of the spine"
    assert obr.obr_15.to_er7() == "^^^lumbar-spine&Lumbar spine (lower back)&99CLN"


def test_a_brain_scan_carries_its_cpt_code_and_a_blood_test_its_loinc_code(visit, provider):
    performer = performer_at(1)
    mri = place(visit, provider, "mri-brain")
    blood = place(visit, provider, "thyroid-function")

    def obr(order):
        text = messages.order_message(order=order, performer=performer, event="NW", control_id="B")
        return segments(text)["OBR"]

    assert obr(mri).obr_4.to_er7() == f"70551^{mri.test_name}^C4"
    assert obr(mri).obr_15.to_er7() == "^^^brain&Brain&99CLN"
    assert obr(blood).obr_4.to_er7() == f"3016-3^{blood.test_name}^LN"
    assert obr(blood).obr_15.to_er7() == ""


# Sending


def test_placing_an_order_sends_it_to_the_performer_for_its_kind_and_records_the_ack(
    visit, provider, lab, django_capture_on_commit_callbacks, clock
):
    performer_at(lab.port)

    with django_capture_on_commit_callbacks(execute=True):
        order = place(visit, provider, "emg")

    [sent] = lab.received
    message = OrderMessage.objects.get()
    assert (message.order, message.event, message.state) == (order, "NW", State.ACCEPTED)
    assert (message.ack_code, message.attempts, message.answered_at) == ("AA", 1, clock.now)
    assert sent == message.text
    assert f"|{message.control_id}|" in sent
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.SEND, record_id=order.pk, actor_label="hl7"
    ).exists()


def test_a_test_kind_without_a_performer_sends_nothing(
    visit, provider, lab, django_capture_on_commit_callbacks
):
    performer_at(lab.port, kind="imaging")

    with django_capture_on_commit_callbacks(execute=True):
        place(visit, provider, "emg")

    assert lab.received == []
    assert not OrderMessage.objects.exists()


def test_a_performer_that_refuses_the_order_is_shown_on_the_visit_page(
    visit, provider, provider_client, django_capture_on_commit_callbacks
):
    lab = FakePerformer(code="AE", text="Unknown test code")
    try:
        performer_at(lab.port)
        with django_capture_on_commit_callbacks(execute=True):
            place(visit, provider, "emg")
    finally:
        lab.stop()

    message = OrderMessage.objects.get()
    assert (message.state, message.ack_text) == (State.REFUSED, "Unknown test code")
    page = provider_client.get(f"/staff/visits/{visit.pk}/").text
    assert "Valley Neurophysiology refused the order: Unknown test code." in page


def test_a_performer_that_never_answers_leaves_the_order_not_yet_sent_and_retries_later(
    visit, provider, provider_client, settings, django_capture_on_commit_callbacks, clock
):
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.HL7_ACK_TIMEOUT = 0.2
    silent = SilentPerformer()
    try:
        performer_at(silent.port)
        with django_capture_on_commit_callbacks(execute=True):
            place(visit, provider, "emg")
        message = OrderMessage.objects.get()
        assert message.state == State.QUEUED  # queued for the worker, not sent in the request

        sending.send_order_message.call(message.pk)  # the worker's first try
    finally:
        silent.stop()

    message.refresh_from_db()
    assert (message.state, message.attempts) == (State.QUEUED, 1)
    assert message.last_error == "The performer did not answer in time."
    assert message.next_attempt_at == clock.now + datetime.timedelta(seconds=60)
    queued_to_run_at = set(DBTaskResult.objects.values_list("run_after", flat=True))
    assert message.next_attempt_at in queued_to_run_at  # the worker's retry
    page = provider_client.get(f"/staff/visits/{visit.pk}/").text
    assert "The order is not yet sent to Valley Neurophysiology: no answer yet" in page


def test_each_retry_waits_twice_as_long_and_the_last_leaves_it_for_staff_to_send_again(
    visit, provider, provider_client, settings, django_capture_on_commit_callbacks, clock
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    performer = performer_at(closed_port())
    with django_capture_on_commit_callbacks(execute=True):
        place(visit, provider, "emg")
    message = OrderMessage.objects.get()

    waits = []
    for _ in range(3):
        sending.send_order_message.call(message.pk)
        message.refresh_from_db()
        waits.append(message.next_attempt_at and message.next_attempt_at - clock.now)

    assert waits == [datetime.timedelta(seconds=60), datetime.timedelta(seconds=120), None]
    assert (message.state, message.attempts) == (State.FAILED, 3)
    assert message.last_error == "The performer refused the connection."
    page = provider_client.get(f"/staff/visits/{visit.pk}/").text
    assert "not yet sent to Valley Neurophysiology: no answer after 3 tries" in page

    lab = FakePerformer()
    try:
        Performer.objects.filter(pk=performer.pk).update(port=lab.port)
        settings.TASKS = {
            "default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}
        }
        with django_capture_on_commit_callbacks(execute=True):
            response = provider_client.post(
                "/admin/hl7v2/ordermessage/",
                {"action": "send_selected_again", "_selected_action": [message.pk]},
                follow=True,
            )
    finally:
        lab.stop()
    assert "1 message(s) queued to send again." in response.text
    message.refresh_from_db()
    assert (message.state, len(lab.received)) == (State.ACCEPTED, 1)


def test_without_a_task_queue_a_silent_performer_waits_for_send_again(
    visit, provider, django_capture_on_commit_callbacks
):
    performer_at(closed_port())

    with django_capture_on_commit_callbacks(execute=True):
        order = place(visit, provider, "emg")

    message = OrderMessage.objects.get()
    assert (message.state, message.attempts, message.next_attempt_at) == (State.FAILED, 1, None)
    order.refresh_from_db()
    assert order.status == TestOrder.Status.ORDERED  # the order itself stands


# Cancelling


def test_cancelling_a_sent_order_sends_the_cancel(
    visit, provider, lab, django_capture_on_commit_callbacks
):
    performer_at(lab.port)
    with django_capture_on_commit_callbacks(execute=True):
        order = place(visit, provider, "emg")
    with django_capture_on_commit_callbacks(execute=True):
        orders.cancel_order(order=order, actor=Actor.for_user(provider), reason="Not needed")

    placed, cancelled = lab.received
    assert segments(placed)["ORC"].orc_1.to_er7() == "NW"
    assert segments(cancelled)["ORC"].orc_1.to_er7() == "CA"
    assert segments(cancelled)["ORC"].orc_2.to_er7() == f"{order.pk}^CLINIC_INTAKE"
    assert list(OrderMessage.objects.values_list("event", "state")) == [
        ("NW", State.ACCEPTED),
        ("CA", State.ACCEPTED),
    ]


def test_cancelling_an_order_never_tried_withdraws_it_and_sends_nothing(
    visit, provider, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    performer_at(closed_port())
    with django_capture_on_commit_callbacks(execute=True):
        order = place(visit, provider, "emg")

    with django_capture_on_commit_callbacks(execute=True):
        orders.cancel_order(order=order, actor=Actor.for_user(provider), reason="Not needed")
    sending.send_order_message.call(OrderMessage.objects.get().pk)  # the queued task runs

    message = OrderMessage.objects.get()
    assert (message.state, message.attempts) == (State.WITHDRAWN, 0)


def test_the_visit_page_takes_no_more_queries_for_orders_with_messages(
    visit,
    provider,
    provider_client,
    lab,
    django_capture_on_commit_callbacks,
    django_assert_max_num_queries,
):
    performer_at(lab.port)
    with django_capture_on_commit_callbacks(execute=True):
        place(visit, provider, "emg")
    provider_client.get(f"/staff/visits/{visit.pk}/")
    with CaptureQueriesContext(connection) as one:
        provider_client.get(f"/staff/visits/{visit.pk}/")
    with django_capture_on_commit_callbacks(execute=True):
        for slug in ("nerve-conduction-studies", "thyroid-function", "emg"):
            place(visit, provider, slug)
    with django_assert_max_num_queries(len(one)):
        page = provider_client.get(f"/staff/visits/{visit.pk}/").text

    assert page.count("was sent to Valley Neurophysiology on") == 3


def test_a_cancel_waits_while_its_order_is_still_being_sent(
    visit, provider, settings, django_capture_on_commit_callbacks, clock
):
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    performer_at(closed_port())
    with django_capture_on_commit_callbacks(execute=True):
        order = place(visit, provider, "emg")
    OrderMessage.objects.update(state=State.SENDING, attempts=1)  # the worker is sending it
    with django_capture_on_commit_callbacks(execute=True):
        orders.cancel_order(order=order, actor=Actor.for_user(provider), reason="Not needed")
    cancel = OrderMessage.objects.get(event="CA")

    sending.send_order_message.call(cancel.pk)

    cancel.refresh_from_db()
    assert (cancel.state, cancel.attempts) == (State.QUEUED, 0)
    later = clock.now + datetime.timedelta(seconds=settings.HL7_ACK_TIMEOUT)
    assert later in set(DBTaskResult.objects.values_list("run_after", flat=True))


def test_the_order_list_filters_the_orders_not_yet_sent(
    visit, provider, provider_client, lab, django_capture_on_commit_callbacks
):
    performer = performer_at(closed_port())
    with django_capture_on_commit_callbacks(execute=True):
        unsent = place(visit, provider, "emg")
    Performer.objects.filter(pk=performer.pk).update(port=lab.port)
    with django_capture_on_commit_callbacks(execute=True):
        place(visit, provider, "nerve-conduction-studies")

    listed = provider_client.get("/admin/intake/testorder/", {"sent": "not-yet"})

    assert [order.pk for order in listed.context["cl"].result_list] == [unsent.pk]
    assert OrderMessage.objects.filter(state=State.ACCEPTED).count() == 1


def test_the_providers_order_form_sends_what_it_places_to_the_performer(
    provider_client, visit, lab, django_capture_on_commit_callbacks
):
    performer_at(lab.port)
    emg = visit.condition.tests.get(slug="emg")
    data = {
        "form-TOTAL_FORMS": 1,
        "form-INITIAL_FORMS": 0,
        "form-0-include": "on",
        "form-0-priority": "routine",
        "form-0-reason": "Twitching",
        "form-0-side": "right",
        "form-0-limb": "arm",
    }

    with django_capture_on_commit_callbacks(execute=True):
        provider_client.post(f"/staff/visits/{visit.pk}/orders/new/?test={emg.pk}", data)

    [sent] = lab.received
    order = TestOrder.objects.get()
    assert segments(sent)["ORC"].orc_2.to_er7() == f"{order.pk}^CLINIC_INTAKE"
    assert segments(sent)["OBR"].obr_15.to_er7() == "^^^arm&Arm&99CLN^R&Right&HL70495"
