from django.db import migrations, models

from audit import chain

BATCH = 2000


def link_existing_events(apps, schema_editor):
    """Chain the events recorded before there was a chain, in id order, a batch at a
    time (before 0004 makes the table refuse updates)."""
    AuditEvent = apps.get_model("audit", "AuditEvent")
    events = AuditEvent.objects.using(schema_editor.connection.alias).order_by("pk")
    previous, last_pk = chain.GENESIS, 0
    while batch := list(events.filter(pk__gt=last_pk)[:BATCH]):
        for event in batch:
            event.prev_hash = previous
            event.hash = previous = chain.event_hash(chain.fields_of(event))
        AuditEvent.objects.bulk_update(batch, ["prev_hash", "hash"])
        last_pk = batch[-1].pk


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0002_more_actions"),
    ]

    operations = [
        migrations.AlterField(
            model_name="auditevent",
            name="at",
            field=models.DateTimeField(db_index=True, editable=False),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="prev_hash",
            field=models.CharField(default="", editable=False, max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditevent",
            name="hash",
            field=models.CharField(
                default="",
                editable=False,
                help_text="SHA-256 of this event and prev_hash.",
                max_length=64,
            ),
            preserve_default=False,
        ),
        migrations.RunPython(link_existing_events, migrations.RunPython.noop),
    ]
