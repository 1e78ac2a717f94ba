"""Sending orders to their performers: queueing an order's message when it is placed or
cancelled, and the background task that sends it over MLLP, waits for the ACK, and tries
again later (each wait twice the last) while the performer does not answer.

intake.orders calls order_placed and order_cancelled inside its own transaction, so a
message is queued exactly when the order change is saved.
"""

import datetime
import logging

from django.conf import settings
from django.db import transaction
from django.tasks import task
from django.utils import timezone

from audit import trail
from audit.actors import Actor
from audit.models import AuditEvent

from . import messages, mllp
from .models import OrderMessage, Performer

logger = logging.getLogger(__name__)
ACTOR = Actor.system("hl7")


def order_placed(order):
    """Queue the new order for its test kind's performer, if it has one."""
    performer = Performer.objects.filter(test_kind=order.test.kind, active=True).first()
    if performer is not None:
        _queue(order, performer, OrderMessage.Event.NEW)


def order_cancelled(order):
    """Tell the performer the order is cancelled, if it may have the order: a new-order
    message never tried is simply not sent, and one still being retried stops."""
    placed = (
        OrderMessage.objects.select_for_update()
        .filter(order=order, event=OrderMessage.Event.NEW)
        .select_related("performer")
        .first()
    )
    if placed is None or placed.state == OrderMessage.State.REFUSED:
        return
    if placed.state in {OrderMessage.State.QUEUED, OrderMessage.State.FAILED}:
        tried = placed.attempts > 0
        placed.state = OrderMessage.State.WITHDRAWN
        placed.next_attempt_at = None
        placed.save(update_fields=["state", "next_attempt_at"])
        if not tried:
            return
    _queue(order, placed.performer, OrderMessage.Event.CANCEL)


def send_again(message):
    """Queue a message that was not sent (the performer did not answer) once more."""
    with transaction.atomic():
        message = OrderMessage.objects.select_for_update().get(pk=message.pk)
        if message.state != OrderMessage.State.FAILED:
            return False
        message.state = OrderMessage.State.QUEUED
        message.attempts = 0
        message.next_attempt_at = None
        message.save(update_fields=["state", "attempts", "next_attempt_at"])
        transaction.on_commit(lambda: send_order_message.enqueue(message.pk))
    return True


def _queue(order, performer, event):
    message = OrderMessage.objects.create(
        order=order, performer=performer, event=event, control_id=messages.new_control_id()
    )
    transaction.on_commit(lambda: send_order_message.enqueue(message.pk))
    return message


@task
def send_order_message(message_id):
    """Send one queued message and record the performer's answer, or the lack of one."""
    with transaction.atomic():
        # The worker retrying while a provider cancels the order: the row lock makes the
        # cancel see either a message not yet tried (and withdraw it) or one in flight.
        message = (
            OrderMessage.objects.select_for_update(of=("self",))
            .select_related("performer", "order__visit__patient", "order__ordered_by")
            .get(pk=message_id)
        )
        if message.state != OrderMessage.State.QUEUED:
            return
        if _new_order_in_flight(message):
            # The cancel must not overtake the order it cancels: try once that is answered.
            send_order_message.using(
                run_after=timezone.now() + datetime.timedelta(seconds=settings.HL7_ACK_TIMEOUT)
            ).enqueue(message.pk)
            return
        if not message.text:
            message.text = messages.order_message(
                order=message.order,
                performer=message.performer,
                event=message.event,
                control_id=message.control_id,
            )
        message.state = OrderMessage.State.SENDING
        message.attempts += 1
        message.save(update_fields=["text", "state", "attempts"])

    performer = message.performer
    try:
        answer = mllp.exchange(
            performer.host,
            performer.port,
            message.text,
            connect_timeout=settings.HL7_CONNECT_TIMEOUT,
            answer_timeout=settings.HL7_ACK_TIMEOUT,
        )
        code, text = messages.read_ack(answer, control_id=message.control_id)
    except (OSError, mllp.NoAnswer, messages.MessageError) as error:
        _not_answered(message, error)
        return
    _answered(message, code, text)


def _new_order_in_flight(message):
    return (
        message.event == OrderMessage.Event.CANCEL
        and send_order_message.get_backend().supports_defer
        and OrderMessage.objects.filter(
            order_id=message.order_id,
            event=OrderMessage.Event.NEW,
            state=OrderMessage.State.SENDING,
        ).exists()
    )


def _answered(message, code, text):
    accepted = code in {"AA", "CA"}
    with transaction.atomic():
        message.state = OrderMessage.State.ACCEPTED if accepted else OrderMessage.State.REFUSED
        message.ack_code = code
        message.ack_text = text[:200]
        message.answered_at = timezone.now()
        message.last_error = ""
        message.next_attempt_at = None
        message.save(
            update_fields=[
                "state",
                "ack_code",
                "ack_text",
                "answered_at",
                "last_error",
                "next_attempt_at",
            ]
        )
        trail.record(
            action=AuditEvent.Action.SEND,
            record=message.order,
            patient_id=message.order.visit.patient_id,
            actor=ACTOR,
            message=message.pk,
            event=message.event,
            ack=code,
        )
    logger.info("HL7 message %s: performer answered %s", message.pk, code)


def _not_answered(message, error):
    # The error's text can name the host but never the patient; log only its kind.
    logger.warning(
        "HL7 message %s: attempt %s got no answer (%s)",
        message.pk,
        message.attempts,
        type(error).__name__,
    )
    message.last_error = _describe(error)
    # Without a queue that can wait (the immediate backend of development) there is no
    # later try: the message waits for someone to send it again from the admin.
    can_wait = send_order_message.get_backend().supports_defer
    if message.attempts < settings.HL7_SEND_ATTEMPTS and can_wait:
        delay = settings.HL7_RETRY_SECONDS * 2 ** (message.attempts - 1)
        message.state = OrderMessage.State.QUEUED
        message.next_attempt_at = timezone.now() + datetime.timedelta(seconds=delay)
    else:
        message.state = OrderMessage.State.FAILED
        message.next_attempt_at = None
    message.save(update_fields=["state", "last_error", "next_attempt_at"])
    if message.next_attempt_at:
        send_order_message.using(run_after=message.next_attempt_at).enqueue(message.pk)


def _describe(error):
    match error:
        case ConnectionRefusedError():
            return "The performer refused the connection."
        case TimeoutError():
            return "The performer did not answer in time."
        case mllp.NoAnswer() | messages.MessageError():
            return f"The performer's answer could not be read: {error}"
        case _:
            return f"The performer could not be reached ({type(error).__name__})."
