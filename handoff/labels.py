"""Every agent-facing name and message of the console and supervisor view, in one place.

The console and the supervisor page read these from ``GET /api/labels``
(handoff/routes/agents.py), so a label is changed here once, not in three
JavaScript files; error *details* stay with their error class in
handoff/exceptions.py. Flow and order-status names come from
data/policies.yml, the same file the bot reads, so the console's hand-back
list always names flows the bot has (issue 15 item 1).
"""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Dict, List

import yaml

DATA = Path(__file__).resolve().parent.parent / "data"

PRIORITY_NAMES: Dict[str, str] = {"P0": "P0 安全", "P1": "P1 紧急", "P2": "P2 普通"}
REASON_NAMES: Dict[str, str] = {
    "safety": "安全问题", "request_human": "客户要求人工", "fallback": "机器人未能理解",
    "identity_failed": "身份核实未通过", "low_rating": "低评分", "anger": "客户情绪激动",
    "over_limit": "超出自动处理权限", "unresolved": "问题未解决",
}
#: intents as an agent reads them; report_safety is not 安全问题 so a safety card
#: does not read "安全问题 · 安全问题" (reason and intent side by side)
INTENT_LABELS: Dict[str, str] = {
    "query_order_status": "查询订单", "request_refund": "申请退款", "report_delay": "反映延误",
    "report_safety": "报告安全风险", "payment_issue": "支付异常", "cancel_order": "取消订单",
    "complain_service": "投诉服务", "report_damage": "货损", "change_order_info": "修改订单",
    "fee_dispute": "费用争议", "request_invoice": "申请发票", "request_human": "要求人工",
}
#: small talk and the bridge's own external intents: not shown on a card
SMALL_TALK_LABELS: Dict[str, str] = {
    "greet": "问候", "goodbye": "告别", "thank": "感谢", "affirm": "肯定", "deny": "否定",
    "inform": "补充信息", "out_of_scope": "超出范围", "rate": "评分", "nlu_fallback": "未识别",
}
SENTIMENT_NAMES: Dict[str, str] = {"calm": "平静", "angry": "愤怒", "urgent": "着急", "negative": "不满"}
SKILL_NAMES: Dict[str, str] = {"safety": "安全专员", "general": "综合", "refund": "退款", "supervisor": "主管"}
ORDER_TYPE_NAMES: Dict[str, str] = {"ride": "打车", "food": "外卖", "parcel": "快递"}
RECORD_STATUS_NAMES: Dict[str, str] = {
    "created": "已受理", "processing": "处理中", "approved": "已通过", "rejected": "已拒绝",
    "refunded": "已退款", "done": "已完成", "issued": "已发放",
}
#: what a revealed personal value is (core.pii labels)
PII_NAMES: Dict[str, str] = {"phone_number": "手机号", "email": "邮箱", "id_card": "身份证号", "bank_card": "银行卡号",
                             "address": "地址"}
OUTCOME_NAMES: Dict[str, str] = {"resolved": "已解决", "handback": "交回机器人", "left": "客户离开", "": "进行中"}

#: who wrote a transcript line
ROLE_NAMES: Dict[str, str] = {"user": "客户", "customer": "客户", "bot": "机器人", "agent": "人工客服", "system": "系统"}
#: the customer panel's order fields
PANEL_FIELDS: Dict[str, str] = {"order": "订单", "status": "状态", "phone": "手机", "amount": "金额", "refunds": "退款",
                                "claims": "理赔"}
#: console messages (not errors of one request: those carry their own detail)
MESSAGES: Dict[str, str] = {
    "network": "网络连接失败,请检查网络后重试",
    "send_failed": "发送失败:",
    "action_failed": "操作失败:",
    "claim_failed": "接入失败:",
    "chat_lost": "会话 {customer} 已不再由您接待(接待超时已回到排队队列,或已结束),请勿继续回复",
    "reconnected": "已重新连接,会话已同步",
    "forbidden_blocks": "含服务忌语,不能发送:",
    "you_warning": "请用“您”称呼客户,不要用“你”",
    "confirm_resolve": "确认该会话已解决并结束?客户将收到满意度评价。",
    "confirm_transfer": "确认转接给 {target}?",
    "confirm_handback": "确认交回机器人,进入“{flow}”流程?",
    "ineligible": "需要{skill}技能",
    "reserved": "已指定其他坐席",
    "customer_online": "● 客户在线",
    "customer_offline": "○ 客户已离开聊天页",
    "customer_rest": "消息渠道(无在线状态),最近消息 {ago}",
    "no_order": "该会话没有关联订单",
    "no_history": "暂无更早的会话",
    "queue_empty": "暂无排队客户",
    "new_chat": "新会话",
    "new_reply": "新消息",
    "sent_twice": "该消息已发送过,没有重复发送",
    "reveal": "查看原文",
    "revealed": "{label}:{value}(查看已记录审计)",
    "reveal_none": "该消息没有更多个人信息",
    "note_added": "备注已保存(仅坐席可见)",
    "sending": "发送中…",
    "send": "发送",
    "title": "客服工作台",
    "title_p0": "【P0 安全】",
    "duration_m": "{m}分{s}秒",
    "duration_s": "{s}秒",
    "waited": "等待 {t}",
    "sla_left": "剩余 {t}",
    "sla_over": "已超时 {t}",
    "card_sub": "原因:{reason} · 意图:{intents} · 客户:{customer}",
    "claim": "接入",
    "claim_label": "接入 {priority} 客户 {customer} {summary}{why}",
    "unread_label": "{n} 条未读",
    "minutes_ago": "{n} 分钟前",
    "ws_on": "实时连接",
    "ws_off": "连接断开,重连中…",
    "forbidden_item": "“{phrase}”是服务忌语,建议:{suggestion}",
    "reveal_label": "查看原文(会记录审计)",
    "order_line": "{type}订单 {order}",
    "history_agent": "坐席 {name}",
    "history_notes": " · 备注 {n} 条",
}
SHORTCUTS: List[Dict[str, str]] = [
    {"keys": "Enter", "action": "发送回复(Shift+Enter 换行)"},
    {"keys": "Alt+N", "action": "接入下一位"},
    {"keys": "Alt+R", "action": "已解决(需确认)"},
    {"keys": "Alt+1…9", "action": "切换到第 1…9 个会话"},
    {"keys": "Alt+←/→", "action": "上一个 / 下一个会话"},
]


@functools.lru_cache(maxsize=1)
def _policies() -> Dict[str, Any]:
    return dict(yaml.safe_load((DATA / "policies.yml").read_text(encoding="utf-8")) or {})


def flow_names() -> Dict[str, str]:
    """Flows a person can hand a conversation back to: value of the ``flow`` entity -> name."""
    return {str(k): str(v) for k, v in (_policies().get("flow_names") or {}).items()}


def status_names() -> Dict[str, str]:
    return {str(k): str(v) for k, v in (_policies().get("status_names") or {}).items()}


def intent_label(intent: str) -> str:
    return INTENT_LABELS.get(intent) or SMALL_TALK_LABELS.get(intent) or intent


def all_labels() -> Dict[str, Any]:
    """What ``GET /api/labels`` returns."""
    return {
        "priorities": PRIORITY_NAMES, "reasons": REASON_NAMES,
        "intents": dict(SMALL_TALK_LABELS, **INTENT_LABELS), "sentiments": SENTIMENT_NAMES,
        "skills": SKILL_NAMES, "flows": flow_names(), "statuses": status_names(),
        "order_types": ORDER_TYPE_NAMES, "pii": PII_NAMES,
        "roles": ROLE_NAMES, "panel": PANEL_FIELDS, "record_statuses": RECORD_STATUS_NAMES, "outcomes": OUTCOME_NAMES,
        "messages": MESSAGES, "shortcuts": SHORTCUTS,
    }
