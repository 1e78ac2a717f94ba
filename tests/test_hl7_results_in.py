"""Results in over HL7 v2: the listener on a real socket (its server in a thread on a
free port), sent ORU^R01 messages as a lab sends them: matched, unmatched, malformed and
repeated; and the round trip from an order sent out to its result coming back.

The listener answers from its own thread and database connection, so these tests
commit (transaction=True) for it to see what they set up.
"""

from decimal import Decimal

import pytest
from django.utils import timezone

from audit.actors import Actor
from audit.models import AuditEvent
from hl7v2 import messages
from hl7v2.models import OrderMessage, Performer, ReceivedMessage
from intake import orders
from intake.models import TestOrder

from .hl7_peers import Listener, ack_of, oru

pytestmark = pytest.mark.django_db(transaction=True)
Outcome = ReceivedMessage.Outcome
ORDERS = "/admin/intake/testorder/"


@pytest.fixture
def listener():
    running = Listener()
    yield running
    running.stop()


@pytest.fixture
def order(visit, provider):
    return orders.place_order(
        visit=visit,
        test=visit.condition.tests.get(slug="electrolytes-panel"),
        actor=Actor.for_user(provider),
        reason="Twitching for three months.",
    )


def result_for(order, **fields):
    return oru(placer=str(order.pk), mrn=order.visit.patient.mrn, **fields)


def test_a_result_for_an_order_is_recorded_acked_and_waits_for_review(
    listener, order, provider, provider_client
):
    answer = listener.send(
        result_for(
            order,
            observations=["NM|2951-2^Sodium^LN||131|mmol/L|135-145|L"],
            # Performed as the order was placed: a result may not predate its order.
            performed=timezone.localtime(order.ordered_at).strftime("%Y%m%d%H%M%S"),
        )
    )

    assert ack_of(answer) == ("AA", "LAB0001", "")
    order.refresh_from_db()
    assert order.status == TestOrder.Status.RESULTED
    assert (order.result_value, order.result_unit, order.abnormal) == (
        Decimal("131"),
        "mmol/L",
        True,
    )
    assert order.result_text == "Sodium: 131 mmol/L (L)"
    assert (order.resulted_by, order.result_from) == (None, "CITYLAB")
    received = ReceivedMessage.objects.get()
    assert (received.outcome, list(received.orders.all())) == (Outcome.RECORDED, [order])
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.UPDATE, record_id=order.pk, actor_label="hl7"
    ).exists()

    worklist = provider_client.get(ORDERS, {"worklist": "awaiting-my-review"})
    assert [o.pk for o in worklist.context["cl"].result_list] == [order.pk]
    page = provider_client.get(f"{ORDERS}{order.pk}/change/").text
    assert "Sodium: 131 mmol/L (L)" in page
    assert 'name="review_comment"' in page


def test_a_result_that_matches_no_order_is_held_in_the_review_queue(
    listener, order, provider_client
):
    answer = listener.send(oru(placer="987654", control_id="LAB0002"))

    assert ack_of(answer)[:2] == ("AA", "LAB0002")
    held = ReceivedMessage.objects.get()
    assert held.outcome == Outcome.HELD
    assert held.problem == "No order here has the placer number 987654."
    assert "|987654^CLINIC_INTAKE|" in held.raw
    order.refresh_from_db()
    assert order.status == TestOrder.Status.ORDERED
    queue = provider_client.get("/admin/hl7v2/receivedmessage/", {"outcome__exact": "held"})
    assert [m.pk for m in queue.context["cl"].result_list] == [held.pk]

    response = provider_client.post(
        f"/admin/hl7v2/receivedmessage/{held.pk}/change/", {"order_number": order.pk}
    )

    assert response.status_code == 302
    held.refresh_from_db()
    order.refresh_from_db()
    assert (held.outcome, order.status, order.result_from) == (
        Outcome.RESOLVED,
        TestOrder.Status.RESULTED,
        "CITYLAB",
    )


def test_a_result_naming_another_patient_is_held_not_recorded(listener, order):
    listener.send(oru(placer=str(order.pk), mrn="ZZZ99999"))

    held = ReceivedMessage.objects.get()
    assert held.outcome == Outcome.HELD
    assert "names another patient" in held.problem
    order.refresh_from_db()
    assert order.status == TestOrder.Status.ORDERED


def test_a_result_for_a_cancelled_order_is_held_with_the_reason(listener, order, provider):
    orders.cancel_order(order=order, actor=Actor.for_user(provider), reason="Not needed")

    answer = listener.send(result_for(order))

    assert ack_of(answer)[0] == "AA"
    held = ReceivedMessage.objects.get()
    assert held.outcome == Outcome.HELD
    assert "cancelled cannot become resulted" in held.problem


def test_a_message_that_is_not_hl7_gets_ar_and_is_kept(listener):
    answer = listener.send("this is not an HL7 message")

    assert ack_of(answer)[0] == "AR"
    kept = ReceivedMessage.objects.get()
    assert (kept.outcome, kept.ack_code, kept.raw) == (
        Outcome.MALFORMED,
        "AR",
        "this is not an HL7 message",
    )


def test_a_result_without_observations_gets_ae_and_is_kept(listener, order):
    answer = listener.send(result_for(order, observations=[], control_id="LAB0003"))

    code, control_id, text = ack_of(answer)
    assert (code, control_id) == ("AE", "LAB0003")
    assert text == f"The result for order {order.pk} has no OBX."
    kept = ReceivedMessage.objects.get()
    assert (kept.outcome, kept.control_id) == (Outcome.MALFORMED, "LAB0003")
    order.refresh_from_db()
    assert order.status == TestOrder.Status.ORDERED


def test_a_message_received_twice_is_recorded_once(listener, order):
    message = result_for(order)

    first, second = listener.send(message), listener.send(message)

    assert ack_of(first)[:2] == ack_of(second)[:2] == ("AA", "LAB0001")
    assert ReceivedMessage.objects.count() == 1
    assert (
        AuditEvent.objects.filter(
            action=AuditEvent.Action.UPDATE, record_id=order.pk, actor_label="hl7"
        ).count()
        == 1
    )


def test_several_messages_on_one_connection_each_get_their_ack(listener, visit, provider):
    from hl7v2 import mllp

    placed = [
        orders.place_order(
            visit=visit,
            test=visit.condition.tests.get(slug=slug),
            actor=Actor.for_user(provider),
            reason="Twitching.",
        )
        for slug in ("electrolytes-panel", "thyroid-function")
    ]
    import socket

    with socket.create_connection(("127.0.0.1", listener.port), timeout=10) as connection:
        stream = connection.makefile("rb")
        answers = []
        for number, order in enumerate(placed):
            connection.sendall(mllp.frame(result_for(order, control_id=f"LAB10{number}")))
            answers.append(ack_of(mllp.read_frame(stream)))
        stream.close()

    assert answers == [("AA", "LAB100", ""), ("AA", "LAB101", "")]
    assert set(TestOrder.objects.values_list("status", flat=True)) == {"resulted"}


def test_an_order_goes_out_and_its_result_comes_back(
    listener, visit, provider, django_capture_on_commit_callbacks
):
    """The round trip: a lab that receives the ORM^O01 answers it, does the test and
    sends the ORU^R01 back to our listener, naming the order as we numbered it."""
    from .hl7_peers import Performer as FakePerformer

    lab = FakePerformer()
    try:
        Performer.objects.create(
            name="City Lab",
            test_kind="blood",
            host="127.0.0.1",
            port=lab.port,
            receiving_application="CITYLAB",
            receiving_facility="CITYLAB",
        )
        order = orders.place_order(
            visit=visit,
            test=visit.condition.tests.get(slug="thyroid-function"),
            actor=Actor.for_user(provider),
            reason="Twitching.",
        )
        [sent] = lab.received
    finally:
        lab.stop()
    assert OrderMessage.objects.get().state == OrderMessage.State.ACCEPTED

    orm = {line[:3]: line.split("|") for line in sent.split("\r")}
    placer, mrn = orm["ORC"][2].split("^")[0], orm["PID"][3].split("^")[0]
    answer = listener.send(
        oru(
            placer=placer,
            mrn=mrn,
            control_id="CITY42",
            observations=["NM|3016-3^TSH^LN||2.1|mIU/L|0.4-4.0|N"],
        )
    )

    assert ack_of(answer)[:2] == ("AA", "CITY42")
    order.refresh_from_db()
    assert (order.status, order.result_from, order.abnormal) == (
        TestOrder.Status.RESULTED,
        "City Lab",
        False,
    )
    assert order.result_value_display == "2.1 mIU/L"
    # Our ACK is a well-formed HL7 ACK of the lab's message.
    assert messages.read_ack(answer, control_id="CITY42") == ("AA", "")
