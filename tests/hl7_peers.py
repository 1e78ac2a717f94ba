"""The other ends of the HL7 v2 interface, on real sockets on this machine: a performer
that answers orders (or refuses them, or never answers), and our own listener run in a
thread, with a sender of results to it."""

import socket
import threading

from hl7v2 import messages, mllp, receiving


class Performer:
    """A lab's system on a free port: it keeps each message it is sent and answers with
    an ACK of `code` (AA accepts, AE and AR refuse)."""

    def __init__(self, code="AA", text=""):
        self.code, self.text = code, text
        self.received = []
        self.server = mllp.Server(("127.0.0.1", 0), self.respond, idle_timeout=2)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def respond(self, text):
        self.received.append(text)
        header = messages.Header.read(text)
        return messages.ack(header=header, code=self.code, text=self.text)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class SilentPerformer:
    """A port that takes the connection and the message, and never answers."""

    def __init__(self):
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]

    def stop(self):
        self.socket.close()


def closed_port():
    """A port nothing listens on: connecting is refused."""
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return probe.getsockname()[1]


class Listener:
    """manage.py hl7_listener's server, on a free port in a thread."""

    def __init__(self):
        self.server = receiving.listener("127.0.0.1", 0)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def send(self, text):
        """Send one message as a lab would and return the ACK it got back, read."""
        answer = mllp.exchange("127.0.0.1", self.port, text, connect_timeout=2, answer_timeout=10)
        return answer

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def ack_of(answer):
    """(MSA-1, MSA-2, MSA-3) of an ACK, read by splitting, independent of our reader."""
    segments = {line.split("|")[0]: line.split("|") for line in answer.split("\r") if line}
    msa = segments["MSA"] + ["", "", ""]
    return msa[1], msa[2], msa[3]


def oru(
    *,
    control_id="LAB0001",
    placer="1",
    mrn="",
    observations=("NM|2951-2^Sodium^LN||139|mmol/L|135-145|N",),
    performed="",
    sender="CITYLAB",
):
    """An ORU^R01 as a lab sends it: one order's result, one OBX per observation."""
    lines = [
        f"MSH|^~\\&|{sender}|{sender}|CLINIC_INTAKE|CLINIC|20261130120000||ORU^R01^ORU_R01|"
        f"{control_id}|P|2.5.1",
        f"PID|1||{mrn}^^^CLINIC^MR||Testperson^Synthetic",
        f"ORC|RE|{placer}^CLINIC_INTAKE|L{placer}^{sender}",
        f"OBR|1|{placer}^CLINIC_INTAKE|L{placer}^{sender}|2951-2^Sodium^LN|||{performed}",
    ]
    lines += [_obx(number, fields) for number, fields in enumerate(observations, 1)]
    return "\r".join(lines)


def _obx(number, fields):
    """OBX-2 to OBX-8 as given (value type to abnormal flag), and OBX-11 final."""
    fields = fields.split("|")
    fields += [""] * (7 - len(fields))
    return "|".join(["OBX", str(number), *fields, "", "", "F"])
