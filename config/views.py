"""Views of the service as a whole: the health check for load balancers, and the error
page that tells people the database is unavailable instead of showing a server error."""

import sys

from django.db import Error, InterfaceError, OperationalError, connection
from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.views import defaults
from django.views.decorators.cache import never_cache

# How long the 503 page asks browsers and load balancers to wait before trying again.
RETRY_AFTER_SECONDS = 30


@never_cache
def healthz(request):
    """Whether the database answers, as small JSON: 200 when it does, 503 when not.

    One `SELECT 1`. It touches neither the session nor the user, so it needs no sign-in,
    sets no cookie and leaves nothing in the audit trail.
    """
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Error:
        return JsonResponse({"database": "unavailable"}, status=503)
    return JsonResponse({"database": "ok"})


def server_error(request):
    """Django's 500 page, except when the database could not be reached (it is down,
    restarting, or every pooled connection is busy): then a 503 page saying that nothing
    was saved and to try again shortly.

    The page is rendered without the request, so no context processor runs and nothing
    reads the session or the user: the database is not touched again.
    """
    _, error, _ = sys.exc_info()
    if not isinstance(error, OperationalError | InterfaceError):
        return defaults.server_error(request)
    response = HttpResponse(loader.render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response
