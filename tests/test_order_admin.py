"""Test orders in the providers' admin: placed from the visit's page, worked from the order
worklist (filters, search, bulk actions), resulted, reviewed and added to on each order's
page; who may do what; query counts that do not grow with the rows."""

import datetime
import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.actors import Actor
from audit.models import AuditEvent
from conditions.models import HistoryQuestion
from intake import orders
from intake.models import OrderAddendum, TestOrder, Visit
from intake.roles import PROVIDER

from .factories import PatientFactory, TestOrderFactory, UserFactory, VisitFactory

VISITS = reverse("admin:intake_visit_changelist")
ORDERS = reverse("admin:intake_testorder_changelist")
EMG = "Electromyogram (EMG)"
NCS = "Nerve conduction studies"


def visit_page(visit):
    return reverse("admin:intake_visit_change", args=[visit.pk])


def order_page(order):
    return reverse("admin:intake_testorder_change", args=[order.pk])


def page_data(response):
    """What the browser posts back from an admin change page when nothing is touched."""
    form = response.context["adminform"].form
    data = {field.html_name: field.value() for field in form}
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        data |= {field.html_name: field.value() for field in formset.management_form}
        for row in formset.initial_forms:
            data |= {row.add_prefix(name): row[name].value() for name in ("id", formset.fk.name)}
    data["_save"] = "Save"
    return {name: "" if value is None else value for name, value in data.items()}


def with_new_orders(data, *rows):
    """The page's data with new rows in the orders inline, as "Add another" makes them."""
    data = dict(data)
    total = int(data["test_orders-TOTAL_FORMS"])
    for index, row in enumerate(rows, start=total):
        fields = {
            "priority": "routine",
            "body_site": "",
            "side": "",
            "limb": "",
            "notes": "",
            **row,
        }
        data |= {f"test_orders-{index}-{name}": value for name, value in fields.items()}
    data["test_orders-TOTAL_FORMS"] = total + len(rows)
    return data


def catalog_pk(visit, slug):
    return visit.condition.tests.get(slug=slug).pk


def messages_in(response):
    return [str(message) for message in response.context["messages"]]


@pytest.fixture
def colleague(db):
    user = UserFactory(username="rita.reviewer", first_name="Rita", is_staff=True)
    user.groups.add(Group.objects.get(name=PROVIDER))
    return user


# The visit's page: intake at the top, then the orders


def test_the_visit_page_shows_patient_answers_and_red_flags_above_the_orders(
    provider_client, flagged_visit
):
    response = provider_client.get(visit_page(flagged_visit))

    html = response.text
    orders_at = html.index('id="test_orders-group"')
    for shown in (
        "<strong>Mara Lindqvist</strong> · record number " + flagged_visit.patient.mrn,
        "Do you have any of these other symptoms?",
        "Loss of feeling, or a change in how things feel, Weakness",
        "<strong>Reports weakness</strong>: Answered “Weakness” to “Do you have any of",
        "<strong>Twitching for more than a few days (long-term)</strong>",
    ):
        assert 0 < html.index(shown) < orders_at, shown


def test_the_visit_page_shows_answers_in_the_wording_the_patient_was_asked(
    provider_client, flagged_visit
):
    HistoryQuestion.objects.filter(key="same-place").update(wording="Same spot each time?")

    response = provider_client.get(visit_page(flagged_visit))

    assert "Is the twitching always in the same place?" in response.text
    assert "Same spot each time?" not in response.text


def test_a_new_order_row_has_the_red_flags_as_its_reason(provider_client, flagged_visit):
    response = provider_client.get(visit_page(flagged_visit))

    empty_row = response.context["inline_admin_formsets"][0].formset.empty_form
    assert empty_row["reason"].value() == (
        "Reports loss of or change in sensation; Reports weakness; "
        "Twitching for more than a few days (long-term)"
    )


def test_without_red_flags_a_new_order_row_has_no_reason_yet(provider_client, visit):
    response = provider_client.get(visit_page(visit))

    assert response.context["inline_admin_formsets"][0].formset.empty_form["reason"].value() in (
        None,
        "",
    )


def test_a_new_order_row_offers_only_the_visit_conditions_tests(provider_client, visit):
    response = provider_client.get(visit_page(visit))

    choices = response.context["inline_admin_formsets"][0].formset.empty_form["test"]
    offered = {label for value, label in choices.field.choices if value}
    assert offered == {test.name for test in visit.condition.tests.all()}
    assert len(offered) == 9


def test_a_provider_places_several_orders_in_one_save(provider_client, provider, flagged_visit):
    data = page_data(provider_client.get(visit_page(flagged_visit)))
    reason = "Weakness and long-term twitching"

    response = provider_client.post(
        visit_page(flagged_visit),
        with_new_orders(
            data,
            {
                "test": catalog_pk(flagged_visit, "emg"),
                "side": "both",
                "limb": "leg",
                "priority": "urgent",
                "reason": reason,
            },
            {
                "test": catalog_pk(flagged_visit, "nerve-conduction-studies"),
                "side": "left",
                "limb": "leg",
                "reason": reason,
            },
            {
                "test": catalog_pk(flagged_visit, "mri-spine"),
                "body_site": "lumbar-spine",
                "reason": reason,
                "notes": "Claustrophobic.",
            },
        ),
        follow=True,
    )

    assert response.redirect_chain == [(VISITS, 302)]
    assert "Placed 3 order(s)." in messages_in(response)
    placed = flagged_visit.test_orders.order_by("id")
    assert [
        (order.test_name, order.priority, order.site_display, order.status, order.ordered_by)
        for order in placed
    ] == [
        (EMG, "urgent", "Both legs", "ordered", provider),
        (NCS, "routine", "Left leg", "ordered", provider),
        ("MRI scan of the spine", "routine", "Lumbar spine (lower back)", "ordered", provider),
    ]
    assert {order.reason for order in placed} == {reason}
    assert AuditEvent.objects.filter(action="create", record_type="intake.testorder").count() == 3


def test_a_row_left_as_offered_places_no_order(provider_client, flagged_visit):
    response = provider_client.get(visit_page(flagged_visit))
    untouched = response.context["inline_admin_formsets"][0].formset.empty_form
    data = page_data(response)

    provider_client.post(
        visit_page(flagged_visit),
        with_new_orders(
            data,
            {
                "test": catalog_pk(flagged_visit, "emg"),
                "side": "left",
                "limb": "arm",
                "reason": "Weakness",
            },
            {"test": "", "reason": untouched["reason"].value()},
        ),
    )

    assert [order.test_name for order in flagged_visit.test_orders.all()] == [EMG]


def test_one_bad_row_places_no_order_and_keeps_what_was_typed(provider_client, flagged_visit):
    data = page_data(provider_client.get(visit_page(flagged_visit)))

    response = provider_client.post(
        visit_page(flagged_visit),
        with_new_orders(
            data,
            {"test": catalog_pk(flagged_visit, "emg"), "reason": "Calves twitching, weak"},
            {"test": catalog_pk(flagged_visit, "mri-spine"), "reason": "Back pain too"},
        ),
    )

    assert response.status_code == 200
    assert "Say which part of the spine to scan." in response.text
    assert "Calves twitching, weak</textarea>" in response.text
    assert not TestOrder.objects.exists()


def row_errors(response):
    """The orders inline's errors, row by row: {field: [messages]} for each new row."""
    formset = response.context["inline_admin_formsets"][0].formset
    return [dict(form.errors) for form in formset.extra_forms]


def test_an_emg_without_side_and_limb_is_refused_beside_those_fields(
    provider_client, flagged_visit
):
    data = page_data(provider_client.get(visit_page(flagged_visit)))

    response = provider_client.post(
        visit_page(flagged_visit),
        with_new_orders(
            data,
            {"test": catalog_pk(flagged_visit, "emg"), "reason": "Calves twitching, weak"},
            {
                "test": catalog_pk(flagged_visit, "thyroid-function"),
                "side": "left",
                "limb": "",
                "reason": "Tired",
            },
        ),
    )

    assert response.status_code == 200
    emg_row, thyroid_row = row_errors(response)
    assert emg_row == {
        "side": ["Say which side: left, right or both."],
        "limb": ["Say which limb: arm or leg."],
    }
    assert thyroid_row == {
        "side": ["Thyroid function (TSH) is not done on one side; leave the side empty."]
    }
    assert "Calves twitching, weak</textarea>" in response.text
    assert not TestOrder.objects.exists()


def test_a_side_the_page_did_not_offer_is_refused(provider_client, flagged_visit):
    data = page_data(provider_client.get(visit_page(flagged_visit)))

    response = provider_client.post(
        visit_page(flagged_visit),
        with_new_orders(
            data,
            {
                "test": catalog_pk(flagged_visit, "emg"),
                "side": "<script>",
                "limb": "leg",
                "reason": "Weakness",
            },
        ),
    )

    assert response.status_code == 200
    assert list(row_errors(response)[0]) == ["side"]
    assert not TestOrder.objects.exists()


def test_side_limb_and_region_are_shown_on_the_visit_and_order_pages(
    provider_client, provider, visit
):
    emg = TestOrderFactory(visit=visit, ordered_by=provider, side="left", limb="arm")
    TestOrderFactory(
        visit=visit,
        ordered_by=provider,
        test=visit.condition.tests.get(slug="mri-spine"),
        body_site="cervical-spine",
    )

    visit_admin = provider_client.get(visit_page(visit)).text
    order_admin = provider_client.get(order_page(emg))

    shown = {
        (field, re.sub(r"\s+", " ", value).strip())
        for field, value in re.findall(
            r'<td class="field-(body_site|side|limb)">\s*<p>(.*?)</p>', visit_admin
        )
    }
    assert shown == {
        ("body_site", "-"),
        ("side", "Left"),
        ("limb", "Arm"),
        ("body_site", "Cervical spine (neck)"),
        ("side", "-"),
        ("limb", "-"),
    }
    fields = {
        line.field["name"]: line.contents()
        for fieldset in order_admin.context["adminform"]
        for row in fieldset
        for line in row
        if line.is_readonly
    }
    assert (fields["side"], fields["limb"]) == ("Left", "Arm")
    worklist = provider_client.get(ORDERS).text
    assert sorted(re.findall(r'<td class="field-site">(.*?)</td>', worklist)) == [
        "Cervical spine (neck)",
        "Left arm",
    ]


def test_orders_already_placed_are_read_only_on_the_visit_page(provider_client, provider, visit):
    order = TestOrderFactory(visit=visit, ordered_by=provider)
    response = provider_client.get(visit_page(visit))
    data = page_data(response)

    assert 'name="test_orders-0-reason"' not in response.text
    assert order_page(order) in response.text
    provider_client.post(
        visit_page(visit), data | {"test_orders-0-reason": "Changed", "test_orders-0-test": ""}
    )

    assert TestOrder.objects.get().reason == order.reason


@pytest.mark.parametrize("status", [Visit.Status.CLOSED, Visit.Status.CANCELLED])
def test_a_closed_or_cancelled_visit_takes_no_new_orders(provider_client, condition, status):
    visit = VisitFactory(condition=condition, status=status, cancel_reason="Moved away.")
    response = provider_client.get(visit_page(visit))
    data = page_data(response)

    assert data["test_orders-MAX_NUM_FORMS"] == 0  # the page offers no new row
    provider_client.post(
        visit_page(visit),
        with_new_orders(data, {"test": catalog_pk(visit, "emg"), "reason": "Weakness"}),
    )

    assert not TestOrder.objects.exists()


def test_the_visit_provider_is_chosen_among_providers(provider_client, provider, visit, editor):
    response = provider_client.get(visit_page(visit))

    offered = {value for value, _ in response.context["adminform"].form["provider"].field.choices}
    assert offered == {"", provider.pk}


def test_the_visit_page_links_to_the_printable_summary(provider_client, visit):
    response = provider_client.get(visit_page(visit))

    assert f'href="{reverse("intake:visit-print", args=[visit.pk])}"' in response.text


# One order's page: the result, its review, then addenda


def result_data(response, **fields):
    return page_data(response) | {
        "performed_on": "",
        "result_text": "",
        "result_value": "",
        "result_unit": "",
        "abnormal": "unknown",
        **fields,
    }


@pytest.mark.parametrize("status", ["ordered", "scheduled"])
def test_a_provider_records_a_result_on_the_order_page(
    provider_client, provider, condition, status
):
    order = TestOrderFactory(
        status=status,
        ordered_by=provider,
        ordered_at=timezone.now() - datetime.timedelta(days=2),
    )
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    response = provider_client.get(order_page(order))
    assert "Record the result" in response.text

    response = provider_client.post(
        order_page(order),
        result_data(
            response,
            performed_on=yesterday.isoformat(),
            result_text="Fasciculations in both calves; no denervation.",
            abnormal="true",
        ),
        follow=True,
    )

    assert response.redirect_chain == [(ORDERS, 302)]
    order.refresh_from_db()
    assert order.status == "resulted"
    assert (order.performed_on, order.abnormal, order.resulted_by) == (yesterday, True, provider)
    assert order.result_text == "Fasciculations in both calves; no denervation."


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "Enter the result: a text, a value, or both."),
        ({"result_value": "3.1"}, "Give the unit of the result value."),
        (
            {"result_text": "Normal.", "performed_on": "2999-01-01"},
            "The date performed cannot be in the future.",
        ),
    ],
    ids=["empty", "value-without-unit", "performed-in-the-future"],
)
def test_a_result_the_workflow_would_refuse_is_shown_on_the_form(
    provider_client, provider, condition, fields, message
):
    order = TestOrderFactory(ordered_by=provider)
    response = provider_client.get(order_page(order))

    response = provider_client.post(order_page(order), result_data(response, **fields))

    assert response.status_code == 200
    assert message in response.text
    assert messages_in(response) == []  # no "changed successfully" beside the error
    assert TestOrder.objects.get().status == "ordered"


@pytest.mark.parametrize(
    ("days", "error"),
    [
        (-4000, "The date performed cannot be before the test was ordered"),
        (-3, "The date performed cannot be before the test was ordered"),
        (1, "The date performed cannot be in the future."),
    ],
    ids=["years-before-the-order", "the-day-before-the-order", "tomorrow"],
)
def test_a_result_date_outside_the_order_and_today_is_refused_beside_the_date(
    provider_client, provider, condition, clock, days, error
):
    order = TestOrderFactory(ordered_by=provider, ordered_at=clock.now - datetime.timedelta(days=2))
    performed = timezone.localdate() + datetime.timedelta(days=days)
    response = provider_client.get(order_page(order))

    response = provider_client.post(
        order_page(order),
        result_data(
            response, performed_on=performed.isoformat(), result_text="Chronic denervation."
        ),
    )

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert [message[: len(error)] for message in form.errors["performed_on"]] == [error]
    assert list(form.errors) == ["performed_on"]
    assert "Chronic denervation.</textarea>" in response.text
    assert TestOrder.objects.get().status == "ordered"
    assert not AuditEvent.objects.filter(action="update").exists()


@pytest.mark.parametrize("days", [-2, 0], ids=["the-day-of-the-order", "today"])
def test_a_result_dated_the_day_of_the_order_or_today_is_recorded(
    provider_client, provider, condition, clock, days
):
    order = TestOrderFactory(ordered_by=provider, ordered_at=clock.now - datetime.timedelta(days=2))
    performed = timezone.localdate() + datetime.timedelta(days=days)
    response = provider_client.get(order_page(order))

    response = provider_client.post(
        order_page(order),
        result_data(response, performed_on=performed.isoformat(), result_text="Normal."),
    )

    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.status, order.performed_on, order.resulted_at) == (
        "resulted",
        performed,
        clock.now,
    )


def test_a_value_is_kept_with_its_unit(provider_client, provider, condition):
    order = TestOrderFactory(ordered_by=provider)
    response = provider_client.get(order_page(order))

    provider_client.post(
        order_page(order),
        result_data(response, result_value="3.1", result_unit="mmol/L", abnormal="true"),
    )

    order.refresh_from_db()
    assert (order.result_value, order.result_unit, order.abnormal) == (
        Decimal("3.1"),
        "mmol/L",
        True,
    )


def test_the_reviewer_sees_the_result_and_signs_it_off_with_a_comment(
    provider_client, provider, colleague, condition
):
    order = TestOrderFactory(
        resulted=True, ordered_by=colleague, result_text="Fasciculations, no denervation."
    )
    response = provider_client.get(order_page(order))
    assert "Fasciculations, no denervation." in response.text
    assert 'name="result_text"' not in response.text

    refused = provider_client.post(order_page(order), page_data(response))
    signed = provider_client.post(
        order_page(order), page_data(response) | {"review_comment": "Benign. Reassured."}
    )

    assert "Sign off the result with a comment." in refused.text
    assert signed.status_code == 302
    order.refresh_from_db()
    assert (order.status, order.reviewed_by, order.review_comment) == (
        "reviewed",
        provider,
        "Benign. Reassured.",
    )


def test_after_review_the_order_takes_only_an_addendum(provider_client, provider, condition):
    order = TestOrderFactory(reviewed=True, ordered_by=provider)
    before = TestOrder.objects.values().get()
    response = provider_client.get(order_page(order))
    assert {"result_text", "review_comment"}.isdisjoint(response.context["adminform"].form.fields)

    provider_client.post(
        order_page(order),
        page_data(response)
        | {
            "addendum": "Patient called: twitching has settled.",
            "result_text": "Rewritten",
            "review_comment": "Rewritten",
        },
    )

    assert TestOrder.objects.values().get() == before
    addendum = OrderAddendum.objects.get()
    assert (addendum.text, addendum.added_by) == (
        "Patient called: twitching has settled.",
        provider,
    )
    assert "Patient called: twitching has settled." in provider_client.get(order_page(order)).text


def test_a_cancelled_order_can_only_be_viewed(provider_client, provider, condition):
    order = TestOrderFactory(cancelled=True, ordered_by=provider)

    response = provider_client.get(order_page(order))
    posted = provider_client.post(order_page(order), {"addendum": "Hello", "step": "addendum"})

    assert response.context["title"] == "View test order"
    assert "Patient declined." in response.text
    assert posted.status_code == 403
    assert not OrderAddendum.objects.exists()


def test_a_result_recorded_by_someone_else_meanwhile_is_not_signed_off_by_mistake(
    provider_client, provider, colleague, condition
):
    order = TestOrderFactory(ordered_by=provider)
    opened = provider_client.get(order_page(order))
    orders.record_result(order=order, actor=Actor.for_user(colleague), text="Colleague's reading.")

    response = provider_client.post(
        order_page(order), result_data(opened, result_text="My reading.")
    )

    assert response.status_code == 200
    assert "Someone else changed this order while you had it open: it is now resulted." in (
        response.text
    )
    assert "Colleague&#x27;s reading." in response.text
    order.refresh_from_db()
    assert (order.status, order.result_text) == ("resulted", "Colleague's reading.")
    # The form comes back as the review it now is, and works.
    again = provider_client.post(
        order_page(order), page_data(response) | {"review_comment": "Agree with Rita."}
    )
    assert again.status_code == 302, again.context["adminform"].form.errors
    assert TestOrder.objects.get().status == "reviewed"


def test_opening_an_order_is_audited_with_its_patient(provider_client, provider, condition):
    order = TestOrderFactory(ordered_by=provider)

    provider_client.get(order_page(order))

    event = AuditEvent.objects.get(action="view")
    assert (event.record_type, event.record_id, event.patient_id, event.actor) == (
        "intake.testorder",
        order.pk,
        order.visit.patient_id,
        provider,
    )


# The worklist


@pytest.fixture
def worklist(condition, provider, colleague):
    """Four orders, each different in one way from the others."""
    mara = PatientFactory(given_name="Mara", family_name="Lindqvist")
    tests = {test.slug: test for test in condition.tests.all()}

    def order(slug, patient=None, **fields):
        return TestOrderFactory(
            visit=VisitFactory(condition=condition, patient=patient or PatientFactory()),
            test=tests[slug],
            **fields,
        )

    return {
        "emg": order("emg", mara, ordered_by=provider),
        "ncs": order(
            "nerve-conduction-studies",
            scheduled=True,
            priority="stat",
            ordered_by=colleague,
            ordered_at=timezone.now() - datetime.timedelta(days=20),
        ),
        "tsh": order(
            "thyroid-function", mara, resulted=True, priority="urgent", ordered_by=provider
        ),
        "mri": order("mri-spine", cancelled=True, body_site="whole-spine", ordered_by=colleague),
    }


def listed(response):
    return {order.test.slug.split("-")[0] for order in response.context["cl"].result_list}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", {"emg", "nerve", "thyroid", "mri"}),
        ("status__exact=scheduled", {"nerve"}),
        ("status__exact=cancelled", {"mri"}),
        ("priority__exact=stat", {"nerve"}),
        ("priority__exact=urgent", {"thyroid"}),
        ("test__kind__exact=neurophysiology", {"emg", "nerve"}),
        ("test__kind__exact=blood", {"thyroid"}),
        ("q=Lindqvist", {"emg", "thyroid"}),
        ("q=mara+lindqvist", {"emg", "thyroid"}),
    ],
)
def test_the_worklist_filters_and_searches(provider_client, worklist, query, expected):
    response = provider_client.get(f"{ORDERS}?{query}")

    assert listed(response) == expected


def test_the_worklist_finds_a_patient_by_record_number(provider_client, worklist):
    mrn = worklist["ncs"].visit.patient.mrn

    assert listed(provider_client.get(ORDERS, {"q": mrn})) == {"nerve"}
    assert listed(provider_client.get(ORDERS, {"q": mrn[:4]})) == set()  # exact numbers only


def test_the_worklist_filters_by_who_ordered(provider_client, worklist, provider, colleague):
    response = provider_client.get(ORDERS, {"ordered_by__id__exact": colleague.pk})

    assert listed(response) == {"nerve", "mri"}
    spec = next(s for s in response.context["cl"].filter_specs if s.title == "ordered by")
    assert {label for _, label in spec.lookup_choices} == {"pat.provider", "rita.reviewer"}


def test_the_worklist_filters_by_order_date(provider_client, worklist):
    changelist = provider_client.get(ORDERS).context["cl"]
    spec = next(s for s in changelist.filter_specs if s.title == "ordered at")
    past_week = next(c for c in spec.choices(changelist) if c["display"] == "Past 7 days")

    response = provider_client.get(ORDERS + past_week["query_string"])

    assert listed(response) == {"emg", "thyroid", "mri"}


def test_awaiting_my_review_lists_results_on_my_visits_or_that_i_ordered(
    provider_client, provider, colleague, worklist, condition
):
    mine = VisitFactory(condition=condition, provider=provider)
    TestOrderFactory(visit=mine, resulted=True, ordered_by=colleague, test=worklist["ncs"].test)
    TestOrderFactory(resulted=True, ordered_by=colleague, test=worklist["mri"].test)  # not mine

    response = provider_client.get(ORDERS, {"worklist": "awaiting-my-review"})

    assert sorted(order.test_name for order in response.context["cl"].result_list) == [
        NCS,
        "Thyroid function (TSH)",
    ]


def test_each_provider_has_their_own_review_list(client, colleague, worklist, condition, sign_in):
    TestOrderFactory(resulted=True, ordered_by=colleague)
    sign_in(client, colleague)

    response = client.get(ORDERS, {"worklist": "awaiting-my-review"})

    assert [order.test_name for order in response.context["cl"].result_list] == [EMG]


def test_listing_orders_is_one_audit_event_naming_the_orders_and_patients(
    provider_client, provider, worklist
):
    provider_client.get(ORDERS)

    listing = AuditEvent.objects.get(action="list", record_type="intake.testorder")
    assert listing.actor == provider
    assert listing.detail == {
        "record_ids": sorted(order.pk for order in worklist.values()),
        "patient_ids": sorted({order.visit.patient_id for order in worklist.values()}),
    }
    for order in worklist.values():
        assert listing in AuditEvent.objects.about_patient(order.visit.patient_id)


# Bulk actions follow the same rules


def act(client, action, orders_, **extra):
    return client.post(
        ORDERS,
        {"action": action, "_selected_action": [order.pk for order in orders_], **extra},
        follow=True,
    )


def test_scheduling_in_bulk_schedules_what_may_be_and_reports_the_rest(
    provider_client, provider, worklist
):
    response = act(provider_client, "schedule_selected", worklist.values())

    assert {order.test_name: order.status for order in TestOrder.objects.all()} == {
        EMG: "scheduled",
        NCS: "scheduled",
        "Thyroid function (TSH)": "resulted",
        "MRI scan of the spine": "cancelled",
    }
    assert TestOrder.objects.get(test_name=NCS).scheduled_by != provider  # already scheduled
    shown = messages_in(response)
    assert shown[0] == "1 order(s) scheduled."
    assert sorted(shown[1:]) == sorted(
        [
            f"{NCS} for {worklist['ncs'].visit.patient.mrn}: "
            "An order that is scheduled cannot become scheduled.",
            f"Thyroid function (TSH) for {worklist['tsh'].visit.patient.mrn}: "
            "An order that is resulted cannot become scheduled.",
            f"MRI scan of the spine for {worklist['mri'].visit.patient.mrn}: "
            "An order that is cancelled cannot become scheduled.",
        ]
    )


def test_cancelling_in_bulk_first_asks_for_a_reason(provider_client, worklist):
    response = act(provider_client, "cancel_selected", [worklist["emg"], worklist["tsh"]])

    assert response.status_code == 200
    assert "Reason for cancelling" in response.text
    assert f"{EMG} (Both legs): Mara Lindqvist (Ordered)" in response.text
    assert TestOrder.objects.filter(status="cancelled").count() == 1  # the MRI, from before


def test_cancelling_in_bulk_without_a_reason_asks_again(provider_client, worklist):
    response = act(
        provider_client, "cancel_selected", [worklist["emg"]], apply="1", cancel_reason="  "
    )

    assert "Give a reason for cancelling." in response.text
    assert 'aria-invalid="true"' in response.text
    assert TestOrder.objects.get(pk=worklist["emg"].pk).status == "ordered"


def test_cancelling_a_mix_cancels_only_what_may_be_and_reports_the_rest(
    provider_client, provider, worklist, condition
):
    reviewed = TestOrderFactory(reviewed=True, ordered_by=provider)
    chosen = [worklist["emg"], worklist["ncs"], reviewed]

    response = act(
        provider_client, "cancel_selected", chosen, apply="1", cancel_reason="Patient moved away."
    )

    assert response.redirect_chain == [(ORDERS, 302)]
    assert {
        order.pk: (order.status, order.cancel_reason, order.cancelled_by)
        for order in TestOrder.objects.filter(pk__in=[order.pk for order in chosen])
    } == {
        worklist["emg"].pk: ("cancelled", "Patient moved away.", provider),
        worklist["ncs"].pk: ("cancelled", "Patient moved away.", provider),
        reviewed.pk: ("reviewed", "", None),
    }
    assert messages_in(response) == [
        "2 order(s) cancelled.",
        f"{EMG} for {reviewed.visit.patient.mrn}: "
        "An order that is reviewed cannot become cancelled.",
    ]


# Who may do what


def test_front_desk_staff_have_no_admin(client, front_desk, visit):
    order = TestOrderFactory(visit=visit)
    client.force_login(front_desk)

    for url in (ORDERS, order_page(order), visit_page(visit)):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("admin:login"))


def test_front_desk_see_order_status_on_the_visit_page_but_cannot_change_it(desk_client, visit):
    TestOrderFactory(visit=visit, scheduled=True, test=visit.condition.tests.get(slug="emg"))

    response = desk_client.get(visit.get_absolute_url())

    assert "<td>Scheduled</td>" in response.text
    assert "/admin/" not in response.text
    actions = re.findall(r'<form[^>]*action="([^"]*)"', response.text)
    assert actions and not [action for action in actions if "order" in action], actions


def test_content_editors_cannot_see_or_touch_orders_in_the_admin(client, editor, visit):
    order = TestOrderFactory(visit=visit)
    client.force_login(editor)

    index = client.get(reverse("admin:index"))
    assert [app["app_label"] for app in index.context["app_list"]] == ["conditions"]
    for url in (ORDERS, order_page(order), visit_page(visit)):
        assert client.get(url).status_code == 403
    assert client.post(order_page(order), {"step": "addendum", "addendum": "x"}).status_code == 403
    assert act(client, "cancel_selected", [order], apply="1", cancel_reason="x").status_code == 403
    assert TestOrder.objects.get().status == "ordered"


# Fast at scale


def queries_for(client, url, **params):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params)
    assert response.status_code == 200
    return [query["sql"] for query in captured.captured_queries]


def make_orders(count, condition):
    for _ in range(count):
        visit = VisitFactory(
            condition=condition,
            provider=UserFactory(),
            red_flags=[{"message": "Reports weakness", "reason": "Answered"}],
        )
        TestOrderFactory(visit=visit, ordered_by=UserFactory(), resulted=True)


@pytest.mark.parametrize("url", [ORDERS, VISITS])
def test_the_changelists_run_as_many_queries_for_50_rows_as_for_5(provider_client, condition, url):
    make_orders(5, condition)
    few = queries_for(provider_client, url)
    make_orders(45, condition)
    many = queries_for(provider_client, url)

    assert len(many) == len(few), "\n".join(many)


@pytest.mark.parametrize(
    ("url", "params"),
    [
        (ORDERS, {"status__exact": "resulted"}),
        (ORDERS, {"worklist": "awaiting-my-review"}),
        (VISITS, {"status__exact": "scheduled"}),
    ],
)
def test_a_filtered_changelist_counts_only_the_filtered_rows(
    provider_client, condition, url, params
):
    make_orders(3, condition)

    counts = [sql for sql in queries_for(provider_client, url, **params) if "COUNT(" in sql]

    assert len(counts) == 1
    assert "WHERE" in counts[0]
