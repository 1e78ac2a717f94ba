"""HL7 v2 results in: ORU^R01 messages per second through the listener, each recorded on
its own order over one MLLP connection, against the same messages answered by a bare
MLLP server with a fixed ACK (the framing and socket alone) and read by hl7apy alone,
all in the same run; and order messages (ORM^O01) built per second.

    .venv/bin/python bench/hl7.py                # a throwaway SQLite database
    createdb -h 127.0.0.1 -U postgres clinic_bench_hl7
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/clinic_bench_hl7 .venv/bin/python bench/hl7.py

The database is migrated and emptied (flush) first.
"""

import json
import socket
import threading
import time

import environment  # sets Django up; must come first
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connection

from audit.actors import Actor
from conditions.content import save_condition
from hl7v2 import messages, mllp, receiving
from hl7v2.models import Performer
from intake import orders
from intake.roles import PROVIDER
from tests.factories import PatientFactory, UserFactory, VisitFactory
from tests.hl7_peers import oru

RESULTS = 300


def setup():
    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    document = json.loads((environment.ROOT / "conditions/demo/muscle-twitches.json").read_text())
    condition = save_condition(document, publish=True)
    provider = UserFactory(username="bench.provider")
    provider.groups.add(Group.objects.get(name=PROVIDER))
    visit = VisitFactory(condition=condition, patient=PatientFactory())
    test = condition.tests.get(slug="electrolytes-panel")
    actor = Actor.for_user(provider)
    placed = [
        orders.place_order(visit=visit, test=test, actor=actor, reason="Benchmark.")
        for _ in range(RESULTS)
    ]
    texts = [
        oru(placer=str(order.pk), mrn=visit.patient.mrn, control_id=f"BENCH{number}")
        for number, order in enumerate(placed)
    ]
    return placed, texts


def per_second(server, texts):
    """Messages answered per second, sent one after another on one connection."""
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sender:
            stream = sender.makefile("rb")
            start = time.perf_counter()
            for text in texts:
                sender.sendall(mllp.frame(text))
                mllp.read_frame(stream)
            seconds = time.perf_counter() - start
            stream.close()
    finally:
        server.shutdown()
        server.server_close()
    return len(texts) / seconds


def rate(function, items):
    start = time.perf_counter()
    for item in items:
        function(item)
    return len(items) / (time.perf_counter() - start)


def main():
    placed, texts = setup()
    fixed_ack = messages.ack(header=messages.Header.read(texts[0]), code="AA")
    bare = mllp.Server(("127.0.0.1", 0), lambda text: fixed_ack, idle_timeout=30)
    framing = per_second(bare, texts)
    reading = rate(messages.read_results, texts)
    recorded = per_second(receiving.listener("127.0.0.1", 0), texts)
    performer = Performer(
        name="Bench lab",
        test_kind="blood",
        host="127.0.0.1",
        port=1,
        receiving_application="LAB",
        receiving_facility="LAB",
    )
    building = rate(
        lambda order: messages.order_message(
            order=order, performer=performer, event="NW", control_id="B"
        ),
        placed,
    )
    print(f"database: {connection.vendor}; {RESULTS} ORU^R01 messages, one connection")
    print(f"{'bare MLLP server, fixed ACK':<42}{framing:>10,.0f} messages/s")
    print(f"{'read by hl7apy only (no socket, no database)':<42}{reading:>10,.0f} messages/s")
    print(
        f"{'listener: read, recorded, audited, ACKed':<42}{recorded:>10,.0f} messages/s"
        f"  ({recorded / framing:.1%} of bare)"
    )
    print(f"{'ORM^O01 built (no socket)':<42}{building:>10,.0f} messages/s")


if __name__ == "__main__":
    main()
