"""Training: every recipe parses; SFT then GRPO in two CPU processes (the multi-GPU code path); resuming."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
RECIPES = sorted((REPO / "recipes").glob("*/*/*.yaml"))
PYTHON = Path(sys.executable)
TORCHRUN = PYTHON.with_name("torchrun")
SFT_RECIPE = REPO / "recipes/SmolLM2-135M-Instruct/sft/config_kardia.yaml"
GRPO_RECIPE = REPO / "recipes/SmolLM2-135M-Instruct/grpo/config_kardia.yaml"
# Small, fast settings layered over the CPU recipes.
SFT_FAST = ["--dataset_limit", "6", "--per_device_train_batch_size", "1", "--logging_steps", "1",
            "--format_eval_examples", "2", "--format_eval_max_new_tokens", "8", "--save_total_limit", "2"]
GRPO_FAST = ["--dataset_limit", "6", "--num_generations", "2", "--per_device_train_batch_size", "2",
             "--max_completion_length", "12", "--logging_steps", "1", "--log_completions", "false",
             "--judge", "stub_judge:make_judge", "--format_eval_examples", "2", "--format_eval_max_new_tokens", "8"]


def _env() -> dict[str, str]:
    tests = str(REPO / "tests")
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join([tests, os.environ.get("PYTHONPATH", "")]),
            "TOKENIZERS_PARALLELISM": "false", "HF_HUB_OFFLINE": "1"}


def _run(cmd: list[str], timeout: int = 600) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(c) for c in cmd], cwd=REPO, env=_env(), capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{cmd[:4]} failed:\n{proc.stderr[-4000:]}"
    return proc


@pytest.mark.parametrize("recipe", RECIPES, ids=[str(p.relative_to(REPO / "recipes")) for p in RECIPES])
def test_every_recipe_parses(recipe: Path, tmp_path: Path) -> None:
    from trl import ModelConfig, TrlParser

    from kardia.configs import GRPOConfig, SFTConfig

    stage = recipe.parent.name
    config_class = {"sft": SFTConfig, "grpo": GRPOConfig}[stage]
    # GPU recipes say bf16 and vLLM; on this CPU only their parsing is checked (use_cpu keeps bf16 legal).
    config, model_args = TrlParser((config_class, ModelConfig)).parse_args_and_config(
        ["--config", str(recipe), "--output_dir", str(tmp_path), "--use_cpu", "true", "--bf16", "false"]
    )
    assert isinstance(config, config_class) and model_args.model_name_or_path
    if stage == "grpo":
        assert len(config.named_reward_weights()) == len(config.rewards)


def test_recipe_overrides_on_the_command_line(tmp_path: Path) -> None:
    from kardia.sft import make_parser

    config, model_args = make_parser().parse_args_and_config(
        ["--config", str(SFT_RECIPE), "--output_dir", str(tmp_path), "--max_steps", "3", "--model_name_or_path", "x"]
    )
    assert (config.max_steps, model_args.model_name_or_path, config.dataset) == (3, "x", "sample")


def test_sft_then_grpo_in_two_processes(tiny_model_dir: Path, tmp_path: Path) -> None:
    """torchrun with two CPU processes is accelerate's MULTI_CPU (gloo): the multi-GPU code path."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from kardia.spans import SPAN_TOKENS

    sft_out, grpo_out = tmp_path / "sft", tmp_path / "grpo"
    launch = [TORCHRUN, "--nproc_per_node", "2", "--master_port", "29517", "-m"]
    _run([*launch, "kardia.sft", "--config", SFT_RECIPE, "--model_name_or_path", tiny_model_dir,
          "--output_dir", sft_out, "--max_steps", "2", "--save_steps", "2", *SFT_FAST])
    sft_card = json.loads((sft_out / "kardia_training.json").read_text())
    assert sft_card["world_size"] == 2 and sft_card["global_step"] == 2
    assert sft_card["evaluation"] and sft_card["evaluation"][-1]["examples"] == 2  # both processes' shares summed
    tokenizer = AutoTokenizer.from_pretrained(sft_out)
    assert all(len(tokenizer(t, add_special_tokens=False)["input_ids"]) == 1 for t in SPAN_TOKENS)
    assert AutoModelForCausalLM.from_pretrained(sft_out).get_input_embeddings().weight.shape[0] >= len(tokenizer)
    assert "base_model:" in (sft_out / "README.md").read_text()

    _run([*launch, "kardia.grpo", "--config", GRPO_RECIPE, "--model_name_or_path", sft_out,
          "--output_dir", grpo_out, "--max_steps", "2", "--save_steps", "2", *GRPO_FAST])
    card = json.loads((grpo_out / "kardia_training.json").read_text())
    assert card["world_size"] == 2 and card["global_step"] == 2
    assert card["rewards"]["rubric"] == 2.0
    state = json.loads((grpo_out / "checkpoint-2" / "trainer_state.json").read_text())
    logged = {k for entry in state["log_history"] for k in entry}
    assert {"rewards/format_reward/mean", "rewards/rubric_reward/mean", "rewards/rubric_empathy/mean",
            "rewards/malformed_share", "frac_reward_zero_std"} <= logged
    readme = (grpo_out / "README.md").read_text()
    assert "| rubric | 2.0 |" in readme and "stub_judge:make_judge" in readme


def test_interrupted_sft_resumes_from_its_last_checkpoint(tiny_model_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "sft"
    cmd = [PYTHON, "-m", "kardia.sft", "--config", SFT_RECIPE, "--model_name_or_path", tiny_model_dir,
           "--output_dir", out, "--save_steps", "2", *SFT_FAST]
    first = subprocess.Popen([str(c) for c in [*cmd, "--max_steps", "200"]], cwd=REPO, env=_env(),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        while not (out / "checkpoint-2" / "trainer_state.json").is_file():
            assert first.poll() is None, "the first run ended before writing checkpoint-2"
            assert time.monotonic() < deadline, "no checkpoint-2 within 5 minutes"
            time.sleep(0.5)
        time.sleep(1.0)  # let the checkpoint's remaining files land
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    assert not (out / "kardia_training.json").exists()  # it really was interrupted
    interrupted_at = max(int(p.name.split("-")[1]) for p in out.glob("checkpoint-*"))

    second = _run([*cmd, "--max_steps", str(interrupted_at + 2)])
    assert f"checkpoint-{interrupted_at}" in second.stderr
    state = json.loads((out / f"checkpoint-{interrupted_at + 2}" / "trainer_state.json").read_text())
    assert state["global_step"] == interrupted_at + 2
    before = json.loads((out / f"checkpoint-{interrupted_at}" / "trainer_state.json").read_text())
    losses = [(e["step"], e["loss"]) for e in state["log_history"] if "loss" in e]
    # One history: the interrupted run's steps as they were logged, then the resumed ones.
    assert [step for step, _ in losses] == list(range(1, interrupted_at + 3))
    assert losses[:interrupted_at] == [(e["step"], e["loss"]) for e in before["log_history"] if "loss" in e]


def test_lora_sft_trains_the_tag_rows_and_merges(tiny_model_dir: Path, tmp_path: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from kardia.sft import make_parser, main
    from kardia.spans import SPAN_TOKENS

    out = tmp_path / "lora"
    config, model_args = make_parser().parse_args_and_config([
        "--config", str(SFT_RECIPE), "--model_name_or_path", str(tiny_model_dir), "--output_dir", str(out),
        "--max_steps", "1", "--save_strategy", "no", "--use_peft", "true", "--lora_r", "4",
        "--lora_target_modules", "q_proj", "v_proj", "--merge_lora", "true", "--learning_rate", "0.05", "--warmup_steps", "0",
        *SFT_FAST, "--format_eval_examples", "0",
    ])
    card = main(config, model_args)
    assert card["global_step"] == 1 and (out / "README.md").is_file()
    tokenizer = AutoTokenizer.from_pretrained(out)
    merged = AutoModelForCausalLM.from_pretrained(out)  # a plain model: the adapter is merged
    assert not any("lora" in name for name, _ in merged.named_parameters())
    tags = tokenizer.convert_tokens_to_ids(list(SPAN_TOKENS))
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    from kardia.models.tokens import prepare_for_spans

    prepare_for_spans(AutoTokenizer.from_pretrained(tiny_model_dir), base)
    moved = (merged.get_input_embeddings().weight[tags] - base.get_input_embeddings().weight[tags]).abs().sum()
    assert moved > 0  # the tag rows were trained (embeddings in modules_to_save), then merged


def test_judge_failure_guard_stops_training() -> None:
    from types import SimpleNamespace

    from kardia.callbacks import JudgeFailureError, JudgeFailureGuard

    guard = JudgeFailureGuard(max_failure_rate=0.2, min_items=32, judge_name="default")
    args, state = SimpleNamespace(world_size=2), SimpleNamespace(global_step=7)
    guard.on_log(args, state, None, logs={"judge/failure_rate_total": 0.9, "judge/judged_total": 8.0})  # too few yet
    guard.on_log(args, state, None, logs={"judge/failure_rate_total": 0.1, "judge/judged_total": 40.0})
    with pytest.raises(JudgeFailureError, match="failed on 50% of about 80 judged replies"):
        guard.on_log(args, state, None, logs={"judge/failure_rate_total": 0.5, "judge/judged_total": 40.0})


def test_span_scores() -> None:
    from kardia.callbacks import span_scores
    from kardia.spans import render

    texts = [render("u", "r", "sad", "Hi."), render("u", "r", "Sadness", "Hi.").replace("<|reasoning_end|>", ""), "x"]
    counts = span_scores(texts, ["sad", "sad", None])
    assert counts == {"examples": 3.0, "well_formed": 1.0, "with_gold": 2.0, "emotion_correct": 2.0}
