"""Browser tests: Playwright for Python driving Debian's chromium, headless,
against the real stack (`python -m bot.runner.stack` on free ports: redis, action
server, Rasa with the trained model, handoff bridge).

Nothing here downloads a browser: chromium comes from `make browser`
(apt). Screenshots of every step go to results/browser-run/ (ignored by git,
so a test run leaves the checkout clean); `make screenshots` runs the tests and
copies them to docs/screenshots/, the committed copies the README shows, on
purpose (tests/test_screenshots.py keeps the README's list, those files and the
step names here in agreement).

``KEFU_BROWSER_STACK=/path/stack.json`` runs the tests against a stack that
is already running ({"rasa": url, "handoff": url, "redis": url, "tokens":
{agent id: token}} with the agents of ``AGENTS``), to iterate quickly.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List

import httpx
import pytest

from core.paths import ROOT
from handoff.agents import AgentDirectory

CHROMIUM = Path(os.environ.get("KEFU_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]
RESULTS = Path(os.environ.get("KEFU_SCREENSHOTS_DIR") or ROOT / "results" / "browser-run")
#: agent id -> (name, skills)
AGENTS: Dict[str, tuple] = {
    "safe1": ("小王", ["safety", "general"]),
    "safe2": ("小赵", ["safety", "general"]),
    "gen1": ("小李", ["general"]),
    "sup1": ("老陈", ["supervisor", "general"]),
}
MOBILE = {"width": 390, "height": 780}
DESKTOP = {"width": 1360, "height": 820}
#: the bridge's lease in the browser stack (KEFU_HANDOFF_LEASE_SECONDS)
LEASE_SECONDS = 12


@dataclass
class LiveStack:
    rasa: str
    handoff: str
    redis: str
    tokens: Dict[str, str]

    def agent_headers(self, agent_id: str) -> Dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[agent_id]}"}

    def rest(self, sender: str, text: str) -> List[Dict[str, Any]]:
        """One message on Kefu's REST channel (handoff-aware); the bot's replies."""
        resp = httpx.post(f"{self.rasa}/webhooks/kefu/webhook", json={"sender": sender, "message": text}, timeout=60)
        resp.raise_for_status()
        return list(resp.json())


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStack]:
    existing = os.environ.get("KEFU_BROWSER_STACK")
    if existing:
        info = json.loads(Path(existing).read_text(encoding="utf-8"))
        yield LiveStack(info["rasa"], info["handoff"], info["redis"], info["tokens"])
        return
    from bot.runner.stack_process import StackProcess

    data = tmp_path_factory.mktemp("browser-stack")
    directory = AgentDirectory(data / "agents.json")
    tokens = {agent_id: directory.add(agent_id, name, skills) for agent_id, (name, skills) in AGENTS.items()}
    # a short lease, so the lease tests (test_console_shift.py) need not wait half a minute
    env = StackProcess.free_env(data, KEFU_AGENTS_FILE=str(data / "agents.json"), KEFU_DEMO_AGENTS="0",
                                KEFU_HANDOFF_LEASE_SECONDS=str(LEASE_SECONDS))
    running = StackProcess(env)
    try:
        yield LiveStack(running.url("rasa"), running.url("handoff"), running.url("redis"), tokens)
    finally:
        running.stop()


# Module scope, not session: Playwright's sync API keeps an asyncio loop
# running on the main thread until it stops, which would break every later
# test that calls asyncio.run().
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class Screenshots:
    """Numbered PNGs in RESULTS, one per step, named by step."""

    directory: Path
    taken: List[Path] = field(default_factory=list)

    def __call__(self, page: Any, step: str) -> Path:
        name = re.sub(r"[^a-z0-9-]+", "-", step.lower()).strip("-")
        path = self.directory / f"{len(self.taken) + 1:02d}-{name}.png"
        page.screenshot(path=str(path))
        self.taken.append(path)
        return path


@pytest.fixture(scope="session")
def shot() -> Screenshots:
    RESULTS.mkdir(parents=True, exist_ok=True)
    for old in RESULTS.glob("*.png"):
        old.unlink()
    return Screenshots(RESULTS)


@pytest.fixture(autouse=True)
def no_test_hangs_forever() -> Iterator[None]:
    """A stuck test dumps every thread's stack and ends the run instead of hanging CI."""
    import faulthandler
    import sys

    faulthandler.dump_traceback_later(300, exit=True, file=sys.stderr)
    yield
    faulthandler.cancel_dump_traceback_later()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    setattr(item, "rep_" + report.when, report)


# ---- shared by the browser test files ---------------------------------------------

def console_login(page: Any, stack: LiveStack, agent_id: str) -> None:
    from playwright.sync_api import expect

    page.goto(stack.handoff + "/console")
    page.fill("#token", stack.tokens[agent_id])
    page.click("#login-form button[type=submit]")
    expect(page.locator("#app")).to_be_visible()
    expect(page.locator("#ws-state")).to_have_text("实时连接", timeout=10_000)


def ticket_of(page: Any, priority: str) -> Any:
    return page.locator(f"#queue li.ticket[data-priority={priority}]")


class Scenario:
    """Pages and contexts shared by the steps of one walk-through."""

    def __init__(self, browser: Any) -> None:
        self.contexts: List[Any] = []
        self.dialogs: List[str] = []
        self.browser = browser

    def page(self, viewport: dict, **options: Any) -> Any:
        context = self.browser.new_context(viewport=viewport, locale="zh-CN", **options)
        self.contexts.append(context)
        page = context.new_page()
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        return page

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture()
def scenario(browser: Any, request: pytest.FixtureRequest) -> Iterator[Scenario]:
    s = Scenario(browser)
    yield s
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:  # what each page showed when it failed
        for index, context in enumerate(s.contexts):
            for page in context.pages:
                page.screenshot(path=str(RESULTS / f"failed-{request.node.name}-{index}.png"))
    s.close()


