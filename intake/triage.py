"""Red flags: the condition's rules applied to a visit's answers.

Flags are worked out when answers are saved and kept on the visit, so lists of visits
show them without loading answers, and a later change to the rules does not rewrite
what staff saw for a past visit.
"""

from conditions.models import HistoryQuestion, RedFlagRule


def red_flags(*, rules, answers, visit_date):
    """A list of {"message", "reason"} for the rules that the answers meet."""
    by_key = {answer.question_key: answer for answer in answers if not answer.is_blank}
    flags = []
    for rule in rules:
        answer = by_key.get(rule.question.key)
        if answer is None:
            continue
        if rule.kind == RedFlagRule.Kind.ANSWER_INCLUDES:
            if rule.choice_value in _chosen_values(answer):
                flags.append(
                    {
                        "message": rule.message,
                        "reason": f"Answered “{rule.choice}” to “{answer.wording}”",
                    }
                )
        elif rule.kind == RedFlagRule.Kind.LONGER_THAN and answer.value_date:
            days = (visit_date - answer.value_date).days
            if days > rule.days:
                flags.append(
                    {
                        "message": rule.message,
                        "reason": f"Answered {answer.display} to “{answer.wording}”: {days} days "
                        f"before the visit (more than {rule.days})",
                    }
                )
    return flags


def _chosen_values(answer):
    if answer.answer_type == HistoryQuestion.AnswerType.YES_NO:
        return {"yes" if answer.value_bool else "no"}
    value = answer.value
    return value if isinstance(value, set) else {value}
