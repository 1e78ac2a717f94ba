"""manage.py export_fhir OUT_DIR: the records as FHIR NDJSON, one file per resource type."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from audit.actors import Actor
from interop import export

BAR_WIDTH = 30


class Command(BaseCommand):
    help = (
        "Write every record of the given FHIR resource types (all by default) as NDJSON, "
        "one file per type (Patient.ndjson, Encounter.ndjson, ...), in OUT_DIR."
    )

    def add_arguments(self, parser):
        parser.add_argument("out_dir", type=Path)
        parser.add_argument(
            "--since",
            help="Only records changed from then: a date (2026-11-30, from midnight UTC) or "
            "a date and time with its zone (2026-11-30T10:00:00Z).",
        )
        parser.add_argument(
            "--type",
            action="append",
            default=[],
            help=f"A resource type to export (repeat, or separate with commas): "
            f"{', '.join(export.TYPES)}.",
        )
        parser.add_argument("--batch-size", type=int, help="Rows read per query.")

    def handle(self, *args, out_dir, since, type, batch_size, **options):
        try:
            types = export.types_asked(name for value in type for name in value.split(","))
            since = export.since_moment(since, name="--since") if since else None
        except export.ExportError as error:
            raise CommandError(str(error)) from error
        if batch_size is not None and batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        if out_dir.exists() and not out_dir.is_dir():
            raise CommandError(f"{out_dir} is not a folder.")
        on_terminal = self.stderr.isatty()
        counts = export.write_ndjson(
            out_dir,
            types=types,
            since=since,
            batch_size=batch_size,
            on_batch=self.show_progress if on_terminal else None,
        )
        export.audit_export(actor=Actor.system("manage.py export_fhir"), counts=counts, since=since)
        summary = ", ".join(f"{count} {name}" for name, count in counts.items())
        self.stdout.write(f"Exported {summary} to {out_dir}.")

    def show_progress(self, name, written, total):
        done = BAR_WIDTH * written // total if total else BAR_WIDTH
        bar = "#" * done + "-" * (BAR_WIDTH - done)
        # Each type's bar is redrawn in place, and keeps its line once full.
        ending = "\n" if written >= total else ""
        self.stderr.write(f"\r{name:<22} [{bar}] {written}/{total}", ending=ending)
        self.stderr.flush()
