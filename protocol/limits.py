"""Every limit of the protocol, in one place, each with its default and why.

The server enforces these, the browser pages receive them from the server
(``GET /api/protocol``) and the Python client reads them from here.  Nothing
else may hard-code one of these numbers.
"""

from __future__ import annotations

from typing import Final

#: Largest websocket frame the server accepts, in bytes.  A rating is ~60 bytes
#: and a note at most ~2 KB, so 16 KiB leaves room without letting one client
#: make the server buffer megabytes.  A larger frame closes the socket with 1009.
MAX_FRAME_BYTES: Final = 16 * 1024

#: Longest note, in characters (after Unicode NFC normalisation).
MAX_NOTE_CHARS: Final = 500

#: Longest agenda action text and owner, in characters.
MAX_AGENDA_TEXT_CHARS: Final = 500
MAX_AGENDA_OWNER_CHARS: Final = 120

#: Client-chosen ids (notes, agenda items): URL-safe, 8 to 32 characters.
ID_MIN_CHARS: Final = 8
ID_MAX_CHARS: Final = 32

#: Participant tokens are chosen by the server: 32 URL-safe characters (192 bits).
TOKEN_MIN_CHARS: Final = 22  # 128 bits in URL-safe base64
TOKEN_MAX_CHARS: Final = 64

#: Room codes: 6 characters from an alphabet without look-alikes (no 0/O, 1/I).
ROOM_CODE_ALPHABET: Final = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
ROOM_CODE_LENGTH: Final = 6

#: Sequence numbers are positive and fit in a signed 53-bit integer (safe in JSON).
MAX_SEQ: Final = 2**53 - 1

#: Seconds a new connection has to send its ``join`` before it is closed (4000).
JOIN_TIMEOUT_SECONDS: Final = 10.0

#: Token bucket per sender (a participant's pseudonym, a facilitator window),
#: kept across reconnects: sustained messages per second and burst size.  A
#: phone rating 20 norms as fast as a thumb can is far below this.
RATE_LIMIT_PER_SECOND: Final = 20.0
RATE_LIMIT_BURST: Final = 60

#: Errors a connection may cause within ``ERROR_WINDOW_SECONDS`` before it is
#: closed with 4008 (so a broken or hostile client cannot keep a worker busy).
MAX_ERRORS_PER_WINDOW: Final = 30
ERROR_WINDOW_SECONDS: Final = 60.0

#: Failed joins (unknown room, locked room without the join token, wrong
#: facilitator or display token) per client address per minute before further
#: guesses from it are refused (4029); a join with a credential (facilitator,
#: display or join token, a participant token that joined before) is never
#: refused for this.  Not lower: a conference hall's phones may all share one
#: address behind NAT, and people mistype codes.  With 32**6 = 1,073,741,824
#: codes and 500 open rooms, 30 guesses a minute find an open room after
#: 1,073,741,824 / (500 x 30) = about 71,583 minutes on average: about 50 days
#: from one address; a locked room then still needs the join token.
MAX_FAILED_JOINS_PER_MINUTE: Final = 30

#: Outgoing messages queued for one connection before it counts as too slow
#: and is closed with 4501 (it may reconnect and resync from a snapshot).
SEND_QUEUE_MAX: Final = 64
#: Seconds one frame may take to be written to a client; a client that reads
#: nothing for that long is closed with 4501 (or, when even the close frame
#: cannot get out, its connection is dropped).
WRITE_DEADLINE_SECONDS: Final = 10.0
#: Seconds after a room was restored or rebuilt during which re-asserted
#: ratings (``Rate.reassert``) count in a later phase of the same round.
HEAL_WINDOW_SECONDS: Final = 15 * 60

#: Participants per room.
MAX_PARTICIPANTS_PER_ROOM: Final = 5000

#: People the facilitator expects at the table: the default when a room is
#: created, and the bounds of what may be given (the start page and
#: ``set_expected_people``).  Devices beyond it wait to be admitted.
DEFAULT_EXPECTED_PEOPLE: Final = 12
MIN_EXPECTED_PEOPLE: Final = 1
#: As many as a room may hold: a hall of 2,000 phones gives its real number too.
MAX_EXPECTED_PEOPLE: Final = MAX_PARTICIPANTS_PER_ROOM
#: Devices that may wait to be admitted at once: a flood of new devices fills
#: this list (then ``room_full``), never the room.
MAX_WAITING_DEVICES: Final = 50
#: A waiting device's code, shown on its phone and in the facilitator's
#: waiting list: short, neutral (derived from the pseudonym), no 0/O or 1/I.
DEVICE_CODE_LENGTH: Final = 3
DEVICE_CODE_ALPHABET: Final = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

#: Notes a participant may have at once, and agenda items per room.
MAX_NOTES_PER_PARTICIPANT: Final = 50
#: Notes per room, ever (a withdrawn note keeps its place as a tombstone):
#: far more than a table writes, and a bound on what one room may make the
#: server store, send on every dashboard and compare for suggestions.
MAX_NOTES_PER_ROOM: Final = 1000
MAX_AGENDA_ITEMS: Final = 100

#: Dashboard snapshots per room per second, at most (updates are coalesced):
#: only the default of the server setting ``dashboard_interval_seconds``, which
#: is what the server uses; ``GET /api/protocol`` reports the setting.  At 4 a
#: second a rating could wait 250 ms for the next snapshot by design alone;
#: at 10 the wait is at most 100 ms (docs/benchmarks.md).
DASHBOARD_MAX_PER_SECOND: Final = 10

#: Smallest group whose figures (by organisation type) are ever shown: only
#: the default of the server setting ``min_group_size``, which is what the
#: server uses; ``GET /api/protocol`` reports the setting.
MIN_GROUP_SIZE: Final = 3

#: Before the reveal the control view shows a norm's answers in steps of this
#: many ("fewer than 3", "at least 3", "at least 6"...), so a count on a shared
#: screen does not tick up right after one person taps (agenda/progress.py).
RATING_PROGRESS_STEP: Final = 3

#: Dot voting: most dots one participant may ever be given, and the default.
MAX_DOTS_PER_PARTICIPANT: Final = 10
DEFAULT_DOTS_PER_PARTICIPANT: Final = 3

#: Note groups per room, notes per group, and a group title's length.
MAX_NOTE_GROUPS: Final = 100
MAX_NOTES_PER_GROUP: Final = 200
MAX_GROUP_TITLE_CHARS: Final = 120

#: A session's name and region, asked when the room is created and printed on
#: every export ("Participatiescan Zwolle", "IJsselland"), in characters.
MAX_SESSION_NAME_CHARS: Final = 120
MAX_SESSION_REGION_CHARS: Final = 120

#: Longest countdown the facilitator can set, in seconds (2 hours).
MAX_TIMER_SECONDS: Final = 7200
