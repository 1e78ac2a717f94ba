"""Managing staff accounts: a clinic administrator (or a superuser) adds accounts, names
them, gives them the clinic's roles and deactivates them; nobody deletes one, and nobody
sets another person's password (a new account's owner is e-mailed a link to choose one).

Staff status (the admin) follows from the roles. Only a superuser changes a superuser's
account, and nobody changes their own roles or deactivates themselves, so no one can
raise their own access. Every change is audited with the names of the fields changed,
never their values.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction

from audit import trail
from audit.models import AuditEvent
from intake.roles import ADMIN_ROLES, CLINIC_ROLES

from . import passwords


def role_groups():
    """The clinic's roles, the only groups a clinic administrator gives."""
    return Group.objects.filter(name__in=CLINIC_ROLES).order_by("name")


def check_account_change(*, actor, account, roles, is_active, is_superuser=False):
    """Refuse (ValidationError) what `actor` may not do to `account` (as saved; None
    for a new one): make it active or not, with these roles and superuser status."""
    acting = actor.user
    if acting is None:  # a command the operator runs
        return
    if not acting.is_superuser and (is_superuser or (account is not None and account.is_superuser)):
        raise ValidationError(
            "Only a superuser can make or change a superuser's account.", code="superuser"
        )
    if account is None or account.pk != acting.pk:
        return
    errors = {}
    current_roles = set(role_groups().filter(user=account).values_list("pk", flat=True))
    if not acting.is_superuser and {role.pk for role in roles} != current_roles:
        errors["roles"] = "You cannot change your own roles. Ask another clinic administrator."
    if not is_active:
        errors["is_active"] = "You cannot deactivate your own account."
    if errors:
        raise ValidationError(errors)


def save_staff_account(*, user, roles, changed, actor):
    """Save a new or changed account (`user`, with its fields set) with these roles, which
    replace its clinic roles; `changed` names the fields that changed, for the audit trail.
    A new account has no password until its owner chooses one from the e-mailed link."""
    User = get_user_model()
    creating = user.pk is None
    with transaction.atomic():
        # Two administrators saving one account at once: the second sees the first's roles.
        account = None if creating else User._default_manager.select_for_update().get(pk=user.pk)
        check_account_change(
            actor=actor,
            account=account,
            roles=roles,
            is_active=user.is_active,
            is_superuser=user.is_superuser,
        )
        if creating:
            user.set_unusable_password()
        user.is_staff = user.is_superuser or any(role.name in ADMIN_ROLES for role in roles)
        fields = set(changed)
        if account is not None and account.is_staff != user.is_staff:
            fields.add("is_staff")
        user.full_clean()
        user.save()
        other_groups = [] if creating else list(user.groups.exclude(name__in=CLINIC_ROLES))
        user.groups.set([*other_groups, *roles])
        trail.record(
            action=AuditEvent.Action.CREATE if creating else AuditEvent.Action.UPDATE,
            record=user,
            actor=actor,
            fields=sorted(fields),
        )
        if creating and user.email:
            passwords.send_password_reset(user=user, actor=actor)
    return user


def deactivate_account(*, user, actor):
    """The account can no longer sign in, and its open sessions end at their next request.
    Its records and audit trail stay."""
    User = get_user_model()
    with transaction.atomic():
        account = User._default_manager.select_for_update().get(pk=user.pk)
        check_account_change(
            actor=actor,
            account=account,
            roles=list(role_groups().filter(user=account)),
            is_active=False,
            is_superuser=account.is_superuser,
        )
        if not account.is_active:
            return account
        account.is_active = False
        account.save(update_fields=["is_active"])
        trail.record(
            action=AuditEvent.Action.UPDATE, record=account, actor=actor, fields=["is_active"]
        )
    return account
