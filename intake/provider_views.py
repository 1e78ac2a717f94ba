"""The provider's pages under /staff/: a visit's intake at a glance with its red flags
and the tests they suggest, the intake review, the clinical note and its addenda, and
the order form.

Every change goes through intake.notes or intake.orders, which check the role again
and audit the change; the page itself is read through intake.access.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from . import access, answer_types, notes, orders, triage
from .forms import (
    ChooseTestsForm,
    ClinicalNoteForm,
    NoteAddendumForm,
    OrderLineFormSet,
    ReviewIntakeForm,
    add_workflow_error,
)
from .models import ClinicalNote, TestOrder

PAGE_PERMISSION = "intake.view_clinicalnote"


def _review_url(visit):
    return reverse("intake:visit-review", kwargs={"pk": visit.pk})


@login_required
def visit_review(request, pk):
    return _review_page(request, access.visit_for(request.actor, pk, permission=PAGE_PERMISSION))


def _review_page(
    request, visit, *, note_form=None, addendum_form=None, saved_note=None, status=200
):
    """The provider's page of a visit, with the note form as posted when it comes back.

    Queries: the visit with its patient, condition, provider and reviewer; its answers
    with who gave them; the questions that apply; the photos and clips the patient
    sent; its orders; its note with its author
    and signer, and the addenda with theirs; the suggested tests (triage.suggested_tests,
    one): the same however many answers, orders and addenda there are.
    """
    visit_date = timezone.localtime(visit.scheduled_at).date()
    answers = list(visit.answers.select_related("answered_by", "corrected_by"))
    note = ClinicalNote.objects.select_related("author", "signed_by").filter(visit=visit).first()
    active_orders = list(
        visit.test_orders.exclude(status=TestOrder.Status.CANCELLED).select_related("ordered_by")
    )
    ordered = {order.test_id for order in active_orders}
    suggestions = triage.suggested_tests(visit=visit, answers=answers, visit_date=visit_date)
    rows = _answer_rows(visit, answers, visit_date=visit_date)
    reviewed_at = visit.intake_reviewed_at
    changed_since_review = any(changed for *_, changed in rows)
    if note is not None and note.is_signed:
        addenda = list(note.addenda.select_related("signed_by"))
        addendum_form = addendum_form or NoteAddendumForm()
    else:
        addenda = []
        note_form = note_form or ClinicalNoteForm(instance=note)
    return render(
        request,
        "intake/visit_review.html",
        {
            "visit": visit,
            "rows": rows,
            "attachments": visit.attachments.all(),
            "changed_since_review": changed_since_review,
            "may_review": request.user.has_perm("intake.review_visit")
            and bool(answers)
            and visit.status not in notes.NOT_SEEN
            and (reviewed_at is None or changed_since_review),
            "review_form": ReviewIntakeForm(initial={"intake_version": visit.intake_version}),
            "suggestions": [
                (suggestion, suggestion.test.pk in ordered) for suggestion in suggestions
            ],
            "unordered_suggestions": any(s.test.pk not in ordered for s in suggestions),
            "orders": active_orders,
            "note": note,
            "note_form": note_form,
            "saved_note": saved_note,
            "addenda": addenda,
            "addendum_form": addendum_form,
        },
        status=status,
    )


def _answer_rows(visit, answers, *, visit_date):
    """The answers in the questionnaire's order, each question that applies with its
    answer or none, and then any answer to a question since taken out, as
    (wording, answer or None, the answer in plain words, whether changed since review)."""
    by_key = {answer.question_key: answer for answer in answers}
    rows = []
    for question in visit.questions():
        answer = by_key.pop(question.key, None)
        # An answer keeps the wording the patient saw.
        rows.append((answer.wording if answer else question.wording, answer))
    rows += [(answer.wording, answer) for answer in by_key.values()]
    reviewed_at = visit.intake_reviewed_at
    return [
        (
            wording,
            answer,
            answer_types.of(answer).in_words(answer, visit_date=visit_date) if answer else "",
            bool(answer and reviewed_at and answer.answered_at > reviewed_at),
        )
        for wording, answer in rows
    ]


@require_POST
@login_required
def visit_review_intake(request, pk):
    visit = access.visit_for(request.actor, pk, permission="intake.review_visit")
    form = ReviewIntakeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "This page is out of date. Reload it, then try again.")
        return redirect(_review_url(visit))
    try:
        visit = notes.review_intake(
            visit=visit,
            actor=request.actor,
            expected_intake_version=form.cleaned_data["intake_version"],
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "The intake is marked as reviewed by you.")
    return redirect(_review_url(visit))


@require_POST
@login_required
def visit_note(request, pk):
    """Save the note as a draft, or sign it ("action=sign"). A save from a page loaded
    before another save of the note is refused (409) with the text typed kept, beside
    the note as it is now."""
    visit = access.visit_for(request.actor, pk, permission="intake.change_clinicalnote")
    signing = request.POST.get("action") == "sign"
    note = ClinicalNote.objects.filter(visit=visit).first()
    form = ClinicalNoteForm(request.POST, instance=note)
    if form.is_valid():
        try:
            notes.save_note(
                visit=visit,
                actor=request.actor,
                parts=form.parts,
                expected_version=form.cleaned_data["version"],
                sign=signing,
            )
        except notes.StaleEdit as conflict:
            saved = ClinicalNote.objects.filter(visit=visit).first()
            if saved is not None and saved.is_signed:
                # What was typed waits in the addendum box.
                messages.error(request, " ".join(conflict.messages))
                return _review_page(
                    request,
                    visit,
                    addendum_form=NoteAddendumForm(initial={"text": _as_text(form.parts)}),
                    status=409,
                )
            form.add_error(None, conflict)
            # Saving again from here saves over the note as it now is, knowingly.
            form.data = form.data.copy()
            form.data["version"] = saved.version if saved else 0
            return _review_page(request, visit, note_form=form, saved_note=saved, status=409)
        except ValidationError as error:
            add_workflow_error(form, error)
        else:
            messages.success(request, "Note signed." if signing else "Draft saved.")
            return redirect(_review_url(visit))
    return _review_page(request, visit, note_form=form, status=400)


def _as_text(parts):
    """A draft's parts as one text, to carry into an addendum."""
    labels = {name: ClinicalNote._meta.get_field(name).verbose_name for name in parts}
    return "\n\n".join(
        f"{labels[name].capitalize()}: {text}" for name, text in parts.items() if text
    )


@require_POST
@login_required
def visit_note_addendum(request, pk):
    visit = access.visit_for(request.actor, pk, permission="intake.add_noteaddendum")
    form = NoteAddendumForm(request.POST)
    if form.is_valid():
        try:
            notes.add_addendum(visit=visit, actor=request.actor, text=form.cleaned_data["text"])
        except ValidationError as error:
            if not hasattr(error, "error_dict"):
                # About the note as it is (not signed yet), not about the text typed.
                messages.error(request, " ".join(error.messages))
                return redirect(_review_url(visit))
            add_workflow_error(form, error)
        else:
            messages.success(request, "Addendum added and signed.")
            return redirect(_review_url(visit))
    return _review_page(request, visit, addendum_form=form, status=400)


@login_required
def visit_order_new(request, pk):
    """The order form: one line per test chosen (`?test=<id>&test=<id>`, from the
    suggestions or the catalog list shown when none is chosen), placed together through
    intake.orders.place_orders.

    Queries: the visit, the catalog, and (for an id outside it) that test; placing
    takes one round of writes per order.
    """
    visit = access.visit_for(request.actor, pk, permission="intake.add_testorder")
    if not visit.accepts_orders:
        messages.error(
            request, f"Tests cannot be ordered on a {visit.get_status_display().lower()} visit."
        )
        return redirect(_review_url(visit))
    choose = ChooseTestsForm(request.GET or None, visit=visit)
    if not choose.is_bound or not choose.is_valid():
        return render(
            request,
            "intake/order_choose.html",
            {"visit": visit, "form": choose},
            status=400 if choose.is_bound else 200,
        )
    tests = choose.cleaned_data["test"]
    reason = "; ".join([visit.condition.title, *(flag["message"] for flag in visit.red_flags)])
    formset = OrderLineFormSet(request.POST or None, tests=tests, initial_reason=reason)
    if request.method == "POST" and formset.is_valid():
        try:
            placed = orders.place_orders(visit=visit, lines=formset.lines, actor=request.actor)
        except ValidationError as error:
            formset.refuse(error)
        else:
            messages.success(
                request,
                f"Placed {len(placed)} order{'s' if len(placed) != 1 else ''}: "
                + ", ".join(order.test_name for order in placed)
                + ".",
            )
            return redirect(_review_url(visit))
    return render(
        request,
        "intake/order_new.html",
        {"visit": visit, "formset": formset},
        status=400 if formset.is_bound else 200,
    )
