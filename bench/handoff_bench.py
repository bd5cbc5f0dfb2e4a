"""Handoff bridge benchmark, run by bench/run.py against a running stack.

    python bench/handoff_bench.py --json     # env: REDIS_URL, KEFU_DATA_DIR, KEFU_HANDOFF_PORT, KEFU_RASA_PORT

Measures, on 127.0.0.1 only, each bounded in time:

- escalation -> visible in the agent queue: ``POST /internal/escalate`` (what
  the bot's action calls) until the ``queue`` event reaches an agent console
  connected to ``/ws/agent``;
- agent message -> customer's socket: ``POST /api/tickets/{id}/messages``
  until the customer's socket.io client, connected to Rasa's /socket.io (the
  Kefu channel), receives ``bot_uttered`` with that text;
- claims per second: the claim Lua script (``HandoffQueue.claim_next``, the
  code the bridge runs) against a pre-filled queue, and the whole
  ``POST /api/queue/next`` through the bridge (claim, customer notice, Rasa
  tracker event, ticket view);
- redis-benchmark on the same Redis in the same run (its own database number,
  so it never touches the bridge's keys).

Prints one JSON object as its last line.
"""
from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from handoff.agents import AgentDirectory  # noqa: E402
from handoff.exceptions import QueueEmpty  # noqa: E402
from handoff.queue import HandoffQueue, NewTicket  # noqa: E402
from core.secrets import stored_secret  # noqa: E402

TRANSCRIPT = [
    {"role": "user", "text": "我的外卖到哪了"},
    {"role": "bot", "text": "麻烦您提供一下订单号或下单手机号,我核实后马上为您处理。"},
    {"role": "user", "text": "13812345678"},
    {"role": "bot", "text": "手机号 138****5678 名下最近有 3 个订单。"},
    {"role": "user", "text": "都超时四十分钟了,我要找人工!"},
]


def percentiles(values_ms: List[float]) -> Dict[str, float]:
    if not values_ms:
        return {"n": 0}
    ordered = sorted(values_ms)

    def pct(p: float) -> float:
        index = min(len(ordered) - 1, max(0, int(round(p / 100 * len(ordered) + 0.5)) - 1))
        return round(ordered[index], 2)

    return {"n": len(ordered), "p50": pct(50), "p95": pct(95), "p99": pct(99), "max": round(ordered[-1], 2),
            "mean": round(statistics.fmean(ordered), 2)}


async def arrival_ms(arrived: Dict[str, float], key: str, start: float, timeout_s: float) -> Optional[float]:
    """Milliseconds from ``start`` until ``key`` shows up in ``arrived`` (filled by a listener), or None."""
    wait_until = time.perf_counter() + timeout_s
    while key not in arrived and time.perf_counter() < wait_until:
        await asyncio.sleep(0.001)
    return (arrived[key] - start) * 1000 if key in arrived else None


class Bench:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.redis_url = os.environ["REDIS_URL"]
        data = Path(os.environ["KEFU_DATA_DIR"])
        self.bridge = f"http://127.0.0.1:{os.environ['KEFU_HANDOFF_PORT']}"
        self.rasa = f"http://127.0.0.1:{os.environ['KEFU_RASA_PORT']}"
        self.internal = {"Authorization": f"Bearer {os.environ.get('KEFU_INTERNAL_TOKEN') or stored_secret(data, 'internal_token')}"}
        self.agents = AgentDirectory(Path(os.environ.get("KEFU_AGENTS_FILE") or data / "agents.json"))
        self.run_id = uuid.uuid4().hex[:6]

    def new_agents(self, prefix: str, count: int, skills: Tuple[str, ...] = ("general",)) -> List[str]:
        """Agents added to the bridge's agents file (it re-reads it): their tokens."""
        return [self.agents.add(f"{prefix}{i}", f"压测{i}", list(skills)) for i in range(count)]

    async def escalate(self, http: httpx.AsyncClient, sender: str, channel: str) -> Dict[str, Any]:
        resp = await http.post(self.bridge + "/internal/escalate", headers=self.internal, json={
            "sender": sender, "channel": channel, "reason": "request_human", "sentiment": "angry",
            "summary": "客户 13812345678 外卖超时 40 分钟, 要求人工", "intents": ["ask_order_status", "request_human"],
            "order_id": "2023112215300012345", "order_type": "food", "transcript": TRANSCRIPT,
        })
        resp.raise_for_status()
        return dict(resp.json())

    # ---- escalation -> agent console -------------------------------------------------

    async def escalation_to_queue(self, concurrency: int) -> Dict[str, Any]:
        import websockets

        token = self.new_agents(f"bq{self.run_id}-", 1)[0]
        seen: Dict[str, float] = {}
        url = self.bridge.replace("http://", "ws://") + f"/ws/agent?token={token}"
        latencies: List[float] = []
        errors = 0
        async with websockets.connect(url, max_size=2**20) as ws:
            hello = json.loads(await ws.recv())
            assert hello["type"] == "hello", hello

            async def reader() -> None:
                async for raw in ws:
                    event = json.loads(raw)
                    if event.get("type") == "queue" and event.get("reason") == "escalated":
                        seen.setdefault(event["ticket_id"], time.perf_counter())

            read_task = asyncio.create_task(reader())
            deadline = time.monotonic() + self.seconds
            async with httpx.AsyncClient(timeout=10) as http:

                async def one(worker: int) -> None:
                    nonlocal errors
                    n = 0
                    while time.monotonic() < deadline:
                        n += 1
                        start = time.perf_counter()
                        try:
                            ticket = (await self.escalate(http, f"be{self.run_id}-{worker}-{n}", "kefu"))["ticket_id"]
                        except httpx.HTTPError:
                            errors += 1
                            continue
                        took = await arrival_ms(seen, ticket, start, 2.0)
                        if took is None:
                            errors += 1
                        else:
                            latencies.append(took)

                began = time.monotonic()
                await asyncio.gather(*(one(w) for w in range(concurrency)))
                elapsed = time.monotonic() - began
            read_task.cancel()
        return {"concurrency": concurrency, "seconds": round(elapsed, 1), "per_s": round(len(latencies) / elapsed, 1),
                "errors": errors, "latency_ms": percentiles(latencies)}

    # ---- agent -> customer's socket ------------------------------------------------------

    async def agent_to_socket(self, customers: int, pace_s: float = 0.0) -> Dict[str, Any]:
        """Each agent sends, one after the other, waiting ``pace_s`` between messages."""
        import socketio

        chats_per_agent = 3
        tokens = self.new_agents(f"bs{self.run_id}-", (customers + chats_per_agent - 1) // chats_per_agent)
        latencies: List[float] = []
        errors = 0
        clients: List[Any] = []
        async with httpx.AsyncClient(timeout=10) as http:
            pairs = []
            for i in range(customers):
                sender = f"bs{self.run_id}-{i}"
                inbox: Dict[str, float] = {}
                client = socketio.AsyncClient(reconnection=False)
                confirmed = asyncio.Event()
                client.on("session_confirm", lambda _data, c=confirmed: c.set())
                client.on("bot_uttered", lambda data, box=inbox: box.setdefault(str(data.get("text")), time.perf_counter()))
                await client.connect(self.rasa, socketio_path="/socket.io", transports=["websocket"])
                await client.emit("session_request", {"session_id": sender})
                await asyncio.wait_for(confirmed.wait(), 10)
                clients.append(client)
                ticket = (await self.escalate(http, sender, "kefu_socketio"))["ticket_id"]
                agent = {"Authorization": f"Bearer {tokens[i // chats_per_agent]}"}
                (await http.post(f"{self.bridge}/api/tickets/{ticket}/claim", headers=agent)).raise_for_status()
                pairs.append((ticket, agent, inbox))
            deadline = time.monotonic() + self.seconds

            async def talk(ticket: str, agent: Dict[str, str], inbox: Dict[str, float]) -> None:
                nonlocal errors
                n = 0
                while time.monotonic() < deadline:
                    n += 1
                    text = f"您好, 我是人工客服, 正在为您核实订单 (第 {n} 条)"
                    start = time.perf_counter()
                    resp = await http.post(f"{self.bridge}/api/tickets/{ticket}/messages", headers=agent, json={"text": text})
                    if resp.status_code != 201:
                        errors += 1
                        continue
                    took = await arrival_ms(inbox, text, start, 3.0)
                    if took is None:
                        errors += 1
                    else:
                        latencies.append(took)
                    if pace_s:
                        await asyncio.sleep(max(0.0, pace_s - (time.perf_counter() - start)))

            began = time.monotonic()
            await asyncio.gather(*(talk(*p) for p in pairs))
            elapsed = time.monotonic() - began
            for ticket, agent, _ in pairs:
                await http.post(f"{self.bridge}/api/tickets/{ticket}/resolve", headers=agent)
        for client in clients:
            await client.disconnect()
        return {"customers": customers, "pace_s": pace_s, "seconds": round(elapsed, 1), "per_s": round(len(latencies) / elapsed, 1),
                "errors": errors, "latency_ms": percentiles(latencies)}

    # ---- claims ------------------------------------------------------------------------------

    async def claims_lua(self, tickets: int, concurrency: int) -> Dict[str, Any]:
        """Claim Lua script throughput, the same HandoffQueue the bridge uses."""
        queue = HandoffQueue.from_url(self.redis_url, max_chats=3)
        try:
            prefix = f"bl{self.run_id}-"
            fill_start = time.monotonic()
            sem = asyncio.Semaphore(32)

            async def put(i: int) -> None:
                async with sem:
                    await queue.escalate(NewTicket(sender=f"{prefix}{i}", channel="kefu", reason="request_human",
                                                   priority="P2", summary="压测", escalation_id=f"{prefix}{i}-esc"))

            await asyncio.gather(*(put(i) for i in range(tickets)))
            fill_s = time.monotonic() - fill_start
            claimed = 0
            errors = 0
            latencies: List[float] = []
            deadline = time.monotonic() + self.seconds

            async def claimer(worker: int) -> None:
                nonlocal claimed, errors
                agent_n = 0
                while time.monotonic() < deadline:
                    agent_n += 1
                    agent = f"{prefix}agent-{worker}-{agent_n}"
                    for _ in range(3):  # max_chats claims per agent, then the next agent
                        start = time.perf_counter()
                        try:
                            await queue.claim_next(agent, "压测", ["general"])
                        except QueueEmpty:
                            return
                        except Exception:
                            errors += 1
                            return
                        latencies.append((time.perf_counter() - start) * 1000)
                        claimed += 1

            began = time.monotonic()
            await asyncio.gather(*(claimer(w) for w in range(concurrency)))
            elapsed = time.monotonic() - began
            exhausted = claimed >= tickets
            # leave nothing waiting for the other measurements
            await queue.redis.zremrangebyrank("kefu:handoff:queue", 0, -1)
        finally:
            await queue.close()
        return {"tickets": tickets, "fill_per_s": round(tickets / fill_s, 0), "concurrency": concurrency,
                "seconds": round(elapsed, 1), "claims": claimed, "per_s": round(claimed / elapsed, 0),
                "queue_ran_dry": exhausted, "errors": errors, "latency_ms": percentiles(latencies)}

    async def claims_http(self, tickets: int, agents: int) -> Dict[str, Any]:
        """POST /api/queue/next through the bridge, the whole claim as an agent sees it."""
        tokens = self.new_agents(f"bh{self.run_id}-", agents)
        sem = asyncio.Semaphore(16)
        async with httpx.AsyncClient(timeout=10, limits=httpx.Limits(max_connections=64)) as http:

            async def put(i: int) -> None:
                async with sem:
                    await self.escalate(http, f"bh{self.run_id}-{i}", "kefu")

            await asyncio.gather(*(put(i) for i in range(tickets)))
            latencies: List[float] = []
            errors = 0
            deadline = time.monotonic() + self.seconds

            async def agent(token: str) -> None:
                nonlocal errors
                headers = {"Authorization": f"Bearer {token}"}
                for _ in range(3):
                    if time.monotonic() >= deadline:
                        return
                    start = time.perf_counter()
                    resp = await http.post(self.bridge + "/api/queue/next", headers=headers)
                    if resp.status_code == 200:
                        latencies.append((time.perf_counter() - start) * 1000)
                    else:
                        errors += 1

            began = time.monotonic()
            # 8 agents at a time, each claiming up to its 3 chats
            pending = list(tokens)
            while pending and time.monotonic() < deadline:
                batch, pending = pending[:8], pending[8:]
                await asyncio.gather(*(agent(t) for t in batch))
            elapsed = time.monotonic() - began
        queue = HandoffQueue.from_url(self.redis_url)
        try:
            await queue.redis.zremrangebyrank("kefu:handoff:queue", 0, -1)
        finally:
            await queue.close()
        return {"tickets": tickets, "agents": agents, "concurrency": 8, "seconds": round(elapsed, 1),
                "claims": len(latencies), "per_s": round(len(latencies) / elapsed, 1), "errors": errors,
                "latency_ms": percentiles(latencies)}


def redis_benchmark(redis_url: str, requests: int) -> Dict[str, Any]:
    """redis-benchmark (Debian redis-tools) against the same redis-server."""
    exe = shutil.which("redis-benchmark")
    if not exe:
        return {"skipped": "redis-benchmark not installed (apt-get install redis-tools)"}
    parsed = urlparse(redis_url)
    base = [exe, "-h", "127.0.0.1", "-p", str(parsed.port or 6379), "--csv", "--dbnum", "9", "-n", str(requests)]
    if parsed.password:
        base += ["-a", parsed.password]
    runs: Dict[str, Any] = {}
    plans = [
        ("c1", ["-c", "1", "-t", "set,get"]),
        ("c50", ["-c", "50", "-t", "set,get,hset,zadd"]),
        ("c50 XADD", ["-c", "50", "XADD", "kefu:bench:stream", "MAXLEN", "~", "1000", "*", "f", "v"]),
        ("c50 EVAL (one ZADD in Lua)", ["-c", "50", "EVAL", "return redis.call('ZADD', KEYS[1], 1, ARGV[1])", "1",
                                         "kefu:bench:z", "m"]),
        ("c1 PUBLISH", ["-c", "1", "PUBLISH", "kefu:bench:chan", "hello"]),
    ]
    version = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout.strip()
    for label, extra in plans:
        out = subprocess.run(base + extra, capture_output=True, text=True, timeout=120)
        for row in csv.DictReader(io.StringIO(out.stdout)):
            name = row.get("test", "").split(" ")[0]
            key = label if " " in label else f"{label} {name}"
            runs[key] = {"rps": float(row["rps"]), "p50_ms": float(row["p50_latency_ms"]),
                         "p99_ms": float(row["p99_latency_ms"])}
    return {"version": version, "requests": requests,
            "command": f"redis-benchmark -h 127.0.0.1 -p <stack redis port> --csv --dbnum 9 -n {requests} -c 1|50 ...",
            "runs": runs}


STEPS = ("escalation", "escalation_c4", "agent_socket", "agent_socket_paced", "claims_lua", "claims_http")


async def amain(args: argparse.Namespace) -> Dict[str, Any]:
    bench = Bench(args.seconds)
    steps = args.only.split(",") if args.only else STEPS
    out: Dict[str, Any] = {"seconds_per_step": args.seconds}
    if "escalation" in steps:
        out["escalation_to_agent_queue"] = await bench.escalation_to_queue(concurrency=1)
    if "escalation_c4" in steps:
        out["escalation_to_agent_queue_c4"] = await bench.escalation_to_queue(concurrency=4)
    if "agent_socket" in steps:
        out["agent_message_to_customer_socket"] = await bench.agent_to_socket(customers=1)
    if "agent_socket_paced" in steps:
        out["agent_message_to_customer_socket_9chats"] = await bench.agent_to_socket(customers=args.customers, pace_s=1.0)
    if "claims_lua" in steps:
        out["claims_lua"] = await bench.claims_lua(tickets=args.lua_tickets, concurrency=16)
    if "claims_http" in steps:
        out["claims_http"] = await bench.claims_http(tickets=args.http_tickets, agents=args.http_tickets // 3)
    return out


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the result as one JSON line")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each timed step")
    parser.add_argument("--customers", type=int, default=9, help="socket.io customers talking to agents")
    parser.add_argument("--lua-tickets", type=int, default=30000)
    parser.add_argument("--http-tickets", type=int, default=600)
    parser.add_argument("--redis-requests", type=int, default=50000)
    parser.add_argument("--only", default="", help="comma separated steps: " + ",".join(STEPS) + ",redis")
    args = parser.parse_args(argv)
    result = asyncio.run(amain(args))
    if not args.only or "redis" in args.only.split(","):
        result["redis_benchmark"] = redis_benchmark(os.environ["REDIS_URL"], args.redis_requests)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
