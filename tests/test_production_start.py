"""The production start that ships with the project: `make serve`, gunicorn with
config/gunicorn.conf.py and its redacted access log, and the documented production
settings passing `check --deploy`."""

import datetime
import os
import re
import secrets
import subprocess
import sys
import types

import pytest
from django.db import connection
from gunicorn.config import Config

from config.access_log import RedactingAccessLogger

from .serving import ROOT, Browser, collected_static, database_url, serve


def documented_production_settings():
    """The environment variables README.md's Production section lists, as a dict."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    production = readme.split("### Production", 1)[1]
    block = production.split("```sh\n", 1)[1].split("```", 1)[0]
    return dict(line.split("=", 1) for line in block.splitlines() if line.strip())


def test_check_deploy_passes_with_the_documented_production_settings():
    documented = documented_production_settings()
    assert documented["DEBUG"] == "0"
    # README shows where the key goes; a real one is made as README says.
    environment = {**documented, "SECRET_KEY": secrets.token_urlsafe(50)}

    check = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **environment},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert check.returncode == 0, check.stdout + check.stderr
    assert "no issues" in check.stdout


def make_serve(**environment):
    """`make serve` run as an operator would, with only this environment."""
    return subprocess.run(
        ["make", "--no-print-directory", "serve"],  # noqa: S607 (make from PATH, as people run it)
        cwd=ROOT,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **environment},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("environment", "message"),
    [
        ({"DEBUG": "1", "SECRET_KEY": "x" * 50}, "DEBUG is on"),
        ({"DEBUG": "True", "SECRET_KEY": "x" * 50}, "DEBUG is on"),
        ({"DEBUG": "0"}, "SECRET_KEY is not set"),
    ],
)
def test_make_serve_refuses_to_start_in_development_mode_or_without_a_secret_key(
    environment, message, tmp_path
):
    started = make_serve(ENV_FILE=str(tmp_path / "none.env"), **environment)

    assert started.returncode != 0
    assert message in started.stderr


def test_make_serve_reads_the_env_file(tmp_path):
    env_file = tmp_path / "clinic.env"
    env_file.write_text("DEBUG=on\nSECRET_KEY=" + "x" * 50 + "\n")

    started = make_serve(ENV_FILE=str(env_file))

    assert started.returncode != 0
    assert "DEBUG is on" in started.stderr


# The access log


def access_log_line(*, raw_uri, referer="-"):
    """The line gunicorn's access log writes for one request, with our logger class and
    gunicorn's default format."""
    config = Config()
    logger = RedactingAccessLogger(config)
    path, _, query = raw_uri.partition("?")
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": raw_uri,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_REFERER": referer,
        "HTTP_USER_AGENT": "test",
    }
    request = types.SimpleNamespace(headers=[("REFERER", referer)])
    response = types.SimpleNamespace(status="200 OK", sent=512, headers=[])
    atoms = logger.atoms(response, request, environ, datetime.timedelta(milliseconds=5))
    return config.access_log_format % logger.atoms_wrapper_class(atoms)


@pytest.mark.parametrize(
    ("raw_uri", "expected"),
    [
        ("/v/Abc-123_xyz/", '"GET /v/[token]/ HTTP/1.1"'),
        ("/v/Abc-123_xyz/questions/", '"GET /v/[token]/questions/ HTTP/1.1"'),
        (
            "/admin/intake/visit/?q=Okafor&status__exact=booked",
            '"GET /admin/intake/visit/?q=[redacted]&status__exact=[redacted] HTTP/1.1"',
        ),
        ("/admin/intake/patient/?Okafor", '"GET /admin/intake/patient/?[redacted] HTTP/1.1"'),
        ("/staff/visits/12/", '"GET /staff/visits/12/ HTTP/1.1"'),
    ],
)
def test_the_access_log_redacts_tokens_and_query_values(raw_uri, expected):
    line = access_log_line(raw_uri=raw_uri)

    assert expected in line
    assert "Abc-123_xyz" not in line
    assert "Okafor" not in line


def test_the_access_log_redacts_the_referer():
    line = access_log_line(
        raw_uri="/admin/intake/visit/3/change/",
        referer="https://intake.example-clinic.org/admin/intake/visit/?q=Okafor",
    )

    assert '"https://intake.example-clinic.org/admin/intake/visit/?q=[redacted]"' in line
    assert "Okafor" not in line


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the server process needs the test database on a database server",
)
@pytest.mark.django_db(transaction=True)
def test_the_access_log_keeps_no_token_or_search_term_after_a_patient_journey(
    link_token,
    upcoming_visit,
    provider,
    client,
    form_values,
    intake_data,
    tmp_path,
    tmp_path_factory,
):
    access_log = tmp_path / "access.log"
    client.force_login(provider)
    family_name = upcoming_visit.patient.family_name
    born = upcoming_visit.patient.date_of_birth
    with serve(
        database_url=database_url(connection.settings_dict),
        static_root=collected_static(tmp_path_factory),
        output=tmp_path / "gunicorn.log",
        GUNICORN_ACCESS_LOG=str(access_log),
    ) as server:
        patient = Browser(server)
        start = f"/v/{link_token}/"
        page = patient.get(start)
        assert page.status == 200, server.log()
        form_key = form_values(page.text)["form_key"]
        page = patient.post(
            start, {"form_key": form_key, "day": born.day, "month": born.month, "year": born.year}
        )
        assert page.status == 302
        assert page.headers["Location"] == f"{start}questions/"

        page = patient.get(f"{start}questions/")
        assert page.status == 200
        for action in ("save", "continue"):
            fields = form_values(page.text)
            answers = {
                **fields,
                **intake_data(upcoming_visit, action=action),
                "intake_version": fields["intake_version"],  # the page's, as a browser sends
            }
            page = patient.post(f"{start}questions/", answers)
            assert page.status == 302, page.text
            # Saving comes back to the page, as saved, by GET; continuing goes on to the
            # photos page, and from there to confirm.
            page = patient.get(page.headers["Location"])
        page = patient.get(f"{start}confirm/")
        attestation = {"respondent": "patient", "full_name": "Ines Okafor", "confirmed": "on"}
        page = patient.post(f"{start}confirm/", {**form_values(page.text), **attestation})
        assert page.headers["Location"] == f"{start}done/", page.text
        assert patient.get(f"{start}done/").status == 200

        # A provider searches the admin for the patient (on the way, perhaps, through the
        # second factor's page, which comes back with the search in ?next=), then opens a
        # visit from the results, whose Referer is the search.
        provider_browser = Browser(server)
        provider_browser.cookies["sessionid"] = client.cookies["sessionid"].value
        search = f"/admin/intake/visit/?q={family_name}"
        assert provider_browser.get(search, follow=True).status == 200
        visit_page = f"/admin/intake/visit/{upcoming_visit.pk}/change/"
        provider_browser.get(visit_page, Referer=f"https://{server.host}:{server.port}{search}")

    log = access_log.read_text()
    app_log = (tmp_path / "gunicorn.log").read_text()
    for secret in (link_token, family_name):
        assert secret not in app_log
    assert link_token not in log
    assert family_name not in log
    assert born.isoformat() not in log
    assert len(re.findall(r"/v/\[token\]/", log)) >= 6
    assert '"GET /admin/intake/visit/?q=[redacted] HTTP/1.1"' in log
    assert f"{visit_page} HTTP/1.1" in log
    assert '/admin/intake/visit/?q=[redacted]"' in log
