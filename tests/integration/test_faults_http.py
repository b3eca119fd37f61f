"""HTTP faults through the HTTP fault layer, seen by real clients that know nothing of it: the
`openai` client on real LiteLLM, `chromadb`'s client, httpx on the mocks, a WebSocket client on
ComfyUI; each scoped to this worker's proxy, recorded in the journal."""

from __future__ import annotations

import json
import uuid

import httpx
import openai
import pytest
from websockets.exceptions import ConnectionClosedError
from websockets.sync.client import connect

from harness import LITELLM_MASTER_KEY, WorkerBackends
from harness._stack import Stack
from harness.faults import FaultError, Faults

pytestmark = pytest.mark.faults


def _openai(backends: WorkerBackends) -> openai.OpenAI:
    """The `openai` client as an application makes it: its own retries (2) and waits."""
    url = f"{backends.address('litellm').url}/v1"
    return openai.OpenAI(base_url=url, api_key=LITELLM_MASTER_KEY, timeout=30)


def test_the_openai_client_retries_a_429_with_retry_after_on_real_litellm(
    backends: WorkerBackends, faults: Faults, journal
) -> None:
    # as in the README's Faults section
    faults.http("litellm", status=429, retry_after=1, path="/v1/chat/completions", times=1)
    reply = _openai(backends).chat.completions.create(
        model="mock-gpt", messages=[{"role": "user", "content": "hello"}]
    )
    assert reply.choices[0].message.content
    first, second = journal("litellm").find(method="POST", path="/v1/chat/completions")
    assert (first.status, first.outcome, first.fault["action"]) == (429, "answered", "status")
    assert first.response_header("retry-after") == "1"
    assert (second.status, second.fault) == (200, None)
    assert second.started - first.started >= 1.0  # it waited as Retry-After told it
    assert "mock-gpt" in second.request_body


def test_a_slow_first_byte_from_litellm_and_a_stream_cut_after_n_events(
    backends: WorkerBackends, faults: Faults, journal
) -> None:
    client = _openai(backends).with_options(max_retries=0)
    messages = [{"role": "user", "content": "tell me a long story about a storm"}]
    # a delay joins the cut: one rule, matched on the prompt in the JSON body
    faults.http("litellm", delay_ms=400, cut_after=2, body_contains="a long story", times=1)
    chunks = []
    with pytest.raises((httpx.RemoteProtocolError, openai.APIError)):
        for chunk in client.chat.completions.create(model="mock-gpt", messages=messages,
                                                    stream=True):  # fmt: skip
            chunks.append(chunk)
    assert len(chunks) == 2
    (streamed,) = journal("litellm").find(method="POST", faulted=True)
    assert (streamed.outcome, streamed.fault["action"]) == ("cut", "cut_after")
    assert streamed.ttfb_ms >= 400
    assert "text/event-stream" in (streamed.response_header("content-type") or "")


def test_chromadb_gets_a_503_and_recovers(chroma_client, faults: Faults, journal) -> None:
    collection = chroma_client.get_or_create_collection(f"c-{uuid.uuid4().hex[:8]}")
    with faults.http("chromadb", status=503, method="POST", path="*/add", times=1):
        with pytest.raises(Exception, match="503 Service Unavailable"):  # chromadb's own wording
            collection.add(ids=["a"], embeddings=[[0.1, 0.2, 0.3]], documents=["x"])
        collection.add(ids=["a"], embeddings=[[0.1, 0.2, 0.3]], documents=["x"])
    assert collection.count() == 1
    adds = journal("chromadb").find(method="POST", path="*/add")
    assert [a.status for a in adds] == [503, 201]


def test_a_comfyui_websocket_cut_mid_run(comfyui_url: str, faults: Faults, journal) -> None:
    faults.http("comfyui", cut_after=1, path="/ws", times=1)
    ws_url = comfyui_url.replace("http://", "ws://") + f"/ws?clientId={uuid.uuid4().hex}"
    with connect(ws_url) as socket, pytest.raises(ConnectionClosedError):
        first = json.loads(socket.recv(timeout=10))
        assert first["type"] == "status"
        socket.recv(timeout=10)
    with connect(ws_url) as socket:  # the next connection is whole
        assert json.loads(socket.recv(timeout=10))["type"] == "status"
    (cut,) = journal("comfyui").find(path="/ws", faulted=True)
    assert (cut.status, cut.outcome) == (101, "cut")


def test_an_http_fault_on_the_cablecast_mock_reaches_a_plain_client(
    cablecast_url: str, faults: Faults, journal
) -> None:
    """No namespace header, no fixture client: what an adopter's own Cablecast client sends."""
    shows = f"{cablecast_url}/cablecastapi/v1/shows"
    faults.http("cablecast", status=503, times=1)
    assert [httpx.get(shows).status_code for _ in range(2)] == [503, 200]
    faults.http("cablecast", reset="before_headers", method="GET", times=1)
    with pytest.raises(httpx.TransportError):
        httpx.get(shows)
    faults.http("cablecast", truncate=10, times=1)
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(shows)
    faults.http("cablecast", corrupt=True, times=1)
    with pytest.raises(json.JSONDecodeError):
        httpx.get(shows).json()
    outcomes = [e.outcome for e in journal("cablecast").find(faulted=True)]
    assert outcomes == ["answered", "reset", "truncated", "complete"]


def test_a_fault_on_this_workers_proxy_leaves_the_default_proxy_alone(
    stack: Stack, cablecast_url: str, faults: Faults
) -> None:
    faults.http("cablecast", status=500)
    assert httpx.get(f"{cablecast_url}/cablecastapi/v1/shows").status_code == 500
    default = stack.address("cablecast").url  # another route: another scope
    assert httpx.get(f"{default}/cablecastapi/v1/shows").status_code == 200


@pytest.mark.parametrize(
    ("service", "rule", "message"),
    [
        ("redis", {"status": 500}, "redis does not speak HTTP"),
        ("kafka", {"status": 500}, "unknown service 'kafka'"),
        ("litellm", {"status": 700}, "status must be 100..599, got 700"),
        ("litellm", {"status": 500, "probability": 1.5}, "probability must be within 0..1"),
        ("litellm", {"status": 500, "path_regex": "("}, "path_regex '(' is not a regex"),
        ("litellm", {"path": "/x"}, "needs one of status"),
    ],
)
def test_bad_http_faults_are_one_line_and_nothing_is_applied(
    stack: Stack, faults: Faults, service: str, rule: dict, message: str
) -> None:
    with pytest.raises(Exception, match=message.replace("(", r"\(")) as refused:
        faults.http(service, **rule)
    assert "\n" not in str(refused.value) and faults.active() == []
    assert isinstance(refused.value, FaultError) or "unknown service" in message


@pytest.mark.xdist_group("inner-runs")
def test_two_workers_at_once_one_http_faulted_the_other_not(inner_pytest, tmp_path) -> None:
    source = """
import os, pathlib
import httpx
from harness._waiting import wait_for

DIR = pathlib.Path(os.environ["INNER_DIR"])

def wait(name):
    wait_for(lambda: (DIR / name).exists(), 60, name, interval=0.05)

def test_faulted(cablecast_url, faults, worker_id, journal):
    (DIR / "worker-faulted").write_text(worker_id)
    with faults.http("cablecast", status=503):
        assert httpx.get(f"{cablecast_url}/cablecastapi/v1/shows").status_code == 503
        (DIR / "applied").write_text("1")
        wait("measured")
    assert [e.status for e in journal("cablecast")] == [503]

def test_neighbour(cablecast_url, worker_id, journal):
    (DIR / "worker-neighbour").write_text(worker_id)
    wait("applied")
    got = httpx.get(f"{cablecast_url}/cablecastapi/v1/shows")
    (DIR / "status").write_text(str(got.status_code))
    (DIR / "measured").write_text("1")
    assert [e.status for e in journal("cablecast")] == [200]
"""
    code, output = inner_pytest(source, "-n", "2", "--stack-services", "cablecast").finish()
    assert code == 0, output
    assert (tmp_path / "worker-faulted").read_text() != (tmp_path / "worker-neighbour").read_text()
    assert (tmp_path / "status").read_text() == "200"
