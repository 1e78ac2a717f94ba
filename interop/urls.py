"""The FHIR API's addresses: /fhir/metadata, /fhir/<type>, /fhir/<type>/<id>."""

from django.urls import path, re_path

from . import views

app_name = "fhir"

urlpatterns = [
    path("metadata", views.metadata, name="metadata"),
    path("<str:resource_type>/_search", views.search_by_post, name="search-post"),
    path("<str:resource_type>/<str:pk>", views.read, name="read"),
    path("<str:resource_type>", views.resource_type_view, name="type"),
    re_path(r"^(?P<rest>.*)$", views.unknown, name="unknown"),
]
