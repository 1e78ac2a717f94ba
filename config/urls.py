"""Top-level URL configuration."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from config import views

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="conditions:list", permanent=False)),
    path("conditions/", include("conditions.urls")),
    path("staff/audit/", include("audit.urls")),
    path("staff/", include("intake.urls")),
    path("v/", include("intake.patient_urls")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/", include("signin.urls")),
    path("accounts/", include("accounts.urls")),
    path("admin/", admin.site.urls),
    path("fhir/", include("interop.urls")),
    path("healthz", views.healthz, name="healthz"),
]

# A refused access is an audit event before it is a 403 page.
handler403 = "audit.views.permission_denied"
# A database that cannot be reached is a 503 page (nothing saved, try again), not a 500.
handler500 = "config.views.server_error"
