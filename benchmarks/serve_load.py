"""Load test of `kardia serve`: concurrent requests (batched by the server) against one at a time.

Starts ``kardia serve --model default`` (or ``--model SPEC``) on 127.0.0.1 at a free port (loopback only), waits for
``/health``, sends one warm-up request, then in the same run:

1. ``--requests`` requests with ``--concurrency`` in flight (httpx async), which the server batches;
2. ``--sequential`` requests one after another (the naive way: every request is its own model call).

Prompts are the Kardia prompts of the packaged sample dialogues (Kardia mode, greedy, ``--max-tokens``
new tokens at most). Both phases are bounded by ``--phase-timeout`` seconds. Reports errors, p50/p95
latency, requests/s and completion tokens/s for both phases, and the server's batch sizes.

Run: .venv/bin/python benchmarks/serve_load.py [--requests 200] [--concurrency 8] [--sequential 50] [--max-tokens 48]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from kardia.data.sources import load_examples


@dataclass
class Phase:
    """Timings of one phase."""

    name: str
    latencies: list[float] = field(default_factory=list)
    completion_tokens: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    wall: float = 0.0

    def report(self) -> str:
        done = len(self.latencies)
        if not done:
            return f"{self.name}: no successful requests; errors {self.errors}"
        q = statistics.quantiles(self.latencies, n=20) if done > 1 else [self.latencies[0]] * 19
        return (f"{self.name}: {done} ok, errors {sum(self.errors.values())} {self.errors or ''} | "
                f"latency p50 {statistics.median(self.latencies):.2f} s, p95 {q[18]:.2f} s | "
                f"throughput {done / self.wall:.2f} req/s, {self.completion_tokens / self.wall:.1f} completion tok/s "
                f"| wall {self.wall:.1f} s")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(model: str, port: int, batch_size: int) -> subprocess.Popen:
    kardia = Path(sys.executable).with_name("kardia")
    command = [str(kardia), "serve", "--model", model, "--host", "127.0.0.1", "--port", str(port),
               "--batch-size", str(batch_size), "--max-concurrency", "64"]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)


def wait_healthy(url: str, server: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with {server.returncode}: {server.stderr.read()[-2000:]}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"the server did not become healthy within {timeout:.0f} s")


async def one(client: httpx.AsyncClient, phase: Phase, messages: list[dict[str, str]], max_tokens: int) -> None:
    start = time.perf_counter()
    try:
        r = await client.post("/v1/chat/completions", json={"messages": messages, "max_tokens": max_tokens, "temperature": 0})
    except httpx.HTTPError as exc:
        phase.errors[type(exc).__name__] = phase.errors.get(type(exc).__name__, 0) + 1
        return
    if r.status_code != 200:
        phase.errors[str(r.status_code)] = phase.errors.get(str(r.status_code), 0) + 1
        return
    phase.latencies.append(time.perf_counter() - start)
    phase.completion_tokens += r.json()["usage"]["completion_tokens"]


async def run_phase(url: str, phase: Phase, prompts: list, count: int, concurrency: int, max_tokens: int, timeout: float) -> Phase:
    semaphore = asyncio.Semaphore(concurrency)

    async def bounded(i: int) -> None:
        async with semaphore:
            await one(client, phase, prompts[i % len(prompts)], max_tokens)

    async with httpx.AsyncClient(base_url=url, timeout=timeout) as client:
        start = time.perf_counter()
        tasks = [asyncio.create_task(bounded(i)) for i in range(count)]
        done, pending = await asyncio.wait(tasks, timeout=timeout)
        for task in pending:
            task.cancel()
        phase.wall = time.perf_counter() - start
        if pending:
            phase.errors["phase timeout"] = len(pending)
    return phase


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="default", help="model spec to serve (default: the embedded model)")
    parser.add_argument("--requests", type=int, default=200, help="requests in the concurrent phase")
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight in the concurrent phase")
    parser.add_argument("--sequential", type=int, default=50, help="requests in the sequential phase")
    parser.add_argument("--max-tokens", type=int, default=48, help="max_tokens per request")
    parser.add_argument("--batch-size", type=int, default=8, help="the server's --batch-size")
    parser.add_argument("--phase-timeout", type=float, default=600, help="seconds per phase at most")
    args = parser.parse_args()

    prompts = [e.messages for e in load_examples("sample")]
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = start_server(args.model, port, args.batch_size)
    try:
        wait_healthy(url, server, timeout=300)
        asyncio.run(run_phase(url, Phase("warm-up"), prompts, 1, 1, args.max_tokens, 120))
        print(f"kardia serve --model {args.model} on {url}; {len(prompts)} distinct sample prompts, max_tokens {args.max_tokens}, "
              f"server batch size {args.batch_size}, {os.cpu_count()} CPUs", flush=True)
        concurrent = asyncio.run(run_phase(url, Phase(f"concurrent x{args.concurrency}"), prompts, args.requests,
                                           args.concurrency, args.max_tokens, args.phase_timeout))
        print(concurrent.report(), flush=True)
        sequential = asyncio.run(run_phase(url, Phase("sequential"), prompts, args.sequential, 1, args.max_tokens,
                                           args.phase_timeout))
        print(sequential.report(), flush=True)
        if concurrent.latencies and sequential.latencies:
            speedup = (len(concurrent.latencies) / concurrent.wall) / (len(sequential.latencies) / sequential.wall)
            print(f"throughput, concurrent vs sequential: x{speedup:.2f}; "
                  f"{args.requests} sequential requests would take about "
                  f"{args.requests * sequential.wall / len(sequential.latencies):.0f} s "
                  f"(concurrent: {concurrent.wall:.0f} s)")
        batching = httpx.get(f"{url}/health", timeout=5).json()["batching"]
        print(f"server: {batching['requests']} requests in {batching['model_calls']} model calls "
              f"(mean batch {batching['requests'] / max(batching['model_calls'], 1):.2f}, largest {batching['largest_batch']})")
    finally:
        os.killpg(server.pid, signal.SIGINT)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)


if __name__ == "__main__":
    main()
