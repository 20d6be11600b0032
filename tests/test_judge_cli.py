"""`kardia judge`: scoring to a file, resuming, the summary table, and `kardia judge agree`."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from kardia.cli import app

runner = CliRunner()


def _lines(n: int, start: int = 0) -> list[dict]:
    return [
        {"id": f"r{k}", "persona": "MBTI: ENFP", "situation": "New city.",
         "messages": [{"role": "user", "content": f"I moved to a new city and know nobody ({k})."}],
         "reply": f"Starting over somewhere new can feel so lonely. Reply number {k}."}
        for k in range(start, start + n)
    ]


def _write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_judge_scores_and_resumes(tiny_model_dir, tmp_path):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    _write(src, _lines(3) + [{"persona": "", "situation": "", "messages": [{"role": "user", "content": "hi there friend"}], "reply": "..."}])
    result = runner.invoke(app, ["judge", str(src), "--judge", str(tiny_model_dir), "--out", str(out), "--no-cache"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 4
    assert set(rows[0]["scores"]) == {"relevance", "empathy", "persona_consistency", "safety", "fluency"}
    assert rows[0]["judge"]["rubric_version"] == "1.1" and rows[0]["judge"]["mode"] == "logprob"
    assert isinstance(rows[0]["judge_grounding"], float) and rows[0]["judge"]["grounding_nats"] == 12.0
    assert rows[0]["judge_error"] is None and rows[0]["id"] == "r0"
    assert rows[3]["judge_degenerate"] and rows[3]["judge_overall"] == 0.0
    assert "relevance" in result.output and "failures" in result.output

    # resume: two new lines; the old four are kept untouched and not judged again
    _write(src, _lines(3) + [json.loads(src.read_text().splitlines()[3])] + _lines(2, start=3))
    before = out.read_text()
    result = runner.invoke(app, ["judge", "score", str(src), "--judge", str(tiny_model_dir), "--out", str(out), "--no-cache"])
    assert result.exit_code == 0, result.output
    assert "judged 2 lines" in result.output
    text = out.read_text()
    assert text.startswith(before) and len(text.splitlines()) == 6
    result = runner.invoke(app, ["judge", str(src), "--judge", str(tiny_model_dir), "--out", str(out)])
    assert "already in" in result.output


def test_judge_reports_bad_input_with_location(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"messages": [{"role": "user", "content": "hi"}]}) + "\n")
    result = runner.invoke(app, ["judge", str(src), "--out", str(tmp_path / "o.jsonl")])
    assert result.exit_code == 2
    assert "in.jsonl:1" in result.output and "reply" in result.output


def test_agree_prints_statistics(tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    _write(a, [{"judge_id": f"x{k}", "scores": {"empathy": s}} for k, s in enumerate([0.0, 0.25, 0.5, 0.75, 1.0])])
    _write(b, [{"id": f"x{k}", "human": {"empathy": s}} for k, s in enumerate([1, 2, 3, 5, 4])])
    result = runner.invoke(app, ["judge", "agree", str(a), str(b), "--human-field", "human"])
    assert result.exit_code == 0, result.output
    assert "empathy" in result.output and "0.900" in result.output and "0.800" in result.output
