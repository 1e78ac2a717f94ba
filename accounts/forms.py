"""The staff account form of the admin (accounts.admin)."""

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UsernameField

from . import staff


class StaffAccountForm(forms.ModelForm):
    """An account's name, e-mail, roles and whether it is active. The admin sets `actor`
    (who is making the change) on the form class, for the rules of accounts.staff."""

    actor = None

    roles = forms.ModelMultipleChoiceField(
        queryset=staff.role_groups(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=(
            "Front desk staff work in the staff pages; providers, content editors and "
            "clinic administrators also use the admin."
        ),
    )

    class Meta:
        model = get_user_model()
        fields = ["username", "first_name", "last_name", "email", "is_active"]
        field_classes = {"username": UsernameField}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "email" in self.fields:
            self.fields["email"].required = True
            self.fields["email"].help_text = "Password reset links are sent here."
        if self.instance.pk:
            self.fields["roles"].initial = list(staff.role_groups().filter(user=self.instance))

    def clean(self):
        cleaned_data = super().clean()
        if self.actor is not None:
            staff.check_account_change(
                actor=self.actor,
                account=self.instance if self.instance.pk else None,
                roles=cleaned_data.get("roles", []),
                is_active=cleaned_data.get("is_active", self.instance.is_active),
                is_superuser=cleaned_data.get("is_superuser", self.instance.is_superuser),
            )
        return cleaned_data
