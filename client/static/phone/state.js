// The phone page's one state, and the pure selectors that read it.
//
// Nothing here touches the DOM, the network or storage: the selectors are
// functions of the state (or of a room snapshot) and are unit-tested under
// Node (tests/js/phone.test.mjs).  `s` is the `app` object below, or in a
// test any object of the same shape.

export const app = {
  schema: null,
  t: null,
  lang: "nl",
  room: "",
  joinToken: null,
  conn: null,
  status: "connecting",
  closeCode: null,
  // The room is gone from the server and waits to be restored (close 4504):
  // a calm banner until the next welcome; the answers stay on the phone.
  roomLost: false,
  everOnline: false,
  connectingSince: 0,
  bannerShown: false,
  fatal: null, // {key} when joining is impossible
  welcome: null,
  state: null,
  skew: 0, // server clock minus ours, ms
  template: null,
  templateLang: null, // the language app.template's texts were asked in
  norms: [], // [{id, number, title, description, theme}]
  confirmed: {
    org: null,
    orgChosen: false,
    ratings: new Map(), // norm id -> {value, seq}
    seconds: new Map(), // norm id -> {value, seq}: answers to the template's second question
    notes: new Map(), // note id -> {text, norm_id, hidden, seq}
    dots: new Map(), // note id -> {dots, seq}
  },
  index: null, // the norm shown while rating; norms.length = the summary
  overviewOpen: false,
  resultsOpen: false,
  draft: { noteId: null, text: "", norm: "" },
  notice: null, // {key, params, kind}
  // Ratings the server refused because their round had closed (sent after a
  // time offline): how many the notice counts, and per norm what was given.
  late: { count: 0, answers: new Map() }, // lateKey -> {round, value}
  noticeTimer: null,
  seen: { phase: null, voting: null, timer: null, timerDone: null },
  timerInterval: null,
  // Once the lobby was seen on this device, the organisation was asked there;
  // a latecomer (first here after the lobby) is asked before the first norm.
  sawLobby: false,
  orgDraft: undefined, // the latecomer's pick before "Verder": an org id, null (rather not say)
  lastAnswer: new Map(), // question prefix -> value given last, where a fresh scale's tab stop sits
  focusPhase: false, // a phase just opened: move the focus to its heading after the render
  downloading: false,
};

// ------------------------------------------------------------------ phase rules

/**
 * Whether the page offers a command's control in a phase.  The server decides
 * (agenda/phases.py) and refuses with an error; the table is the one
 * /api/protocol publishes as allowed_phases, never a copy.
 */
export function allowedIn(s, messageType, phase) {
  const phases = s.schema?.allowed_phases?.[messageType];
  return Array.isArray(phases) && phases.includes(phase);
}

/** The name of a websocket close code in the protocol's table, or "generic". */
export function closeCodeName(schema, code) {
  for (const [name, entry] of Object.entries(schema.close_codes)) {
    if (entry.code === code) return name;
  }
  return "generic";
}

// ------------------------------------------------------------------ own answers

/** A rating (sent, stored or returned on join) that answers the template's second question. */
export function isSecond(rating) {
  return rating.question === "second";
}

/** The confirmed part of the state from a welcome: the device's own answers as the server has them. */
export function confirmedFromWelcome(welcome) {
  const own = (second) =>
    new Map(
      welcome.ratings
        .filter((r) => isSecond(r) === second)
        .map((r) => [r.norm_id, { value: r.value, seq: r.seq }]),
    );
  return {
    org: welcome.org_type,
    ratings: own(false),
    seconds: own(true),
    notes: new Map(
      welcome.notes.map((n) => [
        n.note_id,
        { text: n.text, norm_id: n.norm_id, hidden: n.hidden, seq: n.seq },
      ]),
    ),
    dots: new Map(welcome.dots.map((d) => [d.note_id, { dots: d.dots, seq: d.seq }])),
  };
}

/** A command the server stored becomes part of the confirmed state (a newer seq wins). */
export function confirm(c, command) {
  switch (command.type) {
    case "rate": {
      const answers = isSecond(command) ? c.seconds : c.ratings;
      const old = answers.get(command.norm_id);
      if (!old || old.seq <= command.seq) {
        answers.set(command.norm_id, { value: command.value, seq: command.seq });
      }
      break;
    }
    case "set_org_type":
      c.org = command.org_type;
      break;
    case "put_note": {
      const old = c.notes.get(command.note_id);
      if (!old || old.seq <= command.seq) {
        c.notes.set(command.note_id, {
          text: command.text,
          norm_id: command.norm_id,
          hidden: old ? old.hidden : false,
          seq: command.seq,
        });
      }
      break;
    }
    case "withdraw_note":
      c.notes.delete(command.note_id);
      break;
    case "dot_vote": {
      const old = c.dots.get(command.note_id);
      if (!old || old.seq <= command.seq) {
        c.dots.set(command.note_id, { dots: command.dots, seq: command.seq });
      }
      break;
    }
    default:
      break;
  }
}

/**
 * The confirmed state with the kept answers being sent again (after a welcome
 * that lacked them) and the outbox laid over it, in seq order.
 */
export function view(s) {
  const c = s.confirmed;
  const ratings = new Map([...c.ratings].map(([id, r]) => [id, { ...r, pending: false }]));
  const seconds = new Map([...c.seconds].map(([id, r]) => [id, { ...r, pending: false }]));
  const notes = new Map([...c.notes].map(([id, n]) => [id, { ...n, pending: false }]));
  const dots = new Map([...c.dots].map(([id, d]) => [id, d.dots]));
  let org = c.org;
  let orgPending = false;
  // Re-sent answers were acknowledged once: shown as given, not as waiting.
  const reasserting = (s.conn?.reasserting || []).map((message) => ({ message, pending: false }));
  const outbox = (s.conn ? s.conn.outbox : []).map((message) => ({ message, pending: true }));
  for (const { message, pending } of [...reasserting, ...outbox]) {
    switch (message.type) {
      case "rate":
        (isSecond(message) ? seconds : ratings).set(message.norm_id, {
          value: message.value,
          seq: message.seq,
          pending,
        });
        break;
      case "set_org_type":
        org = message.org_type;
        orgPending = pending;
        break;
      case "put_note": {
        const old = notes.get(message.note_id);
        notes.set(message.note_id, {
          text: message.text,
          norm_id: message.norm_id,
          hidden: old ? old.hidden : false,
          seq: message.seq,
          pending,
        });
        break;
      }
      case "withdraw_note":
        notes.delete(message.note_id);
        break;
      case "dot_vote":
        dots.set(message.note_id, message.dots);
        break;
      default:
        break;
    }
  }
  for (const [id, n] of dots) if (n === 0) dots.delete(id);
  return { ratings, seconds, notes, dots, org, orgPending };
}

/** The key of a late answer in app.late.answers. */
export function lateKey(normId, question) {
  return `${question === "second" ? "second" : "current"}:${normId}`;
}

/** The answer given to a norm that came too late for the current round, or null. */
export function lateAnswer(s, normId, question) {
  const late = s.late.answers.get(lateKey(normId, question));
  return late && s.state && late.round === s.state.round ? late : null;
}

// ------------------------------------------------------------------ the template's norms

/** The template's second question ({kind, question, min_label, max_label}) or null. */
export function secondQuestion(s) {
  return s.template ? s.template.second_question || null : null;
}

/** Every question of this norm answered (the second one too, when the template asks it). */
export function isComplete(s, v, normId) {
  return v.ratings.has(normId) && (!secondQuestion(s) || v.seconds.has(normId));
}

/** The index of the first norm not fully answered; norms.length (the summary) when all are. */
export function firstOpenNorm(s) {
  const v = view(s);
  const open = s.norms.findIndex((norm) => !isComplete(s, v, norm.id));
  return open === -1 ? s.norms.length : open;
}

export function normById(s, id) {
  return s.norms.find((norm) => norm.id === id);
}

/**
 * A latecomer (this device never saw the lobby) who has not answered yet is
 * asked the organisation type before the first norm, so that its ratings
 * count in the breakdown.  "Verder" with nothing picked skips it.
 */
export function asksOrgFirst(s, v) {
  const types = s.template.org_types || [];
  return types.length > 0 && !s.sawLobby && !s.confirmed.orgChosen && v.org === null;
}

// ------------------------------------------------------------------ timer

/** Milliseconds left on the room's timer at server time `serverNow`; null when none runs. */
export function remainingMs(roomState, serverNow) {
  if (!roomState || !roomState.timer_ends_at || roomState.phase === "closed") return null;
  return Math.max(0, roomState.timer_ends_at - serverNow);
}

// formatRemaining is kleur.js's (one clock for the phone and the projector).
export { formatRemaining } from "../kleur.js";

// ------------------------------------------------------------------ notes and dots

/**
 * The moderation a room_state tells the author: the ids of hidden notes (null
 * from a server that sends none: the note's own flag counts then) and of
 * those waiting for approval (random ids: only we know ours).
 */
export function moderation(roomState) {
  const hiddenIds = Array.isArray(roomState.hidden_notes) ? new Set(roomState.hidden_notes) : null;
  const waitingIds = new Set(Array.isArray(roomState.pending_notes) ? roomState.pending_notes : []);
  return { hiddenIds, waitingIds };
}

/**
 * What can be voted on: each note group as one item (with its notes), then the
 * notes in no group.  A group's own dots plus those put on its notes before
 * the merge are the participant's dots on it (the server counts them so).
 */
export function voteItems(notes, groups) {
  const byId = new Map(notes.map((note) => [note.note_id, note]));
  const grouped = new Set(groups.flatMap((group) => group.note_ids));
  return [
    ...groups.map((group) => ({
      id: group.group_id,
      text: group.title,
      normId: null,
      members: group.note_ids.map((id) => byId.get(id)).filter(Boolean),
    })),
    ...notes
      .filter((note) => !grouped.has(note.note_id))
      .map((note) => ({ id: note.note_id, text: note.text, normId: note.norm_id, members: [] })),
  ];
}

export function myDots(dots, item) {
  return item.members.reduce((sum, note) => sum + (dots.get(note.note_id) || 0), dots.get(item.id) || 0);
}

/** The dots this participant has placed, over all notes and groups. */
export function dotsUsed(dots) {
  return [...dots.values()].reduce((a, b) => a + b, 0);
}

/** A bar length in twentieths (CSS classes h-0..h-100, w-0..w-100): never 0 for a count above 0. */
export function step(count, highest) {
  if (count <= 0) return 0;
  return Math.max(1, Math.round((count / highest) * 20));
}
