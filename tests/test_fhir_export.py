"""`manage.py export_fhir`: every record as FHIR NDJSON, one file per resource type, each
line a valid R4B resource whose references resolve within the export; read in batches
whose queries do not grow with the rows; audited as one event."""

import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from interop import export

from .factories import PatientFactory, TestOrderFactory
from .fhir import validated

pytestmark = pytest.mark.django_db

ALL_TYPES = list(export.TYPES)


def read_export(directory):
    """{type: [resources]} of an export folder, each line checked against R4B."""
    found = {}
    for path in sorted(directory.glob("*.ndjson")):
        lines = path.read_text(encoding="utf-8").splitlines()
        found[path.stem] = [validated(json.loads(line)) for line in lines]
    return found


def references_in(value):
    """Every `reference` in a resource, however deep."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "reference":
                yield inner
            else:
                yield from references_in(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from references_in(inner)


@pytest.fixture
def records(flagged_visit, provider):
    """The flagged visit with a reviewed EMG and a cancelled order, and another
    patient's visit with an order still waiting for its result."""
    TestOrderFactory(visit=flagged_visit, ordered_by=provider, reviewed=True)
    TestOrderFactory(visit=flagged_visit, ordered_by=provider, cancelled=True)
    TestOrderFactory(ordered_by=provider)
    return flagged_visit


def run(*args, stderr=None):
    out = io.StringIO()
    call_command("export_fhir", *map(str, args), stdout=out, stderr=stderr or io.StringIO())
    return out.getvalue()


def test_writes_one_valid_file_per_type_with_references_resolved(records, tmp_path):
    output = run(tmp_path)
    found = read_export(tmp_path)
    assert sorted(found) == sorted(ALL_TYPES)
    counts = {name: len(lines) for name, lines in found.items()}
    assert counts == {
        "Patient": 2,
        "Encounter": 2,
        "QuestionnaireResponse": 2,
        "ServiceRequest": 3,
        "Observation": 1,
        "DiagnosticReport": 1,
        "Media": 0,
    }
    exported = {f"{kind}/{resource['id']}" for kind, lines in found.items() for resource in lines}
    for lines in found.values():
        for resource in lines:
            assert set(references_in(resource)) <= exported, resource["resourceType"]
    response = next(r for r in found["QuestionnaireResponse"] if r["id"] == str(records.pk))
    assert response["encounter"] == {"reference": f"Encounter/{records.pk}"}
    assert response["subject"] == {"reference": f"Patient/{records.patient_id}"}
    assert output == (
        f"Exported 2 Patient, 2 Encounter, 2 QuestionnaireResponse, 3 ServiceRequest, "
        f"1 Observation, 1 DiagnosticReport, 0 Media to {tmp_path}.\n"
    )


def test_the_export_is_one_audit_event_naming_types_and_counts(records, tmp_path):
    before = AuditEvent.objects.count()
    run(tmp_path, "--type", "Patient,Encounter")
    event = AuditEvent.objects.get(action="export")
    assert AuditEvent.objects.count() == before + 1
    assert event.actor_label == "manage.py export_fhir"
    assert event.patient_id is None
    assert event.detail == {"counts": {"Patient": 2, "Encounter": 2}, "since": None}


def test_type_chooses_the_files(records, tmp_path):
    run(tmp_path, "--type", "Encounter", "--type", "Patient")
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "Encounter.ndjson",
        "Patient.ndjson",
    ]


def test_an_unknown_type_is_a_clear_error_and_writes_nothing(records, tmp_path):
    with pytest.raises(CommandError, match="Cannot export Practitioner: the types are Patient"):
        run(tmp_path / "out", "--type", "Patient,Practitioner")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("since", ["yesterday", "2026-02-30", "2026-11-30T10:00:00"])
def test_a_since_that_is_not_a_date_is_a_clear_error(tmp_path, since):
    with pytest.raises(CommandError, match=f"--since “{since}” is not a date"):
        run(tmp_path, "--since", since)


def test_since_takes_only_records_changed_from_then(clock, tmp_path):
    PatientFactory()
    clock.move(days=2)
    recent = PatientFactory()
    day = clock.now.date().isoformat()
    run(tmp_path, "--type", "Patient", "--since", day)
    assert [resource["id"] for resource in read_export(tmp_path)["Patient"]] == [str(recent.pk)]
    instant = clock.now.isoformat()
    run(tmp_path, "--type", "Patient", "--since", instant)
    assert len(read_export(tmp_path)["Patient"]) == 1


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_a_terminal_sees_a_progress_bar_and_anything_else_only_the_summary(records, tmp_path):
    quiet = io.StringIO()
    run(tmp_path, "--type", "Patient", stderr=quiet)
    assert quiet.getvalue() == ""
    terminal = Terminal()
    run(tmp_path, "--type", "Patient", "--batch-size", "1", stderr=terminal)
    drawn = terminal.getvalue()
    assert "\rPatient" in drawn
    assert drawn.endswith("[" + "#" * 30 + "] 2/2\n")
    assert "[" + "#" * 15 + "-" * 15 + "] 1/2" in drawn


def _queries_exporting(directory, batch_size):
    with CaptureQueriesContext(connection) as queries:
        export.write_ndjson(directory, types=ALL_TYPES, batch_size=batch_size)
    return len(queries)


def test_queries_grow_with_batches_not_rows(flagged_visit, provider, tmp_path):
    def add_visit_with_orders():
        order = TestOrderFactory(ordered_by=provider, reviewed=True)
        TestOrderFactory(visit=order.visit, ordered_by=provider)

    add_visit_with_orders()
    two_visits_one_batch = _queries_exporting(tmp_path, batch_size=100)
    two_visits_two_batches = _queries_exporting(tmp_path, batch_size=2)
    add_visit_with_orders()
    add_visit_with_orders()
    four_visits_one_batch = _queries_exporting(tmp_path, batch_size=100)
    four_visits_two_batches = _queries_exporting(tmp_path, batch_size=4)
    assert len(read_export(tmp_path)["ServiceRequest"]) == 6
    assert four_visits_one_batch == two_visits_one_batch
    assert four_visits_two_batches == two_visits_two_batches > two_visits_one_batch


def test_the_batch_size_bounds_the_rows_a_query_reads(records, tmp_path, settings):
    settings.FHIR_EXPORT_BATCH_SIZE = 1
    with CaptureQueriesContext(connection) as queries:
        export.write_ndjson(tmp_path, types=["Patient"])
    reads = [q["sql"] for q in queries if 'FROM "intake_patient"' in q["sql"]]
    # A count, then a batch per patient, then the empty batch that ends it.
    assert len(reads) == 4
    assert all("LIMIT 1" in sql for sql in reads[1:])
