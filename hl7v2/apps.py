"""Lab and imaging orders out, and their results in, over HL7 v2 and MLLP."""

from django.apps import AppConfig


class Hl7V2Config(AppConfig):
    name = "hl7v2"
    verbose_name = "HL7 v2 interface"
