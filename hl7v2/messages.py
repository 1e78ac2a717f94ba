"""HL7 v2.5.1 messages, built and read with hl7apy: the ORM^O01 that places or cancels an
order, the ORU^R01 that brings its result, and the ACKs that answer both.

An order's placer number (ORC-2 and OBR-2) is its id here, in the namespace of our
sending application; a result names it back, and that is how it finds its order.
"""

import datetime
import re
import uuid
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.utils import timezone
from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.core import Message
from hl7apy.exceptions import HL7apyException
from hl7apy.parser import parse_message
from hl7apy.v2_5_1 import FT, ST, TX

from conditions.models import OrderableTest

VERSION = "2.5.1"
# HL7 table 0396 names the code systems by these.
CODE_SYSTEMS = {OrderableTest.CodeSystem.LOINC: "LN", OrderableTest.CodeSystem.CPT: "C4"}
# Table 0001 (administrative sex).
SEXES = {"female": "F", "male": "M", "intersex": "O", "unknown": "U"}
# ORC-7.6 priority: routine, as soon as possible, immediately.
PRIORITIES = {"routine": "R", "urgent": "A", "stat": "S"}
# Table 0495 (body site modifier) for the side.
SIDES = {"left": ("L", "Left"), "right": ("R", "Right"), "both": ("B", "Bilateral")}
# Our own body site codes (regions, limbs) travel as local codes, with their words.
LOCAL_CODES = "99CLN"
# Abnormal flags (OBX-8) that say the value is within normal limits.
NORMAL_FLAGS = {"N"}


class MessageError(Exception):
    """A message we cannot act on; `code` is the ACK to answer (AR: not read at all,
    AE: read but wrong), `hl7_error` the HL7 table 0357 error code."""

    def __init__(self, text, *, code="AE", hl7_error="207"):
        super().__init__(text)
        self.code = code
        self.hl7_error = hl7_error


def new_control_id():
    return uuid.uuid4().hex[:20]


def _timestamp(moment=None):
    return timezone.localtime(moment or timezone.now()).strftime("%Y%m%d%H%M%S%z")


def _header(message, *, sending, receiving, message_type, control_id):
    msh = message.msh
    msh.msh_3.hd_1 = sending[0]
    msh.msh_4.hd_1 = sending[1]
    msh.msh_5.hd_1 = receiving[0]
    msh.msh_6.hd_1 = receiving[1]
    msh.msh_7 = _timestamp()
    msh.msh_9 = message_type
    msh.msh_10 = ST(control_id)
    msh.msh_11 = "P"
    msh.msh_12 = VERSION


def order_message(*, order, performer, event, control_id):
    """The ORM^O01 placing (event NW) or cancelling (CA) `order` with `performer`."""
    patient = order.visit.patient
    message = Message("ORM_O01", version=VERSION)
    _header(
        message,
        sending=(performer.sending_application, performer.sending_facility),
        receiving=(performer.receiving_application, performer.receiving_facility),
        message_type="ORM^O01^ORM_O01",
        control_id=control_id,
    )
    pid = message.add_group("ORM_O01_PATIENT").pid
    pid.pid_1 = "1"
    pid.pid_3.cx_1 = ST(patient.mrn)
    pid.pid_3.cx_4.hd_1 = performer.sending_facility
    pid.pid_3.cx_5 = "MR"
    pid.pid_5.xpn_1.fn_1 = ST(patient.family_name)
    pid.pid_5.xpn_2 = ST(patient.given_name)
    pid.pid_7 = patient.date_of_birth.strftime("%Y%m%d")
    pid.pid_8 = SEXES.get(patient.sex_at_birth, "U")

    group = message.add_group("ORM_O01_ORDER")
    orc = group.orc
    orc.orc_1 = event
    _placer_number(orc.orc_2, order, performer)
    orc.orc_7.tq_6 = PRIORITIES[order.priority]
    orc.orc_9 = _timestamp(order.ordered_at)
    _provider(orc.orc_12, order.ordered_by)

    detail = group.add_group("ORM_O01_ORDER_DETAIL")
    obr = detail.add_group("ORM_O01_OBRRQDRQ1RXOODSODT_SUPPGRP").obr
    obr.obr_1 = "1"
    _placer_number(obr.obr_2, order, performer)
    if order.test_code:
        obr.obr_4.ce_1 = ST(order.test_code)
        obr.obr_4.ce_3 = CODE_SYSTEMS[order.test_code_system]
    obr.obr_4.ce_2 = ST(order.test_name)  # a test without a code is named, never coded
    obr.obr_13 = ST(order.reason)
    _body_site(obr.obr_15, order)
    _provider(obr.obr_16, order.ordered_by)
    if order.notes:
        detail.add_segment("NTE").nte_3 = FT(order.notes)
    return message.to_er7()


def _placer_number(element, order, performer):
    element.ei_1 = ST(order.placer_number)
    element.ei_2 = performer.sending_application


def _provider(element, user):
    element.xcn_1 = ST(user.get_username())
    element.xcn_2.fn_1 = ST(user.last_name)
    element.xcn_3 = ST(user.first_name)


def _body_site(sps, order):
    """OBR-15.4 the region or limb, OBR-15.5 the side (left, right, both)."""
    if order.body_site:
        sps.sps_4.cwe_1 = ST(order.body_site)
        sps.sps_4.cwe_2 = ST(order.get_body_site_display())
        sps.sps_4.cwe_3 = LOCAL_CODES
    elif order.limb:
        sps.sps_4.cwe_1 = ST(order.limb)
        sps.sps_4.cwe_2 = ST(order.get_limb_display())
        sps.sps_4.cwe_3 = LOCAL_CODES
    if order.side:
        code, text = SIDES[order.side]
        sps.sps_5.cwe_1 = code
        sps.sps_5.cwe_2 = text
        sps.sps_5.cwe_3 = "HL70495"


def read_ack(text, *, control_id):
    """The performer's answer to our message: (MSA-1 code, MSA-3 text). Raises
    MessageError if it is not an ACK of that message."""
    message = _parse(text)
    if message.msh.msh_9.msg_1.to_er7() != "ACK":
        raise MessageError("The answer was not an ACK.")
    msa = message.msa
    code = msa.msa_1.to_er7()
    if msa.msa_2.to_er7() != control_id:
        raise MessageError("The ACK answered another message.")
    if code not in {"AA", "AE", "AR", "CA", "CE", "CR"}:
        raise MessageError("The ACK had no acknowledgment code.")
    return code, unescape(msa.msa_3.to_er7())


def ack(*, header, code, text="", hl7_error=""):
    """Our ACK of a received message; `header` as `Header.read` found it."""
    message = Message("ACK", version=VERSION)
    _header(
        message,
        sending=(header.receiving_application, header.receiving_facility),
        receiving=(header.sending_application, header.sending_facility),
        message_type=f"ACK^{header.trigger_event or 'R01'}^ACK",
        control_id=new_control_id(),
    )
    message.msa.msa_1 = code
    message.msa.msa_2 = ST(header.control_id)
    if text:
        message.msa.msa_3 = ST(text[:80])
    if hl7_error:
        err = message.add_segment("ERR")
        err.err_3.cwe_1 = hl7_error
        err.err_3.cwe_3 = "HL70357"
        err.err_4 = "E"
        err.err_8 = TX(text)
    return message.to_er7()


@dataclass
class Header:
    """What MSH says of a message, read field by field so that even a message that does
    not parse gets an ACK addressed to its sender."""

    sending_application: str = ""
    sending_facility: str = ""
    receiving_application: str = ""
    receiving_facility: str = ""
    message_type: str = ""
    trigger_event: str = ""
    control_id: str = ""

    @classmethod
    def read(cls, text):
        first = text.split("\r", 1)[0]
        if not first.startswith("MSH") or len(first) < 8:
            return cls()
        separator, component = first[3], first[4]
        fields = first.split(separator)

        def part(index, position=0):
            values = fields[index].split(component) if index < len(fields) else []
            return unescape(values[position])[:50] if position < len(values) else ""

        # MSH-1 is the separator itself, so MSH-n is fields[n - 1].
        return cls(
            sending_application=part(2),
            sending_facility=part(3),
            receiving_application=part(4),
            receiving_facility=part(5),
            message_type="^".join(filter(None, [part(8), part(8, 1)]))[:20],
            trigger_event=part(8, 1),
            control_id=(fields[9] if len(fields) > 9 else "")[:199],
        )


@dataclass
class Observation:
    """One OBX: what was measured, its value and unit, and its abnormal flag."""

    name: str
    value_type: str
    value: str
    unit: str = ""
    flag: str = ""


@dataclass
class Result:
    """One order's result in an ORU^R01: its placer number and what was found."""

    placer_number: str
    placer_namespace: str
    patient_number: str = ""
    performed_at: str = ""
    observations: list = field(default_factory=list)
    notes: list = field(default_factory=list)

    @property
    def abnormal(self):
        """True if any observation is flagged other than normal, False if all are
        flagged normal, None if none is flagged."""
        flags = [observation.flag for observation in self.observations if observation.flag]
        if not flags:
            return None
        return any(flag not in NORMAL_FLAGS for flag in flags)

    @property
    def value_and_unit(self):
        """A single numeric observation with its unit is the result's value; otherwise
        there is none (the text says it all)."""
        if len(self.observations) != 1 or self.observations[0].value_type != "NM":
            return None, ""
        observation = self.observations[0]
        if not observation.unit:
            return None, ""
        try:
            value = Decimal(observation.value)
        except InvalidOperation:
            return None, ""
        return (value, observation.unit) if value.is_finite() else (None, "")

    @property
    def text(self):
        lines = []
        for observation in self.observations:
            line = observation.value
            if observation.name:
                line = f"{observation.name}: {line}"
            if observation.unit:
                line += f" {observation.unit}"
            if observation.flag and observation.flag not in NORMAL_FLAGS:
                line += f" ({observation.flag})"
            lines.append(line)
        return "\n".join(lines + self.notes)

    @property
    def performed_on(self):
        """OBR-7, the observation's date, as a date (or None)."""
        try:
            return datetime.datetime.strptime(self.performed_at[:8], "%Y%m%d").date()
        except ValueError:
            return None


def read_results(text):
    """The results in an ORU^R01, one per order observation group. Raises MessageError
    for a message that is not a readable ORU^R01 with at least one result."""
    message = _parse(text)
    if message.msh.msh_9.msg_1.to_er7() != "ORU" or message.msh.msh_9.msg_2.to_er7() != "R01":
        raise MessageError("Only ORU^R01 results are received here.", code="AR", hl7_error="200")
    results = []
    for patient_result in message.children.get("ORU_R01_PATIENT_RESULT"):
        patient_number = ""
        for patient in patient_result.children.get("ORU_R01_PATIENT"):
            patient_number = unescape(patient.pid.pid_3.cx_1.to_er7())
        for group in patient_result.children.get("ORU_R01_ORDER_OBSERVATION"):
            results.append(_result(group, patient_number))
    if not results:
        raise MessageError("The message holds no result (no OBR).", hl7_error="100")
    return results


def _result(group, patient_number):
    obr = group.obr
    placer = obr.obr_2 if obr.obr_2.to_er7() else group.orc.orc_2
    number = unescape(placer.ei_1.to_er7())
    if not number:
        raise MessageError("A result has no placer order number (OBR-2 or ORC-2).", hl7_error="101")
    result = Result(
        placer_number=number,
        placer_namespace=unescape(placer.ei_2.to_er7()),
        patient_number=patient_number,
        performed_at=obr.obr_7.to_er7(),
        notes=[unescape(nte.nte_3.to_er7()) for nte in group.children.get("NTE")],
    )
    for observation in group.children.get("ORU_R01_OBSERVATION"):
        obx = observation.obx
        result.observations.append(
            Observation(
                name=unescape(obx.obx_3.ce_2.to_er7() or obx.obx_3.ce_1.to_er7()),
                value_type=obx.obx_2.to_er7(),
                value=unescape(obx.obx_5.to_er7()),
                unit=unescape(obx.obx_6.ce_1.to_er7()),
                flag=obx.obx_8.to_er7(),
            )
        )
        result.notes += [unescape(nte.nte_3.to_er7()) for nte in observation.children.get("NTE")]
    if not result.observations:
        raise MessageError(f"The result for order {number} has no OBX.", hl7_error="101")
    return result


def _parse(text):
    try:
        return parse_message(text, find_groups=True, validation_level=VALIDATION_LEVEL.TOLERANT)
    except (HL7apyException, ValueError, IndexError, KeyError, AttributeError) as error:
        raise MessageError(
            f"The message could not be read as HL7 v2 ({type(error).__name__}).",
            code="AR",
            hl7_error="102",
        ) from error


_ESCAPES = {"F": "|", "S": "^", "T": "&", "R": "~", "E": "\\", ".br": "\n"}


def unescape(value):
    """A field's text with HL7's escape sequences (\\F\\, \\S\\, ...) turned back."""
    return re.sub(r"\\(F|S|T|R|E|\.br|H|N)\\", lambda match: _ESCAPES.get(match[1], ""), value)
