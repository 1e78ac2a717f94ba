"""The staff pages: the day's visits, patients, visits and their intake."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from audit import history

from . import access, links
from .answers import IntakeConflict, save_answers
from .forms import CancelVisitForm, DayForm, IntakeForm, PatientForm, PatientSearchForm, VisitForm
from .models import Answer, Patient, TestOrder, Visit
from .patients import register_patient
from .visits import cancel_visit, open_visit

PATIENTS_PER_PAGE = 25
VISITS_PER_PAGE = 100


@login_required
@permission_required("intake.view_visit", raise_exception=True)
def today(request):
    """Queries: the day's visits with patient, condition and provider in one, a page at a
    time; flags are stored on each visit, so the count does not grow with the visits."""
    form = DayForm(request.GET or None)
    day = timezone.localdate()
    if form.is_valid() and form.cleaned_data["day"]:
        day = form.cleaned_data["day"]
    sort = "time" if request.GET.get("sort") == "time" else ""
    order = "scheduled_at" if sort else "-updated_at"
    visits = Visit.objects.on_day(day).for_lists().order_by(order, "id")
    page = Paginator(visits, VISITS_PER_PAGE).get_page(request.GET.get("page"))
    page.object_list = access.listed(request.actor, page.object_list)
    return render(
        request,
        "intake/today.html",
        {"form": form, "day": day, "visits": page.object_list, "page": page, "sort": sort},
    )


@login_required
@permission_required("intake.view_patient", raise_exception=True)
def patient_search(request):
    """A POST, so that names and dates of birth never appear in URLs or access logs."""
    form = PatientSearchForm(request.POST or None)
    page = None
    if form.is_valid():
        matches = Patient.objects.matching(form.cleaned_data["q"])
        page = Paginator(matches, PATIENTS_PER_PAGE).get_page(form.cleaned_data["page"] or 1)
        page.object_list = access.listed(request.actor, page.object_list)
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
    patient = access.patient_for(request.actor, pk)
    visits = patient.visits.select_related("condition", "provider").order_by("-scheduled_at")
    return render(
        request,
        "intake/patient_detail.html",
        {
            "patient": patient,
            "visits": visits,
            "record_history": history.changes(patient.history.all(), limit=history.PAGE_ROWS),
            "history_limit": history.PAGE_ROWS,
        },
    )


@login_required
def visit_open(request, pk):
    patient = access.patient_for(request.actor, pk, permission="intake.add_visit")
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
    """Queries: the visit with patient and condition, its answers with who answered, its
    test orders with who ordered them, and the versions of all three with the users they
    name: a fixed number however many rows there are."""
    visit = access.visit_for(request.actor, pk)
    answers = visit.answers.select_related("answered_by")
    return render(
        request,
        "intake/visit_detail.html",
        {
            "visit": visit,
            "answers": answers,
            "orders": visit.test_orders.select_related("ordered_by"),
            "link": visit.previsit_links.first(),
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


@login_required
@permission_required("intake.view_testorder", raise_exception=True)
def visit_print(request, pk):
    """The visit summary and one requisition page per active order, for printing."""
    visit = access.visit_for(request.actor, pk)
    return render(
        request,
        "intake/visit_print.html",
        {
            "visit": visit,
            "answers": visit.answers.all(),
            "orders": visit.test_orders.exclude(status=TestOrder.Status.CANCELLED).select_related(
                "ordered_by"
            ),
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
