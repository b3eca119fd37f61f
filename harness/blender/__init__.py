"""Blender add-ons under test: a bpy session in its own process, driven over a pipe.

Example::

    with Session(clock="stepped") as blender:
        module = blender.enable("my_addon/")
        result = blender.operator("my.refresh")
        tree = blender.panel("MY_PT_main")
        blender.timers.step(1.0)
        blender.operator("my.watch", invoke=True)   # a modal operator on an event timer
        ended = blender.wait_modal("my.watch", timeout=10)
"""

from harness.blender._panel import PanelTree
from harness.blender._session import (
    AddonError,
    BlenderError,
    BpyUnavailable,
    ModalResult,
    OperatorResult,
    RegisterFailed,
    Report,
    RequestTimeout,
    Session,
    Timers,
    UnknownDataPath,
    UnknownOperator,
    runtime,
)

__all__ = [
    "AddonError",
    "BlenderError",
    "BpyUnavailable",
    "ModalResult",
    "OperatorResult",
    "PanelTree",
    "RegisterFailed",
    "Report",
    "RequestTimeout",
    "Session",
    "Timers",
    "UnknownDataPath",
    "UnknownOperator",
    "runtime",
]
