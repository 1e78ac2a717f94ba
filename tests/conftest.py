"""Shared fixtures: named personas and the demo condition."""

import json
from pathlib import Path

import pytest
from django.contrib.auth.models import Group

from conditions.content import save_condition
from intake.roles import CONTENT_EDITOR, FRONT_DESK, PROVIDER

from .factories import UserFactory

ROOT = Path(__file__).resolve().parent.parent
SEED_PAGE = ROOT.parent / "shared" / "seeds" / "muscle-twitches.txt"
DEMO_DOCUMENT = ROOT / "conditions" / "demo" / "muscle-twitches.json"


def _member_of(role, **fields):
    user = UserFactory(**fields)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def front_desk(db):
    return _member_of(FRONT_DESK, username="fran.frontdesk")


@pytest.fixture
def provider(db):
    return _member_of(PROVIDER, username="pat.provider", is_staff=True)


@pytest.fixture
def editor(db):
    return _member_of(CONTENT_EDITOR, username="eddie.editor", is_staff=True)


@pytest.fixture
def demo_document():
    return json.loads(DEMO_DOCUMENT.read_text(encoding="utf-8"))


@pytest.fixture
def condition(db, demo_document):
    """The demo muscle-twitches condition, published."""
    return save_condition(demo_document, publish=True)
