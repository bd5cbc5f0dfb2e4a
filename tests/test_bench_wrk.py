"""bench/wrk_load.py: wrk plays the benchmark's customers the way locust's do.

A real wrk (Debian's package; `make test` installs it) against a small HTTP
server that records every turn: each customer's turns arrive in order, one
reply before the next turn, its conversations are the generated ones, a
conversation's last turn closes the connection, and the turns the server
refuses or answers with nothing are counted as failures.
"""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

import pytest

from bench import wrk_load
from bench.base import Report
from bench.conversations import conversation

#: a message the recording server answers with an empty list (the bot said nothing)
SILENT = "886"


class Recorder(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    turns: List[Tuple[str, str, str]] = []
    lock = threading.Lock()
    in_flight: Dict[str, int] = {}
    overlaps = 0

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        sender, text = body["sender"], body["message"]
        with self.lock:
            Recorder.turns.append((sender, text, self.headers.get("Connection", "")))
            Recorder.in_flight[sender] = Recorder.in_flight.get(sender, 0) + 1
            Recorder.overlaps += Recorder.in_flight[sender] > 1
        reply = b"[]" if text == SILENT else json.dumps([{"recipient_id": sender, "text": "ok"}]).encode()
        with self.lock:
            Recorder.in_flight[sender] -= 1
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        if self.headers.get("Connection", "").lower() == "close":
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    Recorder.turns, Recorder.in_flight, Recorder.overlaps = [], {}, 0
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _report() -> Report:
    return Report(started="2026-12-04 23:00", command="test", load_before=(0.0, 0.0, 0.0))


def test_each_customer_plays_the_generated_conversations_in_order(server: str) -> None:
    report = _report()
    result = wrk_load.run(report, server, "/webhooks/kefu/webhook", users=3, seconds=2, label="wrk")
    by_sender: Dict[str, List[Tuple[str, str]]] = {}
    for sender, text, connection in Recorder.turns:
        by_sender.setdefault(sender, []).append((text, connection))
    assert result.requests >= 30 and len(by_sender) >= 9, (result, len(by_sender))
    assert Recorder.overlaps == 0  # a customer waits for each reply
    per_customer = wrk_load.conversations_per_customer(3, 2)
    first_seed = 1_000_000 * report.locust_runs
    generated = {tuple(text for _, text in conversation(first_seed + c * per_customer + k)): (c, k)
                 for c in range(3) for k in range(per_customer)}
    complete = 0
    for sender, turns in by_sender.items():
        texts = tuple(text for text, _ in turns)
        matches = [script for script in generated if script[: len(texts)] == texts]
        assert matches, (sender, texts)
        if texts in generated:  # a finished conversation: only its last turn closed the connection
            complete += 1
            assert turns[-1][1].lower() == "close"
            assert all(c.lower() != "close" for _, c in turns[:-1])
    assert complete >= 6
    # every customer played its own seeds, in order: customer c's k-th conversation is seed first + c*per + k
    firsts = sorted(generated[tuple(t for t, _ in turns)] for turns in by_sender.values()
                    if tuple(t for t, _ in turns) in generated)
    for customer in range(3):
        ks = [k for c, k in firsts if c == customer]
        assert ks == list(range(len(ks))), (customer, ks)
    silent = sum(1 for _, text, _ in Recorder.turns if text == SILENT)
    assert result.failures == silent > 0
    assert result.rps > 0 and 0 < result.p50 <= result.p95 <= result.p99


def test_a_server_that_refuses_counts_every_turn_as_failed(tmp_path: Path) -> None:
    class Refuse(Recorder):
        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Refuse)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        result = wrk_load.run(_report(), f"http://127.0.0.1:{httpd.server_address[1]}", "/x", users=2, seconds=1,
                              label="wrk")
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert result.requests > 0 and result.failures == result.requests


def test_texts_reach_the_server_exactly_as_generated(server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    tricky = ["引号\"和\\反斜杠", "]]", "]=]x]==]", "emoji 🙏\n换行", "tab\t和控制符\u0001", "%s %d %%"]
    monkeypatch.setattr(wrk_load, "conversation", lambda seed: [("step", text) for text in tricky])
    wrk_load.run(_report(), server, "/x", users=1, seconds=1, label="wrk")
    texts = [text for _, text, _ in Recorder.turns]
    assert len(texts) >= len(tricky)
    assert texts[: len(tricky)] == tricky


def test_a_missing_wrk_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(wrk_load.WrkError, match="apt-get install wrk"):
        wrk_load.run(_report(), "http://127.0.0.1:9", "/x", users=1, seconds=1, label="wrk")
