"""`kardia build`: privacy, crash-safe store, seeds, fleet dispatch, the whole loop (tiny model, HTTP, real data), kill-and-resume."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from kardia.build.fleet import FleetChatModel
from kardia.build.pipeline import BuildConfig, BuildError, run_build
from kardia.build.privacy import anon_username, scrub
from kardia.build.report import distinct_n, quality_report
from kardia.build.seeds import ESCONV_EMOTIONS, Persona, Seed, SeedError, esconv_seeds, extract_mbti, load_personas, load_seeds, pair_up
from kardia.build.store import JsonlStore
from kardia.data.records import check_record
from kardia.emotions import EMOTIONS
from kardia.judge.items import JudgeResult
from kardia.judge.rubric import load_rubric, normalize
from kardia.models.base import ChatModel, Generation

REPO = Path(__file__).resolve().parents[1]
KARDIA = str(Path(sys.executable).with_name("kardia"))


class LengthJudge:
    """A deterministic test judge: every criterion gets (len(response) mod 5) + 1, so rewrites score differently."""

    rubric = load_rubric()
    name = "length-judge"

    def __init__(self) -> None:
        self.calls = 0

    async def ascore(self, items):
        self.calls += 1
        results = []
        for item in items:
            raw = float(len(item.reply) % 5 + 1)
            scores = {c: normalize(raw) for c in self.rubric.ids}
            results.append(JudgeResult(scores=scores, raw={c: raw for c in scores}, overall=self.rubric.overall(scores)))
        return results


# -- privacy ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("write to ana.reis@example.pt today", "write to [email] today"),
        ("see https://blog.example.com/p?id=3, thanks", "see [url], thanks"),
        ("my site is www.ana.dev.", "my site is [url]."),
        ("call +351 912 345 678 now", "call [phone] now"),
        ("call (415) 555-2671 or 020 7946 0958", "call [phone] or [phone]"),
        ("follow @ana_reis on there", "follow [handle] on there"),
    ],
)
def test_scrub_removes_contact_details(text, expected):
    assert scrub(text) == expected


@pytest.mark.parametrize(
    "text",
    ["In 2019-2020 I paid $1,250.50 on 12/05/2023 at 10:30.", "I ran 16 km in 1:32:10.", "<|emotion_begin|>sad<|emotion_end|>",
     "Signature: \"Plan the work, then work the plan.\""],
)
def test_scrub_keeps_ordinary_text(text):
    assert scrub(text) == text


def test_anon_username_is_stable_salted_and_distinct():
    a = anon_username("MBTI: INFP\nAbout: poet", "salt1")
    assert a == anon_username("MBTI: INFP  About: poet", "salt1")
    assert a != anon_username("MBTI: INFP\nAbout: poet", "salt2")
    assert a != anon_username("MBTI: ENTJ\nAbout: poet", "salt1")
    assert a.startswith("user_") and len(a) == 17
    with pytest.raises(ValueError):
        anon_username("x", "")


# -- store -----------------------------------------------------------------------------------------


def test_store_repairs_a_torn_last_line(tmp_path):
    path = tmp_path / "d.jsonl"
    with JsonlStore(path) as store:
        store.append({"id": "a", "x": 1})
        store.append({"id": "b", "x": 2})
    with path.open("ab") as handle:
        handle.write(b'{"id": "c", "x"')  # a write cut short by a crash
    store = JsonlStore(path)
    assert store.repaired == len(b'{"id": "c", "x"')
    assert store.ids() == {"a", "b"}
    store.append({"id": "c", "x": 3})
    store.close()
    assert [json.loads(line)["id"] for line in path.read_text().splitlines()] == ["a", "b", "c"]


def test_store_repairs_an_unparsable_last_line_and_rejects_corruption_elsewhere(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text('{"id": "a"}\n{"id": \x00\x00\n')
    assert JsonlStore(path).ids() == {"a"}
    path.write_text('{"id": "a"}\nnot json\n{"id": "b"}\n')
    with pytest.raises(Exception, match=r"d.jsonl:2"):
        JsonlStore(path).ids()


# -- seeds -----------------------------------------------------------------------------------------


def test_packaged_personas_and_seeds_load():
    personas, seeds = load_personas(), load_seeds()
    assert len(personas) == 12 and all(p.mbti for p in personas)
    assert len(seeds) >= 20 and all(s.emotion in EMOTIONS for s in seeds)
    assert extract_mbti("About: an ENFJ teacher") == "ENFJ"


def test_seed_errors_name_file_line_and_field(tmp_path):
    bad = tmp_path / "seeds.jsonl"
    bad.write_text('{"situation": "ok", "emotion": "sad"}\n{"situation": "x", "emotion": "bored"}\n')
    with pytest.raises(SeedError, match=r"seeds.jsonl:2: field 'emotion'"):
        load_seeds(bad)
    bad.write_text('{"person": ""}\n')
    with pytest.raises(SeedError, match=r"seeds.jsonl:1: field 'person'"):
        load_personas(bad)


def test_esconv_mapping_covers_every_type_in_the_data(esconv_dir):
    types = {json.loads(line)["emotion_type"] for line in (esconv_dir / "train.txt").open()}
    assert types <= set(ESCONV_EMOTIONS)
    assert set(ESCONV_EMOTIONS.values()) <= set(EMOTIONS)
    seeds = esconv_seeds(esconv_dir / "valid.txt")
    assert seeds and all(s.emotion in EMOTIONS and s.source.startswith("esconv:valid:") for s in seeds)


def test_pair_up_is_deterministic_and_covers_personas():
    personas = [Persona(f"p{i}") for i in range(3)]
    seeds = [Seed(f"s{i}", "sad") for i in range(4)]
    pairs = pair_up(personas, seeds, per_seed=2)
    assert len(pairs) == 8 and pairs == pair_up(personas, seeds, per_seed=2)
    assert {p.persona.person for p in pairs} == {"p0", "p1", "p2"}


# -- fleet -----------------------------------------------------------------------------------------


class _SlowModel(ChatModel):
    def __init__(self, name: str, delay: float) -> None:
        super().__init__()
        self.name, self.delay, self.calls = name, delay, 0

    def generate(self, conversations, config=None, *, progress=None):
        raise NotImplementedError

    async def agenerate(self, conversations, config=None, *, progress=None):
        self.calls += len(conversations)
        await asyncio.sleep(self.delay)
        return [Generation(text=self.name, prompt_tokens=1, completion_tokens=1) for _ in conversations]


def test_fleet_sends_more_work_to_the_less_loaded_server():
    fast, slow = _SlowModel("fast", 0.01), _SlowModel("slow", 0.2)
    fleet = FleetChatModel([fast, slow])

    async def many():
        return await asyncio.gather(*(fleet.agenerate([[{"role": "user", "content": str(i)}]]) for i in range(40)))

    async def staggered():
        out = []
        for _ in range(10):
            out += await asyncio.gather(*(fleet.agenerate([[{"role": "user", "content": "x"}]]) for _ in range(2)))
        return out

    results = asyncio.run(many())
    assert len(results) == 40 and fast.calls + slow.calls == 40 and abs(fast.calls - slow.calls) <= 1  # all at once: even
    fast.calls = slow.calls = 0
    asyncio.run(staggered())
    assert fleet.usage.requests == 60 and fleet.dispatched[0] + fleet.dispatched[1] == 60
    assert fleet.generate([[{"role": "user", "content": "x"}]])[0].text in ("fast", "slow")


# -- the whole loop --------------------------------------------------------------------------------


def _validate(path: Path) -> list[dict]:
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    for line in lines:
        record, issues = check_record(line)
        assert record is not None and not [i for i in issues if i.severity == "error"], issues
    return lines


def _rank(attempt: dict) -> tuple[bool, float]:
    """How the pipeline ranks a turn's attempts: well formed first, then the overall score."""
    return attempt["ok"], -1.0 if attempt["overall"] is None else attempt["overall"]


def test_build_with_tiny_model_accepts_resumes_and_reports(tmp_path, tiny_model_dir):
    from kardia.models.local import LocalChatModel

    model = LocalChatModel(tiny_model_dir)
    judge = LengthJudge()
    pairs = pair_up(load_personas(), load_seeds())[:3]
    config = BuildConfig(turns=1, max_rounds=1, min_score=0.0, min_emotion_agreement=0.0, max_dialogues=2)
    out = tmp_path / "kb"
    first = run_build(pairs, out, user_model=model, assistant_model=model, judge=judge, config=config)
    assert first.stopped == "max_dialogues" and first.accepted + first.rejected == 2
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["stopped"] == "max_dialogues" and manifest["usage"]["total_tokens"] > 0 and manifest["salt"]
    second = run_build(pairs, out, user_model=model, assistant_model=model, judge=judge,
                       config=BuildConfig(turns=1, max_rounds=1, min_score=0.0, min_emotion_agreement=0.0))
    assert second.stopped == "completed" and second.skipped == 2 and second.new_accepted + second.new_rejected == 1
    accepted = _validate(out / "dialogues.jsonl")
    rejects = [json.loads(line) for line in (out / "rejects.jsonl").read_text().splitlines()]
    ids = [d["id"] for d in accepted] + [r["id"] for r in rejects]
    assert len(ids) == len(set(ids)) == 3
    for dialogue in accepted:
        assert [m["role"] for m in dialogue["messages"]] == ["system", "user", "assistant"]
        assert dialogue["anon_username"].startswith("user_") and dialogue["emotion"] in EMOTIONS
        trace = dialogue["build"]["turns"][0]
        assert _rank(trace["final"]) >= _rank(trace["first"])
    for reject in rejects:
        assert reject["reasons"] and reject["reasons"][0]["code"] in ("malformed", "below_threshold", "emotion_disagrees")
    report = quality_report(out)
    assert report["dialogues"] == 3 and report["scores"]["final_overall"] >= report["scores"]["first_overall"]
    assert "first draft" in (out / "report.md").read_text()
    with pytest.raises(BuildError, match="other settings"):
        run_build(pairs, out, user_model=model, assistant_model=model, judge=judge, config=BuildConfig(turns=2))


def test_rejects_record_reasons_below_threshold(tmp_path, tiny_model_dir):
    from kardia.models.local import LocalChatModel

    model = LocalChatModel(tiny_model_dir)
    pairs = pair_up(load_personas(), load_seeds())[:1]
    summary = run_build(pairs, tmp_path, user_model=model, assistant_model=model, judge=LengthJudge(),
                        config=BuildConfig(turns=1, max_rounds=0, min_score=1.0, thresholds={"empathy": 1.0}, min_emotion_agreement=0.0))
    assert summary.rejected == 1
    (reject,) = [json.loads(line) for line in (tmp_path / "rejects.jsonl").read_text().splitlines()]
    codes = {r["code"] for r in reject["reasons"]}
    assert codes & {"below_threshold", "malformed"} and reject["build"]["turns"][0]["rounds"] == 0


def test_distinct_n():
    assert distinct_n(["the cat the cat"], 1) == 0.5
    assert distinct_n([], 2) is None


# -- over HTTP -------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _canned_server():
    """A minimal OpenAI-compatible app: a reply chosen from the request, and a request counter."""
    from fastapi import FastAPI

    app = FastAPI()
    app.state.requests = 0

    @app.post("/v1/chat/completions")
    async def completions(body: dict):
        app.state.requests += 1
        last = body["messages"][-1]["content"]
        if "Write only the emotion" in last:
            text = "sad"
        elif "Write only the understanding" in last:
            text = "The user feels let down and wants to be heard."
        elif "Write only the reasoning" in last:
            text = "Validate the disappointment before anything else."
        elif "Write only the response" in last:
            text = "That sounds really painful, and it makes sense you feel this way."
        else:
            text = "I can't stop thinking about what happened."
        return {"id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}}

    return app


def test_build_over_a_fleet_of_http_servers(tmp_path):
    import uvicorn

    from kardia.models.openai_compat import OpenAIChatModel

    servers, apps = [], []
    for _ in range(2):
        app, port = _canned_server(), _free_port()
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
        threading.Thread(target=server.run, daemon=True).start()
        servers.append((server, port))
        apps.append(app)
    for server, _ in servers:
        deadline = time.time() + 20
        while not server.started and time.time() < deadline:
            time.sleep(0.05)
    try:
        fleet = FleetChatModel([OpenAIChatModel("canned", f"http://127.0.0.1:{port}/v1", concurrency=4) for _, port in servers])
        seeds = [Seed(s.situation, "sad", s.source) for s in load_seeds()[:4]]
        pairs = pair_up(load_personas(), seeds)
        summary = run_build(pairs, tmp_path, user_model=fleet, assistant_model=fleet, judge=LengthJudge(),
                            config=BuildConfig(turns=2, max_rounds=1, min_score=0.0, emotion_choice="generate", concurrency=4))
        assert summary.accepted == 4
        dialogues = _validate(tmp_path / "dialogues.jsonl")
        assert all(d["build"]["turns"][0]["final"]["emotion"] == "sad" for d in dialogues)
        assert all(app.state.requests > 0 for app in apps)  # both servers did work
        assert sum(app.state.requests for app in apps) == fleet.usage.requests
        manifest = json.loads((tmp_path / "manifest.json").read_text())
        assert manifest["models"]["assistant"]["backend"] == "FleetChatModel"
        assert quality_report(tmp_path)["emotion_agreement"]["all_turns"] == 1.0
        fleet.close()
    finally:
        for server, _ in servers:
            server.should_exit = True


# -- kill and resume (real SIGKILL) ----------------------------------------------------------------


def test_sigkill_at_a_random_moment_then_resume_loses_and_duplicates_nothing(tmp_path, tiny_model_dir):
    pytest.importorskip("kardia.judge", reason="needs the judge package").load_judge  # noqa: B018
    seeds = tmp_path / "seeds.jsonl"
    seeds.write_text("".join(json.dumps({"situation": f"Situation number {i}: my plans fell through.", "emotion": "sad"}) + "\n" for i in range(10)))
    out = tmp_path / "kb"
    command = [KARDIA, "build", "--seeds", str(seeds), "--out", str(out), "--turns", "1", "--max-rounds", "2",
               "--min-score", "0", "--min-emotion-agreement", "0", "--concurrency", "1",
               "--user-model", str(tiny_model_dir), "--assistant-model", str(tiny_model_dir), "--judge", str(tiny_model_dir)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    dialogues = out / "dialogues.jsonl"
    deadline = time.time() + 240
    while time.time() < deadline and process.poll() is None:
        if dialogues.exists() and dialogues.read_bytes().count(b"\n") >= 1:
            break
        time.sleep(0.05)
    assert process.poll() is None, process.stderr.read().decode()[-2000:]
    time.sleep(random.uniform(0.0, 3.0))  # a random moment after the first accepted dialogue
    process.send_signal(signal.SIGKILL)
    process.wait()
    before = [json.loads(line) for line in dialogues.read_bytes().split(b"\n") if line.strip().endswith(b"}")]
    assert before
    with dialogues.open("ab") as handle:  # and a torn write, as a kill during the write leaves
        handle.write(b'{"id": "kb-torn", "person"')
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    after = [json.loads(line) for line in dialogues.read_text().splitlines()]
    rejected = [json.loads(line) for line in (out / "rejects.jsonl").read_text().splitlines()]
    ids = [d["id"] for d in after + rejected]
    assert len(ids) == len(set(ids)) == 10  # nothing duplicated, every dialogue finished
    assert {d["id"] for d in before} <= set(ids)  # nothing accepted before the kill was lost
    by_id = {d["id"]: d for d in after}
    assert all(by_id[d["id"]] == d for d in before)  # and it was not redone
    _validate(dialogues)
    assert json.loads((out / "manifest.json").read_text())["stopped"] == "completed"


# -- real data, real model -------------------------------------------------------------------------


@pytest.mark.slow
def test_build_esconv_seeds_with_the_embedded_model(tmp_path, esconv_dir, embedded_dir):
    from kardia.judge import load_judge
    from kardia.models.resolve import load_chat_model

    model = load_chat_model("default")
    judge = load_judge("default")
    pairs = pair_up(load_personas(), esconv_seeds(esconv_dir / "valid.txt")[:2])
    summary = run_build(pairs, tmp_path, user_model=model, assistant_model=model, judge=judge,
                        config=BuildConfig(turns=2, max_rounds=1, concurrency=1))
    assert summary.accepted + summary.rejected == 2 and summary.errors == 0
    if summary.accepted:
        _validate(tmp_path / "dialogues.jsonl")
    report = quality_report(tmp_path)
    assert report["rounds"]["turns"] == 4 and report["scores"]["turns_scored"] == 4
    assert report["scores"]["final_overall"] >= report["scores"]["first_overall"]
