"""`kardia generate` / `generate_to_file` (resumable JSONL), the plain-mode parser, and `kardia models`."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from kardia.cli import app
from kardia.data.sources import load_examples
from kardia.generate import completed_ids, generate_to_file, prompt_messages
from kardia.models.base import GenerationConfig
from kardia.models.local import LocalChatModel
from kardia.plain import parse_plain

runner = CliRunner()


@pytest.mark.parametrize(
    "text, emotion, response, codes",
    [
        ("Emotion: sad\nReply: That sounds hard.", "sad", "That sounds hard.", []),
        ("**Emotion:** Anxious.\n\n**Reply:** I'm here\nfor you.", "Anxious", "I'm here for you.", []),
        ("emotion : joyful\nresponse: Congrats!", "joyful", "Congrats!", []),
        ("Reply: Hi.", None, "Hi.", ["missing_span"]),
        ("Emotion: sad", "sad", None, ["missing_span"]),
        ("Emotion: hungry\nReply: Eat.", "hungry", "Eat.", ["unknown_emotion"]),
        ("Emotion:\nReply: ok", None, "ok", ["empty_span"]),
        (None, None, None, ["missing_span", "missing_span"]),
        ("Emotion: sad\nReply: " + "word " * 31, "sad", ("word " * 31).strip(), ["response_too_long"]),
    ],
)
def test_parse_plain(text, emotion, response, codes):
    spans = parse_plain(text)
    assert (spans.emotion, spans.response, spans.codes()) == (emotion, response, codes)
    assert spans.understanding is None and spans.reasoning is None


def test_prompt_messages_modes():
    example = load_examples("sample", limit=1)[0]
    assert prompt_messages(example, "kardia") == example.messages
    plain = prompt_messages(example, "plain")
    assert "Emotion: <one word" in plain[0]["content"] and plain[1:] == example.history
    with pytest.raises(ValueError):
        prompt_messages(example, "other")


@pytest.fixture(scope="module")
def tiny(tiny_model_dir) -> LocalChatModel:
    return LocalChatModel(tiny_model_dir, batch_size=4)


def test_generate_to_file_is_resumable(tiny, tmp_path):
    out = tmp_path / "gen.jsonl"
    examples = load_examples("sample", limit=5)
    config = GenerationConfig(max_new_tokens=4)
    first = generate_to_file(tiny, examples[:3], out, config=config, chunk_size=2)
    assert (first.written, first.skipped) == (3, 0)
    with out.open("a") as handle:  # a torn line from a crash
        handle.write('{"id": "torn')
    seen = []
    second = generate_to_file(tiny, examples, out, config=config, progress=seen.append)
    assert (second.written, second.skipped) == (2, 3) and sum(seen) == 5
    lines = [json.loads(line) for line in out.read_text().splitlines() if line.startswith('{"id": "') and line.endswith("}")]
    assert [line["id"] for line in lines] == [e.id for e in examples]
    assert completed_ids(out) == {e.id for e in examples}
    line = lines[0]
    assert set(line) >= {"id", "messages", "output", "spans", "problems", "gold_emotion", "target", "gold_spans", "usage"}
    assert line["target"] == examples[0].target and line["usage"]["completion_tokens"] <= 4
    assert "missing_span" in line["problems"]  # a random model writes no spans


def test_cli_generate_plain_and_models(tiny_model_dir, tmp_path):
    out = tmp_path / "plain.jsonl"
    args = ["generate", "--model", str(tiny_model_dir), "--data", "sample", "--out", str(out),
            "--limit", "2", "--max-new-tokens", "3", "--mode", "plain", "--batch-size", "2"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(lines) == 2 and lines[0]["mode"] == "plain" and lines[0]["spans"]["understanding"] is None
    again = runner.invoke(app, args)
    assert "skipped 2" in again.output and len(out.read_text().splitlines()) == 2

    bad = runner.invoke(app, ["generate", "--data", str(tmp_path / "none.jsonl"), "--out", str(out)])
    assert bad.exit_code == 2 and "none.jsonl" in bad.output

    (tmp_path / "outputs" / "sft").mkdir(parents=True)
    (tmp_path / "outputs" / "sft" / "config.json").write_text("{}")
    listing = runner.invoke(app, ["models", "--outputs", str(tmp_path / "outputs")])
    assert listing.exit_code == 0 and "embedded" in listing.output and "sft" in listing.output
    spec = runner.invoke(app, ["models", "--spec", "org/name"])
    assert "kind: hub" in spec.output


@pytest.mark.slow
def test_embedded_model_generates_in_kardia_mode(embedded_dir, tmp_path):
    model = LocalChatModel(embedded_dir)
    out = tmp_path / "kardia.jsonl"
    summary = generate_to_file(model, load_examples("sample", limit=2), out, config=GenerationConfig(max_new_tokens=48))
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert summary.written == 2 and summary.failed == 0
    assert all(len(line["output"].strip()) > 10 and line["error"] is None for line in lines)
    assert all(line["usage"]["completion_tokens"] > 0 for line in lines)
