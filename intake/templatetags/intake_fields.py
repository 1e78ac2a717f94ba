from django import template

from intake import body_sites

register = template.Library()


@register.filter
def body_site_rows(options):
    """A region's options, one row per site (intake/body_sites.py)."""
    return body_sites.rows(options)
