"""factory_boy factories for test data. Every person here is synthetic."""

import datetime
import json
from pathlib import Path

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from conditions.content import save_condition
from conditions.models import Condition
from intake.models import Answer, Patient, TestOrder, Visit

DEMO_DOCUMENT = (
    Path(__file__).resolve().parent.parent / "conditions" / "demo" / "muscle-twitches.json"
)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.django.Password("correct-horse-battery")


def demo_condition():
    """The published demo condition (muscle twitches), loaded once per test database."""
    existing = Condition.objects.filter(slug="muscle-twitches").first()
    if existing is not None:
        return existing
    document = json.loads(DEMO_DOCUMENT.read_text(encoding="utf-8"))
    return save_condition(document, publish=True)


def at_today(hour, minute=0, *, days=0):
    """An aware datetime today (or `days` from today) at this local time."""
    day = timezone.localdate() + datetime.timedelta(days=days)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


class PatientFactory(factory.django.DjangoModelFactory):
    """A patient; the record number comes from the model, as in real registration."""

    class Meta:
        model = Patient

    given_name = factory.Faker("first_name")
    family_name = factory.Faker("last_name")
    date_of_birth = factory.Faker("date_of_birth", minimum_age=18, maximum_age=80)
    sex_at_birth = Patient.SexAtBirth.FEMALE
    email = factory.LazyAttribute(
        lambda patient: f"{patient.given_name}.{patient.family_name}@example.org".lower()
    )
    phone = "+1 555 0100"


class VisitFactory(factory.django.DjangoModelFactory):
    """A visit of the demo condition, scheduled today at 09:00."""

    class Meta:
        model = Visit

    patient = factory.SubFactory(PatientFactory)
    condition = factory.LazyFunction(demo_condition)
    # As published now (the condition passed in may predate a publish).
    content_version = factory.LazyAttribute(
        lambda visit: Condition.objects.get(pk=visit.condition.pk).published_version
    )
    scheduled_at = factory.LazyFunction(lambda: at_today(9))
    provider = None
    created_by = factory.SubFactory(UserFactory)


class AnswerFactory(factory.django.DjangoModelFactory):
    """A free-text answer with no question behind it: enough for pages that list answers."""

    class Meta:
        model = Answer

    visit = factory.SubFactory(VisitFactory)
    question_key = factory.Sequence(lambda n: f"question-{n}")
    wording = factory.Sequence(lambda n: f"Question number {n}?")
    answer_type = "free_text"
    position = factory.Sequence(lambda n: n)
    value_text = "An answer"
    source = Answer.Source.STAFF
    answered_by = factory.SubFactory(UserFactory)


class TestOrderFactory(factory.django.DjangoModelFactory):
    """An EMG of both legs ordered for a visit; traits put it at a later stage, as the
    workflow would.

    `TestOrderFactory(reviewed=True)` is an order resulted and reviewed by its orderer.
    """

    __test__ = False  # not a pytest test class, despite its name

    class Meta:
        model = TestOrder

    class Params:
        scheduled = factory.Trait(
            status=TestOrder.Status.SCHEDULED,
            scheduled_by=factory.SelfAttribute("ordered_by"),
            scheduled_at=factory.LazyFunction(timezone.now),
        )
        resulted = factory.Trait(
            status=TestOrder.Status.RESULTED,
            result_text="Normal study.",
            performed_on=factory.LazyFunction(timezone.localdate),
            resulted_by=factory.SelfAttribute("ordered_by"),
            resulted_at=factory.SelfAttribute("ordered_at"),
        )
        reviewed = factory.Trait(
            status=TestOrder.Status.REVIEWED,
            result_text="Normal study.",
            performed_on=factory.LazyFunction(timezone.localdate),
            resulted_by=factory.SelfAttribute("ordered_by"),
            resulted_at=factory.SelfAttribute("ordered_at"),
            review_comment="Reassured the patient.",
            reviewed_by=factory.SelfAttribute("ordered_by"),
            reviewed_at=factory.LazyFunction(timezone.now),
        )
        cancelled = factory.Trait(
            status=TestOrder.Status.CANCELLED,
            cancel_reason="Patient declined.",
            cancelled_by=factory.SelfAttribute("ordered_by"),
            cancelled_at=factory.LazyFunction(timezone.now),
        )

    visit = factory.SubFactory(VisitFactory)
    test = factory.LazyAttribute(lambda order: order.visit.condition.tests.get(slug="emg"))
    test_name = factory.SelfAttribute("test.name")
    test_code_system = factory.SelfAttribute("test.code_system")
    test_code = factory.SelfAttribute("test.code")
    # Both legs, for a test that asks for side and limb (as the EMG does).
    side = factory.LazyAttribute(lambda order: "both" if order.test.asks_side_and_limb else "")
    limb = factory.LazyAttribute(lambda order: "leg" if order.test.asks_side_and_limb else "")
    reason = "Twitching in both calves for three months."
    ordered_by = factory.SubFactory(UserFactory)
    ordered_at = factory.LazyFunction(timezone.now)
