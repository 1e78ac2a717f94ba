"""Receiving results: the listener's answer to each message it is sent.

A readable ORU^R01 whose results all name an order awaiting a result (by the placer
number we sent, for the same patient) is recorded through intake.orders.record_result,
as a result typed in the admin is, and then waits for the provider's review. Anything
else is kept, never dropped: a result with no order to take it is held for review in the
admin, and a message that cannot be read is kept for inspection with an AE or AR ACK.
A message its sender numbered (MSH-10) as one already received is answered as before
and recorded once.
"""

import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connections, transaction
from django.utils import timezone

from audit import trail
from audit.actors import Actor
from audit.models import AuditEvent
from intake import orders
from intake.models import Patient, TestOrder

from . import messages, mllp
from .models import Performer, ReceivedMessage

logger = logging.getLogger(__name__)
ACTOR = Actor.system("hl7")


class NoOrderForResult(Exception):
    """A result that cannot be recorded on the order it names (or names none of ours)."""


def listener(host, port):
    """The MLLP server the hl7_listener command runs."""
    return mllp.Server(
        (host, port),
        receive,
        idle_timeout=settings.HL7_LISTENER_IDLE_SECONDS,
        # Each connection has its thread, and each thread its database connection.
        on_connection_end=connections.close_all,
    )


def receive(text):
    """Record or keep one received message; return the ACK to send back."""
    text = text.replace("\r\n", "\r").replace("\n", "\r").strip("\r")
    header = messages.Header.read(text)
    earlier = _earlier(header)
    if earlier is not None:
        return _ack(header, earlier.ack_code, "Already received.")
    try:
        results = messages.read_results(text)
        if not header.control_id:
            raise messages.MessageError("The message has no control ID (MSH-10).", code="AR")
    except messages.MessageError as error:
        return _keep_malformed(text, header, error)
    try:
        received = _record(text, header, results)
    except IntegrityError:
        if _earlier(header) is None:
            raise
        # The sender sent it again on another connection while we recorded it.
        return _ack(header, "AA", "Already received.")
    logger.info("HL7 message %s received: %s", received.pk, received.outcome)
    return _ack(header, "AA")


def _earlier(header):
    if not header.control_id:
        return None
    return ReceivedMessage.objects.filter(
        sending_application=header.sending_application,
        sending_facility=header.sending_facility,
        control_id=header.control_id,
    ).first()


def _record(text, header, results):
    with transaction.atomic():
        # Saved first: its unique control ID makes a second copy of the message wait
        # here until this one is done, then fail instead of recording the result again.
        received = _received(text, header, ReceivedMessage.Outcome.RECORDED, ack_code="AA")
        sender = _sender_name(header)
        try:
            with transaction.atomic():
                recorded = [_record_result(result, sender) for result in results]
        except NoOrderForResult as problem:
            received.outcome = ReceivedMessage.Outcome.HELD
            received.problem = str(problem)
            received.save(update_fields=["outcome", "problem"])
            _audit(received)
        else:
            received.orders.set(recorded)
    return received


def record_held(*, received, order, actor):
    """Record a held message's result on the order a provider chose for it."""
    with transaction.atomic():
        received = ReceivedMessage.objects.select_for_update().get(pk=received.pk)
        if received.outcome != ReceivedMessage.Outcome.HELD:
            raise ValidationError("Only a held message waits for an order.")
        results = messages.read_results(received.raw)
        if len(results) != 1:
            raise ValidationError("This message holds several results: record them by hand.")
        header = messages.Header.read(received.raw)
        try:
            _record_result(results[0], _sender_name(header), order=order, actor=actor)
        except NoOrderForResult as problem:
            raise ValidationError(str(problem)) from problem
        received.outcome = ReceivedMessage.Outcome.RESOLVED
        received.resolved_by = actor.user
        received.resolved_at = timezone.now()
        received.save(update_fields=["outcome", "resolved_by", "resolved_at"])
        received.orders.add(order)
        _audit(received, actor=actor, action=AuditEvent.Action.UPDATE, order=order.pk)
    return received


def _record_result(result, sender, *, order=None, actor=ACTOR):
    if order is None:
        order = _order_named(result)
    value, unit = result.value_and_unit
    try:
        return orders.record_result(
            order=order,
            actor=actor,
            text=result.text,
            value=value,
            unit=unit,
            abnormal=result.abnormal,
            performed_on=result.performed_on,
            sent_by=sender,
        )
    except ValidationError as error:
        raise NoOrderForResult(
            f"The result for order {result.placer_number} could not be recorded: "
            + " ".join(error.messages)
        ) from error
    except IntegrityError as error:  # a rule only the database checks
        raise NoOrderForResult(
            f"The result for order {result.placer_number} could not be recorded: "
            "the database refused it."
        ) from error


def _order_named(result):
    number = result.placer_number
    order = (
        TestOrder.objects.select_related("visit__patient").filter(pk=number).first()
        if number.isdigit() and len(number) < 19  # beyond that, no id of ours
        else None
    )
    if order is None:
        raise NoOrderForResult(f"No order here has the placer number {number}.")
    if result.patient_number and not _same_patient(result.patient_number, order.visit.patient):
        raise NoOrderForResult(
            f"The result for order {number} names another patient than the order's."
        )
    return order


def _same_patient(number, patient):
    """The record number is the patient's, or that of a record merged into theirs."""
    return number == patient.mrn or Patient.objects.filter(mrn=number, merged_into=patient).exists()


def _sender_name(header):
    performer = Performer.objects.filter(
        receiving_application=header.sending_application,
        receiving_facility=header.sending_facility,
    ).first()
    if performer is not None:
        return performer.name
    return header.sending_facility or header.sending_application or "An outside performer"


def _keep_malformed(text, header, error):
    try:
        with transaction.atomic():
            received = _received(
                text,
                header,
                ReceivedMessage.Outcome.MALFORMED,
                ack_code=error.code,
                problem=str(error),
            )
            _audit(received)
    except IntegrityError:
        return _ack(header, error.code, str(error))
    logger.warning("HL7 message %s kept as malformed (%s)", received.pk, error.code)
    return _ack(header, error.code, str(error), hl7_error=error.hl7_error)


def _received(text, header, outcome, *, ack_code, problem=""):
    return ReceivedMessage.objects.create(
        raw=text,
        sending_application=header.sending_application,
        sending_facility=header.sending_facility,
        control_id=header.control_id,
        message_type=header.message_type,
        outcome=outcome,
        problem=problem,
        ack_code=ack_code,
    )


def _audit(received, *, actor=ACTOR, action=AuditEvent.Action.CREATE, **detail):
    trail.record(action=action, record=received, actor=actor, outcome=received.outcome, **detail)


def _ack(header, code, text="", hl7_error=""):
    return messages.ack(header=header, code=code, text=text, hl7_error=hl7_error)
