"""MLLP, the framing HL7 v2 travels in over TCP: each message between a 0x0b byte and
0x1c 0x0d. The client sends one message and waits for the answer; the server reads
message after message on a connection and answers each."""

import logging
import socket
import socketserver
import sys

START = b"\x0b"
END = b"\x1c\x0d"
logger = logging.getLogger(__name__)
# A frame longer than this is not a lab result: the connection is dropped.
MAX_FRAME_BYTES = 2 * 1024 * 1024


class NoAnswer(Exception):
    """The other side closed the connection, or sent something that is not a frame."""


def frame(text):
    return START + text.encode("utf-8") + END


def read_frame(stream):
    """The next message on a binary stream, as text; None when the stream ends between
    frames. Bytes before a frame's start are skipped, as MLLP allows."""
    while True:
        byte = stream.read(1)
        if not byte:
            return None
        if byte == START:
            break
    data = bytearray()
    while not data.endswith(END):
        byte = stream.read(1)
        if not byte:
            raise NoAnswer("The connection closed in the middle of a message.")
        data += byte
        if len(data) > MAX_FRAME_BYTES:
            raise NoAnswer("The message was too long.")
    payload = bytes(data[: -len(END)])
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError:
        return payload.decode("latin-1")  # HL7's default character set before Unicode


def exchange(host, port, text, *, connect_timeout, answer_timeout):
    """Send `text` and return the answer's text. Raises OSError (refused, unreachable,
    timed out) or NoAnswer."""
    with socket.create_connection((host, port), timeout=connect_timeout) as connection:
        connection.settimeout(answer_timeout)
        connection.sendall(frame(text))
        with connection.makefile("rb") as stream:
            answer = read_frame(stream)
    if answer is None:
        raise NoAnswer("The connection closed without an answer.")
    return answer


class Server(socketserver.ThreadingTCPServer):
    """Answers each message with `respond(text) -> text`, one thread per connection.

    `on_connection_end` runs in the connection's thread when it ends (the listener closes
    its database connection there)."""

    allow_reuse_address = True
    daemon_threads = True

    def __init__(self, address, respond, *, idle_timeout, on_connection_end=None):
        self.respond = respond
        self.idle_timeout = idle_timeout
        self.on_connection_end = on_connection_end
        super().__init__(address, _Connection)

    def handle_error(self, request, client_address):
        # The sender gets no ACK and sends again. The error's kind only: its text (a
        # database error quoting values) could carry patient data.
        logger.error("HL7 connection ended by an error: %s", sys.exception().__class__.__name__)


class _Connection(socketserver.StreamRequestHandler):
    def setup(self):
        self.timeout = self.server.idle_timeout
        super().setup()

    def handle(self):
        try:
            while (text := read_frame(self.rfile)) is not None:
                self.wfile.write(frame(self.server.respond(text)))
                self.wfile.flush()
        except (NoAnswer, OSError):
            pass  # a sender that hangs up or goes quiet is the sender's to retry
        finally:
            if self.server.on_connection_end:
                self.server.on_connection_end()
