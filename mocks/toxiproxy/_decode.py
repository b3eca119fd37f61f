"""Decode request bodies the way Go's `encoding/json` does for upstream's structs.

Mimicked: only the first JSON value is read (trailing bytes ignored), unknown keys are
ignored, `null` leaves a field unchanged, keys match case-insensitively when no exact key
exists, and type mismatches give `json: cannot unmarshal <kind> into Go struct field ...`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ._errors import BAD_REQUEST_BODY, ApiError

_DECODER = json.JSONDecoder()
_WS = " \t\r\n"


def first_value(raw: bytes) -> Any:
    """Parse the first JSON value of `raw` or raise `bad request body: ...` (400)."""
    text = raw.decode("utf-8", errors="replace")
    start = len(text) - len(text.lstrip(_WS))
    if start == len(text):
        raise BAD_REQUEST_BODY.joined("EOF")
    try:
        value, _end = _DECODER.raw_decode(text, start)
    except json.JSONDecodeError as exc:
        if exc.pos >= len(text.rstrip(_WS)):
            raise BAD_REQUEST_BODY.joined("unexpected EOF") from None
        char = text[exc.pos]
        raise BAD_REQUEST_BODY.joined(
            f"invalid character {char!r} looking for beginning of value"
        ) from None
    return value


def kind_of(value: Any) -> str:
    """Go's description of a JSON value in type errors."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return f"number {value}" if isinstance(value, float) else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def type_error(value: Any, where: str, go_type: str) -> ApiError:
    """`bad request body: json: cannot unmarshal ...` for a value of the wrong type."""
    return BAD_REQUEST_BODY.joined(
        f"json: cannot unmarshal {kind_of(value)} into {where} of type {go_type}"
    )


def require_object(value: Any, go_type: str) -> Mapping[str, Any]:
    """The top-level value must be a JSON object (Go struct)."""
    if not isinstance(value, dict):
        raise type_error(value, "Go value", go_type)
    return value


def lookup(obj: Mapping[str, Any], key: str) -> Any:
    """Value for `key`: exact match first, then case-insensitive, else None."""
    if key in obj:
        return obj[key]
    lowered = key.lower()
    for name, value in obj.items():
        if name.lower() == lowered:
            return value
    return None


def get_str(obj: Mapping[str, Any], key: str, struct: str, default: str) -> str:
    """A Go `string` field."""
    value = lookup(obj, key)
    if value is None:
        return default
    if not isinstance(value, str):
        raise type_error(value, f"Go struct field {struct}.{key}", "string")
    return value


def get_bool(obj: Mapping[str, Any], key: str, struct: str, default: bool) -> bool:
    """A Go `bool` field."""
    value = lookup(obj, key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise type_error(value, f"Go struct field {struct}.{key}", "bool")
    return value


def get_int(obj: Mapping[str, Any], key: str, struct: str, default: int, go_type: str) -> int:
    """A Go integer field (`int`/`int64`): floats and other kinds are rejected."""
    value = lookup(obj, key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise type_error(value, f"Go struct field {struct}.{key}", go_type)
    return value


def get_float(obj: Mapping[str, Any], key: str, struct: str, default: float) -> float:
    """A Go `float32` field."""
    value = lookup(obj, key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise type_error(value, f"Go struct field {struct}.{key}", "float32")
    return float(value)


def go_json(value: Any) -> bytes:
    """Serialise like Go's `json.Marshal`: compact, HTML characters escaped."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return text.encode()


def go_float(value: float) -> float | int:
    """Go prints whole floats without a fraction (`1`, not `1.0`)."""
    return int(value) if value == int(value) and abs(value) < 1e21 else value
