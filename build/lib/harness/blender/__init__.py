"""Blender add-ons under test: a bpy session in its own process, driven over a pipe.

Example::

    with Session(clock="stepped") as blender:
        module = blender.enable("my_addon/")
        result = blender.operator("my.refresh")
        tree = blender.panel("MY_PT_main")
        blender.timers.step(1.0)
"""

from harness.blender._panel import PanelTree
from harness.blender._session import (
    AddonError,
    BlenderError,
    BpyUnavailable,
    OperatorResult,
    RegisterFailed,
    Report,
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
    "OperatorResult",
    "PanelTree",
    "RegisterFailed",
    "Report",
    "Session",
    "Timers",
    "UnknownDataPath",
    "UnknownOperator",
    "runtime",
]
