"""The audit trail in the admin: read-only, for whoever may view it."""

from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.utils.text import capfirst

from intake.paginators import EstimatedCountPaginator

from .models import AuditEvent


class RecordTypeFilter(admin.SimpleListFilter):
    """The kinds of record events name, from the models themselves: looking for the
    distinct types in the trail itself would read every event."""

    title = "record type"
    parameter_name = "record_type"

    def lookups(self, request, model_admin):
        models = [
            model
            for model in apps.get_app_config("intake").get_models()
            if not model._meta.label_lower.startswith("intake.historical")
        ]
        return [
            (model._meta.label_lower, capfirst(model._meta.verbose_name_plural))
            for model in [*models, AuditEvent, get_user_model()]
        ]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(record_type=self.value())
        return queryset


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["at", "actor_label", "action", "record_type", "record_id", "patient_id"]
    list_filter = ["action", RecordTypeFilter, ("at", admin.DateFieldListFilter)]
    search_fields = ["actor_label", "=patient_id", "=record_id"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
