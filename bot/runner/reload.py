"""`make reload`: load the freshly trained model into the running Rasa server.

Rasa swaps the model in place (PUT /model); conversations live in the Redis
tracker store and handoff tickets in the bridge's Redis keys, so neither is
touched by the swap: customers mid-conversation keep their slots and queued
customers keep their place.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import httpx

from core.paths import ROOT, data_dir


def reload(rasa_url: str, token: str, model: Path) -> None:
    resp = httpx.put(
        f"{rasa_url}/model", params={"token": token}, json={"model_file": str(model.resolve())}, timeout=300
    )
    if resp.status_code != 204:
        raise RuntimeError(f"Rasa 拒绝加载模型 (HTTP {resp.status_code}): {resp.text[:300]}")


def main() -> int:
    host = os.environ.get("KEFU_HOST", "127.0.0.1")
    url = f"http://{host}:{os.environ.get('KEFU_RASA_PORT', '5005')}"
    token = os.environ.get("KEFU_RASA_TOKEN")
    if not token:
        secret = data_dir() / "rasa_token.secret"
        token = secret.read_text().strip() if secret.exists() else ""
    model = Path(os.environ.get("KEFU_MODEL_FILE", ROOT / "models" / "kefu.tar.gz"))
    try:
        reload(url, token, model)
    except (httpx.HTTPError, RuntimeError) as exc:
        print(f"重新加载失败: {exc} (make run 是否在运行? 地址 {url})", file=sys.stderr)
        return 2
    print(f"已加载新模型 {model} 到 {url}; 进行中的对话和排队的转人工不受影响")
    return 0


if __name__ == "__main__":
    sys.exit(main())
