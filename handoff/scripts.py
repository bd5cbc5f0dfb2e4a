"""The agent console's standard scripts: the domain's replies, with titles,
categories and synonyms from ``data/agent_scripts.yml``.

The text of a script is the domain response itself (one script per variant),
so an agent and the bot say the same sentences; the data file only says what
an agent sees around it: a title instead of the utterance name, a category,
words to find it by (延误 finds the late-delivery scripts though none of them
contains the word), a label for each ``{variable}`` the console asks the
agent to fill, and the replies that are the bot's own mechanics (not offered).
Editors extend it; ``make check`` (kefu_check lint) reports what does not fit
(:func:`problems`).

Search (:meth:`ScriptLibrary.search`) matches every word of the query,
Simplified or Traditional, against the title, the text, the category and
both synonym lists. :func:`unfilled` finds the placeholders left in a reply,
which the bridge refuses to send (:func:`check_reply`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import yaml

from core.responses import DOMAIN_DIR, load_responses
from core.text import to_simplified
from handoff.exceptions import UnfilledPlaceholder

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS_FILE = ROOT / "data" / "agent_scripts.yml"
#: a {variable} of a domain response, as str.format reads it
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
#: where in the data file a problem is: its top-level key and the entry under it
Where = Tuple[str, str]


@dataclass(frozen=True)
class Category:
    id: str
    title: str
    synonyms: Tuple[str, ...] = ()


@dataclass(frozen=True)
class Script:
    """One variant of a domain response as the console offers it."""

    name: str
    variant: int
    title: str
    category: str
    text: str
    synonyms: Tuple[str, ...] = ()

    @property
    def variables(self) -> List[str]:
        """The placeholders in the text, once each, in order."""
        return list(dict.fromkeys(PLACEHOLDER.findall(self.text)))


@dataclass(frozen=True)
class Problem:
    """Something in the data file that does not fit the domain (for kefu_check)."""

    where: Where
    rule: str
    message: str
    suggestion: str


@dataclass
class ScriptLibrary:
    categories: List[Category]
    scripts: List[Script]
    #: variable name -> what the console asks the agent for
    labels: Dict[str, str]
    problems: List[Problem] = field(default_factory=list)

    def category(self, category_id: str) -> Optional[Category]:
        return next((c for c in self.categories if c.id == category_id), None)

    def _haystack(self, script: Script) -> Tuple[str, str]:
        """(title and synonyms, everything) in Simplified lower case."""
        cat = self.category(script.category)
        named = " ".join([script.title, *script.synonyms, *(cat.synonyms if cat else ()), cat.title if cat else ""])
        return to_simplified(named).lower(), to_simplified(named + " " + script.text).lower()

    def search(self, query: str) -> List[Script]:
        """The scripts with every word of ``query``; title, synonym and category hits first."""
        words = [w for w in to_simplified(query).lower().split() if w]
        if not words:
            return list(self.scripts)
        named_hits: List[Script] = []
        text_hits: List[Script] = []
        for script in self.scripts:
            named, everything = self._haystack(script)
            if all(w in everything for w in words):
                (named_hits if any(w in named for w in words) else text_hits).append(script)
        return named_hits + text_hits

    def as_json(self, scripts: Optional[Sequence[Script]] = None) -> Dict[str, Any]:
        """What GET /api/scripts answers: categories in order, scripts with their variables' labels."""
        shown = self.scripts if scripts is None else scripts
        return {
            "categories": [{"id": c.id, "title": c.title, "synonyms": list(c.synonyms)} for c in self.categories],
            "scripts": [
                {
                    "id": f"{s.name}#{s.variant}", "name": s.name, "title": s.title, "category": s.category,
                    "text": s.text, "synonyms": list(s.synonyms),
                    "variables": [{"name": v, "label": self.labels.get(v, v)} for v in s.variables],
                }
                for s in shown
            ],
            "total": len(self.scripts),
        }


def _strings(value: Any) -> Optional[Tuple[str, ...]]:
    if value is None:
        return ()
    if isinstance(value, list) and all(isinstance(v, (str, int)) for v in value):
        return tuple(str(v).strip() for v in value if str(v).strip())
    return None


def _categories(raw: Any, problems: List[Problem]) -> List[Category]:
    found: List[Category] = []
    if not isinstance(raw, dict):
        problems.append(Problem(("categories", ""), "agent-script-format", "categories 应为“编号: {title, synonyms}”的映射",
                                "参照文件开头的例子写分类"))
        return found
    for cid, body in raw.items():
        body = body if isinstance(body, dict) else {}
        title = str(body.get("title") or "").strip()
        synonyms = _strings(body.get("synonyms"))
        if not title:
            problems.append(Problem(("categories", str(cid)), "agent-script-category", f"分类 {cid} 没有标题 (title)",
                                    "给分类写一个坐席看得懂的中文标题"))
        if synonyms is None:
            problems.append(Problem(("categories", str(cid)), "agent-script-format", f"分类 {cid} 的 synonyms 应为词语列表",
                                    "写成 synonyms: [词1, 词2]"))
        found.append(Category(str(cid), title or str(cid), synonyms or ()))
    return found


def build_library(data: Mapping[str, Any], responses: Mapping[str, List[Dict[str, Any]]]) -> ScriptLibrary:
    """The library for a parsed data file and the domain's responses, with every problem found."""
    problems: List[Problem] = []
    categories = _categories(data.get("categories") or {}, problems)
    known_categories = {c.id for c in categories}
    raw_labels = data.get("variables") or {}
    labels = {str(k): str(v) for k, v in raw_labels.items()} if isinstance(raw_labels, dict) else {}
    hidden_raw = data.get("not_for_agents") or []
    hidden = {str(h) for h in hidden_raw} if isinstance(hidden_raw, list) else set()
    entries = data.get("scripts") or {}
    if not isinstance(entries, dict):
        entries = {}
        problems.append(Problem(("scripts", ""), "agent-script-format", "scripts 应为“回复名: {title, category}”的映射",
                                "参照文件里已有的话术写"))
    for name in sorted(hidden):
        if name not in responses:
            problems.append(Problem(("not_for_agents", name), "agent-script-unknown", f"not_for_agents 里的 {name} 不是 domain 里的回复",
                                    "改成 domain/*.yml 里存在的回复名,或者删掉这一行"))
        if name in entries:
            problems.append(Problem(("not_for_agents", name), "agent-script-unknown", f"{name} 同时在 scripts 和 not_for_agents 里",
                                    "只保留一处:坐席要用就放 scripts,机器人专用就放 not_for_agents"))
    scripts: List[Script] = []
    titles: Dict[str, str] = {}
    for name, body in entries.items():
        name = str(name)
        body = body if isinstance(body, dict) else {}
        where = ("scripts", name)
        if name not in responses:
            problems.append(Problem(where, "agent-script-unknown", f"话术 {name} 不是 domain 里的回复",
                                    "改成 domain/*.yml 里存在的回复名,或者删掉这条话术"))
            continue
        title = str(body.get("title") or "").strip()
        category = str(body.get("category") or "").strip()
        synonyms = _strings(body.get("synonyms"))
        if not title:
            problems.append(Problem(where, "agent-script-title", f"话术 {name} 没有标题 (title)",
                                    "写一个坐席一眼能认出的中文标题,例如“延误致歉”"))
        elif title in titles:
            problems.append(Problem(where, "agent-script-title", f"话术 {name} 和 {titles[title]} 的标题都是“{title}”",
                                    "换一个能区分两者的标题"))
        titles.setdefault(title, name)
        if category not in known_categories:
            problems.append(Problem(where, "agent-script-category", f"话术 {name} 的分类 {category or '(空)'} 不在 categories 里",
                                    "用 categories 里已有的分类编号,或者先在 categories 里加这个分类"))
        if synonyms is None:
            problems.append(Problem(where, "agent-script-format", f"话术 {name} 的 synonyms 应为词语列表", "写成 synonyms: [词1, 词2]"))
        texts = [str(v["text"]) for v in responses[name] if isinstance(v.get("text"), str)]
        for index, text in enumerate(texts):
            shown = title or name
            scripts.append(Script(name, index + 1, shown if len(texts) == 1 else f"{shown}({index + 1})",
                                  category, text, synonyms or ()))
            for variable in dict.fromkeys(PLACEHOLDER.findall(text)):
                if variable not in labels:
                    problems.append(Problem(where, "agent-script-variable",
                                            f"话术 {name} 用到变量 {{{variable}}},但 variables 里没有它的说明",
                                            f"在 variables 里加一行 {variable}: 坐席要填写的内容(例如“延误分钟数”)"))
                    labels[variable] = variable
    for name in sorted(set(responses) - set(entries) - hidden):
        problems.append(Problem(("response", name), "agent-script-missing",
                                f"回复 {name} 既不在 data/agent_scripts.yml 的 scripts 里,也不在 not_for_agents 里",
                                "坐席会用到就在 scripts 里写上标题和分类;只有机器人用就加到 not_for_agents"))
    order = {c.id: i for i, c in enumerate(categories)}
    scripts.sort(key=lambda s: (order.get(s.category, len(order)), list(entries).index(s.name), s.variant))
    return ScriptLibrary(categories, scripts, labels, problems)


def read_data(path: Path = SCRIPTS_FILE) -> Dict[str, Any]:
    if not path.exists():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return data if isinstance(data, dict) else {}


@lru_cache(maxsize=4)
def _cached(path: Path, domain_dir: Path, stamp: Tuple[float, ...]) -> ScriptLibrary:
    load_responses.cache_clear()  # the domain may have changed too (same stamp check)
    return build_library(read_data(path), load_responses(domain_dir))


def load_library(path: Path = SCRIPTS_FILE, domain_dir: Path = DOMAIN_DIR) -> ScriptLibrary:
    """The library, read again when the data file or a domain file changed."""
    files = [path, *sorted(domain_dir.glob("*.yml"))]
    stamp = tuple(f.stat().st_mtime if f.exists() else 0.0 for f in files)
    return _cached(path, domain_dir, stamp)


def unfilled(text: str) -> List[str]:
    """The {placeholders} still in ``text``, once each, in order."""
    return list(dict.fromkeys(PLACEHOLDER.findall(text)))


def check_reply(text: str, library: Optional[ScriptLibrary] = None) -> None:
    """Raise :class:`UnfilledPlaceholder` (400) if an agent's reply still has a {placeholder}."""
    left = unfilled(text)
    if not left:
        return
    labels = (library or load_library()).labels
    raise UnfilledPlaceholder.for_variables([(name, labels.get(name, name)) for name in left])
