"""The words a patient reads about their answers: where they go (on the first page and
before sending) and what they confirm when they send them. Frozen, as read, into each
Attestation."""

import hashlib

from django.conf import settings
from django.utils.translation import gettext, gettext_lazy

CONFIRM_TEXT = gettext_lazy(
    "I confirm that these answers are true, as far as I know. "
    "If I am answering for the patient, I have the right to do so."
)


def privacy_statement():
    return gettext(
        "Your answers go only to %(clinic)s. They are used to care for you, and for nothing else."
    ) % {"clinic": settings.CLINIC_NAME}


def agreed_text():
    """The statement and the check box as the page shows them, in the active language."""
    return f"{privacy_statement()}\n\n{CONFIRM_TEXT}"


def text_hash(text):
    return hashlib.sha256(text.encode()).hexdigest()
