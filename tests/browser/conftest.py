"""Browser tests: Debian's Chromium driven by Playwright against the live test server.

Where Chromium is missing they are skipped with a message, except in CI, where a
missing browser fails the run.
"""

import os
from pathlib import Path

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

# Playwright runs an event loop in the test thread; the ORM calls beside it are fine here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/browser/" in str(item.path):
            item.add_marker(pytest.mark.browser)
    if Path(CHROMIUM).exists() or not any("tests/browser/" in str(i.path) for i in items):
        return
    if os.environ.get("CI"):
        raise pytest.UsageError(f"CI needs Chromium at {CHROMIUM}: apt-get install chromium")
    skip = pytest.mark.skip(
        reason=f"no Chromium at {CHROMIUM}; run `apt-get install chromium` to enable browser tests"
    )
    for item in items:
        if "tests/browser/" in str(item.path):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args():
    return {
        "executable_path": CHROMIUM,
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


def app_code(device):
    """The code a person's authenticator app shows now, as their phone would compute it."""
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


@pytest.fixture
def authenticator():
    """Give a person a set-up authenticator app (providers, clinic administrators and
    superusers are asked for its code after their password); use `app_code(device)`."""

    def give(user):
        return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)

    return give


@pytest.fixture
def screenshot(page):
    """Save a full-page screenshot under tests/browser/screenshots/ (ignored by git)."""
    SCREENSHOTS.mkdir(exist_ok=True)

    def take(name):
        page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)

    return take


@pytest.fixture
def axe_violations(page):
    """Run axe-core on the current page; return its serious and critical violations.

    The script is evaluated through the DevTools protocol, which our CSP does not govern,
    so the page is checked with its real policy in force.
    """
    if not AXE.exists():
        message = f"axe-core is missing at {AXE}: run `npm install` to enable this check"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)

    def check():
        page.evaluate(AXE.read_text(encoding="utf-8"))
        results = page.evaluate("async () => await axe.run()")
        return [
            (violation["id"], violation["impact"], [node["target"] for node in violation["nodes"]])
            for violation in results["violations"]
            if violation["impact"] in ("serious", "critical")
        ]

    return check
