"""The FHIR API's addresses: /fhir/metadata, /fhir/<type>, /fhir/<type>/<id>, and the
Bulk Data export's /fhir/$export and its status and file addresses."""

from django.urls import path, re_path

from . import views

app_name = "fhir"

urlpatterns = [
    path("metadata", views.metadata, name="metadata"),
    path("$export", views.export_kickoff, name="export"),
    path("Patient/$export", views.export_kickoff, name="patient-export"),
    path("$export-status/<int:pk>", views.export_status, name="export-status"),
    path(
        "$export-status/<int:pk>/<str:resource_type>.ndjson",
        views.export_file,
        name="export-file",
    ),
    path("<str:resource_type>/_search", views.search_by_post, name="search-post"),
    path("<str:resource_type>/<str:pk>", views.read, name="read"),
    path("<str:resource_type>", views.resource_type_view, name="type"),
    re_path(r"^(?P<rest>.*)$", views.unknown, name="unknown"),
]
