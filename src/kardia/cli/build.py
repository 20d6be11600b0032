"""`kardia build`: construct KardiaBench-style dialogues with a user simulator, an assistant and the rubric judge."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from kardia.cli.app import app

console = Console()
err_console = Console(stderr=True)

UrlsOpt = Annotated[list[str] | None, typer.Option(help="OpenAI-compatible API root; repeat it to spread the load over a fleet of servers.")]


def _fail(message: str) -> None:
    err_console.print(f"[red]error:[/red] {message}")
    raise typer.Exit(2)


def _thresholds(values: list[str] | None) -> dict[str, float]:
    thresholds = {}
    for value in values or []:
        name, sep, number = value.partition("=")
        try:
            thresholds[name.strip()] = float(number)
        except ValueError:
            sep = ""
        if not sep:
            _fail(f"--threshold {value!r}: expected CRITERION=SCORE, e.g. empathy=0.5")
    return thresholds


def load_role_model(spec: str, urls: list[str], api_key_env: str, concurrency: int) -> Any:
    """A local model (no URL), one served model (one URL) or a least-loaded fleet (several URLs)."""
    from kardia.models.resolve import load_chat_model

    if not urls:
        return load_chat_model(spec)
    members = [load_chat_model(spec, base_url=url, api_key_env=api_key_env, concurrency=concurrency) for url in urls]
    if len(members) == 1:
        return members[0]
    from kardia.build.fleet import FleetChatModel

    return FleetChatModel(members)


@app.command()
def build(
    out: Annotated[Path, typer.Option("--out", help="Output folder: dialogues.jsonl, rejects.jsonl, manifest.json, report.md/json.")],
    personas: Annotated[Path | None, typer.Option(help="Persona profiles, JSONL of {\"person\", \"mbti\"?}. Default: the packaged examples.")] = None,
    seeds: Annotated[Path | None, typer.Option(help="Seeds, JSONL of {\"situation\", \"emotion\"}. Default: the packaged examples.")] = None,
    from_: Annotated[tuple[str, Path] | None, typer.Option("--from", help="Seeds from real data: `ed PATH` (EmpatheticDialogues CSV/JSONL) or `esconv PATH` (an ESConv file).")] = None,
    limit: Annotated[int | None, typer.Option(help="Use the first N seeds only.")] = None,
    per_seed: Annotated[int, typer.Option(help="Personas paired with each seed (taken in turn).")] = 1,
    turns: Annotated[int, typer.Option(help="User/assistant exchanges per dialogue.")] = 3,
    max_rounds: Annotated[int, typer.Option(help="Critique-guided rewrites per assistant turn at most.")] = 2,
    min_score: Annotated[float, typer.Option(help="Minimum rubric overall score (0-1) of every assistant turn.")] = 0.5,
    threshold: Annotated[list[str] | None, typer.Option(help="Per-criterion minimum, CRITERION=SCORE (0-1); repeatable.")] = None,
    min_emotion_agreement: Annotated[float, typer.Option(help="Reject dialogues whose emotion spans match the seed on fewer turns than this fraction.")] = 0.5,
    user_model: Annotated[str, typer.Option(help="User simulator: `default`, a checkpoint, a hub id or a served model name.")] = "default",
    assistant_model: Annotated[str, typer.Option(help="Assistant that writes the four-span answers.")] = "default",
    judge: Annotated[str, typer.Option("--judge", help="Rubric judge model.")] = "default",
    base_url: UrlsOpt = None,
    user_base_url: UrlsOpt = None,
    assistant_base_url: UrlsOpt = None,
    judge_base_url: UrlsOpt = None,
    api_key_env: Annotated[str, typer.Option(help="Environment variable holding the API key.")] = "OPENAI_API_KEY",
    assistant_mode: Annotated[str, typer.Option(help="`spans`: one call per span (small models); `joint`: the whole answer in one call.")] = "spans",
    emotion_choice: Annotated[str, typer.Option(help="Spans mode: `auto`, `logprob` (likeliest of the 32 labels) or `generate`.")] = "auto",
    concurrency: Annotated[int, typer.Option(help="Dialogues in flight at once (and requests per server).")] = 4,
    max_dialogues: Annotated[int | None, typer.Option(help="Stop once this many dialogues are finished in --out.")] = None,
    max_tokens: Annotated[int | None, typer.Option(help="Stop starting dialogues once the models have used this many tokens.")] = None,
    seed: Annotated[int, typer.Option(help="Base seed of sampled decoding.")] = 0,
) -> None:
    """Build KardiaBench dialogues: simulated user, four-span assistant, rubric critique and rewrites.

    Resumable: run the same command again after a crash and only unfinished dialogues are built.
    --base-url applies to every role unless it has its own --user/--assistant/--judge-base-url.

    Example: kardia build --seeds seeds.jsonl --personas personas.jsonl --out runs/kb --turns 3 --max-rounds 2
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from kardia.build.pipeline import BuildConfig, BuildError, run_build
    from kardia.build.seeds import PACKAGED_PERSONAS, PACKAGED_SEEDS, SeedError, ed_seeds, esconv_seeds, load_personas, load_seeds, pair_up

    if from_ is not None and seeds is not None:
        _fail("give either --seeds or --from, not both")
    try:
        persona_list = load_personas(personas or PACKAGED_PERSONAS)
        if from_ is not None:
            kind, path = from_
            if kind not in ("ed", "esconv"):
                _fail(f"--from {kind!r}: expected `ed PATH` or `esconv PATH`")
            seed_list = ed_seeds(path) if kind == "ed" else esconv_seeds(path)
        else:
            seed_list = load_seeds(seeds or PACKAGED_SEEDS)
        pairs = pair_up(persona_list, seed_list[:limit] if limit else seed_list, per_seed=per_seed)
        config = BuildConfig(
            turns=turns, max_rounds=max_rounds, min_score=min_score, thresholds=_thresholds(threshold),
            min_emotion_agreement=min_emotion_agreement, assistant_mode=assistant_mode, emotion_choice=emotion_choice,
            seed=seed, concurrency=concurrency, max_dialogues=max_dialogues, max_tokens=max_tokens,
        )
    except (SeedError, ValueError) as exc:
        _fail(str(exc))

    shared = list(base_url or [])
    urls = {role: list(own) if own else shared for role, own in
            (("user", user_base_url), ("assistant", assistant_base_url), ("judge", judge_base_url))}
    loaded: dict[tuple, Any] = {}

    def role_model(spec: str, role: str) -> Any:
        key = (spec, tuple(urls[role]))
        if key not in loaded:
            loaded[key] = load_role_model(spec, urls[role], api_key_env, concurrency)
        return loaded[key]

    with console.status("loading models"):
        from kardia.judge import Judge

        users = role_model(user_model, "user")
        assistant = role_model(assistant_model, "assistant")
        critic = Judge(role_model(judge, "judge"))  # a model loaded for another role is shared

    with Progress(TextColumn("building"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[tally]}"),
                  TimeElapsedColumn(), console=console) as bar:
        task = bar.add_task("build", total=len(pairs), tally="")
        tally = {"accepted": 0, "rejected": 0, "error": 0}

        def progress(status: str, line: dict) -> None:
            tally[status] += 1
            bar.update(task, advance=1, tally=" ".join(f"{k} {v}" for k, v in tally.items()))

        try:
            summary = run_build(pairs, out, user_model=users, assistant_model=assistant, judge=critic, config=config, progress=progress)
        except BuildError as exc:
            _fail(str(exc))
    for model in {id(m): m for m in loaded.values()}.values():
        model.close()
    console.print(
        f"[green]{summary.accepted} accepted[/green], {summary.rejected} rejected of {summary.pairs} "
        f"({summary.new_accepted} + {summary.new_rejected} this run, {summary.skipped} already done, "
        f"{summary.errors} errors to retry, {summary.pending} pending); stopped: {summary.stopped}"
    )
    if summary.repaired_bytes:
        console.print(f"repaired a torn last line ({summary.repaired_bytes} bytes) left by an interrupted run")
    console.print(f"dialogues → {out / 'dialogues.jsonl'}; report → {out / 'report.md'}")
