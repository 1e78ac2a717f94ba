"""Password reset pages (Django's own views, with our templates, the limited e-mail and
the audit event) and the page a locked-out sign-in gets instead of the form."""

from django.contrib.auth import views as auth_views
from django.db import transaction
from django.http import HttpResponseRedirect
from django.shortcuts import render

from audit.actors import Actor, client_address

from . import lockout, passwords


class PasswordResetView(auth_views.PasswordResetView):
    def form_valid(self, form):
        passwords.request_password_reset(email=form.cleaned_data["email"], actor=self.request.actor)
        return HttpResponseRedirect(self.get_success_url())


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    @transaction.atomic
    def form_valid(self, form):
        response = super().form_valid(form)
        passwords.record_password_reset(
            user=form.user,
            actor=Actor.for_user(form.user, address=client_address(self.request)),
        )
        return response


def locked_out(request, response=None, credentials=None):
    """axes' AXES_LOCKOUT_CALLABLE: a sign-in refused, or the failure that started a
    lockout, gets this page (429) saying when to try again."""
    return render(
        request,
        "registration/locked_out.html",
        {"until": lockout.lockout_ends(request, credentials)},
        status=429,
    )
