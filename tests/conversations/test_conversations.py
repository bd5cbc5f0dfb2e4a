"""Every scenario in scenarios/*.yml, played against the running stack.

Each scenario runs as a new customer (a fresh sender id) on freshly seeded
demo orders, over Kefu's REST channel; scenarios marked ``channel: socketio``
or ``both`` also (or only) run over socket.io, as the in-app chat does.
"""
from __future__ import annotations

import uuid
from typing import List, Union

import pytest

from core.identity import Customer, customer_secret, sign
from scripts.seed_orders import seed
from tests.conversations.behaviours import BEHAVIOURS
from tests.conversations.conftest import LiveStack
from tests.conversations.customer import Queue, RestCustomer, SocketCustomer
from tests.conversations.scenario import Reply, Scenario, check_turn, find_button, load_scenarios

SCENARIOS = load_scenarios()
CASES = [
    pytest.param(s, channel, id=f"{s.source}-{n:03d}-{channel}")
    for n, s in enumerate(SCENARIOS, start=1)
    for channel in (["rest", "socketio"] if s.channel == "both" else [s.channel])
]


def play(stack: LiveStack, scenario: Scenario, channel: str) -> List[str]:
    """Play ``scenario``; every problem found, as 'turn N (what was said): problem'."""
    seed(stack.db)
    sender = f"conv-{uuid.uuid4().hex[:12]}"
    token = None
    if scenario.customer:
        # the app's signed identity: the server derives the conversation id from it
        signed_in = Customer(sub=f"c{uuid.uuid4().hex[:10]}", phone=scenario.customer)
        token, sender = sign(signed_in, customer_secret(directory=stack.db.parent)), signed_in.sender
    customer: Union[RestCustomer, SocketCustomer]
    if channel == "socketio":
        customer = SocketCustomer(stack.rasa, sender, auth={"token": token} if token else None)
    else:
        customer = RestCustomer(stack.rasa, sender, headers={"Authorization": f"Bearer {token}"} if token else None)
    queue = Queue(stack.handoff, stack.agent_token, stack.internal_token)
    problems: List[str] = []
    replies: List[Reply] = []
    transcript: List[str] = []
    try:
        for number, turn in enumerate(scenario.turns, start=1):
            if turn.click is not None:
                button = find_button(replies, str(turn.click))
                if button is None:
                    problems.append(f"turn {number} ({turn.describe()}): 没有这个按钮")
                    break
                text = button["payload"]
            else:
                text = turn.say or ""
            replies = customer.send(text)
            transcript.append(f"  客户: {text}")
            transcript += [f"  机器人: {r.text}" + (f"  [{' | '.join(b['title'] for b in r.buttons)}]" if r.buttons else "")
                           for r in replies]
            wanted = turn.expect.get("queue")
            found = None
            if wanted is not None:
                found = queue.priority_of(sender, wait=0.0 if str(wanted) == "none" else 3.0)
            transcript.append("")
            for problem in check_turn(turn, replies, found):
                problems.append(f"turn {number} ({turn.describe()}): {problem}")
    finally:
        customer.close()
        queue.close()
    if problems:
        problems.insert(0, f"{scenario.source}: {scenario.name}")
        problems.append("对话:\n" + "\n".join(transcript))
    return problems


@pytest.mark.parametrize("scenario,channel", CASES)
def test_scenario(conversation_stack: LiveStack, scenario: Scenario, channel: str) -> None:
    problems = play(conversation_stack, scenario, channel)
    assert not problems, "\n".join(problems)


def test_the_suite_is_broad() -> None:
    """At least 100 scenarios, ~15% Traditional, a socket.io sample, every behaviour covered."""
    assert len(SCENARIOS) >= 100, len(SCENARIOS)
    traditional = [s for s in SCENARIOS if any(t.expect.get("script") == "hant" for t in s.turns)]
    assert len(traditional) >= 0.12 * len(SCENARIOS), len(traditional)
    assert sum(1 for s in SCENARIOS if s.channel in ("socketio", "both")) >= 8
    assert sum(1 for s in SCENARIOS if s.customer) >= 8, "order flows as a signed-in app customer too"
    covered = {c for s in SCENARIOS for c in s.covers}
    missing = sorted(set(BEHAVIOURS) - covered)
    assert not missing, f"behaviours without a scenario: {missing}"
    unknown = sorted(covered - set(BEHAVIOURS))
    assert not unknown, f"unknown behaviour ids: {unknown}"


