"""A terminal conversation with a Kardia model (`kardia chat`).

`ChatSession` keeps the dialogue, builds the Kardia prompt each turn, runs the model and passes every
turn through the crisis-safety layer (`kardia.serve.turns`). The model sees its earlier answers as full
four-span turns, as in KardiaBench. `run_chat` is the Rich read-eval-print loop around a session, with
the slash commands in `COMMANDS`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel

from kardia.models.base import ChatModel, GenerationConfig
from kardia.prompts import turn_messages
from kardia.serve.safety import SafetyLayer
from kardia.serve.turns import KardiaTurn, finish_turn, safety_field, screen_user

COMMANDS = {
    "/help": "show this help",
    "/reset": "start a new conversation (persona and situation are kept)",
    "/persona FILE": "load a persona (text file, or JSON with 'person' and optional 'situation') and start over",
    "/save FILE": "write the conversation as a KardiaBench-style JSON record",
    "/quit": "leave (Ctrl-D and Ctrl-C work too)",
}
_MBTI = re.compile(r"\bMBTI:\s*([EI][NS][TF][JP](?:-[AT])?)", re.IGNORECASE)


class PersonaError(ValueError):
    """A persona file could not be read; the message names the file and the problem."""


def load_persona(path: str | Path) -> tuple[str, str | None]:
    """(persona, situation or None) from a text file, or a JSON object with ``person`` (and ``situation``)."""
    p = Path(path).expanduser()
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise PersonaError(f"cannot read persona file {p}: {exc.strerror or exc}") from None
    if p.suffix.lower() in (".json", ".jsonl"):
        try:
            obj = json.loads(text.strip().splitlines()[0] if p.suffix.lower() == ".jsonl" else text)
        except (json.JSONDecodeError, IndexError) as exc:
            raise PersonaError(f"persona file {p} is not valid JSON: {exc}") from None
        if not isinstance(obj, dict) or not isinstance(obj.get("person"), str):
            raise PersonaError(f"persona file {p}: expected a JSON object with a string field 'person'")
        situation = obj.get("situation")
        return obj["person"].strip(), situation.strip() if isinstance(situation, str) else None
    if not text.strip():
        raise PersonaError(f"persona file {p} is empty")
    return text.strip(), None


@dataclass
class ChatSession:
    """One conversation: persona, situation, the dialogue so far and each turn's outcome.

    Args:
        model: the chat model.
        persona: the user profile (MBTI, About, ...).
        situation: the background of the conversation.
        config: decoding settings.
        safety: the crisis-safety layer.
        locale: crisis-resources locale (None: the layer's default).
    """

    model: ChatModel
    persona: str = ""
    situation: str = ""
    config: GenerationConfig = field(default_factory=GenerationConfig)
    safety: SafetyLayer = field(default_factory=SafetyLayer)
    locale: str | None = None
    history: list[dict[str, str]] = field(default_factory=list)
    turns: list[KardiaTurn] = field(default_factory=list)

    def prompt(self) -> list[dict[str, str]]:
        """The messages the model sees now."""
        return turn_messages(self.persona or "(not given)", self.situation or "(not given)", self.history)

    def send(self, text: str) -> KardiaTurn:
        """Add the user's message, answer it (or give the safe reply), and return the turn."""
        self.history.append({"role": "user", "content": text})
        turn = screen_user(self.safety, text, self.locale)
        if turn is None:
            generation = self.model.generate([self.prompt()], self.config)[0]
            if generation.error is not None:
                self.history.pop()
                raise RuntimeError(f"the model failed: {generation.error}")
            turn = finish_turn(self.safety, text, generation.text, self.locale,
                               tokenizer=getattr(self.model, "tokenizer", None))
        self.history.append({"role": "assistant", "content": turn.assistant_message()})
        self.turns.append(turn)
        return turn

    def reset(self) -> None:
        """Forget the dialogue (persona and situation stay)."""
        self.history.clear()
        self.turns.clear()

    def to_record(self) -> dict[str, Any]:
        """The conversation as a KardiaBench-style record (plus per-turn raw outputs and safety verdicts)."""
        labels = [t.spans.emotion_label for t in self.turns if t.shown_spans() is not None and t.spans.emotion_label]
        mbti = _MBTI.search(self.persona)
        return {
            "person": self.persona,
            "mbti": mbti.group(1).upper() if mbti else "",
            "emotion": labels[-1] if labels else "",
            "situation": self.situation,
            "anon_username": "kardia_chat",
            "messages": self.prompt(),
            "partial": False,
            "kardia_chat": {
                "model": self.model.name,
                "generation": self.config.to_dict(),
                "turns": [{"raw": t.raw, "problems": t.spans.codes() if t.spans else [],
                           "safety": safety_field(t.safety)} for t in self.turns],
            },
        }

    def save(self, path: str | Path) -> Path:
        """Write `to_record()` as JSON and return the path."""
        p = Path(path).expanduser()
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(json.dumps(self.to_record(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        return p


def show_turn(console: Console, turn: KardiaTurn, *, show_spans: bool = False) -> None:
    """Print a turn: the reply with its emotion, the spans (dimmed) on request, a red panel when flagged."""
    if turn.flagged:
        console.print(Panel(escape(turn.content), title="[bold]safety reply[/bold]", border_style="red",
                            subtitle="crisis resources", subtitle_align="right"))
        return
    spans = turn.spans
    emotion = spans.emotion_label or spans.emotion or "?" if spans else "?"
    reply = turn.content or "(the model gave no reply)"
    console.print(f"[bold magenta]kardia[/bold magenta] [dim]({escape(emotion)})[/dim] {escape(reply)}")
    if show_spans and spans is not None:
        lines = [f"understanding: {spans.understanding or '(none)'}", f"reasoning: {spans.reasoning or '(none)'}",
                 f"emotion: {spans.emotion or '(none)'}"]
        if spans.problems:
            lines.append("problems: " + ", ".join(f"{p.code} ({p.span})" if p.span else p.code for p in spans.problems))
        console.print(Panel(escape("\n".join(lines)), style="dim", border_style="dim"))


def _help(console: Console) -> None:
    for name, text in COMMANDS.items():
        console.print(f"  [bold]{escape(name)}[/bold]  {text}")


def run_chat(session: ChatSession, console: Console | None = None, *, show_spans: bool = False) -> None:
    """The interactive loop: read a line, answer it, until /quit, Ctrl-D or Ctrl-C."""
    console = console or Console()
    console.print(f"[dim]Chatting with {escape(session.model.name)}. Type /help for commands, Ctrl-D to leave.[/dim]")
    while True:
        try:
            line = console.input("[bold cyan]you>[/bold cyan] ").strip()
        except (EOFError, KeyboardInterrupt):
            console.print("\n[dim]bye[/dim]")
            return
        if not line:
            continue
        if line.startswith("/"):
            command, _, arg = line.partition(" ")
            arg = arg.strip()
            if command in ("/quit", "/exit"):
                console.print("[dim]bye[/dim]")
                return
            if command == "/help":
                _help(console)
            elif command == "/reset":
                session.reset()
                console.print("[dim]new conversation[/dim]")
            elif command == "/persona" and arg:
                try:
                    persona, situation = load_persona(arg)
                except PersonaError as exc:
                    console.print(f"[red]error:[/red] {escape(str(exc))}")
                    continue
                session.persona = persona
                session.situation = situation if situation is not None else session.situation
                session.reset()
                console.print(f"[dim]persona loaded from {escape(arg)}; new conversation[/dim]")
            elif command == "/save" and arg:
                try:
                    console.print(f"[dim]saved to {escape(str(session.save(arg)))}[/dim]")
                except OSError as exc:
                    console.print(f"[red]error:[/red] cannot write {escape(arg)}: {escape(str(exc))}")
            else:
                console.print(f"[yellow]unknown command or missing argument:[/yellow] {escape(line)}")
                _help(console)
            continue
        try:
            with console.status("thinking…"):
                turn = session.send(line)
        except KeyboardInterrupt:
            if session.history and session.history[-1]["role"] == "user":
                session.history.pop()
            console.print("\n[dim]interrupted; that message was dropped[/dim]")
            continue
        except RuntimeError as exc:
            console.print(f"[red]error:[/red] {escape(str(exc))}")
            continue
        show_turn(console, turn, show_spans=show_spans)
