"""When the database cannot be reached: every page answers 503 (nothing saved, try again)
instead of a server error, /healthz says so to load balancers, and on PostgreSQL the app
under gunicorn survives the database dropping its connections and going away."""

import contextlib
import json
import socket
import threading

import pytest
from django.db import OperationalError, connection
from django.test import Client

from audit.models import AuditEvent
from intake.patient_views import FORM_KEY

from .conftest import PreVisitPatient
from .serving import Browser, collected_static, database_url, serve

UNAVAILABLE = "The system cannot reach its records just now, so nothing was saved."


def refuse_every_query(execute, sql, params, many, context):
    raise OperationalError("connection refused")


def refuse_session_writes(execute, sql, params, many, context):
    if "django_session" in sql and not sql.lstrip().upper().startswith("SELECT"):
        raise OperationalError("connection refused")
    return execute(sql, params, many, context)


@pytest.fixture
def database_down():
    """From here on every query this test's requests make fails as it does when the
    database is down (Django's query hook, in front of the real connection)."""
    with connection.execute_wrapper(refuse_every_query):
        yield


def as_browser(client):
    """The test client answering with the page a person would see, not the exception."""
    client.raise_request_exception = False
    return client


def assert_unavailable_page(response):
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response["Cache-Control"] == "no-store"
    assert UNAVAILABLE in response.text
    assert "Please try again in a minute" in response.text
    assert "Traceback" not in response.text


def test_a_public_page_says_try_again_while_the_database_is_down(client, condition):
    with connection.execute_wrapper(refuse_every_query):
        response = as_browser(client).get(f"/conditions/{condition.slug}/")

    assert_unavailable_page(response)


def test_a_staff_page_says_try_again_while_the_database_is_down(desk_client):
    with connection.execute_wrapper(refuse_every_query):
        response = as_browser(desk_client).get("/staff/")

    assert_unavailable_page(response)


def test_a_patient_page_says_nothing_was_saved_while_the_database_is_down(
    client, link_token, upcoming_visit
):
    PreVisitPatient(as_browser(client), link_token).get()
    form_key = client.session[FORM_KEY]

    with connection.execute_wrapper(refuse_every_query):
        response = client.post(
            f"/v/{link_token}/", {"form_key": form_key, "day": 27, "month": 3, "year": 1995}
        )

    assert_unavailable_page(response)
    assert link_token not in response.text
    assert "1995" not in response.text


def test_a_session_that_cannot_be_saved_after_the_page_ends_as_the_unavailable_page(
    client, link_token, upcoming_visit
):
    # The patient page itself works; saving the new session (in the session middleware,
    # after the view) is what fails.
    with connection.execute_wrapper(refuse_session_writes):
        response = as_browser(client).get(f"/v/{link_token}/")

    assert_unavailable_page(response)


def test_other_errors_still_show_the_server_error_page(client, condition):
    def fail(execute, sql, params, many, context):
        raise ValueError("a bug, not the database")

    with connection.execute_wrapper(fail):
        response = as_browser(client).get(f"/conditions/{condition.slug}/")

    assert response.status_code == 500
    assert "Something went wrong" in response.text
    assert "Retry-After" not in response


# The health check


def test_healthz_says_the_database_is_ok_without_a_session_or_an_audit_event(
    db, django_assert_num_queries
):
    with django_assert_num_queries(1):
        response = Client().get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"database": "ok"}
    assert "no-store" in response["Cache-Control"]
    assert not response.cookies
    assert "Cookie" not in response.get("Vary", "")
    assert not AuditEvent.objects.exists()


def test_healthz_answers_503_while_the_database_is_down(db, database_down):
    response = as_browser(Client()).get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"database": "unavailable"}


def test_healthz_answers_over_plain_http_where_other_pages_redirect_to_https(db, settings):
    settings.SECURE_SSL_REDIRECT = True

    assert Client().get("/healthz").status_code == 200
    assert Client().get("/conditions/").status_code == 301


# PostgreSQL restarting and going away, under gunicorn


class Forwarder:
    """A TCP forwarder on 127.0.0.1 in front of the database, which the test can switch
    off (new connections refused, open ones cut, as when the database stops) and on
    again on the same port."""

    def __init__(self, target):
        self.target = target
        self.port = 0
        self._listener = None
        self._open = set()  # (client side, database side) socket pairs
        self._lock = threading.Lock()

    def start(self):
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, args=(self._listener,), daemon=True).start()

    def stop(self):
        if self._listener is None:
            return
        # shutdown() wakes the thread blocked in accept() or recv(); close() alone does not.
        self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        self._listener = None
        with self._lock:
            pairs, self._open = self._open, set()
        for pair in pairs:
            for end in pair:
                _cut(end)

    def database_side_ports(self):
        """The local ports of the forwarder's connections to the database, which is what
        pg_stat_activity.client_port shows for the server's backends."""
        with self._lock:
            return {upstream.getsockname()[1] for _, upstream in self._open}

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:  # stopped
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                _cut(client)
                continue
            upstream.settimeout(None)
            pair = (client, upstream)
            with self._lock:
                self._open.add(pair)
            for source, sink in (pair, pair[::-1]):
                threading.Thread(target=self._pipe, args=(source, sink, pair), daemon=True).start()

    def _pipe(self, source, sink, pair):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with self._lock:
                self._open.discard(pair)
            _cut(source)
            _cut(sink)


def _cut(end):
    with contextlib.suppress(OSError):  # already closed at the other end
        end.shutdown(socket.SHUT_RDWR)
    end.close()


def terminate_other_backends():
    """pg_terminate_backend() for every other connection to the test database, as a
    restart does; the client ports of those it ended."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, client_port FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        backends = dict(cursor.fetchall())
        cursor.execute("SELECT pg_terminate_backend(pid) FROM unnest(%s) AS pid", [list(backends)])
    return set(backends.values())


@pytest.fixture
def forwarder():
    """A forwarder to the test database, started."""
    database = connection.settings_dict
    forwarder = Forwarder((database["HOST"] or "127.0.0.1", int(database["PORT"] or 5432)))
    forwarder.start()
    yield forwarder
    forwarder.stop()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's connection pool")
@pytest.mark.django_db(transaction=True)
def test_pages_survive_the_database_dropping_connections_and_going_away(
    client, front_desk, condition, forwarder, tmp_path, tmp_path_factory
):
    client.force_login(front_desk)
    with serve(
        database_url=database_url(connection.settings_dict, host="127.0.0.1", port=forwarder.port),
        static_root=collected_static(tmp_path_factory),
        output=tmp_path / "gunicorn.log",
        # Each page waits this long for the database while it is down (default 3 s).
        DATABASE_POOL_TIMEOUT="2",
    ) as server:
        staff = Browser(server)
        staff.cookies["sessionid"] = client.cookies["sessionid"].value
        public = Browser(server)
        staff_page = (staff, "/staff/")
        public_page = (public, f"/conditions/{condition.slug}/")

        def statuses(pages):
            return [browser.get(path).status for browser, path in pages]

        # The workers' pools hold connections through the forwarder.
        assert statuses([staff_page, public_page] * 3) == [200] * 6, server.log()
        held = forwarder.database_side_ports()

        # The database drops every connection (a restart): the pools replace them.
        terminated = terminate_other_backends()
        assert held and held <= terminated
        assert statuses([staff_page, public_page] * 5 + [staff_page]) == [200] * 11, server.log()

        # The database is gone: a page saying nothing was saved, not a server error.
        forwarder.stop()
        for browser, path in [staff_page, public_page]:
            page = browser.get(path)
            assert page.status == 503, (path, page.status, server.log())
            assert UNAVAILABLE in page.text
            assert page.headers["Retry-After"] == "30"
        health = Browser(server, https=False).get("/healthz")
        assert health.status == 503
        assert json.loads(health.text) == {"database": "unavailable"}

        # It is back: the next request succeeds, with no restart of the app.
        forwarder.start()
        assert statuses([staff_page]) == [200], server.log()
        assert statuses([public_page]) == [200], server.log()
        assert Browser(server, https=False).get("/healthz").status == 200
