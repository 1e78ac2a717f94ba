"""The database's own refusal to change or delete audit events.

Triggers on the audit table refuse every UPDATE and DELETE, so raw SQL and the ORM's back
doors (`_raw_delete()`, `QuerySet.update()` reached through `super()`) fail as the model's
own methods do. Migration 0004 installs them on PostgreSQL and SQLite.

What they do not stop:
- TRUNCATE on PostgreSQL (row triggers do not fire on it). Django's `flush`, and so the
  test suite, empties tables with it. In production, let the application connect as a
  role that may only SELECT and INSERT on the audit table and does not own it (an owner
  can drop a trigger); `verify_audit` with a noted head shows a trail emptied or cut off.
- On SQLite, `flush` empties tables with DELETE: the audit app's own `flush` command
  lifts the triggers for the length of that one transaction (see `lifted`).
- A migration that alters the audit table on SQLite rebuilds the table and loses the
  triggers: end such a migration with `RunPython(install_triggers, remove_triggers)`
  as 0004 does; `verify_audit` fails while they are missing.
"""

from contextlib import contextmanager

from django.db import transaction

TABLE = "audit_auditevent"
MESSAGE = "Audit events are append-only"

_POSTGRESQL_FUNCTION = f"""
CREATE OR REPLACE FUNCTION audit_event_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '{MESSAGE}: % refused.', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$
"""
_TRIGGERS = {
    "postgresql": {
        "audit_event_append_only": f"""
            CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON {TABLE}
            FOR EACH ROW EXECUTE FUNCTION audit_event_refuse_change()
        """,
    },
    "sqlite": {
        f"audit_event_no_{operation.lower()}": f"""
            CREATE TRIGGER audit_event_no_{operation.lower()} BEFORE {operation} ON {TABLE}
            BEGIN SELECT RAISE(ABORT, '{MESSAGE}: {operation} refused.'); END
        """
        for operation in ("UPDATE", "DELETE")
    },
}


def _triggers(connection):
    try:
        return _TRIGGERS[connection.vendor]
    except KeyError:
        raise NotImplementedError(
            f"No append-only triggers for {connection.vendor}: the audit trail needs "
            "PostgreSQL or SQLite."
        ) from None


def install(connection):
    """Create the triggers (and on PostgreSQL the function they call)."""
    triggers = _triggers(connection)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_POSTGRESQL_FUNCTION)
        for create in triggers.values():
            cursor.execute(create)


def remove(connection, *, keep_function=False):
    """Drop the triggers (and, unless kept, the function)."""
    triggers = _triggers(connection)
    on_table = f" ON {TABLE}" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        for name in triggers:
            cursor.execute(f"DROP TRIGGER IF EXISTS {name}{on_table}")
        if connection.vendor == "postgresql" and not keep_function:
            cursor.execute("DROP FUNCTION IF EXISTS audit_event_refuse_change()")


def installed(connection):
    """Whether every trigger is in place (and, on PostgreSQL, enabled)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND tgenabled <> 'D'",
                [TABLE],
            )
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [TABLE]
            )
        present = {name for (name,) in cursor.fetchall()}
    return present >= set(_triggers(connection))


@contextmanager
def lifted(connection):
    """The triggers dropped for the length of one transaction and put back at its end,
    or left in place if anything inside fails (both databases roll DDL back).

    For `flush`, the operator's explicit "empty every table", and for tests that tamper
    with the trail on purpose to show that `verify_audit` finds it. Nothing else.
    """
    with transaction.atomic(using=connection.alias):
        remove(connection, keep_function=True)
        yield
        install(connection)
