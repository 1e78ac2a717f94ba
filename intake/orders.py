"""Placing test orders, and moving them through scheduling, results and review.

Every entry point (the admin's inline, change page and actions) calls these functions,
so the transition rules in TestOrder.move_to hold everywhere. Each function locks the
order's row: a provider reviewing while someone records a result is the race they stop.
"""

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from audit import trail
from audit.models import AuditEvent
from hl7v2 import sending

from .models import OrderAddendum, TestOrder, Visit


def _require_provider(actor, permission="intake.change_testorder"):
    if not actor.has_perm(permission):
        raise PermissionDenied("Only providers place, result and review test orders.")


def place_order(
    *,
    visit,
    test,
    actor,
    reason,
    priority=TestOrder.Priority.ROUTINE,
    body_site="",
    side="",
    limb="",
    notes="",
):
    _require_provider(actor, "intake.add_testorder")
    if not visit.orderable_tests().filter(pk=test.pk).exists():
        raise ValidationError(f"{test.name} is not in the test catalog for {visit.condition}.")
    order = TestOrder(
        visit=visit,
        test=test,
        test_name=test.name,
        test_code_system=test.code_system,
        test_code=test.code,
        priority=priority,
        reason=" ".join(reason.split()),
        body_site=body_site,
        side=side,
        limb=limb,
        notes=notes.strip(),
        ordered_by=actor.user,
        ordered_at=timezone.now(),
    )
    order.full_clean()
    with transaction.atomic():
        # A provider ordering while someone closes or cancels the visit: the status is
        # checked under the visit's row lock, so no order lands on a closed visit.
        visit = Visit.objects.select_for_update().get(pk=visit.pk)
        if not visit.accepts_orders:
            raise ValidationError(
                f"Tests cannot be ordered on a {visit.get_status_display().lower()} visit."
            )
        order.save_by(actor)
        _audit(AuditEvent.Action.CREATE, order, actor)
        sending.order_placed(order)
    return order


def place_orders(*, visit, lines, actor):
    """Place one order per line (place_order's keyword arguments but the visit and the
    actor): all of them, or, if any is refused, none."""
    with transaction.atomic():
        return [place_order(visit=visit, actor=actor, **line) for line in lines]


def schedule_order(*, order, actor):
    return _transition(
        order,
        TestOrder.Status.SCHEDULED,
        actor,
        scheduled_by=actor.user,
        scheduled_at=timezone.now(),
    )


def cancel_order(*, order, actor, reason):
    reason = " ".join(reason.split())
    if not reason:
        raise ValidationError("Give a reason for cancelling the order.")
    with transaction.atomic():
        order = _transition(
            order,
            TestOrder.Status.CANCELLED,
            actor,
            cancelled_by=actor.user,
            cancelled_at=timezone.now(),
            cancel_reason=reason[:300],
        )
        sending.order_cancelled(order)
    return order


def check_result(*, text, value, unit):
    """Refuse an incomplete result, with messages keyed by TestOrder field.

    record_result calls it, and so does the admin's result form, to show them on the form.
    The result's dates are TestOrder.clean's to check, as every save of an order is.
    """
    errors = {}
    if not text.strip() and value is None:
        errors[NON_FIELD_ERRORS] = ["Enter the result: a text, a value, or both."]
    if value is not None and not unit.strip():
        errors["result_unit"] = ["Give the unit of the result value."]
    if errors:
        raise ValidationError(errors)


def record_result(
    *, order, actor, text, value=None, unit="", abnormal=None, performed_on=None, sent_by=""
):
    """Record the order's result, which then waits for the provider's review.

    A result an outside performer's system sent (`sent_by`: the performer's name) may be
    recorded by the interface that received it, acting on its own account
    (`Actor.system`); a person recording a result must be a provider.
    """
    check_result(text=text, value=value, unit=unit)
    text = text.strip()
    return _transition(
        order,
        TestOrder.Status.RESULTED,
        actor,
        interface_may=bool(sent_by),
        result_from=sent_by,
        result_text=text,
        result_value=value,
        result_unit=unit.strip(),
        abnormal=abnormal,
        performed_on=performed_on,
        resulted_by=actor.user,
        resulted_at=timezone.now(),
    )


def review_result(*, order, actor, comment):
    comment = comment.strip()
    if not comment:
        raise ValidationError({"review_comment": ["Sign off the result with a comment."]})
    return _transition(
        order,
        TestOrder.Status.REVIEWED,
        actor,
        reviewed_by=actor.user,
        reviewed_at=timezone.now(),
        review_comment=comment,
    )


def add_addendum(*, order, actor, text):
    _require_provider(actor)
    text = text.strip()
    if not text:
        raise ValidationError("An addendum needs some text.")
    with transaction.atomic():
        order = TestOrder.objects.select_for_update().get(pk=order.pk)
        if order.status != TestOrder.Status.REVIEWED:
            raise ValidationError("Addenda are for reviewed orders; change the order instead.")
        addendum = OrderAddendum.objects.create(order=order, text=text, added_by=actor.user)
        _audit(AuditEvent.Action.UPDATE, order, actor, addendum=addendum.pk)
    return addendum


def _transition(order, status, actor, *, interface_may=False, **fields):
    if not (interface_may and actor.user is None and not actor.is_patient):
        _require_provider(actor)
    with transaction.atomic():
        order = (
            TestOrder.objects.select_for_update(of=("self",))
            .select_related("visit")
            .get(pk=order.pk)
        )
        order.move_to(status)
        for name, value in fields.items():
            setattr(order, name, value)
        # Only what this step changed: the rest was checked when it was written.
        order.full_clean(exclude={field.name for field in order._meta.fields} - {*fields, "status"})
        order.save_by(actor, reason=fields.get("cancel_reason", ""))
        _audit(AuditEvent.Action.UPDATE, order, actor, status=status)
    return order


def _audit(action, order, actor, **detail):
    trail.record(
        action=action, record=order, patient_id=order.visit.patient_id, actor=actor, **detail
    )
