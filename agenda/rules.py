"""What each client message may do: pure checks against role, phase and template.

The server calls ``check_command`` before it touches Redis.  The phase is
not checked here but inside each Lua script, atomically with the write, using
the same table (``agenda.phases.ALLOWED_PHASES``): a phase read earlier could
be stale, and a rating must never land after its round closed.
"""

from __future__ import annotations

from agenda.templates import Template
from protocol.errors import ErrorCode, ProtocolError
from protocol.messages import (
    ClientMessage,
    Join,
    PutAgendaItem,
    PutNote,
    Rate,
    SetOrgType,
)
from protocol.phases import Question, Role


def check_role(message: ClientMessage, role: Role) -> None:
    if role is Role.PRESENTER:
        raise ProtocolError(
            ErrorCode.FORBIDDEN, f"the presenter view is read-only: it may not send {message.TYPE}"
        )
    if role not in message.SENDERS:
        raise ProtocolError(ErrorCode.FORBIDDEN, f"a {role.value} may not send {message.TYPE}")


def check_norm(template: Template, norm_id: str | None) -> None:
    if norm_id is not None and not template.has_norm(norm_id):
        raise ProtocolError(ErrorCode.UNKNOWN_NORM, f"no norm {norm_id!r} in this session")


def check_command(message: ClientMessage, role: Role, template: Template) -> None:
    """Raise ``ProtocolError`` if ``role`` may never send ``message`` in this session."""
    if isinstance(message, Join):
        raise ProtocolError(ErrorCode.ALREADY_JOINED, "this connection has already joined")
    check_role(message, role)
    if isinstance(message, Rate):
        check_norm(template, message.norm_id)
        if message.question is Question.SECOND and template.second_question is None:
            raise ProtocolError(
                ErrorCode.INVALID_FIELD, "question: this session asks no second question"
            )
        if not template.scale.allows(message.value):
            scale = template.scale
            raise ProtocolError(
                ErrorCode.OUT_OF_SCALE,
                f"a rating is {scale.min} to {scale.max}"
                + (" or null for don't know" if scale.dont_know else ""),
            )
    elif isinstance(message, SetOrgType):
        if message.org_type is not None and not template.has_org_type(message.org_type):
            raise ProtocolError(
                ErrorCode.UNKNOWN_ORG_TYPE, f"no organisation type {message.org_type!r}"
            )
    elif isinstance(message, PutNote | PutAgendaItem):
        check_norm(template, message.norm_id)
