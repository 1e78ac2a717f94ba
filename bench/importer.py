"""The condition importer's time as pages grow: seconds per 100 KB at three sizes.

    .venv/bin/python bench/importer.py            # a throwaway SQLite database
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/clinic_bench .venv/bin/python bench/importer.py

Pages are made by repeating the sections of a corpus page. For each size it prints the
seconds per 100 KB of reading the page (text to document) and of the whole import (read
and saved, as import_condition does), and their ratios to the smallest page measured in
the same run: ratios near 1 mean time grows linearly with size.
"""

import gc
import statistics
import tempfile
import time
from io import StringIO
from pathlib import Path

import environment  # noqa: F401  (sets Django up; must come first)
from django.core.management import call_command

from conditions.importer import document_from_path
from conditions.models import Condition
from tests.test_importer_corpus import repeated_page

SIZES = [100_000, 300_000, 1000_000]
REPEAT = 5


def seconds(action):
    samples = []
    for _ in range(REPEAT):
        gc.collect()  # the garbage of the run before is not this run's cost
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main():
    call_command("migrate", verbosity=0)
    page = Path(tempfile.mkdtemp()) / "muscle-aches.txt"

    def read():
        document_from_path(page)

    def whole_import():
        Condition.objects.all().delete()
        call_command("import_condition", str(page), stdout=StringIO())

    baseline = None
    print(f"{'size':>10} {'read s/100KB':>13} {'ratio':>6} {'import s/100KB':>15} {'ratio':>6}")
    for size in SIZES:
        page.write_text(repeated_page(size), encoding="utf-8")
        per_100kb = page.stat().st_size / 100_000
        reading = seconds(read) / per_100kb
        importing = seconds(whole_import) / per_100kb
        baseline = baseline or (reading, importing)
        print(
            f"{page.stat().st_size:>10,} {reading:>13.4f} {reading / baseline[0]:>6.2f}"
            f" {importing:>15.3f} {importing / baseline[1]:>6.2f}"
        )


if __name__ == "__main__":
    main()
