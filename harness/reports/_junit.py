"""JUnit XML of a run, from the report dictionary."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

_TAGS = {"failed": "failure", "error": "error", "skipped": "skipped", "xfailed": "skipped"}


def _names(nodeid: str) -> tuple[str, str]:
    path, _, name = nodeid.partition("::")
    classname = path.removesuffix(".py").replace("/", ".")
    if "::" in name:
        cls, _, name = name.rpartition("::")
        classname = f"{classname}.{cls.replace('::', '.')}"
    return classname, name or path


def render(report: dict[str, Any]) -> str:
    """A <testsuites> document: one <testsuite> named after the run, or for merged shards one
    per shard (`mediastack-harness <run> shard 1/3`)."""
    root = ET.Element("testsuites")
    shards = report.get("shards")
    if shards:
        for entry in shards:
            tests = [t for t in report["tests"] if t.get("shard") == entry["shard"]]
            name = f"mediastack-harness {entry['run']} shard {entry['shard']}"
            root.append(_suite(name, tests, float(entry["duration"])))
    else:
        name = f"mediastack-harness {report['run']}"
        root.append(_suite(name, report["tests"], float(report["duration"])))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _suite(name: str, tests: list[dict[str, Any]], duration: float) -> ET.Element:
    count = {tag: sum(1 for t in tests if _TAGS.get(t["outcome"]) == tag) for tag in _TAGS.values()}
    suite = ET.Element(
        "testsuite",
        name=name,
        tests=str(len(tests)),
        failures=str(count["failure"]),
        errors=str(count["error"]),
        skipped=str(count["skipped"]),
        time=f"{duration:.3f}",
    )
    for test in tests:
        classname, name = _names(test["nodeid"])
        case = ET.SubElement(
            suite, "testcase", classname=classname, name=name, time=f"{test['duration']:.3f}"
        )
        tag = _TAGS.get(test["outcome"])
        if tag:
            message = test.get("message") or test["outcome"]
            child = ET.SubElement(case, tag, message=message.strip().splitlines()[-1][:200])
            child.text = message
    return suite
