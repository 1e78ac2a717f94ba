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
        # Django's loggers attach the HttpRequest; runserver's access log attaches its
        # socket, which has no path.
        path = getattr(getattr(record, "request", None), "path", "")
        if isinstance(path, str) and path.startswith("/v/"):
            record.request = None
        return True
