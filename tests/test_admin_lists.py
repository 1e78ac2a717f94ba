"""The admin's long lists (visits, test orders, the audit trail): what they cost as the
clinic's years of records pile up. No query reads every row to draw a filter or count."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit import trail
from audit.actors import Actor
from audit.models import AuditEvent
from intake.models import Visit
from intake.paginators import EstimatedCountPaginator

from .factories import TestOrderFactory, UserFactory, VisitFactory
from .test_order_admin import colleague

__all__ = ["colleague"]  # a fixture these tests use

VISITS = "/admin/intake/visit/"
ORDERS = "/admin/intake/testorder/"
EVENTS = "/admin/audit/auditevent/"


@pytest.fixture
def clinic_admin_client(client, clinic_admin, sign_in):
    return sign_in(client, clinic_admin)


def queries_of(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return response, [query["sql"] for query in captured]


def reads_every_row(sql):
    return "DISTINCT" in sql or "DATE_TRUNC" in sql.upper() or "django_datetime_trunc" in sql


@pytest.mark.parametrize(
    ("url", "add"),
    [
        (VISITS, lambda provider, condition: VisitFactory(condition=condition, provider=provider)),
        (ORDERS, lambda provider, condition: TestOrderFactory(ordered_by=provider)),
    ],
    ids=["visits", "orders"],
)
def test_a_clinical_list_costs_the_same_queries_for_more_records_and_none_reads_them_all(
    provider_client, provider, condition, url, add
):
    add(provider, condition)
    _, few = queries_of(provider_client, url)
    for _ in range(8):
        add(provider, condition)

    response, more = queries_of(provider_client, url)

    assert len(more) == len(few)
    assert [sql for sql in more if reads_every_row(sql)] == []
    assert len(response.context["cl"].result_list) == 9


def test_the_audit_list_costs_the_same_queries_for_more_events_and_none_reads_them_all(
    clinic_admin_client,
):
    _, few = queries_of(clinic_admin_client, EVENTS)
    for _ in range(8):
        trail.record(
            action=AuditEvent.Action.VIEW, record_type="intake:today", actor=Actor.system()
        )

    _, more = queries_of(clinic_admin_client, EVENTS)

    assert len(more) == len(few)
    assert [sql for sql in more if reads_every_row(sql)] == []


def test_the_provider_filters_offer_the_provider_role_not_whoever_the_rows_name(
    provider_client, provider, colleague, condition
):
    VisitFactory(condition=condition, provider=provider)
    TestOrderFactory(ordered_by=provider)
    UserFactory(username="fran.frontdesk.too")  # not a provider: never offered

    for url, title in ((VISITS, "provider"), (ORDERS, "ordered by")):
        changelist = provider_client.get(url).context["cl"]
        spec = next(s for s in changelist.filter_specs if s.title == title)
        # The colleague has no visit or order yet, and is offered all the same.
        assert {label for _, label in spec.lookup_choices} == {"pat.provider", "rita.reviewer"}

    response = provider_client.get(VISITS, {"provider__id__exact": colleague.pk})
    assert list(response.context["cl"].result_list) == []


def test_the_audit_list_filters_by_record_type_and_day_without_reading_the_trail(
    clinic_admin_client,
):
    trail.record(action=AuditEvent.Action.VIEW, record=Visit, actor=Actor.system())
    trail.record(action=AuditEvent.Action.VIEW, record_type="intake:today", actor=Actor.system())

    changelist = clinic_admin_client.get(EVENTS).context["cl"]
    titles = [spec.title for spec in changelist.filter_specs]
    visits = clinic_admin_client.get(EVENTS, {"record_type": "intake.visit"}).context["cl"]

    assert titles == ["action", "record type", "at"]
    assert [event.record_type for event in visits.result_list] == ["intake.visit"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's statistics")
def test_an_unfiltered_list_of_a_big_table_shows_postgresqls_estimate(
    provider_client, condition, monkeypatch
):
    VisitFactory.create_batch(3, condition=condition)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE intake_visit")
    monkeypatch.setattr(EstimatedCountPaginator, "EXACT_BELOW", 1)
    VisitFactory.create_batch(2, condition=condition)  # since the statistics were taken

    unfiltered = provider_client.get(VISITS).context["cl"]
    filtered = provider_client.get(VISITS, {"status__exact": "scheduled"}).context["cl"]

    assert unfiltered.result_count == 3  # what ANALYZE saw, not a COUNT(*)
    assert filtered.result_count == 5
    assert unfiltered.full_result_count is None  # show_full_result_count = False


def test_a_small_or_filtered_list_is_counted_exactly(provider_client, condition):
    VisitFactory.create_batch(3, condition=condition)
    VisitFactory(condition=condition, status=Visit.Status.CANCELLED, cancel_reason="Unwell")

    unfiltered = provider_client.get(VISITS).context["cl"]
    filtered = provider_client.get(VISITS, {"status__exact": "cancelled"}).context["cl"]

    assert (unfiltered.result_count, filtered.result_count) == (4, 1)
