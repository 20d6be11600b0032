"""OpenAIChatModel against a real HTTP server on 127.0.0.1 (FastAPI + uvicorn in a thread, no mocks)."""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from dataclasses import dataclass, field

import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from kardia.models.base import GenerationConfig
from kardia.models.openai_compat import OpenAIChatModel, match_candidates

SECRET = "sk-test-SECRET-0123456789"


@dataclass
class ServerState:
    """What the fake server does next and what it saw."""

    fail: list[int] = field(default_factory=list)  # status codes to return, one per request, before succeeding
    delay: float = 0.0
    logprobs: bool = True
    requests: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    bodies: list[dict] = field(default_factory=list)
    auth: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)


def make_app(state: ServerState) -> FastAPI:
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def chat(request: Request):
        body = await request.json()
        with state.lock:
            state.requests += 1
            state.bodies.append(body)
            state.auth.add(request.headers.get("authorization", ""))
            status = state.fail.pop(0) if state.fail else None
            state.in_flight += 1
            state.max_in_flight = max(state.max_in_flight, state.in_flight)
        try:
            await asyncio.sleep(state.delay)
            if status is not None:
                headers = {"retry-after": "0"} if status == 429 else {}
                return JSONResponse({"error": {"message": f"injected {status}", "type": "test"}}, status_code=status, headers=headers)
            last = body["messages"][-1]["content"]
            choice = {"index": 0, "message": {"role": "assistant", "content": f"echo: {last}"}, "finish_reason": "stop"}
            if body.get("logprobs") and state.logprobs:
                top = [{"token": t, "logprob": lp, "bytes": None} for t, lp in ((" 4", -0.5), ("4", -2.0), ("3", -1.5), ("x", -4.0))]
                choice["logprobs"] = {"content": [{"token": " 4", "logprob": -0.5, "bytes": None, "top_logprobs": top}]}
            return {
                "id": "cmpl-1", "object": "chat.completion", "created": 0, "model": body["model"],
                "choices": [choice],
                "usage": {"prompt_tokens": len(last.split()), "completion_tokens": 3, "total_tokens": len(last.split()) + 3},
            }
        finally:
            with state.lock:
                state.in_flight -= 1

    return app


@pytest.fixture(scope="module")
def server():
    state = ServerState()
    config = uvicorn.Config(make_app(state), host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 10
    while not srv.started and time.time() < deadline:
        time.sleep(0.02)
    port = srv.servers[0].sockets[0].getsockname()[1]
    yield state, f"http://127.0.0.1:{port}/v1"
    srv.should_exit = True
    thread.join(timeout=5)


@pytest.fixture
def fake(server, monkeypatch):
    state, url = server
    deadline = time.time() + 5
    while state.in_flight and time.time() < deadline:  # requests a previous test abandoned (timeouts)
        time.sleep(0.02)
    with state.lock:
        state.fail.clear()
        state.delay, state.logprobs = 0.0, True
        state.requests = state.max_in_flight = 0
        state.bodies.clear()
        state.auth.clear()
    monkeypatch.setenv("KARDIA_TEST_KEY", SECRET)
    models = []

    def build(**kwargs) -> OpenAIChatModel:
        kwargs = {"api_key_env": "KARDIA_TEST_KEY", "backoff": 0.01, "max_backoff": 0.05, **kwargs}
        model = OpenAIChatModel("fake-model", url, **kwargs)
        models.append(model)
        return model

    yield state, build
    for model in models:
        model.close()


def convs(n: int) -> list[list[dict[str, str]]]:
    return [[{"role": "system", "content": "S"}, {"role": "user", "content": f"message number {i}"}] for i in range(n)]


def test_generate_in_order_with_usage(fake):
    state, build = fake
    model = build()
    out = model.generate(convs(5), GenerationConfig(max_new_tokens=7, seed=3))
    assert [g.text for g in out] == [f"echo: message number {i}" for i in range(5)]
    assert all(g.error is None and g.finish_reason == "stop" for g in out)
    assert model.usage.to_dict() == {"requests": 5, "prompt_tokens": 15, "completion_tokens": 15, "failures": 0}
    assert state.bodies[0]["max_tokens"] == 7 and state.bodies[0]["seed"] == 3
    assert state.auth == {f"Bearer {SECRET}"}


@pytest.mark.parametrize("status", [500, 503, 429])
def test_retries_transient_errors(fake, status):
    state, build = fake
    state.fail[:] = [status, status]
    out = build(max_retries=3).generate(convs(1))
    assert out[0].error is None and out[0].text == "echo: message number 0"
    assert state.requests == 3


def test_gives_up_after_max_retries(fake):
    state, build = fake
    state.fail[:] = [500] * 10
    model = build(max_retries=2)
    out = model.generate(convs(1))
    assert out[0].text == "" and "HTTP 500" in out[0].error and "3 attempts" in out[0].error
    assert state.requests == 3
    assert model.usage.failures == 1


def test_no_retry_on_400_and_batch_survives(fake):
    state, build = fake
    state.delay = 0.05
    state.fail[:] = [400]
    out = build(concurrency=1, max_retries=4).generate(convs(3))
    assert state.requests == 3  # the 400 was not retried
    assert out[0].text == "" and "HTTP 400" in out[0].error
    assert [g.text for g in out[1:]] == ["echo: message number 1", "echo: message number 2"]


def test_timeout_is_an_item_error(fake):
    state, build = fake
    state.delay = 1.0
    start = time.perf_counter()
    out = build(timeout=0.2, max_retries=1).generate(convs(2))
    assert all(g.text == "" and g.error.startswith("timeout") for g in out)
    assert state.requests == 4  # first try + one retry, each
    assert time.perf_counter() - start < 5


def test_concurrency_limit(fake):
    state, build = fake
    state.delay = 0.1
    out = build(concurrency=3).generate(convs(12))
    assert all(g.error is None for g in out)
    assert state.max_in_flight == 3


def test_generate_inside_running_loop_and_agenerate(fake):
    _, build = fake
    model = build()

    async def inside() -> tuple[list, list]:
        sync = model.generate(convs(2))  # blocks this loop but must not fail
        concurrent = await model.agenerate(convs(3))
        return sync, concurrent

    sync, concurrent = asyncio.run(inside())
    assert [g.text for g in sync] == ["echo: message number 0", "echo: message number 1"]
    assert [g.text for g in concurrent] == [f"echo: message number {i}" for i in range(3)]


def test_next_token_logprobs_with_prefix(fake):
    state, build = fake
    model = build()
    scores = model.next_token_logprobs(convs(1), "Score: ", ["4", "3", "1"])[0]
    assert scores["4"] == pytest.approx(math.log(math.exp(-0.5) + math.exp(-2.0)))
    assert scores["3"] == -1.5 and scores["1"] == -math.inf
    body = state.bodies[-1]
    assert body["messages"][-1] == {"role": "assistant", "content": "Score: "}
    assert body["continue_final_message"] is True and body["add_generation_prompt"] is False
    assert body["max_tokens"] == 1 and body["top_logprobs"] == 20 and body["logprobs"] is True


def test_logprobs_none_when_server_has_none(fake):
    state, build = fake
    state.logprobs = False
    model = build()
    assert model.next_token_logprobs(convs(2), "", ["4"]) == [None, None]
    assert model.supports_logprobs is False
    state.logprobs = True
    assert build().supports_logprobs is True
    assert build(logprobs=False).supports_logprobs is False


def test_logprobs_none_on_failure(fake):
    state, build = fake
    state.fail[:] = [400]
    assert build().next_token_logprobs(convs(1), "", ["4"]) == [None]


def test_match_candidates_none_when_no_candidate():
    assert match_candidates([("a", -1.0)], ["1", "2"]) is None


def test_key_never_leaks(fake, caplog):
    state, build = fake
    state.fail[:] = [500, 400]
    with caplog.at_level(logging.DEBUG):
        model = build(max_retries=1)
        out = model.generate(convs(2))
    texts = [caplog.text, repr(model), str(model.describe()), *(g.error or "" for g in out)]
    assert caplog.text  # debug logging was captured
    assert not any(SECRET in t for t in texts)
    assert model.describe()["api_key_env"] == "KARDIA_TEST_KEY"


def test_missing_key_env_uses_empty(fake, monkeypatch):
    state, build = fake
    monkeypatch.delenv("KARDIA_TEST_KEY")
    build().generate(convs(1))
    assert state.auth == {"Bearer EMPTY"}


def test_unreachable_server_is_an_item_error():
    model = OpenAIChatModel("m", "http://127.0.0.1:9/v1", max_retries=1, backoff=0.01, timeout=2)
    try:
        out = model.generate(convs(1))
    finally:
        model.close()
    assert out[0].text == "" and out[0].error.startswith("connection error")
