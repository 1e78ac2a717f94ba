"""Staff accounts and lockouts in the admin, for clinic administrators and superusers.

Accounts are saved through accounts.staff, which holds the rules (no one raises their own
access, only a superuser touches a superuser) and audits each change; lockouts are lifted
through accounts.lockout, which audits each lift. Neither is ever deleted otherwise.
"""

from axes.admin import AccessAttemptAdmin
from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import ValidationError
from django.db.models import OuterRef, Prefetch, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from . import lockout, passwords, staff
from .forms import StaffAccountForm

User = get_user_model()
# An account's actions are offered on its own page as well as on the list.
BOTH_PAGES = [admin.ActionLocation.CHANGE_LIST, admin.ActionLocation.CHANGE_FORM]

admin.site.unregister(User)


def _report(model_admin, request, records, step, *, done):
    """Apply `step` to each record of an action; say how many it did, and why each of
    the others was refused."""
    count = 0
    for record in records:
        try:
            step(record)
            count += 1
        except ValidationError as error:
            model_admin.message_user(
                request, f"{record}: {' '.join(error.messages)}", messages.ERROR
            )
    if count:
        model_admin.message_user(request, f"{count} {done}.", messages.SUCCESS)


@admin.register(User)
class StaffAccountAdmin(UserAdmin):
    """Django's user admin with the clinic's roles in place of groups and permissions, and
    no password form: people choose their own passwords from an e-mailed link."""

    form = StaffAccountForm
    add_form = StaffAccountForm
    # Django's own add page asks for a password first.
    add_form_template = None
    fieldsets = (
        (None, {"fields": ("username",)}),
        ("Name and e-mail", {"fields": ("first_name", "last_name", "email")}),
        ("Access", {"fields": ("is_active", "roles", "is_staff")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"fields": ("username",)}),
        ("Name and e-mail", {"fields": ("first_name", "last_name", "email")}),
        ("Access", {"fields": ("roles",)}),
    )
    readonly_fields = ["is_staff", "last_login", "date_joined"]
    list_display = ["username", "first_name", "last_name", "email", "role_names", "is_active"]
    list_filter = ["is_active", "groups"]
    actions = ["send_password_reset", "deactivate"]

    def get_queryset(self, request):
        accounts = (
            super()
            .get_queryset(request)
            .prefetch_related(Prefetch("groups", queryset=staff.role_groups(), to_attr="roles"))
        )
        if not request.user.is_superuser:
            # Superusers' accounts are theirs to manage: others do not see them at all.
            accounts = accounts.filter(is_superuser=False)
        return accounts

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None and request.user.is_superuser:
            (name, options), *rest = fieldsets
            fieldsets = ((name, {"fields": (*options["fields"], "is_superuser")}), *rest)
        return fieldsets

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)  # a new class on each call
        form.actor = request.actor
        return form

    def get_urls(self):
        # Without UserAdmin's own URL for setting someone else's password.
        return admin.ModelAdmin.get_urls(self)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Roles")
    def role_names(self, user):
        return ", ".join(role.name for role in user.roles)

    def save_model(self, request, obj, form, change):
        staff.save_staff_account(
            user=obj,
            roles=list(form.cleaned_data["roles"]),
            changed=form.changed_data,
            actor=request.actor,
        )

    @admin.action(
        description="E-mail a password reset link",
        permissions=["change"],
        location=BOTH_PAGES,
    )
    def send_password_reset(self, request, queryset):
        _report(
            self,
            request,
            queryset,
            lambda user: passwords.send_password_reset(user=user, actor=request.actor),
            done="password reset links e-mailed",
        )

    @admin.action(
        description="Deactivate the account",
        description_plural="Deactivate the accounts",
        permissions=["change"],
        location=BOTH_PAGES,
    )
    def deactivate(self, request, queryset):
        _report(
            self,
            request,
            queryset,
            lambda user: staff.deactivate_account(user=user, actor=request.actor),
            done="accounts deactivated",
        )


class LockedOutFilter(admin.SimpleListFilter):
    title = "locked out now"
    parameter_name = "locked"

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request, queryset):
        locked = Q()
        for parameter, limit in lockout.failure_limits():
            locked |= Q(**{f"{parameter}_failures__gte": limit})
        if self.value() == "yes":
            return queryset.filter(locked)
        if self.value() == "no":
            return queryset.exclude(locked)
        return queryset


@admin.register(AccessAttempt)
class LockoutAdmin(AccessAttemptAdmin):
    """axes' failed sign-ins, each with whether its user name or address is locked now.
    Lifting a lockout forgets failed sign-ins: select those of the user name (or the
    address), then "Lift the lockout"."""

    list_display = [
        "username",
        "ip_address",
        "failures_since_start",
        "attempt_time",
        "locks",
    ]
    list_filter = [LockedOutFilter, "attempt_time"]
    actions = ["lift_lockout"]

    def get_queryset(self, request):
        # Two subqueries, however many rows: the recent failures of each row's user
        # name, and of its address, across all rows.
        recent = AccessAttempt.objects.filter(attempt_time__gte=timezone.now() - get_cool_off())

        def failures_of(field):
            return Coalesce(
                Subquery(
                    recent.filter(**{field: OuterRef(field)})
                    .values(field)
                    .annotate(total=Sum("failures_since_start"))
                    .values("total")
                ),
                0,
            )

        return (
            super()
            .get_queryset(request)
            .annotate(
                **{
                    f"{parameter}_failures": failures_of(parameter)
                    for parameter, _ in lockout.failure_limits()
                }
            )
        )

    @admin.display(description="Locked now")
    def locks(self, attempt):
        locked = [
            lockout.PARAMETER_NAMES[parameter]
            for parameter, limit in lockout.failure_limits()
            if getattr(attempt, f"{parameter}_failures") >= limit
        ]
        return " and ".join(locked).capitalize() or "No"

    def get_actions(self, request, action_location=admin.ActionLocation.CHANGE_LIST):
        actions = super().get_actions(request, action_location)
        actions.pop("delete_selected", None)  # "Lift the lockout" deletes, and audits
        return actions

    @admin.action(
        description="Lift the lockout (forget these failed sign-ins)", permissions=["delete"]
    )
    def lift_lockout(self, request, queryset):
        attempts = list(queryset)
        lockout.lift_lockouts(attempts=attempts, actor=request.actor)
        self.message_user(
            request, f"{len(attempts)} failed sign-ins forgotten; their lockouts are lifted."
        )

    def delete_model(self, request, obj):
        lockout.lift_lockouts(attempts=[obj], actor=request.actor)

    def delete_queryset(self, request, queryset):
        lockout.lift_lockouts(attempts=list(queryset), actor=request.actor)
