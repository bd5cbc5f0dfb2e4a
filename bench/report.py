"""bench/RESULTS.md and bench/latency.png from the figures of one run (:class:`bench.base.Report`)."""
from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any, Dict, List, Optional

import psutil

from bench.analysis import analysis, cpu_section, paired_overhead, repeat_note, stock_ratio, worker_scale
from bench.base import (KEFU, PAIRED_SECONDS, STOCK, STOCK_RASA, TARGET_AGENT_P99, TARGET_CLAIMS, TARGET_ESCALATION_P99,
                        TARGET_OVERHEAD, TARGET_P95_MS, TARGET_P95_RATIO_MS, TARGET_RASA_MIB, TARGET_RPS,
                        TARGET_SINGLE_P50_MS, TARGET_STOCK_RATIO, TARGET_WORKER_SCALE, Report, get_in)


def plot(report: Report, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4.2))
    styles = {STOCK: "tab:gray", KEFU: "tab:blue"}
    for (channel, workers), colour in [((STOCK_RASA, 1), "black"), ((STOCK, 1), "tab:gray"), ((KEFU, 1), "tab:blue"),
                                       ((KEFU, 2), "tab:green")]:
        rows = sorted((r for r in report.loads if r.channel == channel and r.workers == workers), key=lambda r: r.users)
        if not rows:
            continue
        label = f"{channel}, {workers} Sanic worker{'s' if workers > 1 else ''}"
        xs = [r.users for r in rows]
        ax.plot(xs, [r.p95 for r in rows], marker="o", color=colour, label=f"{label} p95")
        ax.plot(xs, [r.p50 for r in rows], marker=".", linestyle="--", color=colour, label=f"{label} p50")
        bx.plot(xs, [r.rps for r in rows], marker="o", color=colour, label=label)
    del styles
    ax.axhline(TARGET_P95_MS, color="tab:red", linewidth=0.8, linestyle=":", label="target p95 100 ms")
    bx.axhline(TARGET_RPS, color="tab:red", linewidth=0.8, linestyle=":", label="target 60 replies/s")
    for axis, ylabel in ((ax, "latency per turn (ms, log)"), (bx, "turns per second")):
        axis.set_xlabel("concurrent customers")
        axis.set_xscale("log")
        axis.set_xticks([1, 10, 50])
        axis.get_xaxis().set_major_formatter(matplotlib.ticker.ScalarFormatter())
        axis.set_ylabel(ylabel)
        axis.grid(True, alpha=0.3)
        axis.legend(fontsize=7)
    ax.set_yscale("log")
    ax.set_title("Latency against concurrency", fontsize=10)
    bx.set_title("Throughput against concurrency", fontsize=10)
    fig.suptitle(f"Kefu bot replies, {os.cpu_count()} cores, {report.started}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def _verdict(ok: Optional[bool]) -> str:
    return "n/a" if ok is None else ("**met**" if ok else "**missed**")

KEEP_MARKER = "<!-- kept by make bench: measured by the commands it lists -->"


def write(report: Report, path: Path) -> str:
    mem = psutil.virtual_memory().total / 2**30
    load = report.load_before
    one = {(r.channel, r.users, r.workers): r for r in report.loads}
    kefu10, stock10 = one.get((KEFU, 10, 1)), one.get((STOCK, 10, 1))
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (bench/run.py); do not edit by hand, rerun it.",
        "",
        f"- Measured: {report.started} UTC",
        f"- Machine: {os.cpu_count()} cores ({platform.processor() or platform.machine()}), {mem:.1f} GiB RAM, "
        f"{platform.platform()}, Python {platform.python_version()}",
        f"- Load average before the run (1/5/15 min): {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}",
        f"- Host speed: a pure-Python loop of 10 million additions took {report.host_seconds:.2f} s (best of 3). This host's "
        "speed has varied about threefold between days, so compare figures within one run only.",
        "- Everything (Redis, action server, Rasa, bridge, locust, wrk, redis-benchmark) on this one machine, 127.0.0.1 only; Kefu's custom actions run in the Rasa process (the default), stock Rasa calls its action server;",
        "  the load generator shares the 2 cores with the stack it measures.",
        "",
        "## Targets",
        "",
        "| target | measured | verdict |",
        "|---|---|---|",
    ]
    if kefu10:
        lines.append(f"| 10 customers, whole stack: p95 <= {TARGET_P95_MS:.0f} ms | p95 {kefu10.p95:.0f} ms | "
                     f"{_verdict(kefu10.p95 <= TARGET_P95_MS)} |")
        lines.append(f"| 10 customers, whole stack: >= {TARGET_RPS:.0f} replies/s | {kefu10.rps:.1f} turns/s "
                     f"| {_verdict(kefu10.rps >= TARGET_RPS)} |")
    overhead = paired_overhead(report)
    if overhead is not None:
        over50, over95, rounds = overhead
        lines.append(f"| Kefu channel + handoff check add <= 10% to stock REST latency (10 customers) | "
                     f"p50 {over50:+.0%}, p95 {over95:+.0%} (medians of {rounds} alternating {PAIRED_SECONDS}-s rounds each) | "
                     f"{_verdict(over95 <= TARGET_OVERHEAD and over50 <= TARGET_OVERHEAD)} |")
    elif kefu10 and stock10 and stock10.p95:
        over50 = kefu10.p50 / stock10.p50 - 1 if stock10.p50 else 0.0
        over95 = kefu10.p95 / stock10.p95 - 1
        lines.append(f"| Kefu channel + handoff check add <= 10% to stock REST latency (10 customers) | "
                     f"p50 {over50:+.0%}, p95 {over95:+.0%} | {_verdict(over95 <= TARGET_OVERHEAD and over50 <= TARGET_OVERHEAD)} |")
    for key, v in report.memory.items():
        if key.endswith(":rasa") and v.get("peak_rss"):
            lines.append(f"| Rasa server memory under load <= 1.5 GB ({key.split(':')[0]}) | peak RSS {v['peak_rss']:.0f} MiB, "
                         f"PSS {v['peak_pss']:.0f} MiB | {_verdict(v['peak_pss'] <= TARGET_RASA_MIB)} (by PSS) |")
    lines += _issue17_targets(report)
    esc = get_in(report.handoff, "escalation_to_agent_queue", "latency_ms", "p99")
    if esc is not None:
        lines.append(f"| escalation visible in the agent queue p99 <= 50 ms | p99 {esc:.1f} ms | {_verdict(esc <= TARGET_ESCALATION_P99)} |")
    agent = get_in(report.handoff, "agent_message_to_customer_socket", "latency_ms", "p99")
    if agent is not None:
        lines.append(f"| agent message to the customer's socket p99 <= 100 ms | p99 {agent:.1f} ms | {_verdict(agent <= TARGET_AGENT_P99)} |")
    claims = get_in(report.handoff, "claims_lua", "per_s")
    if claims is not None:
        lines.append(f"| 1,000 claims/s sustained | {claims:.0f} claims/s (claim Lua, {get_in(report.handoff, 'claims_lua', 'seconds')} s) | "
                     f"{_verdict(claims >= TARGET_CLAIMS)} |")

    lines += [
        "",
        "## Bot replies per channel",
        "",
        "Simulated customers (bench/locustfile.py) hold multi-turn conversations with real order look-ups",
        "(greeting, order status with order numbers and phone numbers from the seeded demo database, delays,",
        "refunds, invoices, thanks, goodbye); a new conversation id each time. One *turn* is one customer",
        "message and the bot's replies to it (one HTTP request). Three channels, the same model, interleaved at each",
        f"concurrency level: the {KEFU} and the {STOCK} (Rasa's `rest` channel on Kefu's stores and speed-ups) on Kefu's",
        f"stack, and {STOCK_RASA}: `rasa run` with Rasa's RedisTrackerStore and RedisLockStore, templated NLG, no Kefu",
        "speed-up, and rasa_sdk's own action server, on the same Redis and order database (bench/stock_stack.py).",
        "",
        "The wording is generated (bench/conversations.py: several phrasings per step, the customer's own",
        "order or phone number, known to the demo database or not, fillers, punctuation, emoji), and every",
        "locust run draws new conversations. " + repeat_note(),
        "",
        "| channel | customers | Sanic workers | seconds | turns | errors | turns/s | p50 ms | p95 ms | p99 ms |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report.loads:
        lines.append(f"| {r.channel} | {r.users} | {r.workers} | {r.seconds} | {r.requests} | {r.failures} | {r.rps:.1f} | "
                     f"{r.p50:.0f} | {r.p95:.0f} | {r.p99:.0f} |")
    if report.paired:
        lines += ["", f"Channel overhead rounds (10 customers, 1 worker, {PAIRED_SECONDS} s each, in this order):", "",
                  "| round | channel | turns/s | p50 ms | p95 ms |", "|---|---|---|---|---|"]
        lines += [f"| {i} | {r.channel} | {r.rps:.1f} | {r.p50:.0f} | {r.p95:.0f} |" for i, r in enumerate(report.paired, 1)]
    if report.ratio:
        lines += ["", f"Stock Rasa ratio rounds (10 customers, 1 worker, {PAIRED_SECONDS} s each, in this order):", "",
                  "| round | channel | turns/s | p50 ms | p95 ms |", "|---|---|---|---|---|"]
        lines += [f"| {i} | {r.channel} | {r.rps:.1f} | {r.p50:.0f} | {r.p95:.0f} |" for i, r in enumerate(report.ratio, 1)]
    if report.same_replies:
        lines += ["", "Same replies on every channel (generated conversations sent to each before the load, compared by domain "
                  f"response and the values filled in, since either NLG picks a variant at random): {report.same_replies}."]
        if "different" in report.same_replies:
            lines.append("The channels share the demo order database, and some conversations change an order (a driver "
                         "reassigned): the channel asked after such a conversation reads the changed order (seed 7 of this "
                         "run, looked at by hand: 李师傅 on the first channel, the reassigned 孙师傅 on the next).")
    for base_label in (STOCK_RASA, STOCK):
        rows = [(users, one.get((KEFU, users, 1)), one.get((base_label, users, 1))) for users in sorted({r.users for r in report.loads})]
        rows = [(u, ours, base) for u, ours, base in rows if ours and base and base.p50 and base.p95 and base.rps]
        if rows:
            lines += ["", f"Kefu channel against {base_label} (same model, same run; >1 means slower / more):", ""]
        for users, ours, base in rows:
            lines.append(f"- {users} customers: p50 ratio {ours.p50 / base.p50:.2f}, p95 ratio {ours.p95 / base.p95:.2f}, "
                         f"throughput ratio {ours.rps / base.rps:.2f}")
    w2 = sorted((r for r in report.loads if r.workers == 2), key=lambda r: r.users)
    if w2:
        lines += ["", "### SANIC_WORKERS 1 -> 2 (Redis lock store, Kefu channel)", ""]
        for r in w2:
            base = one.get((r.channel, r.users, 1))
            if base and base.rps:
                lines.append(f"- {r.users} customers: {base.rps:.1f} -> {r.rps:.1f} turns/s (x{r.rps / base.rps:.2f}), "
                             f"p95 {base.p95:.0f} -> {r.p95:.0f} ms")
    if report.workers_rounds:
        lines += ["", f"1 worker against 2 workers, both stacks up, rounds alternating ({PAIRED_SECONDS} s each, in this order). "
                  "The same generated conversations, played by wrk (bench/wrk_load.py) instead of locust: two workers "
                  "need both cores, and the load generator's CPU per turn is taken from them (see the CPU table; "
                  "with locust the same rounds gave x1.65-1.70 at 50 customers, RESULTS.md's kept sections):", "",
                  "| round | customers | Sanic workers | turns/s | p50 ms | p95 ms |", "|---|---|---|---|---|---|"]
        lines += [f"| {i} | {r.users} | {r.workers} | {r.rps:.1f} | {r.p50:.0f} | {r.p95:.0f} |"
                  for i, r in enumerate(report.workers_rounds, 1)]
    lines += cpu_section(report)
    lines += ["", "![latency and throughput against concurrency](latency.png)", ""]

    lines += ["## Memory", "",
              "RSS and PSS (MiB) of each process with its children (the Sanic workers). PSS splits pages shared",
              "by forked workers, so it is the fairer sum when there are several.", "",
              "| stack | process | RSS at rest | RSS peak under load | PSS at rest | PSS peak under load |",
              "|---|---|---|---|---|---|"]
    for name, v in report.memory.items():
        stack_name, _, proc = name.partition(":")
        lines.append(f"| {stack_name} | {proc} | {v.get('rest_rss', 0):.0f} | {v.get('peak_rss', 0):.0f} | "
                     f"{v.get('rest_pss', 0):.0f} | {v.get('peak_pss', 0):.0f} |")

    lines += ["", "## Timings", ""]
    for name, value in report.timings.items():
        lines.append(f"- {name}: {value:.1f}")
    if report.evaluation:
        lines += ["", "## NLU evaluation (same model)", ""]
        for name, value in report.evaluation.items():
            lines.append(f"- {name}: `{value}`")
        if any("没有外部评估集" in v for v in report.evaluation.values()):
            lines.append("- The external evaluation set (../shared/external-eval/) was not available in this run: "
                         "no external figures.")

    if report.handoff:
        lines += handoff_section(report.handoff)
    if report.profile:
        lines += profile_section(report.profile)
    lines += analysis(report, kefu10, stock10)
    if report.notes:
        lines += ["", "## Notes", ""] + [f"- {n}" for n in report.notes]
    lines += ["", "## Commands", "", "    make bench   # = " + report.command.split("# = ", 1)[-1], "",
              "which ran, in order:", ""] + [f"    {c}" for c in report.commands]
    text = "\n".join(lines) + "\n"
    # Sections measured by other commands (the understanding figures of issue 14)
    # sit after KEEP_MARKER; a benchmark run keeps them as they are.
    previous = path.read_text() if path.exists() else ""
    if KEEP_MARKER in previous:
        text += "\n" + previous[previous.index(KEEP_MARKER):]
    path.write_text(text)
    return text


def _issue17_targets(report: Report) -> List[str]:
    """The target rows of issue 17 (performance against stock Rasa)."""
    one = {(r.channel, r.users, r.workers): r for r in report.loads}
    out = []
    ratio = stock_ratio(report)
    if ratio is not None:
        value, rounds = ratio
        out.append(f"| 1 worker, 10 customers: Kefu >= {TARGET_STOCK_RATIO:.1f}x stock Rasa's turns/s | x{value:.2f} (medians of "
                   f"{rounds} alternating {PAIRED_SECONDS}-s rounds each) | {_verdict(value >= TARGET_STOCK_RATIO)} |")
    kefu10 = one.get((KEFU, 10, 1))
    if kefu10:
        out.append(f"| 1 worker, 10 customers: p95 <= {TARGET_P95_RATIO_MS:.0f} ms | p95 {kefu10.p95:.0f} ms | "
                   f"{_verdict(kefu10.p95 <= TARGET_P95_RATIO_MS)} |")
    single = one.get((KEFU, 1, 1))
    if single:
        out.append(f"| 1 customer, whole stack: p50 <= {TARGET_SINGLE_P50_MS:.0f} ms | p50 {single.p50:.0f} ms | "
                   f"{_verdict(single.p50 <= TARGET_SINGLE_P50_MS)} |")
    for users in sorted({r.users for r in report.loads + report.workers_rounds if r.workers == 2}):
        scale = worker_scale(report, users)
        w1, w2 = one.get((KEFU, users, 1)), one.get((KEFU, users, 2))
        if scale is not None:  # alternating rounds, both stacks up: what the target is judged on
            value, rps1, rps2, rounds = scale
            measured = f"x{value:.2f} ({rps1:.1f} -> {rps2:.1f}, medians of {rounds} alternating {PAIRED_SECONDS}-s rounds each)"
        elif w1 and w2 and w1.rps:  # a run from before the alternating rounds: its two single runs
            value, measured = w2.rps / w1.rps, f"x{w2.rps / w1.rps:.2f} ({w1.rps:.1f} -> {w2.rps:.1f})"
        else:
            continue
        out.append(f"| 2 workers, {users} customers: >= {TARGET_WORKER_SCALE:.1f}x one worker's turns/s | {measured} | "
                   f"{_verdict(value >= TARGET_WORKER_SCALE)} |")
    return out


def _lat(d: Optional[Dict[str, Any]]) -> str:
    if not d or not d.get("n"):
        return "-"
    return f"{d['p50']:.1f} / {d['p95']:.1f} / {d['p99']:.1f}"


def handoff_section(h: Dict[str, Any]) -> List[str]:
    rb = get_in(h, "redis_benchmark", "runs") or {}

    def rb_lat(key: str) -> str:
        r = rb.get(key)
        return f"{key}: p50 {r['p50_ms']:.3f} / p99 {r['p99_ms']:.3f} ms" if r else "-"

    def rb_rps(key: str) -> str:
        r = rb.get(key)
        return f"{key}: {r['rps']:,.0f}/s" if r else "-"

    rows = [
        ("escalation -> visible in an agent console (POST /internal/escalate -> /ws/agent event), 1 at a time",
         h.get("escalation_to_agent_queue"), rb_lat("c1 SET")),
        ("the same, 4 escalations at a time", h.get("escalation_to_agent_queue_c4"), rb_rps("c50 XADD")),
        ("agent message -> customer's socket.io (POST /api/tickets/{id}/messages -> bot_uttered), 1 chat",
         h.get("agent_message_to_customer_socket"), rb_lat("c1 PUBLISH")),
        ("the same, 9 chats, each agent 1 message/s", h.get("agent_message_to_customer_socket_9chats"), rb_lat("c1 PUBLISH")),
        ("claims: claim_next Lua script (HandoffQueue, 16 at a time)", h.get("claims_lua"), rb_rps("c50 EVAL (one ZADD in Lua)")),
        ("claims: POST /api/queue/next through the bridge (claim + customer notice + Rasa tracker event)",
         h.get("claims_http"), rb_rps("c50 SET")),
    ]
    out = ["", "## Handoff bridge", "",
           f"Each step runs {h.get('seconds_per_step')} s (bench/handoff_bench.py) on the running stack above; "
           "redis-benchmark runs against the same redis-server in the same run (database 9).", "",
           "| measure | per second | errors | latency p50 / p95 / p99 ms | redis-benchmark, same Redis |",
           "|---|---|---|---|---|"]
    for label, data, ref in rows:
        if not data:
            continue
        out.append(f"| {label} | {data.get('per_s', 0):,.1f} | {data.get('errors', 0)} | {_lat(data.get('latency_ms'))} | {ref} |")
    lua = h.get("claims_lua") or {}
    if lua:
        out += ["", f"The claim step pre-fills {lua.get('tickets')} waiting tickets ({lua.get('fill_per_s'):,.0f} escalations/s "
                f"through the escalate Lua script), then claims them in queue order as agents with 3 chats each"
                + (" until the queue ran dry." if lua.get("queue_ran_dry") else ".")]
    if rb:
        out += ["", f"redis-benchmark ({get_in(h, 'redis_benchmark', 'version')}, `{get_in(h, 'redis_benchmark', 'command')}`):", "",
                "| test | requests/s | p50 ms | p99 ms |", "|---|---|---|---|"]
        for key, r in rb.items():
            out.append(f"| {key} | {r['rps']:,.0f} | {r['p50_ms']:.3f} | {r['p99_ms']:.3f} |")
    elif get_in(h, "redis_benchmark", "skipped"):
        out += ["", f"redis-benchmark: {get_in(h, 'redis_benchmark', 'skipped')}"]
    return out


def profile_section(p: Dict[str, Any]) -> List[str]:
    out = ["", "## Where the Rasa server's time goes (py-spy)", "",
           f"{p.get('samples')} samples of the Rasa server's Python stacks at 100 Hz while {p.get('load')}. "
           "Raw stacks: `var/bench/profile-rasa.folded` after a run (folded format, for any flame-graph tool; not committed).", "",
           "| share of busy samples | part |", "|---|---|"]
    out += [f"| {share}% | {name} |" for name, share in p.get("categories", [])]
    out += ["", "Top functions (inclusive, excluding the event loop and Sanic plumbing):", "", "```"]
    out += [f"{share:5.1f}%  {frame}" for frame, share in p.get("inclusive", [])]
    out += ["```"]
    return out
