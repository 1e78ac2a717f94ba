"""The language the patient's pages speak: the one the patient chose with the switch,
else the one on their record, else their browser's, else English. Staff pages and the
admin always speak English."""

from django.conf import settings
from django.utils import translation

SESSION_KEY = "previsit-language"


def is_offered(code):
    return code in dict(settings.LANGUAGES)


def of_patient(patient):
    """The language to write to a patient in, when they are not here to choose."""
    if is_offered(patient.preferred_language):
        return patient.preferred_language
    return settings.LANGUAGE_CODE


def for_request(request, link):
    """The language of a patient page; `link` is None for a token that matches none."""
    chosen = request.session.get(SESSION_KEY)
    if is_offered(chosen):
        return chosen
    if link is not None and is_offered(link.visit.patient.preferred_language):
        return link.visit.patient.preferred_language
    # Accept-Language, checked against LANGUAGES; LANGUAGE_CODE when none is offered.
    return translation.get_language_from_request(request)


def choose(request, code):
    """Keep the patient's choice in their session; False for a language we do not have."""
    if not is_offered(code):
        return False
    request.session[SESSION_KEY] = code
    return True
