"""Who acts on the records: a signed-in user, a patient through a pre-visit link, or the
system (a command, a task, an interface), with the client address where there is one.

Workflows take an `Actor` instead of the HTTP request, so commands, tasks and listeners
call them exactly as the views do, and the audit trail learns who acted from one value.
"""

import ipaddress
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils.functional import SimpleLazyObject


def client_address(request):
    """The client's IP address: REMOTE_ADDR, or, behind TRUSTED_PROXIES reverse proxies,
    the address the outermost of them saw (taken from the right of X-Forwarded-For,
    since a client can put anything on its left)."""
    address = request.META.get("REMOTE_ADDR")
    proxies = settings.TRUSTED_PROXIES
    if proxies:
        forwarded = [
            part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        ]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= proxies:
            address = forwarded[-proxies]
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:  # a proxy that appends "host:port", or no address at all
        return None


@dataclass(frozen=True)
class Actor:
    """The acting person or process, as the audit trail records them."""

    user: Any = None
    label: str = "system"
    address: str | None = None
    link_id: int | None = None
    # What an API client's token allows, in place of a user's permissions.
    granted: frozenset = frozenset()
    # An API client the patient answers through (a kiosk, a patient app).
    answers_as_patient: bool = False
    # The API client acting, so what it asked for (a bulk export) is its alone.
    api_client_id: int | None = None

    @classmethod
    def of_request(cls, request):
        """The request's signed-in user (or an anonymous visitor) and client address."""
        user = request.user if request.user.is_authenticated else None
        return cls(
            user=user,
            label=user.get_username() if user else "anonymous",
            address=client_address(request),
        )

    @classmethod
    def for_user(cls, user, *, address=None):
        """A user acting outside a web request (a command run in their name)."""
        return cls(user=user, label=user.get_username(), address=address)

    @classmethod
    def through_link(cls, link, request=None):
        """A patient acting through their pre-visit link."""
        return cls(
            label=link.actor_label,
            link_id=link.pk,
            address=client_address(request) if request is not None else None,
        )

    @classmethod
    def system(cls, name="system"):
        """A command, task or interface acting on its own account."""
        return cls(label=name)

    @classmethod
    def api_client(cls, client, *, permissions, address=None):
        """An outside system using the FHIR API with its token; the answers one sends
        are the patient's own."""
        return cls(
            label=client.actor_label,
            address=address,
            granted=frozenset(permissions),
            answers_as_patient=client.submits_answers,
            api_client_id=client.pk,
        )

    @property
    def is_patient(self):
        return self.link_id is not None or self.answers_as_patient

    def has_perm(self, permission):
        if permission in self.granted:
            return True
        return self.user is not None and self.user.has_perm(permission)


class ActorMiddleware:
    """Gives each request its `actor`, made when first used, as Django does for `user`."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.actor = SimpleLazyObject(lambda: Actor.of_request(request))
        return self.get_response(request)
