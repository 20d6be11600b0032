"""`kardia chat` (a terminal conversation) and `kardia serve` (OpenAI-compatible API and chat page)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from kardia.cli.app import app
from kardia.cli.options import ApiKeyEnvOpt, BackendOpt, BaseUrlOpt, ModelOpt

console = Console()
err_console = Console(stderr=True)

LocaleOpt = Annotated[
    str,
    typer.Option("--locale", help="Locale of the crisis resources shown on flagged turns, e.g. en-US, en-GB, de-DE."),
]
SafetyClassifierOpt = Annotated[
    bool,
    typer.Option("--safety-classifier/--no-safety-classifier",
                 help="Screen user messages with the fine-tuned classifier as well as the rules; it flags what the "
                 "rules miss and overrules rule hits it is confident are safe (extra `safety-classifier`, "
                 "installed by `make setup`; rules only when it is absent): on wording written blind to the "
                 "screen, recall 0.95-0.97 at 0-3% false alarms instead of 0.43-0.57 at 7-13% (docs/results.md)."),
]
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _load(model: str, base_url: str | None, api_key_env: str | None, backend: str | None, **kwargs):
    from kardia.models.local import ModelLoadError
    from kardia.models.resolve import load_chat_model

    try:
        with err_console.status(f"loading {model}…"):
            return load_chat_model(model, base_url=base_url, api_key_env=api_key_env, backend=backend, **kwargs)
    except (ModelLoadError, ImportError, ValueError) as exc:
        err_console.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(2) from exc


@app.command()
def chat(
    model: ModelOpt = "default",
    base_url: BaseUrlOpt = None,
    api_key_env: ApiKeyEnvOpt = "OPENAI_API_KEY",
    backend: BackendOpt = None,
    persona: Annotated[Path | None, typer.Option("--persona", help="Persona file: text, or JSON with 'person' (and 'situation').")] = None,
    situation: Annotated[str | None, typer.Option("--situation", help="The situation of the conversation.")] = None,
    show_spans: Annotated[bool, typer.Option("--show-spans", help="Also show understanding, reasoning and emotion.")] = False,
    locale: LocaleOpt = "en-US",
    safety_classifier: SafetyClassifierOpt = True,
    max_new_tokens: Annotated[int, typer.Option(help="Most tokens per answer.")] = 256,
    temperature: Annotated[float, typer.Option(help="0 is greedy decoding.")] = 0.7,
    top_p: Annotated[float, typer.Option(help="Nucleus sampling mass (with temperature > 0).")] = 0.9,
    seed: Annotated[int, typer.Option(help="Seed for sampled decoding.")] = 0,
) -> None:
    """Talk to a Kardia model in the terminal; every turn passes the crisis-safety layer.

    Commands inside the chat: /help, /reset, /persona FILE, /save FILE, /quit (or Ctrl-D).

    Example: kardia chat --model default --persona persona.txt --situation "I failed my driving test." --show-spans
    """
    from kardia.models.base import GenerationConfig
    from kardia.serve.chat import ChatSession, PersonaError, load_persona, run_chat
    from kardia.serve.safety import SafetyLayer

    profile, file_situation = "", None
    if persona is not None:
        try:
            profile, file_situation = load_persona(persona)
        except PersonaError as exc:
            err_console.print(f"[red]error:[/red] {exc}", highlight=False)
            raise typer.Exit(2) from exc
    chat_model = _load(model, base_url, api_key_env, backend)
    session = ChatSession(
        model=chat_model, persona=profile, situation=situation or file_situation or "",
        config=GenerationConfig(max_new_tokens=max_new_tokens, temperature=temperature, top_p=top_p, seed=seed),
        safety=SafetyLayer(locale=locale, classifier=safety_classifier), locale=locale,
    )
    try:
        run_chat(session, console, show_spans=show_spans)
    finally:
        chat_model.close()


@app.command()
def serve(
    model: ModelOpt = "default",
    backend: BackendOpt = None,
    host: Annotated[str, typer.Option(help="Interface to bind; anything but loopback exposes the server to the network.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    api_key_env: Annotated[str | None, typer.Option("--api-key-env", help="Require 'Authorization: Bearer KEY' on /v1/*, KEY read from this environment variable.")] = None,
    max_concurrency: Annotated[int, typer.Option(help="Completion requests in flight (queued or running); more get 429.")] = 32,
    batch_size: Annotated[int, typer.Option(help="Most concurrent requests batched into one model call.")] = 8,
    batch_wait_ms: Annotated[float, typer.Option(help="How long an idle server waits to batch a first request.")] = 5.0,
    max_tokens_cap: Annotated[int, typer.Option(help="Largest max_tokens a request may ask for.")] = 1024,
    locale: LocaleOpt = "en-US",
    safety_classifier: SafetyClassifierOpt = True,
    served_name: Annotated[str | None, typer.Option(help="Model id reported by /v1/models (default: the model's name).")] = None,
) -> None:
    """Serve a model: OpenAI-compatible /v1/chat/completions, /v1/models, /health and a chat page at /.

    Requests with persona/situation fields or no system message get Kardia mode (response span as
    content, spans and safety verdict in a `kardia` field); other system prompts, `"raw": true` and
    logprob requests are passed through to the model as given.

    Example: kardia serve --model default --port 8000   (then open http://127.0.0.1:8000/)
    """
    import logging
    import os

    import uvicorn

    from kardia.serve.app import ServeConfig, create_app
    from kardia.serve.safety import SafetyLayer

    api_key = None
    if api_key_env:
        api_key = os.environ.get(api_key_env)
        if not api_key:
            err_console.print(f"[red]error:[/red] --api-key-env {api_key_env}: that environment variable is empty or unset")
            raise typer.Exit(2)
    if host not in LOOPBACK and api_key is None:
        err_console.print(f"[yellow]warning:[/yellow] binding {host} without an API key: anyone who can reach this port can use the model")
    for value, name in ((max_concurrency, "--max-concurrency"), (batch_size, "--batch-size"), (max_tokens_cap, "--max-tokens-cap")):
        if value < 1:
            err_console.print(f"[red]error:[/red] {name} must be at least 1, not {value}")
            raise typer.Exit(2)
    chat_model = _load(model, None, None, backend, **({} if backend == "vllm" else {"batch_size": batch_size}))
    name = served_name or (Path(chat_model.name).name if Path(chat_model.name).exists() else chat_model.name)
    config = ServeConfig(model_name=name, api_key=api_key, max_concurrency=max_concurrency, batch_size=batch_size,
                         batch_wait_ms=batch_wait_ms, max_tokens_cap=max_tokens_cap, locale=locale)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(name)s: %(message)s")
    err_console.print(f"serving [bold]{name}[/bold] on http://{host}:{port}/ (API: http://{host}:{port}/v1)", highlight=False)
    try:
        safety = SafetyLayer(locale=locale, classifier=safety_classifier)
        uvicorn.run(create_app(chat_model, config, safety=safety), host=host, port=port, log_level="info")
    finally:
        chat_model.close()
