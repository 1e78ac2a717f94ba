"""The public condition pages."""

from django.urls import path, re_path

from . import views
from .models import translation_languages

app_name = "conditions"

urlpatterns = [
    path("", views.condition_list, name="list"),
    path("<slug:slug>/", views.condition_detail, name="detail"),
    # English is the page above; each translation has its own address under it.
    re_path(
        rf"^(?P<slug>[-\w]+)/(?P<language>{'|'.join(translation_languages())})/$",
        views.condition_detail,
        name="detail-in",
    ),
]
