"""The FHIR bulk export's rate and peak memory as the data grows, against `psql \\copy` of
the same rows measured in the same run.

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/clinic_bench
    .venv/bin/python bench/fhir_export.py              # 1,000 and 100,000 visits
    .venv/bin/python bench/fhir_export.py 1000 10000   # other sizes

The visits come from bench/data.py (generate_demo_data where it is installed). For each
size: the export's resources per second (every type), its peak Python memory
(tracemalloc, in a second run; it counts cyclic garbage until the collector runs, so it
levels off rather than staying flat) and its queries; then, on PostgreSQL, `psql \\copy`
of the patient, visit, answer and order rows to /dev/null.
"""

import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import environment  # noqa: F401  (sets Django up; must come first)
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bench.data import populate

SIZES = [int(size) for size in sys.argv[1:]] or [1000, 100000]
COPY_TABLES = ["intake_patient", "intake_visit", "intake_answer", "intake_testorder"]


def export_once(directory, *, trace=False):
    from interop import export

    if trace:
        tracemalloc.start()
    connection.queries_log.clear()  # DEBUG's log holds the last 9,000 queries
    start = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        counts = export.write_ndjson(directory, types=list(export.TYPES))
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] if trace else None
    if trace:
        tracemalloc.stop()
    return sum(counts.values()), seconds, peak, len(queries)


def psql_copy():
    """Seconds and rows for `\\copy` of the same tables to /dev/null, or None off PostgreSQL."""
    if connection.vendor != "postgresql":
        return None
    database = settings.DATABASES["default"]
    target = (
        f"postgresql://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}"
    )
    commands = [f"\\copy (SELECT * FROM {table}) TO '/dev/null'" for table in COPY_TABLES]
    start = time.perf_counter()
    output = subprocess.run(
        ["psql", target, *(arg for command in commands for arg in ("-c", command))],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "PGPASSWORD": database.get("PASSWORD") or ""},
    ).stdout
    seconds = time.perf_counter() - start
    rows = sum(int(line.split()[1]) for line in output.splitlines() if line.startswith("COPY"))
    return seconds, rows


def main():
    call_command("migrate", verbosity=0)
    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    print(f"database: {engine}; batch size {settings.FHIR_EXPORT_BATCH_SIZE}; every type")
    print(
        f"{'visits':>8}{'resources':>11}{'export/s':>10}{'peak MiB':>10}{'queries':>9}"
        f"{'copy rows':>11}{'copy/s':>10}{'ratio':>7}"
    )
    for size in SIZES:
        populate(size)
        with tempfile.TemporaryDirectory() as folder:
            resources, seconds, _, queries = export_once(Path(folder))
            _, _, peak, _ = export_once(Path(folder), trace=True)
        rate = resources / seconds
        line = f"{size:>8}{resources:>11}{rate:>10.0f}{peak / 2**20:>10.1f}{queries:>9}"
        if copied := psql_copy():
            copy_seconds, rows = copied
            copy_rate = rows / copy_seconds
            line += f"{rows:>11}{copy_rate:>10.0f}{copy_rate / rate:>7.1f}"
        print(line, flush=True)


if __name__ == "__main__":
    main()
