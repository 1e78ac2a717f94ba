"""Test orders through the workflow functions of intake.orders, which every entry point uses."""

import datetime
import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.actors import Actor
from audit.models import AuditEvent
from conditions.content import publish
from conditions.models import OrderableTest
from intake import orders
from intake.models import OrderAddendum, TestOrder, Visit
from intake.roles import PROVIDER

from .factories import TestOrderFactory, UserFactory, VisitFactory, at_today

Status = TestOrder.Status


@pytest.fixture
def colleague(db):
    """A second provider, so that who acted is not just who ordered."""
    user = UserFactory(username="rita.reviewer", is_staff=True)
    user.groups.add(Group.objects.get(name=PROVIDER))
    return user


def catalog_test(visit, slug):
    return visit.condition.tests.get(slug=slug)


def place(visit, provider, slug="thyroid-function", **fields):
    return orders.place_order(
        visit=visit,
        test=catalog_test(visit, slug),
        actor=Actor.for_user(provider),
        reason=fields.pop("reason", "Twitching in both calves for three months."),
        **fields,
    )


# Placing an order


def test_placing_an_order_copies_the_test_and_records_who_ordered_it_and_when(visit, provider):
    before = timezone.now()

    order = place(
        visit, provider, "emg", side="both", limb="leg", priority="urgent", notes=" Calves. "
    )

    order.refresh_from_db()
    assert order.visit == visit
    assert order.status == Status.ORDERED
    assert (order.test_name, order.test_code) == ("Electromyogram (EMG)", "95860")
    assert order.test_code_system == OrderableTest.CodeSystem.CPT
    assert order.priority == "urgent"
    assert order.notes == "Calves."
    assert (order.side, order.limb, order.site_display) == ("both", "leg", "Both legs")
    assert order.ordered_by == provider
    assert before <= order.ordered_at <= timezone.now()


def test_an_order_keeps_the_test_as_ordered_when_the_catalog_changes(visit, provider):
    order = place(visit, provider, "emg", side="left", limb="arm")

    OrderableTest.objects.filter(slug="emg").update(name="EMG (needle)", code="95861")

    order.refresh_from_db()
    assert (order.test_name, order.test_code) == ("Electromyogram (EMG)", "95860")


def test_the_reason_is_kept_on_one_line(visit, provider):
    order = place(visit, provider, reason="Reports weakness;\n  twitching   all the time ")

    assert order.reason == "Reports weakness; twitching all the time"


def test_an_order_needs_a_reason(visit, provider):
    with pytest.raises(ValidationError) as refused:
        place(visit, provider, reason="   ")

    assert "reason" in refused.value.message_dict
    assert not TestOrder.objects.exists()


@pytest.mark.parametrize("missing", ["ordered_by", "ordered_at"])
def test_the_database_refuses_an_order_without_who_ordered_it_or_when(visit, provider, missing):
    order = TestOrder(
        visit=visit,
        test=catalog_test(visit, "emg"),
        test_name="Electromyogram (EMG)",
        reason="Twitching.",
        ordered_by=provider,
        ordered_at=timezone.now(),
    )
    setattr(order, missing, None)

    with pytest.raises(IntegrityError), transaction.atomic():
        order.save()


def test_only_tests_in_the_visit_conditions_catalog_can_be_ordered(visit, provider):
    elsewhere = OrderableTest.objects.create(slug="sleep-study", name="Sleep study", kind="other")

    with pytest.raises(ValidationError, match="Sleep study is not in the test catalog"):
        orders.place_order(
            visit=visit, test=elsewhere, actor=Actor.for_user(provider), reason="Tired."
        )


@pytest.mark.parametrize("status", [Visit.Status.CLOSED, Visit.Status.CANCELLED])
def test_tests_cannot_be_ordered_on_a_closed_or_cancelled_visit(condition, provider, status):
    visit = VisitFactory(condition=condition, status=status, cancel_reason="Moved away.")

    with pytest.raises(ValidationError, match="cannot be ordered on a"):
        place(visit, provider)


def test_a_spine_scan_needs_the_part_of_the_spine(visit, provider):
    with pytest.raises(ValidationError) as refused:
        place(visit, provider, "mri-spine")

    assert refused.value.message_dict == {"body_site": ["Say which part of the spine to scan."]}
    assert place(visit, provider, "mri-spine", body_site="lumbar-spine").body_site == (
        "lumbar-spine"
    )


def test_a_brain_scan_is_ordered_for_the_brain(visit, provider):
    assert place(visit, provider, "ct-brain").body_site == "brain"
    assert place(visit, provider, "mri-brain", body_site="brain").site_display == "Brain"

    with pytest.raises(ValidationError, match="not done on this site"):
        place(visit, provider, "ct-brain", body_site="lumbar-spine")


def test_a_test_without_a_body_site_refuses_one(visit, provider):
    with pytest.raises(ValidationError) as refused:
        place(visit, provider, "emg", body_site="brain", side="left", limb="arm")

    assert refused.value.message_dict == {
        "body_site": ["Electromyogram (EMG) is not done on this site."]
    }


@pytest.mark.parametrize("slug", ["emg", "nerve-conduction-studies"])
def test_emg_and_nerve_conduction_studies_need_the_side_and_the_limb(visit, provider, slug):
    with pytest.raises(ValidationError) as refused:
        place(visit, provider, slug)

    assert refused.value.message_dict == {
        "side": ["Say which side: left, right or both."],
        "limb": ["Say which limb: arm or leg."],
    }
    with pytest.raises(ValidationError) as refused:
        place(visit, provider, slug, side="right")
    assert refused.value.message_dict == {"limb": ["Say which limb: arm or leg."]}
    assert not TestOrder.objects.exists()

    order = place(visit, provider, slug, side="right", limb="arm")

    order.refresh_from_db()
    assert (order.side, order.limb, order.site_display) == ("right", "arm", "Right arm")


def test_a_test_that_does_not_ask_for_side_and_limb_refuses_them(visit, provider):
    with pytest.raises(ValidationError) as refused:
        place(visit, provider, "mri-spine", body_site="lumbar-spine", side="left", limb="leg")

    assert refused.value.message_dict == {
        "side": ["MRI scan of the spine is not done on one side; leave the side empty."],
        "limb": ["MRI scan of the spine is not done on a limb; leave the limb empty."],
    }
    assert not TestOrder.objects.exists()


@pytest.mark.parametrize(
    ("side", "limb", "field"), [("middle", "arm", "side"), ("left", "tail", "limb")]
)
def test_a_side_or_limb_outside_the_choices_is_refused(visit, provider, side, limb, field):
    with pytest.raises(ValidationError) as refused:
        place(visit, provider, "emg", side=side, limb=limb)

    assert field in refused.value.message_dict
    assert not TestOrder.objects.exists()


def test_the_catalog_says_which_tests_ask_for_side_and_limb(condition):
    asking = set(condition.tests.filter(asks_side_and_limb=True).values_list("slug", flat=True))

    assert asking == {"emg", "nerve-conduction-studies"}


def test_a_catalog_change_after_ordering_does_not_stop_the_result(visit, provider):
    order = place(visit, provider, "thyroid-function")
    OrderableTest.objects.filter(slug="thyroid-function").update(asks_side_and_limb=True)

    orders.record_result(order=order, actor=Actor.for_user(provider), text="TSH normal.")

    assert TestOrder.objects.get(pk=order.pk).status == Status.RESULTED


def test_the_database_refuses_a_side_without_a_limb(visit, provider):
    order = place(visit, provider, "emg", side="left", limb="leg")

    with pytest.raises(IntegrityError), transaction.atomic():
        TestOrder.objects.filter(pk=order.pk).update(limb="")


def test_placing_an_order_is_audited_with_the_patient(visit, provider):
    order = place(visit, provider)

    event = AuditEvent.objects.get(action="create", record_type="intake.testorder")
    assert (event.record_id, event.patient_id, event.actor) == (
        order.pk,
        visit.patient_id,
        provider,
    )


# Who may use the workflow


WORKFLOW = {
    "place": lambda order, by: orders.place_order(
        visit=order.visit, test=order.test, actor=Actor.for_user(by), reason="Twitching."
    ),
    "schedule": lambda order, by: orders.schedule_order(order=order, actor=Actor.for_user(by)),
    "cancel": lambda order, by: orders.cancel_order(
        order=order, actor=Actor.for_user(by), reason="Patient declined."
    ),
    "result": lambda order, by: orders.record_result(
        order=order, actor=Actor.for_user(by), text="Fasciculations in both calves; no denervation."
    ),
    "review": lambda order, by: orders.review_result(
        order=order, actor=Actor.for_user(by), comment="Benign fasciculations. Reassured."
    ),
    "addendum": lambda order, by: orders.add_addendum(
        order=order, actor=Actor.for_user(by), text="Patient called: twitching has settled."
    ),
}

# The stage at which each step is allowed, so that only the role is in question.
READY_FOR = {
    "place": {},
    "schedule": {},
    "cancel": {},
    "result": {"scheduled": True},
    "review": {"resulted": True},
    "addendum": {"reviewed": True},
}


@pytest.mark.parametrize("step", WORKFLOW)
@pytest.mark.parametrize("persona", ["front_desk", "editor"])
def test_only_providers_place_result_and_review_orders(request, condition, step, persona):
    user = request.getfixturevalue(persona)
    order = TestOrderFactory(**READY_FOR[step])
    before = TestOrder.objects.values().get(pk=order.pk)

    with pytest.raises(PermissionDenied):
        WORKFLOW[step](order, user)

    assert list(TestOrder.objects.values()) == [before]
    assert not OrderAddendum.objects.exists()
    assert not AuditEvent.objects.exists()


# Moving through the statuses: every step from every status

ALLOWED = {
    ("ordered", "schedule"): ("scheduled", "scheduled_by", "scheduled_at"),
    ("ordered", "cancel"): ("cancelled", "cancelled_by", "cancelled_at"),
    ("ordered", "result"): ("resulted", "resulted_by", "resulted_at"),
    ("scheduled", "cancel"): ("cancelled", "cancelled_by", "cancelled_at"),
    ("scheduled", "result"): ("resulted", "resulted_by", "resulted_at"),
    ("resulted", "review"): ("reviewed", "reviewed_by", "reviewed_at"),
}
STEPS = ["schedule", "cancel", "result", "review", "addendum"]
MATRIX = [(status, step) for status in Status.values for step in STEPS]


def order_in(status, **fields):
    traits = {} if status == Status.ORDERED else {status: True}
    return TestOrderFactory(**traits, **fields)


@pytest.mark.parametrize(
    ("status", "step"),
    [pair for pair in MATRIX if pair in ALLOWED],
)
def test_an_allowed_step_moves_the_order_and_records_who_and_when(
    condition, provider, colleague, status, step
):
    order = order_in(status, ordered_by=provider)
    before = timezone.now()

    WORKFLOW[step](order, colleague)

    order.refresh_from_db()
    new_status, who, when = ALLOWED[status, step]
    assert order.status == new_status
    assert getattr(order, who) == colleague
    assert before <= getattr(order, when) <= timezone.now()
    event = AuditEvent.objects.get(action="update", record_id=order.pk)
    assert (event.actor, event.patient_id) == (colleague, order.visit.patient_id)
    assert event.detail == {"status": new_status}


def test_an_addendum_is_the_one_change_after_review(condition, provider, colleague):
    order = order_in(Status.REVIEWED, ordered_by=provider)
    before = TestOrder.objects.values().get(pk=order.pk)
    start = timezone.now()

    addendum = WORKFLOW["addendum"](order, colleague)

    assert TestOrder.objects.values().get(pk=order.pk) == before
    assert list(order.addenda.all()) == [addendum]
    assert addendum.text == "Patient called: twitching has settled."
    assert addendum.added_by == colleague
    assert start <= addendum.added_at <= timezone.now()
    assert AuditEvent.objects.get(action="update", record_id=order.pk).detail == {
        "addendum": addendum.pk
    }


@pytest.mark.parametrize(
    ("status", "step"),
    [pair for pair in MATRIX if pair not in ALLOWED and pair != ("reviewed", "addendum")],
)
def test_a_step_the_workflow_does_not_allow_changes_nothing(
    condition, provider, colleague, status, step
):
    order = order_in(status, ordered_by=provider)
    before = TestOrder.objects.values().get(pk=order.pk)

    with pytest.raises(ValidationError):
        WORKFLOW[step](order, colleague)

    assert TestOrder.objects.values().get(pk=order.pk) == before
    assert not OrderAddendum.objects.exists()
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    ("status", "message"),
    [
        ("cancelled", "An order that is cancelled cannot become resulted."),
        ("resulted", "An order that is resulted cannot become resulted."),
        ("reviewed", "An order that is reviewed cannot become resulted."),
    ],
)
def test_no_result_on_a_cancelled_or_already_resulted_order(condition, provider, status, message):
    order = order_in(status, ordered_by=provider)

    with pytest.raises(ValidationError) as refused:
        WORKFLOW["result"](order, provider)

    assert refused.value.messages == [message]


@pytest.mark.parametrize("status", ["ordered", "scheduled"])
def test_no_review_before_a_result(condition, provider, status):
    order = order_in(status, ordered_by=provider)

    with pytest.raises(ValidationError, match=f"An order that is {status} cannot become reviewed"):
        WORKFLOW["review"](order, provider)


def test_addenda_are_only_for_reviewed_orders(condition, provider):
    order = order_in(Status.RESULTED, ordered_by=provider)

    with pytest.raises(ValidationError, match="Addenda are for reviewed orders"):
        WORKFLOW["addendum"](order, provider)


def test_the_workflow_acts_on_the_order_as_saved_not_a_stale_copy(condition, provider):
    order = order_in(Status.ORDERED, ordered_by=provider)
    stale = TestOrder.objects.get(pk=order.pk)
    orders.cancel_order(order=order, actor=Actor.for_user(provider), reason="Duplicate order.")

    with pytest.raises(ValidationError, match="cancelled cannot become resulted"):
        orders.record_result(order=stale, actor=Actor.for_user(provider), text="Normal.")


# Cancelling, results, review and addenda: what each needs


def test_cancelling_needs_a_reason_and_keeps_it(condition, provider):
    order = order_in(Status.ORDERED, ordered_by=provider)

    with pytest.raises(ValidationError, match="Give a reason for cancelling"):
        orders.cancel_order(order=order, actor=Actor.for_user(provider), reason="  \n ")
    cancelled = orders.cancel_order(
        order=order, actor=Actor.for_user(provider), reason=" Patient  declined. "
    )

    assert (cancelled.status, cancelled.cancel_reason) == ("cancelled", "Patient declined.")


def test_a_result_keeps_its_text_value_unit_abnormal_flag_and_date(condition, provider):
    order = order_in(
        Status.SCHEDULED,
        ordered_by=provider,
        ordered_at=timezone.now() - datetime.timedelta(days=3),
    )
    performed = timezone.localdate() - datetime.timedelta(days=1)

    orders.record_result(
        order=order,
        actor=Actor.for_user(provider),
        text="Potassium low.",
        value=Decimal("3.1"),
        unit="mmol/L",
        abnormal=True,
        performed_on=performed,
    )

    order.refresh_from_db()
    assert order.result_text == "Potassium low."
    assert (order.result_value, order.result_unit) == (Decimal("3.1"), "mmol/L")
    assert order.abnormal is True
    assert order.performed_on == performed


def test_a_result_may_be_a_value_alone(condition, provider):
    order = order_in(Status.ORDERED, ordered_by=provider)

    orders.record_result(
        order=order, actor=Actor.for_user(provider), text="", value=Decimal("2.4"), unit="mIU/L"
    )

    assert TestOrder.objects.get(pk=order.pk).result_value == Decimal("2.4")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"text": "  "}, "Enter the result: a text, a value, or both."),
        ({"text": "", "value": Decimal("3.1")}, "Give the unit of the result value."),
        (
            {"text": "Normal.", "performed_on": "tomorrow"},
            "The date performed cannot be in the future.",
        ),
    ],
    ids=["empty", "value-without-unit", "performed-tomorrow"],
)
def test_an_incomplete_or_impossible_result_is_refused(condition, provider, fields, message):
    # Tomorrow as of the run, not of the collection: a run can cross midnight.
    if fields.get("performed_on") == "tomorrow":
        fields = {**fields, "performed_on": timezone.localdate() + datetime.timedelta(1)}
    order = order_in(Status.ORDERED, ordered_by=provider)

    with pytest.raises(ValidationError) as refused:
        orders.record_result(order=order, actor=Actor.for_user(provider), **fields)

    assert message in refused.value.messages
    assert TestOrder.objects.get(pk=order.pk).status == Status.ORDERED


# When a result may be dated: not before its order, not in the future. The clock stands
# at 10:30 today; the order was placed two days ago at 16:00.

RESULT_DATES = {
    "five-years-before-the-order": (-2 - 5 * 365, "cannot be before the test was ordered"),
    "the-day-before-the-order": (-3, "cannot be before the test was ordered"),
    "the-day-of-the-order": (-2, None),
    "today": (0, None),
    "tomorrow": (1, "The date performed cannot be in the future."),
}


def order_placed_two_days_ago(provider):
    placed = timezone.localtime().replace(hour=16, minute=0) - datetime.timedelta(days=2)
    return order_in(Status.ORDERED, ordered_by=provider, ordered_at=placed)


@pytest.mark.parametrize(("days", "refused_with"), RESULT_DATES.values(), ids=RESULT_DATES)
def test_the_date_performed_lies_between_the_order_and_today(
    condition, provider, clock, days, refused_with
):
    order = order_placed_two_days_ago(provider)
    performed = timezone.localdate() + datetime.timedelta(days=days)

    def record():
        return orders.record_result(
            order=order, actor=Actor.for_user(provider), text="Normal.", performed_on=performed
        )

    if refused_with is None:
        assert record().performed_on == performed
        assert TestOrder.objects.get(pk=order.pk).status == Status.RESULTED
    else:
        with pytest.raises(ValidationError) as refused:
            record()
        assert list(refused.value.message_dict) == ["performed_on"]
        assert refused_with in refused.value.message_dict["performed_on"][0]
        assert TestOrder.objects.get(pk=order.pk).status == Status.ORDERED
        assert not AuditEvent.objects.exists()


def test_a_date_performed_before_the_order_names_the_order_date(condition, provider, clock):
    order = order_placed_two_days_ago(provider)
    ordered_on = timezone.localdate() - datetime.timedelta(days=2)

    with pytest.raises(ValidationError) as refused:
        orders.record_result(
            order=order,
            actor=Actor.for_user(provider),
            text="Normal.",
            performed_on=datetime.date(2019, 5, 1),
        )

    assert refused.value.message_dict["performed_on"] == [
        f"The date performed cannot be before the test was ordered ({ordered_on:%-d %B %Y})."
    ]


def test_a_result_recorded_the_moment_the_test_was_ordered_is_accepted(visit, provider, clock):
    order = place(visit, provider)

    resulted = orders.record_result(order=order, actor=Actor.for_user(provider), text="Normal.")

    assert resulted.resulted_at == order.ordered_at == clock.now


@pytest.mark.parametrize(
    ("moved", "message"),
    [
        ({"seconds": -1}, "A result cannot be recorded before the test was ordered."),
        ({"minutes": 1}, "A result cannot be recorded in the future."),
    ],
    ids=["before-the-order", "in-the-future"],
)
def test_an_order_refuses_a_result_time_before_the_order_or_in_the_future(
    condition, provider, clock, moved, message
):
    # Placed as the clock stands (the model's default reads the real clock, not this one).
    order = order_in(Status.RESULTED, ordered_by=provider, ordered_at=clock.now)
    order.resulted_at = clock.now + datetime.timedelta(**moved)

    with pytest.raises(ValidationError) as refused:
        order.full_clean()

    assert refused.value.message_dict == {"resulted_at": [message]}


def test_the_database_refuses_a_result_time_before_the_order(condition, provider):
    order = order_in(Status.RESULTED, ordered_by=provider)

    with pytest.raises(IntegrityError), transaction.atomic():
        TestOrder.objects.filter(pk=order.pk).update(
            resulted_at=order.ordered_at - datetime.timedelta(days=400)
        )


def test_a_result_value_too_big_to_store_is_refused_before_the_database(condition, provider):
    order = order_in(Status.ORDERED, ordered_by=provider)

    with pytest.raises(ValidationError) as refused:
        orders.record_result(
            order=order,
            actor=Actor.for_user(provider),
            text="",
            value=Decimal("123456789.5"),
            unit="cells/uL",
        )

    assert "result_value" in refused.value.message_dict
    assert TestOrder.objects.get(pk=order.pk).status == Status.ORDERED


def test_the_reviewer_signs_off_with_a_comment(condition, provider, colleague):
    order = order_in(Status.RESULTED, ordered_by=provider)

    with pytest.raises(ValidationError, match="Sign off the result with a comment"):
        orders.review_result(order=order, actor=Actor.for_user(colleague), comment=" ")
    orders.review_result(
        order=order, actor=Actor.for_user(colleague), comment=" Benign; reassured. "
    )

    order.refresh_from_db()
    assert (order.status, order.review_comment, order.reviewed_by) == (
        "reviewed",
        "Benign; reassured.",
        colleague,
    )


def test_an_addendum_needs_text(condition, provider):
    order = order_in(Status.REVIEWED, ordered_by=provider)

    with pytest.raises(ValidationError, match="An addendum needs some text"):
        orders.add_addendum(order=order, actor=Actor.for_user(provider), text=" \n")

    assert not OrderAddendum.objects.exists()


# The worklist question


def test_awaiting_review_lists_resulted_orders_on_my_visits_or_that_i_ordered(
    condition, provider, colleague
):
    my_visit = VisitFactory(condition=condition, provider=provider)
    on_my_visit = order_in(Status.RESULTED, visit=my_visit, ordered_by=colleague)
    i_ordered = order_in(Status.RESULTED, ordered_by=provider)
    order_in(Status.RESULTED, ordered_by=colleague)  # a colleague's, on no visit of mine
    for status in (Status.ORDERED, Status.SCHEDULED, Status.REVIEWED, Status.CANCELLED):
        order_in(status, visit=my_visit, ordered_by=provider)

    awaiting = TestOrder.objects.awaiting_review(provider)

    assert sorted(awaiting, key=lambda order: order.pk) == [on_my_visit, i_ordered]


# The printable visit summary and requisitions


def print_page(visit):
    return reverse("intake:visit-print", args=[visit.pk])


def test_the_print_page_has_a_summary_and_one_requisition_page_per_active_order(
    client, provider, flagged_visit, sign_in
):
    emg = place(
        flagged_visit, provider, "emg", side="left", limb="leg", priority="urgent", notes="Calf."
    )
    place(flagged_visit, provider, "mri-spine", body_site="cervical-spine")
    orders.cancel_order(
        order=place(flagged_visit, provider, "ct-brain"),
        actor=Actor.for_user(provider),
        reason="Not needed.",
    )
    sign_in(client, provider)

    response = client.get(print_page(flagged_visit))

    pages = printed_pages(response)
    assert len(pages) == 3
    summary, *requisitions = pages
    first, second = sorted(requisitions, key=lambda page: "MRI" in page)
    assert "Visit summary" in summary
    assert "Reports weakness" in summary
    assert "Do you have any of these other symptoms?" in summary
    assert "CT scan of the brain" not in response.text  # cancelled: nothing to print
    for page in pages:
        assert "Mara Lindqvist" in page
        assert flagged_visit.patient.mrn in page
    assert "<strong>Electromyogram (EMG)</strong> · CPT 95860" in first
    assert "Urgent" in first
    assert "Calf." in first
    assert emg.reason in first
    assert f"<td>{emg.pk}</td>" in first
    assert "MRI scan of the spine" in second
    assert "Cervical spine (neck)" in second


def printed_pages(response):
    return re.findall(r'<section class="print-page[^"]*">(.*?)</section>', response.text, re.S)


def test_every_printed_page_carries_the_clinic_and_the_reason_code(
    client, provider, visit, sign_in, settings
):
    settings.CLINIC_NAME = "Lakeside Nerve & Muscle Clinic"
    settings.CLINIC_ADDRESS = "9 Harbour Street, Port Ellen"
    settings.CLINIC_PHONE = "555-0199"
    place(visit, provider, "emg", side="right", limb="leg")
    place(visit, provider, "thyroid-function")
    sign_in(client, provider)

    pages = printed_pages(client.get(print_page(visit)))

    assert len(pages) == 3
    for page in pages:
        assert "Lakeside Nerve &amp; Muscle Clinic" in page
        assert "9 Harbour Street, Port Ellen" in page
        assert "Phone 555-0199" in page
        assert '<span class="reason-code">R25.3</span> Fasciculation (ICD-10-CM)' in page


def test_a_requisition_says_the_side_and_limb_or_the_region(client, provider, visit, sign_in):
    place(visit, provider, "nerve-conduction-studies", side="both", limb="arm")
    place(visit, provider, "mri-spine", body_site="thoracic-spine")
    sign_in(client, provider)

    summary, *requisitions = printed_pages(client.get(print_page(visit)))

    nerves, mri = sorted(requisitions, key=lambda page: "MRI" in page)
    assert '<th scope="row">Side</th><td>Both sides</td>' in nerves
    assert '<th scope="row">Limb</th><td>Arm</td>' in nerves
    assert '<th scope="row">Region</th>' not in nerves
    assert '<th scope="row">Region</th><td>Thoracic spine (upper back)</td>' in mri
    assert '<th scope="row">Side</th>' not in mri
    assert "Nerve conduction studies (Both arms)" in summary


def test_the_results_so_far_are_printed_and_done_tests_get_no_requisition(
    client, provider, visit, sign_in, clock
):
    actor = Actor.for_user(provider)
    potassium = place(visit, provider, "electrolytes-panel")
    orders.record_result(
        order=potassium,
        actor=actor,
        text="Potassium low.",
        value=Decimal("3.10"),
        unit="mmol/L",
        abnormal=True,
        performed_on=timezone.localdate(),
    )
    emg = place(visit, provider, "emg", side="left", limb="leg")
    orders.record_result(order=emg, actor=actor, text="Benign fasciculations in the left calf.")
    orders.review_result(order=emg, actor=actor, comment="Reassured.")
    place(visit, provider, "thyroid-function")
    sign_in(client, provider)

    summary, *requisitions = printed_pages(client.get(print_page(visit)))

    assert len(requisitions) == 1
    assert "Thyroid function (TSH)" in requisitions[0]
    for page in (summary, requisitions[0]):
        rows = re.findall(
            r"<tr>\s*<td>(.*?)</td>\s*<td>(.*?)</td>\s*<td>(.*?)</td>",
            page.split("Results so far")[1],
            re.S,
        )
        assert rows == [
            (
                "Electrolytes panel",
                timezone.localdate().strftime("%-d %b %Y"),
                "Potassium low.<br>3.1 mmol/L <strong>(abnormal)</strong>",
            ),
            ("Electromyogram (EMG) (Left leg)", "—", "Benign fasciculations in the left calf."),
        ]
    assert "Reassured." in summary
    assert "Not yet reviewed" in summary


def test_the_print_button_prints_through_a_script_file(client, provider, visit, sign_in):
    sign_in(client, provider)

    response = client.get(print_page(visit))

    assert '<button type="button" class="btn btn-primary" data-print>Print</button>' in (
        response.text
    )
    assert '<script src="/static/js/print.js" defer></script>' in response.text
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", response.text)  # no inline script
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_the_print_page_uses_the_print_stylesheet(client, provider, visit, sign_in):
    sign_in(client, provider)

    response = client.get(print_page(visit))

    assert '<link rel="stylesheet" href="/static/css/print.css">' in response.text


def test_the_print_page_is_for_staff_who_may_see_orders(client, visit, front_desk, editor):
    assert client.get(print_page(visit)).status_code == 302  # to sign in
    client.force_login(editor)
    assert client.get(print_page(visit)).status_code == 403
    client.force_login(front_desk)
    assert client.get(print_page(visit)).status_code == 200


def test_the_staff_visit_page_shows_where_each_test_is_done(desk_client, provider, visit):
    place(visit, provider, "nerve-conduction-studies", side="both", limb="arm")
    place(visit, provider, "ct-spine", body_site="lumbar-spine")

    response = desk_client.get(visit.get_absolute_url())

    cells = re.findall(r"<td>([^<]*\(.*?\))</td>", response.text)
    assert sorted(cells) == [
        "CT scan of the spine (Lumbar spine (lower back))",
        "Nerve conduction studies (Both arms)",
    ]


def test_front_desk_reach_the_print_page_from_the_visit_page(desk_client, visit):
    TestOrderFactory(visit=visit)

    response = desk_client.get(visit.get_absolute_url())

    assert f'href="{print_page(visit)}"' in response.text


def test_the_print_page_runs_as_many_queries_for_six_orders_as_for_one(
    client, provider, colleague, visit, sign_in
):
    sign_in(client, provider)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(print_page(visit)).status_code == 200
        return len(captured)

    place(visit, provider, "emg", side="both", limb="leg")
    one = queries()
    place(visit, provider, "nerve-conduction-studies", side="right", limb="arm")
    for slug in ("thyroid-function", "ct-brain", "mri-brain"):
        place(visit, provider, slug)
    place(visit, provider, "ct-spine", body_site="whole-spine")
    # Results by two people, one reviewed by a third: still no query per order.
    resulted, reviewed = visit.test_orders.filter(test__kind="imaging")[:2]
    orders.record_result(order=resulted, actor=Actor.for_user(provider), text="Normal.")
    orders.record_result(order=reviewed, actor=Actor.for_user(colleague), text="Normal.")
    orders.review_result(order=reviewed, actor=Actor.for_user(provider), comment="Fine.")

    assert queries() == one


def test_a_test_added_to_the_draft_is_orderable_on_visits_opened_after_it_is_published(
    visit, provider, condition, editor
):
    sleep_study = OrderableTest.objects.create(slug="sleep-study", name="Sleep study", kind="other")
    condition.tests.add(sleep_study)
    actor = Actor.for_user(provider)

    with pytest.raises(ValidationError, match="Sleep study is not in the test catalog"):
        orders.place_order(visit=visit, test=sleep_study, actor=actor, reason="Tired.")
    publish(condition, by=editor)
    with pytest.raises(ValidationError, match="Sleep study is not in the test catalog"):
        orders.place_order(visit=visit, test=sleep_study, actor=actor, reason="Tired.")
    later = VisitFactory(condition=condition, patient=visit.patient, scheduled_at=at_today(11))

    order = orders.place_order(visit=later, test=sleep_study, actor=actor, reason="Tired.")

    assert order.test == sleep_study
