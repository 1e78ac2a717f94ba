"""The staff pages, under /staff/."""

from django.urls import path

from . import attachment_views, provider_views, views

app_name = "intake"

urlpatterns = [
    path("", views.today, name="today"),
    path("patients/", views.patient_search, name="patient-search"),
    path("patients/new/", views.patient_register, name="patient-register"),
    path("patients/<int:pk>/", views.patient_detail, name="patient-detail"),
    path("patients/<int:pk>/edit/", views.patient_edit, name="patient-edit"),
    path("patients/<int:pk>/merge/", views.patient_merge, name="patient-merge"),
    path(
        "patients/<int:pk>/merge/into/<int:survivor_pk>/",
        views.patient_merge_confirm,
        name="patient-merge-confirm",
    ),
    path("patients/<int:pk>/visits/new/", views.visit_open, name="visit-open"),
    path("merges/", views.merge_list, name="merge-list"),
    path("merges/<int:pk>/undo/", views.merge_undo, name="merge-undo"),
    path("visits/<int:pk>/", views.visit_detail, name="visit-detail"),
    path("visits/<int:pk>/intake/", views.visit_intake, name="visit-intake"),
    path("visits/<int:pk>/cancel/", views.visit_cancel, name="visit-cancel"),
    path("visits/<int:pk>/check-in/", views.visit_check_in, name="visit-check-in"),
    path(
        "visits/<int:pk>/did-not-attend/",
        views.visit_did_not_attend,
        name="visit-did-not-attend",
    ),
    path("visits/<int:pk>/reschedule/", views.visit_reschedule, name="visit-reschedule"),
    path("visits/<int:pk>/close/", views.visit_close, name="visit-close"),
    path("visits/<int:pk>/print/", views.visit_print, name="visit-print"),
    path("visits/<int:pk>/review/", provider_views.visit_review, name="visit-review"),
    path(
        "visits/<int:pk>/review/intake/",
        provider_views.visit_review_intake,
        name="visit-review-intake",
    ),
    path("visits/<int:pk>/note/", provider_views.visit_note, name="visit-note"),
    path(
        "visits/<int:pk>/note/addenda/",
        provider_views.visit_note_addendum,
        name="visit-note-addendum",
    ),
    path("visits/<int:pk>/orders/new/", provider_views.visit_order_new, name="visit-order-new"),
    path("attachments/<int:pk>/", attachment_views.attachment_file, name="attachment-file"),
    path("visits/<int:pk>/link/send/", views.visit_link_send, name="visit-link-send"),
    path("visits/<int:pk>/link/show/", views.visit_link_show, name="visit-link-show"),
    path("visits/<int:pk>/link/revoke/", views.visit_link_revoke, name="visit-link-revoke"),
    path("visits/<int:pk>/link/reopen/", views.visit_link_reopen, name="visit-link-reopen"),
]
