"""The benchmark's settings and baseline page: mounted by bench.settings, never by the
clinic's own URLs."""

import importlib

import pytest
from django.urls import resolve

from bench import views


def test_bench_settings_mount_the_baseline_page_on_the_clinics_urls():
    settings = importlib.import_module("bench.settings")

    assert settings.ROOT_URLCONF == "bench.urls"
    assert "bench" in settings.INSTALLED_APPS
    assert resolve("/bench/baseline/", urlconf="bench.urls").func is views.baseline
    assert resolve("/staff/", urlconf="bench.urls").view_name == "intake:today"


def test_the_clinics_own_urls_do_not_serve_the_baseline_page(client):
    assert client.get("/bench/baseline/").status_code == 404


@pytest.mark.django_db
def test_the_baseline_page_runs_one_query(client, settings, django_assert_num_queries):
    settings.ROOT_URLCONF = "bench.urls"
    settings.BENCH_TRUST = True
    settings.INSTALLED_APPS = [*settings.INSTALLED_APPS, "bench"]

    with django_assert_num_queries(1):
        response = client.get("/bench/baseline/")

    assert response.status_code == 200
    assert b"<h1>Conditions</h1>" in response.content


def test_without_trust_the_bench_settings_drop_history_and_csp(monkeypatch):
    import bench.settings

    monkeypatch.setenv("BENCH_TRUST", "0")
    try:
        untrusted = importlib.reload(bench.settings)
        assert untrusted.SIMPLE_HISTORY_ENABLED is False
        assert "django.middleware.csp.ContentSecurityPolicyMiddleware" not in untrusted.MIDDLEWARE
    finally:
        monkeypatch.delenv("BENCH_TRUST")
        trusted = importlib.reload(bench.settings)
    assert "django.middleware.csp.ContentSecurityPolicyMiddleware" in trusted.MIDDLEWARE
    assert trusted.SIMPLE_HISTORY_ENABLED is True


@pytest.mark.django_db
def test_without_trust_audit_events_are_written_unchained(settings, monkeypatch):
    import bench
    from audit import models, trail
    from audit.actors import Actor
    from bench.apps import BenchConfig

    monkeypatch.setattr(models, "_append", models._append)  # put back after the test
    settings.BENCH_TRUST = False
    BenchConfig("bench", bench).ready()

    event = trail.record(
        action=models.AuditEvent.Action.VIEW, record_type="bench", actor=Actor.system("bench")
    )

    event.refresh_from_db()
    assert (event.prev_hash, event.hash) == ("", "")
    assert event.at is not None
