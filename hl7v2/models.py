"""The performers orders go to, the order messages sent to them, and the messages received.

The messages are kept: an order message shows staff whether the performer has the order
yet; a received message is kept whatever became of it, so a result that matches no order,
or a message that could not be read, waits in the admin for someone to look at it.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format

from conditions.models import OrderableTest

# Names that go into messages as they are: no HL7 separators (| ^ ~ \\ &) in them.
hl7_name = RegexValidator(
    r"^[A-Za-z0-9_. -]+$", "Use letters, digits, spaces, dots, dashes and underscores only."
)


class Performer(models.Model):
    """The outside lab or imaging centre that does one kind of test, and how to reach it."""

    name = models.CharField(max_length=100)
    test_kind = models.CharField(
        "does", max_length=20, choices=OrderableTest.Kind, help_text="The kind of test sent here."
    )
    host = models.CharField(max_length=255)
    port = models.PositiveIntegerField(validators=[MinValueValidator(1), MaxValueValidator(65535)])
    sending_application = models.CharField(
        max_length=50,
        validators=[hl7_name],
        default="CLINIC_INTAKE",
        help_text="What we call ourselves (MSH-3).",
    )
    sending_facility = models.CharField(
        max_length=50,
        validators=[hl7_name],
        default="CLINIC",
        help_text="Our facility as the performer knows it (MSH-4).",
    )
    receiving_application = models.CharField(
        max_length=50, validators=[hl7_name], help_text="Their system (MSH-5)."
    )
    receiving_facility = models.CharField(
        max_length=50, validators=[hl7_name], help_text="Their facility (MSH-6)."
    )
    active = models.BooleanField(
        default=True, help_text="Untick to stop sending orders here (orders are then printed)."
    )

    class Meta:
        ordering = ["test_kind", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["test_kind"],
                condition=Q(active=True),
                name="one_active_performer_per_test_kind",
                violation_error_message="Another active performer already does this kind of test.",
            )
        ]

    def __str__(self):
        return self.name


class OrderMessage(models.Model):
    """One ORM^O01 for an order (placing or cancelling it) and what became of it."""

    class Event(models.TextChoices):
        NEW = "NW", "New order"
        CANCEL = "CA", "Cancel order"

    class State(models.TextChoices):
        QUEUED = "queued", "Not yet sent"
        SENDING = "sending", "Sending"
        ACCEPTED = "accepted", "Sent"
        REFUSED = "refused", "Refused by the performer"
        FAILED = "failed", "Not sent: the performer did not answer"
        WITHDRAWN = "withdrawn", "Not sent: the order was cancelled first"

    NOT_SENT = {State.QUEUED, State.SENDING, State.FAILED}

    order = models.ForeignKey(
        "intake.TestOrder", on_delete=models.PROTECT, related_name="hl7_messages"
    )
    performer = models.ForeignKey(Performer, on_delete=models.PROTECT, related_name="messages")
    event = models.CharField(max_length=2, choices=Event)
    control_id = models.CharField("message control ID", max_length=40, unique=True)
    state = models.CharField(max_length=10, choices=State, default=State.QUEUED)
    text = models.TextField("message as sent", blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=200, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    ack_code = models.CharField("ACK code", max_length=2, blank=True)
    ack_text = models.CharField("performer's answer", max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["order", "created_at", "id"]
        verbose_name = "message to a performer"
        verbose_name_plural = "messages to performers"
        indexes = [models.Index(fields=["state", "created_at"])]

    def __str__(self):
        return f"{self.get_event_display()} to {self.performer}: {self.get_state_display()}"

    @property
    def not_sent(self):
        return self.state in self.NOT_SENT

    @property
    def needs_attention(self):
        """Staff should know: the performer does not have it, or refused it."""
        return self.not_sent or self.state == self.State.REFUSED

    @property
    def summary(self):
        """What became of the message, in a sentence for staff."""
        what = "The order" if self.event == self.Event.NEW else "The cancellation"
        to = self.performer.name
        match self.state:
            case self.State.ACCEPTED:
                return f"{what} was sent to {to} on {_at(self.answered_at)}."
            case self.State.REFUSED:
                return f"{to} refused the {what.split()[1]}: {self.ack_text or self.ack_code}."
            case self.State.FAILED:
                return (
                    f"{what} is not yet sent to {to}: no answer after {self.attempts} "
                    f"{'try' if self.attempts == 1 else 'tries'}. Send it again from the admin."
                )
            case self.State.WITHDRAWN:
                return f"{what} was not sent to {to}: the order was cancelled first."
            case _ if self.next_attempt_at:
                return (
                    f"{what} is not yet sent to {to}: no answer yet; "
                    f"trying again at {_at(self.next_attempt_at)}."
                )
            case _:
                return f"{what} is not yet sent to {to}."


class ReceivedMessage(models.Model):
    """A message the listener received, kept as it came, with what was done with it."""

    class Outcome(models.TextChoices):
        RECORDED = "recorded", "Recorded on its order"
        HELD = "held", "Held for review: no order to record it on"
        MALFORMED = "malformed", "Malformed"
        RESOLVED = "resolved", "Dealt with after review"

    raw = models.TextField("message as received")
    sending_application = models.CharField(max_length=50, blank=True)
    sending_facility = models.CharField(max_length=50, blank=True)
    control_id = models.CharField("message control ID", max_length=199, blank=True)
    message_type = models.CharField(max_length=20, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome)
    problem = models.TextField(blank=True)
    ack_code = models.CharField("ACK code sent", max_length=2)
    received_at = models.DateTimeField(default=timezone.now)
    orders = models.ManyToManyField("intake.TestOrder", blank=True, related_name="+")
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["outcome", "received_at"])]
        constraints = [
            # A sender numbers its messages (MSH-10): the same number again is a resend.
            models.UniqueConstraint(
                fields=["sending_application", "sending_facility", "control_id"],
                condition=~Q(control_id=""),
                name="received_message_once_per_sender",
            )
        ]

    def __str__(self):
        kind = self.message_type or "Message"
        return f"{kind} {self.control_id or '(no control ID)'}: {self.get_outcome_display()}"


def _at(moment):
    return date_format(timezone.localtime(moment), "j M Y H:i")
