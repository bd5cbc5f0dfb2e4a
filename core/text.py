"""Text normalisation for understanding (never for the transcript).

Customers write full-width digits, zero-width joiners from copy-paste,
Traditional characters, and sometimes paste pages of text. Understanding
works on a cleaned, Simplified, bounded copy; the original stays in the
tracker and the agent's transcript.
"""
from __future__ import annotations

import os
import re
import unicodedata
from functools import lru_cache
from typing import Any, Dict, Iterable, List, Optional, Tuple

import opencc
import yaml

from core.paths import TYPOS_FILE

_ZERO_WIDTH = re.compile("[\u200b-\u200f\u2028-\u202f\u2060-\u206f\ufeff]")
_HAN = re.compile("[\u3400-\u9fff]")
_TAGS = re.compile(r"<[^<>]{0,200}>")
#: whole messages of digit slang. The featurizers read any number as a number
#: (an order id, a rating), so "886" would be understood as an answer to a
#: question instead of a goodbye.
_DIGIT_SLANG = re.compile(r"^\s*(?:88+6?|886+)\s*([~!。.…]*)\s*$")
_DIGIT_SLANG_MEANING = "拜拜"


def max_chars() -> int:
    return int(os.environ.get("KEFU_NLU_MAX_CHARS", "500"))


@lru_cache(maxsize=2)
def _converter(config: str) -> Any:
    return opencc.OpenCC(config)


@lru_cache(maxsize=1)
def _typos() -> Tuple[Tuple[str, str], ...]:
    """(typo, meant) pairs from data/typos.yml, longest first; same lengths only."""
    with open(TYPOS_FILE, encoding="utf-8") as handle:
        table = (yaml.safe_load(handle) or {}).get("typos") or {}
    pairs = [(str(k), str(v)) for k, v in table.items() if len(str(k)) == len(str(v)) and k != v]
    return tuple(sorted(pairs, key=lambda p: -len(p[0])))


def fix_typos(text: str) -> str:
    """外买 → 外卖, 快第 → 快递 …: for understanding only, the length unchanged."""
    for typo, meant in _typos():
        if typo in text:
            text = text.replace(typo, meant)
    return text


def to_simplified(text: str) -> str:
    return str(_converter("t2s").convert(text))


def to_traditional(text: str) -> str:
    return str(_converter("s2t").convert(text))


_ACKNOWLEDGEMENT = re.compile(
    r"(?:(?:好的?|好滴|好哒|好嘞|好吧|嗯+|恩+|哦+|噢+|喔+|ok|okay|ok的|行|可以|知道了|明白了?|收到了?|了解了?|懂了|"
    r"对的?|是的|没问题|👌|👍|🆗|🙆|✔️?|✅)[\s,，。.!！~啦了呀哈嗯的吧]*){1,3}", re.I)


def is_acknowledgement(text: str) -> bool:
    """A message that only acknowledges: 嗯, 哦, ok, 👌, 好的 知道了, 嗯嗯 可以 (in Simplified)."""
    stripped = text.strip()
    return bool(stripped) and len(stripped) <= 12 and bool(_ACKNOWLEDGEMENT.fullmatch(stripped))


#: Latin-1 symbols (¤ ¦ § ¨ © ¬ ® ¯ ° ± ² ³ ´ µ ¶ · ¸ ¹ ¼ ½ ¾ ¿ × ÷) no language writes words with
_BYTE_SYMBOLS = frozenset(chr(c) for c in range(0xA4, 0xC0) if chr(c) not in "«»") | {"×", "÷"}
#: kana, Han or hangul: a message in an East Asian script (never noise, never keyboard mash)
CJK = re.compile("[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")


def is_byte_noise(text: str) -> bool:
    """Bytes shown as text (a file pasted, a broken encoding), not a message in any language.

    Three or more, and at least a tenth, of the non-space characters are
    control codes, private-use or replacement characters, or Latin-1 symbols
    that no language spells words with. French, German or Vietnamese
    (accented letters), emoji and « guillemets » are not noise; anything
    with Chinese, kana or hangul is a message.
    """
    if CJK.search(text):
        return False
    chars = [c for c in text if not c.isspace()]
    odd = sum(1 for c in chars
              if c in _BYTE_SYMBOLS or c == "\ufffd" or unicodedata.category(c) in ("Cc", "Co", "Cn"))
    return odd >= 3 and odd * 10 >= len(chars)


def script_of(text: str) -> Optional[str]:
    """'hant' when ``text`` is written in Traditional, 'hans' in Simplified,
    None when it is both or neither (好的, numbers, e-mail, emoji)."""
    if not text or not _HAN.search(text):
        return None
    if to_simplified(text) != text:
        return "hant"
    if to_traditional(text) != text:
        return "hans"
    return None


def conversation_script(user_texts_newest_first: Iterable[str]) -> str:
    """The script to answer in: that of the latest customer message that has one.

    A conversation that started in Traditional stays Traditional until the
    customer writes Simplified; a message with no script of its own (a
    number, an e-mail, "好的") keeps the conversation's.
    """
    for text in user_texts_newest_first:
        found = script_of(text or "")
        if found:
            return found
    return "hans"


def to_script(text: str, script: str) -> str:
    """``text`` (written in Simplified) in the customer's script."""
    return to_traditional(text) if script == "hant" and text else text


def _fold_char(char: str) -> str:
    """Width-fold one character (全角→半角) without changing the length."""
    category = unicodedata.category(char)
    if category in ("Cc", "Cs", "Co", "Cn", "Zl", "Zp") or char.isspace():
        return " "
    folded = unicodedata.normalize("NFKC", char)
    return folded if len(folded) == 1 else char


def normalize(text: str) -> Tuple[str, bool]:
    """Return (text for understanding, whether the original was Traditional).

    Offsets are kept wherever possible (one character in, one out; tags become
    spaces) so entity positions found on the result still point at the
    customer's words; only zero-width characters are dropped, and a whole
    message of digit slang (886, 88) becomes its meaning (拜拜).
    """
    if not text:
        return "", False
    text = _ZERO_WIDTH.sub("", text[: max_chars()])
    text = "".join(_fold_char(c) for c in text)
    text = _TAGS.sub(lambda m: " " * len(m.group(0)), text)
    simplified = fix_typos(to_simplified(text))
    traditional = to_simplified(text) != text
    slang = _DIGIT_SLANG.match(simplified)
    if slang:
        simplified = _DIGIT_SLANG_MEANING + slang.group(1)
    return simplified, traditional


def convert_response(response: Dict[str, Any]) -> Dict[str, Any]:
    """A response dict with its template text and button titles in Traditional.

    Converted before variables are filled in, so names, numbers and order ids
    passed as variables stay exactly as they are.
    """
    converted = dict(response)
    if isinstance(converted.get("text"), str):
        converted["text"] = _protect_placeholders(converted["text"])
    buttons: List[Dict[str, Any]] = converted.get("buttons") or []
    if buttons:
        converted["buttons"] = [
            {**b, "title": _protect_placeholders(b["title"])} if isinstance(b.get("title"), str) else b
            for b in buttons
        ]
    return converted


_PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")


def _protect_placeholders(template: str) -> str:
    parts, cursor = [], 0
    for found in _PLACEHOLDER.finditer(template):
        parts.append(to_traditional(template[cursor: found.start()]))
        parts.append(found.group(0))
        cursor = found.end()
    parts.append(to_traditional(template[cursor:]))
    return "".join(parts)
