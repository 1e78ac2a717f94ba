"""Patients, visits and intake; keeps the role groups in step after each migrate."""

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class IntakeConfig(AppConfig):
    name = "intake"
    verbose_name = "Patients and visits"

    def ready(self):
        from .roles import sync_roles

        post_migrate.connect(sync_roles, sender=self)
