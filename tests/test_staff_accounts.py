"""Staff accounts in the admin: a clinic administrator adds, names, gives roles to and
deactivates accounts, and e-mails reset links; what they cannot do (superusers, their own
access, other groups, deleting, setting passwords); who else may not; the audit trail."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from intake.roles import CLINIC_ADMIN, CONTENT_EDITOR, FRONT_DESK, PROVIDER

from .factories import UserFactory

User = get_user_model()
USERS = "/admin/auth/user/"


def role(name):
    return Group.objects.get(name=name)


def change_url(user):
    return f"{USERS}{user.pk}/change/"


def account_data(user, **changes):
    """The change form as the page would post it back, with `changes`."""
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email or "someone@example.org",
        "is_active": "on" if user.is_active else "",
        "roles": [group.pk for group in user.groups.all()],
        "_save": "Save",
    }
    data.update(changes)
    return {name: value for name, value in data.items() if value != ""}


@pytest.fixture
def admin_client(clinic_admin, sign_in):
    return sign_in(Client(), clinic_admin)


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_superuser=True, is_staff=True, email="it@example.org")


def audit(action):
    return list(AuditEvent.objects.filter(action=action, record_type="auth.user"))


# What a clinic administrator does


def test_a_clinic_administrator_adds_an_account_who_is_e_mailed_to_choose_a_password(
    admin_client, clinic_admin, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            f"{USERS}add/",
            {
                "username": "nina.nurse",
                "first_name": "Nina",
                "last_name": "Nurse",
                "email": "nina@example.org",
                "roles": [role(FRONT_DESK).pk],
                "_save": "Save",
            },
        )

    assert response.status_code == 302
    nina = User.objects.get(username="nina.nurse")
    assert [g.name for g in nina.groups.all()] == [FRONT_DESK]
    assert not nina.has_usable_password()
    assert not nina.is_staff  # the front desk works in the staff pages, not the admin
    [created] = audit("create")
    assert (created.actor_id, created.record_id) == (clinic_admin.pk, nina.pk)
    assert created.detail == {"fields": ["email", "first_name", "last_name", "roles", "username"]}
    [message] = mail.outbox
    assert message.to == ["nina@example.org"]
    assert "A staff account has been made for you" in message.body
    assert "/accounts/reset/" in message.body


def test_an_account_s_roles_decide_whether_it_uses_the_admin(admin_client, clerk):
    response = admin_client.post(change_url(clerk), account_data(clerk, roles=[role(PROVIDER).pk]))

    assert response.status_code == 302
    clerk.refresh_from_db()
    assert clerk.is_staff
    assert [g.name for g in clerk.groups.all()] == [PROVIDER]
    admin_client.post(change_url(clerk), account_data(clerk, roles=[role(FRONT_DESK).pk]))
    clerk.refresh_from_db()
    assert not clerk.is_staff
    first, second = audit("update")
    assert first.detail == second.detail == {"fields": ["is_staff", "roles"]}


def test_changes_are_audited_by_field_name_never_by_value(admin_client, clerk):
    admin_client.post(
        change_url(clerk), account_data(clerk, first_name="Francesca", email="fc@example.org")
    )

    clerk.refresh_from_db()
    assert (clerk.first_name, clerk.email) == ("Francesca", "fc@example.org")
    [event] = audit("update")
    assert event.detail == {"fields": ["email", "first_name"]}
    stored = str(list(AuditEvent.objects.values_list()))
    assert "Francesca" not in stored and "fc@example.org" not in stored


def test_only_the_clinic_s_roles_can_be_given_and_other_groups_are_kept(admin_client, clerk):
    auditors = Group.objects.create(name="Auditors")
    clerk.groups.add(auditors)

    refused = admin_client.post(change_url(clerk), account_data(clerk, roles=[auditors.pk]))
    assert refused.status_code == 200
    assert "Select a valid choice" in refused.text
    page = admin_client.get(change_url(clerk)).text
    assert "Auditors" not in page
    assert all(name in page for name in (FRONT_DESK, PROVIDER, CONTENT_EDITOR, CLINIC_ADMIN))

    admin_client.post(change_url(clerk), account_data(clerk, roles=[role(CONTENT_EDITOR).pk]))

    assert set(clerk.groups.values_list("name", flat=True)) == {"Auditors", CONTENT_EDITOR}


def test_a_clinic_administrator_cannot_make_a_superuser_or_give_permissions(admin_client, clerk):
    page = admin_client.get(change_url(clerk)).text
    assert "is_superuser" not in page and "user_permissions" not in page

    admin_client.post(
        change_url(clerk),
        account_data(
            clerk,
            is_superuser="on",
            is_staff="on",
            user_permissions=[Permission.objects.get(codename="view_patient").pk],
        ),
    )

    clerk.refresh_from_db()
    assert not clerk.is_superuser
    assert not clerk.is_staff
    assert not clerk.user_permissions.exists()


def test_a_clinic_administrator_does_not_see_or_change_a_superuser(admin_client, superuser):
    listing = admin_client.get(USERS)
    assert listing.status_code == 200
    assert "root" not in listing.text

    opened = admin_client.get(change_url(superuser))
    changed = admin_client.post(
        change_url(superuser), account_data(superuser, first_name="Mallory", is_active="")
    )
    deactivated = admin_client.post(
        USERS, {"action": "deactivate", "_selected_action": [superuser.pk]}
    )

    assert opened.status_code == changed.status_code == 302
    assert opened["Location"] == "/admin/"
    assert deactivated.status_code == 302
    superuser.refresh_from_db()
    assert superuser.is_active and superuser.first_name != "Mallory"
    assert not audit("update")


def test_a_clinic_administrator_cannot_change_their_own_roles_or_deactivate_themselves(
    admin_client, clinic_admin
):
    escalate = admin_client.post(
        change_url(clinic_admin),
        account_data(clinic_admin, roles=[role(CLINIC_ADMIN).pk, role(PROVIDER).pk]),
    )
    leave = admin_client.post(change_url(clinic_admin), account_data(clinic_admin, is_active=""))
    action = admin_client.post(
        USERS, {"action": "deactivate", "_selected_action": [clinic_admin.pk]}, follow=True
    )

    assert "You cannot change your own roles" in escalate.text
    assert "You cannot deactivate your own account" in leave.text
    assert "You cannot deactivate your own account" in action.text
    clinic_admin.refresh_from_db()
    assert clinic_admin.is_active
    assert [g.name for g in clinic_admin.groups.all()] == [CLINIC_ADMIN]
    assert not audit("update")


def test_a_clinic_administrator_may_still_edit_their_own_name(admin_client, clinic_admin):
    response = admin_client.post(
        change_url(clinic_admin), account_data(clinic_admin, last_name="Admin-Smith")
    )

    assert response.status_code == 302
    clinic_admin.refresh_from_db()
    assert clinic_admin.last_name == "Admin-Smith"


def test_accounts_are_deactivated_not_deleted(admin_client, clerk, sign_in):
    clerk_client = sign_in(Client(), clerk)

    response = admin_client.post(USERS, {"action": "deactivate", "_selected_action": [clerk.pk]})

    assert response.status_code == 302
    clerk.refresh_from_db()
    assert not clerk.is_active
    assert [event.detail for event in audit("update")] == [{"fields": ["is_active"]}]
    # Their open session ends, and they cannot sign in again.
    assert clerk_client.get("/staff/")["Location"].startswith("/accounts/login/")
    assert admin_client.post(f"{USERS}{clerk.pk}/delete/", {"post": "yes"}).status_code == 403
    refused = admin_client.post(
        USERS, {"action": "delete_selected", "_selected_action": [clerk.pk]}
    )
    assert refused.status_code == 302  # back to the list: there is no such action
    assert User.objects.filter(pk=clerk.pk).exists()


def test_a_reset_link_is_e_mailed_from_the_account_s_own_page(
    admin_client, clinic_admin, clerk, django_capture_on_commit_callbacks
):
    page = admin_client.get(change_url(clerk))
    assert "E-mail a password reset link" in page.text

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            change_url(clerk),
            {"CHANGE_FORM-action": "send_password_reset", "_selected_action": [clerk.pk]},
        )

    assert response.status_code == 302
    [message] = mail.outbox
    assert message.to == [clerk.email]
    assert "reset the password" in message.body
    [sent] = AuditEvent.objects.filter(action="send")
    assert (sent.actor_id, sent.record_id) == (clinic_admin.pk, clerk.pk)


def test_no_one_sets_another_person_s_password_in_the_admin(admin_client, clerk):
    before = clerk.password

    page = admin_client.get(f"{USERS}{clerk.pk}/password/", follow=True)
    admin_client.post(
        f"{USERS}{clerk.pk}/password/",
        {"password1": "chosen-by-admin-1", "password2": "chosen-by-admin-1"},
    )

    assert "password1" not in page.text
    clerk.refresh_from_db()
    assert clerk.password == before


# Who else may manage accounts: nobody


@pytest.mark.parametrize("persona", ["front_desk", "provider", "editor"])
def test_other_roles_cannot_manage_accounts(persona, request, sign_in, clerk):
    someone = sign_in(Client(), request.getfixturevalue(persona))
    expected = 302 if persona == "front_desk" else 403  # the front desk has no admin at all

    responses = [
        someone.get(USERS),
        someone.get(f"{USERS}add/"),
        someone.get(change_url(clerk)),
        someone.post(change_url(clerk), account_data(clerk, roles=[role(CLINIC_ADMIN).pk])),
        someone.post(USERS, {"action": "deactivate", "_selected_action": [clerk.pk]}),
    ]

    assert {response.status_code for response in responses} == {expected}
    clerk.refresh_from_db()
    assert clerk.is_active and [g.name for g in clerk.groups.all()] == [FRONT_DESK]
    assert not audit("update")


def test_a_superuser_can_change_a_superuser(superuser, sign_in):
    other = UserFactory(username="root2", is_superuser=True, is_staff=True, email="r2@example.org")
    root = sign_in(Client(), superuser)

    assert "is_superuser" in root.get(change_url(other)).text
    response = root.post(change_url(other), account_data(other, is_superuser=""))

    assert response.status_code == 302
    other.refresh_from_db()
    assert not other.is_superuser and not other.is_staff
    assert audit("update")[0].detail == {"fields": ["is_staff", "is_superuser"]}


def test_the_account_list_takes_as_many_queries_for_21_accounts_as_for_3(admin_client):
    def queries_for(accounts):
        for n in range(accounts):
            UserFactory(username=f"staff{accounts}-{n}").groups.add(role(FRONT_DESK))
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(USERS).status_code == 200
        return len(queries)

    assert queries_for(2) == queries_for(18)
