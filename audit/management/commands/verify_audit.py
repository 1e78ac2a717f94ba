"""Check the audit trail's hash chain from its first event to its last."""

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

from audit import append_only, chain
from audit.models import AuditEvent


class Command(BaseCommand):
    help = (
        "Walk the audit trail in id order and check each event's hash and its link to the "
        "event before it. Names the first event altered, removed or inserted out of order "
        "and exits non-zero; otherwise prints the number checked and the last event's id "
        "and hash, to note elsewhere and pass back with --head next time."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--head",
            metavar="ID:HASH",
            help="An event's id and hash noted from an earlier run: fail if that event is "
            "gone or changed (a trail cut off after it, or emptied).",
        )
        parser.add_argument("--batch-size", type=int, default=2000, help="Events per query.")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *, head, batch_size, database, **options):
        head_id, head_hash = _parse_head(head) if head else (None, None)
        seen = {}

        def events():
            # Keyset batches in id order: bounded memory, no long-held cursor.
            fields = ["id", "hash", "prev_hash", *chain.HASHED_FIELDS]
            trail = AuditEvent.objects.using(database).order_by("pk").values(*fields)
            last_pk = 0
            while batch := list(trail.filter(pk__gt=last_pk)[:batch_size]):
                for event in batch:
                    if event["id"] == head_id:
                        seen["head"] = event["hash"]
                    yield event
                last_pk = batch[-1]["id"]

        def id_with_hash(value):
            found = AuditEvent.objects.using(database).filter(hash=value)
            return found.values_list("id", flat=True).first()

        try:
            summary = chain.check(events(), id_with_hash=id_with_hash)
        except chain.BrokenChain as broken:
            raise CommandError(f"Audit trail broken: {broken}") from None
        if head_id is not None and seen.get("head") != head_hash:
            raise CommandError(
                f"Audit trail broken: event {head_id}, noted with hash {head_hash}, "
                + ("is gone." if "head" not in seen else f"now has hash {seen['head']}.")
            )
        if not append_only.installed(connections[database]):
            raise CommandError(
                "The chain holds, but the database no longer refuses UPDATE and DELETE on "
                "audit events: its triggers are missing (see audit/append_only.py)."
            )
        if summary.count == 0:
            self.stdout.write("Audit trail intact: no events yet.")
        else:
            self.stdout.write(
                f"Audit trail intact: {summary.count} events checked; "
                f"head {summary.last_id}:{summary.last_hash}"
            )


def _parse_head(value):
    event_id, _, event_hash = value.partition(":")
    if not event_id.isdigit() or len(event_hash) != 64:
        raise CommandError("--head takes an event id and its hash, as ID:HASH.")
    return int(event_id), event_hash
