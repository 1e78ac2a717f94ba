"""Print a condition's content as JSON, for import_condition on another clinic's system."""

import json

from django.core.management.base import BaseCommand, CommandError

from conditions.content import export_condition
from conditions.models import Condition


class Command(BaseCommand):
    help = "Print a condition as JSON: sections, nested items, questions and tests with codes."

    def add_arguments(self, parser):
        parser.add_argument("slug")

    def handle(self, *args, slug, **options):
        try:
            condition = Condition.objects.get(slug=slug)
        except Condition.DoesNotExist:
            raise CommandError(f"No condition with the slug “{slug}”.") from None
        self.stdout.write(json.dumps(export_condition(condition), indent=2, ensure_ascii=False))
