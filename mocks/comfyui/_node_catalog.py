"""Every node the mock implements: imports each node module, which registers its classes
into NODES (`_node_types`), in this order (the order of the NODES table)."""

from __future__ import annotations

from . import _core_nodes, _image_nodes, _latent_nodes, _output_nodes
from ._node_types import NODES

NODE_MODULES = (_core_nodes, _image_nodes, _latent_nodes, _output_nodes)

__all__ = ["NODES", "NODE_MODULES"]
