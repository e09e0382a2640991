"""Size limits every request meets before anything else looks at it.

These are the coarse outer bounds, walked generically over the request message so that a field added to
the contract later is covered too; the service's own rules (ids, provider field patterns, labels) are
stricter. The whole message is bounded by gRPC itself (`grpc.max_receive_message_length`): a larger one
is answered RESOURCE_EXHAUSTED before it is read.
"""

from __future__ import annotations

from collections.abc import Sequence

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from credvault.domain.errors import FieldViolation, InvalidArgumentError

MAX_REQUEST_BYTES = 64 * 1024
MAX_STRING = 4096
"""Characters in any string field or map value."""
MAX_MAP_ENTRIES = 64
MAX_KEY = 128
"""Characters in a map key."""
MAX_REPEATED = 16


def check_request(message: Message) -> None:
    """Raises InvalidArgumentError naming every field over its limit."""
    violations = _violations(message, "")
    if violations:
        raise InvalidArgumentError(violations)


def _violations(message: Message, prefix: str) -> list[FieldViolation]:
    found: list[FieldViolation] = []
    for field, value in message.ListFields():
        path = prefix + field.name
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            found += _map_violations(path, value)
        elif isinstance(value, Sequence) and not isinstance(value, str):
            if len(value) > MAX_REPEATED:
                found.append(FieldViolation(path, f"at most {MAX_REPEATED} entries"))
            elif field.type == FieldDescriptor.TYPE_STRING and any(len(v) > MAX_STRING for v in value):
                found.append(FieldViolation(path, f"each at most {MAX_STRING} characters"))
            elif field.type == FieldDescriptor.TYPE_MESSAGE:
                for index, item in enumerate(value):
                    found += _violations(item, f"{path}[{index}].")
        elif field.type == FieldDescriptor.TYPE_STRING and len(value) > MAX_STRING:
            found.append(FieldViolation(path, f"at most {MAX_STRING} characters"))
        elif field.type == FieldDescriptor.TYPE_MESSAGE:
            found += _violations(value, f"{path}.")
    return found


def _map_violations(path: str, entries: dict[object, object]) -> list[FieldViolation]:
    if len(entries) > MAX_MAP_ENTRIES:
        return [FieldViolation(path, f"at most {MAX_MAP_ENTRIES} entries")]
    if any(isinstance(k, str) and len(k) > MAX_KEY for k in entries):
        return [FieldViolation(path, f"keys are at most {MAX_KEY} characters")]
    if any(isinstance(v, str) and len(v) > MAX_STRING for v in entries.values()):
        return [FieldViolation(path, f"values are at most {MAX_STRING} characters")]
    return []
