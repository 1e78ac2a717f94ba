"""Red flags: the condition's rules applied to a visit's answers; and the tests that the
condition and the flags raised suggest ordering.

Flags are worked out when answers are saved and kept on the visit, so lists of visits
show them without loading answers. Rules and suggestions both come from the visit's
content version, so a later publish does not change what a visit's answers raise.
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
                        "reason": f"Answered “{rule.choice}” to “{answer.wording_in_english}”",
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
                        "reason": f"Answered {answer.display} to “{answer.wording_in_english}”: "
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


def suggested_tests(*, visit, answers, visit_date):
    """The tests the visit's content suggests for every visit, then those its raised
    flags suggest, each once with every reason; only tests of the content's catalog.

    Queries: the catalog's tests, one however many answers and rules.
    """
    if visit.content_version is None:
        return []
    catalog = {test.slug: test for test in visit.orderable_tests()}
    suggestions = {}
    for slug in visit.content_version.content.get("suggests", []):
        if slug in catalog:
            suggestions[slug] = Suggestion(test=catalog[slug], usual=True)
    rules = visit.content_version.red_flag_rules()
    for rule, flag in _raised(rules=rules, answers=answers, visit_date=visit_date):
        for slug in rule.suggested_slugs:
            if slug in catalog:
                suggestion = suggestions.setdefault(slug, Suggestion(test=catalog[slug]))
                suggestion.reasons.append(flag["message"])
    return list(suggestions.values())
