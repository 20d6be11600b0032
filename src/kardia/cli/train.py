"""`kardia sft` and `kardia grpo`: run a training recipe (TRL's YAML config) with optional overrides."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from kardia.cli.app import app

_PASS_THROUGH = {"allow_extra_args": True, "ignore_unknown_options": True}
ConfigOpt = Annotated[
    Path,
    typer.Option("--config", exists=True, dir_okay=False, help="Recipe YAML (fields of the stage's config and TRL's ModelConfig)."),
]


def _report(card: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(f"{card['stage']} → {card['output_dir']}: {card['global_step']} steps, {card['train_examples']} "
                  f"training turns" + (f", mean training loss {card['train_loss']:.3f}" if card.get("train_loss") else ""),
                  highlight=False)
    if not card.get("evaluation"):
        return
    table = Table(title="Held-out span evaluation")
    table.add_column("When")
    table.add_column("Step", justify="right")
    table.add_column("Format rate", justify="right")
    table.add_column("Emotion accuracy", justify="right")
    for e in card["evaluation"]:
        acc = "n/a" if e["emotion_accuracy"] is None else f"{e['emotion_accuracy']:.2f}"
        table.add_row(e["when"], str(e["step"]), f"{e['format_rate']:.2f}", acc)
    console.print(table)


@app.command(context_settings=_PASS_THROUGH)
def sft(ctx: typer.Context, config: ConfigOpt) -> None:
    """Supervised fine-tuning on KardiaBench-format data (TRL SFTTrainer). Any recipe field can be
    overridden as `--field value`. Multi-GPU: `accelerate launch -m kardia.sft --config …` (see docs/training.md).

    Example: kardia sft --config recipes/SmolLM2-135M-Instruct/sft/config_kardia.yaml --max_steps 20
    """
    from kardia.sft import cli

    _report(cli(["--config", str(config), *ctx.args]))


@app.command(context_settings=_PASS_THROUGH)
def grpo(ctx: typer.Context, config: ConfigOpt) -> None:
    """Rubric-ERL: GRPO (TRL GRPOTrainer) with format, emotion, length and rubric-judge rewards. Any recipe
    field can be overridden as `--field value`, e.g. `--model_name_or_path outputs/sft`.

    Example: kardia grpo --config recipes/SmolLM2-135M-Instruct/grpo/config_kardia.yaml --max_steps 4
    """
    from kardia.grpo import cli

    _report(cli(["--config", str(config), *ctx.args]))
