"""``python -m handoff``: run the bridge; ``python -m handoff add-agent``: add an agent.

    python -m handoff                      # serve on KEFU_HANDOFF_HOST:KEFU_HANDOFF_PORT
    python -m handoff add-agent --id a1 --name 小王 --skills safety,general
"""
from __future__ import annotations

import argparse
import logging
import sys
from typing import List, Optional

import uvicorn

from core.secrets import demo_tokens_path, private_write
from handoff.agents import AgentDirectory
from handoff.app import create_app
from handoff.privacy import install_log_masking
from handoff.settings import Settings, SettingsError


def _skills(raw: List[str]) -> List[str]:
    return [s.strip() for item in raw for s in item.split(",") if s.strip()]


def add_agent(settings: Settings, agent_id: str, name: str, skills: List[str]) -> int:
    token = AgentDirectory(settings.agents_file).add(agent_id, name, skills)
    print(f"坐席 {agent_id} ({name}) 已保存到 {settings.agents_file}")
    print(f"登录令牌 (只显示这一次, 请妥善保管 / shown once): {token}")
    return 0


def serve(settings: Settings) -> int:
    log_format = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    logging.basicConfig(level=logging.INFO, format=log_format)
    install_log_masking(log_format)  # no customer's phone, ID or address in handoff.log
    # httpx logs every request URL at INFO, and Rasa's HTTP API only takes its
    # token as ``?token=``: at INFO the Rasa token would be in handoff.log.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # Rasa installs TensorFlow, and anything that pulls in spaCy's thinc backend
    # imports it. The bridge never needs it (the PII masker is plain regexes):
    # blocking the import in this process keeps start-up time and memory low.
    sys.modules.setdefault("tensorflow", None)  # type: ignore[assignment]
    demo_file = demo_tokens_path(settings.data_dir)
    if settings.demo_agents:
        # Tokens go to a 0600 file that `make run` prints, never to stdout
        # (stdout is handoff.log, which gets copied and shared).
        tokens = AgentDirectory(settings.agents_file).seed_demo()
        settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        lines = ["演示坐席 (demo agents, tokens change at every start):"]
        lines += [f"  {agent_id}: {token}" for agent_id, token in tokens.items()]
        private_write(demo_file, "\n".join(lines) + "\n")
        print(f"演示坐席令牌已写入 {demo_file} (demo agent tokens written, mode 0600)", flush=True)
    else:
        demo_file.unlink(missing_ok=True)
    uvicorn.run(
        create_app(settings), host=settings.host, port=settings.port,
        log_level="warning", access_log=False, ws_max_size=settings.max_body_bytes,
        log_config=None,  # uvicorn's records reach the root handler, masked, not its own
        # uvicorn's "auto" picks websockets-sansio, which needs websockets>=13; Rasa pins 10.4
        ws="wsproto",
        h11_max_incomplete_event_size=settings.max_body_bytes,
    )
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m handoff", description="Kefu human-handoff bridge")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve", help="run the bridge (default)")
    add = sub.add_parser("add-agent", help="add or replace an agent and print a fresh token once")
    add.add_argument("--id", required=True)
    add.add_argument("--name", required=True)
    add.add_argument("--skills", action="append", default=[], help="comma separated, e.g. safety,refund")
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"配置错误 (configuration error): {exc}", file=sys.stderr)
        return 2
    if args.command == "add-agent":
        try:
            return add_agent(settings, args.id, args.name, _skills(args.skills))
        except ValueError as exc:
            print(str(exc), file=sys.stderr)
            return 2
    return serve(settings)


if __name__ == "__main__":
    sys.exit(main())
