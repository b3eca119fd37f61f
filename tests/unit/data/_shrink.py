"""`python -m tests.unit.data._shrink CASE`: shrink one deliberately failing property with
hypothesis' find() and print the minimal graph as JSON.

The shrink tests run this in a process of their own: hypothesis stops shrinking after 300 s of
wall time (MAX_SHRINKING_SECONDS), and a pytest worker that has imported the mocks' world
(gradio, numpy, av) shrinks several times slower, so on a loaded machine a shrink would stop
early (8 nodes where 3 is the minimum). Alone, it takes seconds.
"""

from __future__ import annotations

import json
import sys

from hypothesis import find, settings

from harness.data import GraphPreset, comfyui_graph, mock_object_info
from harness.data.strategies import comfyui_graphs

WIDE = GraphPreset("wide", nodes=(1, 60), steps=(1, 100), size=(16, 1024), batch=4, samplers=0)


def shrink_settings(examples: int) -> settings:
    """Deterministic find(): shrink the first failing example; with report_multiple_bugs,
    hypothesis would go on generating for up to 10 s of wall time, so a loaded machine would
    start shrinking from another example."""
    return settings(
        max_examples=examples, database=None, derandomize=True, report_multiple_bugs=False
    )


def main(case: str) -> None:
    info = mock_object_info()
    if case == "wide":  # "no graph makes an image 300 px wide or wider"
        minimal = find(
            comfyui_graphs(info, preset=WIDE),
            lambda g: any(o.width >= 300 for o in g.outputs),
            settings=shrink_settings(500),
        )
    else:  # "no medium graph inverts an image"
        minimal = find(
            comfyui_graphs(info, preset="medium"),
            lambda g: "ImageInvert" in g.class_types(),
            settings=shrink_settings(300),
        )
    typical = [len(comfyui_graph(info, "medium", s)) for s in range(20)]
    shown = {
        "nodes": len(minimal),
        "prompt": minimal.prompt,
        "steps": minimal.steps,
        "widths": [o.width for o in minimal.outputs],
        "typical_medium_nodes": typical,
    }
    print(json.dumps(shown))


if __name__ == "__main__":
    main(sys.argv[1])
