"""Import a condition from an encyclopedia-style text page or an exported JSON document."""

import json
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from conditions.content import save_condition
from conditions.importer import NotAConditionPage, document_from_path
from conditions.models import Condition


class Command(BaseCommand):
    help = (
        "Create or update a condition from a plain-text encyclopedia page or from the JSON "
        "that export_condition prints. Importing the same file again updates the condition."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="A .txt page or a .json export.")
        parser.add_argument("--title", help="The condition's title (default: from the file name).")
        parser.add_argument("--publish", action="store_true", help="Publish the condition.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Print what would be saved; save nothing."
        )

    def handle(self, *args, path, title, publish, dry_run, **options):
        document = self._read(Path(path), title)
        exists = Condition.objects.filter(slug=document["slug"]).exists()
        action = "update" if exists else "create"
        if dry_run:
            self.stdout.write(f"Would {action} condition “{document['title']}”:")
            self.stdout.write(summary(document))
            return
        try:
            condition = save_condition(
                document, publish=publish, note=f"Imported {Path(path).name}"
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        state = "published" if condition.is_published else "draft"
        self.stdout.write(
            self.style.SUCCESS(f"{action.capitalize()}d condition “{condition}” ({state}).")
        )
        self.stdout.write(summary(document))

    def _read(self, path, title):
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        try:
            if path.suffix.lower() == ".json":
                document = json.loads(path.read_text(encoding="utf-8"))
                if title and isinstance(document, dict):
                    document["title"] = title
                return document
            return document_from_path(path, title=title)
        except (NotAConditionPage, json.JSONDecodeError, UnicodeDecodeError) as error:
            raise CommandError(f"{path.name}: {error}") from error


def summary(document):
    lines = [f"  Alternative names: {', '.join(document.get('alternative_names', [])) or '-'}"]
    for section in document.get("sections", []):
        count = _count(section["items"])
        lines.append(f"  Section “{section['heading']}” ({section['kind']}): {count} items")
    for question in document.get("questions", []):
        lines.append(f"  Question [{question['answer_type']}] {question['wording']}")
    for test in document.get("tests", []):
        code = f"{test['code']} ({test['code_system']})" if test.get("code") else "no code"
        lines.append(f"  Test [{test['kind']}] {test['name']}: {code}")
    return "\n".join(lines)


def _count(items):
    return sum(1 + _count(item.get("items", [])) for item in items)
