"""`kardia serve` (API, batching, limits, safety, web page) and `kardia chat` (terminal)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest

fastapi = pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from kardia.models.base import ChatModel, Generation, GenerationConfig  # noqa: E402
from kardia.serve.app import ServeConfig, create_app  # noqa: E402
from kardia.spans import render  # noqa: E402

WELL_FORMED = render("The user is nervous about a new job.", "Validate the nerves, then encourage.",
                     "anxious", "Starting something new is scary, and you prepared well.")
RISKY_REPLY = render("The user had a bad day.", "Be blunt.", "annoyed", "You should just kill yourself.")


class ScriptedModel(ChatModel):
    """A model that answers every prompt with the same text, records the calls and can block or fail."""

    def __init__(self, text: str = WELL_FORMED, *, fail: bool = False, gate: threading.Event | None = None) -> None:
        super().__init__()
        self.name = "scripted"
        self.text, self.fail, self.gate = text, fail, gate
        self.calls: list[list] = []

    def generate(self, conversations: Sequence, config: GenerationConfig | None = None, *, progress=None) -> list[Generation]:
        self.calls.append([list(c) for c in conversations])
        if self.gate is not None:
            self.gate.wait(10)
        if self.fail:
            raise RuntimeError("boom at /secret/path/model.py line 3")
        return [Generation(text=self.text, prompt_tokens=10, completion_tokens=5, finish_reason="stop") for _ in conversations]


class CountingModel(ChatModel):
    """Wraps a real model and counts its `generate` calls and the prompts in each."""

    def __init__(self, inner: ChatModel) -> None:
        super().__init__()
        self.inner, self.name = inner, "counting"
        self.batches: list[int] = []

    def generate(self, conversations, config=None, *, progress=None):
        self.batches.append(len(conversations))
        return self.inner.generate(conversations, config)


@pytest.fixture(scope="module")
def tiny(tiny_model_dir):
    from kardia.models.local import LocalChatModel

    return LocalChatModel(tiny_model_dir, batch_size=8)


def client_for(model: ChatModel, **config) -> TestClient:
    return TestClient(create_app(model, ServeConfig(model_name="test-model", **config)), raise_server_exceptions=False)


def user(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_server(app):
    """The app under a real uvicorn server on a free loopback port."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def sse_events(text: str) -> list:
    events = [line[len("data: "):] for line in text.splitlines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    return [json.loads(e) for e in events[:-1]]


# -- completions -----------------------------------------------------------------------------------


def test_kardia_mode_returns_response_span_and_spans():
    model = ScriptedModel()
    with client_for(model) as client:
        r = client.post("/v1/chat/completions", json={
            "messages": user("I start a new job tomorrow."), "persona": "MBTI: INFP", "situation": "New job.", "max_tokens": 64})
    assert r.status_code == 200
    body = r.json()
    assert body["object"] == "chat.completion" and body["model"] == "test-model"
    assert body["choices"][0]["message"] == {"role": "assistant", "content": "Starting something new is scary, and you prepared well."}
    kardia = body["kardia"]
    assert kardia["emotion"] == "anxious" and kardia["emotion_label"] == "anxious"
    assert kardia["understanding"].startswith("The user is nervous")
    assert kardia["problems"] == [] and kardia["well_formed"] is True
    assert kardia["safety"]["flagged"] is False
    system = model.calls[0][0][0]
    assert system["role"] == "system" and "MBTI: INFP" in system["content"] and "New job." in system["content"]
    assert body["usage"] == {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}


def test_malformed_output_falls_back_to_text_without_tags():
    model = ScriptedModel("<|understanding_begin|>half an answer and then it just keeps talking")
    with client_for(model) as client:
        body = client.post("/v1/chat/completions", json={"messages": user("hi")}).json()
    assert body["choices"][0]["message"]["content"] == "half an answer and then it just keeps talking"
    assert "missing_span" in body["kardia"]["problems"] and body["kardia"]["well_formed"] is False


def test_mode_selection():
    model = ScriptedModel("raw text")
    with client_for(model) as client:
        judge = client.post("/v1/chat/completions", json={"messages": [{"role": "system", "content": "You are a judge."}, *user("Grade.")]}).json()
        assert judge["kardia"] == {"mode": "raw"} and judge["choices"][0]["message"]["content"] == "raw text"
        assert model.calls[-1][0][0] == {"role": "system", "content": "You are a judge."}  # passed as given
        forced = client.post("/v1/chat/completions", json={"messages": user("hello"), "raw": True}).json()
        assert forced["kardia"] == {"mode": "raw"} and model.calls[-1][0] == user("hello")
        header = client.post("/v1/chat/completions", json={"messages": user("hello")}, headers={"X-Kardia-Mode": "raw"}).json()
        assert header["kardia"] == {"mode": "raw"}
        as_situation = client.post("/v1/chat/completions", json={
            "messages": [{"role": "system", "content": "Lost my dog."}, *user("hi")], "raw": False}).json()
        assert as_situation["kardia"]["mode"] == "kardia" and "Lost my dog." in model.calls[-1][0][0]["content"]
        both = client.post("/v1/chat/completions", json={"messages": [{"role": "system", "content": "x"}, *user("hi")], "persona": "p"})
        assert both.status_code == 400 and "not both" in both.json()["error"]["message"]


def test_kardia_system_prompt_is_used_as_is():
    from kardia.prompts import turn_messages

    model = ScriptedModel()
    messages = turn_messages("MBTI: ENTJ", "Promotion denied.", user("I did not get it."))
    with client_for(model) as client:
        body = client.post("/v1/chat/completions", json={"messages": messages}).json()
    assert body["kardia"]["mode"] == "kardia" and model.calls[0][0] == messages


def test_streaming_matches_non_streaming():
    model = ScriptedModel()
    with client_for(model) as client:
        plain = client.post("/v1/chat/completions", json={"messages": user("hi")}).json()
        r = client.post("/v1/chat/completions", json={"messages": user("hi"), "stream": True, "stream_options": {"include_usage": True}})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    chunks = sse_events(r.text)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert text == plain["choices"][0]["message"]["content"]
    assert len([c for c in chunks if c["choices"] and c["choices"][0]["delta"].get("content")]) > 3
    final = [c for c in chunks if c["choices"] and c["choices"][0]["finish_reason"]]
    assert final[0]["kardia"]["emotion"] == "anxious"
    assert chunks[-1]["usage"]["total_tokens"] == 15 and chunks[-1]["choices"] == []


def test_tiny_model_streaming_and_plain(tiny):
    with client_for(tiny) as client:
        body = client.post("/v1/chat/completions", json={"messages": user("I lost my keys."), "max_tokens": 12}).json()
        r = client.post("/v1/chat/completions", json={"messages": user("I lost my keys."), "max_tokens": 12, "stream": True})
    assert body["usage"]["completion_tokens"] == 12 and body["usage"]["prompt_tokens"] > 100
    assert body["choices"][0]["finish_reason"] == "length"
    streamed = "".join(c["choices"][0]["delta"].get("content", "") for c in sse_events(r.text))
    assert streamed == body["choices"][0]["message"]["content"]  # greedy: same text


def test_models_and_health():
    with client_for(ScriptedModel()) as client:
        assert client.get("/v1/models").json()["data"][0]["id"] == "test-model"
        assert client.get("/health").json()["status"] == "ok"
        page = client.get("/")
    assert page.status_code == 200 and "/v1/chat/completions" in page.text


# -- limits and errors -----------------------------------------------------------------------------


def test_body_too_large_is_413():
    with client_for(ScriptedModel(), max_body_bytes=2000) as client:
        r = client.post("/v1/chat/completions", json={"messages": user("x" * 5000)})
        chunked = client.post("/v1/chat/completions", content=iter([b"{" + b" " * 3000 + b"}"]),
                              headers={"content-type": "application/json"})
    assert r.status_code == 413 and "larger than 2000 bytes" in r.json()["error"]["message"]
    assert chunked.status_code == 413


def test_bad_requests_are_400_with_openai_error_objects():
    model = ScriptedModel()
    with client_for(model, max_messages=4, max_tokens_cap=100) as client:
        cases = {
            "not json": client.post("/v1/chat/completions", content=b"{nope", headers={"content-type": "application/json"}),
            "no messages": client.post("/v1/chat/completions", json={"model": "x"}),
            "bad role": client.post("/v1/chat/completions", json={"messages": [{"role": "robot", "content": "hi"}]}),
            "too many": client.post("/v1/chat/completions", json={"messages": user("a") * 5}),
            "cap": client.post("/v1/chat/completions", json={"messages": user("a"), "max_tokens": 101}),
            "n": client.post("/v1/chat/completions", json={"messages": user("a"), "n": 2}),
            "logprobs long": client.post("/v1/chat/completions", json={"messages": user("a"), "logprobs": True, "max_tokens": 5}),
        }
    for name, r in cases.items():
        assert r.status_code == 400, name
        error = r.json()["error"]
        assert error["type"] == "invalid_request_error" and error["message"], name
    assert "not valid JSON" in cases["not json"].json()["error"]["message"]
    assert cases["no messages"].json()["error"]["param"] == "messages"
    assert "cap of 100" in cases["cap"].json()["error"]["message"]
    assert model.calls == []


def test_saturated_server_answers_429_with_retry_after():
    gate = threading.Event()
    model = ScriptedModel(gate=gate)
    with client_for(model, max_concurrency=1) as client, ThreadPoolExecutor(1) as pool:
        first = pool.submit(client.post, "/v1/chat/completions", json={"messages": user("one")})
        deadline = time.monotonic() + 10
        while not model.calls:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        busy = client.post("/v1/chat/completions", json={"messages": user("two")})
        gate.set()
        assert first.result().status_code == 200
        after = client.post("/v1/chat/completions", json={"messages": user("three")})
    assert busy.status_code == 429 and busy.headers["retry-after"] == "1"
    assert busy.json()["error"]["type"] == "rate_limit_error"
    assert after.status_code == 200


def test_api_key_guards_v1_but_not_health():
    with client_for(ScriptedModel(), api_key="s3cret") as client:
        assert client.get("/health").status_code == 200
        assert client.post("/v1/chat/completions", json={"messages": user("hi")}).status_code == 401
        wrong = client.get("/v1/models", headers={"Authorization": "Bearer nope"})
        ok = client.post("/v1/chat/completions", json={"messages": user("hi")}, headers={"Authorization": "Bearer s3cret"})
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "invalid_api_key"
    assert ok.status_code == 200


def test_internal_error_is_500_without_details():
    with client_for(ScriptedModel(fail=True)) as client:
        r = client.post("/v1/chat/completions", json={"messages": user("hi")})
        health = client.get("/health").json()
    assert r.status_code == 500
    assert r.json() == {"error": {"message": "internal server error", "type": "server_error", "param": None, "code": None}}
    assert "secret" not in r.text and "Traceback" not in r.text
    assert health["in_flight"] == 0  # the slot was released


# -- batching --------------------------------------------------------------------------------------


def test_concurrent_requests_share_generate_calls(tiny):
    counting = CountingModel(tiny)
    with client_for(counting, batch_size=8, batch_wait_ms=300) as client, ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(client.post, "/v1/chat/completions", json={"messages": user(f"message {i}"), "max_tokens": 4})
                   for i in range(8)]
        responses = [f.result() for f in futures]
        stats = client.app.state.engine.stats
    assert all(r.status_code == 200 for r in responses)
    assert sum(counting.batches) == 8
    assert len(counting.batches) < 8 and max(counting.batches) > 1
    assert stats.model_calls == len(counting.batches) and stats.requests == 8


def test_different_settings_are_not_batched_together():
    model = ScriptedModel()
    with client_for(model, batch_wait_ms=300) as client, ThreadPoolExecutor(4) as pool:
        bodies = [{"messages": user("a"), "temperature": t, "max_tokens": 8} for t in (0.0, 0.0, 0.7, 0.7)]
        for f in [pool.submit(client.post, "/v1/chat/completions", json=b) for b in bodies]:
            assert f.result().status_code == 200
    assert sum(len(c) for c in model.calls) == 4
    assert len(model.calls) >= 2 and max(len(c) for c in model.calls) <= 2  # greedy and sampled never share a call


# -- safety ----------------------------------------------------------------------------------------


def test_risky_user_message_gets_safe_reply_without_calling_the_model():
    model = ScriptedModel()
    with client_for(model) as client:
        body = client.post("/v1/chat/completions", json={"messages": user("I want to kill myself tonight"), "locale": "en-US"}).json()
        streamed = client.post("/v1/chat/completions", json={"messages": user("I want to kill myself tonight"), "stream": True})
    assert model.calls == []
    content = body["choices"][0]["message"]["content"]
    assert "988" in content and "you don't have to face this alone" in content
    assert len(content.split()) > 30  # the 30-token limit does not apply
    safety = body["kardia"]["safety"]
    assert safety["flagged"] is True and safety["source"] == "user" and safety["category"] == "self_harm"
    assert body["kardia"]["reasoning"] is None
    final = [c for c in sse_events(streamed.text) if c.get("kardia")]
    assert final[0]["kardia"]["safety"]["flagged"] is True


def test_risky_model_reply_is_replaced():
    with client_for(ScriptedModel(RISKY_REPLY)) as client:
        body = client.post("/v1/chat/completions", json={"messages": user("I had a bad day at work."), "locale": "en-GB"}).json()
    content = body["choices"][0]["message"]["content"]
    assert "kill yourself" not in content and "Samaritans" in content
    assert body["kardia"]["safety"] == {"flagged": True, "source": "reply", "category": "self_harm",
                                        "rules": ["reply.encourages_self_harm"]}
    assert body["kardia"]["understanding"] is None and body["kardia"]["emotion"] is None


def test_pass_through_mode_is_not_screened():
    with client_for(ScriptedModel("You should just kill yourself.")) as client:
        body = client.post("/v1/chat/completions", json={"messages": user("quote the line"), "raw": True}).json()
    assert body["choices"][0]["message"]["content"] == "You should just kill yourself."


# -- a real server and the openai client -------------------------------------------------------------


def test_openai_chat_model_against_the_real_server(tiny):
    from kardia.models.openai_compat import OpenAIChatModel
    from kardia.serve.engine import top_next_tokens

    app = create_app(tiny, ServeConfig(model_name="tiny", batch_wait_ms=20))
    with running_server(app) as url:
        remote = OpenAIChatModel("tiny", f"{url}/v1", api_key_env="KARDIA_TEST_NO_KEY", max_retries=0)
        try:
            config = GenerationConfig(max_new_tokens=6)
            kardia, raw = remote.generate([user("I passed!"), [{"role": "system", "content": "Echo."}, *user("hi")]], config)
            assert kardia.error is None and raw.error is None
            assert kardia.completion_tokens == 6 and raw.completion_tokens == 6
            direct = tiny.generate([[{"role": "system", "content": "Echo."}, *user("hi")]], config)[0]
            assert raw.text == direct.text  # pass-through: the model's own completion
            conversation = [{"role": "system", "content": "Rate it."}, *user("Score from 1 to 5:")]
            for prefix in ("", "Score: "):  # the prefix goes as a continued assistant message
                # candidates: likely next tokens without whitespace variants among the top 20
                top = [t for t, _ in top_next_tokens(tiny, [conversation], [prefix], 20)[0].top]
                stripped = [t.strip() for t in top]
                candidates = [t for t in top if t and t == t.strip() and stripped.count(t) == 1][:3]
                assert candidates
                served = remote.next_token_logprobs([conversation], prefix, candidates)[0]
                local = tiny.next_token_logprobs([conversation], prefix, candidates)[0]
                assert served is not None
                for c in candidates:
                    assert abs(served[c] - local[c]) < 1e-3, (prefix, c)
            # the probe the openai backend uses to decide whether logprobs work
            assert remote.supports_logprobs is True
        finally:
            remote.close()


def test_openai_sdk_streams_from_the_real_server():
    from openai import OpenAI

    with running_server(create_app(ScriptedModel(), ServeConfig(model_name="scripted"))) as url:
        client = OpenAI(base_url=f"{url}/v1", api_key="unused")
        stream = client.chat.completions.create(model="scripted", messages=user("hi"), stream=True)
        text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
        models = client.models.list()
    assert text == "Starting something new is scary, and you prepared well."
    assert [m.id for m in models] == ["scripted"]


# -- kardia chat -----------------------------------------------------------------------------------


def test_chat_cli_session(tiny_model_dir, tmp_path):
    persona = tmp_path / "persona.json"
    persona.write_text(json.dumps({"person": "MBTI: ISFJ\nAbout: a nurse", "situation": "Night shifts."}))
    saved = tmp_path / "conv.json"
    script = f"I feel tired all the time.\n/show\n/save {saved}\nI want to kill myself\n/help\n"
    env = {**os.environ, "COLUMNS": "120", "NO_COLOR": "1"}
    result = subprocess.run(
        [sys.executable, "-c", "from kardia.cli import app; app()", "chat", "--model", str(tiny_model_dir), "--persona", str(persona),
         "--show-spans", "--max-new-tokens", "8", "--temperature", "0"],
        input=script, capture_output=True, text=True, timeout=240, env=env,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "kardia" in out and "understanding:" in out  # a reply and the dimmed spans panel
    assert "unknown command" in out  # /show
    assert "safety reply" in out and "988" in out
    assert "/persona FILE" in out  # /help
    assert "bye" in out  # Ctrl-D (end of input) leaves cleanly
    record = json.loads(saved.read_text())
    assert record["person"].startswith("MBTI: ISFJ") and record["mbti"] == "ISFJ" and record["situation"] == "Night shifts."
    roles = [m["role"] for m in record["messages"]]
    assert roles == ["system", "user", "assistant"]
    assert "<|response_begin|>" in record["messages"][2]["content"]
    assert record["kardia_chat"]["turns"][0]["safety"]["flagged"] is False


def test_chat_session_resets_and_flags(tiny):
    from kardia.serve.chat import ChatSession

    session = ChatSession(model=tiny, persona="MBTI: INTP", config=GenerationConfig(max_new_tokens=4))
    session.send("Hello there.")
    turn = session.send("i wanna k1ll myslef")
    assert turn.flagged and turn.raw == "" and len(session.history) == 4
    assert session.to_record()["kardia_chat"]["turns"][1]["safety"]["source"] == "user"
    session.reset()
    assert session.history == [] and session.turns == []


def test_serve_cli_refuses_an_unset_api_key_variable(monkeypatch):
    from typer.testing import CliRunner

    from kardia.cli import app

    monkeypatch.delenv("KARDIA_TEST_UNSET_KEY", raising=False)
    result = CliRunner().invoke(app, ["serve", "--api-key-env", "KARDIA_TEST_UNSET_KEY"])
    assert result.exit_code == 2 and "KARDIA_TEST_UNSET_KEY" in result.output


def test_serve_cli_passes_the_safety_classifier_switch_to_the_app(monkeypatch, tiny_model_dir):
    import uvicorn
    from typer.testing import CliRunner

    from kardia.cli import app

    served = {}
    monkeypatch.setattr(uvicorn, "run", lambda asgi, **kwargs: served.update(app=asgi, **kwargs))
    monkeypatch.setattr("kardia.serve.app.create_app", lambda model, config, *, safety: safety)
    result = CliRunner().invoke(app, ["serve", "--model", str(tiny_model_dir), "--port", "8123"])
    assert result.exit_code == 0, result.output
    assert served["app"].classifier is True and served["port"] == 8123  # on by default
    result = CliRunner().invoke(app, ["serve", "--model", str(tiny_model_dir), "--no-safety-classifier"])
    assert result.exit_code == 0, result.output
    assert served["app"].classifier is False


# -- the web page ----------------------------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"


def test_web_page_in_headless_chromium(tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        pytest.skip("chromium is not installed")
    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"]
    with running_server(create_app(ScriptedModel(), ServeConfig(model_name="scripted"))) as url, sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=Path(CHROMIUM).exists() and CHROMIUM or shutil.which("chromium"), args=args)
        try:
            page = browser.new_page()
            page.goto(url + "/")
            page.fill("#persona", "MBTI: INFP\nAbout: a poet")
            page.fill("#situation", "Starting a new job.")
            page.fill("#message", "I start tomorrow and I'm nervous.")
            page.click("#submit")
            reply = page.locator(".msg.assistant").first
            reply.wait_for(timeout=15000)
            assert reply.locator(".badge").inner_text() == "anxious"
            assert "prepared well" in reply.locator(".content").inner_text()
            reply.locator("summary").click()
            assert "Validate the nerves" in reply.locator("details").inner_text()
            page.fill("#message", "I want to end my life")
            page.click("#submit")
            crisis = page.locator(".msg.assistant.crisis")
            crisis.wait_for(timeout=15000)
            assert "Safety reply" in crisis.locator(".badge").inner_text() and "988" in crisis.inner_text()
            page.screenshot(path=str(tmp_path / "kardia_chat.png"), full_page=True)
            if os.environ.get("KARDIA_SCREENSHOT"):
                page.screenshot(path=os.environ["KARDIA_SCREENSHOT"], full_page=True)
        finally:
            browser.close()
