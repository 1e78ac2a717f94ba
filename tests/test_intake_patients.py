"""Registering patients, finding them, and the patient page."""

import datetime

import pytest
from django.db import IntegrityError, connection
from django.db.models import Q
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import AuditEvent
from intake.models import Patient, RecordNumberCounter, is_valid_record_number

from .factories import PatientFactory, VisitFactory, at_today

REGISTER = "/staff/patients/new/"
SEARCH = "/staff/patients/"


def registration(**changes):
    return {
        "given_name": "Ines",
        "family_name": "Vargas",
        "date_of_birth": "2001-06-21",
        "sex_at_birth": "female",
        "email": "ines.vargas@example.org",
        "phone": "+1 (555) 010-0199",
        **changes,
    }


# Registering


def test_registering_a_patient_gives_them_a_record_number_and_opens_their_page(desk_client):
    response = desk_client.post(REGISTER, registration(), follow=True)

    patient = Patient.objects.get()
    assert response.redirect_chain == [(f"/staff/patients/{patient.pk}/", 302)]
    assert is_valid_record_number(patient.mrn)
    assert "Patient registered with a new record number." in response.text
    assert "<h1>Ines Vargas</h1>" in response.text
    assert f'Record number</dt><dd class="col-sm-9">{patient.mrn}' in response.text
    assert (patient.given_name, patient.family_name) == ("Ines", "Vargas")
    assert patient.date_of_birth == datetime.date(2001, 6, 21)
    assert patient.sex_at_birth == "female"
    assert patient.email == "ines.vargas@example.org"
    assert patient.phone == "+1 (555) 010-0199"
    assert patient.created_by.username == "fran.frontdesk"


def test_no_patient_detail_travels_in_a_cookie(desk_client):
    response = desk_client.post(REGISTER, registration(), follow=True)

    assert "Patient registered with a new record number." in response.text
    # Messages are kept in the server-side session, not in a (readable) cookie.
    assert "messages" not in response.cookies
    assert set(desk_client.cookies) == {"sessionid", "csrftoken"}


def test_record_numbers_are_unique_with_a_check_digit_and_never_reused(db):
    first, second = PatientFactory(), PatientFactory()
    assert first.mrn != second.mrn
    assert all(is_valid_record_number(p.mrn) for p in (first, second))
    # A mistyped digit fails the check.
    assert not is_valid_record_number(first.mrn[:-1] + str((int(first.mrn[-1]) + 1) % 10))

    # Even with the newest patient's row gone, the counter does not hand its number out again.
    Patient.objects.filter(pk=second.pk).delete()
    third = PatientFactory()
    assert third.mrn not in (first.mrn, second.mrn)
    assert RecordNumberCounter.objects.get().last == 3


def test_the_database_refuses_two_patients_with_one_record_number(db):
    patient = PatientFactory()
    with pytest.raises(IntegrityError):
        Patient.objects.create(
            mrn=patient.mrn,
            given_name="Other",
            family_name="Person",
            date_of_birth=datetime.date(1990, 1, 1),
            sex_at_birth="male",
        )


def test_registering_someone_like_an_existing_patient_warns_and_creates_nothing(desk_client):
    existing = PatientFactory(
        given_name="Ines", family_name="Vargas", date_of_birth=datetime.date(2001, 6, 21)
    )

    response = desk_client.post(
        REGISTER, registration(given_name=" ines ", family_name="VARGAS", email="")
    )

    assert response.status_code == 200
    assert "A patient with the same name and date of birth is already registered" in response.text
    assert f'href="/staff/patients/{existing.pk}/"' in response.text
    assert existing.mrn in response.text
    assert 'type="checkbox" name="confirm_new_record"' in response.text
    assert Patient.objects.count() == 1


def test_a_second_record_for_a_lookalike_is_created_only_when_confirmed(desk_client):
    PatientFactory(
        given_name="Ines", family_name="Vargas", date_of_birth=datetime.date(2001, 6, 21)
    )

    response = desk_client.post(REGISTER, registration(confirm_new_record="on"))

    assert response.status_code == 302
    assert Patient.objects.filter(given_name="Ines", family_name="Vargas").count() == 2


def test_a_patient_with_the_same_name_but_another_birthday_is_not_a_match(desk_client):
    PatientFactory(given_name="Ines", family_name="Vargas", date_of_birth=datetime.date(1970, 1, 1))

    response = desk_client.post(REGISTER, registration())

    assert response.status_code == 302
    assert Patient.objects.count() == 2


def test_the_confirm_box_is_offered_only_when_there_is_a_match(desk_client):
    blank = desk_client.get(REGISTER)
    assert 'type="checkbox" name="confirm_new_record"' not in blank.text

    with_error = desk_client.post(REGISTER, registration(email="not-an-address"))
    assert 'type="checkbox" name="confirm_new_record"' not in with_error.text
    assert "Possible existing record" not in with_error.text


def test_a_ticked_confirm_box_still_lists_the_match_when_another_field_is_wrong(desk_client):
    existing = PatientFactory(
        given_name="Ines", family_name="Vargas", date_of_birth=datetime.date(2001, 6, 21)
    )

    response = desk_client.post(
        REGISTER, registration(confirm_new_record="on", email="not-an-address")
    )

    assert "Enter a valid email address." in response.text
    assert existing.mrn in response.text
    assert 'type="checkbox" name="confirm_new_record"' in response.text
    assert "checked" in response.text.split('name="confirm_new_record"')[1].split(">")[0]
    assert Patient.objects.count() == 1


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"given_name": "  "}, "given_name", "This field is required."),
        ({"family_name": ""}, "family_name", "This field is required."),
        ({"date_of_birth": ""}, "date_of_birth", "This field is required."),
        ({"date_of_birth": "2001-02-30"}, "date_of_birth", "Enter a valid date."),
        ({"date_of_birth": "21 June"}, "date_of_birth", "Enter a valid date."),
        ({"date_of_birth": "1850-01-01"}, "date_of_birth", "Check the year of birth."),
        ({"sex_at_birth": "other"}, "sex_at_birth", "Select a valid choice."),
        ({"email": "ines@"}, "email", "Enter a valid email address."),
        ({"phone": "call after 5"}, "phone", "Use only digits, spaces and + - ( )"),
        ({"phone": "---"}, "phone", "Give a phone number with"),
        ({"phone": "12"}, "phone", "Give a phone number with"),
        ({"given_name": "x" * 101}, "given_name", "Ensure this value has at most 100"),
        ({"given_name": "In\x00es"}, "given_name", "Null characters are not allowed."),
    ],
)
def test_bad_registration_input_is_explained_and_everything_typed_is_kept(
    desk_client, changes, field, message
):
    data = registration(**changes)

    response = desk_client.post(REGISTER, data)

    assert response.status_code == 200
    form = response.context["form"]
    assert message in " ".join(form.errors[field])
    assert "There is a problem" in response.text
    assert f'href="#id_{field}"' in response.text
    for name, value in data.items():
        if name != field:
            assert form[name].value() == value
    assert Patient.objects.count() == 0


def test_a_date_of_birth_in_the_future_is_refused(desk_client):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)

    response = desk_client.post(REGISTER, registration(date_of_birth=tomorrow.isoformat()))

    assert response.context["form"].errors["date_of_birth"] == [
        "The date of birth cannot be in the future."
    ]
    assert Patient.objects.count() == 0


def test_a_baby_born_today_can_be_registered(desk_client):
    response = desk_client.post(
        REGISTER, registration(date_of_birth=timezone.localdate().isoformat())
    )

    assert response.status_code == 302


# Finding


def test_search_finds_patients_by_part_of_a_name_in_either_order(desk_client):
    ines = PatientFactory(given_name="Ines", family_name="Vargas")
    PatientFactory(given_name="Tobias", family_name="Okafor")

    for query in ("vargas", "Ines Varg", "Vargas, Ines", "  INES  "):
        response = desk_client.post(SEARCH, {"q": query})
        assert list(response.context["page"].object_list) == [ines], query
        assert "1 patient found" in response.text


def test_search_finds_a_patient_by_record_number_or_its_beginning(desk_client):
    ines = PatientFactory()
    PatientFactory()

    assert list(desk_client.post(SEARCH, {"q": ines.mrn}).context["page"]) == [ines]
    matching_prefix = desk_client.post(SEARCH, {"q": ines.mrn[:6]}).context["page"]
    assert ines in matching_prefix.object_list


def test_search_finds_patients_by_date_of_birth_as_iso_in_the_clinics_order_or_as_shown(
    desk_client,
):
    ines = PatientFactory(date_of_birth=datetime.date(2001, 3, 31))
    PatientFactory(date_of_birth=datetime.date(2001, 3, 30))

    for query in ("2001-03-31", "31/03/2001", "31 Mar 2001", " 31/03/2001 "):
        response = desk_client.post(SEARCH, {"q": query})
        assert list(response.context["page"].object_list) == [ines], query


def test_the_search_hint_gives_the_date_forms_it_accepts(desk_client):
    response = desk_client.get(SEARCH)

    hint = response.text.split('id="id_q_helptext"', 1)[1].split("</div>", 1)[0]
    assert "Dates as 2001-03-31, 31/03/2001 or 31 Mar 2001." in hint


@override_settings(DATE_INPUT_FORMATS=["%Y-%m-%d", "%m/%d/%Y", "%d %b %Y"])
def test_a_clinic_that_writes_the_month_first_searches_and_is_told_so(desk_client):
    april = PatientFactory(date_of_birth=datetime.date(2001, 4, 3))
    PatientFactory(date_of_birth=datetime.date(2001, 3, 4))

    response = desk_client.post(SEARCH, {"q": "04/03/2001"})

    assert list(response.context["page"].object_list) == [april]
    assert "Dates as 2001-03-31, 03/31/2001 or 31 Mar 2001." in response.text
    assert desk_client.post(SEARCH, {"q": "31/03/2001"}).context["page"].paginator.count == 0


def test_a_date_that_does_not_exist_is_searched_as_text_and_finds_no_one(desk_client):
    PatientFactory(date_of_birth=datetime.date(2001, 3, 31))

    response = desk_client.post(SEARCH, {"q": "31/02/2001"})

    assert response.status_code == 200
    assert "0 patients found" in response.text


def test_search_with_no_match_says_so_and_offers_to_register(desk_client):
    PatientFactory(given_name="Ines", family_name="Vargas")

    response = desk_client.post(SEARCH, {"q": "Nobody"})

    assert "0 patients found" in response.text
    assert f'href="{REGISTER}"' in response.text


def test_search_is_a_post_so_names_never_reach_the_url(desk_client):
    PatientFactory(given_name="Ines", family_name="Vargas")

    response = desk_client.get(SEARCH, {"q": "Vargas"})

    assert response.context["page"] is None
    assert 'method="post"' in response.text
    assert "Vargas" not in response.text


def test_an_empty_search_asks_for_something_to_search_for(desk_client):
    response = desk_client.post(SEARCH, {"q": "   "})

    assert response.status_code == 200
    assert response.context["page"] is None
    assert "This field is required." in response.text


@pytest.mark.parametrize("query", [",", " , - ", "''"])
def test_a_search_of_punctuation_alone_lists_nobody(desk_client, query):
    PatientFactory(family_name="Lee")

    response = desk_client.post(SEARCH, {"q": query})

    assert response.context["page"] is None
    assert "Type part of a name, a record number or a date of birth." in response.text
    assert "found</h2>" not in response.text  # no result list at all


def test_search_results_come_25_to_a_page_in_name_order(desk_client):
    for number in range(30):
        PatientFactory(given_name=f"Ann{number:02d}", family_name="Lee")

    first = desk_client.post(SEARCH, {"q": "Lee"})
    second = desk_client.post(SEARCH, {"q": "Lee", "page": "2"})
    beyond = desk_client.post(SEARCH, {"q": "Lee", "page": "99"})

    assert "30 patients found" in first.text
    assert [p.given_name for p in first.context["page"]] == [f"Ann{n:02d}" for n in range(25)]
    assert "Page 1 of 2" in first.text
    assert [p.given_name for p in second.context["page"]] == [f"Ann{n:02d}" for n in range(25, 30)]
    assert "Previous page" in second.text
    assert beyond.context["page"].number == 2
    for response in (first, second):
        assert 'name="q" value="Lee"' in response.text


def test_a_search_counts_no_further_than_it_lists_and_asks_for_more_letters(
    desk_client, monkeypatch
):
    monkeypatch.setattr("intake.views.PATIENT_MATCHES_COUNTED", 10)
    for number in range(12):
        PatientFactory(given_name=f"Ann{number:02d}", family_name="Lee")

    response = desk_client.post(SEARCH, {"q": "Lee"})

    assert "More than 10 patients found" in response.text
    assert "add more of the name" in response.text
    assert [p.given_name for p in response.context["page"]] == [f"Ann{n:02d}" for n in range(10)]


def test_a_name_search_finds_a_part_inside_a_name_and_a_merged_record_once(desk_client):
    vargas = PatientFactory(given_name="Ines", family_name="Vargas")
    PatientFactory(given_name="Margaret", family_name="Lee", merged_into=vargas)
    PatientFactory(given_name="Inge", family_name="Berg")

    by_part = desk_client.post(SEARCH, {"q": "ARGA"})
    by_both = desk_client.post(SEARCH, {"q": "in arg"})

    assert list(by_part.context["page"]) == [vargas]
    assert "1 patient found" in by_part.text
    assert list(by_both.context["page"]) == [vargas]


def test_a_search_costs_the_same_queries_however_many_patients_match(
    desk_client, django_assert_num_queries
):
    PatientFactory(family_name="Lee")
    with CaptureQueriesContext(connection) as one_match:
        desk_client.post(SEARCH, {"q": "Lee"})
    PatientFactory.create_batch(40, family_name="Lee")

    with django_assert_num_queries(len(one_match)):
        response = desk_client.post(SEARCH, {"q": "Lee"})

    assert "41 patients found" in response.text


@pytest.mark.skipif(connection.vendor != "postgresql", reason="trigram indexes are PostgreSQL's")
def test_the_name_lookups_of_a_search_can_use_the_trigram_indexes_on_postgresql(db):
    names = Patient.objects.filter(Q(given_name__icontains="arg") | Q(family_name__icontains="arg"))
    sql, params = names.query.sql_with_params()
    with connection.cursor() as cursor:
        # The table is tiny: rule out reading it whole, to see which index fits the query.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "Bitmap Index Scan on patient_given_name_trgm" in plan
    assert "Bitmap Index Scan on patient_family_name_trgm" in plan


def test_a_search_records_the_patients_it_listed_in_one_audit_event(desk_client, front_desk):
    shown = [PatientFactory(family_name="Lee"), PatientFactory(family_name="Lee")]
    other = PatientFactory(family_name="Other")

    desk_client.post(SEARCH, {"q": "Lee"})

    listing = AuditEvent.objects.get(action="list")
    assert listing.actor == front_desk
    assert listing.detail["patient_ids"] == sorted(p.pk for p in shown)
    for patient in shown:
        assert list(AuditEvent.objects.about_patient(patient.pk)) == [listing]
    assert not AuditEvent.objects.about_patient(other.pk).exists()


# The patient page


def test_the_patient_page_shows_their_details_and_visits_newest_first(desk_client, condition):
    patient = PatientFactory(
        given_name="Ines",
        family_name="Vargas",
        date_of_birth=datetime.date(2001, 6, 21),
        email="ines@example.org",
    )
    older = VisitFactory(patient=patient, scheduled_at=at_today(9, days=-30))
    newer = VisitFactory(patient=patient, scheduled_at=at_today(10))
    VisitFactory()  # someone else's

    response = desk_client.get(f"/staff/patients/{patient.pk}/")

    assert "<h1>Ines Vargas</h1>" in response.text
    assert patient.mrn in response.text
    assert "21 Jun 2001" in response.text
    assert "ines@example.org" in response.text
    assert list(response.context["visits"]) == [newer, older]
    assert f'href="/staff/visits/{newer.pk}/"' in response.text
    assert f'href="/staff/patients/{patient.pk}/visits/new/"' in response.text


def test_a_patient_with_no_visits_says_so(desk_client):
    patient = PatientFactory()

    response = desk_client.get(f"/staff/patients/{patient.pk}/")

    assert "No visits yet." in response.text


def test_showing_possible_duplicates_is_audited(desk_client, front_desk):
    existing = PatientFactory(given_name="Ines", family_name="Vargas")
    data = registration(date_of_birth=existing.date_of_birth.isoformat())

    response = desk_client.post(REGISTER, data)

    assert existing.mrn in response.text
    assert (
        AuditEvent.objects.about_patient(existing.pk)
        .filter(action="list", record_type="intake.patient", actor=front_desk)
        .exists()
    )


def test_dates_are_shown_in_the_clinics_format_from_settings(desk_client, settings):
    patient = PatientFactory(date_of_birth=datetime.date(2001, 6, 21))
    page = f"/staff/patients/{patient.pk}/"

    shown = desk_client.get(page).text
    settings.DATE_FORMAT = "Y-m-d"
    shown_after = desk_client.get(page).text

    assert "21 Jun 2001" in shown
    assert "2001-06-21" in shown_after
    assert "21 Jun 2001" not in shown_after
