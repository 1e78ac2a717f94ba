"""API clients in the admin: a clinic administrator creates one (its token is shown once,
on the page after saving) and revokes it with a reason. Nothing here deletes one."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse

from .clients import check_expiry, create_api_client, revoke_api_client
from .models import ApiClient


class NewApiClientForm(forms.ModelForm):
    class Meta:
        model = ApiClient
        fields = ["name", "expires_at", "submits_answers"]

    def clean_expires_at(self):
        expires_at = self.cleaned_data["expires_at"]
        try:
            check_expiry(expires_at)
        except ValidationError as error:
            raise ValidationError(error.message_dict["expires_at"]) from error
        return expires_at


class RevokeApiClientForm(forms.ModelForm):
    revoke = forms.CharField(
        label="Revoke, because",
        required=False,
        max_length=200,
        help_text="Give a reason and save to stop the token working at once.",
    )

    class Meta:
        model = ApiClient
        fields = []


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    list_display = ["name", "token_hint", "submits_answers", "created_at", "expires_at", "state"]
    search_fields = ["name", "token_hint"]
    readonly_fields = [
        "name",
        "token_hint",
        "created_at",
        "created_by",
        "expires_at",
        "submits_answers",
        "revoked_at",
        "revoked_by",
        "revoke_reason",
    ]

    @admin.display(description="state")
    def state(self, client):
        if client.is_revoked:
            return "Revoked"
        return "Expired" if client.is_expired else "Usable"

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj else []

    def get_form(self, request, obj=None, **kwargs):
        kwargs["form"] = RevokeApiClientForm if obj else NewApiClientForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        return [*self.readonly_fields, "revoke"] if obj else NewApiClientForm.Meta.fields

    def save_model(self, request, obj, form, change):
        if not change:
            client, token = create_api_client(
                name=obj.name,
                expires_at=obj.expires_at,
                submits_answers=obj.submits_answers,
                actor=request.actor,
            )
            obj.pk = client.pk
            request.new_api_token = token
        elif reason := form.cleaned_data["revoke"]:
            revoke_api_client(client=obj, actor=request.actor, reason=reason)

    def response_add(self, request, obj, post_url_continue=None):
        """The token, shown this once: only its hash is kept."""
        return TemplateResponse(
            request,
            "admin/interop/apiclient/token.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "client": obj,
                "token": request.new_api_token,
                "title": f"Token for {obj.name}",
            },
        )

    def has_delete_permission(self, request, obj=None):
        return False
