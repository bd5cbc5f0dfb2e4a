"""``make train``: ``rasa train`` with only its real warnings shown.

Training validates the data as ``rasa data validate`` does and prints the
same warnings: about 140, nearly all for replies that only code utters and
for intents the system sends. Those are judged by ``make validate`` (the
``unused-response`` rule finds a reply nothing uses), so here they are
counted in one line each instead of drowning a real warning. Everything
else rasa prints passes through unchanged, and its exit code is kept.

    python -m kefu_check.train --domain domain --data data --config config.yml --out models
"""
from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import IO, List, Optional

from kefu_check.settings import load_settings
from kefu_check.validate import _ANSI, _WARNING, COVERED_NOTES, covered_kind, ignored_by_settings, rasa_env


#: a deprecation warning of an installed library: ``…/site-packages/x.py:12: DeprecationWarning: …``
_LIBRARY_DEPRECATION = re.compile(r"site-packages/\S+:\d+: \w*(?:Deprecation|MovedIn20)Warning: ")
#: lines after such a header that belong to it: the message goes on until the quoted source line
_MAX_CONTINUATION = 3

#: the note for the library deprecations left out of the output
LIBRARY_NOTE = "{n} 条第三方库的弃用提示(DeprecationWarning)未显示:与项目的数据无关"


def filter_output(lines: IO[str], out: IO[str], root: Path) -> Counter:
    """Copy rasa's output to ``out`` without the covered warnings; their counts per kind.

    Deprecation warnings of installed libraries (TensorFlow, pkg_resources, …)
    are nothing a script editor or a developer of Kefu can act on: they are
    counted under ``library`` too.
    """
    settings = load_settings(root)
    counts: Counter = Counter()
    skipping = 0
    for line in lines:
        plain = _ANSI.sub("", line)
        if skipping:
            skipping = 0 if plain.startswith("  ") else skipping - 1
            continue
        if _LIBRARY_DEPRECATION.search(plain):
            counts["library"] += 1
            skipping = _MAX_CONTINUATION
            continue
        match = _WARNING.search(plain)
        if match:
            message = match.group(1).strip()
            kind = covered_kind(message, settings.exempt_intents) or (
                "ignored" if ignored_by_settings(message, settings) else None)
            if kind:
                counts[kind] += 1
                continue
        out.write(line)
        out.flush()
    return counts


def main(argv: Optional[List[str]] = None, root: Optional[Path] = None) -> int:
    root = root or Path.cwd()
    command = [sys.executable, "-m", "rasa", "train", *(sys.argv[1:] if argv is None else argv)]
    proc = subprocess.Popen(command, cwd=root, env=rasa_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None  # stdout=PIPE
    counts = filter_output(proc.stdout, sys.stdout, root)
    code = proc.wait()
    print("\x1b[0m", end="")  # rasa colours a warning and resets at the next one: never leave the terminal yellow
    for kind, n in sorted(counts.items()):
        note = LIBRARY_NOTE if kind == "library" else COVERED_NOTES[kind] + " (详见 make validate)"
        print("注: " + note.format(n=n))
    return code


if __name__ == "__main__":
    sys.exit(main())
