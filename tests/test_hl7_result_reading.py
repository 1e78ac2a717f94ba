"""What a received result becomes on its order: its observations as text, a single
numeric value with its unit, the abnormal flag, the date performed."""

import datetime
from decimal import Decimal

import pytest

from audit.actors import Actor
from hl7v2 import receiving
from hl7v2.models import ReceivedMessage
from intake import orders
from intake.models import TestOrder

from .hl7_peers import ack_of, oru


@pytest.fixture
def order(visit, provider):
    return orders.place_order(
        visit=visit,
        test=visit.condition.tests.get(slug="electrolytes-panel"),
        actor=Actor.for_user(provider),
        reason="Twitching for three months.",
    )


def receive(order, **fields):
    answer = receiving.receive(oru(placer=str(order.pk), mrn=order.visit.patient.mrn, **fields))
    order.refresh_from_db()
    return ack_of(answer)[0]


def test_a_panel_of_observations_is_recorded_as_text_with_each_flag(order):
    code = receive(
        order,
        observations=[
            "NM|2951-2^Sodium^LN||139|mmol/L|135-145|N",
            "NM|2823-3^Potassium^LN||5.9|mmol/L|3.5-5.1|H",
            "ST|2075-0^Chloride^LN||see comment",
        ],
    )

    assert code == "AA"
    assert order.result_text == (
        "Sodium: 139 mmol/L\nPotassium: 5.9 mmol/L (H)\nChloride: see comment"
    )
    assert (order.result_value, order.abnormal) == (None, True)


def test_observations_all_flagged_normal_are_not_abnormal_and_unflagged_ones_unknown(
    visit, provider, order
):
    other = orders.place_order(
        visit=visit,
        test=visit.condition.tests.get(slug="thyroid-function"),
        actor=Actor.for_user(provider),
        reason="Twitching.",
    )

    receive(order, observations=["NM|2951-2^Sodium^LN||139|mmol/L|135-145|N"])
    receive(other, control_id="LAB0002", observations=["NM|3016-3^TSH^LN||2.1|mIU/L"])

    assert (order.abnormal, other.abnormal) == (False, None)
    assert (other.result_value, other.result_unit) == (Decimal("2.1"), "mIU/L")


def test_a_number_without_a_unit_stays_in_the_text(order):
    receive(order, observations=["NM|2951-2^Sodium^LN||139"])

    assert (order.status, order.result_text, order.result_value) == (
        TestOrder.Status.RESULTED,
        "Sodium: 139",
        None,
    )


def test_the_observation_date_is_the_date_performed(order):
    today = datetime.date.today()

    receive(order, performed=f"{today:%Y%m%d}0930")

    assert order.performed_on == today


def test_a_date_performed_in_the_future_holds_the_result_with_the_reason(order):
    receive(order, performed="20990101")

    held = ReceivedMessage.objects.get()
    assert held.outcome == ReceivedMessage.Outcome.HELD
    assert "The date performed cannot be in the future." in held.problem
    assert order.status == TestOrder.Status.ORDERED


def test_separators_in_a_lab_comment_come_back_as_written(order):
    receive(order, observations=["ST|X^Comment^L||Haemolysed \\F\\ repeat \\T\\ recheck"])

    assert order.result_text == "Comment: Haemolysed | repeat & recheck"
