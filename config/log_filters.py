"""Logging filters that keep secrets and patient data out of log files."""

import logging
import re

PREVISIT_PATH = re.compile(r"/v/[^/\s\"']+")
# A staff password reset link: the account's id and a token that sets its password.
RESET_LINK_PATH = re.compile(r"/accounts/reset/[^/\s\"']+/[^/\s\"']+")
# The admin's changelist search (?q=) can hold a patient's name or record number.
SEARCH_QUERY = re.compile(r"([?&]q=)[^&\s\"']*")
# A URL's whole query string, for access logs, which redact every value in it.
QUERY_STRING = re.compile(r"\?([^\s\"'#]+)")


def redact_query_values(query):
    """A query string with every value replaced: "q=Okafor&page=2" gives
    "q=[redacted]&page=[redacted]"."""

    def redact(part):
        name, equals, _ = part.partition("=")
        return f"{name}=[redacted]" if equals else "[redacted]"  # no "=": all of it is value

    return "&".join(redact(part) for part in query.split("&") if part)


def redact_urls(text):
    """Text holding URLs (an access log's request line, a Referer) without pre-visit
    tokens, password reset tokens or query string values."""
    text = PREVISIT_PATH.sub("/v/[token]", text)
    text = RESET_LINK_PATH.sub("/accounts/reset/[token]", text)
    return QUERY_STRING.sub(lambda match: "?" + redact_query_values(match[1]), text)


class RedactTokensAndSearches(logging.Filter):
    """Replace pre-visit link tokens, password reset tokens and admin search terms in log
    records with placeholders."""

    def filter(self, record):
        message = record.getMessage()
        if "/v/" in message or "q=" in message or "/accounts/reset/" in message:
            message = PREVISIT_PATH.sub("/v/[token]", message)
            message = RESET_LINK_PATH.sub("/accounts/reset/[token]", message)
            record.msg = SEARCH_QUERY.sub(r"\1[redacted]", message)
            record.args = ()
        # Django's loggers attach the HttpRequest; runserver's access log attaches its
        # socket, which has no path.
        path = getattr(getattr(record, "request", None), "path", "")
        if isinstance(path, str) and path.startswith(("/v/", "/accounts/reset/")):
            record.request = None
        return True
