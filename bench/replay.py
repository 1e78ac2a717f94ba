"""The SQL a request runs, captured in-process as the database receives it, for counting
queries and for replaying a request's statements straight to PostgreSQL (bench/load.py).
"""

import contextlib
import re
from dataclasses import dataclass, field

from django.db import connection

TRANSACTION_CONTROL = {"BEGIN", "COMMIT", "ROLLBACK"}


@dataclass
class Statements:
    """The statements one request ran, in order, with its transactions' BEGIN, COMMIT
    and ROLLBACK where Django's atomic blocks started and ended them."""

    sql: list = field(default_factory=list)
    counter: int | None = None

    @property
    def queries(self):
        """How many queries, as Django's own query counting counts them."""
        return sum(1 for statement in self.sql if statement not in TRANSACTION_CONTROL)

    def count_up(self, pattern):
        """Mark the one place `pattern` matches as the replay's __COUNTER__ (a version
        number that each replay must move on, say)."""
        matches = [n for n, statement in enumerate(self.sql) if re.search(pattern, statement)]
        if len(matches) != 1:
            raise ValueError(f"{pattern!r} matches {len(matches)} statements, not one.")
        statement = self.sql[matches[0]]
        self.sql[matches[0]] = re.sub(
            pattern, lambda m: re.sub(r"\d+$", "__COUNTER__", m[0]), statement
        )


@contextlib.contextmanager
def capture():
    """Record the default connection's statements, with their parameters bound as the
    database receives them (psycopg binds them in the client, as Django has it do)."""
    statements = Statements()

    def record(execute, sql, params, many, context):
        cursor = context["cursor"].cursor
        for one in params if many else [params]:
            statements.sql.append(cursor.mogrify(sql, one) if one is not None else sql)
        return execute(sql, params, many, context)

    marks = {
        "commit": "COMMIT",
        "rollback": "ROLLBACK",
    }
    originals = {name: getattr(connection, name) for name in (*marks, "set_autocommit")}

    def marked(name):
        def method(*args, **kwargs):
            statements.sql.append(marks[name])
            return originals[name](*args, **kwargs)

        return method

    def set_autocommit(autocommit, *args, **kwargs):
        if not autocommit:
            statements.sql.append("BEGIN")
        return originals["set_autocommit"](autocommit, *args, **kwargs)

    for name in marks:
        setattr(connection, name, marked(name))
    connection.set_autocommit = set_autocommit
    try:
        with connection.execute_wrapper(record):
            yield statements
    finally:
        for name in originals:
            delattr(connection, name)
