"""Go's `encoding/json` as upstream's handlers meet it: Decoder.Decode and json.Marshal.

`parse` reads the first JSON value like `json.NewDecoder(body).Decode` (trailing bytes
ignored) and words syntax errors as Go's scanner does (golang/go, src/encoding/json/scanner.go).
Numbers keep their literal text (`Number`), objects keep every key in order (`Object`), so
struct decoding (`_decode`) can reproduce Go's type errors and last-key-wins semantics.
`marshal` writes values as `json.Marshal` does (HTML characters escaped, float32 shortest form).
"""

from __future__ import annotations

import math
import struct
from decimal import Decimal
from typing import Any

_WS = b" \t\r\n"
_ESCAPES = {ord('"'): '"', ord("\\"): "\\", ord("/"): "/", ord("b"): "\b", ord("f"): "\f",
            ord("n"): "\n", ord("r"): "\r", ord("t"): "\t"}  # fmt: skip
_HEX = b"0123456789abcdefABCDEF"
_DIGITS = b"0123456789"


class Number(str):
    """A JSON number as written (Go converts the literal per target type)."""


class Object(list[tuple[str, Any]]):
    """A JSON object: its (key, value) pairs in order, duplicates kept."""


class Float32(float):
    """A float32 value; `marshal` writes it the way Go writes a float32."""


class SyntaxError_(Exception):
    """A Go decoder error text (`invalid character ...`, `unexpected EOF`, `EOF`)."""


def quote_char(byte: int) -> str:
    """Go's scanner quoteChar: `'x'`, with Go escapes for special bytes."""
    if byte == ord("'"):
        return "'\\''"
    if byte == ord('"'):
        return "'\"'"
    char = chr(byte)  # Go converts the byte to a rune, so 0xEF prints as 'ï'
    named = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t",
             "\v": "\\v", "\\": "\\\\"}  # fmt: skip
    if char in named:
        return f"'{named[char]}'"
    if byte < 0x20 or byte == 0x7F:
        return f"'\\x{byte:02x}'"
    if 0x80 <= byte < 0xA0:
        return f"'\\u{byte:04x}'"
    return f"'{char}'"


class _Parser:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def fail(self, context: str) -> SyntaxError_:
        if self.pos >= len(self.data):
            return SyntaxError_("unexpected EOF")
        return SyntaxError_(f"invalid character {quote_char(self.data[self.pos])} {context}")

    def peek(self) -> int | None:
        return self.data[self.pos] if self.pos < len(self.data) else None

    def skip_ws(self) -> None:
        while self.pos < len(self.data) and self.data[self.pos] in _WS:
            self.pos += 1

    def value(self) -> Any:
        self.skip_ws()
        char = self.peek()
        if char == ord("{"):
            return self.object()
        if char == ord("["):
            return self.array()
        if char == ord('"'):
            return self.string()
        if char is not None and (char == ord("-") or char in _DIGITS):
            return self.number()
        for word, result in (("true", True), ("false", False), ("null", None)):
            if char == ord(word[0]):
                return self.literal(word, result)
        raise self.fail("looking for beginning of value")

    def literal(self, word: str, result: Any) -> Any:
        for expected in word[1:]:
            self.pos += 1
            if self.peek() != ord(expected):
                raise self.fail(f"in literal {word} (expecting '{expected}')")
        self.pos += 1
        return result

    def at_digit(self) -> bool:
        char = self.peek()
        return char is not None and char in _DIGITS

    def digits(self) -> int:
        start = self.pos
        while self.at_digit():
            self.pos += 1
        return self.pos - start

    def number(self) -> Number:
        start = self.pos
        if self.peek() == ord("-"):
            self.pos += 1
            if not self.at_digit():
                raise self.fail("in numeric literal")
        if self.peek() == ord("0"):
            self.pos += 1
        else:
            self.digits()
        if self.peek() == ord("."):
            self.pos += 1
            if not self.digits():
                raise self.fail("after decimal point in numeric literal")
        if self.peek() in (ord("e"), ord("E")):
            self.pos += 1
            if self.peek() in (ord("+"), ord("-")):
                self.pos += 1
            if not self.digits():
                raise self.fail("in exponent of numeric literal")
        return Number(self.data[start : self.pos].decode())

    def string(self) -> str:
        self.pos += 1
        out: list[str] = []
        raw = bytearray()
        while True:
            char = self.peek()
            if char is None:
                raise self.fail("")
            if char == ord('"'):
                self.pos += 1
                out.append(raw.decode("utf-8", errors="replace"))
                return "".join(out)
            if char < 0x20:
                raise self.fail("in string literal")
            if char != ord("\\"):
                raw.append(char)
                self.pos += 1
                continue
            out.append(raw.decode("utf-8", errors="replace"))
            raw = bytearray()
            self.pos += 1
            code = self.peek()
            if code is None:
                raise self.fail("")
            if code in _ESCAPES:
                out.append(_ESCAPES[code])
                self.pos += 1
            elif code == ord("u"):
                out.append(chr(self.hex4()))
            else:
                raise self.fail("in string escape code")
        # unreachable

    def hex4(self) -> int:
        self.pos += 1
        start = self.pos
        for _ in range(4):
            char = self.peek()
            if char is None or char not in _HEX:
                raise self.fail("in \\u hexadecimal character escape")
            self.pos += 1
        return int(self.data[start : self.pos], 16)

    def object(self) -> Object:
        self.pos += 1
        pairs = Object()
        self.skip_ws()
        if self.peek() == ord("}"):
            self.pos += 1
            return pairs
        while True:
            self.skip_ws()
            if self.peek() != ord('"'):
                raise self.fail("looking for beginning of object key string")
            key = self.string()
            self.skip_ws()
            if self.peek() != ord(":"):
                raise self.fail("after object key")
            self.pos += 1
            pairs.append((key, self.value()))
            self.skip_ws()
            if self.peek() == ord(","):
                self.pos += 1
                continue
            if self.peek() == ord("}"):
                self.pos += 1
                return pairs
            raise self.fail("after object key:value pair")

    def array(self) -> list[Any]:
        self.pos += 1
        items: list[Any] = []
        self.skip_ws()
        if self.peek() == ord("]"):
            self.pos += 1
            return items
        while True:
            items.append(self.value())
            self.skip_ws()
            if self.peek() == ord(","):
                self.pos += 1
                continue
            if self.peek() == ord("]"):
                self.pos += 1
                return items
            raise self.fail("after array element")


def parse(data: bytes) -> Any:
    """The first JSON value of `data`; raise `SyntaxError_` with Go's wording."""
    parser = _Parser(data)
    parser.skip_ws()
    if parser.peek() is None:
        raise SyntaxError_("EOF")
    value = parser.value()
    return _surrogates(value)


def _surrogates(value: Any) -> Any:
    """Go turns lone UTF-16 surrogates into U+FFFD and joins valid pairs."""
    if isinstance(value, str) and not isinstance(value, Number):
        fixed = value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
        return fixed
    if isinstance(value, Object):
        return Object((_surrogates(k), _surrogates(v)) for k, v in value)
    if isinstance(value, list):
        return [_surrogates(v) for v in value]
    return value


def to_float32(value: float) -> float | None:
    """`value` rounded to float32, or None when it overflows (Go's ErrRange)."""
    if math.isinf(value) or math.isnan(value):
        return None
    try:
        rounded = float(struct.unpack("f", struct.pack("f", value))[0])
    except OverflowError:
        return None
    return None if math.isinf(rounded) else rounded


def format_float32(value: float) -> str:
    """strconv.FormatFloat(v, 'f' or 'e', -1, 32) as encoding/json picks and trims it."""
    if value == 0:
        return "-0" if math.copysign(1, value) < 0 else "0"
    for precision in range(1, 10):
        text = f"{value:.{precision - 1}e}"
        if to_float32(float(text)) == value:
            break
    magnitude = abs(value)
    if magnitude < 1e-6 or magnitude >= 1e21:
        mantissa, _, exponent = text.partition("e")
        sign, digits = exponent[0], exponent[1:].lstrip("0") or "0"
        if sign == "-" or len(digits) >= 2:
            return f"{mantissa}e{sign}{digits}"
        return f"{mantissa}e{sign}{digits.zfill(2)}"
    return format(Decimal(text), "f")


def _string(text: str) -> str:
    out = ['"']
    for char in text:
        code = ord(char)
        if char == '"':
            out.append('\\"')
        elif char == "\\":
            out.append("\\\\")
        elif char == "\n":
            out.append("\\n")
        elif char == "\r":
            out.append("\\r")
        elif char == "\t":
            out.append("\\t")
        elif char == "\b":  # Go 1.22+ (v2.12.0 is built with 1.23); older Go wrote \u0008
            out.append("\\b")
        elif char == "\f":
            out.append("\\f")
        elif code < 0x20 or char in "<>&\u2028\u2029":
            out.append(f"\\u{code:04x}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def marshal(value: Any) -> str:
    """json.Marshal: compact; dict keys in the order given."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, Float32):
        return format_float32(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format(Decimal(repr(value)), "f") if value == int(value) else repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{_string(k)}:{marshal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(marshal(v) for v in value) + "]"
    raise TypeError(f"cannot marshal {type(value).__name__}")
