"""Authenticator apps in the admin: a clinic administrator sees who has one and resets
a lost one. Keys and recovery codes are never shown; django-otp's own device admins,
which can add and edit devices, are replaced."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from .second_factor import reset_second_factor

admin.site.unregister(TOTPDevice)
admin.site.unregister(StaticDevice)


@admin.register(TOTPDevice)
class AuthenticatorAdmin(admin.ModelAdmin):
    list_display = ["user", "confirmed", "created_at", "last_used_at", "throttling_failure_count"]
    list_filter = ["confirmed"]
    list_select_related = ["user"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    fields = ["user", "confirmed", "created_at", "last_used_at", "throttling_failure_count"]
    readonly_fields = fields
    actions = ["reset"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_reset_permission(self, request):
        # The delete permission, used only through the audited reset.
        return request.user.has_perm("otp_totp.delete_totpdevice")

    @admin.action(
        permissions=["reset"],
        description="Reset the second factor of the selected people (lost or new phone)",
    )
    def reset(self, request, queryset):
        done = []
        for device in queryset.select_related("user"):
            try:
                reset_second_factor(user=device.user, actor=request.actor)
            except ValidationError as error:
                self.message_user(request, error.messages[0], messages.ERROR)
            else:
                done.append(device.user.get_username())
        if done:
            self.message_user(
                request,
                f"Reset for {', '.join(sorted(set(done)))}. "
                "They set up their app again the next time they sign in.",
                messages.SUCCESS,
            )
