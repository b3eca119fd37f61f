"""Decode request bodies into upstream's Go structs the way `encoding/json` does.

golang/go src/encoding/json/decode.go (as upstream's handlers call it): `null` leaves a
value unchanged, unknown keys are ignored, each key picks its field by exact then
case-insensitive name (the last key wins), a value of the wrong type is skipped and the
first such `UnmarshalTypeError` is returned after the whole value is decoded; numbers are
converted from their literal (`number 1e20` overflows int64, `number 1e39` float32).
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass, field
from typing import Any

from ._errors import BAD_REQUEST_BODY, ApiError
from ._gojson import Float32, Number, Object, SyntaxError_, parse, to_float32

SCALARS = ("string", "bool", "int64", "int", "float32")


@dataclass(frozen=True)
class Field:
    """A struct field: its JSON key and Go type (a scalar name or a nested struct)."""

    key: str
    go_type: str
    struct: Struct | None = None


@dataclass(frozen=True)
class Struct:
    """A Go struct type: `name` is what errors print before the field path."""

    name: str
    go_type: str
    fields: tuple[Field, ...] = field(default=())

    def find(self, key: str) -> Field | None:
        """The field a JSON key lands in: exact name first, then case-insensitive."""
        for candidate in self.fields:
            if candidate.key == key:
                return candidate
        folded = key.casefold()  # Go folds Unicode too (U+017F long s is "s")
        for candidate in self.fields:
            if candidate.key.casefold() == folded:
                return candidate
        return None


def read_json(raw: bytes) -> Any:
    """The body's first JSON value, or 400 `bad request body: <Go's syntax error>`."""
    try:
        return parse(raw)
    except SyntaxError_ as exc:
        raise BAD_REQUEST_BODY.joined(str(exc)) from None


def kind_of(value: Any) -> str:
    """How Go names a JSON value in a type error."""
    if isinstance(value, Object):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, Number):
        return "number"
    return "string"


class _Decoder:
    def __init__(self) -> None:
        self.error: ApiError | None = None

    def save(self, value: str, struct: str, path: tuple[str, ...], go_type: str) -> None:
        if self.error is not None:
            return
        where = f"Go struct field {struct}.{'.'.join(path)}" if path else "Go value"
        self.error = BAD_REQUEST_BODY.joined(
            f"json: cannot unmarshal {value} into {where} of type {go_type}"
        )

    def struct(
        self,
        value: Any,
        spec: Struct,
        target: MutableMapping[str, Any],
        path: tuple[str, ...],
        outer: str,
    ) -> None:
        if value is None:
            return
        if not isinstance(value, Object):
            self.save(kind_of(value), outer, path, spec.go_type)
            return
        for key, item in value:
            found = spec.find(key)
            if found is not None:
                self.field(item, found, target, spec.name, (*path, found.key))

    def field(
        self,
        value: Any,
        spec: Field,
        target: MutableMapping[str, Any],
        struct: str,
        path: tuple[str, ...],
    ) -> None:
        if value is None:
            return
        if spec.struct is not None:
            nested = target.setdefault(spec.key, {})
            self.struct(value, spec.struct, nested, path, struct)
            return
        converted = convert(value, spec.go_type)
        if converted is None:
            shown = kind_of(value)
            if isinstance(value, Number) and spec.go_type != "string" and spec.go_type != "bool":
                shown = f"number {value}"
            self.save(shown, struct, path, spec.go_type)
            return
        target[spec.key] = converted


def convert(value: Any, go_type: str) -> Any:
    """A JSON value as a Go scalar of `go_type`, or None when Go refuses it."""
    if go_type == "string":
        return value if isinstance(value, str) and not isinstance(value, Number) else None
    if go_type == "bool":
        return value if isinstance(value, bool) else None
    if not isinstance(value, Number):
        return None
    if go_type == "float32":
        rounded = to_float32(float(value))
        return None if rounded is None else Float32(rounded)
    digits = value[1:] if value.startswith("-") else value
    if not digits.isdigit():
        return None
    number = int(value)
    return number if -(2**63) <= number < 2**63 else None


def decode(value: Any, spec: Struct, target: MutableMapping[str, Any]) -> None:
    """Decode a parsed value into `target` (fields of `spec`), in place like Go.

    Raises the first type error after decoding everything else, as Go does.
    """
    decoder = _Decoder()
    decoder.struct(value, spec, target, (), "")
    if decoder.error is not None:
        raise decoder.error


def decode_list(value: Any, spec: Struct, list_type: str) -> list[dict[str, Any]] | None:
    """Decode a JSON array of `spec` structs (None for `null`, as Go leaves a nil slice)."""
    if value is None:
        return None
    decoder = _Decoder()
    if not isinstance(value, list) or isinstance(value, Object):
        decoder.save(kind_of(value), "", (), list_type)
        raise decoder.error  # type: ignore[misc]
    items: list[dict[str, Any]] = []
    for item in value:
        target: dict[str, Any] = {}
        decoder.struct(item, spec, target, (), "")
        items.append(target)
    if decoder.error is not None:
        raise decoder.error
    return items
