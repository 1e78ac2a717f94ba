"""The patient's pre-visit pages at /v/<token>/: no account, one visit, nothing else.

Every request finds the visit from the token alone; nothing the browser sends can
point at another visit. A patient proves who they are with their date of birth, which
is remembered in their session for this link only.
"""

import hmac
import math
import secrets
from functools import wraps

from django.conf import settings
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from audit.actors import Actor
from conditions.models import Section

from . import access, answers, attachments, consent, links, patient_language
from .answers import IntakeConflict
from .forms import AttachmentForm, AttestationForm, DateOfBirthForm, IntakeForm
from .models import PreVisitLink

SESSION_KEY = "previsit-verified"
FORM_KEY = "previsit-form-key"
SAVED_KEY = "previsit-saved"
ATTACHMENT_KEY = "previsit-attachment"
SESSION_SECONDS = 2 * 60 * 60
# The page the questions page's "Continue" leads to.
AFTER_QUESTIONS = "previsit:photos"
# Which page and status a link that cannot be used gets.
PROBLEMS = {
    None: ("unknown", 404),
    PreVisitLink.State.EXPIRED: ("expired", 410),
    PreVisitLink.State.REVOKED: ("revoked", 410),
    PreVisitLink.State.SUBMITTED: ("submitted", 410),
    PreVisitLink.State.LOCKED: ("locked", 403),
    PreVisitLink.State.CLOSED: ("closed", 410),
    PreVisitLink.State.FAILED: ("unknown", 404),
    PreVisitLink.State.PENDING: ("unknown", 404),
}


def patient_page(view):
    """Finds the link for the token, and adds the headers every patient page sends, the
    limit on failed tries per address, the check that a POST came from our own form, and
    the patient's language (patient_language.py), kept when they switch it.

    The view is called with the link, or None for a token that matches none. Only
    unknown tokens are throttled by address: a patient whose link is valid gets in
    whatever others behind the same address (a clinic's network, a proxy) have tried.

    Django's CSRF check cannot run here: with `Referrer-Policy: no-referrer` browsers
    send `Origin: null` and no Referer on form posts, which it rightly refuses. Instead a
    POST must carry the random form key kept in this browser's session (a cookie that
    is SameSite=Lax, so other sites' posts do not carry it), and must not be marked by
    the browser as coming from another site.
    """

    @wraps(view)
    @csrf_exempt
    @never_cache
    def wrapper(request, token):
        if request.method == "GET" and "language" in request.GET:
            # The language switch of a page without a form to keep: show it again.
            patient_language.choose(request, request.GET["language"])
            response = redirect(request.path)
        else:
            link = links.find_link(token)
            if link and "language" in request.POST and _post_from_our_form(request):
                # The switch on the questions page, which also saves what was typed.
                patient_language.choose(request, request.POST["language"])
            language = patient_language.for_request(request, link)
            with translation.override(language):
                response = _patient_response(request, token, link, view)
            response["Content-Language"] = language
            patch_vary_headers(response, ["Accept-Language"])
        response["Cache-Control"] = "no-store"
        response["Referrer-Policy"] = "no-referrer"
        response["X-Robots-Tag"] = "noindex, nofollow"
        return response

    return wrapper


def _patient_response(request, token, link, view):
    if link is None and links.too_many_failures(request):
        seconds = links.seconds_until_tries_reset()
        response = _problem(request, "throttled", 429, minutes=math.ceil(seconds / 60))
        response["Retry-After"] = str(seconds)
        return response
    if link is None:
        links.record_failure(request)
        return _problem(request, *PROBLEMS[None])
    if request.method == "POST" and not _post_from_our_form(request):
        return _problem(request, "session", 400)
    request.previsit_form_key = request.session.setdefault(FORM_KEY, secrets.token_urlsafe(32))
    return view(request, token, link)


def _post_from_our_form(request):
    expected = request.session.get(FORM_KEY)
    sent = request.POST.get("form_key", "")
    return (
        request.headers.get("Sec-Fetch-Site", "same-origin") in ("same-origin", "none")
        and expected is not None
        and hmac.compare_digest(expected, sent)
    )


def _problem(request, problem, status, **extra):
    context = {
        "problem": problem,
        # A form sent to a link that stopped working: say that it was not saved.
        "not_saved": request.method == "POST",
        "clinic_name": settings.CLINIC_NAME,
        "clinic_phone": settings.CLINIC_PHONE,
        **extra,
    }
    return render(request, "previsit/problem.html", context, status=status)


def _is_verified(request, link):
    return request.session.get(SESSION_KEY, {}).get(str(link.pk)) == link.token_hash


def _problem_with(request, link, token):
    """None for a link that can be used now, else the page that says why it cannot."""
    if link.state == PreVisitLink.State.ACTIVE:
        return None
    if link.state == PreVisitLink.State.SUBMITTED and _is_verified(request, link):
        return redirect("previsit:done", token=token)
    return _problem(request, *PROBLEMS[link.state])


def _refusal(request, link, token):
    """None when the link can be used now by a patient who gave their date of birth;
    else the page that says why it cannot, or the date-of-birth page."""
    if problem := _problem_with(request, link, token):
        return problem
    if not _is_verified(request, link):
        return redirect("previsit:start", token=token)
    return None


@patient_page
def start(request, token, link):
    if problem := _problem_with(request, link, token):
        return problem
    links.mark_opened(link)
    if _is_verified(request, link):
        return redirect("previsit:questions", token=token)
    form = DateOfBirthForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if links.check_date_of_birth(
            link=link,
            date_of_birth=form.cleaned_data["date_of_birth"],
            actor=Actor.through_link(link, request),
        ):
            request.session.cycle_key()
            request.session[SESSION_KEY] = {str(link.pk): link.token_hash}
            request.session.set_expiry(SESSION_SECONDS)
            return redirect("previsit:questions", token=token)
        links.record_failure(request)
        link.refresh_from_db(fields=["failed_attempts", "locked_at"])
        if link.locked_at:
            return _problem(request, "locked", 403)
        form.add_error(
            None,
            ngettext(
                "The date of birth does not match our records. You can try %(count)d more time.",
                "The date of birth does not match our records. You can try %(count)d more times.",
                link.attempts_left,
            )
            % {"count": link.attempts_left},
        )
    return render(request, "previsit/start.html", {**_visit_context(link), "form": form})


@patient_page
def questions(request, token, link):
    if request.method == "POST" and link.state == PreVisitLink.State.SUBMITTED:
        return _already_sent(request, link, token)
    if refusal := _refusal(request, link, token):
        return refusal
    actor = Actor.through_link(link, request)
    visit = link.visit
    if request.method != "POST":
        access.visit_through_link(actor, link)
        form = IntakeForm.with_saved_answers(visit)
        return _questions_page(request, link, form, saved=request.session.pop(SAVED_KEY, False))

    continuing = request.POST.get("action") == "continue"
    form = IntakeForm(request.POST, visit=visit, completing=continuing)
    saved_now = None
    if form.is_valid():
        try:
            links.save_patient_answers(
                link=link,
                values=form.cleaned_answers,
                expected_version=form.cleaned_data["intake_version"],
                actor=actor,
            )
        except links.LinkNotUsable as refused:
            if refused.state == PreVisitLink.State.SUBMITTED:
                # Sent from another tab (or a double press) while this one was saving.
                link.refresh_from_db()
                return _already_sent(request, link, token)
            return _problem(request, *PROBLEMS[refused.state])
        except IntakeConflict:
            visit.refresh_from_db()
            form.data = form.data.copy()
            form.data["intake_version"] = visit.intake_version
            # Show what the clinic saved beside what the patient typed, so that saving
            # again replaces the clinic's answers knowingly, as on the staff page.
            saved_now = visit.answers.all()
            form.add_error(
                None,
                gettext(
                    "The clinic changed some of your answers while you were filling this in. "
                    "Compare them with yours below, then save or send your answers again."
                ),
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            if continuing:
                return redirect(AFTER_QUESTIONS, token=token)
            # Back to the page by GET, so that it shows the answers and version as saved
            # now, and reloading it does not send the form again.
            request.session[SAVED_KEY] = True
            return redirect("previsit:questions", token=token)
    return _questions_page(request, link, form, saved_now=saved_now)


@patient_page
def photos(request, token, link):
    """One photo or clip per POST, or the removal of one: answers are saved on the
    questions page, and nothing here touches them."""
    if refusal := _refusal(request, link, token):
        return refusal
    actor = Actor.through_link(link, request)
    form = AttachmentForm()
    if request.method == "POST":
        try:
            if "remove" in request.POST:
                attachments.remove_attachment(
                    link=link, attachment_id=_number(request.POST["remove"]), actor=actor
                )
                request.session[ATTACHMENT_KEY] = "removed"
                return redirect("previsit:photos", token=token)
            form = AttachmentForm(
                request.POST,
                request.FILES,
                too_large=getattr(request, "upload_too_large", False),
            )
            if form.is_valid():
                attachments.add_attachment(link=link, upload=form.cleaned_data["file"], actor=actor)
                request.session[ATTACHMENT_KEY] = "added"
                return redirect("previsit:photos", token=token)
        except links.LinkNotUsable as refused:
            return _problem(request, *PROBLEMS[refused.state])
        except ValidationError as error:
            form.add_error("file", error)
    visit = access.visit_through_link(actor, link)
    kept = list(visit.attachments.kept())
    return render(
        request,
        "previsit/photos.html",
        {
            **_visit_context(link),
            "form": form,
            "attachments": kept,
            "may_add": len(kept) < settings.ATTACHMENTS_PER_VISIT,
            "max_files": settings.ATTACHMENTS_PER_VISIT,
            "max_seconds": settings.ATTACHMENT_MAX_SECONDS,
            "notice": request.session.pop(ATTACHMENT_KEY, None),
        },
    )


def _number(value):
    try:
        return int(value)
    except ValueError:
        return None


@patient_page
def confirm(request, token, link):
    """The last step: the answers as saved, who is sending them, and their word that
    they are true; then they are sent. A second send (a double press, another tab)
    finds the link sent and gets the "sent" page; nothing more is recorded."""
    if refusal := _refusal(request, link, token):
        return refusal
    actor = Actor.through_link(link, request)
    visit = link.visit
    if "language" in request.POST:
        # The language switch sends the form: the page again, in the chosen language,
        # with what was typed and nothing sent.
        form = AttestationForm(initial=request.POST.dict())
    else:
        form = AttestationForm(
            request.POST or None, initial={"intake_version": visit.intake_version}
        )
    if form.is_bound and form.is_valid():
        try:
            links.submit_previsit_answers(
                link=link,
                expected_version=form.cleaned_data["intake_version"],
                respondent=form.cleaned_data["respondent"],
                relation=form.cleaned_data["relation"],
                relation_other=form.cleaned_data["relation_other"],
                full_name=form.cleaned_data["full_name"],
                actor=actor,
            )
        except links.LinkNotUsable as refused:
            if refused.state == PreVisitLink.State.SUBMITTED:
                return redirect("previsit:done", token=token)
            return _problem(request, *PROBLEMS[refused.state])
        except IntakeConflict:
            visit.refresh_from_db()
            form.data = form.data.copy()
            form.data["intake_version"] = visit.intake_version
            form.add_error(
                None,
                gettext(
                    "Your answers changed after you opened this page, perhaps in another "
                    "window or by the clinic. Check them below, then send them again."
                ),
            )
        except ValidationError:
            # The only refusal left once the link is usable: a required answer is missing.
            form.add_error(
                None,
                gettext("Some questions still need an answer. Change your answers to add them."),
            )
        else:
            return redirect("previsit:done", token=token)
    visit = access.visit_through_link(actor, link)
    return render(
        request,
        "previsit/confirm.html",
        {
            **_visit_context(link),
            "form": form,
            "answers": visit.answers.all(),
            "attachments": visit.attachments.kept(),
        },
    )


def _already_sent(request, link, token):
    """A save or send from a page left open after the answers were sent: nothing is
    saved, and the page says so, shows what the clinic has, and how to change it.

    A repeated send of exactly the answers the clinic has (a double press) loses
    nothing, and gets the usual "sent" page."""
    if not _is_verified(request, link):
        return _problem(request, "submitted", 410)
    visit = access.visit_through_link(Actor.through_link(link, request), link)
    form = IntakeForm(request.POST, visit=visit, completing=False)
    not_saved = form.is_valid() and answers.differences(visit, form.cleaned_answers)
    if form.is_valid() and not not_saved:
        return redirect("previsit:done", token=token)
    return render(
        request,
        "previsit/already_sent.html",
        {**_visit_context(link), "answers": visit.answers.all(), "not_saved": not_saved},
        status=409,
    )


def _questions_page(request, link, form, *, saved=False, saved_now=None):
    visit = link.visit
    shown = {Section.Kind.WHAT_TO_EXPECT, Section.Kind.WHEN_TO_CALL}
    sections = visit.content_version.sections() if visit.content_version else []
    return render(
        request,
        "previsit/questions.html",
        {
            **_visit_context(link),
            "form": form,
            "sections": [(section, items) for section, items in sections if section.kind in shown],
            "saved": saved,
            "saved_now": saved_now,
            "urgent": form.ticks_urgent_sign(),
        },
    )


@patient_page
def done(request, token, link):
    if link.state != PreVisitLink.State.SUBMITTED or not _is_verified(request, link):
        return redirect("previsit:start", token=token)
    visit = access.visit_through_link(Actor.through_link(link, request), link)
    return render(
        request,
        "previsit/done.html",
        {**_visit_context(link), "answers": visit.answers.all()},
    )


def _visit_context(link):
    return {
        "link": link,
        "visit": link.visit,
        "clinic_name": settings.CLINIC_NAME,
        "clinic_phone": settings.CLINIC_PHONE,
        "emergency_number": settings.EMERGENCY_NUMBER,
        "privacy_statement": consent.privacy_statement(),
        "now": timezone.now(),
    }
