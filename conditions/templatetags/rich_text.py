"""The `rich_text` filter: editors' simple formatting, sanitised before it reaches a page."""

import re

import nh3
from django import template
from django.utils.html import strip_tags
from django.utils.safestring import mark_safe

register = template.Library()

ALLOWED_TAGS = {"p", "br", "ul", "ol", "li", "a", "strong", "b", "em", "i"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto", "tel"}


@register.filter
def rich_text(value):
    """Keep paragraphs, lists, links and emphasis; drop every other tag and attribute."""
    return mark_safe(  # noqa: S308 - nh3 has removed everything unsafe
        nh3.clean(
            str(value or ""),
            tags=ALLOWED_TAGS,
            attributes=ALLOWED_ATTRIBUTES,
            url_schemes=ALLOWED_URL_SCHEMES,
            link_rel="noopener noreferrer nofollow",
        )
    )


@register.filter
def plain_text(value):
    """Editors' formatted text as plain words, paragraphs and items kept apart by spaces."""
    return strip_tags(re.sub(r"<(?:/p|br\s*/?|/li)>", " ", str(rich_text(value))))
