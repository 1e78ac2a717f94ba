"""The language switch in the header of every patient page."""

from django import template
from django.conf import settings
from django.utils import translation

register = template.Library()


@register.inclusion_tag("previsit/includes/language_switch.html", takes_context=True)
def language_switch(context, form=None):
    """Each language named in itself. With `form` (the id of the page's form), a language
    is a button that sends the form, so that nothing typed is lost; else a link."""
    current = translation.get_language()
    return {
        "languages": [(code, name, code == current) for code, name in settings.LANGUAGES],
        "form": form,
        "path": context["request"].path,
    }
