"""Django's flush, which on SQLite must lift the audit trail's triggers to empty it."""

from django.core.management.commands import flush
from django.db import connections

from audit import append_only


class Command(flush.Command):
    help = (
        f"{flush.Command.help} On SQLite, where emptying is a DELETE, the append-only "
        "triggers (the audit trail's, signed notes') are lifted for that one transaction "
        "and put back."
    )

    def handle(self, **options):
        connection = connections[options["database"]]
        # PostgreSQL empties tables with TRUNCATE, which row triggers let through.
        if connection.vendor != "sqlite" or not any(
            guard.installed(connection) for guard in append_only.GUARDS.values()
        ):
            return super().handle(**options)
        # Asked before the transaction begins, so the question does not hold the lock.
        if (
            options["interactive"]
            and input(
                f"This will IRREVERSIBLY DESTROY all data in the {connection.settings_dict['NAME']}"
                " database, the audit trail included. Type 'yes' to continue: "
            )
            != "yes"
        ):
            self.stdout.write("Flush cancelled.")
            return None
        with append_only.lifted(connection):
            return super().handle(**{**options, "interactive": False})
