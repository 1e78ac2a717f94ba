"""The provider's order form: tests suggested on the review page, chosen in one press,
placed as one line each through intake.orders."""

import pytest

from audit.models import AuditEvent
from conditions.models import OrderableTest
from intake.models import TestOrder, Visit

from .factories import TestOrderFactory


@pytest.fixture(autouse=True)
def half_past_ten(clock):
    return clock


def catalog_tests(visit, *slugs):
    return [visit.condition.tests.get(slug=slug) for slug in slugs]


def order_url(visit, *tests):
    query = "&".join(f"test={test.pk}" for test in tests)
    return f"/staff/visits/{visit.pk}/orders/new/" + (f"?{query}" if query else "")


def line_data(count, lines=None):
    """The form's POST: `count` lines, ordered with a reason each unless `lines` (index ->
    fields) says otherwise."""
    lines = lines or {}
    data = {"form-TOTAL_FORMS": count, "form-INITIAL_FORMS": 0}
    for index in range(count):
        fields = {"include": "on", "priority": "routine", "reason": "Twitching", "notes": ""}
        fields.update(lines.get(index, {}))
        data.update({f"form-{index}-{name}": value for name, value in fields.items() if value})
    return data


def last_message(response):
    return [str(message) for message in response.context["messages"]][-1]


# Suggestions


def test_the_page_suggests_the_conditions_usual_tests_and_imaging_for_its_red_flags(
    provider_client, flagged_visit
):
    response = provider_client.get(f"/staff/visits/{flagged_visit.pk}/review/")

    suggested = {
        suggestion.test.slug: (suggestion.usual, suggestion.reasons)
        for suggestion, _ in response.context["suggestions"]
    }
    assert suggested == {
        "blood-chemistry-panel": (True, []),
        "electrolytes-panel": (True, []),
        "thyroid-function": (True, []),
        "emg": (True, []),
        "nerve-conduction-studies": (True, []),
        "mri-spine": (False, ["Reports loss of or change in sensation", "Reports weakness"]),
        "mri-brain": (False, ["Reports weakness"]),
    }
    assert "red flag: Reports loss of or change in sensation; Reports weakness" in response.text


def test_a_visit_without_red_flags_gets_only_the_usual_tests(provider_client, visit, intake_data):
    provider_client.post(f"/staff/visits/{visit.pk}/intake/", intake_data(visit))

    response = provider_client.get(f"/staff/visits/{visit.pk}/review/")

    slugs = [suggestion.test.slug for suggestion, _ in response.context["suggestions"]]
    assert "mri-spine" not in slugs
    assert "emg" in slugs


def test_a_test_already_ordered_is_shown_as_such_and_not_ticked(
    provider_client, provider, flagged_visit
):
    TestOrderFactory(visit=flagged_visit, ordered_by=provider)  # an EMG

    response = provider_client.get(f"/staff/visits/{flagged_visit.pk}/review/")

    ordered = [s.test.slug for s, already in response.context["suggestions"] if already]
    assert ordered == ["emg"]
    emg = OrderableTest.objects.get(slug="emg")
    assert f'name="test" value="{emg.pk}"' not in response.text


def test_the_suggestions_form_opens_the_order_form_with_those_tests_chosen(
    provider_client, flagged_visit
):
    emg, mri = catalog_tests(flagged_visit, "emg", "mri-spine")

    response = provider_client.get(order_url(flagged_visit, emg, mri))

    assert response.status_code == 200
    assert [line.test for line in response.context["formset"]] == [mri, emg]
    assert "Part of the spine" in response.text  # only the spine scan's line asks
    assert response.text.count("Part of the spine") == 1


# Placing orders


def test_the_order_form_places_one_order_per_line_through_the_workflow(
    provider_client, provider, flagged_visit
):
    emg, ncs, mri = catalog_tests(flagged_visit, "emg", "nerve-conduction-studies", "mri-spine")
    # In the catalog's order: MRI (imaging), then EMG and nerve conduction.
    data = line_data(
        3,
        {
            0: {"body_site": "lumbar-spine", "priority": "urgent"},
            1: {"side": "left", "limb": "leg"},
            2: {"include": ""},
        },
    )

    response = provider_client.post(order_url(flagged_visit, emg, ncs, mri), data, follow=True)

    placed = TestOrder.objects.order_by("test__name")
    assert [(o.test, o.body_site, o.side, o.limb, o.priority) for o in placed] == [
        (emg, "", "left", "leg", "routine"),
        (mri, "lumbar-spine", "", "", "urgent"),
    ]
    assert {order.ordered_by for order in placed} == {provider}
    assert last_message(response) == (
        "Placed 2 orders: MRI scan of the spine, Electromyogram (EMG)."
    )
    assert AuditEvent.objects.filter(record_type="intake.testorder", action="create").count() == 2


def test_a_spine_scan_without_the_part_of_the_spine_places_nothing_and_keeps_the_input(
    provider_client, flagged_visit
):
    emg, mri = catalog_tests(flagged_visit, "emg", "mri-spine")
    data = line_data(2, {1: {"notes": "Needle EMG both legs"}})

    response = provider_client.post(order_url(flagged_visit, emg, mri), data)

    assert response.status_code == 400
    assert "MRI scan of the spine: Part of the spine: Say which part of the spine" in response.text
    assert "Needle EMG both legs" in response.text
    assert not TestOrder.objects.exists()


def test_an_emg_without_side_and_limb_places_nothing_and_says_so_beside_each_field(
    provider_client, flagged_visit
):
    emg, ncs = catalog_tests(flagged_visit, "emg", "nerve-conduction-studies")
    data = line_data(2, {0: {"side": "right", "limb": "arm"}, 1: {"side": "both"}})

    response = provider_client.post(order_url(flagged_visit, emg, ncs), data)

    assert response.status_code == 400
    emg_line, ncs_line = response.context["formset"].forms
    assert not emg_line.errors
    assert ncs_line.errors == {"limb": ["Say which limb: arm or leg."]}
    assert not TestOrder.objects.exists()
    response = provider_client.post(order_url(flagged_visit, emg), line_data(1))
    assert response.context["formset"].forms[0].errors == {
        "side": ["Say which side: left, right or both."],
        "limb": ["Say which limb: arm or leg."],
    }


def test_a_line_without_a_reason_is_refused(provider_client, flagged_visit):
    (emg,) = catalog_tests(flagged_visit, "emg")

    response = provider_client.post(
        order_url(flagged_visit, emg), line_data(1, {0: {"reason": " "}})
    )

    assert response.status_code == 400
    assert "Give the clinical indication." in response.text
    assert not TestOrder.objects.exists()


def test_unticking_every_line_places_nothing(provider_client, flagged_visit):
    (emg,) = catalog_tests(flagged_visit, "emg")

    response = provider_client.post(
        order_url(flagged_visit, emg), line_data(1, {0: {"include": ""}})
    )

    assert response.status_code == 400
    assert "Tick at least one test to order." in response.text
    assert not TestOrder.objects.exists()


def test_with_no_test_chosen_the_form_offers_the_catalog(provider_client, flagged_visit):
    response = provider_client.get(order_url(flagged_visit))

    assert response.status_code == 200
    assert [name for _, name in response.context["form"].fields["test"].choices][:1] == [
        "Blood chemistry (comprehensive metabolic panel)"
    ]
    assert len(response.context["form"].fields["test"].choices) == 9


def test_an_unknown_test_id_is_refused_with_a_message(provider_client, flagged_visit):
    for query, message in [
        ("test=999999", "There is no test number “999999”."),
        ("test=abc", "There is no test number “abc”."),
    ]:
        response = provider_client.get(f"/staff/visits/{flagged_visit.pk}/orders/new/?{query}")
        assert response.status_code == 400, query
        assert message in response.text, query


def test_a_test_outside_the_conditions_catalog_is_refused(provider_client, flagged_visit):
    other = OrderableTest.objects.create(slug="hba1c", name="HbA1c", kind="blood")

    response = provider_client.get(order_url(flagged_visit, other))
    assert response.status_code == 400
    assert "HbA1c is not in the test catalog for Muscle twitches." in response.text

    response = provider_client.post(order_url(flagged_visit, other), line_data(1))
    assert response.status_code == 400
    assert not TestOrder.objects.exists()


def test_tests_on_a_closed_visit_are_refused(provider_client, flagged_visit):
    Visit.objects.filter(pk=flagged_visit.pk).update(status=Visit.Status.CLOSED)
    (emg,) = catalog_tests(flagged_visit, "emg")

    response = provider_client.post(order_url(flagged_visit, emg), line_data(1), follow=True)

    assert last_message(response) == "Tests cannot be ordered on a closed visit."
    assert not TestOrder.objects.exists()


def test_a_visit_closed_while_the_form_was_open_places_none_of_the_orders(
    provider_client, flagged_visit, monkeypatch
):
    """The workflow's own refusal (here: the visit closed between the page's check and
    the lock) comes back on the form with the input kept."""
    emg, ncs = catalog_tests(flagged_visit, "emg", "nerve-conduction-studies")
    real_accepts = Visit.accepts_orders
    calls = []

    def accepts_until_locked(self):
        calls.append(1)
        return len(calls) == 1 and real_accepts.fget(self)

    monkeypatch.setattr(Visit, "accepts_orders", property(accepts_until_locked))

    response = provider_client.post(
        order_url(flagged_visit, emg, ncs),
        line_data(
            2,
            {
                0: {"side": "left", "limb": "arm"},
                1: {"side": "both", "limb": "arm", "notes": "Arms only"},
            },
        ),
    )

    assert response.status_code == 400
    assert "No orders were placed." in response.text
    assert "Arms only" in response.text
    assert not TestOrder.objects.exists()
