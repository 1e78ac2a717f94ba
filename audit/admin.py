"""The audit trail in the admin: read-only, for whoever may view it."""

from django.contrib import admin

from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["at", "actor_label", "action", "record_type", "record_id", "patient_id"]
    list_filter = ["action", "record_type"]
    search_fields = ["actor_label", "=patient_id", "=record_id"]
    date_hierarchy = "at"
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
