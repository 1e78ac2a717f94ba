"""The production settings, plus what only the benchmark's server has: the baseline page
(bench.urls) and, with BENCH_TRUST=0, the audit chain, record history and CSP turned off
to measure what they cost ("the price of trust"). The clinic's own server never uses it.
"""

from config.settings import *  # noqa: F403
from config.settings import INSTALLED_APPS, MIDDLEWARE, env_bool

ROOT_URLCONF = "bench.urls"
INSTALLED_APPS = [*INSTALLED_APPS, "bench"]

BENCH_TRUST = env_bool("BENCH_TRUST", True)
# Without trust, bench.apps also unhooks the audit chain: events are still written, unhashed.
SIMPLE_HISTORY_ENABLED = BENCH_TRUST
if not BENCH_TRUST:
    MIDDLEWARE = [
        name
        for name in MIDDLEWARE
        if name != "django.middleware.csp.ContentSecurityPolicyMiddleware"
    ]
