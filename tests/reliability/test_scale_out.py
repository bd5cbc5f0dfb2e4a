"""2 Rasa servers + 2 action servers + 2 bridges on one Redis, behind nginx (bot/runner/cluster.py).

What a user of a scaled-out deployment would notice, in order:

1. one conversation whose messages alternate between the two Rasa servers is
   answered message by message and logged in the order sent (the Redis lock store);
2. an escalation made through the bridge nginx picked is seen by an agent
   connected to the other bridge, and that agent's reply reaches the customer's
   socket on a Rasa server the bridge never talked to, also after the customer
   moves to the other Rasa server;
3. kill -9 of one Rasa server, one action server and one bridge during traffic
   through nginx: no message, escalation or agent reply is lost.

Counts are printed (``-s``): sent / delivered / lost / duplicated. Skipped only
when Debian's nginx cannot be installed (``make nginx``).
"""
from __future__ import annotations

import asyncio
import subprocess
import time
import uuid
from pathlib import Path
from typing import Dict, Iterator, List

import httpx
import pytest
import redis

from bot.runner.cluster import Cluster, nginx_binary
from core.paths import ROOT
from bot.runner.redis_server import free_port
from bot.runner.settings import StackSettings
from handoff.agents import AgentDirectory
from tests.reliability.scale_clients import (Agent, SocketCustomer, Tally, eventually_ticket, post_until, say,
                                             user_texts)

#: the kill-9 run: customers keep talking this long; the kill comes 3 s in
TRAFFIC_SECONDS = 15.0
ESCALATIONS = 8
AGENT_REPLIES = 20
#: a whole module run, start-up included, stays under this on a loaded 2-core machine
START_TIMEOUT = 420.0


def _nginx_or_skip() -> None:
    if nginx_binary() is None:
        subprocess.run(["make", "-s", "nginx"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=300, check=False)
    if nginx_binary() is None:
        pytest.skip("Debian's nginx could not be installed (make nginx: apt-get install nginx failed)")


@pytest.fixture(scope="module")
def scale_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    _nginx_or_skip()
    data = tmp_path_factory.mktemp("scale")
    env = {
        "KEFU_DATA_DIR": str(data), "KEFU_HOST": "127.0.0.1", "KEFU_RASA_PORT": str(free_port()),
        "KEFU_HANDOFF_PORT": str(free_port()), "KEFU_ACTIONS_PORT": str(free_port()),
        "KEFU_REDIS_PORT": str(free_port()), "KEFU_MODEL": str(ROOT / "models" / "kefu.tar.gz"),
        "KEFU_MESSAGES_PER_MINUTE": "1000", "KEFU_ORDERS_DB": str(data / "orders.sqlite3"),
        # a Rasa server killed while it held a conversation's lock: the next message of that
        # customer waits this long at most (Rasa's default is 60 s; README, "Scale-out")
        "TICKET_LOCK_LIFETIME": "30",
    }
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("REDIS_URL", raising=False)
        for name, value in env.items():
            patch.setenv(name, value)
        cluster = Cluster(StackSettings.from_env(), rasa=2, actions=2, bridges=2)
        began = time.monotonic()
        try:
            cluster.start(timeout=START_TIMEOUT)
        except Exception:
            cluster.stop()
            raise
        print(f"\nscale-out: 2+2+2 behind nginx healthy in {time.monotonic() - began:.1f} s")
        try:
            yield cluster
        finally:
            cluster.stop()


def _front(cluster: Cluster, kind: str) -> str:
    s = cluster.settings
    port = {"rasa": s.rasa_port, "handoff": s.handoff_port, "actions": s.actions_port}[kind]
    return f"http://127.0.0.1:{port}"


def _direct(cluster: Cluster, name: str) -> str:
    return f"http://127.0.0.1:{cluster.instance(name).port}"


def _served(cluster: Cluster, front_port: int, uri: str) -> List[str]:
    """Which upstream served each request for ``uri`` on a front port (nginx's access log)."""
    found = []
    for line in (cluster.nginx_dir / "access.log").read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) >= 6 and parts[1] == str(front_port) and parts[3] == uri:
            found.append(parts[5].removeprefix("upstream=").split(",")[-1].strip())
    return found


def _agent(cluster: Cluster, name: str) -> str:
    return AgentDirectory(cluster.settings.data_dir / "agents.json").add(name, f"扩容{name[-4:]}", ["general", "safety"])


def test_the_template_becomes_a_config_nginx_accepts(tmp_path: Path) -> None:
    """deploy/nginx.conf.template filled as a deployment would fill it: `nginx -t` accepts it."""
    _nginx_or_skip()
    from bot.runner.cluster import TEMPLATE, render_nginx

    template = TEMPLATE.read_text(encoding="utf-8")
    conf = render_nginx(template, prefix=tmp_path, listen="127.0.0.1", rasa_port=free_port(), bridge_port=free_port(),
                        actions_port=free_port(), rasa=[free_port(), free_port()], actions=[free_port()],
                        bridges=[free_port(), free_port(), free_port()])
    assert conf.count("        server 127.0.0.1:") == 2 * 2 + 1 + 3  # Rasa servers are in two upstreams (REST, socket.io)
    assert "hash $remote_addr consistent" in conf.split("upstream kefu_rasa_socketio")[1].split("}")[0]
    (tmp_path / "nginx.conf").write_text(conf, encoding="utf-8")
    checked = subprocess.run([str(nginx_binary()), "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"),
                              "-e", str(tmp_path / "error.log")], capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stderr
    with pytest.raises(ValueError):
        render_nginx(template + "\n# @@UNKNOWN@@\n", prefix=tmp_path, listen="127.0.0.1", rasa_port=1, bridge_port=2,
                     actions_port=3, rasa=[4], actions=[5], bridges=[6])


async def test_messages_alternating_between_rasa_servers_keep_their_order(scale_cluster: Cluster) -> None:
    """Each message goes to the other server as soon as the previous one holds its place in the lock.

    So both servers work on the conversation at once; the ticket lock in Redis
    makes them take turns, first come first served, and the shared tracker keeps every message.
    """
    cluster = scale_cluster
    sender = f"order-{uuid.uuid4().hex[:8]}"
    texts = ["您好", "谢谢", "你好", "好的谢谢", "在吗", "感谢", "哈喽", "多谢"]
    servers = [_direct(cluster, "rasa-1"), _direct(cluster, "rasa-2")]
    tickets = f"kefu:lock:{sender}:tickets"  # bot/stores/lock_store.py's keys, endpoints.yml key_prefix
    red = redis.Redis.from_url(cluster.redis_url)
    tally = Tally("alternating messages")
    answers: List[List[str]] = [[] for _ in texts]
    done = [False] * len(texts)
    queued = 0
    async with httpx.AsyncClient(timeout=120) as http:
        deadline = time.monotonic() + 180

        async def send(i: int) -> None:
            answers[i] = (await say(http, servers[i % 2], sender, texts[i], deadline))[0]
            done[i] = True

        began = time.monotonic()
        tasks = []
        for i in range(len(texts)):
            tasks.append(asyncio.create_task(send(i)))
            wait_until = time.monotonic() + 30
            while time.monotonic() < wait_until:  # message i is in the lock's line (or already answered)
                in_flight = sum(1 for d in done[: i + 1] if not d)
                if done[i] or red.zcard(tickets) >= in_flight:
                    break
                await asyncio.sleep(0.01)
            queued = max(queued, red.zcard(tickets))
        await asyncio.gather(*tasks)
        took = time.monotonic() - began
        logged = await user_texts(http, _front(cluster, "rasa"), cluster.settings.rasa_token, sender)
    red.close()
    tally.sent = len(texts)
    tally.delivered = sum(1 for a in answers if a)
    tally.lost = sum(1 for t in texts if t not in logged)
    tally.duplicated = len(logged) - len(set(logged))
    print(f"\n{tally.line()} in {took:.1f} s; at most {queued} waiting in the lock at once; tracker order: {logged}")
    assert all(answers), f"a message got no reply: {list(zip(texts, answers))}"
    assert logged == texts, "the tracker lost or reordered messages sent to two Rasa servers"


async def test_escalation_seen_on_the_other_bridge_and_reply_reaches_the_other_rasa(scale_cluster: Cluster) -> None:
    cluster = scale_cluster
    s = cluster.settings
    sender = f"sock-{uuid.uuid4().hex[:8]}"
    on_one, on_two = Agent(_agent(cluster, f"sa1{sender[-4:]}")), Agent(_agent(cluster, f"sa2{sender[-4:]}"))
    customer = SocketCustomer(sender)
    async with httpx.AsyncClient(timeout=30) as http:
        await on_one.listen(_direct(cluster, "handoff-1"))
        await on_two.listen(_direct(cluster, "handoff-2"))
        await customer.connect(_direct(cluster, "rasa-2"))
        try:
            await customer.say("转人工")
            ticket = await eventually_ticket(http, _front(cluster, "handoff"), s.internal_token, sender, 60)
            assert ticket, "转人工 over socket.io on rasa-2 opened no ticket"
            served = _served(cluster, s.handoff_port, "/internal/escalate")
            assert served, "the escalation did not go through nginx"
            escalated_on = next(i.name for i in cluster.instances if served[-1].endswith(f":{i.port}"))
            other = "handoff-2" if escalated_on == "handoff-1" else "handoff-1"
            watcher = on_two if other == "handoff-2" else on_one
            for _ in range(50):
                if watcher.saw_escalation(ticket):
                    break
                await asyncio.sleep(0.1)
            assert watcher.saw_escalation(ticket), f"the agent on {other} never saw a ticket escalated through {escalated_on}"
            # that agent claims and answers through its own bridge; the customer's socket is on rasa-2
            bridge = _direct(cluster, other)
            resp = await http.post(f"{bridge}/api/tickets/{ticket}/claim", headers=watcher.headers)
            assert resp.status_code == 200, resp.text
            first = f"您好, 我是人工客服 ({uuid.uuid4().hex[:4]})"
            resp = await http.post(f"{bridge}/api/tickets/{ticket}/messages", headers=watcher.headers, json={"text": first})
            assert resp.status_code == 201, resp.text
            assert await customer.wait_for(first, 15), f"agent message via {other} never reached the socket on rasa-2"
            # the customer's app reconnects to the other Rasa server: the next reply follows it there
            await customer.close()
            customer = SocketCustomer(sender)
            await customer.connect(_direct(cluster, "rasa-1"))
            second = f"正在为您核实订单 ({uuid.uuid4().hex[:4]})"
            resp = await http.post(f"{bridge}/api/tickets/{ticket}/messages", headers=watcher.headers, json={"text": second})
            assert resp.status_code == 201, resp.text
            assert await customer.wait_for(second, 15), "agent message never reached the customer now on rasa-1"
            print(f"\nescalated through {escalated_on}, seen and answered on {other}; delivered on rasa-2 then rasa-1")
            await http.post(f"{bridge}/api/tickets/{ticket}/resolve", headers=watcher.headers)
        finally:
            await customer.close()
            await on_one.stop()
            await on_two.stop()


async def test_kill_one_of_each_during_traffic_loses_nothing(scale_cluster: Cluster) -> None:
    cluster = scale_cluster
    s = cluster.settings
    rasa, bridge = _front(cluster, "rasa"), _front(cluster, "handoff")
    run = uuid.uuid4().hex[:6]
    chat_texts = ["您好", "谢谢", "你好", "好的谢谢", "在吗", "感谢", "哈喽", "多谢"]
    messages, escalations, replies = Tally("messages through nginx"), Tally("escalations"), Tally("agent replies")
    agent = Agent(_agent(cluster, f"kill{run}"))
    customer = SocketCustomer(f"kill-sock-{run}")
    answered: Dict[str, List[str]] = {}
    killed_at: Dict[str, float] = {}
    slowest = [0.0]  # the longest a customer waited for an answer (a lock held by the dead server)
    async with httpx.AsyncClient(timeout=120) as http:
        await customer.connect(_direct(cluster, "rasa-2"))  # the surviving server: its socket stays up
        await customer.say("转人工")
        ticket = await eventually_ticket(http, bridge, s.internal_token, customer.sender, 60)
        assert ticket, "set-up: the socket customer's 转人工 opened no ticket"
        resp = await http.post(f"{bridge}/api/tickets/{ticket}/claim", headers=agent.headers)
        assert resp.status_code == 200, resp.text
        deadline = time.monotonic() + 240
        began = time.monotonic()

        async def chat(n: int) -> None:
            # one conversation after another until the traffic window ends (the kill is inside it)
            round_ = 0
            while time.monotonic() - began < TRAFFIC_SECONDS:
                round_ += 1
                sender = f"kill-{run}-{n}-{round_}"
                for text in chat_texts:
                    asked = time.monotonic()
                    got, retries = await say(http, rasa, sender, text, deadline)
                    slowest[0] = max(slowest[0], time.monotonic() - asked)
                    messages.sent += 1
                    messages.retried += retries
                    messages.delivered += bool(got)
                    answered.setdefault(sender, []).append(text)

        async def escalate(n: int) -> None:
            sender = f"kill-esc-{run}-{n}"
            await asyncio.sleep(1.5 * n)
            await say(http, rasa, sender, "您好", deadline)
            got, retries = await say(http, rasa, sender, "转人工", deadline)
            escalations.sent += 1
            escalations.retried += retries
            if await eventually_ticket(http, bridge, s.internal_token, sender, 60):
                escalations.delivered += 1
            else:
                escalations.lost += 1
                escalations.notes.append(f"{sender}: no ticket; bot said {got}")

        async def agent_talks() -> None:
            for i in range(AGENT_REPLIES):
                text = f"人工回复 {run}-{i}"
                resp, retries = await post_until(http, f"{bridge}/api/tickets/{ticket}/messages", {"text": text},
                                                 deadline, headers=agent.headers)
                replies.retried += retries
                if resp is not None and resp.status_code == 201:
                    replies.sent += 1
                else:
                    replies.notes.append(f"{text}: {resp.status_code if resp is not None else 'no answer'}")
                await asyncio.sleep(0.7)

        async def kill_soon() -> None:
            await asyncio.sleep(3.0)
            for name in ("rasa-1", "actions-1", "handoff-1"):
                cluster.kill(name)
                killed_at[name] = time.monotonic() - began

        await asyncio.gather(*(chat(n) for n in range(3)), *(escalate(n) for n in range(ESCALATIONS)), agent_talks(), kill_soon())
        took = time.monotonic() - began
        for sender, sent in answered.items():
            logged = await user_texts(http, rasa, s.rasa_token, sender)
            messages.lost += sum(1 for t in sent if t not in logged)
            messages.duplicated += len(logged) - len(sent) if len(logged) > len(sent) else 0
        await asyncio.sleep(2.0)
        delivered = [t for t in customer.texts if t.startswith(f"人工回复 {run}-")]
        replies.delivered = len(set(delivered))
        replies.duplicated = len(delivered) - len(set(delivered))
        replies.lost = replies.sent - replies.delivered
        await http.post(f"{bridge}/api/tickets/{ticket}/resolve", headers=agent.headers)
    await customer.close()
    after = [u for u in _served(cluster, s.rasa_port, "/webhooks/kefu/webhook")]
    print(f"\nREST messages per Rasa server (nginx log): "
          f"{ {i.name: sum(u.endswith(f':{i.port}') for u in after) for i in cluster.instances if i.kind == 'rasa'} }")
    print(f"killed {', '.join(f'{k} at {v:.1f} s' for k, v in killed_at.items())}; traffic took {took:.1f} s; "
          f"longest wait for an answer {slowest[0]:.1f} s")
    for tally in (messages, escalations, replies):
        print(tally.line(), *tally.notes, sep="\n  ")
    assert len(killed_at) == 3
    assert messages.sent >= 3 * len(chat_texts) and messages.delivered == messages.sent, messages.line()
    assert messages.lost == 0, messages.line()
    assert escalations.sent == ESCALATIONS and escalations.lost == 0, escalations.line() + str(escalations.notes)
    assert replies.sent == AGENT_REPLIES and replies.lost == 0, replies.line() + str(replies.notes)
    survivors = [i.name for i in cluster.instances if i.process and i.process.poll() is None]
    assert {"rasa-2", "actions-2", "handoff-2", "nginx"} <= set(survivors)
