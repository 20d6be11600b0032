"""The root Typer application; each `kardia.cli.*` module adds its commands to it."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="kardia",
    help=(
        "Kardia: train and evaluate language models that reason toward understanding and empathy.\n\n"
        "Example: kardia data stats sample"
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    pretty_exceptions_show_locals=False,
)
