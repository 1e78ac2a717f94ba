"""The language switch in the header of every patient page."""

from django import template
from django.conf import settings
from django.utils import translation

register = template.Library()


@register.inclusion_tag("previsit/includes/language_switch.html", takes_context=True)
def language_switch(context, form=None, default_action=None):
    """Each language named in itself. With `form` (the id of the page's form), a language
    is a button that sends the form, so that nothing typed is lost; else a link.

    Enter in a text box presses the form's first submit button in the page's order, which
    the header's buttons would be: a hidden one before them does what the form's own
    first button does (`default_action`, the value of its "action", if it has one)."""
    current = translation.get_language()
    return {
        "languages": [(code, name, code == current) for code, name in settings.LANGUAGES],
        "form": form,
        "default_action": default_action,
        "path": context["request"].path,
    }
