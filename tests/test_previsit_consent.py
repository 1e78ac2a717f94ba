"""The patient's pages say where the answers go, and the answers are sent only from the
confirm page, with an attestation that staff see and print."""

import hashlib
import html
from dataclasses import replace

import pytest
from django.conf import settings
from django.db import DatabaseError, transaction
from django.test import Client
from django.utils import dateformat, timezone, translation

from audit.actors import Actor
from audit.models import AuditEvent
from intake import links
from intake.answers import save_answers
from intake.models import Attestation, PreVisitLink

from .conftest import PreVisitPatient
from .reading import by_id, description_of, parse
from .test_previsit_pages import ALL_ANSWERS

STATEMENT = (
    f"Your answers go only to {settings.CLINIC_NAME}. "
    "They are used to care for you, and for nothing else."
)
CONFIRM_TEXT = "I confirm that these answers are true, as far as I know."
PATIENT_ADDRESS = "203.0.113.7"
ADMIN = "/admin/intake/visit/{}/change/"


@pytest.fixture
def continued(verified_patient, upcoming_visit, intake_data):
    """The patient has answered everything and pressed Continue."""
    response = verified_patient.post("questions/", intake_data(upcoming_visit, action="continue"))
    assert response.status_code == 302
    return verified_patient


def confirm_errors(response):
    ids = by_id(parse(response.text))
    return ids, [" ".join(a.text.split()) for a in ids["error-summary"].iter() if a.tag == "a"]


def test_the_first_page_says_where_the_answers_go_before_asking_anything(link_patient):
    response = link_patient.get()

    text = response.text
    assert STATEMENT in text
    assert text.index(STATEMENT) < text.index("<form")


def test_continue_saves_the_answers_and_opens_the_confirm_page_without_sending(
    verified_patient, link_token, upcoming_visit, intake_data
):
    response = verified_patient.post("questions/", intake_data(upcoming_visit, action="continue"))

    assert response["Location"] == f"/v/{link_token}/photos/"
    assert upcoming_visit.answers.count() == 7
    assert PreVisitLink.objects.get().submitted_at is None
    page = verified_patient.get("confirm/")
    assert page.status_code == 200
    assert "<h1>Check and send your answers</h1>" in page.text
    assert "Several times a day" in page.text
    assert f'href="/v/{link_token}/questions/"' in page.text
    assert STATEMENT in page.text
    assert CONFIRM_TEXT in page.text
    assert "Who is filling this in?" in page.text


def test_confirming_with_nothing_filled_in_lists_each_problem_linked_to_its_field(continued):
    response = continued.post("confirm/", {"intake_version": 1})

    assert response.status_code == 200
    ids, summary = confirm_errors(response)
    assert summary == [
        "Who is filling this in? Choose who is filling this in.",
        "Your full name: Type your full name.",
        "Confirm: Tick the box to confirm your answers.",
    ]
    hrefs = [a.attrs["href"] for a in ids["error-summary"].iter() if a.tag == "a"]
    assert hrefs == ["#id_respondent_0", "#id_full_name", "#id_confirmed"]
    assert "Choose who is filling this in." in description_of(ids["id_respondent_0"], ids)
    assert "Type your full name." in description_of(ids["id_full_name"], ids)
    assert "Tick the box" in description_of(ids["id_confirmed"], ids)
    assert PreVisitLink.objects.get().submitted_at is None
    assert not Attestation.objects.exists()


def test_answering_for_the_patient_asks_the_relation_and_keeps_what_was_typed(continued):
    response = continued.post(
        "confirm/",
        {
            "intake_version": 1,
            "respondent": "on_behalf",
            "full_name": "Ana Ruiz",
            "confirmed": "on",
        },
    )

    ids, summary = confirm_errors(response)
    assert summary == [
        "How are you related to the patient? Choose how you are related to the patient."
    ]
    assert "Choose how you are related" in description_of(ids["id_relation_0"], ids)
    assert ids["id_full_name"].attrs["value"] == "Ana Ruiz"
    assert "checked" in ids["id_confirmed"].attrs
    assert "checked" in ids["id_respondent_1"].attrs
    assert not Attestation.objects.exists()


def test_an_other_relation_needs_words(continued):
    response = continued.post(
        "confirm/",
        {
            "intake_version": 1,
            "respondent": "on_behalf",
            "relation": "other",
            "full_name": "Ana Ruiz",
            "confirmed": "on",
        },
    )

    ids, summary = confirm_errors(response)
    assert summary == ["If other, say how: Say how you are related to the patient."]
    assert "Say how you are related" in description_of(ids["id_relation_other"], ids)
    assert "checked" in ids["id_relation_5"].attrs
    assert not Attestation.objects.exists()


def test_sending_records_who_when_from_where_in_which_language_and_the_words_agreed(
    clock, link_token, upcoming_visit, intake_data
):
    patient = PreVisitPatient(Client(REMOTE_ADDR=PATIENT_ADDRESS), link_token)
    patient.confirm_birth_date(upcoming_visit.patient.date_of_birth)

    response = patient.send(intake_data(upcoming_visit), full_name="  Ines Okafor ")

    assert response["Location"] == f"/v/{link_token}/done/"
    link = PreVisitLink.objects.get()
    attestation = link.attestations.get()
    assert attestation.respondent == Attestation.Respondent.PATIENT
    assert (attestation.relation, attestation.relation_other) == ("", "")
    assert attestation.full_name == "Ines Okafor"
    assert attestation.attested_at == clock.now == link.submitted_at
    assert attestation.client_address == PATIENT_ADDRESS
    assert attestation.language == "en"
    assert attestation.text.startswith(STATEMENT)
    assert CONFIRM_TEXT in attestation.text
    assert attestation.text_hash == hashlib.sha256(attestation.text.encode()).hexdigest()
    event = AuditEvent.objects.get(record_type="intake.attestation")
    assert (event.action, event.record_id) == ("create", attestation.pk)
    assert (event.actor_label, event.remote_addr) == (link.actor_label, PATIENT_ADDRESS)
    assert event.patient_id == upcoming_visit.patient_id


@pytest.mark.parametrize(
    ("relation", "other", "sender"),
    [
        ("parent", "", "the patient's parent"),
        ("other", "Neighbour", "someone for the patient (Neighbour)"),
    ],
)
def test_sending_for_the_patient_records_the_relation(
    verified_patient, upcoming_visit, intake_data, relation, other, sender
):
    verified_patient.send(
        intake_data(upcoming_visit),
        respondent="on_behalf",
        relation=relation,
        relation_other=other,
        full_name="Ana Ruiz",
    )

    attestation = Attestation.objects.get()
    assert (attestation.respondent, attestation.relation) == ("on_behalf", relation)
    assert attestation.relation_other == other
    assert attestation.sender == sender


def test_the_relation_typed_is_dropped_when_the_patient_sends_their_own(
    verified_patient, upcoming_visit, intake_data
):
    verified_patient.send(intake_data(upcoming_visit), relation="parent", relation_other="x")

    attestation = Attestation.objects.get()
    assert (attestation.relation, attestation.relation_other) == ("", "")


def test_the_language_recorded_is_the_pages(link_token, upcoming_visit):
    link = PreVisitLink.objects.get()
    patient = Actor.through_link(link)
    links.save_patient_answers(link=link, values=ALL_ANSWERS, expected_version=0, actor=patient)

    with translation.override("es"):
        links.submit_previsit_answers(
            link=link, expected_version=1, respondent="patient", full_name="Ines", actor=patient
        )

    assert Attestation.objects.get().language == "es"


def test_answers_the_clinic_changed_after_the_confirm_page_opened_are_not_sent_unseen(
    continued, upcoming_visit, front_desk
):
    continued.get("confirm/")
    save_answers(
        visit=upcoming_visit,
        values={"how-often": "all-the-time"},
        expected_version=1,
        actor=Actor.for_user(front_desk),
    )

    response = continued.attest(intake_version=1, full_name="Ines Okafor")

    assert response.status_code == 200
    ids, _ = confirm_errors(response)
    assert "Your answers changed after you opened this page" in ids["error-summary"].text
    assert "All the time" in response.text
    assert ids["id_full_name"].attrs["value"] == "Ines Okafor"
    assert ids["id_intake_version"].attrs["value"] == "2"
    assert PreVisitLink.objects.get().submitted_at is None
    assert not Attestation.objects.exists()

    assert continued.attest(intake_version=2)["Location"].endswith("/done/")


def test_the_confirm_page_reached_without_every_required_answer_sends_nothing(
    verified_patient, upcoming_visit, intake_data
):
    verified_patient.post("questions/", intake_data(upcoming_visit, {"same-place": None}))

    response = verified_patient.attest()

    assert response.status_code == 200
    assert "Some questions still need an answer" in response.text
    assert PreVisitLink.objects.get().submitted_at is None
    assert not Attestation.objects.exists()


def test_a_second_send_from_another_browser_records_nothing_more(
    continued, link_token, upcoming_visit
):
    other = PreVisitPatient(Client(), link_token)
    other.confirm_birth_date(upcoming_visit.patient.date_of_birth)
    continued.attest()

    response = other.attest(full_name="Someone Else")

    assert response["Location"] == f"/v/{link_token}/done/"
    assert Attestation.objects.get().full_name == "Ines Okafor"
    assert AuditEvent.objects.filter(action="submit").count() == 1


def test_the_confirm_page_needs_the_date_of_birth_first(link_patient, link_token):
    link_patient.get()

    for response in (link_patient.get("confirm/"), link_patient.attest()):
        assert response.status_code == 302
        assert response["Location"] == f"/v/{link_token}/"
    assert not Attestation.objects.exists()


def test_a_confirm_without_the_pages_form_key_or_from_another_site_is_refused(continued):
    data = {"intake_version": 1, "respondent": "patient", "full_name": "I", "confirmed": "on"}

    without_key = continued.client.post(f"{continued.url}confirm/", data)
    cross_site = continued.post("confirm/", data, HTTP_SEC_FETCH_SITE="cross-site")

    assert (without_key.status_code, cross_site.status_code) == (400, 400)
    assert PreVisitLink.objects.get().submitted_at is None
    assert not Attestation.objects.exists()


def test_an_attestation_cannot_be_changed_or_deleted(continued):
    continued.attest()
    attestation = Attestation.objects.get()

    for change in (
        lambda: Attestation.objects.filter(pk=attestation.pk).update(full_name="Someone"),
        lambda: Attestation.objects.filter(pk=attestation.pk)._raw_delete("default"),
    ):
        with pytest.raises(DatabaseError), transaction.atomic():
            change()

    assert Attestation.objects.get().full_name == "Ines Okafor"


# What staff see


@pytest.fixture
def sent_for_the_patient(clock, link_token):
    """The answers sent by the patient's mother, from a page in Spanish."""
    link = PreVisitLink.objects.get()
    helper = replace(Actor.through_link(link), address=PATIENT_ADDRESS)
    links.save_patient_answers(link=link, values=ALL_ANSWERS, expected_version=0, actor=helper)
    with translation.override("es"):
        links.submit_previsit_answers(
            link=link,
            expected_version=1,
            respondent="on_behalf",
            relation="parent",
            full_name="Ana Ruiz",
            actor=helper,
        )
    return Attestation.objects.get()


@pytest.mark.parametrize(
    "page", ["/staff/visits/{}/", "/staff/visits/{}/review/", "/staff/visits/{}/print/", ADMIN]
)
def test_staff_see_who_sent_the_answers_and_what_they_agreed_to(
    sent_for_the_patient, upcoming_visit, provider, sign_in, page
):
    staff = sign_in(Client(), provider)

    response = staff.get(page.format(upcoming_visit.pk))

    assert response.status_code == 200
    text = " ".join(html.unescape(response.text).split())
    when = dateformat.format(timezone.localtime(sent_for_the_patient.attested_at), "j M Y H:i")
    assert (
        f"Sent by the patient's parent, Ana Ruiz (typed name), {when}, "
        f"from {PATIENT_ADDRESS}, in Spanish."
    ) in text
    # The words as the person read them, in Spanish; staff read the rest in English.
    assert (
        f"Sus respuestas van solo a {settings.CLINIC_NAME}. "
        "Se usan para atenderle a usted, y para nada más."
    ) in text
    if "print" not in page:
        assert "<summary>What they agreed to</summary>" in text
