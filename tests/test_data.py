"""KardiaBench data layer: records, validation errors, loaders, expansion, splits, importers, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kardia.cli import app
from kardia.data.importers import ed_records, esconv_records
from kardia.data.records import check_record, expand_record
from kardia.data.sources import DataError, load_examples, load_records, read_raw
from kardia.data.split import split_records
from kardia.data.stats import dataset_stats
from kardia.emotions import EMOTIONS
from kardia.prompts import system_prompt
from kardia.spans import parse, render

runner = CliRunner()


def make_record(turns: int = 2, **overrides) -> dict:
    messages = [{"role": "system", "content": system_prompt("MBTI: INTJ", "A move abroad.")}]
    for i in range(turns):
        messages.append({"role": "user", "content": f"user turn {i}"})
        messages.append({"role": "assistant", "content": render("u", "r", "anxious", f"reply {i}")})
    record = {"person": "MBTI: INTJ", "mbti": "INTJ", "emotion": "anxious", "situation": "A move abroad.",
              "anon_username": "user_abc", "messages": messages}
    record.update(overrides)
    return record


def write_jsonl(path: Path, rows) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8")
    return path


def test_valid_record_and_expansion():
    record, issues = check_record(make_record(3))
    assert issues == []
    examples = expand_record(record)
    assert [e.turn for e in examples] == [0, 1, 2]
    assert examples[1].messages[-1] == {"role": "user", "content": "user turn 1"}
    assert examples[1].messages[0]["role"] == "system"
    assert parse(examples[1].target).response == "reply 1"
    assert examples[0].gold_emotion == "anxious" and examples[0].id.endswith(":0")

    assert examples[2].messages[2]["content"] == render("u", "r", "anxious", "reply 0")  # own spans kept


def test_partial_records_show_earlier_turns_as_replies():
    """Imported dialogues: earlier assistant turns appear as their reply only, so the prompt holds no empty
    span tags for a model to copy and no gold emotion label of the conversation."""
    messages = make_record(3)["messages"]
    for m in messages[2::2]:
        m["content"] = render("", "", "anxious", m["content"].split("<|response_begin|>")[1].split("<|")[0])
    record, issues = check_record(make_record(partial=True, gold_spans=["emotion", "response"], messages=messages))
    assert not [i for i in issues if i.severity == "error"]
    examples = expand_record(record)
    assert [m["content"] for m in examples[2].messages if m["role"] == "assistant"] == ["reply 0", "reply 1"]
    assert all("anxious" not in m["content"] for m in examples[2].messages[1:])
    assert examples[2].gold_emotion == "anxious" and parse(examples[2].target).response == "reply 2"


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"emotion": "bored"}, "emotion"),
        ({"person": 3}, "person"),
        ({"messages": "nope"}, "messages"),
        ({"anon_username": ""}, "anon_username"),
    ],
)
def test_field_errors_name_the_field(overrides, field):
    record, issues = check_record(make_record(**overrides))
    assert any(i.field.startswith(field) and i.severity == "error" for i in issues), issues


def test_missing_field():
    raw = make_record()
    del raw["situation"]
    _, issues = check_record(raw)
    assert [i.field for i in issues] == ["situation"]


def test_non_alternating_and_spanless_turns():
    raw = make_record()
    raw["messages"][2]["role"] = "user"
    _, issues = check_record(raw)
    assert issues[0].field == "messages[2].role" and "alternate" in issues[0].message
    raw = make_record()
    raw["messages"][2]["content"] = "just a plain reply"
    _, issues = check_record(raw)
    assert any(i.field == "messages[2].content" and "missing_span" in i.message for i in issues)


def test_bad_files(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(DataError, match="empty"):
        list(read_raw(empty))
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(json.dumps(make_record()).encode() + b"\n{not json\n\xff\xfe\n")
    rows = list(read_raw(bad))
    assert rows[0].error is None
    assert rows[1].location.endswith(":2") and "malformed JSON" in rows[1].error
    assert rows[2].location.endswith(":3") and "UTF-8" in rows[2].error
    with pytest.raises(DataError, match=r"bad\.jsonl:2"):
        list(load_records(bad))
    with pytest.raises(DataError, match="no such file"):
        list(read_raw(tmp_path / "missing.jsonl"))


def test_json_and_parquet(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [make_record(), make_record(anon_username="user_x")]
    (tmp_path / "d.json").write_text(json.dumps(rows))
    assert len(list(load_records(tmp_path / "d.json"))) == 2
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "d.parquet")
    assert [r.anon_username for r in load_records(tmp_path / "d.parquet")] == ["user_abc", "user_x"]


def test_hub_offline_message(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    with pytest.raises(DataError) as info:
        list(read_raw("Jhcircle/KardiaBench"))
    text = str(info.value)
    assert "request access" in text and "local files" in text


def test_sample_dataset():
    records = list(load_records("sample"))
    stats = dataset_stats(records)
    assert 36 <= stats["dialogues"] <= 50 and 10 <= stats["personas"] <= 14
    assert len({r.emotion for r in records}) >= 20
    assert all(3 <= len(r.assistant_turns()) <= 6 for r in records)
    for record in records:
        for i in record.assistant_turns():
            spans = parse(record.messages[i]["content"], strict=True)
            assert spans.ok and spans.emotion in EMOTIONS
    assert len(load_examples("sample")) == stats["pairs"]
    assert len(load_examples("sample", limit=5)) == 5


def test_split_by_persona_is_disjoint_and_deterministic():
    records = list(load_records("sample"))
    a = split_records(records, seed=1)
    b = split_records(list(reversed(records)), seed=1)
    users = {name: {r.anon_username for r in part} for name, part in a.items()}
    assert users["train"].isdisjoint(users["test"]) and users["train"].isdisjoint(users["validation"])
    assert users["validation"].isdisjoint(users["test"])
    assert sum(len(p) for p in a.values()) == len(records)
    assert all(users[n] == {r.anon_username for r in b[n]} for n in a)
    assert all(a[n] for n in a)


def test_ed_importer(ed_csv):
    records = list(ed_records(ed_csv))
    assert len(records) == 2770
    first = records[0]
    assert first.partial and first.gold_spans == ["emotion", "response"] and first.emotion in EMOTIONS
    assert first.situation and "_comma_" not in json.dumps(first.model_dump())
    for record in records[:200]:
        rec, issues = check_record(record.model_dump())
        assert not [i for i in issues if i.severity == "error"], issues
    example = expand_record(first)[0]
    assert example.gold_emotion == first.emotion
    jsonl = list(ed_records(ed_csv.with_suffix(".jsonl")))
    assert [r.messages for r in jsonl[:50]] == [r.messages for r in records[:50]]


def test_esconv_importer(esconv_dir):
    records = list(esconv_records(esconv_dir / "valid.txt"))
    assert len(records) == 195
    record = records[0]
    assert record.gold_spans == ["response"] and record.emotion == "" and record.esconv_emotion
    _, issues = check_record(record.model_dump())
    assert not [i for i in issues if i.severity == "error"]
    assert all(parse(record.messages[i]["content"]).emotion == "" for i in record.assistant_turns())


def test_cli_validate_and_skip_invalid(tmp_path):
    path = write_jsonl(tmp_path / "in.jsonl", [make_record(), make_record(emotion="bored"), "{oops"])
    result = runner.invoke(app, ["data", "validate", str(path)])
    assert result.exit_code == 1
    assert "in.jsonl:2" in result.output and "emotion" in result.output and "in.jsonl:3" in result.output
    out = tmp_path / "clean.jsonl"
    result = runner.invoke(app, ["data", "validate", str(path), "--skip-invalid", str(out)])
    assert len(out.read_text().splitlines()) == 1
    rejects = [json.loads(x) for x in (tmp_path / "clean.rejects.jsonl").read_text().splitlines()]
    assert len(rejects) == 2 and all(r["errors"] for r in rejects)
    assert runner.invoke(app, ["data", "validate", str(out)]).exit_code == 0


def test_cli_stats_split_convert_parse(tmp_path, ed_csv):
    result = runner.invoke(app, ["data", "stats", "sample", "--json"])
    assert result.exit_code == 0 and json.loads(result.output)["dialogues"] >= 36
    result = runner.invoke(app, ["data", "split", "sample", "--out", str(tmp_path / "s")])
    assert result.exit_code == 0 and (tmp_path / "s" / "test.jsonl").is_file()
    out = tmp_path / "ed.jsonl"
    assert runner.invoke(app, ["data", "convert", "--from", "ed", str(ed_csv), "-o", str(out)]).exit_code == 0
    assert runner.invoke(app, ["data", "validate", str(out)]).exit_code == 0
    good = runner.invoke(app, ["parse"], input=render("u", "r", "sad", "I hear you."))
    assert good.exit_code == 0 and json.loads(good.output)["ok"]
    bad = runner.invoke(app, ["parse", "--strict"], input="no spans here")
    assert bad.exit_code == 1 and "missing_span" in bad.output


def test_every_command_has_help_with_example():
    for args in (["--help"], ["data", "--help"], ["data", "validate", "--help"], ["parse", "--help"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0 and "Example" in result.output
