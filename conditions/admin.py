"""The content editors' admin: a whole condition on one page, preview, versions."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AdminTextareaWidget
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Max
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.html import format_html_join
from django.views.decorators.http import require_POST
from modeltranslation.admin import (
    TranslationAdmin,
    TranslationStackedInline,
    TranslationTabularInline,
)

from audit import history

from . import content
from .diff import content_changes
from .importer import items_to_outline, outline_to_items
from .models import (
    Condition,
    ConditionVersion,
    HistoryQuestion,
    OrderableTest,
    RedFlagRule,
    Section,
    TranslationStatus,
    translation_languages,
)
from .views import page_context


def language_name(code):
    return translation.get_language_info(code)["name"]


class TranslatedContentForm(forms.ModelForm):
    """The form of a record with translations. Saving a translation, or ticking that it
    is still right, records that it follows the English as it now stands."""

    translation_still_right = forms.BooleanField(
        label="Translation still right",
        required=False,
        help_text="Tick when the English changed in a way the translation needs no change "
        "for: it is then no longer marked out of date.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.translations_as_loaded = {
            language: _normalised(self.instance.translated_texts(language))
            for language in translation_languages()
            if self.instance.pk
        }

    def mark_translations(self, record):
        for language in translation_languages():
            # Compared as texts, not as form fields: a browser posts a textarea back with
            # other line endings, which is no change of the translation.
            changed = _normalised(record.translated_texts(language)) != (
                self.translations_as_loaded.get(language)
            )
            if changed or self.cleaned_data.get("translation_still_right"):
                record.mark_translated(language)

    def save(self, commit=True):
        self.mark_translations(self.instance)
        return super().save(commit=commit)


def _normalised(texts):
    return [text.replace("\r\n", "\n").strip() for text in texts]


@admin.display(description="Translation")
def translation_marks(record):
    """Each translation's state: up to date, out of date or missing."""
    if record is None or record.pk is None:
        return "—"
    return format_html_join(
        "",
        '<span class="translation-mark {}">{}: {}</span> ',
        (
            (
                status or "up_to_date",
                language_name(language),
                TranslationStatus(status).label if status else "Up to date",
            )
            for language in translation_languages()
            for status in [record.translation_status(language)]
        ),
    )


class SectionForm(TranslatedContentForm):
    items_outline = forms.CharField(
        label="List items",
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "cols": 60}),
        help_text="One item per line, starting with “- ”. Indent a line by two more spaces "
        "to make it a sub-point of the item above.",
    )

    class Meta:
        model = Section
        fields = ["position", "kind", "heading", "body", "items_outline"]
        widgets = {"body": forms.Textarea(attrs={"rows": 3, "cols": 60})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            tree = self.instance.item_tree()
            self.initial["items_outline"] = items_to_outline(tree)
            for language in translation_languages():
                self.initial[f"items_outline_{language}"] = items_to_outline(
                    tree, field=f"text_{language}"
                )

    def clean_items_outline(self):
        return outline_to_items(self.cleaned_data["items_outline"])

    def clean(self):
        cleaned = super().clean()
        items = _flattened(cleaned.get("items_outline") or [])
        for language in translation_languages():
            name = f"items_outline_{language}"
            translated = _flattened(outline_to_items(cleaned.get(name, "")))
            as_loaded = _flattened(outline_to_items(self.initial.get(name, "")))
            if len(translated) != len(items) and translated == as_loaded:
                # The English list changed shape and the translated one was left as it
                # was: its lines no longer match, so the list reads as not translated.
                translated = []
            if translated and len(translated) != len(items):
                self.add_error(
                    name,
                    f"The list has {len(items)} item(s) in English and {len(translated)} here: "
                    "give one line for each English line, in the same order.",
                )
                continue
            for item, text in zip(items, translated or [""] * len(items), strict=True):
                item.setdefault("translations", {})[language] = {
                    "text": text["text"] if text else ""
                }
        return cleaned

    def save(self, commit=True):
        section = super().save(commit=commit)
        if commit:
            content.save_items(section, self.cleaned_data["items_outline"])
            # The mark covers the list too, which exists only now.
            self.mark_translations(section)
            section.save(update_fields=["translated_from"])
        return section


# The list translated, beside each translated field of the section.
for _language in translation_languages():
    SectionForm.base_fields[f"items_outline_{_language}"] = SectionForm.declared_fields[
        f"items_outline_{_language}"
    ] = forms.CharField(
        label=f"List items [{_language}]",
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "cols": 60}),
        help_text="The same list translated: one line for each English line, in the same "
        "order and nesting.",
    )


def _flattened(item_docs):
    return [flat for doc in item_docs for flat in [doc, *_flattened(doc["items"])]]


class SectionInline(TranslationStackedInline):
    model = Section
    form = SectionForm
    extra = 0
    ordering = ["position", "id"]
    fields = [
        ("position", "kind"),
        "heading",
        "body",
        "items_outline",
        *(f"items_outline_{language}" for language in translation_languages()),
        ("translation_marks", "translation_still_right"),
    ]
    readonly_fields = ["translation_marks"]

    @admin.display(description="Translation")
    def translation_marks(self, section):
        return translation_marks(section)


class HistoryQuestionForm(TranslatedContentForm):
    class Meta:
        model = HistoryQuestion
        fields = [
            "position",
            "key",
            "wording",
            "help_text",
            "answer_type",
            "required",
            "choices",
            "applies_to",
            "min_age",
            "max_age",
        ]

    def clean_key(self):
        key = self.cleaned_data["key"]
        if self.instance.pk and key != self.instance.key:
            raise forms.ValidationError(
                "A question's key cannot change once saved: recorded answers refer to it. "
                "Add a new question instead."
            )
        return key


class HistoryQuestionInline(TranslationStackedInline):
    model = HistoryQuestion
    form = HistoryQuestionForm
    extra = 0
    ordering = ["position", "id"]
    prepopulated_fields = {"key": ["wording"]}
    fields = [
        ("position", "key"),
        "wording",
        "help_text",
        ("answer_type", "required"),
        "choices",
        ("applies_to", "min_age", "max_age"),
        ("translation_marks", "translation_still_right"),
    ]
    readonly_fields = ["translation_marks"]
    formfield_overrides = {models.TextField: {"widget": AdminTextareaWidget(attrs={"rows": 4})}}

    @admin.display(description="Translation")
    def translation_marks(self, question):
        return translation_marks(question)


class RedFlagRuleForm(TranslatedContentForm):
    class Meta:
        model = RedFlagRule
        fields = [
            "position",
            "question",
            "kind",
            "choice",
            "days",
            "message",
            "urgent",
            "confirmed",
            "suggests",
        ]


class RedFlagRuleInline(TranslationTabularInline):
    model = RedFlagRule
    form = RedFlagRuleForm
    extra = 0
    ordering = ["position", "id"]
    fields = [*RedFlagRuleForm.Meta.fields, "translation_marks", "translation_still_right"]
    readonly_fields = ["translation_marks"]

    @admin.display(description="Translation")
    def translation_marks(self, rule):
        return translation_marks(rule)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "question":
            condition_id = request.resolver_match.kwargs.get("object_id")
            kwargs["queryset"] = HistoryQuestion.objects.filter(condition_id=condition_id)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "suggests":
            # A flag suggests tests from the condition's catalog as last saved.
            condition_id = request.resolver_match.kwargs.get("object_id")
            kwargs["queryset"] = OrderableTest.objects.filter(conditions__pk=condition_id)
            kwargs["widget"] = forms.SelectMultiple(attrs={"size": 4})
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class ConditionForm(TranslatedContentForm):
    loaded_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Condition
        fields = [
            "title",
            "slug",
            "definition",
            "alternative_names",
            "icd10cm_code",
            "snomed_code",
            "tests",
            "suggests",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.others_changes = []
        if self.instance.pk:
            latest = self.instance.versions.values_list("number", flat=True).first()
            self.initial["loaded_version"] = latest

    def clean(self):
        cleaned = super().clean()
        outside = set(cleaned.get("suggests") or []) - set(cleaned.get("tests") or [])
        if outside:
            names = ", ".join(sorted(test.name for test in outside))
            self.add_error(
                "suggests", f"Suggest only the condition's orderable tests (not: {names})."
            )
        if self.instance.pk:
            self._refuse_if_saved_since(cleaned.get("loaded_version"))
        return cleaned

    def _refuse_if_saved_since(self, loaded):
        """Refuse the save if anyone saved, imported or published the condition after this
        form was loaded, and keep their changes on the form for the editor to read."""
        # Two editors saving the same condition race here. The row lock lasts until the
        # admin's transaction commits, after the first save's version is recorded, so the
        # second save waits, then finds that version.
        Condition.objects.select_for_update().only("pk").get(pk=self.instance.pk)
        versions = self.instance.versions.select_related("created_by")
        latest = versions.first()
        if latest is None or latest.number == loaded:
            return
        seen = versions.filter(number=loaded).first()
        self.others_changes = content_changes(seen.content if seen else {}, latest.content)
        # The form comes back stamped with the version now saved: saving it again, once
        # the editor has read the other changes, is a deliberate choice.
        self.data = self.data.copy()
        self.data[self.add_prefix("loaded_version")] = latest.number
        who = latest.created_by or "someone"
        raise forms.ValidationError(
            f"{who} saved this condition at "
            f"{date_format(timezone.localtime(latest.created_at), 'DATETIME_FORMAT')} "
            f"(version {latest.number}{': ' + latest.note if latest.note else ''}) "
            "after you opened it. Nothing of yours is saved yet, and what you typed is "
            "still below. Their changes are listed at the top: make sure yours keep them, "
            "then save again."
        )


@admin.register(Condition)
class ConditionAdmin(TranslationAdmin):
    list_display = [
        "title",
        "slug",
        "status",
        "saved_since_publishing",
        "translations_to_check",
        "updated_at",
        "published_at",
    ]
    list_filter = ["status"]
    search_fields = ["title", "alternative_names"]
    prepopulated_fields = {"slug": ["title"]}
    form = ConditionForm
    readonly_fields = ["status", "published_at", "updated_at", "translation_marks"]
    filter_horizontal = ["tests", "suggests"]
    formfield_overrides = {models.TextField: {"widget": AdminTextareaWidget(attrs={"rows": 4})}}
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "title",
                    "slug",
                    ("status", "published_at", "updated_at"),
                    "loaded_version",
                ]
            },
        ),
        (
            "Page opening",
            {
                "fields": [
                    "definition",
                    "alternative_names",
                    ("translation_marks", "translation_still_right"),
                ]
            },
        ),
        ("Codes", {"fields": [("icd10cm_code", "icd10cm_title"), "snomed_code"]}),
        ("Review of the source page", {"fields": [("reviewed_on", "reviewed_by")]}),
        ("Orderable tests", {"fields": ["tests", "suggests"]}),
    ]
    inlines = [SectionInline, HistoryQuestionInline, RedFlagRuleInline]
    actions = ["publish_selected", "unpublish_selected"]
    change_form_template = "admin/conditions/condition/change_form.html"
    # The change form links to the public page itself, and only once it is published:
    # the admin's own link would lead a draft's editor to a 404.
    view_on_site = False

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(latest_version=Max("versions__id"))

    @admin.display(boolean=True, description="Changes saved since publishing")
    def saved_since_publishing(self, condition):
        """Whether a version was saved after the published one (a draft waits)."""
        return condition.latest_version != condition.published_version_id

    @admin.display(description="Translations to check")
    def translations_to_check(self, condition):
        """How many parts have a translation missing or out of date, in all languages."""
        return sum(len(condition.translation_problems(code)) for code in translation_languages())

    @admin.display(description="Translation")
    def translation_marks(self, condition):
        return translation_marks(condition)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        content.record_version(
            form.instance, by=request.user, note="Edited" if change else "Created"
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        condition = self.get_object(request, object_id)
        extra_context = {
            **(extra_context or {}),
            "red_flag_warning": condition.red_flag_warning() if condition else "",
            "translation_warning": _translation_warning(condition) if condition else "",
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def _warn_about_red_flags(self, request, condition):
        warning = condition.red_flag_warning()
        if warning:
            self.message_user(request, f"“{condition}”: {warning}", messages.WARNING)

    def _warn_about_translations(self, request, condition):
        warning = _translation_warning(condition, listing=True)
        if warning:
            self.message_user(request, f"“{condition}”: {warning}", messages.WARNING)

    @admin.action(description="Publish selected conditions", permissions=["change"])
    def publish_selected(self, request, queryset):
        changed = sum(content.publish(condition, by=request.user) for condition in queryset)
        self.message_user(request, f"Published {changed} condition(s).", messages.SUCCESS)
        for condition in queryset:
            self._warn_about_red_flags(request, condition)
            self._warn_about_translations(request, condition)

    @admin.action(description="Return selected conditions to draft", permissions=["change"])
    def unpublish_selected(self, request, queryset):
        changed = sum(content.unpublish(condition, by=request.user) for condition in queryset)
        self.message_user(request, f"{changed} condition(s) returned to draft.", messages.SUCCESS)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/preview/", view(self.preview_view), name="conditions_condition_preview"),
            path(
                "<int:pk>/publish/",
                view(require_POST(self.publish_view)),
                name="conditions_condition_publish",
            ),
            path(
                "<int:pk>/unpublish/",
                view(require_POST(self.unpublish_view)),
                name="conditions_condition_unpublish",
            ),
            path(
                "<int:pk>/versions/", view(self.versions_view), name="conditions_condition_versions"
            ),
            path(
                "<int:pk>/versions/<int:number>/restore/",
                view(require_POST(self.restore_view)),
                name="conditions_condition_restore",
            ),
            *super().get_urls(),
        ]

    def _condition_for(self, request, pk, *, change=False):
        condition = get_object_or_404(Condition, pk=pk)
        allowed = (
            self.has_change_permission(request, condition)
            if change
            else (self.has_view_permission(request, condition))
        )
        if not allowed:
            raise PermissionDenied
        return condition

    def preview_view(self, request, pk):
        condition = self._condition_for(request, pk)
        draft = ConditionVersion(condition=condition, content=content.export_condition(condition))
        return TemplateResponse(
            request,
            "conditions/condition_detail.html",
            page_context(draft, condition=condition, preview=True),
        )

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["unpublished_changes"] = content.has_unpublished_changes(obj)
            context["others_changes"] = context["adminform"].form.others_changes
        return super().render_change_form(request, context, add, change, form_url, obj)

    @staticmethod
    def _change_url(condition):
        return reverse("admin:conditions_condition_change", args=[condition.pk])

    # Publishing and unpublishing are separate endpoints, not one toggle, so that a
    # second click (or a second editor's stale page) cannot undo the first; both
    # leave a condition already in that state as it is.
    def publish_view(self, request, pk):
        condition = self._condition_for(request, pk, change=True)
        content.publish(condition, by=request.user)
        self.message_user(request, f"“{condition}” is published.", messages.SUCCESS)
        self._warn_about_red_flags(request, condition)
        self._warn_about_translations(request, condition)
        return redirect(self._change_url(condition))

    def unpublish_view(self, request, pk):
        condition = self._condition_for(request, pk, change=True)
        content.unpublish(condition, by=request.user)
        self.message_user(request, f"“{condition}” is a draft now.", messages.SUCCESS)
        return redirect(self._change_url(condition))

    def versions_view(self, request, pk):
        condition = self._condition_for(request, pk)
        versions = condition.versions.select_related("created_by")
        current = content.export_condition(condition)
        rows = [(version, content_changes(version.content, current)) for version in versions]
        return TemplateResponse(
            request,
            "admin/conditions/condition/versions.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "original": condition,
                "title": f"Versions of “{condition}”",
                "rows": rows,
                "can_restore": self.has_change_permission(request, condition),
            },
        )

    def restore_view(self, request, pk, number):
        condition = self._condition_for(request, pk, change=True)
        version = get_object_or_404(condition.versions, number=number)
        try:
            content.restore_version(version, by=request.user)
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
        else:
            self.message_user(
                request, f"Restored version {version.number} of “{condition}”.", messages.SUCCESS
            )
        return redirect(self._change_url(condition))


def _translation_warning(condition, *, listing=False):
    """What editors are told while a translation is missing or out of date: how many parts,
    and with `listing`, which."""
    warnings = []
    for language in translation_languages():
        problems = condition.translation_problems(language)
        if not problems:
            continue
        warning = (
            f"{len(problems)} part(s) have a {language_name(language)} translation missing or "
            "out of date"
        )
        if listing:
            parts = "; ".join(
                f"{part} “{name}”: {status.label.lower()}" for part, name, status in problems
            )
            warning += (
                f" ({parts}). The {language_name(language)} public page waits until every part "
                "is translated and up to date; the questions show English where a translation "
                "is missing"
            )
        warnings.append(warning + ".")
    return " ".join(warnings)


@admin.register(OrderableTest)
class OrderableTestAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "kind",
        "body_site",
        "asks_side_and_limb",
        "code_system",
        "code",
        "needs_check",
    ]
    list_filter = ["needs_check", "kind", "body_site", "asks_side_and_limb", "code_system"]
    search_fields = ["name", "code", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["record_changes"]

    @admin.display(description="Latest changes")
    def record_changes(self, test):
        return history.table(test.history.all()) if test.pk else "—"

    def save_model(self, request, obj, form, change):
        obj.save_by(request.actor)
