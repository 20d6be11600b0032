"""Throughput of `kardia build` against an OpenAI-compatible server on loopback: concurrency 1 (the naive,
one dialogue at a time) vs 8 dialogues in flight.

The server is started from ``--server-cmd`` (``{port}`` is replaced), by default ``kardia serve --model
default --port {port}``; all three roles (user simulator, assistant, judge) use it. Each setting builds
into a fresh folder with small settings (by default 2 turns, 1 round) and prints dialogues per minute.

    python benchmarks/build_throughput.py --dialogues 8
    python benchmarks/build_throughput.py --server-cmd "vllm serve HuggingFaceTB/SmolLM2-135M-Instruct --port {port}" --model HuggingFaceTB/SmolLM2-135M-Instruct
"""

from __future__ import annotations

import argparse
import shlex
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(base_url: str, process: subprocess.Popen, timeout: float) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(f"{base_url}/models", timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"the server did not answer {base_url}/models within {timeout:.0f}s")


def run(base_url: str, model: str, concurrency: int, dialogues: int, out: Path, turns: int,
        max_rounds: int) -> tuple[float, dict]:
    from kardia.build.pipeline import BuildConfig, run_build
    from kardia.build.seeds import load_personas, load_seeds, pair_up
    from kardia.judge import Judge
    from kardia.models.openai_compat import OpenAIChatModel

    chat = OpenAIChatModel(model, base_url, concurrency=concurrency * 2)
    judge = Judge(chat, cache=False)
    pairs = pair_up(load_personas(), load_seeds())[:dialogues]
    config = BuildConfig(turns=turns, max_rounds=max_rounds, concurrency=concurrency)
    start = time.perf_counter()
    summary = run_build(pairs, out, user_model=chat, assistant_model=chat, judge=judge, config=config)
    seconds = time.perf_counter() - start
    chat.close()
    return seconds, summary.to_dict()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    kardia = Path(sys.executable).with_name("kardia")  # this environment's CLI, whether or not it is on PATH
    parser.add_argument("--server-cmd", default=f"{kardia} serve --model default --port {{port}}")
    parser.add_argument("--model", default="default", help="served model name to request")
    parser.add_argument("--dialogues", type=int, default=8)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--turns", type=int, default=2, help="assistant turns per dialogue")
    parser.add_argument("--max-rounds", type=int, default=1, help="critique-and-rewrite rounds per turn")
    parser.add_argument("--startup-timeout", type=float, default=300)
    args = parser.parse_args()

    port = free_port()
    base_url = f"http://127.0.0.1:{port}/v1"
    command = shlex.split(args.server_cmd.format(port=port))
    print(f"server: {' '.join(command)}", flush=True)
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready(base_url, process, args.startup_timeout)
        rows = []
        with tempfile.TemporaryDirectory() as tmp:
            for concurrency in args.concurrency:
                seconds, summary = run(base_url, args.model, concurrency, args.dialogues, Path(tmp) / f"c{concurrency}",
                                       args.turns, args.max_rounds)
                done = summary["new_accepted"] + summary["new_rejected"]
                rows.append((concurrency, seconds, done / seconds * 60, summary))
                print(f"concurrency {concurrency}: {done} dialogues in {seconds:.1f}s = "
                      f"{done / seconds * 60:.2f} dialogues/min (accepted {summary['new_accepted']}, "
                      f"errors {summary['new_errors']})", flush=True)
        base = rows[0][2]
        for concurrency, _, rate, _ in rows[1:]:
            print(f"speed-up of concurrency {concurrency} over {rows[0][0]}: {rate / base:.2f}x")
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


if __name__ == "__main__":
    sys.exit(main())
