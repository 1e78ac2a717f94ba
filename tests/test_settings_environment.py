"""The settings the environment gives: .env.example lists every one the app reads (so it
cannot fall behind config/settings.py), and DATABASE_PGBOUNCER shapes the database
connection for PgBouncer in transaction mode."""

import ast
import json
import os
import re
import subprocess
import sys

import pytest

from .serving import ROOT
from .test_production_start import documented_production_settings

ENV_EXAMPLE = ROOT / ".env.example"
SOURCES = [ROOT / "config" / "settings.py", ROOT / "config" / "gunicorn.conf.py"]
# settings.py's helpers that read one variable each, named by their first argument.
READERS = {"os.environ.get", "os.getenv", "env_bool", "env_list"}


class EnvironmentReads(ast.NodeVisitor):
    """The environment variables a module reads: os.environ.get("X"), os.environ["X"],
    os.getenv("X"), env_bool("X"), env_list("X"), and env="X" (dj_database_url). A read
    whose name is not written out fails, except inside the helpers themselves."""

    def __init__(self):
        self.names = set()

    def visit_FunctionDef(self, node):
        if node.name not in READERS:
            self.generic_visit(node)

    def visit_Call(self, node):
        if ast.unparse(node.func) in READERS:
            self.names.add(self.written_out(node.args[0]))
        self.generic_visit(node)

    def visit_Subscript(self, node):
        if ast.unparse(node.value) == "os.environ":
            self.names.add(self.written_out(node.slice))
        self.generic_visit(node)

    def visit_keyword(self, node):
        if node.arg == "env":
            self.names.add(self.written_out(node.value))
        self.generic_visit(node)

    @staticmethod
    def written_out(name):
        assert isinstance(name, ast.Constant), f"an environment name not written out: {name}"
        return name.value


def environment_names_read(path):
    reads = EnvironmentReads()
    reads.visit(ast.parse(path.read_text(encoding="utf-8")))
    return reads.names


def env_example_lines():
    """{name: value} for the lines of .env.example in force, and the names of the
    commented-out ones."""
    in_force, commented = {}, set()
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        if match := re.fullmatch(r"([A-Z][A-Z0-9_]*)=(.*)", line):
            in_force[match[1]] = match[2]
        elif match := re.fullmatch(r"# ([A-Z][A-Z0-9_]*)=.*", line):
            commented.add(match[1])
    return in_force, commented


def test_env_example_lists_every_setting_read_from_the_environment_and_no_other():
    read = set().union(*(environment_names_read(path) for path in SOURCES))
    in_force, commented = env_example_lines()

    # The reader finds each way of reading (a sanity check on the parsing above).
    assert {"DEBUG", "EMAIL_HOST", "ALLOWED_HOSTS", "DATABASE_URL", "GUNICORN_BIND"} <= read
    assert read - (in_force.keys() | commented) == set(), "missing from .env.example"
    assert (in_force.keys() | commented) - read == set(), "read by nothing"
    assert not in_force.keys() & commented, "both set and commented out"


def test_env_example_sets_exactly_the_production_settings_readme_documents():
    # README's list is the one `check --deploy` is tested with (test_production_start.py).
    in_force, _ = env_example_lines()

    assert in_force == documented_production_settings()


# PgBouncer


def database_settings(**environment):
    """settings.DATABASES["default"] as a fresh process builds it from `environment`."""
    code = (
        "import json; from django.conf import settings; "
        "print(json.dumps(settings.DATABASES['default'], default=repr))"
    )
    loaded = subprocess.run(  # noqa: S603 (this interpreter, our own code)
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DEBUG": "1",
            **environment,
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(loaded.stdout)


POSTGRES = "postgres://clinic:secret@db.example-clinic.org:6432/clinic"


@pytest.mark.parametrize("switch", ["1", "true", "on"])
def test_behind_pgbouncer_the_app_keeps_no_pool_cursor_or_prepared_statement(switch):
    database = database_settings(DATABASE_URL=POSTGRES, DATABASE_PGBOUNCER=switch)

    assert (database["HOST"], database["PORT"], database["NAME"]) == (
        "db.example-clinic.org",
        6432,
        "clinic",
    )
    assert "pool" not in database["OPTIONS"]
    assert database["CONN_MAX_AGE"] == 0
    assert database["DISABLE_SERVER_SIDE_CURSORS"] is True
    assert database["OPTIONS"]["prepare_threshold"] is None
    assert database["OPTIONS"]["connect_timeout"] == 3


@pytest.mark.parametrize("switch", [None, "0", ""])
def test_straight_to_postgresql_the_app_pools_its_connections(switch):
    environment = {"DATABASE_URL": POSTGRES, "DATABASE_POOL_MAX_SIZE": "4"}
    if switch is not None:
        environment["DATABASE_PGBOUNCER"] = switch

    database = database_settings(**environment)

    assert database["OPTIONS"]["pool"]["min_size"] == 2
    assert database["OPTIONS"]["pool"]["max_size"] == 4
    assert database["CONN_MAX_AGE"] == 0
    assert database["DISABLE_SERVER_SIDE_CURSORS"] is False
    assert database["OPTIONS"]["connect_timeout"] == 3
