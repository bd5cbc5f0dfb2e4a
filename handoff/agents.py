"""Agents: id, name, skills and the sha256 of their bearer token.

Kept in a JSON file (KEFU_AGENTS_FILE). The clear token is shown once, when
the agent is added, and never stored. The bridge re-reads the file when it
changes, so ``python -m handoff add-agent`` works while it runs.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

DEMO_AGENTS: Tuple[Tuple[str, str, Tuple[str, ...]], ...] = (
    ("demo1", "小王", ("safety", "general")),
    ("demo2", "小李", ("general", "refund")),
    ("demo3", "老陈", ("supervisor", "general")),
)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return "kefu_" + secrets.token_urlsafe(24)


@dataclass(frozen=True)
class Agent:
    id: str
    name: str
    skills: Tuple[str, ...] = field(default_factory=tuple)
    token_sha256: str = ""

    def public(self) -> Dict[str, object]:
        return {"id": self.id, "name": self.name, "skills": list(self.skills)}


class AgentDirectory:
    """Agents from a JSON file; lookups by token hash in constant time."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._mtime: Optional[float] = None
        self._by_id: Dict[str, Agent] = {}
        self._by_hash: Dict[str, Agent] = {}

    def _reload_if_changed(self) -> None:
        try:
            mtime = self.path.stat().st_mtime
        except FileNotFoundError:
            self._by_id, self._by_hash, self._mtime = {}, {}, None
            return
        if mtime == self._mtime:
            return
        raw = json.loads(self.path.read_text(encoding="utf-8") or "[]")
        agents = [
            Agent(
                id=str(item["id"]),
                name=str(item["name"]),
                skills=tuple(str(s) for s in item.get("skills", [])),
                token_sha256=str(item["token_sha256"]),
            )
            for item in raw
        ]
        self._by_id = {a.id: a for a in agents}
        self._by_hash = {a.token_sha256: a for a in agents}
        self._mtime = mtime

    def all(self) -> List[Agent]:
        self._reload_if_changed()
        return list(self._by_id.values())

    def get(self, agent_id: str) -> Optional[Agent]:
        self._reload_if_changed()
        return self._by_id.get(agent_id)

    def by_token(self, token: str) -> Optional[Agent]:
        if not token:
            return None
        self._reload_if_changed()
        digest = token_hash(token)
        agent = self._by_hash.get(digest)
        if agent is not None and hmac.compare_digest(agent.token_sha256, digest):
            return agent
        return None

    def add(self, agent_id: str, name: str, skills: List[str]) -> str:
        """Add or replace an agent; return the fresh clear token (show it once)."""
        if not agent_id or not name:
            raise ValueError("坐席 id 和姓名不能为空 (agent id and name are required)")
        token = new_token()
        self._reload_if_changed()
        agents = {a.id: a for a in self._by_id.values()}
        agents[agent_id] = Agent(agent_id, name, tuple(skills), token_hash(token))
        self._write(list(agents.values()))
        return token

    def _write(self, agents: List[Agent]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = [dict(asdict(a), skills=list(a.skills)) for a in agents]
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".agents.")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, ensure_ascii=False, indent=2)
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.path)
        self._mtime = None

    def seed_demo(self) -> Dict[str, str]:
        """(Re)create the demo agents with fresh tokens: {agent id: token}."""
        return {agent_id: self.add(agent_id, name, list(skills)) for agent_id, name, skills in DEMO_AGENTS}
