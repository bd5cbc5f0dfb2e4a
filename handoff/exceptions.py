"""What can go wrong in the handoff bridge, each with its HTTP status.

Raised by the queue and the service; ``handoff.app`` turns them into
``{"error": code, "detail": message}`` JSON with the status below. Details
are in Chinese because agents read them in the console.
"""
from __future__ import annotations


class HandoffError(Exception):
    """Base class: ``code`` and ``status`` are used at the HTTP edge."""

    code = "handoff_error"
    status = 400
    default_detail = "请求无法处理"

    def __init__(self, detail: str | None = None) -> None:
        self.detail = detail or self.default_detail
        super().__init__(self.detail)


class BadRequest(HandoffError):
    code = "bad_request"
    status = 400
    default_detail = "请求内容不正确"


class Unauthorized(HandoffError):
    code = "unauthorized"
    status = 401
    default_detail = "令牌无效或已过期"


class Forbidden(HandoffError):
    code = "forbidden"
    status = 403
    default_detail = "没有权限执行此操作"


class TicketNotFound(HandoffError):
    code = "ticket_not_found"
    status = 404
    default_detail = "找不到该会话工单"


class AgentNotFound(HandoffError):
    code = "agent_not_found"
    status = 404
    default_detail = "找不到该坐席"


class NotInHandoff(HandoffError):
    code = "not_in_handoff"
    status = 404
    default_detail = "该会话当前不在人工服务中"


class AlreadyClaimed(HandoffError):
    code = "already_claimed"
    status = 409
    default_detail = "该会话已被其他坐席接入"


class NotOwner(HandoffError):
    code = "not_owner"
    status = 403
    default_detail = "该会话不属于您"


class NotEligible(HandoffError):
    code = "not_eligible"
    status = 409
    default_detail = "该会话需要由具备相应技能的坐席接入"


class TicketClosed(HandoffError):
    code = "ticket_closed"
    status = 409
    default_detail = "该会话已结束"


class CapacityReached(HandoffError):
    code = "capacity_reached"
    status = 409
    default_detail = "您同时接待的会话已达上限"


class QueueEmpty(HandoffError):
    code = "queue_empty"
    status = 404
    default_detail = "当前没有可接入的会话"


class LeaseExpired(HandoffError):
    code = "lease_expired"
    status = 409
    default_detail = "接待超时,该会话已回到排队队列"


class PayloadTooLarge(HandoffError):
    code = "payload_too_large"
    status = 413
    default_detail = "请求内容过大"


class EscalationLimited(HandoffError):
    """The sender opened KEFU_ESCALATIONS_PER_HOUR tickets this hour; no new one (never for safety)."""

    code = "escalation_limit"
    status = 429
    default_detail = "该会话本小时转人工次数已达上限"


class ForbiddenPhrase(HandoffError):
    """An agent message with a 服务忌语 (data/forbidden_phrases.yml): never sent, no override.

    SERVICE_GUIDE.md says these are never said, and the phrase file says
    一律不能出现, so the bridge refuses them whatever the console does.
    """

    code = "forbidden_phrase"
    status = 422
    default_detail = "回复含服务忌语,不能发送"


class UnfilledPlaceholder(HandoffError):
    """An agent's reply still has a script's {placeholder}: never sent to the customer."""

    code = "unfilled_placeholder"
    status = 400
    default_detail = "回复中还有未填写的变量,请填写后再发送"

    @classmethod
    def for_variables(cls, named: "list[tuple[str, str]]") -> "UnfilledPlaceholder":
        """The detail names each {variable} and what to fill in, e.g. {late_minutes}(延误分钟数)."""
        listed = "、".join(f"{{{name}}}({label})" for name, label in named)
        return cls(f"回复中还有未填写的变量:{listed},请填写后再发送")


class QueueUnavailable(HandoffError):
    code = "queue_unavailable"
    status = 503
    default_detail = "排队服务暂时不可用,请稍后重试"


#: Lua scripts answer with these codes; the queue raises the matching class.
BY_CODE: dict[str, type[HandoffError]] = {
    cls.code: cls
    for cls in (
        TicketNotFound,
        AlreadyClaimed,
        NotOwner,
        NotEligible,
        TicketClosed,
        CapacityReached,
        QueueEmpty,
        LeaseExpired,
        NotInHandoff,
        AgentNotFound,
    )
}
