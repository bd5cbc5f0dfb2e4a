#!/usr/bin/env python
"""Print a stored conversation for script editors.

    .venv/bin/python scripts/transcript.py <conversation_id> [--redis-url URL] [--story]

Reads the tracker from the bot's Redis tracker store (key ``kefu:tracker:<id>``),
prints time, who (客户 / 机器人 / 人工客服), text and the customer's intent,
with personal data masked. ``--story`` prints a test story to paste into
tests/test_stories/ instead.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import List, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# after the sys.path line above: run as a script, the checkout is not on the path yet
from kefu_check.transcript import (  # noqa: E402
    DEFAULT_KEY_PREFIX, TranscriptError, default_redis_url, load_events, render_story, render_transcript,
)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="显示一段会话记录(个人信息已打码)")
    parser.add_argument("conversation_id", help="会话 ID(sender_id)")
    parser.add_argument("--redis-url", default=None, help="Redis 地址,默认用 KEFU_REDIS_HOST/PORT/DB/PASSWORD")
    parser.add_argument("--key-prefix", default=DEFAULT_KEY_PREFIX, help="endpoints.yml 里的 key_prefix(默认 kefu)")
    parser.add_argument("--story", action="store_true", help="输出可编辑的测试对话(Rasa test story YAML)")
    args = parser.parse_args(argv)
    try:
        events = load_events(args.conversation_id, args.redis_url or default_redis_url(), args.key_prefix)
    except TranscriptError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    render = render_story if args.story else render_transcript
    sys.stdout.write(render(events, args.conversation_id))
    return 0


if __name__ == "__main__":
    sys.exit(main())
