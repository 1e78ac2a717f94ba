"""The providers' admin: visits with their intake, test orders, results and review.

Reads go through intake.access (AuditedReadsMixin); every change goes through the
workflow functions of intake.visits and intake.orders, which audit themselves.
Clinical records cannot be deleted here.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from audit import history
from hl7v2.admin import NotYetSentFilter, OrderMessageInline

from . import access, orders
from .models import Answer, OrderAddendum, Patient, TestOrder, Visit
from .paginators import EstimatedCountPaginator
from .roles import active_providers, providers
from .visits import assign_provider, close_visit, mark_seen


def run_bulk_step(model_admin, request, records, step, *, done, describe):
    """Apply a workflow step to each record of an admin action; say how many it moved on,
    and why each of the others was refused (the workflow's own rules)."""
    count, failed = 0, []
    for record in records:
        try:
            step(record)
            count += 1
        except (ValidationError, PermissionDenied) as error:
            reasons = getattr(error, "messages", [str(error)])
            failed.append(f"{describe(record)}: {' '.join(reasons)}")
    if count:
        model_admin.message_user(request, f"{count} {done}.", messages.SUCCESS)
    for failure in failed:
        model_admin.message_user(request, failure, messages.ERROR)


class AuditedReadsMixin:
    """Reads go through intake.access: every change page a user opens (or is refused),
    and every patient a list shows, is audited."""

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is not None:
            access.listed(request.actor, changelist.result_list)
        return response

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # The read is audited before the admin's transaction begins. An audit event holds
        # the audit chain's lock to the end of its transaction, and the workflows this
        # page calls lock their rows first, as every other caller does: the other way
        # round, a save here could deadlock with a patient's save of the same visit.
        if object_id is not None:
            self.read_object(request, object_id)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def history_view(self, request, object_id, extra_context=None):
        self.read_object(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def read_object(self, request, object_id):
        """The record this page shows, through intake.access: role checked, read audited."""
        obj = self.get_object(request, unquote(object_id))
        if obj is not None:
            opts = self.model._meta
            access.read(
                request.actor,
                obj,
                patient_id=access.patient_id_of(obj),
                permissions=[
                    f"{opts.app_label}.view_{opts.model_name}",
                    f"{opts.app_label}.change_{opts.model_name}",
                ],
            )
        return obj

    def has_delete_permission(self, request, obj=None):
        return False


class ProviderListFilter(admin.RelatedFieldListFilter):
    """A filter by provider whose choices are the Provider role's members, read from the
    user table, rather than every provider found in the (long) list being filtered."""

    def field_choices(self, field, request, model_admin):
        return [(user.pk, str(user)) for user in providers()]


@admin.register(Patient)
class PatientAdmin(AuditedReadsMixin, admin.ModelAdmin):
    list_display = ["mrn", "family_name", "given_name", "date_of_birth", "sex_at_birth"]
    list_filter = [("merged_into", admin.EmptyFieldListFilter)]
    search_fields = ["=mrn", "family_name", "given_name"]
    readonly_fields = ["mrn", "merged_into", "created_at", "created_by", "record_changes"]
    fields = [
        "mrn",
        "merged_into",
        "given_name",
        "family_name",
        "date_of_birth",
        "sex_at_birth",
        "email",
        "phone",
        "preferred_language",
        "other_language",
        "email_allowed",
        "sms_allowed",
        "created_at",
        "created_by",
        "record_changes",
    ]
    show_full_result_count = False
    paginator = EstimatedCountPaginator

    def has_add_permission(self, request):
        return False  # patients are registered on the staff pages, with the duplicate check

    @admin.display(description="Changes")
    def record_changes(self, patient):
        return history.table(patient.history.all())

    def has_change_permission(self, request, obj=None):
        return False  # corrections go through the staff pages


class TestOrderInlineForm(forms.ModelForm):
    class Meta:
        model = TestOrder
        fields = ["test", "priority", "body_site", "side", "limb", "reason", "notes"]
        widgets = {
            "reason": forms.Textarea(attrs={"rows": 4, "cols": 40}),
            "notes": forms.Textarea(attrs={"rows": 4, "cols": 30}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A dash for "none" keeps the columns narrow enough for every one to show.
        for name in ("body_site", "side", "limb"):
            field = self.fields[name]
            field.choices = [("", "—"), *field.choices[1:]]


class TestOrderInline(admin.TabularInline):
    """Existing orders read-only with a link to their page; new ones placed in bulk."""

    model = TestOrder
    form = TestOrderInlineForm
    extra = 0
    fields = ["test", "priority", "body_site", "side", "limb", "reason", "notes", "order_status"]
    readonly_fields = ["order_status"]
    show_change_link = True
    verbose_name = "test order"

    @admin.display(description="Status")
    def order_status(self, order):
        return order.get_status_display() if order.pk else "New"

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        if obj is not None:
            formset.form.base_fields["test"].queryset = obj.orderable_tests()
            flags = "; ".join(flag["message"] for flag in obj.red_flags)
            formset.form.base_fields["reason"].initial = flags
        return formset

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("test")

    def has_add_permission(self, request, obj=None):
        return request.user.has_perm("intake.add_testorder") and (obj is None or obj.accepts_orders)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class VisitAdminForm(forms.ModelForm):
    """The visit page, which remembers the visit as it was loaded.

    If someone else changed the visit meanwhile (its provider, its status, its intake),
    the save is refused, as a stale intake save is: nothing is written, and the page
    comes back showing the visit as it now is, with the orders that were typed kept.
    """

    loaded_stamp = forms.CharField(widget=forms.HiddenInput)

    class Meta:
        model = Visit
        fields = ["provider"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["loaded_stamp"].initial = self.instance.edit_stamp

    def clean(self):
        cleaned = super().clean()
        visit = self.instance
        if self.data.get(self.add_prefix("loaded_stamp")) != visit.edit_stamp:
            # Show the visit as it is now, so that saving again is a knowing choice.
            self.data = self.data.copy()
            self.data[self.add_prefix("loaded_stamp")] = visit.edit_stamp
            self.data[self.add_prefix("provider")] = str(visit.provider_id or "")
            raise ValidationError(
                "Someone else changed this visit while you had it open (it is now "
                f"{visit.get_status_display().lower()}, with "
                f"{visit.provider or 'no provider'} as provider). Nothing was saved. "
                "Check the visit as it is now, then save again: the orders you typed "
                "are still below."
            )
        return cleaned


@admin.register(Visit)
class VisitAdmin(AuditedReadsMixin, admin.ModelAdmin):
    list_display = [
        "scheduled_at",
        "patient_name",
        "patient_mrn",
        "condition",
        "status",
        "arrived",
        "red_flag_count",
        "provider",
    ]
    list_filter = [
        "status",
        "condition",
        ("provider", ProviderListFilter),
        ("scheduled_at", admin.DateFieldListFilter),
    ]
    search_fields = ["=patient__mrn", "patient__family_name", "patient__given_name"]
    list_select_related = ["patient", "condition", "provider"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    ordering = ["-scheduled_at"]
    readonly_fields = [
        "patient_summary",
        "red_flag_list",
        "intake_answers",
        "patient_files",
        "condition",
        "scheduled_at",
        "status",
        "arrival",
        "status_reasons",
        "created_by",
        "review_link",
        "print_link",
        "record_changes",
    ]
    fieldsets = [
        ("Patient", {"fields": ["patient_summary"]}),
        ("Red flags", {"fields": ["red_flag_list"]}),
        ("Intake", {"fields": ["intake_answers", "patient_files"]}),
        (
            "Visit",
            {
                "fields": [
                    ("condition", "scheduled_at", "status"),
                    "arrival",
                    "status_reasons",
                    "provider",
                    "created_by",
                    "review_link",
                    "print_link",
                ]
            },
        ),
        ("Changes to the visit, its answers and its orders", {"fields": ["record_changes"]}),
    ]
    inlines = [TestOrderInline]
    form = VisitAdminForm
    actions = ["mark_seen_action", "close_action"]

    class Media:
        css = {"all": ["css/orders-admin.css"]}

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("patient", "condition", "provider")

    def has_add_permission(self, request):
        return False  # visits are opened on the staff pages

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status in Visit.FINISHED:
            return [*self.readonly_fields, "provider"]
        return self.readonly_fields

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None and self.has_change_permission(request, obj):
            # The hidden stamp of the visit as loaded, for the stale-save check.
            fieldsets = [*fieldsets, (None, {"fields": ["loaded_stamp"]})]
        return fieldsets

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "provider":
            kwargs["queryset"] = active_providers()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description="Patient", ordering="patient__family_name")
    def patient_name(self, visit):
        return visit.patient.full_name

    @admin.display(description="Record number")
    def patient_mrn(self, visit):
        return visit.patient.mrn

    @admin.display(description="Arrived", ordering="checked_in_at")
    def arrived(self, visit):
        if visit.checked_in_at is None:
            return "—"
        return date_format(timezone.localtime(visit.checked_in_at), "H:i")

    @admin.display(description="Arrival")
    def arrival(self, visit):
        if visit.checked_in_at is None:
            return "Not checked in"
        by = visit.checked_in_by
        return format_html(
            "{}{}",
            date_format(timezone.localtime(visit.checked_in_at), "j M Y H:i"),
            f", checked in by {by.get_full_name() or by.get_username()}" if by else "",
        )

    @admin.display(description="Reason")
    def status_reasons(self, visit):
        """Why the visit was cancelled, not attended, or closed with orders open."""
        reasons = [
            (label, text)
            for label, text in (
                ("Cancelled", visit.cancel_reason),
                ("Did not attend", visit.did_not_attend_reason),
                ("Closed with test orders open", visit.close_reason),
            )
            if text
        ]
        if not reasons:
            return "—"
        return format_html_join(mark_safe("<br>"), "{}: {}", reasons)

    @admin.display(description="Red flags")
    def red_flag_count(self, visit):
        return len(visit.red_flags) or "—"

    @admin.display(description="Patient")
    def patient_summary(self, visit):
        patient = visit.patient
        return format_html(
            "<strong>{}</strong> · record number {} · born {} (age {}) · {}",
            patient.full_name,
            patient.mrn,
            patient.date_of_birth.strftime("%-d %b %Y"),
            patient.age_on(timezone.localdate()),
            patient.get_sex_at_birth_display(),
        )

    @admin.display(description="Red flags")
    def red_flag_list(self, visit):
        if not visit.red_flags:
            return "None"
        return format_html(
            '<ul class="red-flags">{}</ul>',
            format_html_join(
                "",
                "<li><strong>{}</strong>: {}</li>",
                ((flag["message"], flag["reason"]) for flag in visit.red_flags),
            ),
        )

    @admin.display(description="Answers (wording as asked)")
    def intake_answers(self, visit):
        answers = visit.answers.select_related("answered_by")
        if not answers:
            return "No answers yet."
        # The staff visit page's table, with staff corrections of the patient's answers.
        return render_to_string("intake/includes/answer_table.html", {"answers": answers})

    @admin.display(description="Photos and clips")
    def patient_files(self, visit):
        # Each file is fetched from the staff view, which checks the role and audits it.
        return render_to_string(
            "intake/includes/patient_attachments.html",
            {"attachments": visit.attachments.all()},
        )

    @admin.display(description="Latest changes")
    def record_changes(self, visit):
        return history.table(
            visit.history.all(),
            Answer.history.filter(visit_id=visit.pk),
            TestOrder.history.filter(visit_id=visit.pk),
        )

    @admin.display(description="Provider's review")
    def review_link(self, visit):
        return format_html(
            '<a href="{}">Intake review, clinical note and suggested tests</a>',
            reverse("intake:visit-review", args=[visit.pk]),
        )

    @admin.display(description="Print")
    def print_link(self, visit):
        return format_html(
            '<a href="{}">Visit summary and requisitions</a>',
            reverse("intake:visit-print", args=[visit.pk]),
        )

    def save_model(self, request, obj, form, change):
        """Only the provider is edited here; other columns are left to their workflows,
        so a patient submitting the intake meanwhile is not overwritten."""
        if "provider" in form.changed_data:
            try:
                assign_provider(
                    visit=obj,
                    provider=obj.provider,
                    actor=request.actor,
                    expected_provider_id=form.initial.get("provider"),
                )
            except ValidationError as error:
                # Only a change that raced past the form's check gets here.
                self.message_user(request, " ".join(error.messages), messages.ERROR)

    def save_formset(self, request, form, formset, change):
        """New orders are placed through intake.orders; nothing else is saved here."""
        if formset.model is not TestOrder:
            return super().save_formset(request, form, formset, change)
        visit = form.instance
        # The admin's change message reads these, whether or not the orders are placed.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        fields = ["test", "reason", "priority", "body_site", "side", "limb", "notes"]
        try:
            placed = orders.place_orders(
                visit=visit,
                lines=[
                    {name: order_form.cleaned_data[name] for name in fields}
                    for order_form in formset.extra_forms
                    if order_form.has_changed()
                ],
                actor=request.actor,
            )
        except ValidationError as error:
            self.message_user(
                request, "No orders were placed: " + " ".join(error.messages), messages.ERROR
            )
            return
        formset.new_objects = placed
        if placed:
            self.message_user(request, f"Placed {len(placed)} order(s).", messages.SUCCESS)

    @admin.action(description="Mark selected visits as seen", permissions=["change"])
    def mark_seen_action(self, request, queryset):
        self._apply(request, queryset, mark_seen, "seen")

    @admin.action(description="Close selected visits", permissions=["close"])
    def close_action(self, request, queryset):
        """Closes each visit whose orders are all reviewed or cancelled; one with orders
        open is refused, and closed with a reason on its staff page."""

        def close(*, visit, actor):
            try:
                return close_visit(visit=visit, actor=actor)
            except ValidationError as error:
                if "reason" not in getattr(error, "error_dict", {}):
                    raise
                raise ValidationError(
                    [*error.messages, "To close it anyway, give the reason on its staff page."]
                ) from error

        self._apply(request, queryset, close, "closed")

    def has_close_permission(self, request):
        return request.user.has_perm("intake.close_visit")

    def _apply(self, request, queryset, workflow, done):
        run_bulk_step(
            self,
            request,
            queryset.select_related("patient"),
            lambda visit: workflow(visit=visit, actor=request.actor),
            done=f"visit(s) {done}",
            describe=lambda visit: visit.patient.mrn,
        )


class AwaitingMyReviewFilter(admin.SimpleListFilter):
    title = "worklist"
    parameter_name = "worklist"

    def lookups(self, request, model_admin):
        return [("awaiting-my-review", "Awaiting my review")]

    def queryset(self, request, queryset):
        if self.value() == "awaiting-my-review":
            return queryset.awaiting_review(request.user)
        return queryset


class OrderStepForm(forms.ModelForm):
    """One step of an order's workflow, as its change page offers it.

    The page says which step it showed. If someone else moved the order on meanwhile
    (recorded the result, signed it off), the form refuses rather than apply what was
    typed to the order's new stage, and comes back as the form for that stage.
    """

    STEP = ""
    step = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["step"].initial = self.STEP
        self.moved_on = self.is_bound and self.data.get(self.add_prefix("step")) != self.STEP
        if self.moved_on:
            self.data = self.data.copy()
            self.data[self.add_prefix("step")] = self.STEP

    def clean(self):
        if self.moved_on:
            raise ValidationError(
                "Someone else changed this order while you had it open: it is now "
                f"{self.instance.get_status_display().lower()}. Nothing was saved; "
                "check the order below before you go on."
            )
        return super().clean()


class ResultForm(OrderStepForm):
    """Recording a result on an ordered or scheduled order."""

    STEP = "result"

    class Meta:
        model = TestOrder
        fields = ["performed_on", "result_text", "result_value", "result_unit", "abnormal"]
        widgets = {"result_text": forms.Textarea(attrs={"rows": 4, "cols": 60})}

    def clean(self):
        cleaned = super().clean()
        # A value the form could not read is reported already, beside its field. The
        # date performed is checked by TestOrder.clean, which the form runs.
        if "result_value" not in self.errors:
            try:
                orders.check_result(
                    text=cleaned.get("result_text", ""),
                    value=cleaned.get("result_value"),
                    unit=cleaned.get("result_unit", ""),
                )
            except ValidationError as error:
                self.add_error(None, error)
        return cleaned


class ReviewForm(OrderStepForm):
    STEP = "review"

    class Meta:
        model = TestOrder
        fields = ["review_comment"]
        widgets = {"review_comment": forms.Textarea(attrs={"rows": 3, "cols": 60})}
        labels = {"review_comment": "Review comment (signs off the result)"}
        error_messages = {"review_comment": {"required": "Sign off the result with a comment."}}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["review_comment"].required = True


class AddendumForm(OrderStepForm):
    STEP = "addendum"
    addendum = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "cols": 60}))

    class Meta:
        model = TestOrder
        fields = []


class OrderAddendumInline(admin.TabularInline):
    model = OrderAddendum
    extra = 0
    fields = ["added_at", "added_by", "text"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(TestOrder)
class TestOrderAdmin(AuditedReadsMixin, admin.ModelAdmin):
    """The order worklist, and one order's result and review."""

    list_display = [
        "ordered",
        "test_name",
        "site",
        "patient",
        "priority",
        "status_and_flag",
        "ordered_by",
    ]
    list_display_links = ["ordered", "test_name"]
    list_filter = [
        AwaitingMyReviewFilter,
        "status",
        "abnormal",
        "priority",
        "test__kind",
        NotYetSentFilter,
        ("ordered_by", ProviderListFilter),
        ("ordered_at", admin.DateFieldListFilter),
    ]
    search_fields = [
        "=visit__patient__mrn",
        "visit__patient__family_name",
        "visit__patient__given_name",
    ]
    list_select_related = ["visit__patient", "ordered_by"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    inlines = [OrderAddendumInline, OrderMessageInline]
    actions = ["schedule_selected", "cancel_selected"]
    ORDER_FIELDS = [
        "visit_link",
        "test_name",
        "test_code",
        "priority",
        "body_site",
        "side",
        "limb",
        "reason",
        "notes",
        "status",
        "ordered_by",
        "ordered_at",
        "scheduled_at",
        "cancel_reason",
    ]
    RESULT_FIELDS = [
        "performed_on",
        "result_text",
        "result_value",
        "result_unit",
        "abnormal_flag",
        "resulted_by",
        "result_from",
        "resulted_at",
    ]
    REVIEW_FIELDS = ["review_comment", "reviewed_by", "reviewed_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("visit__patient", "ordered_by")

    def has_add_permission(self, request):
        return False  # orders are placed on the visit's page

    @admin.display(description="Ordered", ordering="ordered_at")
    def ordered(self, order):
        return date_format(timezone.localtime(order.ordered_at), "j M Y H:i")

    @admin.display(description="Where")
    def site(self, order):
        return order.site_display or "—"

    @admin.display(description="Patient", ordering="visit__patient__family_name")
    def patient(self, order):
        patient = order.visit.patient
        return format_html('{}<br><span class="quiet">{}</span>', patient.full_name, patient.mrn)

    @admin.display(description="Status", ordering="status")
    def status_and_flag(self, order):
        if order.abnormal:
            return format_html("{} · <strong>abnormal</strong>", order.get_status_display())
        return order.get_status_display()

    @admin.display(description="Abnormal")
    def abnormal_flag(self, order):
        return {True: "Yes", False: "No"}.get(order.abnormal, "Not stated")

    @admin.display(description="Visit")
    def visit_link(self, order):
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:intake_visit_change", args=[order.visit_id]),
            order.visit,
        )

    def _step(self, request, order):
        """The workflow step this user may take on the order's page, if any."""
        if order is None or not self.has_change_permission(request, order):
            return None
        return {
            TestOrder.Status.ORDERED: ResultForm,
            TestOrder.Status.SCHEDULED: ResultForm,
            TestOrder.Status.RESULTED: ReviewForm,
            TestOrder.Status.REVIEWED: AddendumForm,
        }.get(order.status)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = self._step(request, obj) or AddendumForm
        kwargs["form"] = form
        kwargs["fields"] = [*form.base_fields]
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        step = self._step(request, obj)
        fieldsets = [("Order", {"fields": self.ORDER_FIELDS})]
        if step is ResultForm:
            fieldsets.append(("Record the result", {"fields": [*step.base_fields]}))
        else:
            fieldsets.append(("Result", {"fields": self.RESULT_FIELDS}))
        if step is ReviewForm:
            fieldsets.append(("Review", {"fields": [*step.base_fields]}))
        elif obj is not None and obj.status == TestOrder.Status.REVIEWED:
            fieldsets.append(("Review", {"fields": self.REVIEW_FIELDS}))
        if step is AddendumForm:
            fieldsets.append(("Add an addendum", {"fields": [*step.base_fields]}))
        if obj is not None:
            fieldsets.append(("Changes", {"fields": ["record_changes"]}))
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        step = self._step(request, obj)
        editable = step.base_fields if step else {}
        every = self.ORDER_FIELDS + self.RESULT_FIELDS + self.REVIEW_FIELDS
        return [field for field in every if field not in editable] + ["record_changes"]

    @admin.display(description="Latest changes")
    def record_changes(self, order):
        return history.table(order.history.all())

    def save_model(self, request, obj, form, change):
        """Turn the page's form into its workflow step; the form has checked the input."""
        data = form.cleaned_data
        try:
            if form.STEP == ResultForm.STEP:
                orders.record_result(
                    order=obj,
                    actor=request.actor,
                    text=data["result_text"],
                    value=data["result_value"],
                    unit=data["result_unit"],
                    abnormal=data["abnormal"],
                    performed_on=data["performed_on"],
                )
            elif form.STEP == ReviewForm.STEP:
                orders.review_result(order=obj, actor=request.actor, comment=data["review_comment"])
            else:
                orders.add_addendum(order=obj, actor=request.actor, text=data["addendum"])
        except ValidationError as error:
            # Only a change that raced past the form's checks gets here.
            self.message_user(request, " ".join(error.messages), messages.ERROR)
        obj.refresh_from_db()  # the admin's message and log name the order as it now is

    @admin.action(description="Mark selected orders as scheduled", permissions=["change"])
    def schedule_selected(self, request, queryset):
        self._apply(
            request,
            queryset,
            "scheduled",
            lambda order: orders.schedule_order(order=order, actor=request.actor),
        )

    @admin.action(description="Cancel selected orders…", permissions=["change"])
    def cancel_selected(self, request, queryset):
        reason = request.POST.get("cancel_reason", "").strip()
        if "apply" not in request.POST or not reason:
            selected = access.listed(request.actor, queryset.select_related("visit__patient"))
            return TemplateResponse(
                request,
                "admin/intake/testorder/cancel_orders.html",
                {
                    **self.admin_site.each_context(request),
                    "opts": self.opts,
                    "orders": selected,
                    "missing_reason": "apply" in request.POST,
                    "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
                    "title": "Cancel test orders",
                },
            )
        self._apply(
            request,
            queryset,
            "cancelled",
            lambda order: orders.cancel_order(order=order, actor=request.actor, reason=reason),
        )
        return None

    def _apply(self, request, queryset, done, step):
        run_bulk_step(
            self,
            request,
            queryset.select_related("visit__patient"),
            step,
            done=f"order(s) {done}",
            describe=lambda order: f"{order.test_name} for {order.visit.patient.mrn}",
        )

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        if obj is not None and obj.status == TestOrder.Status.CANCELLED:
            return False
        return allowed
