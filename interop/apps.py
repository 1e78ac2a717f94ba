"""The FHIR R4 API: records as FHIR resources for outside systems, and their clients."""

from django.apps import AppConfig


class InteropConfig(AppConfig):
    name = "interop"
    verbose_name = "Interoperability (FHIR)"
