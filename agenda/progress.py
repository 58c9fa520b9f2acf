"""Rating progress before the reveal, in steps that do not give away one answer.

With a dozen people at a table, a count that ticks up on the projector right
after someone taps tells the room which norm that person just answered (and,
since a changed rating does not count again, whether they changed it later).
So the projector gets only the answers in, counted in whole people: all
answers divided by the number of norms, rounded down.  One rating changes
that only when it completes a whole person's worth, and the figure never says
which norm the last answers were on.

The facilitator needs to see which norms lag, but often shares the control
view on a screen too: it gets each norm's answers rounded down to a step of
``RATING_PROGRESS_STEP``, so a norm's figure moves once per three answers,
not once per tap.  (The exact counts stay in ``Dashboard.norms`` for the
facilitator's own tools; the pages show only what is built here.)
"""

from __future__ import annotations

from collections.abc import Mapping

from agenda.templates import Template
from protocol.limits import RATING_PROGRESS_STEP
from protocol.messages import NormProgress, RatingProgress


def in_steps(count: int, step: int = RATING_PROGRESS_STEP) -> int:
    """``count`` rounded down to a multiple of ``step``."""
    return count - count % step


def whole_people(answers: int, norms: int, people: int) -> int:
    """How many people's worth of answers ``answers`` is (rounded down, at most ``people``)."""
    if norms <= 0:
        return 0
    return min(people, answers // norms)


def rating_progress(
    tallies: Mapping[str, Mapping[int | None, int]],
    template: Template,
    people: int,
    *,
    per_norm: bool,
) -> RatingProgress:
    """The round's progress; per-norm steps only when ``per_norm`` (the facilitator)."""
    received = {norm.id: sum(tallies.get(norm.id, {}).values()) for norm in template.norms}
    # A norm cannot have more answers than there are people; cap each, so a
    # late leaver's answers do not make someone else look done.
    answers = sum(min(count, people) for count in received.values())
    return RatingProgress(
        people=people,
        complete=whole_people(answers, len(template.norms), people),
        norms=(
            tuple(NormProgress(norm.id, in_steps(received[norm.id])) for norm in template.norms)
            if per_norm
            else ()
        ),
    )
