"""The clinic's roles as auth groups, kept in step with the permissions they need.

`sync_roles` runs after every migrate, so a new model's permissions reach the right
groups without a hand-written data migration.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission

FRONT_DESK = "Front desk"
PROVIDER = "Provider"
CONTENT_EDITOR = "Content editor"
# Manages staff accounts and roles and reads the audit trail, without being a superuser.
CLINIC_ADMIN = "Clinic administrator"
# The roles a clinic administrator may give (accounts.staff).
CLINIC_ROLES = [FRONT_DESK, PROVIDER, CONTENT_EDITOR, CLINIC_ADMIN]
# The roles whose work is in the admin: their members, and only they, are staff (is_staff).
ADMIN_ROLES = {PROVIDER, CONTENT_EDITOR, CLINIC_ADMIN}

# Per role: app label -> model -> actions. Nobody deletes clinical records.
# Merging two records of one person ("merge"): the front desk, who register patients and
# meet the duplicates, and providers. The confirmation page shows both records side by
# side and everything that moves, a reason is required, and an undo puts back exactly
# what moved, so a wrong merge is recoverable. Undoing ("unmerge") is for clinic
# administrators (and superusers), who see only the two records and the visits involved.
ROLE_PERMISSIONS = {
    FRONT_DESK: {
        "conditions": {"condition": ["view"], "orderabletest": ["view"]},
        "intake": {
            "patient": ["view", "add", "change", "merge"],
            "visit": ["view", "add", "change"],
            "answer": ["view", "add", "change"],
            "previsitlink": ["view", "add", "change"],
            "testorder": ["view"],
        },
    },
    PROVIDER: {
        "conditions": {"condition": ["view"], "orderabletest": ["view"]},
        "intake": {
            "patient": ["view", "add", "change", "merge"],
            "visit": ["view", "add", "change", "close", "review"],
            "answer": ["view", "add", "change"],
            "previsitlink": ["view", "add", "change"],
            "testorder": ["view", "add", "change"],
            "orderaddendum": ["view", "add"],
            # The clinical note is the provider's alone: the front desk does not read it.
            "clinicalnote": ["view", "add", "change", "sign"],
            "noteaddendum": ["view", "add"],
        },
        # What became of orders sent to performers, sending one again, and the results
        # held for review (recording one on its order).
        "hl7v2": {
            "performer": ["view"],
            "ordermessage": ["view", "change"],
            "receivedmessage": ["view", "change"],
        },
    },
    CONTENT_EDITOR: {
        "conditions": {
            "condition": ["view", "add", "change", "delete"],
            "section": ["view", "add", "change", "delete"],
            "sectionitem": ["view", "add", "change", "delete"],
            "historyquestion": ["view", "add", "change", "delete"],
            "orderabletest": ["view", "add", "change"],
            "redflagrule": ["view", "add", "change", "delete"],
            "conditionversion": ["view"],
        },
    },
    CLINIC_ADMIN: {
        "auth": {"user": ["view", "add", "change"], "group": ["view"]},
        "audit": {"auditevent": ["view"]},
        # Sees who has an authenticator app; "delete" is the audited reset of a lost one.
        "otp_totp": {"totpdevice": ["view", "delete"]},
        # axes' failed sign-ins: seeing a lockout, and lifting it (deleting them).
        "axes": {"accessattempt": ["view", "delete"]},
        "intake": {"patient": ["unmerge"]},
        # Where lab and imaging orders are sent (HL7 v2): hosts, ports, names.
        "hl7v2": {"performer": ["view", "add", "change"]},
        # Outside systems' read-only tokens for the FHIR API (interop.clients).
        "interop": {"apiclient": ["view", "add", "change"]},
    },
}


def sync_roles(**kwargs):
    for name, apps in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        codenames = [
            (app_label, f"{action}_{model}")
            for app_label, models in apps.items()
            for model, actions in models.items()
            for action in actions
        ]
        permissions = [
            permission
            for permission in Permission.objects.filter(
                content_type__app_label__in=apps.keys()
            ).select_related("content_type")
            if (permission.content_type.app_label, permission.codename) in codenames
        ]
        group.permissions.set(permissions)


def providers():
    """The users in the Provider role, active or not (who a past visit or order names)."""
    return get_user_model().objects.filter(groups__name=PROVIDER).order_by("username")


def active_providers():
    """The users who can be a visit's provider."""
    return get_user_model().objects.filter(groups__name=PROVIDER, is_active=True)
