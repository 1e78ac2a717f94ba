"""Import a condition from an encyclopedia-style text page or an exported JSON document."""

import json
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils.text import slugify

from conditions.content import check_document, save_condition
from conditions.importer import NotAConditionPage, document_from_path
from conditions.models import Condition


class Command(BaseCommand):
    help = (
        "Create or update a condition from a plain-text encyclopedia page or from the JSON "
        "that export_condition prints. Importing the same file again updates the condition."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="A .txt page or a .json export.")
        parser.add_argument(
            "--title",
            help="The condition's title; its slug follows from it (default: the file name "
            "for a page, the document's own title and slug for JSON).",
        )
        parser.add_argument("--publish", action="store_true", help="Publish the condition.")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Check everything and print what would be saved; save nothing.",
        )

    def handle(self, *args, path, title, publish, dry_run, **options):
        path = Path(path)
        document = self._read(path, title)
        existing = Condition.objects.filter(slug=document["slug"]).first()
        action = "update" if existing else "create"
        versions = existing.versions.count() if existing else 0
        try:
            with transaction.atomic():
                condition = save_condition(document, publish=publish, note=f"Imported {path.name}")
                # A dry run saves inside the transaction, so the models check every field,
                # then rolls it back.
                transaction.set_rollback(dry_run)
        except ValidationError as error:
            raise CommandError(f"{path.name}: {' '.join(error.messages)}") from error
        if dry_run:
            self.stdout.write(f"Would {action} condition “{document['title']}” (dry run):")
        elif existing and condition.versions.count() == versions:
            self.stdout.write(f"Condition “{condition}” is unchanged: it already holds this page.")
        else:
            state = "published" if condition.is_published else "draft"
            self.stdout.write(
                self.style.SUCCESS(f"{action.capitalize()}d condition “{condition}” ({state}).")
            )
        self.stdout.write(summary(document))

    def _read(self, path, title):
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        limit = settings.CONDITION_IMPORT_MAX_BYTES
        if path.stat().st_size > limit:
            raise CommandError(
                f"{path.name} is larger than {filesizeformat(limit)}, the most a condition page "
                "may be (setting CONDITION_IMPORT_MAX_BYTES)."
            )
        try:
            if path.suffix.lower() == ".json":
                document = json.loads(path.read_text(encoding="utf-8"))
                if title and isinstance(document, dict):
                    document["title"], document["slug"] = title, slugify(title)
            else:
                document = document_from_path(path, title=title)
            check_document(document)
        except (NotAConditionPage, json.JSONDecodeError, UnicodeDecodeError) as error:
            raise CommandError(f"{path.name}: {error}") from error
        except ValidationError as error:
            raise CommandError(f"{path.name}: {' '.join(error.messages)}") from error
        return document


def summary(document):
    lines = [f"  Alternative names: {', '.join(document.get('alternative_names', [])) or '-'}"]
    for section in document.get("sections", []):
        count = _count(section.get("items", []))
        lines.append(f"  Section “{section.get('heading')}” ({section.get('kind')}): {count} items")
    for question in document.get("questions", []):
        lines.append(f"  Question [{question.get('answer_type')}] {question.get('wording')}")
    for test in document.get("tests", []):
        code = f"{test['code']} ({test.get('code_system')})" if test.get("code") else "no code"
        lines.append(f"  Test [{test.get('kind')}] {test.get('name')}: {code}")
    return "\n".join(lines)


def _count(items):
    return sum(1 + _count(item.get("items", [])) for item in items)
