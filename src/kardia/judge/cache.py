"""A persistent judge cache in SQLite: re-judging the same reply with the same judge costs nothing.

Keys are sha256 digests of everything that determines a verdict (`cache_key`): judge model id and
revision, rubric version and content hash, prompt-template version, the inputs (profile, situation,
dialogue, shown reply, reference, include_reasoning), decoding parameters and mode. Only successful
verdicts are stored; failures are retried next time.

The database runs in WAL mode with a busy timeout, so several processes (data-parallel GRPO workers,
parallel `kardia judge` runs) can read and write it at once. A connection is opened per process (a
forked child reopens its own).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 2
"""Shape of a stored verdict (2: ``{"raw": {criterion: 1-5 score}, "grounding": nats or null}``); part of every key."""


def default_cache_path() -> Path:
    """``<kardia cache dir>/judge.sqlite`` (``$KARDIA_CACHE`` or the user cache directory)."""
    from kardia.models.embedded import cache_dir

    return cache_dir() / "judge.sqlite"


def cache_key(payload: Mapping[str, Any]) -> str:
    """sha256 of the canonical JSON of `payload` (sorted keys, UTF-8)."""
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class JudgeCache:
    """Key → JSON verdict store.

    Args:
        path: the SQLite file (created with its folder when missing).
        timeout: seconds a writer waits for a lock held by another process.
    """

    def __init__(self, path: str | Path | None = None, *, timeout: float = 30.0) -> None:
        self.path = Path(path) if path is not None else default_cache_path()
        self.timeout = timeout
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._pid: int | None = None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            self._connection()

    def _connection(self) -> sqlite3.Connection:
        if self._conn is not None and self._pid == os.getpid():
            return self._conn
        conn = sqlite3.connect(str(self.path), timeout=self.timeout, check_same_thread=False, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
        deadline = time.monotonic() + self.timeout
        while True:  # switching to WAL needs a moment without other writers
            try:
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = NORMAL")
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS verdicts (key TEXT PRIMARY KEY, value TEXT NOT NULL, created REAL NOT NULL)"
                )
                break
            except sqlite3.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self._conn, self._pid = conn, os.getpid()
        return conn

    def get_many(self, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The stored verdicts of those `keys` that are in the cache."""
        wanted = list(dict.fromkeys(keys))
        found: dict[str, dict[str, Any]] = {}
        with self._lock:
            conn = self._connection()
            for start in range(0, len(wanted), 500):
                chunk = wanted[start:start + 500]
                marks = ",".join("?" * len(chunk))
                for key, value in conn.execute(f"SELECT key, value FROM verdicts WHERE key IN ({marks})", chunk):
                    found[key] = json.loads(value)
        return found

    def put_many(self, verdicts: Mapping[str, Mapping[str, Any]]) -> None:
        """Store verdicts (one transaction; an existing key is replaced)."""
        if not verdicts:
            return
        rows = [(k, json.dumps(v, ensure_ascii=False), time.time()) for k, v in verdicts.items()]
        with self._lock:
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.executemany("INSERT OR REPLACE INTO verdicts (key, value, created) VALUES (?, ?, ?)", rows)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def __len__(self) -> int:
        with self._lock:
            return self._connection().execute("SELECT COUNT(*) FROM verdicts").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            if self._conn is not None and self._pid == os.getpid():
                self._conn.close()
            self._conn = None

    def __repr__(self) -> str:
        return f"JudgeCache({str(self.path)!r})"
