"""The staff pages: the day's visits, patients, visits and their intake."""

import copy

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, prefetch_related_objects
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from audit import history
from hl7v2.models import OrderMessage

from . import access, links, reminders
from .answers import IntakeConflict, save_answers
from .forms import (
    CancelVisitForm,
    CloseVisitForm,
    DayForm,
    DidNotAttendForm,
    IntakeForm,
    MergeForm,
    MergeStartForm,
    PatientDetailsForm,
    PatientForm,
    PatientSearchForm,
    RescheduleForm,
    UndoMergeForm,
    VisitForm,
    add_workflow_error,
)
from .merges import (
    MergeConflict,
    check_mergeable,
    merge_patients,
    merge_stamp,
    merges_of,
    undo_merge,
    visits_to_move,
)
from .models import Answer, Patient, PatientMerge, TestOrder, Visit
from .paginators import CappedCountPaginator
from .patients import DETAILS, StaleEdit, register_patient, update_patient
from .visits import (
    cancel_visit,
    check_in,
    close_visit,
    mark_did_not_attend,
    open_orders,
    open_visit,
    reschedule_visit,
)

PATIENTS_PER_PAGE = 25
# A search counts this many matches at most (20 pages); past it, it asks for more letters.
PATIENT_MATCHES_COUNTED = 500
VISITS_PER_PAGE = 100
MERGES_PER_PAGE = 50
MERGED_RECORD_IS_READ_ONLY = (
    "This record was merged into another record: correct the record it was merged into."
)
# The day list's orders. Closed, cancelled and not attended visits come after the rest
# in each; by time, visits at the same time come red flags first.
DAY_ORDERS = {
    DayForm.Sort.TIME: ["is_over", "scheduled_at", "-has_red_flags", "id"],
    DayForm.Sort.RED_FLAGS: [
        "is_over",
        "-has_urgent_flags",
        "-has_red_flags",
        "scheduled_at",
        "id",
    ],
    DayForm.Sort.UPDATED: ["is_over", "-updated_at", "id"],
}
# The forms of a visit's actions, shared by the visit page and the page each comes back
# on when its input needs correcting.
RESCHEDULE_FORM = "intake/includes/visit_reschedule_form.html"
DID_NOT_ATTEND_FORM = "intake/includes/visit_did_not_attend_form.html"
CLOSE_FORM = "intake/includes/visit_close_form.html"


@login_required
@permission_required("intake.view_visit", raise_exception=True)
def today(request):
    """Queries: the providers for the filter; the day's visits a page at a time (their
    count, then the page with patient, condition and provider and whether each patient
    answered through a link, in one); the page's pre-visit links, in one; the open visits
    of the day with urgent flags, on any page, in one; one audit event for the page.
    Flags are stored on each visit, so the count does not grow with the visits."""
    form = DayForm(request.GET or None, user=request.user)
    day, provider, sort = form.choices()
    day_visits = form.filter(Visit.objects.on_day(day), provider).for_lists()
    urgent_visits = list(
        day_visits.with_urgent_flags().exclude(status__in=Visit.FINISHED).order_by("scheduled_at")
    )
    visits = day_visits.for_day_list()
    visits = visits.order_by(*DAY_ORDERS[sort]).prefetch_related("previsit_links")
    page = Paginator(visits, VISITS_PER_PAGE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    # One audit event for everything the page shows.
    access.listed(request.actor, [*urgent_visits, *page.object_list])
    for visit in page.object_list:
        # Links come newest first: the latest is the one that counts.
        link = next(iter(visit.previsit_links.all()), None)
        visit.link_progress = link and link.progress(patient_answered=visit.patient_answered)
    return render(
        request,
        "intake/today.html",
        {
            "form": form,
            "day": day,
            "provider": provider,
            "heading": form.heading(provider),
            "may_see_mine": form.offers_mine,
            "sort": sort,
            "page": page,
            "visits": page.object_list,
            "open_visits": [visit for visit in page.object_list if not visit.is_over],
            "finished_visits": [visit for visit in page.object_list if visit.is_over],
            "urgent_visits": urgent_visits,
            "here": request.get_full_path(),
        },
    )


@login_required
@permission_required("intake.view_patient", raise_exception=True)
def patient_search(request):
    """A POST, so that names and dates of birth never appear in URLs or access logs.

    Queries: the count (up to PATIENT_MATCHES_COUNTED), a page of patients, and the
    record numbers of records merged into them (a merged record's number finds the
    record it was merged into). On PostgreSQL, trigram indexes find names."""
    form = PatientSearchForm(request.POST or None)
    page = None
    if form.is_valid():
        matches = Patient.objects.matching(form.cleaned_data["q"])
        paginator = CappedCountPaginator(matches, PATIENTS_PER_PAGE, limit=PATIENT_MATCHES_COUNTED)
        page = paginator.get_page(form.cleaned_data["page"] or 1)
        page.object_list = list(page.object_list)
        prefetch_related_objects(
            page.object_list,
            Prefetch("merged_records", queryset=Patient.objects.only("pk", "mrn", "merged_into")),
        )
        merged = [record for patient in page.object_list for record in patient.merged_records.all()]
        access.listed(request.actor, [*page.object_list, *merged])
    return render(request, "intake/patient_search.html", {"form": form, "page": page})


@login_required
@permission_required("intake.add_patient", raise_exception=True)
def patient_register(request):
    form = PatientForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in PatientForm.Meta.fields}
        try:
            patient = register_patient(actor=request.actor, **fields)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            # The page it leads to names the patient; the message need not.
            messages.success(request, "Patient registered with a new record number.")
            return redirect(patient)
    # The possible duplicates shown are other patients' records: their reading is audited.
    form.duplicates = access.listed(request.actor, form.duplicates)
    return render(request, "intake/patient_register.html", {"form": form})


@login_required
def patient_detail(request, pk):
    """Queries: the patient, its visits, the merges into or away from it with the records
    and people they name, and its versions: the same however many visits."""
    patient = access.patient_for(request.actor, pk)
    visits = patient.visits.select_related("condition", "provider").order_by("-scheduled_at")
    merges = list(merges_of(patient))
    # The other records the page names: merged into this one, or the one it went into.
    others = {record for merge in merges for record in (merge.merged, merge.survivor)}
    if patient.is_merged:
        others.add(patient.merged_into)
    access.listed(request.actor, others - {patient})
    return render(
        request,
        "intake/patient_detail.html",
        {
            "patient": patient,
            "visits": visits,
            "merges": merges,
            "merged_away": next(
                (m for m in merges if m.merged_id == patient.pk and not m.is_undone), None
            ),
            "record_history": history.changes(patient.history.all(), limit=history.PAGE_ROWS),
            "history_limit": history.PAGE_ROWS,
        },
    )


@login_required
def patient_edit(request, pk):
    """Correct a patient's details. A save from a page loaded before someone else saved
    the record is refused (409) and shown again with what is saved now, the input kept."""
    patient = access.patient_for(request.actor, pk, permission="intake.change_patient")
    if patient.is_merged:
        messages.error(request, MERGED_RECORD_IS_READ_ONLY)
        return redirect(patient)
    # The form validates a copy, so the page's heading keeps the record as saved.
    form = PatientDetailsForm(request.POST or None, instance=copy.copy(patient))
    saved_now = None
    if request.method == "POST" and form.is_valid():
        try:
            _, changed = update_patient(
                patient=patient,
                changes={name: form.cleaned_data[name] for name in DETAILS},
                reason=form.cleaned_data["reason"],
                expected_stamp=form.cleaned_data["edit_stamp"],
                actor=request.actor,
            )
        except StaleEdit as conflict:
            form.add_error(None, conflict)
            # Show what the other person saved; saving again from here saves over it.
            saved_now = Patient.objects.get(pk=patient.pk)
            form.data = form.data.copy()
            form.data["edit_stamp"] = saved_now.edit_stamp
        except ValidationError as error:
            add_workflow_error(form, error)
        else:
            messages.success(request, "Details corrected." if changed else "Nothing was changed.")
            return redirect(patient)
    # The possible duplicates shown are other patients' records: their reading is audited.
    form.duplicates = access.listed(request.actor, form.duplicates)
    return render(
        request,
        "intake/patient_edit.html",
        {"patient": saved_now or patient, "form": form, "saved_now": saved_now},
        status=409 if saved_now is not None else 200,
    )


@login_required
def patient_merge(request, pk):
    """The first step of a merge: the other record, by its record number (posted, so it
    never appears in a URL), and which of the two records is kept."""
    patient = access.patient_for(request.actor, pk, permission="intake.merge_patient")
    if patient.is_merged:
        messages.error(request, "This record was already merged into another record.")
        return redirect(patient)
    if request.POST.get("prefill"):
        # From a duplicate warning: the other record chosen, which one is kept not yet.
        form = MergeStartForm(
            initial={"record_number": request.POST.get("record_number", "")[:20]},
            patient=patient,
        )
    else:
        form = MergeStartForm(request.POST or None, patient=patient)
    if form.is_bound and form.is_valid():
        merged, survivor = form.records()
        return redirect("intake:patient-merge-confirm", pk=merged.pk, survivor_pk=survivor.pk)
    return render(request, "intake/patient_merge.html", {"patient": patient, "form": form})


@login_required
def patient_merge_confirm(request, pk, survivor_pk):
    """Both records side by side and everything that moves; confirming merges record `pk`
    into record `survivor_pk`, unless either changed since this page was shown (409).

    Queries: both records, the visits that move with their answer counts, orders and
    pre-visit links, the survivor's visit count and the records merged earlier: the same
    however many visits, answers and orders move."""
    merged = access.patient_for(request.actor, pk, permission="intake.merge_patient")
    survivor = access.patient_for(request.actor, survivor_pk, permission="intake.merge_patient")
    try:
        check_mergeable(merged=merged, survivor=survivor)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(merged)
    form = MergeForm(request.POST or None)
    conflict = False
    if request.method == "POST" and form.is_valid():
        try:
            merge_patients(
                merged=merged,
                survivor=survivor,
                reason=form.cleaned_data["reason"],
                expected_stamp=form.cleaned_data["stamp"],
                actor=request.actor,
            )
        except MergeConflict as error:
            form.add_error(None, error)
            conflict = True
            merged.refresh_from_db()
            survivor.refresh_from_db()
        except ValidationError as error:
            # Merged or chosen as kept by someone else meanwhile.
            messages.error(request, " ".join(error.messages))
            return redirect(merged)
        else:
            messages.success(request, f"Record {merged.mrn} was merged into this record.")
            return redirect(survivor)
    visits = list(visits_to_move(merged))
    earlier = access.listed(request.actor, merged.merged_records.order_by("pk"))
    stamp = merge_stamp(
        merged=merged,
        survivor=survivor,
        visit_ids=[visit.pk for visit in visits],
        earlier_ids=[record.pk for record in earlier],
    )
    if not form.is_bound:
        form.initial["stamp"] = stamp
    elif conflict:
        # The page now shows the records as they are: confirming again merges those.
        form.data = form.data.copy()
        form.data["stamp"] = stamp
    return render(
        request,
        "intake/patient_merge_confirm.html",
        {
            "merged": merged,
            "survivor": survivor,
            "details": _side_by_side(merged, survivor),
            "visits": visits,
            "totals": {
                "visits": len(visits),
                "answers": sum(visit.answer_count for visit in visits),
                "orders": sum(len(visit.test_orders.all()) for visit in visits),
                "links": sum(len(visit.previsit_links.all()) for visit in visits),
            },
            "survivor_visit_count": survivor.visits.count(),
            "earlier": earlier,
            "form": form,
        },
        status=409 if conflict else 200,
    )


def _side_by_side(merged, survivor):
    """Each detail of the two records as (label, merged's, survivor's, whether they differ)."""
    rows = [
        ("Name", lambda p: p.full_name),
        ("Record number", lambda p: p.mrn),
        ("Date of birth", lambda p: date_format(p.date_of_birth)),
        ("Sex at birth", lambda p: p.get_sex_at_birth_display()),
        ("E-mail", lambda p: p.email or "—"),
        ("Phone", lambda p: p.phone or "—"),
        ("Preferred language", lambda p: p.language_display or "Not asked"),
        ("E-mail may be used", lambda p: _yes_no(p.email_allowed)),
        ("Text messages may be used", lambda p: _yes_no(p.sms_allowed)),
        ("Registered", lambda p: date_format(timezone.localtime(p.created_at))),
    ]
    details = []
    for label, shown in rows:
        before, after = shown(merged), shown(survivor)
        # Record numbers and registration days always differ: no flag for those.
        differs = before != after and label not in ("Record number", "Registered")
        details.append((label, before, after, differs))
    return details


def _yes_no(value):
    return {True: "Yes", False: "No"}.get(value, "Not asked")


@login_required
@permission_required("intake.unmerge_patient", raise_exception=True)
def merge_list(request):
    """Merges of records, newest first, for an administrator to find one to undo.

    Queries: the count, and a page of merges with both records, who merged or undid them
    and how many visits moved."""
    merges = (
        PatientMerge.objects.select_related("merged", "survivor", "merged_by", "undone_by")
        .annotate(visit_count=Count("moved_visits"))
        .order_by("-merged_at", "-id")
    )
    page = Paginator(merges, MERGES_PER_PAGE).get_page(request.GET.get("page"))
    access.listed(
        request.actor,
        [record for merge in page.object_list for record in (merge.merged, merge.survivor)],
    )
    return render(request, "intake/merge_list.html", {"page": page})


@login_required
def merge_undo(request, pk):
    """What undoing a merge puts back, and (posted with a reason) undoing it."""
    merge = access.merge_for(request.actor, pk)
    form = UndoMergeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            undo_merge(merge=merge, reason=form.cleaned_data["reason"], actor=request.actor)
        except ValidationError as error:
            form.add_error(None, error)
            merge.refresh_from_db()
        else:
            messages.success(
                request,
                f"The merge was undone: record {merge.merged.mrn} has its own visits again.",
            )
            return redirect("intake:merge-list")
    moved = merge.moved_visits.select_related("condition", "patient").order_by("-scheduled_at")
    staying = (
        merge.survivor.visits.filter(created_at__gt=merge.merged_at)
        .exclude(pk__in=merge.moved_visits.values("pk"))
        .select_related("condition")
        .order_by("-scheduled_at")
    )
    return render(
        request,
        "intake/merge_undo.html",
        {"merge": merge, "moved": moved, "staying": staying, "form": form},
    )


@login_required
def visit_open(request, pk):
    patient = access.patient_for(request.actor, pk, permission="intake.add_visit")
    if patient.is_merged:
        messages.error(request, "This record was merged into another record: open the visit there.")
        return redirect(patient)
    form = VisitForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            visit = open_visit(
                patient=patient,
                condition=form.cleaned_data["condition"],
                scheduled_at=form.cleaned_data["scheduled_at"],
                provider=form.cleaned_data["provider"],
                actor=request.actor,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Visit opened.")
            return redirect(visit)
    return render(request, "intake/visit_open.html", {"form": form, "patient": patient})


@login_required
def visit_detail(request, pk):
    """Queries: the visit with patient and condition, its answers with who answered, the
    photos and clips the patient sent, its test orders with who ordered them and the
    messages sent to their performers, the pre-visit reminder (or whether one is to come),
    and the versions of all three with the users they name: a fixed number however many
    rows."""
    visit = access.visit_for(request.actor, pk)
    answers = list(visit.answers.select_related("answered_by"))
    return render(
        request,
        "intake/visit_detail.html",
        {
            "visit": visit,
            "answers": answers,
            "attachments": visit.attachments.all(),
            "orders": visit.test_orders.select_related("ordered_by").prefetch_related(
                Prefetch("hl7_messages", OrderMessage.objects.select_related("performer"))
            ),
            "link": visit.previsit_links.first(),
            "reminder": reminders.reminder_for_staff(visit),
            "patient_answered": any(answer.source == Answer.Source.PATIENT for answer in answers),
            "record_history": history.changes(
                visit.history.all(),
                Answer.history.filter(visit_id=visit.pk),
                TestOrder.history.filter(visit_id=visit.pk),
                limit=history.PAGE_ROWS,
            ),
            "history_limit": history.PAGE_ROWS,
        },
    )


@login_required
def visit_intake(request, pk):
    visit = access.visit_for(request.actor, pk, permission="intake.change_answer")
    if not visit.intake_is_open:
        messages.error(
            request, f"This visit is {visit.get_status_display().lower()}: its intake is closed."
        )
        return redirect(visit)
    completing = request.POST.get("action") == "complete"
    if request.method != "POST":
        form = IntakeForm.with_saved_answers(visit)
        return render(request, "intake/visit_intake.html", {"visit": visit, "form": form})

    form = IntakeForm(request.POST, visit=visit, completing=completing)
    saved_now = None
    if form.is_valid():
        try:
            save_answers(
                visit=visit,
                values=form.cleaned_answers,
                expected_version=form.cleaned_data["intake_version"],
                complete=completing,
                actor=request.actor,
            )
        except IntakeConflict as conflict:
            form.add_error(None, conflict)
            # Show what the other person saved, and let this person save over it knowingly.
            visit.refresh_from_db()
            saved_now = visit.answers.select_related("answered_by")
            form.data = form.data.copy()
            form.data["intake_version"] = visit.intake_version
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request, "Intake marked complete." if completing else "Intake saved as a draft."
            )
            return redirect(visit)
    return render(
        request,
        "intake/visit_intake.html",
        {"visit": visit, "form": form, "saved_now": saved_now},
        status=409 if saved_now is not None else 200,
    )


@require_POST
@login_required
def visit_cancel(request, pk):
    visit = access.visit_for(request.actor, pk, permission="intake.change_visit")
    form = CancelVisitForm(request.POST)
    if form.is_valid():
        try:
            cancel_visit(visit=visit, reason=form.cleaned_data["reason"], actor=request.actor)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, "Visit cancelled.")
            return redirect(visit)
    else:
        messages.error(request, " ".join(form.errors["reason"]))
    return redirect(visit)


def _back_to(request, visit):
    """Where a visit's action returns: the staff page it was pressed on (`next`, such as
    the day list with its choices), or else the visit's page."""
    target = request.POST.get("next", "")
    if target.startswith("/staff/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return visit.get_absolute_url()


def _visit_step(request, visit, form, *, title, form_template, **extra):
    """A visit's action whose input needs correcting, on a page of its own: the form as
    it was sent, with each message beside its field."""
    return render(
        request,
        "intake/visit_step.html",
        {
            "visit": visit,
            "form": form,
            "title": title,
            "form_template": form_template,
            "next": _back_to(request, visit),
            **extra,
        },
    )


def _about_the_visit(error):
    """Whether a workflow's refusal is about the visit as it now is (already checked in,
    say) rather than about a field of the input."""
    return not hasattr(error, "error_dict")


@require_POST
@login_required
def visit_check_in(request, pk):
    visit = access.visit_for(request.actor, pk, permission="intake.change_visit")
    try:
        visit = check_in(visit=visit, actor=request.actor)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        arrived = timezone.localtime(visit.checked_in_at)
        messages.success(request, f"{visit.patient.full_name} checked in at {arrived:%H:%M}.")
    return redirect(_back_to(request, visit))


@require_POST
@login_required
def visit_did_not_attend(request, pk):
    visit = access.visit_for(request.actor, pk, permission="intake.change_visit")
    form = DidNotAttendForm(request.POST, prefix="absent")
    if form.is_valid():
        try:
            mark_did_not_attend(
                visit=visit, actor=request.actor, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            if _about_the_visit(error):
                # Pressed on the day list, most often: back there, with the reason.
                messages.error(request, " ".join(error.messages))
                return redirect(_back_to(request, visit))
            form.add_error(None, error)
        else:
            messages.success(request, f"{visit.patient.full_name}: marked as not attended.")
            return redirect(_back_to(request, visit))
    return _visit_step(
        request, visit, form, title="Mark as not attended", form_template=DID_NOT_ATTEND_FORM
    )


@require_POST
@login_required
def visit_reschedule(request, pk):
    visit = access.visit_for(request.actor, pk, permission="intake.change_visit")
    form = RescheduleForm(request.POST, visit=visit, prefix="reschedule")
    if form.is_valid():
        try:
            visit = reschedule_visit(
                visit=visit,
                scheduled_at=form.cleaned_data["scheduled_at"],
                reason=form.cleaned_data["reason"],
                actor=request.actor,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            moved_to = timezone.localtime(visit.scheduled_at)
            messages.success(request, f"Visit moved to {moved_to:%A %-d %B %Y, %H:%M}.")
            return redirect(visit)
    return _visit_step(request, visit, form, title="Move the visit", form_template=RESCHEDULE_FORM)


@require_POST
@login_required
def visit_close(request, pk):
    visit = access.visit_for(request.actor, pk, permission="intake.close_visit")
    form = CloseVisitForm(request.POST, prefix="close")
    if form.is_valid():
        try:
            close_visit(visit=visit, actor=request.actor, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Visit closed.")
            return redirect(visit)
    return _visit_step(
        request,
        visit,
        form,
        title="Close the visit",
        form_template=CLOSE_FORM,
        open_orders=open_orders(visit),
    )


@login_required
@permission_required("intake.view_testorder", raise_exception=True)
def visit_print(request, pk):
    """The visit summary with the results so far, and a requisition page for each order
    still to be done, for printing. Queries: the visit, its answers, and its orders with
    who ordered, resulted and reviewed them, however many there are."""
    visit = access.visit_for(request.actor, pk)
    orders = list(
        visit.test_orders.exclude(status=TestOrder.Status.CANCELLED)
        .select_related("ordered_by", "resulted_by", "reviewed_by")
        .order_by("ordered_at", "id")
    )
    return render(
        request,
        "intake/visit_print.html",
        {
            "visit": visit,
            "answers": visit.answers.all(),
            "orders": orders,
            "requisitions": [order for order in orders if order.awaits_result],
            "results": [order for order in orders if order.has_result],
            "clinic_name": settings.CLINIC_NAME,
            "clinic_address": settings.CLINIC_ADDRESS,
            "clinic_phone": settings.CLINIC_PHONE,
            "printed_at": timezone.now(),
        },
    )


@require_POST
@login_required
def visit_link_send(request, pk):
    visit = access.visit_for(request.actor, pk, permission="intake.add_previsitlink")
    try:
        link = links.send_previsit_link(visit=visit, actor=request.actor)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        link.refresh_from_db()
        if link.send_error == links.SEND_FAILED:
            # The mailer failed while staff wait (tasks run at once): a link to copy or
            # read out instead, so the patient still gets one.
            messages.error(
                request,
                "The e-mail could not be sent. The link is shown below to copy or read out; "
                "try sending again later.",
            )
            return _show_link(request, visit)
        if link.send_error:
            messages.error(request, link.send_error)
        else:
            messages.success(request, "The pre-visit link is being e-mailed to the patient.")
    return redirect(visit)


@require_POST
@login_required
def visit_link_show(request, pk):
    """The one time a link's address is shown; it is not stored, so it cannot be shown again."""
    visit = access.visit_for(request.actor, pk, permission="intake.add_previsitlink")
    return _show_link(request, visit)


def _show_link(request, visit):
    try:
        link, url = links.show_previsit_link(visit=visit, actor=request.actor)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(visit)
    response = render(request, "intake/link_shown.html", {"visit": visit, "link": link, "url": url})
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@login_required
def visit_link_revoke(request, pk):
    visit = access.visit_for(request.actor, pk, permission="intake.change_previsitlink")
    link = visit.previsit_links.filter(revoked_at__isnull=True).first()
    if link is None:
        messages.error(request, "There is no link to revoke.")
    else:
        links.revoke_link(link=link, actor=request.actor)
        messages.success(request, "The pre-visit link no longer works.")
    return redirect(visit)


@require_POST
@login_required
def visit_link_reopen(request, pk):
    visit = access.visit_for(request.actor, pk, permission="intake.change_previsitlink")
    link = visit.previsit_links.filter(submitted_at__isnull=False).first()
    try:
        if link is None:
            raise ValidationError("The patient has not sent their answers through a link.")
        links.reopen_link(link=link, actor=request.actor)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "The patient can change their answers through the same link.")
    return redirect(visit)
