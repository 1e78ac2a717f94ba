"""The clinic's URLs plus the benchmark's baseline page; mounted only by bench.settings."""

from django.urls import path

from bench import views
from config.urls import handler403, handler500, urlpatterns

urlpatterns = [path("bench/baseline/", views.baseline, name="bench-baseline"), *urlpatterns]

__all__ = ["handler403", "handler500", "urlpatterns"]
