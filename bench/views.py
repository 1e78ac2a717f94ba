"""The one-query baseline page the benchmark compares the clinic's pages with."""

from django.shortcuts import render

from conditions.models import Condition


def baseline(request):
    """One query and a small template: what any page costs before its own work."""
    titles = list(Condition.objects.values_list("title", flat=True)[:10])
    return render(request, "bench/baseline.html", {"titles": titles})
