"""The harness's mock services (ComfyUI, Cablecast, Wan2GP, Toxiproxy) and their control plane.

This module imports nothing: the harness core reads the names below without the mocks'
dependencies (FastAPI, Gradio, numpy), and the Toxiproxy image ships it alone with `toxiproxy/`.
"""

NAMESPACE_HEADER = "X-Harness-Namespace"  # the request header naming a test's namespace

__all__ = ["NAMESPACE_HEADER"]
