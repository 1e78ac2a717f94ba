"""How the psycopg connection pool (PostgreSQL) checks a connection before a request
gets it; settings.py names this check in DATABASES["default"]["OPTIONS"]["pool"]."""

from psycopg_pool import ConnectionPool


def check_connection(connection):
    """psycopg_pool's own check (an empty query), and, when it finds a connection
    broken, a check of every idle connection in the pool at once.

    A broken connection usually means the database restarted, and then every pooled
    connection is broken. The pool itself would hand them out one at a time with a
    growing pause (none, 1 s, 2 s, ...) between them, so with three or more a request
    waits past its timeout although new connections are ready within milliseconds.
    """
    try:
        ConnectionPool.check_connection(connection)
    except Exception:
        # The pool sets `_pool` on a connection it is handing out (Django's own
        # backend relies on it to return connections too).
        pool = getattr(connection, "_pool", None)
        if pool is not None:
            pool.check()
        raise
