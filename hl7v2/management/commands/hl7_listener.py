"""Run the HL7 v2 listener: results (ORU^R01) in over MLLP, an ACK out for each."""

import signal

from django.conf import settings
from django.core.management.base import BaseCommand

from hl7v2.receiving import listener


class Command(BaseCommand):
    help = "Receive HL7 v2 results (ORU^R01) over MLLP and answer each with an ACK."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=settings.HL7_LISTENER_HOST)
        parser.add_argument("--port", type=int, default=settings.HL7_LISTENER_PORT)

    def handle(self, *args, host, port, **options):
        server = listener(host, port)
        # SIGTERM (a service manager stopping us) ends the loop as Ctrl-C does.
        signal.signal(signal.SIGTERM, _stop)
        self.stdout.write(f"Listening for HL7 v2 results on {host}:{server.server_address[1]}")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
        self.stdout.write("Stopped.")


def _stop(signum, frame):
    raise KeyboardInterrupt
