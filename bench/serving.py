"""The app measured from outside, as production runs it: gunicorn with 4 sync workers and
production settings (DEBUG off) on PostgreSQL, loaded by bench/load.py with 8 clients.

    make bench                                   # 100 and 1,000 visits, a few minutes
    make bench BENCH_SIZES=1000,1000000
    .venv/bin/python bench/serving.py --sizes 1000 --rounds 5 --seconds 3 [--fresh]

Each data size has its own database, named after DATABASE_URL's (default clinic_bench)
with the size added (clinic_bench_1000), created and filled on first use and kept for the
next run (--fresh starts them again). For each size it measures the clinic's pages beside
their baselines, measured in the same run and interleaved (A B A B ...) so that drift
and noise fall on both:

- the read pages against a page that runs one query and renders a small template
  (bench.views.baseline, mounted only by bench.settings);
- the intake save (a POST with CSRF token and session) against the SQL statements one
  save runs, captured from the app and replayed with psycopg at the same concurrency;
- the intake save with the audit chain, record history and CSP against the same save
  without them (BENCH_TRUST=0): the price of trust.

It prints a table per size, each figure the median of the rounds with the spread of the
ratios (min-max); then, across sizes, each page's latency ratio, as measured and as a
share of its baseline's (the goal's: the sizes run minutes apart), and its query counts
(counted in-process with the test client); and whether the goals are met. The figures go to
bench/results/serving-<time>.json with the machine they came from (bench/machine.py).
"""

import argparse
import contextlib
import datetime
import json
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/clinic_bench"
WORKERS = 4
# Goals the figures are held against (shown, not enforced).
SIZE_LATENCY_GOAL = 1.25
READ_GOAL = 0.25
SAVE_GOAL = 0.10
TRUST_GOAL = 0.70


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100,1000", help="visits, comma-separated")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=2.0, help="each run's window")
    parser.add_argument("--warmup", type=float, default=1.0, help="before each window")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--processes", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--fresh", action="store_true", help="drop and fill the databases")
    parser.add_argument("--measure", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--output", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.measure is not None:
        measure(options.measure, options)
        return
    sizes = sorted({int(size) for size in options.sizes.split(",")})
    base_url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE)
    if not base_url.startswith("postgres"):
        sys.exit("bench/serving.py measures on PostgreSQL: set DATABASE_URL=postgres://...")
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "TRUSTED_PROXIES": "1",
        # Each person's session waits for its page's turn: longer than a run takes.
        "SESSION_IDLE_MINUTES": "720",
        "STATIC_ROOT": tempfile.mkdtemp(prefix="bench-static-"),
        # Sign-ins made for the benchmark's people are not news.
        "LOG_LEVEL": "WARNING",
    }
    environment.pop("DEBUG", None)
    by_size = {}
    for size in sizes:
        url = database_for(base_url, size, fresh=options.fresh)
        with tempfile.NamedTemporaryFile(suffix=".json") as output:
            one_size = ["--measure", str(size), "--output", output.name]
            subprocess.run(
                [sys.executable, __file__, *sys.argv[1:], *one_size],
                env={**environment, "DATABASE_URL": url},
                check=True,
            )
            by_size[size] = json.loads(Path(output.name).read_text())
    sys.path.insert(0, str(BENCH))
    from machine import describe

    run = {
        "at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": describe(url),
        "settings": {
            "workers": WORKERS,
            "clients": options.clients,
            "rounds": options.rounds,
            "seconds": options.seconds,
            "warmup": options.warmup,
        },
        "sizes": by_size,
    }
    run["goals"] = goals(by_size)
    print_report(run)
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"serving-{run['at'].replace(':', '')[:17]}.json"
    path.write_text(json.dumps(run, indent=2) + "\n")
    print(f"\nWritten to {path.relative_to(ROOT)}")


def database_for(base_url, size, *, fresh):
    """The DATABASE_URL of the size's own database, created (or with `fresh`, created
    anew) if need be."""
    import psycopg
    from psycopg import sql

    parts = urllib.parse.urlsplit(base_url)
    name = f"{parts.path.lstrip('/')}_{size}"
    with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as admin:
        if fresh:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return parts._replace(path=f"/{name}").geturl()


# One size, in its own process (Django set up on that size's database).


def measure(size, options):
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from bench import data
    from intake.models import Visit
    from tests.serving import serve

    progress(f"{size} visits: migrating and filling the database")
    call_command("migrate", verbosity=0)
    if not (Path(settings.STATIC_ROOT) / "staticfiles.json").exists():
        call_command("collectstatic", interactive=False, verbosity=0)
    data.populate(size)
    scene = Scene.build(options.clients)
    targets = read_targets(scene)
    queries = {target.name: target.count_queries(scene) for target in targets}
    # Each replay as one person saving one visit, as the app's saves are.
    visits = data.visits_to_save(options.clients)
    replay = [
        capture_save(person, visit)
        for person, visit in zip(scene.people("desk"), visits, strict=True)
    ]
    queries[SAVE] = replay[0].queries

    log = Path(tempfile.gettempdir()) / f"bench-gunicorn-{size}.log"
    progress(f"{size} visits: measuring (server output in {log})")
    with contextlib.ExitStack() as stack:
        servers = {
            trust: stack.enter_context(
                serve(
                    database_url=os.environ["DATABASE_URL"],
                    static_root=settings.STATIC_ROOT,
                    output=log,
                    workers=WORKERS,
                    DJANGO_SETTINGS_MODULE="bench.settings",
                    SESSION_IDLE_MINUTES=os.environ["SESSION_IDLE_MINUTES"],
                    BENCH_TRUST="1" if trust else "0",
                )
            )
            for trust in (True, False)
        }
        for server in servers.values():
            wait_until_ready(server)
        load = Load(options, servers[True].port)
        untrusted = Load(options, servers[False].port)
        baseline = Target("one-query baseline", "GET", lambda person, n: "/bench/baseline/")
        pages = {}
        for target in targets:
            progress(f"  {target.name}")
            pages[target.name] = pair_rounds(
                options.rounds,
                lambda: load.http(baseline, scene.anonymous),
                lambda target=target: load.http(target, scene.people(target.persona)),
            )
        progress(f"  {SAVE}")
        save = IntakeSaves(scene.saving)
        rounds = [
            (
                load.sql(replay),
                load.http(save, scene.people("desk")),
                untrusted.http(save, scene.people("desk")),
            )
            for _ in range(options.rounds)
        ]
    result = {
        "pages": pages,
        "save": summarise([(replay_run, save_run) for replay_run, save_run, _ in rounds]),
        "trust": summarise([(off, on) for _, on, off in rounds]),
        "queries": queries,
        "busy_day_visits": Visit.objects.on_day(scene.day).count(),
    }
    Path(options.output).write_text(json.dumps(result))


def wait_until_ready(server, *, timeout=180):
    """Wait until every worker has loaded the app: a burst of health checks, one per
    worker and more, all answered within a second."""
    import time
    from concurrent.futures import ThreadPoolExecutor

    from tests.serving import Browser

    def check(_):
        began = time.monotonic()
        try:
            status = Browser(server, https=False).get("/healthz").status
        except OSError:
            return False
        return status == 200 and time.monotonic() - began < 1

    deadline = time.monotonic() + timeout
    with ThreadPoolExecutor(2 * WORKERS) as pool:
        while not all(pool.map(check, range(4 * WORKERS))):
            if time.monotonic() > deadline or server.process.poll() is not None:
                raise SystemExit(f"The server did not start: see {server.output}")
            time.sleep(0.5)


def progress(message):
    print(message, file=sys.stderr, flush=True)


# The people whose pages are asked for, each signed in in their own session.


@dataclass
class Person:
    client: object  # django.test.Client, signed in
    csrf_token: str = ""
    questions: str = ""  # a patient's: the path of their pre-visit questions

    @property
    def cookie(self):
        return "; ".join(f"{name}={morsel.value}" for name, morsel in self.client.cookies.items())


def proxied_client():
    from django.test import Client

    # As the clinic's proxy hands requests on: to 127.0.0.1, having been HTTPS.
    return Client(HTTP_HOST="127.0.0.1", HTTP_X_FORWARDED_PROTO="https")


def signed_in(user):
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from signin.second_factor import APP_NAME, must_use_second_factor

    client = proxied_client()
    client.force_login(user)
    if must_use_second_factor(user):
        # What signing in with an authenticator app's code leaves in the session.
        device, _ = TOTPDevice.objects.get_or_create(
            user=user, confirmed=True, defaults={"name": APP_NAME}
        )
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return Person(client)


def at_link(visit, clerk):
    """The visit's patient at a new pre-visit link, date of birth given."""
    from audit.actors import Actor
    from intake.links import show_previsit_link
    from intake.patient_views import FORM_KEY

    _, url = show_previsit_link(visit=visit, actor=Actor.for_user(clerk))
    path = urllib.parse.urlsplit(url).path
    client = proxied_client()
    client.get(path)
    born = visit.patient.date_of_birth
    response = client.post(
        path,
        {
            "form_key": client.session[FORM_KEY],
            "day": born.day,
            "month": born.month,
            "year": born.year,
        },
    )
    assert response.status_code == 302, response.status_code
    return Person(client, questions=path + "questions/")


def with_csrf_token(person, page):
    """The person, holding the CSRF token of `page`'s form (and its cookie)."""
    html = person.client.get(page).content.decode()
    person.csrf_token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)[1]
    return person


@dataclass
class Scene:
    """Who asks for what: a front-desk clerk, a provider and a patient per client, the
    busiest day, a visit to read, and a visit per client to save."""

    day: datetime.date
    visit: object
    saving: list
    crowd: dict = field(default_factory=dict)
    anonymous: list = field(default_factory=list)

    @classmethod
    def build(cls, clients):
        from bench import data

        clerk, provider = data.clerk(), data.provider()
        saving = data.visits_to_save(clients)
        scene = cls(day=data.busiest_day(), visit=data.visit_to_read(), saving=saving)
        scene.crowd = {
            "desk": [with_csrf_token(signed_in(clerk), "/staff/patients/") for _ in range(clients)],
            "provider": [signed_in(provider) for _ in range(clients)],
            "patient": [at_link(visit, clerk) for visit in saving],
        }
        scene.anonymous = [Person(proxied_client()) for _ in range(clients)]
        return scene

    def people(self, persona):
        return self.crowd[persona]


# What is asked for.


@dataclass
class Target:
    name: str
    method: str
    path: object  # (person, n) -> path
    form: object = None  # (person, n) -> POST data
    persona: str = "desk"
    expect: int = 200

    def count_queries(self, scene):
        from bench.replay import capture

        person = scene.people(self.persona)[0]
        with capture() as statements:
            response = self.send(person, 0)
        assert response.status_code == self.expect, (self.name, response.status_code)
        return statements.queries

    def send(self, person, n):
        """The request, in-process through the test client."""
        if self.method == "GET":
            return person.client.get(self.path(person, n))
        return person.client.post(self.path(person, n), self.form(person, n))

    def forms(self, person, n):
        """The POST data client n sends, in turn (one None for a GET)."""
        return [self.form(person, n) if self.form else None]

    def counter(self, n):
        """Where client n's __COUNTER__ starts, if its requests hold one."""
        return None


SAVE = "intake save (POST)"


def read_targets(scene):
    visit = scene.visit
    return [
        Target(
            "pre-visit questions",
            "GET",
            lambda person, n: person.questions,
            persona="patient",
        ),
        Target("Today, busiest day", "GET", lambda person, n: f"/staff/?day={scene.day:%Y-%m-%d}"),
        Target("staff visit page", "GET", lambda person, n: f"/staff/visits/{visit.pk}/"),
        Target(
            "provider review",
            "GET",
            lambda person, n: f"/staff/visits/{visit.pk}/review/",
            persona="provider",
        ),
        Target(
            "patient search (POST)",
            "POST",
            lambda person, n: "/staff/patients/",
            lambda person, n: {
                "q": visit.patient.family_name,
                "csrfmiddlewaretoken": person.csrf_token,
            },
        ),
        Target(
            "admin visit list",
            "GET",
            lambda person, n: "/admin/intake/visit/",
            persona="provider",
        ),
        Target(
            "admin order list",
            "GET",
            lambda person, n: "/admin/intake/testorder/",
            persona="provider",
        ),
    ]


class IntakeSaves(Target):
    """Client n saves the intake of visit n over and over, each save from the version the
    one before left (load.py counts it up), alternating the two sets of answers so that
    every save changes every answer."""

    def __init__(self, visits):
        super().__init__(
            SAVE, "POST", lambda person, n: f"/staff/visits/{visits[n].pk}/intake/", expect=302
        )
        self.visits = visits

    def counter(self, n):
        return type(self.visits[n]).objects.get(pk=self.visits[n].pk).intake_version

    def forms(self, person, n):
        from bench.data import ANSWERS, intake_form

        # The first answers went in at version 0 (data.visits_to_save): at version v the
        # visit holds ANSWERS[(v - 1) % 2], so the next save sends the other set.
        version = self.counter(n)
        return [
            {
                **intake_form(ANSWERS[(version + turn) % 2]),
                "intake_version": "__COUNTER__",
                "action": "save",
                "csrfmiddlewaretoken": person.csrf_token,
            }
            for turn in range(2)
        ]


def capture_save(person, visit):
    """`person` saves `visit`'s intake once, in-process: its SQL, for the replay."""
    from bench.data import ANSWERS, intake_form
    from bench.replay import capture

    path = f"/staff/visits/{visit.pk}/intake/"
    form = {**intake_form(ANSWERS[1]), "intake_version": visit.intake_version, "action": "save"}
    with capture() as statements:
        response = person.client.post(path, form)
    assert response.status_code == 302, response.status_code
    statements.count_up(rf'"intake_visit"\."intake_version" = {visit.intake_version}\b')
    statements.counter = visit.intake_version + 1
    return statements


# Running the load generator.


class Load:
    def __init__(self, options, port):
        self.options = options
        self.port = port

    def _run(self, spec):
        spec = {
            **spec,
            "processes": self.options.processes,
            "warmup": self.options.warmup,
            "seconds": self.options.seconds,
        }
        finished = subprocess.run(
            [sys.executable, str(BENCH / "load.py")],
            input=json.dumps(spec),
            capture_output=True,
            text=True,
            check=True,
        )
        return json.loads(finished.stdout)

    def http(self, target, people):
        """Each client a person, asking for `target` back to back."""
        clients = []
        for n, person in enumerate(people[: self.options.clients]):
            headers = {
                "Host": f"127.0.0.1:{self.port}",
                "X-Forwarded-Proto": "https",
                "Cookie": person.cookie,
            }
            if target.method == "POST":
                headers["Content-Type"] = "application/x-www-form-urlencoded"
                headers["Origin"] = f"https://127.0.0.1:{self.port}"
            requests = [
                {
                    "method": target.method,
                    "path": target.path(person, n),
                    "headers": headers,
                    "body": form and urllib.parse.urlencode(form, doseq=True),
                }
                for form in target.forms(person, n)
            ]
            clients.append(
                {"requests": requests, "expect": target.expect, "counter": target.counter(n)}
            )
        return self._run(
            {"kind": "http", "host": "127.0.0.1", "port": self.port, "clients": clients}
        )

    def sql(self, captured):
        clients = [
            {"statements": statements.sql, "counter": statements.counter}
            for statements in captured[: self.options.clients]
        ]
        return self._run({"kind": "sql", "dsn": os.environ["DATABASE_URL"], "clients": clients})


def pair_rounds(rounds, baseline, target):
    return summarise([(baseline(), target()) for _ in range(rounds)])


def summarise(pairs):
    """Rounds of (baseline run, target run): the target's median throughput and latency,
    and its throughput as a share of the baseline's, median with min-max over rounds."""
    for run in (run for pair in pairs for run in pair):
        if run["errors"] or not run["requests"]:
            raise SystemExit(f"{run['errors']} requests failed, first: {run['first_error']}")
    ratios = [target["per_second"] / baseline["per_second"] for baseline, target in pairs]
    return {
        "per_second": statistics.median(target["per_second"] for _, target in pairs),
        "baseline_per_second": statistics.median(baseline["per_second"] for baseline, _ in pairs),
        "median_ms": statistics.median(target["median_ms"] for _, target in pairs),
        "latency_ms": [
            min(t["median_ms"] for _, t in pairs),
            max(t["median_ms"] for _, t in pairs),
        ],
        "ratio": statistics.median(ratios),
        "ratios": [min(ratios), max(ratios)],
        "runs": pairs,
    }


# The report.


def goals(by_size):
    """Each goal with its figure and whether it is met: at the largest size, and between
    the smallest and the largest."""
    sizes = sorted(by_size)
    small, large = by_size[sizes[0]], by_size[sizes[-1]]

    def goal(text, figure, met):
        return {"goal": text, "figure": figure, "met": met}

    found = [
        goal(
            f"{name}: ≥{READ_GOAL:.0%} of the baseline's req/s",
            row["ratio"],
            row["ratio"] >= READ_GOAL,
        )
        for name, row in large["pages"].items()
    ]
    save, trust = large["save"]["ratio"], large["trust"]["ratio"]
    found.append(goal(f"{SAVE}: ≥{SAVE_GOAL:.0%} of replayed SQL", save, save >= SAVE_GOAL))
    found.append(
        goal(f"price of trust: ≥{TRUST_GOAL:.0%} of the save without", trust, trust >= TRUST_GOAL)
    )
    if len(sizes) > 1:
        found += [
            goal(
                f"{name}: latency ≤{SIZE_LATENCY_GOAL}× across sizes (to base)",
                ratio,
                ratio <= SIZE_LATENCY_GOAL,
            )
            for name, (_, ratio) in size_ratios(small, large).items()
        ]
        found += [
            goal(f"{name}: same query count across sizes", None, count == small["queries"][name])
            for name, count in large["queries"].items()
        ]
    return found


def measured(figures):
    """A size's figures by page, the save included."""
    return {**figures["pages"], SAVE: figures["save"]}


def size_ratios(small, large):
    """Each page's median latency at the large size over the small one, as measured and
    as a share of its baseline's (the sizes run minutes apart, and the machine may be
    busier for one than the other: each page's baseline ran beside it)."""
    before = measured(small)
    return {
        name: (
            row["median_ms"] / before[name]["median_ms"],
            before[name]["ratio"] / row["ratio"],
        )
        for name, row in measured(large).items()
    }


def print_report(run):
    machine, settings = run["machine"], run["settings"]
    print(
        f"\n{machine['cpu']}, {machine['cpus']} CPUs, PostgreSQL {machine['postgresql']}; "
        f"gunicorn {settings['workers']} sync workers; {settings['clients']} clients; median "
        f"of {settings['rounds']} rounds of {settings['seconds']:g} s, ratios' min–max"
    )
    for size, figures in run["sizes"].items():
        print(f"\n{int(size):,} visits, {figures['busy_day_visits']} on the busiest day")
        print(f"{'':<26}{'req/s':>7}{'base':>7}{'ratio':>7}{'min–max':>12}{'ms':>8}{'queries':>8}")
        for name, row in measured(figures).items():
            print(
                f"{name:<26}{row['per_second']:>7.0f}{row['baseline_per_second']:>7.0f}"
                f"{row['ratio']:>7.2f}{spread(row['ratios']):>12}{row['median_ms']:>8.1f}"
                f"{figures['queries'][name]:>8}"
            )
        trust = figures["trust"]
        print(
            f"{'save without trust':<26}{trust['baseline_per_second']:>7.0f}{'':>7}"
            f"{trust['ratio']:>7.2f}{spread(trust['ratios']):>12}   (with trust / without)"
        )
        print("base: the one-query page for reads, the replayed SQL for the save")
    sizes = sorted(run["sizes"], key=int)
    if len(sizes) > 1:
        small, large = run["sizes"][sizes[0]], run["sizes"][sizes[-1]]
        print(f"\nFrom {int(sizes[0]):,} to {int(sizes[-1]):,} visits")
        print(f"{'':<26}{'ms':>8}{'ms':>8}{'ratio':>7}{'to base':>9}{'queries':>10}")
        before, after = measured(small), measured(large)
        for name, (ratio, to_baseline) in size_ratios(small, large).items():
            queries = f"{small['queries'][name]} / {large['queries'][name]}"
            print(
                f"{name:<26}{before[name]['median_ms']:>8.1f}{after[name]['median_ms']:>8.1f}"
                f"{ratio:>7.2f}{to_baseline:>9.2f}{queries:>10}"
            )
        print("to base: the latency ratio as a share of each page's baseline (the goal's)")
    print("\nGoals")
    for goal in run["goals"]:
        figure = "" if goal["figure"] is None else f"{goal['figure']:.2f}"
        print(f"  {'met' if goal['met'] else 'NOT met':<8}{goal['goal']:<60}{figure:>6}")


def spread(bounds):
    return f"{bounds[0]:.2f}–{bounds[1]:.2f}"


if __name__ == "__main__":
    main()
