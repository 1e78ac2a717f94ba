"""The public patient-education pages."""

from django.shortcuts import get_object_or_404, render

from .models import Condition


def condition_list(request):
    """Each published condition as last published. Queries: one."""
    conditions = Condition.objects.published().select_related("published_version")
    pages = sorted(
        ((condition, condition.published_version.page()) for condition in conditions),
        key=lambda pair: pair[1].title,
    )
    return render(request, "conditions/condition_list.html", {"pages": pages})


def condition_detail(request, slug):
    """The content as last published, however the editors' draft has changed since.

    Queries: the condition with its published version, one.
    """
    condition = get_object_or_404(
        Condition.objects.published().select_related("published_version"), slug=slug
    )
    return render(
        request,
        "conditions/condition_detail.html",
        page_context(condition.published_version, condition=condition),
    )


def page_context(version, *, condition, preview=False):
    """What the condition page shows of a version of its content; shared with the
    admin's preview of the draft."""
    return {
        "condition": condition,
        "page": version.page(),
        "sections": version.sections(),
        "questions": version.questions(),
        "tests": version.content.get("tests", []),
        "preview": preview,
    }
