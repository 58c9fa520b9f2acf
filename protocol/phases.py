"""The phase names of a session, as they travel on the wire.

Which phase may follow which, and what is allowed in each, is domain logic and
lives in ``agenda.phases``; the names are part of the protocol.
"""

from __future__ import annotations

from enum import StrEnum


class Phase(StrEnum):
    LOBBY = "lobby"
    RATING = "rating"
    REVEAL = "reveal"
    BRAINSTORM = "brainstorm"
    AGENDA = "agenda"
    CLOSED = "closed"


class Role(StrEnum):
    PARTICIPANT = "participant"
    FACILITATOR = "facilitator"
    #: The projector: joins with the room's display token, sees only what the
    #: whole room may see, and may send no command.
    PRESENTER = "presenter"


class Question(StrEnum):
    """Which question about a norm a rating answers.

    Every template asks ``current`` (how well the region or team does now);
    a template may add a ``second`` question on the same scale (how important
    the norm is, or the level the table wants to reach), which gives a gap.
    """

    CURRENT = "current"
    SECOND = "second"


class DotVoting(StrEnum):
    """Dot voting on notes: closed, open (results hidden), or results shown."""

    CLOSED = "closed"
    OPEN = "open"
    SHOWN = "shown"


class FollowUpStatus(StrEnum):
    """How far an agenda item of an earlier scan got."""

    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    DROPPED = "dropped"
