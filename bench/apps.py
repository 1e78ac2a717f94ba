"""The benchmark's app: its baseline template, and the audit chain unhooked when the
benchmark measures the app without its safeguards (BENCH_TRUST=0)."""

from django.apps import AppConfig
from django.conf import settings
from django.utils import timezone


def append_unchained(events, using):
    """audit.models._append without the chain: no lock, no read of the last hash, no
    hashing. Only for measuring what the chain costs; such events do not verify."""
    now = timezone.now()
    for event in events:
        event.at = event.at or now
        event.prev_hash = event.hash = ""


class BenchConfig(AppConfig):
    name = "bench"
    verbose_name = "Benchmark"

    def ready(self):
        if not settings.BENCH_TRUST:
            from audit import models

            models._append = append_unchained
