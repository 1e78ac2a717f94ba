"""The visit page's controls for the visit's day: arrival, a new time, a patient who did
not come (at the top), and closing (under the orders), with the forms they post."""

from django import template

from intake.forms import CloseVisitForm, DidNotAttendForm, RescheduleForm
from intake.visits import open_orders

register = template.Library()


@register.inclusion_tag("intake/includes/visit_actions.html", takes_context=True)
def visit_actions(context, visit):
    return {
        "visit": visit,
        "perms": context["perms"],
        "csrf_token": context.get("csrf_token"),
        "reschedule_form": RescheduleForm(visit=visit, prefix="reschedule"),
        "did_not_attend_form": DidNotAttendForm(prefix="absent"),
    }


@register.inclusion_tag("intake/includes/visit_closing.html", takes_context=True)
def visit_closing(context, visit):
    """Queries: the visit's open orders, once it is seen and the user may close it."""
    may_close = visit.can_close and context["perms"]["intake"]["close_visit"]
    return {
        "visit": visit,
        "csrf_token": context.get("csrf_token"),
        "close_form": CloseVisitForm(prefix="close"),
        "may_close": may_close,
        "open_orders": open_orders(visit) if may_close else [],
    }
