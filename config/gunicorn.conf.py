"""gunicorn's settings for production: `make serve` starts it with this file
(`gunicorn -c config/gunicorn.conf.py`). The app's own settings come from the environment
as usual; see README.md, Production."""

import os

wsgi_app = "config.wsgi:application"

# Behind a reverse proxy on the same host by default; GUNICORN_BIND=0.0.0.0:8000 to listen
# on every interface.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Sync workers, as many as gunicorn's rule of thumb for the CPUs this process may use.
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * len(os.sched_getaffinity(0)) + 1))

# A request still running after this long is cut off (the worker is restarted); a stop
# lets requests under way finish for as long.
timeout = 30
graceful_timeout = 30
keepalive = 5

# Access log to standard output (or GUNICORN_ACCESS_LOG, a file), with pre-visit tokens
# and query string values (search terms) redacted; errors to standard error.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
logger_class = "config.access_log.RedactingAccessLogger"

# `make serve` stops gunicorn with a signal; its control socket (one path per user, by
# default) would only collide with another gunicorn's.
control_socket_disable = True
