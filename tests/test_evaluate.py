"""Evaluation: metrics against hand-checked values, resumption, compare, plots, and one end-to-end CLI run."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from kardia.emotions import EMOTIONS
from kardia.evaluate.compare import compare_runs, to_csv, to_markdown, write_comparison
from kardia.evaluate.metrics import (
    BootstrapSettings,
    bootstrap_macro_f1_ci,
    bootstrap_mean_ci,
    compute_metrics,
    macro_f1,
    paired_bootstrap_pvalue,
    resample_indices,
    resampled_macro_f1,
)
from kardia.evaluate.run import CONFUSION, GENERATIONS, METRICS, RADAR, REPORT, EvalConfig, EvalError, run_evaluation
from kardia.judge.items import JudgeResult
from kardia.models.base import ChatModel, Generation
from kardia.spans import render

CRITERIA = ("relevance", "empathy", "persona_consistency", "safety", "fluency")
FINAL_FILES = (GENERATIONS, METRICS, REPORT, RADAR, CONFUSION)


# -- fakes ---------------------------------------------------------------------------------------------

class Interrupted(RuntimeError):
    pass


def _digest(text: str) -> int:
    return int(hashlib.sha1(text.encode("utf-8")).hexdigest(), 16)


class FakeChatModel(ChatModel):
    """Answers depend only on the last user turn; `fail_after` generate calls raise (a crash)."""

    name = "fake-model"

    def __init__(self, *, fail_after: int | None = None, always: str | None = None) -> None:
        super().__init__()
        self.fail_after = fail_after
        self.always = always  # every answer names this emotion
        self.calls = 0
        self.prompts_seen = 0

    def generate(self, conversations, config=None, *, progress=None):
        if self.fail_after is not None and self.calls >= self.fail_after:
            raise Interrupted("simulated crash")
        self.calls += 1
        out = []
        for conversation in conversations:
            self.prompts_seen += 1
            user = conversation[-1]["content"]
            plain = conversation[0]["content"].startswith("You are an empathetic listener")
            emotion = self.always or EMOTIONS[_digest(user) % 8]
            if _digest(user) % 5 == 0:
                text = "I am not sure what to say."  # malformed in both modes
            elif plain:
                text = f"Emotion: {emotion}\nReply: That sounds like a lot to carry."
            else:
                text = render("The user shares something.", "Validate.", emotion, "That sounds like a lot to carry.")
            out.append(Generation(text=text, prompt_tokens=10, completion_tokens=len(text.split())))
            if progress:
                progress(1)
        return out


class StubJudge:
    """Scores from a hash of the reply; an empty reply is unscorable; `fail_after` score calls raise."""

    def __init__(self, *, fail_after: int | None = None) -> None:
        self.fail_after = fail_after
        self.calls = 0
        self.items_seen = 0

    def score(self, items):
        if self.fail_after is not None and self.calls >= self.fail_after:
            raise Interrupted("simulated judge crash")
        self.calls += 1
        results = []
        for item in items:
            self.items_seen += 1
            if not item.reply:
                results.append(JudgeResult(scores=dict.fromkeys(CRITERIA), error="empty reply"))
                continue
            h = _digest(item.reply + item.messages[-1]["content"])
            results.append(JudgeResult(scores={c: ((h >> (3 * i)) % 5) / 4 for i, c in enumerate(CRITERIA)}))
        return results

    def describe(self):
        return {"model": "stub-judge", "mode": "stub"}


def _config(out: Path, **kwargs) -> EvalConfig:
    return EvalConfig(data="sample", out=out, limit=10, chunk_size=3, n_resamples=200, **kwargs)


def _snapshot(directory: Path) -> dict[str, bytes]:
    return {name: (directory / name).read_bytes() for name in FINAL_FILES}


# -- metrics on fixed generations ---------------------------------------------------------------------

def _row(gold, predicted, *, ok=True, scores=None, tokens=5, mode="kardia"):
    return {"id": f"{gold}-{predicted}-{ok}", "mode": mode, "error": None, "spans": {"ok": ok}, "problems": [] if ok else ["missing_span"],
            "gold_emotion": gold, "predicted_emotion": predicted, "response_tokens": tokens,
            "judge_scores": dict.fromkeys(CRITERIA, 0.5) if scores is None else scores}


FIXED = [
    _row("sad", "sad", scores=dict.fromkeys(CRITERIA, 1.0), tokens=4),
    _row("sad", "angry", scores=dict.fromkeys(CRITERIA, 0.5), tokens=6),
    _row("angry", "angry", scores=dict.fromkeys(CRITERIA, 0.0), tokens=8),
    _row("joyful", None, ok=False, scores={**dict.fromkeys(CRITERIA, 0.25), "safety": None}, tokens=None),
    _row(None, "sad", ok=False, scores=dict.fromkeys(CRITERIA, 0.75), tokens=2),  # ED-style row without gold emotion
]


def test_metrics_on_fixed_generations_match_hand_values():
    m = compute_metrics(FIXED, settings=BootstrapSettings(n_resamples=500))
    assert m["n"] == 5 and m["n_with_gold_emotion"] == 4
    assert m["format_rate"] == pytest.approx(3 / 5)  # every example counts
    assert m["emotion_accuracy"] == pytest.approx(2 / 4)  # only examples with a gold emotion
    # sad: P=1 R=1/2 F1=2/3; angry: P=1/2 R=1 F1=2/3; joyful: F1=0 -> macro 4/9
    assert m["emotion_macro_f1"] == pytest.approx(4 / 9)
    assert m["per_emotion"]["angry"] == {"precision": 0.5, "recall": 1.0, "f1": pytest.approx(2 / 3), "support": 1}
    assert m["per_emotion"]["sad"]["recall"] == 0.5 and m["per_emotion"]["joyful"]["support"] == 1
    # the None safety score is left out of safety and of the rubric mean, and counted as a failure
    assert m["judge_failures"] == 1
    assert m["rubric"]["safety"] == pytest.approx((1.0 + 0.5 + 0.0 + 0.75) / 4)
    assert m["rubric"]["empathy"] == pytest.approx((1.0 + 0.5 + 0.0 + 0.25 + 0.75) / 5)
    assert m["rubric_mean"] == pytest.approx((1.0 + 0.5 + 0.0 + 0.75) / 4)
    assert m["response_tokens_mean"] == pytest.approx(5.0)
    assert m["unlabelled_predictions"] == 1
    for name in ("format_rate", "emotion_accuracy", "emotion_macro_f1", "rubric_mean", "rubric.empathy"):
        low, high = m["ci"][name]
        assert 0.0 <= low <= high <= 1.0


def test_plain_format_rate_needs_both_lines_only():
    rows = [
        {**_row("sad", "sad", mode="plain"), "spans": {"ok": False}, "problems": ["response_too_long"]},
        {**_row("sad", None, mode="plain"), "problems": ["missing_span"]},
    ]
    assert compute_metrics(rows, settings=BootstrapSettings(n_resamples=50))["format_rate"] == 0.5


def test_bootstrap_bounds_on_tiny_arrays():
    many = BootstrapSettings(n_resamples=20000, seed=3)
    # mean of 4 draws from [0,0,0,1]: P(0)=.316, P(.25)=.422, P(.5)=.211, P(.75)=.047, P(1)=.004
    # -> 2.5th percentile 0, 97.5th percentile .75
    assert bootstrap_mean_ci([0, 0, 0, 1], many) == (0.0, 0.75)
    assert bootstrap_mean_ci([0, 1], many) == (0.0, 1.0)  # means 0, .5, 1 with P .25, .5, .25
    assert bootstrap_mean_ci([0.3, 0.3, float("nan")], many) == pytest.approx((0.3, 0.3))
    assert bootstrap_mean_ci([float("nan")], many) is None
    # deterministic under the seed; the numpy percentile of the resampled means by hand
    values = np.array([0.1, 0.4, 0.35, 0.8, 0.9])
    settings = BootstrapSettings(n_resamples=1000, seed=7)
    by_hand = np.percentile(values[np.random.default_rng(7).integers(0, 5, size=(1000, 5))].mean(axis=1), [2.5, 97.5])
    assert bootstrap_mean_ci(values, settings) == pytest.approx(tuple(by_hand))
    assert bootstrap_mean_ci(values, settings) == bootstrap_mean_ci(values, settings)


def test_vectorised_macro_f1_equals_sklearn():
    rng = np.random.default_rng(0)
    gold = list(rng.choice(EMOTIONS[:6], 40))
    predicted = list(rng.choice([*EMOTIONS[:7], "(none)"], 40))
    indices = resample_indices(40, BootstrapSettings(n_resamples=30, seed=1))
    fast = resampled_macro_f1(gold, predicted, indices)
    slow = [macro_f1([gold[i] for i in row], [predicted[i] for i in row]) for row in indices]
    assert fast == pytest.approx(slow)
    low, high = bootstrap_macro_f1_ci(gold, predicted, BootstrapSettings(n_resamples=300))
    assert low <= macro_f1(gold, predicted) <= high


def test_paired_pvalue_extremes():
    settings = BootstrapSettings(n_resamples=999)
    same = [0.2, 0.5, 0.9, 0.1]
    assert paired_bootstrap_pvalue(same, same, settings) == 1.0
    # B beats A on every example by exactly 1: no resample reaches the null -> the smallest p
    assert paired_bootstrap_pvalue([0, 0, 0, 0, 0], [1, 1, 1, 1, 1], settings) == pytest.approx(1 / 1000)
    assert paired_bootstrap_pvalue([float("nan")], [1.0], settings) is None


def test_judge_sees_earlier_assistant_turns_as_their_response():
    from kardia.data.sources import load_examples
    from kardia.evaluate.run import judge_item

    example = next(e for e in load_examples("sample") if e.turn == 1)
    generated = {"messages": example.messages, "spans": {"response": "I hear you."}}
    item = judge_item(example, generated)
    assert [m["role"] for m in item.messages] == ["user", "assistant", "user"]
    assert "<|" not in item.messages[1]["content"] and item.messages[1]["content"]
    assert item.reply == "I hear you." and item.persona == example.person


# -- runs with fakes ----------------------------------------------------------------------------------

def test_run_writes_rows_metrics_report_and_plots(tmp_path):
    result = run_evaluation(_config(tmp_path / "run"), model=FakeChatModel(), judge=StubJudge())
    out = tmp_path / "run"
    rows = [json.loads(line) for line in (out / GENERATIONS).read_text().splitlines()]
    assert len(rows) == 10 and [r["id"] for r in rows] == [r["id"] for r in result.rows]
    first = rows[0]
    for key in ("messages", "output", "spans", "problems", "gold_emotion", "predicted_emotion", "judge_scores", "judge_error"):
        assert key in first
    metrics = json.loads((out / METRICS).read_text())
    expected_accuracy = sum(r["predicted_emotion"] == r["gold_emotion"] for r in rows) / 10
    assert metrics["emotion_accuracy"] == pytest.approx(expected_accuracy)
    assert metrics["format_rate"] == pytest.approx(sum(r["spans"]["ok"] for r in rows) / 10)
    malformed = [r for r in rows if not r["spans"]["response"]]
    assert metrics["judge_failures"] == len(malformed)  # empty replies were unscorable: None, not 0
    assert metrics["model"]["name"] == "fake-model" and metrics["judge"]["model"] == "stub-judge"
    assert "started_at" not in metrics and "started_at" in json.loads((out / "run.json").read_text())
    report = (out / REPORT).read_text()
    assert "| Emotion accuracy |" in report and "## Per emotion" in report and "## Worst examples" in report
    for name in (RADAR, CONFUSION):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_resume_after_generation_crash_gives_identical_files(tmp_path):
    run_evaluation(_config(tmp_path / "clean"), model=FakeChatModel(), judge=StubJudge())
    with pytest.raises(Interrupted):
        run_evaluation(_config(tmp_path / "resumed"), model=FakeChatModel(fail_after=2), judge=StubJudge())
    lines = (tmp_path / "resumed" / "stages" / "generate.jsonl").read_text().splitlines()
    assert len(lines) == 6  # two chunks of 3 were written before the crash
    model = FakeChatModel()
    run_evaluation(_config(tmp_path / "resumed"), model=model, judge=StubJudge())
    assert model.prompts_seen == 4  # finished examples were not generated again
    assert _snapshot(tmp_path / "resumed") == _snapshot(tmp_path / "clean")


def test_resume_after_torn_line_and_judge_crash_gives_identical_files(tmp_path):
    run_evaluation(_config(tmp_path / "clean"), model=FakeChatModel(), judge=StubJudge())
    resumed = tmp_path / "resumed"
    with pytest.raises(Interrupted):
        run_evaluation(_config(resumed), model=FakeChatModel(), judge=StubJudge(fail_after=1))
    stage = resumed / "stages" / "generate.jsonl"
    text = stage.read_text()
    stage.write_text(text[: len(text) * 2 // 3])  # a crash mid-write: a torn last line
    judge = StubJudge()
    run_evaluation(_config(resumed), model=FakeChatModel(), judge=judge)
    assert judge.items_seen < 10  # the first judged chunk was kept
    assert _snapshot(resumed) == _snapshot(tmp_path / "clean")
    again = StubJudge()
    run_evaluation(_config(resumed), model=FakeChatModel(fail_after=0), judge=again)  # finished: nothing rerun
    assert again.items_seen == 0 and _snapshot(resumed) == _snapshot(tmp_path / "clean")


def test_resume_refuses_a_different_run(tmp_path):
    run_evaluation(_config(tmp_path / "run"), model=FakeChatModel(), judge=StubJudge())
    with pytest.raises(EvalError, match="mode"):
        run_evaluation(_config(tmp_path / "run", mode="plain"), model=FakeChatModel(), judge=StubJudge())


def test_compare_two_fake_runs(tmp_path):
    run_evaluation(_config(tmp_path / "a"), model=FakeChatModel(), judge=StubJudge())
    run_evaluation(_config(tmp_path / "b", mode="plain"), model=FakeChatModel(always="sad"), judge=StubJudge())
    comparison = compare_runs([tmp_path / "a", tmp_path / "a"], BootstrapSettings(n_resamples=200))
    assert all(cells[1].p_value in (None, 1.0) for cells in comparison.cells.values())  # a run against itself
    comparison = compare_runs([tmp_path / "a", tmp_path / "b"], BootstrapSettings(n_resamples=200))
    accuracy = comparison.cells["emotion_accuracy"]
    assert accuracy[0].p_value is None and 0 < accuracy[1].p_value <= 1 and accuracy[1].n_paired == 10
    assert comparison.cells["emotion_macro_f1"][1].p_value is not None
    markdown, table = to_markdown(comparison), to_csv(comparison)
    assert "| Emotion accuracy |" in markdown and "p=" in markdown
    assert len(table.splitlines()) == 1 + 2 * len(comparison.metrics)
    paths = write_comparison(comparison, tmp_path / "cmp")
    assert all(p.is_file() for p in paths) and paths[2].read_bytes()[:4] == b"\x89PNG"


def test_compare_without_shared_ids_has_no_pvalue(tmp_path):
    run_evaluation(_config(tmp_path / "a"), model=FakeChatModel(), judge=StubJudge())
    run_evaluation(EvalConfig(data="sample", out=tmp_path / "b", limit=4, n_resamples=50), model=FakeChatModel(), judge=StubJudge())
    rows = (tmp_path / "b" / GENERATIONS).read_text().splitlines()
    (tmp_path / "b" / GENERATIONS).write_text("\n".join(json.dumps({**json.loads(r), "id": "other" + str(i)}) for i, r in enumerate(rows)) + "\n")
    comparison = compare_runs([tmp_path / "a", tmp_path / "b"], BootstrapSettings(n_resamples=50))
    assert comparison.cells["rubric_mean"][1].p_value is None


# -- end to end ----------------------------------------------------------------------------------------

@pytest.mark.slow
def test_cli_eval_end_to_end_with_embedded_model_and_judge(tmp_path):
    from typer.testing import CliRunner

    from kardia.cli import app

    out = tmp_path / "e2e"
    args = ["eval", "--model", "default", "--data", "sample", "--limit", "6", "--out", str(out), "--max-new-tokens", "64"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / METRICS).read_text())
    assert metrics["n"] == 6 and set(metrics["rubric"]) == set(CRITERIA)
    assert metrics["judge_failures"] < 6
    assert all((out / name).is_file() for name in FINAL_FILES)
    before = _snapshot(out)
    result = CliRunner().invoke(app, args)  # finished: recomputed from the files, identical
    assert result.exit_code == 0, result.output
    assert _snapshot(out) == before

