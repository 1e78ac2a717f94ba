"""Staff and admin pages with 1,000 visits and with 1,000,000, on PostgreSQL: the same
page in both databases, measured in the same run, with the ratio of the two.

    createdb -h 127.0.0.1 -U postgres clinic_scale_1k
    createdb -h 127.0.0.1 -U postgres clinic_scale_1m
    .venv/bin/python bench/scale.py --fill \\
        postgres://postgres@127.0.0.1:5432/clinic_scale_1k \\
        postgres://postgres@127.0.0.1:5432/clinic_scale_1m

Without --fill the databases are used as they are (filling the large one takes a few
minutes). Filling migrates, loads the demo and adds, by SQL: half as many patients as
visits (1% of them merged), one test order per visit, two audit events per visit, and 20
more providers; each database's last day holds about 900 visits, the page "Today" shows
the first 100 of them. Every page must take about as long, and exactly as many queries,
in the large database as in the small one.
"""

import datetime
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPEAT = 7
VISITS = {"small": 1_000, "large": 1_000_000}

FILL_SQL = """
INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email,
                       is_staff, is_active, date_joined)
SELECT '!', false, 'doc' || g, 'Doc', 'Tor' || g, '', true, true, now()
FROM generate_series(1, 20) g;
INSERT INTO auth_user_groups (user_id, group_id)
SELECT u.id, (SELECT id FROM auth_group WHERE name = 'Provider')
FROM auth_user u WHERE username LIKE 'doc%';
WITH s AS (SELECT
    ARRAY['ka','lin','mor','ber','son','dah','rik','vel','tor','an','ess','mil','gar','ron',
          'sen','pet','ola','fin','hal','wik','str','om','ber','ney','ach','ott','ung','ley',
          'mar','kov','ski','ez','ura','dov','ell','ian','ope','ina','ast','uld'] AS syl,
    ARRAY['Mara','Tobias','Ines','John','Maria','Ahmed','Li','Sofia','Lukas','Emma','Noah',
          'Olivia','Liam','Ava','Mateo','Chloe','Yusuf','Aisha','Kenji','Hana','Pavel','Olga',
          'Diego','Lucia','Omar','Fatima','Erik','Sara','Jonas','Nora','Ivan','Elena','Samuel',
          'Grace','David','Anna','Carlos','Rosa','Felix','Julia'] AS giv)
INSERT INTO intake_patient (mrn, given_name, family_name, date_of_birth, sex_at_birth, email,
    phone, created_at, created_by_id, other_language, preferred_language, updated_at)
SELECT lpad((100 + g)::text, 8, '0'),
       giv[1 + (g * 7919) % 40]
           || CASE WHEN g % 3 = 0 THEN '' ELSE ' ' || giv[1 + (g * 104729) % 40] END,
       initcap(syl[1 + (g * 31) % 40] || syl[1 + (g * 17 / 40) % 40] || syl[1 + (g / 1600) % 40]),
       date '1940-01-01' + ((g * 37) % 29000)::int,
       CASE WHEN g % 2 = 0 THEN 'female' ELSE 'male' END, '', '',
       now() - interval '3 years', 1, '', '', now()
FROM s, generate_series(1::bigint, {patients}) g;
UPDATE intake_patient p SET merged_into_id = p.id + 1
WHERE p.id % 100 = 50 AND p.mrn > '00000100' AND p.id < (SELECT max(id) FROM intake_patient);
INSERT INTO intake_visit (scheduled_at, status, cancel_reason, red_flags, intake_version,
    created_at, updated_at, condition_id, created_by_id, patient_id, provider_id, close_reason,
    did_not_attend_reason, content_version_id)
SELECT date_trunc('day', now()) - interval '1 day' * ({visits} / 913.0)
           + g * interval '1 day' / 913.0 + interval '8 hours',
       CASE WHEN g % 10 = 0 THEN 'cancelled' WHEN g > {visits} - 1000 THEN 'scheduled'
            ELSE 'closed' END,
       CASE WHEN g % 10 = 0 THEN 'Patient asked' ELSE '' END,
       CASE WHEN g % 7 = 0 THEN '[{"urgent": true, "message": "Weakness", "reason": "x"}]'::jsonb
            WHEN g % 5 = 0 THEN '[{"urgent": false, "message": "Twitching", "reason": "y"}]'::jsonb
            ELSE '[]'::jsonb END,
       0, now(), now(), 1, 1,
       (SELECT min(id) FROM intake_patient WHERE mrn > '00000100') + (g * 13) % ({patients} - 10),
       (SELECT min(id) FROM auth_user WHERE username LIKE 'doc%') + g % 20, '', '', 1
FROM generate_series(1::bigint, {visits}) g;
INSERT INTO intake_testorder (test_name, test_code_system, test_code, priority, reason, body_site,
    notes, status, ordered_at, cancel_reason, result_text, result_unit, review_comment,
    updated_at, ordered_by_id, test_id, visit_id, limb, side)
SELECT 'Electrolytes', 'http://loinc.org', '24326-1', 'routine', 'Twitching for weeks', '', '',
       'ordered', v.scheduled_at + interval '30 minutes', '', '', '', '', now(), v.provider_id,
       (SELECT min(id) FROM conditions_orderabletest), v.id, '', ''
FROM intake_visit v WHERE v.provider_id IS NOT NULL AND v.created_by_id = 1;
INSERT INTO audit_auditevent (at, actor_id, actor_label, action, record_type, record_id,
    patient_id, remote_addr, detail, prev_hash, hash)
SELECT now() - interval '3 years' + g * interval '1 second', 1, 'frontdesk',
       CASE WHEN g % 3 = 0 THEN 'view' ELSE 'list' END, 'intake.visit', NULL,
       (SELECT min(id) FROM intake_patient WHERE mrn > '00000100') + (g * 7) % ({patients} - 10),
       '127.0.0.1', '{}', repeat('0', 64), repeat('0', 64)
FROM generate_series(1, 2 * {visits}) g;
"""


def fill(url, visits):
    """Migrate, load the demo, then add the records by SQL (the audit events so added
    carry no valid hashes: verify_audit fails on these databases)."""
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "1"}
    manage = [sys.executable, str(Path(__file__).resolve().parent.parent / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], env=env, check=True)
    subprocess.run([*manage, "load_demo"], env=env, check=True, stdout=subprocess.DEVNULL)
    import psycopg

    with psycopg.connect(url.replace("postgres://", "postgresql://"), autocommit=True) as db:
        sql = FILL_SQL.replace("{visits}", str(visits)).replace("{patients}", str(visits // 2))
        db.execute(sql)
        db.execute("VACUUM ANALYZE")


def measure(url):
    """Run this file as a child process against one database; returns its lines."""
    env = {**os.environ, "DATABASE_URL": url, "SCALE_MEASURE": "1"}
    done = subprocess.run(
        [sys.executable, __file__], env=env, check=True, capture_output=True, text=True
    )
    return dict(line.split("\t", 1) for line in done.stdout.splitlines() if "\t" in line)


def pages():
    """(name, client, method, url, data) for each page measured."""
    from django.contrib.auth.models import User
    from django.test import Client
    from django.utils import timezone
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from intake.models import Patient

    def signed_in(username):
        user = User.objects.get(username=username)
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(user)
        device, _ = TOTPDevice.objects.get_or_create(user=user, name="bench", confirmed=True)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
        return client

    desk, admin = signed_in("frontdesk"), signed_in("admin")
    # The day before today holds most of the last thousand visits, in both databases.
    busy_day = timezone.localdate() - datetime.timedelta(days=1)
    # A patient made alike in both databases: their names and birth date find them in each.
    patient = Patient.objects.get(mrn="00000223")
    given, family = patient.given_name.split()[0], patient.family_name
    return [
        ("today (a busy day)", desk, "get", f"/staff/?day={busy_day:%Y-%m-%d}", None),
        ("search by surname", desk, "post", "/staff/patients/", {"q": family}),
        ("search by two parts", desk, "post", "/staff/patients/", {"q": f"{given} {family[:4]}"}),
        (
            "search by birth date",
            desk,
            "post",
            "/staff/patients/",
            {"q": f"{patient.date_of_birth}"},
        ),
        ("admin visit list", admin, "get", "/admin/intake/visit/", None),
        ("admin order list", admin, "get", "/admin/intake/testorder/", None),
        ("admin audit list", admin, "get", "/admin/audit/auditevent/", None),
        ("who saw a patient", admin, "get", f"/staff/audit/?patient={patient.pk}", None),
    ]


def measure_here():
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import environment  # noqa: F401
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def load(name, client, method, url, data):
        response = getattr(client, method)(url, data) if data else getattr(client, method)(url)
        assert response.status_code == 200, (name, response.status_code)

    for page in pages():
        load(*page)
        samples = []
        for _ in range(REPEAT):
            start = time.perf_counter()
            load(*page)
            samples.append(time.perf_counter() - start)
        with CaptureQueriesContext(connection) as queries:
            load(*page)
        print(f"{page[0]}\t{statistics.median(samples) * 1000:.1f}\t{len(queries)}")


def main():
    arguments = [argument for argument in sys.argv[1:] if argument != "--fill"]
    if len(arguments) != 2:
        sys.exit(__doc__)
    urls = dict(zip(VISITS, arguments, strict=True))
    if "--fill" in sys.argv:
        for size, url in urls.items():
            fill(url, VISITS[size])
    # Alternate the two databases, so that a busy machine slows both alike.
    runs = {size: [] for size in urls}
    for _ in range(2):
        for size, url in urls.items():
            runs[size].append(measure(url))
    print(f"median of {REPEAT} requests, best of 2 runs per database")
    print(f"{'page':<24}{'1k ms':>9}{'1M ms':>9}{'ratio':>8}{'queries':>10}")
    for name in runs["small"][0]:
        small = min(float(run[name].split("\t")[0]) for run in runs["small"])
        large = min(float(run[name].split("\t")[0]) for run in runs["large"])
        queries = {run[name].split("\t")[1] for run in (*runs["small"], *runs["large"])}
        print(f"{name:<24}{small:>9.1f}{large:>9.1f}{large / small:>8.2f}{'/'.join(queries):>10}")


if __name__ == "__main__":
    if os.environ.get("SCALE_MEASURE"):
        measure_here()
    else:
        main()
