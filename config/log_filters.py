"""Logging filters that keep secrets and patient data out of log files."""

import logging
import re

PREVISIT_PATH = re.compile(r"/v/[^/\s\"']+")


class RedactPreVisitTokens(logging.Filter):
    """Replace pre-visit link tokens in log records (request paths) with a placeholder."""

    def filter(self, record):
        message = record.getMessage()
        if "/v/" in message:
            record.msg = PREVISIT_PATH.sub("/v/[token]", message)
            record.args = ()
        request = getattr(record, "request", None)
        if request is not None and request.path.startswith("/v/"):
            record.request = None
        return True
