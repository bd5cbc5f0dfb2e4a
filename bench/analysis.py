"""The "Analysis" of bench/RESULTS.md: why a target is missed and what would fix it,
from the run's own figures; the channel overhead from the alternating rounds."""
from __future__ import annotations

import os
import statistics
from typing import List, Optional, Tuple

from bench.base import (KEFU, PAIRED_SECONDS, STOCK, STOCK_RASA, TARGET_OVERHEAD, TARGET_P95_MS, TARGET_P95_RATIO_MS,
                        TARGET_RPS, LoadResult, Report, get_in)
from bench.conversations import repeat_share
from bench.hotspots import CATEGORIES


def paired_overhead(report: Report) -> Optional[Tuple[float, float, int]]:
    """(p50 overhead, p95 overhead, rounds per channel) from the alternating rounds, or None."""
    kefu = [r for r in report.paired if r.channel == KEFU]
    stock = [r for r in report.paired if r.channel == STOCK]
    if not kefu or not stock:
        return None
    s50, s95 = statistics.median(r.p50 for r in stock), statistics.median(r.p95 for r in stock)
    if not s50 or not s95:
        return None
    k50, k95 = statistics.median(r.p50 for r in kefu), statistics.median(r.p95 for r in kefu)
    return k50 / s50 - 1, k95 / s95 - 1, min(len(kefu), len(stock))


def stock_ratio(report: Report) -> Optional[Tuple[float, int]]:
    """(Kefu turns/s over stock Rasa's, rounds per side) from the alternating ratio rounds, or None."""
    kefu = [r.rps for r in report.ratio if r.channel == KEFU]
    stock = [r.rps for r in report.ratio if r.channel == STOCK_RASA]
    if not kefu or not stock or not statistics.median(stock):
        return None
    return statistics.median(kefu) / statistics.median(stock), min(len(kefu), len(stock))


def _worker_rounds(report: Report, users: int, workers: int) -> List[LoadResult]:
    return [r for r in report.workers_rounds if r.users == users and r.workers == workers]


def worker_scale(report: Report, users: int) -> Optional[Tuple[float, float, float, int]]:
    """(2-worker turns/s over 1-worker's, 1-worker median, 2-worker median, rounds per side) at ``users``, or None.

    From the alternating rounds (both stacks up, WORKERS_ORDER): a host that
    speeds up or slows down during the run moves both sides alike, which two
    single runs minutes apart do not.
    """
    one = [r.rps for r in _worker_rounds(report, users, 1)]
    two = [r.rps for r in _worker_rounds(report, users, 2)]
    if not one or not two or not statistics.median(one):
        return None
    a, b = statistics.median(one), statistics.median(two)
    return b / a, a, b, min(len(one), len(two))


def repeat_note() -> str:
    """How often a customer message repeats an earlier one word for word (the NLU parse cache's best case)."""
    small, large = repeat_share(300), repeat_share(2000)
    return (f"Over 300 conversations ({small['turns']:.0f} messages) {small['repeated_share']:.0%} of the messages repeat an "
            f"earlier text exactly, over 2,000 conversations {large['repeated_share']:.0%}: mostly greetings, thanks and "
            "goodbyes. That is the most the NLU parse cache (bot/channels/speedups.py) can answer without running the NLU; "
            "the rest are parsed in full.")


def analysis(report: Report, kefu10: Optional[LoadResult], stock10: Optional[LoadResult]) -> List[str]:
    """Why a target is missed and what would fix it, from this run's figures."""
    out = ["", "## Analysis", ""]
    cats = dict(report.profile.get("categories", [])) if report.profile else {}
    gate = cats.get(CATEGORIES[0][0], 0.0)
    schema = cats.get(CATEGORIES[1][0], 0.0)
    nlu = cats.get(CATEGORIES[2][0], 0.0)
    pol = cats.get(CATEGORIES[3][0], 0.0)
    trk = cats.get(CATEGORIES[4][0], 0.0)
    one = {(r.channel, r.users, r.workers): r for r in report.loads}
    w1, w2 = one.get((KEFU, 50, 1)), one.get((KEFU, 50, 2))
    single = one.get((KEFU, 1, 1))
    if kefu10 and (kefu10.p95 > TARGET_P95_MS or kefu10.rps < TARGET_RPS):
        per_turn = 1000.0 / kefu10.rps if kefu10.rps else 0.0
        missed = " and ".join(name for name, miss in (("Latency", kefu10.p95 > TARGET_P95_MS),
                                                      ("throughput", kefu10.rps < TARGET_RPS)) if miss)
        verb = "are" if " and " in missed else "is"
        out += [
            f"- **{missed.capitalize()} at 10 customers {verb} missed.** One Rasa server process handles a turn in "
            f"{single.p50 if single else 0:.0f} ms (p50 at 1 customer) of mostly CPU; under load it completes a turn every "
            f"{per_turn:.0f} ms, so 10 customers queue behind each other (p95 {kefu10.p95:.0f} ms) and throughput is capped near "
            f"{kefu10.rps:.0f} turns/s. The profile attributes {nlu:.0f}% of the busy time to the NLU pipeline, {pol:.0f}% to the "
            f"dialogue policies, {schema:.0f}% to jsonschema (action server replies and tracker-event writes, checked by jsonschema_rs first, bot/channels/speedups.py) " f"and {trk:.0f}% to the tracker store; the rest is Sanic, the custom actions, JSON and asyncio. The stock channel "
            f"is just as far off (p95 {stock10.p95 if stock10 else 0:.0f} ms, {stock10.rps if stock10 else 0:.1f} turns/s), so this is "
            "the cost of Rasa's per-message pipeline on this machine, not of our channel.",
        ]
        w10a, w10b = one.get((KEFU, 10, 1)), one.get((KEFU, 10, 2))
        if w1 and w2:
            at10 = (f", x{w10b.rps / w10a.rps:.2f} at 10 ({w10a.rps:.1f} -> {w10b.rps:.1f})" if w10a and w10b and w10a.rps else "")
            out.append(f"- A second Sanic worker gives x{w2.rps / w1.rps:.2f} at 50 customers ({w1.rps:.1f} -> {w2.rps:.1f} turns/s)"
                       f"{at10}: the two cores are shared with Redis, the bridge and locust itself, "
                       "so the gain depends on how much of the second core they leave free. It also doubles the Rasa server's memory (one model per worker, see Memory).")
        out += [
            "- What would fix it: (1) more cores and one Sanic worker per core (the Redis lock store already makes that "
            "safe; throughput grew with workers above), with the load generator on another machine; (2) per-turn Rasa "
            "overhead that no cache removes yet: the policies rebuild the states of the whole conversation for every "
            "predicted action (past_states / _create_states in the profile), every custom action gets the whole "
            "tracker as JSON and back (in process by default, bot/dialogue/local_actions.py, encoded as over HTTP), and each save "
            "serialises the whole tracker (the tracker cache, bot/stores/tracker_cache.py, removed the read and replay "
            "on retrieve); shorter sessions (session expiry) bound all three; (3) for messages the parse cache has "
            "not seen, a cheaper NLU: DIET runs a TensorFlow graph per message (Rasa's per-message API cannot batch).",
            f"- 60 turns/s at 10 customers with p95 <= 100 ms means a turn in well under 100 ms while ten are in flight, "
            f"i.e. about 100 turns/s on 2 cores shared with Redis, the bridge and locust: x{100 / kefu10.rps:.1f} "
            f"this run's single-worker throughput. One customer alone sees p95 {single.p95 if single else 0:.0f} ms.",
        ]
    out += _against_stock(report)
    overhead = paired_overhead(report)
    if overhead is not None:
        over50, over95, rounds = overhead
        same = [r.p95 for r in report.paired if r.channel == STOCK]
        spread = (max(same) / min(same) - 1) if same and min(same) else 0.0
        verdict = "within" if over95 <= TARGET_OVERHEAD and over50 <= TARGET_OVERHEAD else "above"
        out.append(f"- The Kefu channel's own cost is one Redis GET per message (HandoffGate.state) while not in handoff: "
                   f"{gate:.1f}% of the profiled busy time. Measured as the medians of {rounds} alternating rounds per channel "
                   f"(stock, Kefu, Kefu, stock, stock, Kefu; {PAIRED_SECONDS} s each), it adds p50 {over50:+.0%} and p95 {over95:+.0%} "
                   f"({verdict} the 10% target). For scale: the p95 of the *same* stock channel varied by {spread:.0%} between "
                   "its rounds (one Rasa process, queueing), so single runs (the table above) can show either sign.")
    h = report.handoff
    agent = get_in(h, "agent_message_to_customer_socket", "latency_ms", "p99")
    paced = get_in(h, "agent_message_to_customer_socket_9chats", "latency_ms", "p99")
    if agent is not None:
        out.append(
            f"- Agent messages reach the customer's socket through Redis pub/sub and the Rasa server's socket.io manager, "
            f"so they wait for whatever that Rasa process is doing (p99 {agent:.0f} ms for one chat"
            + (f", {paced:.0f} ms with 9 chats" if paced is not None else "") + "). The bridge also writes every agent message "
            "into the Rasa tracker (`POST /conversations/{id}/tracker/events`, validated by jsonschema_rs first, "
            "bot/channels/speedups.py); with several chats, the delivery tail is the time Rasa's loop is busy with customer turns.")
    claims_http = get_in(h, "claims_http", "per_s")
    if claims_http is not None:
        out.append(f"- Claims: the claim itself (one Lua script) sustains {get_in(h, 'claims_lua', 'per_s') or 0:,.0f}/s from one Python "
                   f"client; a claim through the bridge's HTTP API ({claims_http:.0f}/s) also sends the customer the \"agent joined\" "
                   "notice, writes it into the Rasa tracker and returns the masked transcript, so it is bounded by Rasa's "
                   "tracker-events endpoint and PII masking, not by Redis (compare redis-benchmark).")
    return out


def _against_stock(report: Report) -> List[str]:
    """Issue 17: where Kefu stands against stock Rasa, and what the p95 and two-worker targets would take."""
    one = {(r.channel, r.users, r.workers): r for r in report.loads}
    ratio = stock_ratio(report)
    kefu10, stock10 = one.get((KEFU, 10, 1)), one.get((STOCK_RASA, 10, 1))
    out: List[str] = []
    if ratio is not None and kefu10 and stock10:
        out.append(
            f"- **Against stock Rasa** (same model, Redis and orders; alternating rounds) Kefu answers x{ratio[0]:.2f} the turns "
            f"per second at 10 customers (single runs: {kefu10.rps:.1f} against {stock10.rps:.1f} turns/s, p95 {kefu10.p95:.0f} "
            f"against {stock10.p95:.0f} ms). What stock Rasa does per turn and Kefu does not: fetch and replay the whole tracker "
            "from Redis (Kefu keeps it in the process, checked against a per-conversation version: bot/stores/tracker_cache.py), "
            "run the NLU for a text it has parsed before (the parse cache), schedule the inference graph through dask (the "
            "plain graph runner), run TED for dialogue states it has predicted before (CachedTEDPolicy), and poll the lock "
            "store (one Lua script per step).")
    if kefu10 and kefu10.rps and kefu10.p95 <= TARGET_P95_RATIO_MS:
        out.append(
            f"- p95 <= {TARGET_P95_RATIO_MS:.0f} ms at 10 customers is met: p95 {kefu10.p95:.0f} ms at {kefu10.rps:.1f} turns/s. "
            f"Ten customers who answer at once queue on one Rasa process, so each waits about 10 / throughput (Little's law: "
            f"{1000 * 10 / kefu10.rps:.0f} ms; p50 measured {kefu10.p50:.0f} ms): on a host slower than this one (see Host "
            "speed) the same code can miss it.")
    elif kefu10 and kefu10.rps:
        needed = 10 / (TARGET_P95_RATIO_MS / 1000 * 0.65)
        out.append(
            f"- p95 <= {TARGET_P95_RATIO_MS:.0f} ms at 10 customers: ten customers who answer at once queue on one Rasa process, "
            f"so each waits about 10 / throughput (Little's law: {1000 * 10 / kefu10.rps:.0f} ms at {kefu10.rps:.1f} turns/s; "
            f"p50 measured {kefu10.p50:.0f} ms). A p95 of {TARGET_P95_RATIO_MS:.0f} ms needs about {needed:.0f} turns/s from one "
            f"worker (p50 near 65% of p95, as measured), x{needed / kefu10.rps:.1f} this run's. The custom actions run in the Rasa "
            "process (the default), so their CPU waits its turn on this worker too: it scales with workers, not with one "
            "worker's speed.")
    scale = [(users, one.get((KEFU, users, 1)), one.get((KEFU, users, 2))) for users in (10, 50)]
    said = ", ".join(_scale_text(report, users, a, b) for users, a, b in scale if a and b and a.rps)
    cores = os.cpu_count() or 1
    ceilings = [(users, two_worker_ceiling(a, cores)) for users, a, b in scale if a and b and a.cpu_ms]
    ceiling_text = ", ".join(f"x{c:.2f} at {users}" for users, c in ceilings if c is not None)
    if said and ceiling_text:
        said += (f" (the CPU per turn of the 1-worker runs would allow at most {ceiling_text} customers on this machine: "
                 "see CPU per turn, by process)")
    used = [(users, a, b, machine_limit(b, cores)) for users, a, b in scale if a and b and a.rps and b.cpu_ms]
    used_text = "; ".join(
        f"at {users} customers {cpu_total(b):.2f} ms per turn against {cpu_total(a):.2f} with one "
        f"worker, so the cores serve at most {limit:.0f} turns/s, x{limit / a.rps:.2f} of one worker's {a.rps:.1f}, "
        f"and it reached {b.rps:.1f} ({b.rps / limit:.0%} of that)"
        for users, a, b, limit in used if limit)
    if said and used_text:
        said += (f". Two workers make a turn cost more CPU (both cores busy, with Redis, the bridge and locust on them): "
                 f"{used_text}")
    if said:
        out.append(
            f"- Two workers: {said}. {_generator_text(report)} Memory: the model cannot be shared by loading it before Sanic forks: `python -m bench.fork_model` "
            "loads it, forks two children and none answers (each waits in TensorFlow's quick_execute, whose thread pools "
            "do not survive a fork), so each worker loads its own copy, as Rasa does; the command prints the model's share "
            "of a worker.")
    return out


def _generator_text(report: Report) -> str:
    """What the load generator of the worker rounds took from the cores two workers need."""
    wrk = [r.cpu_ms["wrk"] for r in report.workers_rounds if "wrk" in r.cpu_ms]
    locust = [r.cpu_ms["locust"] for r in report.loads if "locust" in r.cpu_ms and r.users >= 10]
    if not wrk or not locust:
        return ("Both workers share the 2 cores with Redis, the bridge and locust (the custom actions run inside each "
                "worker), so this row needs more cores or the load generator on another machine.")
    return (f"The alternating rounds' customers come from wrk (bench/wrk_load.py), {statistics.median(wrk):.2f} ms of CPU "
            f"per turn against locust's {statistics.median(locust):.2f} in the single runs: with both cores busy, the load "
            "generator's CPU is taken from the second worker, which customers on their own phones would not take. Both "
            "workers still share the 2 cores with Redis and the bridge (the custom actions run inside each worker).")


def _scale_text(report: Report, users: int, one: LoadResult, two: LoadResult) -> str:
    single = f"x{two.rps / one.rps:.2f}"
    scale = worker_scale(report, users)
    if scale is None:
        return f"{single} at {users} customers"
    text = (f"x{scale[0]:.2f} at {users} customers (medians of {scale[3]} alternating rounds, "
            f"{scale[1]:.1f} -> {scale[2]:.1f} turns/s; the single runs above {single}")
    costs = [cpu_total(r) for r in _worker_rounds(report, users, 2) if r.cpu_ms]
    if costs and statistics.median(costs) > 0:
        limit = 1000.0 * (os.cpu_count() or 1) / statistics.median(costs)
        share = scale[2] / limit
        reached = "all of it (psutil does not see every cycle)" if share >= 0.98 else f"{share:.0%} of that"
        generator = [r.cpu_ms.get("wrk", r.cpu_ms.get("locust", 0.0)) for r in _worker_rounds(report, users, 2) if r.cpu_ms]
        text += (f"; in its 2-worker rounds a turn cost {statistics.median(costs):.2f} ms of CPU in all, "
                 f"{statistics.median(generator):.2f} of it the load generator's, so the cores "
                 f"served at most {limit:.0f} turns/s, and they reached {reached}")
    return text + ")"


#: the processes whose CPU a load run records (bench/measure.locust), in the table's order
CPU_PROCESSES = ("rasa", "actions", "redis", "handoff", "locust", "wrk")


def cpu_total(result: LoadResult) -> float:
    """CPU milliseconds per turn of every recorded process, the load generator included."""
    return sum(result.cpu_ms.get(name, 0.0) for name in CPU_PROCESSES)


def machine_limit(result: LoadResult, cores: int) -> Optional[float]:
    """Turns/s the machine's cores could serve at this run's CPU per turn (all processes, load generator included)."""
    total = cpu_total(result)
    return 1000.0 * cores / total if total > 0 else None


def two_worker_ceiling(one: LoadResult, cores: int) -> Optional[float]:
    """The most a second Rasa worker can add, as a multiple of ``one`` (a 1-worker run with its CPU per turn).

    Two workers serve at most 2 x 1000 / (Rasa's ms per turn) turns/s, and the
    machine at most ``machine_limit``; the smaller, over what one worker did.
    """
    limit, rasa = machine_limit(one, cores), one.cpu_ms.get("rasa", 0.0)
    if limit is None or rasa <= 0 or not one.rps:
        return None
    return min(limit, 2 * 1000.0 / rasa) / one.rps


def cpu_section(report: Report) -> List[str]:
    """Where the machine's CPU went per turn during the loads of 10 customers and more."""
    rows = [r for r in report.loads if r.cpu_ms and r.users >= 10]
    if not rows:
        return []
    cores = os.cpu_count() or 1
    names = [name for name in CPU_PROCESSES if any(name in r.cpu_ms for r in rows)]  # the load generators run
    out = ["", "### CPU per turn, by process", "",
           "CPU milliseconds (user + system, psutil) each process spent per turn during the runs above; locust's from its "
           "rusage, its start-up included. At that cost the machine's "
           f"{cores} cores serve at most {cores} x 1000 / total turns/s, however many Rasa workers run.", "",
           "| channel | customers | Sanic workers | " + " | ".join(names) + " | total | turns/s | machine's limit turns/s |",
           "|---|---|---|" + "---|" * (len(names) + 3)]
    for r in rows:
        limit = machine_limit(r, cores)
        cells = " | ".join(f"{r.cpu_ms[name]:.2f}" if name in r.cpu_ms else "-" for name in names)
        out.append(f"| {r.channel} | {r.users} | {r.workers} | {cells} | {cpu_total(r):.2f} | {r.rps:.1f} | "
                   f"{f'{limit:.0f}' if limit else '-'} |")
    return out
