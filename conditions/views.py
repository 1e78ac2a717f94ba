"""The public patient-education pages."""

from django.shortcuts import get_object_or_404, render

from .models import Condition


def condition_list(request):
    conditions = Condition.objects.published().only("title", "slug", "definition")
    return render(request, "conditions/condition_list.html", {"conditions": conditions})


def condition_detail(request, slug):
    condition = get_object_or_404(Condition.objects.published(), slug=slug)
    return render(request, "conditions/condition_detail.html", page_context(condition))


def page_context(condition, *, preview=False):
    """What the condition page shows; shared with the admin's preview of a draft.

    Queries: the condition, its sections with their items (one prefetch), its
    questions and its tests: a fixed number however long the content grows.
    """
    sections = condition.sections.prefetch_related("items")
    return {
        "condition": condition,
        "sections": [(section, section.item_tree()) for section in sections],
        "questions": condition.questions.all(),
        "tests": condition.tests.all(),
        "preview": preview,
    }
