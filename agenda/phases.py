"""The session phase machine, as tables.

One table says which phase may follow which; another which message may be
sent in which phase.  Anything not in a table is refused with a clear error
(h11's ``_state.py`` is the model).  ``reveal -> rating`` starts a new round,
for a second, Delphi-style rating after the discussion.
"""

from __future__ import annotations

from dataclasses import dataclass

from protocol.errors import ErrorCode, ProtocolError
from protocol.phases import Phase

TRANSITIONS: dict[Phase, frozenset[Phase]] = {
    Phase.LOBBY: frozenset({Phase.RATING, Phase.CLOSED}),
    Phase.RATING: frozenset({Phase.REVEAL, Phase.CLOSED}),
    Phase.REVEAL: frozenset({Phase.RATING, Phase.BRAINSTORM, Phase.CLOSED}),
    Phase.BRAINSTORM: frozenset({Phase.REVEAL, Phase.AGENDA, Phase.CLOSED}),
    Phase.AGENDA: frozenset({Phase.BRAINSTORM, Phase.CLOSED}),
    Phase.CLOSED: frozenset(),
}

_OPEN = frozenset(Phase) - {Phase.CLOSED}

#: Message type -> phases in which it is accepted.  ``join`` is always
#: accepted (a closed room still shows its results); ``set_phase`` is governed
#: by TRANSITIONS instead.
ALLOWED_PHASES: dict[str, frozenset[Phase]] = {
    "rate": frozenset({Phase.RATING}),
    "set_org_type": _OPEN,
    "put_note": frozenset({Phase.RATING, Phase.REVEAL, Phase.BRAINSTORM}),
    "withdraw_note": frozenset({Phase.RATING, Phase.REVEAL, Phase.BRAINSTORM}),
    "set_lock": _OPEN,
    "hide_note": frozenset({Phase.RATING, Phase.REVEAL, Phase.BRAINSTORM, Phase.AGENDA}),
    "set_moderation": _OPEN,
    "put_agenda_item": frozenset({Phase.REVEAL, Phase.BRAINSTORM, Phase.AGENDA}),
    "remove_agenda_item": frozenset({Phase.REVEAL, Phase.BRAINSTORM, Phase.AGENDA}),
    "set_dot_voting": frozenset({Phase.BRAINSTORM, Phase.AGENDA}),
    # Also only while the facilitator has dot voting open (checked with it).
    "dot_vote": frozenset({Phase.BRAINSTORM, Phase.AGENDA}),
    "put_note_group": frozenset({Phase.REVEAL, Phase.BRAINSTORM, Phase.AGENDA}),
    "remove_note_group": frozenset({Phase.REVEAL, Phase.BRAINSTORM, Phase.AGENDA}),
    "set_timer": _OPEN,
    "set_follow_up_status": _OPEN,
    "set_expected_people": _OPEN,
    "set_admission": _OPEN,
    "admit": _OPEN,
}

#: Phases in which the rating distributions are shown.
REVEALED_PHASES = frozenset({Phase.REVEAL, Phase.BRAINSTORM, Phase.AGENDA, Phase.CLOSED})


@dataclass(frozen=True, slots=True)
class PhaseChange:
    phase: Phase
    round: int


def next_phase(current: Phase, target: Phase, round_: int) -> PhaseChange:
    """The phase and round after asking to go from ``current`` to ``target``."""
    if target not in TRANSITIONS[current]:
        raise ProtocolError(
            ErrorCode.BAD_TRANSITION, f"cannot go from {current.value} to {target.value}"
        )
    starts_new_round = current is Phase.REVEAL and target is Phase.RATING
    return PhaseChange(target, round_ + 1 if starts_new_round else round_)


def check_allowed(message_type: str, phase: Phase) -> None:
    allowed = ALLOWED_PHASES.get(message_type)
    if allowed is not None and phase not in allowed:
        raise ProtocolError(
            ErrorCode.WRONG_PHASE, f"{message_type} is not possible in phase {phase.value}"
        )


def rounds_started(phase: Phase) -> bool:
    """Whether the first rating round has opened: the lobby leads only to rating
    (or straight to closed), and nothing leads back to it.  From then on a new
    device waits for the facilitator and organisation types are fixed."""
    return phase is not Phase.LOBBY


def is_revealed(phase: Phase) -> bool:
    return phase in REVEALED_PHASES


def rules_table() -> dict[str, object]:
    """The tables above as JSON-ready data, for ``GET /api/protocol``: the pages take
    which phase may follow which and what is allowed when from here, never a copy."""
    order = list(Phase)
    return {
        "transitions": {
            phase.value: [t.value for t in order if t in TRANSITIONS[phase]] for phase in order
        },
        "allowed_phases": {
            message_type: [p.value for p in order if p in phases]
            for message_type, phases in sorted(ALLOWED_PHASES.items())
        },
        "revealed_phases": [p.value for p in order if p in REVEALED_PHASES],
    }
