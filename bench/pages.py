"""Staff page timings as the data grows, against a baseline page measured in the same run.

    .venv/bin/python bench/pages.py            # a throwaway SQLite database
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/clinic_bench .venv/bin/python bench/pages.py

Prints, for each page and data size, the median time per request, the ratio to the
baseline (the public condition list), and the number of queries.
"""

import os
import statistics
import time

import environment  # noqa: F401  (sets Django up; must come first)
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bench.data import busiest_day, populate

REPEAT = 30
SIZES = [10, 100, 1000]


def timed(client, method, url, data=None):
    for _ in range(3):  # warm caches and connections before measuring
        getattr(client, method)(url, data) if data else getattr(client, method)(url)
    samples = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        response = getattr(client, method)(url, data) if data else getattr(client, method)(url)
        samples.append(time.perf_counter() - start)
        assert response.status_code == 200, (url, response.status_code)
    with CaptureQueriesContext(connection) as queries:
        getattr(client, method)(url, data) if data else getattr(client, method)(url)
    return statistics.median(samples) * 1000, len(queries)


def main():
    call_command("migrate", verbosity=0)
    with open(os.devnull, "w") as quiet:
        call_command("load_demo", stdout=quiet)
    from intake.models import Visit

    clerk = User.objects.get(username="frontdesk")
    clerk.groups.add(Group.objects.get(name="Front desk"))
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(clerk)

    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    print(f"database: {engine}; median of {REPEAT} requests each")
    print(f"{'page':<28}{'visits':>8}{'ms':>9}{'ratio':>8}{'queries':>9}")
    for size in SIZES:
        populate(size)
        day = busiest_day()
        baseline, baseline_queries = timed(client, "get", "/conditions/")
        visit = Visit.objects.filter(scheduled_at__date=day).first()
        rows = [
            ("baseline /conditions/", baseline, baseline_queries),
            ("today", *timed(client, "get", f"/staff/?day={day:%Y-%m-%d}")),
            ("patient search", *timed(client, "post", "/staff/patients/", {"q": "Patient"})),
            ("visit page", *timed(client, "get", f"/staff/visits/{visit.pk}/")),
        ]
        for name, ms, queries in rows:
            print(f"{name:<28}{size:>8}{ms:>9.1f}{ms / baseline:>8.1f}{queries:>9}")


if __name__ == "__main__":
    main()
