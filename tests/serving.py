"""The app under gunicorn, in a subprocess, with the shipped config/gunicorn.conf.py and
production settings (DEBUG off), for tests that need a real server: database faults, the
access log.

    with serve(database_url=..., static_root=collected_static(tmp_path_factory)) as server:
        browser = Browser(server)
        page = browser.get("/healthz")

The server answers on a free port on 127.0.0.1. It shares the test process's SECRET_KEY,
so a session made with the test client's `force_login` signs a `Browser` in too
(`browser.cookies["sessionid"] = client.cookies["sessionid"].value`).
"""

import contextlib
import http.client
import os
import socket
import subprocess
import sys
import urllib.parse
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
# Long enough that only a hang fails a test; a page answers in well under a second.
HTTP_TIMEOUT = 30


def production_env(**extra):
    """The environment of a production start: DEBUG off, HTTPS behind one trusted proxy
    (a `Browser` says X-Forwarded-Proto: https), nothing inherited but PATH."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SECRET_KEY": settings.SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1",
        "TRUSTED_PROXIES": "1",
        **extra,
    }


def database_url(settings_dict, *, host=None, port=None):
    """A DATABASE_URL for the database of these Django settings (the test database), or
    for the same database reached through another host and port."""
    credentials = urllib.parse.quote(settings_dict["USER"] or "postgres", safe="")
    if settings_dict["PASSWORD"]:
        credentials += ":" + urllib.parse.quote(settings_dict["PASSWORD"], safe="")
    host = host or settings_dict["HOST"] or "127.0.0.1"
    port = port or settings_dict["PORT"] or 5432
    return f"postgres://{credentials}@{host}:{port}/{settings_dict['NAME']}"


def collected_static(tmp_path_factory):
    """The static files collected (with whitenoise's manifest, which pages need with
    DEBUG off), once per test run."""
    root = tmp_path_factory.getbasetemp() / "collected-static"
    if not (root / "staticfiles.json").exists():
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"],
            cwd=ROOT,
            env=production_env(STATIC_ROOT=str(root)),
            check=True,
            timeout=300,
        )
    return root


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    output: Path

    @property
    def host(self):
        return urllib.parse.urlsplit(self.url).hostname

    @property
    def port(self):
        return urllib.parse.urlsplit(self.url).port

    def log(self):
        """What gunicorn and the app printed so far (for failure messages)."""
        return self.output.read_text(errors="replace")


@contextlib.contextmanager
def serve(*, database_url, static_root, output, workers=2, **env):
    """Run gunicorn with config/gunicorn.conf.py against `database_url`; its standard
    output and error go to the file `output`. Extra keyword arguments are environment
    variables (GUNICORN_ACCESS_LOG=path, say). Stops it on leaving."""
    # The test opens the listening socket and hands it over, so there is no race for the
    # port, and requests made before the workers are up wait in its queue.
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    environment = production_env(
        DATABASE_URL=database_url,
        STATIC_ROOT=str(static_root),
        GUNICORN_BIND=f"fd://{listener.fileno()}",
        WEB_CONCURRENCY=str(workers),
        **env,
    )
    with open(output, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--config", "config/gunicorn.conf.py"],
            cwd=ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            pass_fds=[listener.fileno()],
        )
    # gunicorn holds the socket now; if it dies, connecting fails at once.
    listener.close()
    try:
        yield Server(url=f"http://127.0.0.1:{port}", process=process, output=Path(output))
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class Page:
    status: int
    headers: http.client.HTTPMessage
    text: str


class Browser:
    """A browser, reduced to what these tests need: one connection per request, cookies
    kept (Secure ones too: it stands behind the clinic's TLS proxy, whose
    X-Forwarded-Proto: https it sends), redirects followed only when asked."""

    def __init__(self, server, *, https=True):
        self.server = server
        self.https = https
        self.cookies = {}

    def get(self, path, *, follow=False, **headers):
        """GET `path`; with `follow`, then the redirects it leads to, as a browser does."""
        page = self.request("GET", path, headers=headers)
        for _ in range(5 if follow else 0):
            if page.status not in (301, 302, 303, 307, 308):
                break
            target = urllib.parse.urlsplit(page.headers["Location"])
            page = self.request("GET", urllib.parse.urlunsplit(("", "", *target[2:])))
        return page

    def post(self, path, data, **headers):
        body = urllib.parse.urlencode(data, doseq=True)
        headers = {"Content-Type": "application/x-www-form-urlencoded", **headers}
        return self.request("POST", path, body=body, headers=headers)

    def request(self, method, path, *, body=None, headers=None):
        headers = {"Host": f"{self.server.host}:{self.server.port}", **(headers or {})}
        if self.https:
            headers["X-Forwarded-Proto"] = "https"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        connection = http.client.HTTPConnection(
            self.server.host, self.server.port, timeout=HTTP_TIMEOUT
        )
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            page = Page(response.status, response.headers, response.read().decode())
        finally:
            connection.close()
        for header in page.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                if morsel["max-age"] == "0":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return page
