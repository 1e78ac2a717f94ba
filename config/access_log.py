"""gunicorn's access log without pre-visit tokens or query string values (search terms).

config/gunicorn.conf.py names this logger class; the patterns are those of the app's own
log filter (config/log_filters.py).
"""

from gunicorn.glogging import Logger

from config.log_filters import redact_query_values, redact_urls


class RedactingAccessLogger(Logger):
    """gunicorn's logger whose access log fields (request line, path, query string,
    Referer, any header or environ field a log format names) are redacted."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        redacted = {
            name: redact_urls(value) if isinstance(value, str) else value
            for name, value in atoms.items()
        }
        # The bare query string, which has no "?" to find it by.
        for name in ("q", "{query_string}e"):
            if atoms.get(name):
                redacted[name] = redact_query_values(atoms[name])
        return redacted
