"""Enqueue the pre-visit reminders that are due; run every few minutes by a timer."""

from django.core.management.base import BaseCommand

from intake.reminders import enqueue_due_reminders


class Command(BaseCommand):
    help = (
        "E-mail the one reminder due PREVISIT_REMINDER_HOURS before each visit whose "
        "pre-visit link has not been answered (enqueued as background tasks)."
    )

    def handle(self, *args, **options):
        count = enqueue_due_reminders()
        self.stdout.write(f"{count} reminder{'s' if count != 1 else ''} enqueued.")
