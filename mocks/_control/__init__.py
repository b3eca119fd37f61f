"""Shared harness control plane for mocks: journal, flags, namespaces, JSON logs.

HTTP faults are not injected here: the HTTP fault layer (mocks/httpfaults) in front of every
HTTP backend does that.

from harness.mocks._control import ControlPlane, install_control, namespace_of
control = install_control(app, service="comfyui", on_reset=reset_namespace)
"""

from ._cli import mock_arg_parser, serve
from ._install import install_control
from ._middleware import ControlMiddleware
from ._namespace import DEFAULT_NAMESPACE, NAMESPACE_HEADER, clean_namespace, namespace_of
from ._plane import ControlPlane
from ._routes import plane_of
from ._table import WEBSOCKET, Route, route_table

__all__ = [
    "DEFAULT_NAMESPACE",
    "NAMESPACE_HEADER",
    "WEBSOCKET",
    "ControlMiddleware",
    "ControlPlane",
    "Route",
    "clean_namespace",
    "install_control",
    "mock_arg_parser",
    "namespace_of",
    "plane_of",
    "route_table",
    "serve",
]
