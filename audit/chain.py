"""The hash chain that makes the audit trail tamper-evident, and the check that walks it.

Each event stores the hash of the event before it (`prev_hash`) and its own `hash`: SHA-256
over a canonical serialisation of its stored fields and `prev_hash`. Ids order the chain:
appends are serialised (see `AuditEvent` in models.py), so the event with the next id is
always the one chained after the last. The first event follows `GENESIS`.

The serialisation is a contract with every event already stored: change it and the
existing trail no longer verifies.
"""

import datetime
import hashlib
import json
from dataclasses import dataclass

GENESIS = "0" * 64

# The stored fields an event's hash covers, besides prev_hash. Not the id: the chain's
# links are what order it, and an event is hashed before the database gives it an id.
HASHED_FIELDS = (
    "at",
    "actor_id",
    "actor_label",
    "action",
    "record_type",
    "record_id",
    "patient_id",
    "remote_addr",
    "detail",
)


def canonical(fields):
    """The bytes an event's hash is taken over: its fields exactly as they read back from
    either database (the time in UTC with microseconds, JSON with sorted keys)."""
    document = {name: fields[name] for name in (*HASHED_FIELDS, "prev_hash")}
    document["at"] = fields["at"].astimezone(datetime.UTC).isoformat(timespec="microseconds")
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def event_hash(fields):
    """The hash of an event given its hashed fields and prev_hash (a mapping)."""
    return hashlib.sha256(canonical(fields)).hexdigest()


def fields_of(event):
    """The hashed fields and prev_hash of a model instance (current or historical)."""
    return {name: getattr(event, name) for name in (*HASHED_FIELDS, "prev_hash")}


class BrokenChain(Exception):
    """The trail is not what was appended: the message names the first event at fault."""


@dataclass(frozen=True)
class Summary:
    count: int
    last_id: int | None
    last_hash: str


def check(events, *, id_with_hash):
    """Walk `events` (mappings of id, hash, prev_hash and the hashed fields, in id order)
    and return a Summary, or raise BrokenChain naming the first event altered, removed or
    inserted out of order. Holds two events and one ahead, whatever the trail's length.

    `id_with_hash(hash)` finds the id of the event with that hash, or None; it is asked
    only once the chain is found broken, to say where a stray event claims to belong.
    """
    count = 0
    before = previous = None
    for event, following in _with_next(events):
        if event_hash(event) != event["hash"]:
            raise BrokenChain(
                f"Event {event['id']} was altered: its hash does not match its content."
            )
        if event["prev_hash"] != (previous["hash"] if previous else GENESIS):
            raise BrokenChain(_describe_break(before, previous, event, following, id_with_hash))
        before, previous = previous, event
        count += 1
    if previous is None:
        return Summary(0, None, GENESIS)
    return Summary(count, previous["id"], previous["hash"])


def _describe_break(before, previous, event, following, id_with_hash):
    """Why `event` does not follow `previous`, from its neighbours and what it claims."""
    number = event["id"]
    if previous is not None and following and following["prev_hash"] == previous["hash"]:
        return (
            f"Event {number} was inserted out of order: it does not follow event "
            f"{previous['id']}, and the event after it (event {following['id']}) does."
        )
    parent = before["hash"] if before else GENESIS
    if previous is not None and event["prev_hash"] == parent:
        # A fork: the chain alone cannot say which of the two is genuine.
        start = f"event {before['id']}" if before else "the start of the trail"
        return (
            f"Events {previous['id']} and {number} both follow {start}: "
            "one of them was inserted out of order."
        )
    claimed = id_with_hash(event["prev_hash"])
    if claimed is not None:
        where = f"not event {previous['id']} before it" if previous else "but comes first"
        return f"Event {number} was inserted out of order: it follows event {claimed}, {where}."
    if previous is None:
        return f"Events were removed before event {number}, the first left in the trail."
    return (
        f"Events were removed between event {previous['id']} and event {number}, or event "
        f"{previous['id']} was rewritten with a new hash: event {number} does not follow it."
    )


def _with_next(iterable):
    """Each item with the one after it (None after the last)."""
    iterator = iter(iterable)
    current = next(iterator, None)
    while current is not None:
        following = next(iterator, None)
        yield current, following
        current = following
