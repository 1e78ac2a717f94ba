"""Logging filters that keep secrets and patient data out of log files."""

import logging
import re

PREVISIT_PATH = re.compile(r"/v/[^/\s\"']+")
# The admin's changelist search (?q=) can hold a patient's name or record number.
SEARCH_QUERY = re.compile(r"([?&]q=)[^&\s\"']*")


class RedactTokensAndSearches(logging.Filter):
    """Replace pre-visit link tokens and admin search terms in log records with
    placeholders."""

    def filter(self, record):
        message = record.getMessage()
        if "/v/" in message or "q=" in message:
            message = PREVISIT_PATH.sub("/v/[token]", message)
            record.msg = SEARCH_QUERY.sub(r"\1[redacted]", message)
            record.args = ()
        # Django's loggers attach the HttpRequest; runserver's access log attaches its
        # socket, which has no path.
        path = getattr(getattr(record, "request", None), "path", "")
        if isinstance(path, str) and path.startswith("/v/"):
            record.request = None
        return True
