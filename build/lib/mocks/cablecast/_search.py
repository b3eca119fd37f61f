"""`POST shows/search/advanced`: evaluate a savedShowSearch over the namespace's shows.

Within a group the filters combine with the group's `orAnd` ("and"/"or"); groups combine with
AND. `sortOptions` sort the result ids. Unknown fields or operators are rejected with 400.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ._http import ApiError
from ._store import Record

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2})?)?")

SEARCHABLE = (
    *("id", "title", "cgTitle", "comments", "eventDate", "lastModified", "category"),
    *("producer", "project", "location", "cgExempt"),
    *(f"custom{n}" for n in range(1, 9)),
)


def _norm(value: Any) -> Any:
    if isinstance(value, str):
        match = _DATE.match(value)
        if match:
            text = match.group(0)
            return text + ("T00:00:00" if len(text) == 10 else ":00" if len(text) == 16 else "")
        return value.lower()
    return value


def _coerce(field_value: Any, search_value: Any) -> tuple[Any, Any]:
    if isinstance(field_value, bool):
        return field_value, str(search_value).lower() in ("true", "1")
    if isinstance(field_value, int):
        try:
            return field_value, int(search_value)
        except (TypeError, ValueError):
            raise ApiError(400, f"searchValue '{search_value}' is not a number.") from None
    return _norm("" if field_value is None else str(field_value)), _norm(str(search_value))


_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "equals": lambda a, b: a == b,
    "notequal": lambda a, b: a != b,
    "notequals": lambda a, b: a != b,
    "contains": lambda a, b: str(b) in str(a),
    "doesnotcontain": lambda a, b: str(b) not in str(a),
    "startswith": lambda a, b: str(a).startswith(str(b)),
    "greaterthan": lambda a, b: a > b,
    "lessthan": lambda a, b: a < b,
    "greaterthanorequal": lambda a, b: a >= b,
    "greaterthanorequalto": lambda a, b: a >= b,
    "lessthanorequal": lambda a, b: a <= b,
    "lessthanorequalto": lambda a, b: a <= b,
}


def _matches(show: Record, flt: dict[str, Any]) -> bool:
    field = flt.get("field")
    op = str(flt.get("operator", "")).lower()
    if field not in SEARCHABLE:
        raise ApiError(400, f"Unknown search field '{field}'.")
    if op not in _OPS:
        raise ApiError(400, f"Unknown search operator '{flt.get('operator')}'.")
    left, right = _coerce(show.get(field), flt.get("searchValue"))
    return _OPS[op](left, right)


def _sort_key(field: str) -> Callable[[Record], Any]:
    def key(show: Record) -> Any:
        value = show.get(field)
        return "" if value is None else _norm(value)

    return key


def run_search(body: Any, shows: list[Record]) -> dict[str, Any]:
    """Validate a `{"savedShowSearch": {...}}` body and return it with `results` filled in."""
    search = body.get("savedShowSearch") if isinstance(body, dict) else None
    query = search.get("query") if isinstance(search, dict) else None
    if not isinstance(search, dict) or not isinstance(query, dict):
        raise ApiError(400, 'Body must be {"savedShowSearch": {"query": {...}}}.')
    groups = query.get("groups") or []
    sort_options = query.get("sortOptions") or []
    if not isinstance(groups, list) or not isinstance(sort_options, list):
        raise ApiError(400, "query.groups and query.sortOptions must be arrays.")
    hits: list[Record] = []
    for show in shows:
        ok = True
        for group in groups:
            filters = group.get("filters") if isinstance(group, dict) else None
            if not isinstance(filters, list):
                raise ApiError(400, "Each group needs a filters array.")
            results = [_matches(show, f) if isinstance(f, dict) else False for f in filters]
            if str(group.get("orAnd", "and")).lower() == "or":
                ok = ok and (any(results) or not results)
            else:
                ok = ok and all(results)
        if ok:
            hits.append(show)
    for option in reversed(sort_options):
        field = option.get("field") if isinstance(option, dict) else None
        if field not in SEARCHABLE:
            raise ApiError(400, f"Unknown sort field '{field}'.")
        hits.sort(key=_sort_key(str(field)), reverse=bool(option.get("descending")))
    return {
        "id": search.get("id", 0),
        "name": search.get("name", ""),
        "query": query,
        "results": [show["id"] for show in hits],
    }
