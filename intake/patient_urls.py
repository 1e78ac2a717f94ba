"""The patient's pre-visit pages, under /v/."""

from django.urls import path

from . import patient_views

app_name = "previsit"

urlpatterns = [
    path("<str:token>/", patient_views.start, name="start"),
    path("<str:token>/questions/", patient_views.questions, name="questions"),
    path("<str:token>/photos/", patient_views.photos, name="photos"),
    path("<str:token>/done/", patient_views.done, name="done"),
]
