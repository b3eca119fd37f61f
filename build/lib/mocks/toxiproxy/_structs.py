"""Upstream's request structs as `encoding/json` sees them (names print in its errors).

Shopify/toxiproxy v2.12.0: `Proxy` (proxy.go; its untagged `Logger *zerolog.Logger` field is
decoded too), `ToxicWrapper` (toxics/toxic.go), the anonymous structs of
`ProxyCollection.PopulateJson` (proxy_collection.go) and of `AddToxicJson` /
`UpdateToxicJson` (toxic_collection.go).
"""

from __future__ import annotations

from ._decode import Field, Struct

_PROXY_FIELDS = (
    Field("name", "string"),
    Field("listen", "string"),
    Field("upstream", "string"),
    Field("enabled", "bool"),
    Field("Logger", "zerolog.Logger", Struct("Logger", "zerolog.Logger")),
)
PROXY = Struct("Proxy", "toxiproxy.Proxy", _PROXY_FIELDS)
POPULATE_ITEM = Struct(
    "", 'struct { toxiproxy.Proxy; Enabled *bool "json:\\"enabled\\"" }', _PROXY_FIELDS
)
POPULATE_LIST = "[]" + POPULATE_ITEM.go_type

TOXIC_WRAPPER = Struct(
    "ToxicWrapper",
    "toxics.ToxicWrapper",
    (
        Field("attributes", "toxics.NoopToxic", Struct("NoopToxic", "toxics.NoopToxic")),
        Field("name", "string"),
        Field("type", "string"),
        Field("stream", "string"),
        Field("toxicity", "float32"),
    ),
)


def toxic_attributes(toxic: Struct) -> Struct:
    """AddToxicJson's second pass: `attributes` into the toxic of the now known type."""
    return Struct(
        "",
        'struct { Attributes interface {} "json:\\"attributes\\"" }',
        (Field("attributes", toxic.go_type, toxic),),
    )


def toxic_update_struct(toxic: Struct) -> Struct:
    """UpdateToxicJson's struct: the toxic's attributes and the toxicity."""
    return Struct(
        "",
        'struct { Attributes interface {} "json:\\"attributes\\""; '
        'Toxicity float32 "json:\\"toxicity\\"" }',
        (Field("attributes", toxic.go_type, toxic), Field("toxicity", "float32")),
    )
