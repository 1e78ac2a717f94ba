"""FHIR API timings as the data grows, against a baseline page measured in the same run.

    .venv/bin/python bench/fhir_api.py            # a throwaway SQLite database
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/clinic_bench .venv/bin/python bench/fhir_api.py

An API client with a token asks for: a Patient by id, the first page and the last page
of every Encounter (20 a page: keyset paging makes the last cost what the first does),
and a visit's QuestionnaireResponse by search. Prints the median time per request, the
ratio to the baseline (the public condition list) and the number of queries.
"""

import datetime
import json
import os

import environment  # noqa: F401  (sets Django up; must come first)
from data import populate
from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from pages import REPEAT, timed

SIZES = [100, 1000, 3000]
PAGE = 20


def last_page(client, url):
    """The address of a search's last page, reached by its next links."""
    while True:
        bundle = json.loads(client.get(url).content)
        following = [link["url"] for link in bundle["link"] if link["relation"] == "next"]
        if not following:
            return url
        url = following[0].removeprefix(settings.FHIR_BASE_URL.removesuffix("/fhir"))


def main():
    call_command("migrate", verbosity=0)
    with open(os.devnull, "w") as quiet:
        call_command("load_demo", stdout=quiet)
    from audit.actors import Actor
    from intake.models import Visit
    from interop.clients import create_api_client

    admin = User.objects.get(username="clinicadmin")
    _, token = create_api_client(
        name="Bench client",
        expires_at=timezone.now() + datetime.timedelta(days=1),
        actor=Actor.for_user(admin),
    )
    client = Client(HTTP_HOST="127.0.0.1", headers={"Authorization": f"Bearer {token}"})

    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    print(f"database: {engine}; median of {REPEAT} requests each; {PAGE} resources a page")
    print(f"{'request':<32}{'visits':>8}{'ms':>9}{'ratio':>8}{'queries':>9}")
    for size in SIZES:
        populate(size)
        baseline, baseline_queries = timed(client, "get", "/conditions/")
        visit = Visit.objects.order_by("pk").last()
        first = f"/fhir/Encounter?_count={PAGE}"
        rows = [
            ("baseline /conditions/", baseline, baseline_queries),
            ("metadata", *timed(client, "get", "/fhir/metadata")),
            ("Patient/<id>", *timed(client, "get", f"/fhir/Patient/{visit.patient_id}")),
            ("Encounter search, first page", *timed(client, "get", first)),
            ("Encounter search, last page", *timed(client, "get", last_page(client, first))),
            (
                "QuestionnaireResponse?encounter",
                *timed(client, "get", f"/fhir/QuestionnaireResponse?encounter={visit.pk}"),
            ),
        ]
        for name, ms, queries in rows:
            print(f"{name:<32}{size:>8}{ms:>9.1f}{ms / baseline:>8.1f}{queries:>9}")


if __name__ == "__main__":
    main()
