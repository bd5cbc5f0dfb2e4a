"""The README's screenshots: the list, the committed files and the browser tests agree.

The browser tests write their screenshots to results/browser-run/ (ignored);
`make screenshots` copies a run to docs/screenshots/, which the README links.
A step renamed or added in tests/browser/ without `make screenshots`, a file
without its line in the README or a link to nothing fails here, without a browser.
"""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "docs" / "screenshots"
README_LINK = re.compile(r"\]\((docs/screenshots/[^)]+\.png)\)")
STEP = re.compile(r"""\bshot\(\s*\w+\s*,\s*["']([^"']+)["']""")


def _readme_links() -> list:
    return README_LINK.findall((ROOT / "README.md").read_text(encoding="utf-8"))


def _steps() -> set:
    found: set = set()
    for path in (ROOT / "tests" / "browser").glob("test_*.py"):
        found |= set(STEP.findall(path.read_text(encoding="utf-8")))
    return found


def test_readme_links_exactly_the_committed_screenshots() -> None:
    links = _readme_links()
    assert links, "README lists no screenshots under docs/screenshots/"
    assert len(links) == len(set(links)), "a screenshot is listed twice"
    committed = {f"docs/screenshots/{p.name}" for p in SHOTS.glob("*.png")}
    assert sorted(set(links) - committed) == [], "README links a screenshot that is not committed"
    assert sorted(committed - set(links)) == [], "a committed screenshot is missing from the README's list"


def test_screenshots_are_numbered_in_order_and_named_by_a_browser_test_step() -> None:
    names = [Path(link).name for link in _readme_links()]
    numbers = [int(name[:2]) for name in names]
    assert numbers == list(range(1, len(names) + 1)), "README's screenshots are not numbered 01, 02, … in order"
    steps = _steps()
    assert len(steps) == len(names), "browser test steps and committed screenshots differ: run `make screenshots`"
    unknown = [name for name in names if name[3:-len(".png")] not in steps]
    assert unknown == [], f"no browser test step takes these (renamed? run `make screenshots`): {unknown}"


def test_screenshots_of_a_test_run_are_not_tracked() -> None:
    ignore = (ROOT / ".gitignore").read_text(encoding="utf-8").split()
    assert "results/" in ignore, "results/ (where tests write) must be ignored by git"
    conftest = (ROOT / "tests" / "browser" / "conftest.py").read_text(encoding="utf-8")
    assert '"results" / "browser-run"' in conftest, "browser tests must write under results/ by default"
