"""The interface in the admin: performers (clinic administrators), the messages sent for
each order with "send again", and the received messages, with the review queue of
results that found no order."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html

from audit import trail
from audit.models import AuditEvent
from intake.models import TestOrder

from . import receiving, sending
from .models import OrderMessage, Performer, ReceivedMessage


@admin.register(Performer)
class PerformerAdmin(admin.ModelAdmin):
    list_display = ["name", "test_kind", "host", "port", "receiving_facility", "active"]
    list_filter = ["test_kind", "active"]
    fieldsets = [
        (None, {"fields": ["name", "test_kind", "active"]}),
        ("Where to send", {"fields": ["host", "port"]}),
        (
            "Names in the messages",
            {
                "fields": [
                    "sending_application",
                    "sending_facility",
                    "receiving_application",
                    "receiving_facility",
                ]
            },
        ),
    ]

    def has_delete_permission(self, request, obj=None):
        return False  # its messages refer to it; untick "active" instead


class NotYetSentFilter(admin.SimpleListFilter):
    """On the order list: orders whose performer does not have them (or refused them)."""

    title = "sent to the performer"
    parameter_name = "sent"

    def lookups(self, request, model_admin):
        return [("not-yet", "Not yet sent"), ("refused", "Refused by the performer")]

    def queryset(self, request, queryset):
        states = {
            "not-yet": OrderMessage.NOT_SENT,
            "refused": {OrderMessage.State.REFUSED},
        }.get(self.value())
        if states is None:
            return queryset
        return queryset.filter(hl7_messages__state__in=states).distinct()


class OrderMessageInline(admin.TabularInline):
    """On an order's page: what was sent to the performer, and what became of it."""

    model = OrderMessage
    fields = ["event", "performer", "summary", "attempts", "last_error"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name = "message to the performer"
    verbose_name_plural = "messages to the performer"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("performer")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(OrderMessage)
class OrderMessageAdmin(admin.ModelAdmin):
    list_display = ["created_at", "order_link", "event", "performer", "state", "attempts"]
    list_filter = ["state", "event", "performer"]
    list_select_related = ["performer", "order"]
    readonly_fields = [
        "order_link",
        "performer",
        "event",
        "control_id",
        "state",
        "summary",
        "attempts",
        "last_error",
        "next_attempt_at",
        "ack_code",
        "ack_text",
        "created_at",
        "answered_at",
    ]
    fields = readonly_fields
    actions = ["send_selected_again"]

    @admin.display(description="Order")
    def order_link(self, message):
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:intake_testorder_change", args=[message.order_id]),
            message.order.test_name,
        )

    @admin.action(description="Send the selected messages again", permissions=["change"])
    def send_selected_again(self, request, queryset):
        count = sum(sending.send_again(message) for message in queryset)
        self.message_user(request, f"{count} message(s) queued to send again.", messages.SUCCESS)
        skipped = queryset.count() - count
        if skipped:
            self.message_user(
                request,
                f"{skipped} message(s) left as they were: only one the performer did not "
                "answer is sent again.",
                messages.WARNING,
            )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class RecordOnOrderForm(forms.ModelForm):
    """A held result, recorded on the order a provider finds for it."""

    order_number = forms.IntegerField(
        required=False,
        min_value=1,
        help_text="The order (its number is in its page's address) to record this result on.",
    )

    class Meta:
        model = ReceivedMessage
        fields = []

    def clean_order_number(self):
        number = self.cleaned_data["order_number"]
        if number is None:
            return None
        order = TestOrder.objects.filter(pk=number).select_related("visit").first()
        if order is None:
            raise ValidationError("There is no order with this number.")
        return order


@admin.register(ReceivedMessage)
class ReceivedMessageAdmin(admin.ModelAdmin):
    """Every message received; "Held for review" is the queue to work through."""

    form = RecordOnOrderForm
    list_display = ["received_at", "message_type", "sender", "control_id", "outcome"]
    list_filter = ["outcome", "message_type", "sending_facility"]
    search_fields = ["=control_id"]
    date_hierarchy = "received_at"
    readonly_fields = [
        "received_at",
        "sender",
        "message_type",
        "control_id",
        "outcome",
        "problem",
        "ack_code",
        "recorded_on",
        "resolved_by",
        "resolved_at",
        "raw_text",
    ]

    def get_fields(self, request, obj=None):
        editable = ["order_number"] if self._holds(obj) else []
        return [*editable, *self.readonly_fields]

    @staticmethod
    def _holds(obj):
        return obj is not None and obj.outcome == ReceivedMessage.Outcome.HELD

    @admin.display(description="Sender")
    def sender(self, received):
        return " / ".join(filter(None, [received.sending_application, received.sending_facility]))

    @admin.display(description="Recorded on")
    def recorded_on(self, received):
        return ", ".join(str(order) for order in received.orders.all()) or "—"

    @admin.display(description="Message")
    def raw_text(self, received):
        return format_html("<pre>{}</pre>", received.raw.replace("\r", "\n"))

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # The raw message names the patient: opening it is a read, on the trail.
        if object_id is not None:
            received = self.get_object(request, object_id)
            if received is not None:
                trail.record(action=AuditEvent.Action.VIEW, record=received, actor=request.actor)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        order = form.cleaned_data.get("order_number")
        if order is None:
            return
        try:
            receiving.record_held(received=obj, order=order, actor=request.actor)
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
        obj.refresh_from_db()

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
