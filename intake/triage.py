"""Red flags: the condition's rules applied to a visit's answers; and the tests that the
condition and the flags raised suggest ordering.

Flags are worked out when answers are saved and kept on the visit, so lists of visits
show them without loading answers, and a later change to the rules does not rewrite
what staff saw for a past visit. Suggestions are advice for the provider now, so they
come from the rules as they stand.
"""

from dataclasses import dataclass, field

from conditions.models import RedFlagRule

from . import answer_types
from .durations import days_between


def red_flags(*, rules, answers, visit_date):
    """A list of {"message", "reason", "urgent"} for the rules that the answers meet,
    urgent flags first (lists of visits tell an urgent visit by its first flag)."""
    flags = [flag for _, flag in _raised(rules=rules, answers=answers, visit_date=visit_date)]
    return sorted(flags, key=lambda flag: not flag["urgent"])


def urgent_choices(rules):
    """{question key: the choice values that raise an urgent flag}, for the patient's
    page to warn as soon as one is ticked."""
    urgent = {}
    for rule in rules:
        if rule.urgent and rule.kind == RedFlagRule.Kind.ANSWER_INCLUDES:
            urgent.setdefault(rule.question.key, set()).add(rule.choice_value)
    return urgent


def _raised(*, rules, answers, visit_date):
    """(rule, flag) for each rule the answers meet."""
    by_key = {answer.question_key: answer for answer in answers if not answer.is_blank}
    for rule in rules:
        answer = by_key.get(rule.question.key)
        if answer is None:
            continue
        if rule.kind == RedFlagRule.Kind.ANSWER_INCLUDES:
            if rule.choice_value in answer_types.of(answer).chosen(answer):
                yield (
                    rule,
                    {
                        "message": rule.message,
                        "reason": f"Answered “{rule.choice}” to “{answer.wording}”",
                        "urgent": rule.urgent,
                    },
                )
        elif rule.kind == RedFlagRule.Kind.LONGER_THAN and answer.value_date:
            days = days_between(answer.value_date, visit_date)
            if days > rule.days:
                yield (
                    rule,
                    {
                        "message": rule.message,
                        "reason": f"Answered {answer.display} to “{answer.wording}”: "
                        f"{days} days before the visit, more than {rule.days} days",
                        "urgent": rule.urgent,
                    },
                )


@dataclass
class Suggestion:
    """A catalog test worth ordering, and why: the condition itself, or red flags."""

    test: object
    reasons: list = field(default_factory=list)
    usual: bool = False


def suggested_tests(*, condition, answers, visit_date):
    """The tests the condition suggests for every visit, then those its raised flags
    suggest, each once with every reason; only tests of the condition's catalog.

    Queries: the catalog, the condition's suggestions, the rules with their questions,
    and the rules' suggestions (a prefetch): four, however many answers and rules.
    """
    catalog = set(condition.tests.values_list("pk", flat=True))
    suggestions = {}
    for test in condition.suggests.all():
        if test.pk in catalog:
            suggestions[test.pk] = Suggestion(test=test, usual=True)
    rules = condition.red_flag_rules.select_related("question").prefetch_related("suggests")
    for rule, flag in _raised(rules=rules, answers=answers, visit_date=visit_date):
        for test in rule.suggests.all():
            if test.pk in catalog:
                suggestion = suggestions.setdefault(test.pk, Suggestion(test=test))
                suggestion.reasons.append(flag["message"])
    return list(suggestions.values())
