"""The public patient-education pages, in each language a condition is published in."""

from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import translation

from .models import ORIGINAL_LANGUAGE, Condition


def condition_list(request):
    """Each published condition as last published. Queries: one."""
    conditions = Condition.objects.published().select_related("published_version")
    pages = sorted(
        ((condition, condition.published_version.page()) for condition in conditions),
        key=lambda pair: pair[1].title,
    )
    return render(request, "conditions/condition_list.html", {"pages": pages})


def condition_detail(request, slug, language=ORIGINAL_LANGUAGE):
    """The content as last published, however the editors' draft has changed since, in
    English or in a language the published revision is wholly translated into (else 404).

    Queries: the condition with its published version, one.
    """
    condition = get_object_or_404(
        Condition.objects.published().select_related("published_version"), slug=slug
    )
    version = condition.published_version
    languages = version.languages()
    if language not in languages:
        raise Http404("The condition is not published in this language.")
    with translation.override(language):
        # Rendered here, so that the content and the page's own words read in `language`.
        return render(
            request,
            "conditions/condition_detail.html",
            {
                **page_context(version, condition=condition),
                "alternates": [
                    (code, request.build_absolute_uri(page_url(condition, code)))
                    for code in languages
                ],
                "default_url": request.build_absolute_uri(page_url(condition, ORIGINAL_LANGUAGE)),
            },
        )


def page_url(condition, language):
    """The address of the condition's public page in `language`."""
    if language == ORIGINAL_LANGUAGE:
        return condition.get_absolute_url()
    return reverse("conditions:detail-in", kwargs={"slug": condition.slug, "language": language})


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
