"""Command-line options shared by every command that runs a model (generate, judge, evaluate, serve)."""

from __future__ import annotations

from typing import Annotated

import typer

ModelOpt = Annotated[
    str,
    typer.Option(
        "--model",
        "-m",
        help="`default` (the embedded SmolLM2-135M-Instruct), a local checkpoint directory, a Hub id, "
        "or with --base-url the served model name.",
    ),
]
BaseUrlOpt = Annotated[
    str | None,
    typer.Option("--base-url", help="OpenAI-compatible API root (e.g. http://localhost:8000/v1); the model is then served over HTTP."),
]
ApiKeyEnvOpt = Annotated[
    str,
    typer.Option("--api-key-env", help="Name of the environment variable holding the API key (the key itself is never passed on the command line)."),
]
BackendOpt = Annotated[
    str | None,
    typer.Option("--backend", help="Local engine: `transformers` (default) or `vllm` (GPU). Ignored with --base-url."),
]
