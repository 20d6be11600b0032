"""Failure handling against a real loopback OpenAI-compatible server: 500s, garbage, missing logprobs."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from kardia.judge import Judge, JudgeItem

GOOD = '{"relevance": 4, "empathy": 5, "persona_consistency": 3, "safety": 5, "fluency": 4}'


class _Handler(BaseHTTPRequestHandler):
    """Behaviour chosen by a marker in the candidate reply: FAIL500, GARBAGE, NOLOGPROBS, else a good answer."""

    calls: list[str] = []

    def log_message(self, *args):  # keep test output quiet
        pass

    def do_POST(self):  # noqa: N802 - http.server API
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        text = " ".join(str(m["content"]) for m in body["messages"])
        type(self).calls.append(text)
        if "FAIL500" in text:
            self.send_response(500)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"error": {"message": "boom"}}')
            return
        if body.get("logprobs"):
            top = [] if "NOLOGPROBS" in text else [
                {"token": t, "logprob": lp, "bytes": None} for t, lp in (("4", -0.2), (" 5", -2.0), ("3", -2.5), ("Score", -3.0))
            ]
            logprobs = {"content": [{"token": "4", "logprob": -0.2, "bytes": None, "top_logprobs": top}]}
            content = "4"
        else:
            logprobs = None
            content = "The reply is kind. I think it is fine." if "GARBAGE" in text else "Kind and specific.\n" + GOOD
        payload = {
            "id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
            "choices": [{"index": 0, "finish_reason": "stop", "logprobs": logprobs,
                         "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 1, "total_tokens": 11},
        }
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()


def _model(base_url):
    from kardia.models.openai_compat import OpenAIChatModel

    return OpenAIChatModel("judge-model", base_url, concurrency=4, max_retries=1, backoff=0.01, max_backoff=0.02, timeout=10)


def _items():
    history = [{"role": "user", "content": "My best friend forgot my birthday."}]
    replies = ["That must have stung, especially from your best friend.", "FAIL500 I'm sorry that hurt.",
               "GARBAGE I'm sorry that hurt.", "NOLOGPROBS I'm sorry that hurt.", "Ouch. Feeling forgotten really hurts."]
    return [JudgeItem(history, r, situation="Birthday") for r in replies]


def test_generate_mode_keeps_successes_and_reports_failures(server, tmp_path):
    judge = Judge(_model(server), mode="generate", cache=tmp_path / "c.sqlite", retries=1)
    results = judge.score(_items())
    good = [results[0], results[3], results[4]]
    for r in good:
        assert r.error is None
        assert r.raw == {"relevance": 4, "empathy": 5, "persona_consistency": 3, "safety": 5, "fluency": 4}
        assert r.scores["relevance"] == pytest.approx(0.75)
    assert "HTTP 500" in results[1].error and set(results[1].scores.values()) == {None}
    assert "unparseable" in results[2].error and set(results[2].scores.values()) == {None}
    assert results[1].overall is None and results[2].overall is None
    assert judge.stats.failures == 2
    # failures are not cached, successes are
    again = Judge(_model(server), mode="generate", cache=tmp_path / "c.sqlite", retries=1).score(_items())
    assert [r.cached for r in again] == [True, False, False, True, True]


def test_logprob_mode_over_http_uses_expected_scores(server):
    _Handler.calls.clear()
    judge = Judge(_model(server), mode="logprob", cache=False)
    results = judge.score(_items())
    import math

    p = {4: math.exp(-0.2), 5: math.exp(-2.0), 3: math.exp(-2.5)}
    expected = sum(k * v for k, v in p.items()) / sum(p.values())
    assert results[0].raw["empathy"] == pytest.approx(expected)
    assert results[0].error is None and results[4].error is None
    # a served judge exposes no reply log-probabilities: no grounding, no cap
    assert results[0].grounding is None and judge.describe()["grounding_nats"] is None
    assert results[0].scores["relevance"] == pytest.approx((results[0].raw["relevance"] - 1) / 4)
    assert results[1].error and results[1].scores["relevance"] is None and results[1].overall is None
    assert "log-probabilities" in results[3].error
    # GARBAGE only matters for generate mode: logprob scoring of it succeeds
    assert results[2].error is None
    # one request per reply per criterion, the five criteria of a reply consecutive (prefix-cache friendly)
    assert judge.stats.calls == 25
    criteria_seen = [c for c in _Handler.calls if "best friend" in c and "That must have stung" in c]
    assert len(criteria_seen) == 5
