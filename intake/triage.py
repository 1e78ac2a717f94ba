"""Red flags: the condition's rules applied to a visit's answers; and the tests that the
condition and the flags raised suggest ordering.

Flags are worked out when answers are saved and kept on the visit, so lists of visits
show them without loading answers. Rules and suggestions both come from the visit's
content version, so a later publish does not change what a visit's answers raise.
"""

from dataclasses import dataclass, field

from conditions.models import HistoryQuestion, RedFlagRule

from .durations import days_between


def red_flags(*, rules, answers, visit_date):
    """A list of {"message", "reason"} for the rules that the answers meet."""
    return [flag for _, flag in _raised(rules=rules, answers=answers, visit_date=visit_date)]


def _raised(*, rules, answers, visit_date):
    """(rule, flag) for each rule the answers meet."""
    by_key = {answer.question_key: answer for answer in answers if not answer.is_blank}
    for rule in rules:
        answer = by_key.get(rule.question.key)
        if answer is None:
            continue
        if rule.kind == RedFlagRule.Kind.ANSWER_INCLUDES:
            if rule.choice_value in _chosen_values(answer):
                yield (
                    rule,
                    {
                        "message": rule.message,
                        "reason": f"Answered “{rule.choice}” to “{answer.wording}”",
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
                    },
                )


def _chosen_values(answer):
    if answer.answer_type == HistoryQuestion.AnswerType.YES_NO:
        return {"yes" if answer.value_bool else "no"}
    value = answer.value
    return value if isinstance(value, set) else {value}


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
