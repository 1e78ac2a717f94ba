"""The database's own refusal to change or delete rows that must stay as written.

A `Guard` is a pair of triggers on one table that refuse UPDATE and DELETE of its rows
(or only of the rows its `locked` condition picks, such as signed clinical notes), so
raw SQL and the ORM's back doors (`_raw_delete()`, `QuerySet.update()` reached through
`super()`) fail as the model's own methods do. Audit events are guarded here (migration
audit 0004 installs the triggers on PostgreSQL and SQLite); other apps declare their
own guards and install them in a migration the same way.

What they do not stop:
- TRUNCATE on PostgreSQL (row triggers do not fire on it). Django's `flush`, and so the
  test suite, empties tables with it. In production, let the application connect as a
  role that may only SELECT and INSERT on the audit table and does not own it (an owner
  can drop a trigger); `verify_audit` with a noted head shows a trail emptied or cut off.
- On SQLite, `flush` empties tables with DELETE: the audit app's own `flush` command
  lifts every guard for the length of that one transaction (see `lifted`).
- A migration that alters a guarded table on SQLite rebuilds the table and loses the
  triggers: end such a migration with `RunPython` installing them again, as audit 0004
  does; `verify_audit` fails while the audit table's are missing.
"""

from contextlib import contextmanager
from dataclasses import dataclass

from django.db import transaction

# Every guard declared, by name; `flush` lifts them all.
GUARDS = {}


@dataclass(frozen=True)
class Guard:
    """Triggers refusing UPDATE and DELETE on `table`: on every row, or, with `locked`
    (an SQL condition on the row as it stands, `OLD`), on the rows it picks."""

    name: str
    table: str
    message: str
    locked: str = ""

    def __post_init__(self):
        GUARDS[self.name] = self

    @property
    def _function(self):
        return f"{self.name}_refuse_change"

    def _triggers(self, connection):
        when = f"WHEN ({self.locked})" if self.locked else ""
        if connection.vendor == "postgresql":
            return {
                f"{self.name}_append_only": f"""
                    CREATE TRIGGER {self.name}_append_only BEFORE UPDATE OR DELETE
                    ON {self.table} FOR EACH ROW {when} EXECUTE FUNCTION {self._function}()
                """,
            }
        if connection.vendor == "sqlite":
            return {
                f"{self.name}_no_{operation.lower()}": f"""
                    CREATE TRIGGER {self.name}_no_{operation.lower()} BEFORE {operation}
                    ON {self.table} FOR EACH ROW {when}
                    BEGIN SELECT RAISE(ABORT, '{self.message}: {operation} refused.'); END
                """
                for operation in ("UPDATE", "DELETE")
            }
        raise NotImplementedError(
            f"No append-only triggers for {connection.vendor}: {self.table} needs "
            "PostgreSQL or SQLite."
        )

    def install(self, connection):
        """Create the triggers (and on PostgreSQL the function they call)."""
        triggers = self._triggers(connection)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(f"""
                    CREATE OR REPLACE FUNCTION {self._function}() RETURNS trigger
                    LANGUAGE plpgsql AS $$
                    BEGIN
                        RAISE EXCEPTION '{self.message}: % refused.', TG_OP
                            USING ERRCODE = 'integrity_constraint_violation';
                    END;
                    $$
                """)
            for create in triggers.values():
                cursor.execute(create)

    def remove(self, connection, *, keep_function=False):
        """Drop the triggers (and, unless kept, the function)."""
        triggers = self._triggers(connection)
        on_table = f" ON {self.table}" if connection.vendor == "postgresql" else ""
        with connection.cursor() as cursor:
            for name in triggers:
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}{on_table}")
            if connection.vendor == "postgresql" and not keep_function:
                cursor.execute(f"DROP FUNCTION IF EXISTS {self._function}()")

    def installed(self, connection):
        """Whether every trigger is in place (and, on PostgreSQL, enabled)."""
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    "SELECT tgname FROM pg_trigger "
                    "WHERE tgrelid = to_regclass(%s) AND tgenabled <> 'D'",
                    [self.table],
                )
            else:
                cursor.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s",
                    [self.table],
                )
            present = {name for (name,) in cursor.fetchall()}
        return present >= set(self._triggers(connection))


TABLE = "audit_auditevent"
MESSAGE = "Audit events are append-only"
AUDIT_EVENTS = Guard(name="audit_event", table=TABLE, message=MESSAGE)


def install(connection):
    """The audit trail's triggers (see AUDIT_EVENTS)."""
    AUDIT_EVENTS.install(connection)


def remove(connection, *, keep_function=False):
    AUDIT_EVENTS.remove(connection, keep_function=keep_function)


def installed(connection):
    return AUDIT_EVENTS.installed(connection)


@contextmanager
def lifted(connection):
    """Every installed guard's triggers dropped for the length of one transaction and put
    back at its end, or left in place if anything inside fails (both databases roll DDL
    back).

    For `flush`, the operator's explicit "empty every table", and for tests that tamper
    with the trail on purpose to show that `verify_audit` finds it. Nothing else.
    """
    guards = [guard for guard in GUARDS.values() if guard.installed(connection)]
    with transaction.atomic(using=connection.alias):
        for guard in guards:
            guard.remove(connection, keep_function=True)
        yield
        for guard in guards:
            guard.install(connection)
