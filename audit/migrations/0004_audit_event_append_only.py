from django.db import migrations

from audit import append_only


def install_triggers(apps, schema_editor):
    append_only.install(schema_editor.connection)


def remove_triggers(apps, schema_editor):
    append_only.remove(schema_editor.connection)


class Migration(migrations.Migration):
    """The database refuses UPDATE and DELETE on audit events (see audit/append_only.py)."""

    dependencies = [
        ("audit", "0003_audit_event_hash_chain"),
    ]

    operations = [
        migrations.RunPython(install_triggers, remove_triggers),
    ]
