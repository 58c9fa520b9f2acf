// The dashboard's one app state, its constants and its pure selectors: functions
// of the state or a snapshot to values, with no DOM and no I/O, so that
// tests/js/dashboard.test.mjs runs them in Node without a browser.

// The phase rules come from /api/protocol (generated from agenda/phases.py), set
// by useProtocol() in main() before anything is drawn: which phase may follow
// which, and which command is allowed in which phase.  The server checks them anyway.
export const REVEALED = new Set(); // revealed_phases
export const EDIT_PHASES = new Set(); // put_agenda_item: agenda items, groups
export const MODERATE_PHASES = new Set(); // hide_note
export const VOTING_PHASES = new Set(); // set_dot_voting
// The round number is shown where it belongs: rating (rate) and its own reveal (a view choice).
export const ROUND_PHASES = new Set(["reveal"]);
// The wall and agenda panels stay up to the close:
export const WALL_PHASES = new Set(["brainstorm", "agenda", "closed"]); // a view choice, not a rule
export const TIMER_MINUTES = [2, 5, 10];
// Export formats: md and json always; the others only once the server
// answers 200 for them (probed once with HEAD), so no dead button is shown.
export const EXPORT_FORMATS = ["pdf", "docx", "md", "csv", "csv-semicolon", "json"];
export const EXPORT_ALWAYS = new Set(["md", "json"]);
export const COLOUR_CLASSES = 11; // .c-0 ... .c-10 in dashboard.css
export const HIGHLIGHT_TOP = 3; // norms marked "much disagreement"
// Consensus (Tastle & Wierman, 0..1) in words.  Below 0.6 the server calls a
// norm contested (CONTESTED_CONSENSUS in agenda/insights.py); a tight bell
// curve scores about 0.8 (docs/analysis.md).
export const CONSENSUS_WORDS = [
  [0.8, "high"],
  [0.6, "mid"],
  [0, "low"],
];
export const GROUP_LETTERS = "ABCDEFGHIJ";
export const SEPARATING_SHOWN = 6; // norms in the opinion groups table, most separating first

export const app = {
  code: "",
  token: "",
  lang: "nl",
  t: (key) => key,
  protocol: null,
  limits: {},
  phases: [],
  transitions: {},
  template: null,
  templateLang: null, // the language app.template's texts were asked in
  langWanted: null, // the language a switch is loading (see onLanguage)
  norms: [], // template order, each {id, number, title, theme}
  normById: new Map(),
  orgLabel: new Map(),
  conn: null,
  snap: null,
  clockOffset: 0,
  sortMode: "template",
  selected: new Set(),
  showJoin: false,
  qrUrl: null,
  links: null, // {join_url, display_url, facilitator_url} from GET /api/rooms/{code}/links
  showControl: false,
  controlQrUrl: null,
  displayQrUrl: null,
  qrLoading: false,
  form: { itemId: null, noteId: null, groupId: null },
  lastPhase: null,
  lastRound: null,
  timerAnnounced: false,
  errorTimer: 0,
  closeCode: null,
  resyncing: null,
  exportOk: new Map(), // optional export format -> the server has it
  exportProbe: false,
  built: false,
  keyed: {}, // per section: Map key -> element
  voteInputsApplied: "",
  // A lost room (restore.js): the template from the welcome, the restore
  // fields of the last snapshot, whether the panel is up, a restore under way.
  templateId: null,
  kept: null,
  lost: false,
  restoring: false,
};

/** Take the protocol document (GET /api/protocol): its limits, phases and phase rules. */
export function useProtocol(protocol) {
  app.protocol = protocol;
  app.limits = protocol.limits || {};
  app.phases = protocol.phases;
  app.transitions = protocol.transitions;
  const fill = (set, values) => {
    set.clear();
    for (const value of values) set.add(value);
  };
  fill(REVEALED, protocol.revealed_phases);
  fill(EDIT_PHASES, protocol.allowed_phases.put_agenda_item);
  fill(MODERATE_PHASES, protocol.allowed_phases.hide_note);
  fill(VOTING_PHASES, protocol.allowed_phases.set_dot_voting);
  fill(ROUND_PHASES, [...(protocol.allowed_phases.rate || []), "reveal"]);
}

// ------------------------------------------------------------------ selectors

export function isNumber(value) {
  return typeof value === "number" && Number.isFinite(value);
}

/** "high", "mid" or "low". */
export function consensusLevel(consensus) {
  return (CONSENSUS_WORDS.find(([from]) => consensus >= from) || CONSENSUS_WORDS[CONSENSUS_WORDS.length - 1])[1];
}

export function scaleValues(scale = app.template.scale) {
  const { min, max } = scale;
  return Array.from({ length: max - min + 1 }, (_, i) => min + i);
}

/**
 * What the result rows need of one distribution.  The median and the quartiles
 * are the server's (`NormInsight`/`ThemeInsight`, agenda/stats.py `quantile`),
 * so the screen shows the middle range the exports print; only the count and
 * the spread's tie-break (sd) are taken from the counts here.
 */
export function stats(counts, insight, scale = app.template.scale) {
  const min = scale.min;
  const n = counts.reduce((a, b) => a + b, 0);
  const server = (key) => (insight && isNumber(insight[key]) ? insight[key] : null);
  if (n === 0) return { n: 0, median: null, q1: null, q3: null, iqr: null, sd: null };
  const mean = counts.reduce((sum, c, i) => sum + c * (min + i), 0) / n;
  const variance = counts.reduce((sum, c, i) => sum + c * (min + i - mean) ** 2, 0) / n;
  const q1 = server("q1");
  const q3 = server("q3");
  return { n, median: server("median"), q1, q3, iqr: q1 === null || q3 === null ? null : q3 - q1, sd: Math.sqrt(variance) };
}

export function colourClass(value, scale = app.template.scale) {
  const { min, max } = scale;
  return `c-${Math.round(((value - min) / (max - min)) * (COLOUR_CLASSES - 1))}`;
}

/** Low and high cut-offs for the text alternative: the outer fifth of the scale. */
export function cutoffs(scale = app.template.scale) {
  const { min, max } = scale;
  const reach = Math.max(1, Math.round((max - min) * 0.2));
  return { low: min + reach, high: max - reach };
}

/** A template's norms in its order, each {id, number, title, theme, examples, figures}. */
export function normsOf(template) {
  return template.themes.flatMap((theme) =>
    theme.norms.map((norm) => ({
      id: norm.id,
      number: norm.number,
      title: norm.title,
      theme,
      examples: Array.isArray(norm.examples) ? norm.examples : [],
      figures: Array.isArray(norm.figures) ? norm.figures : [],
    })),
  );
}

/** Norms in template order as runs of one theme each: [{theme, norms}]. */
export function themesOf(norms) {
  const groups = [];
  for (const norm of norms) {
    const last = groups[groups.length - 1];
    if (last && last.theme.id === norm.theme.id) last.norms.push(norm);
    else groups.push({ theme: norm.theme, norms: [norm] });
  }
  return groups;
}

/** The template's second question per norm ({kind, question, ...}), or null. */
export function secondQuestion(template = app.template) {
  return (template && template.second_question) || null;
}

/** The name of a WebSocket close code ("room_closed"), or null for one the protocol lacks. */
export function closeName(code, protocol = app.protocol) {
  const table = (protocol && protocol.close_codes) || {};
  const entry = Object.entries(table).find(([, value]) => value.code === code);
  return entry ? entry[0] : null;
}

// ------------------------------------------------------------------ header and rating

/**
 * The label of the button that moves from `phase` to `target`: "phase.to.x",
 * "phase.back.x" for an earlier phase, "phase.to.new_round" from reveal back to rating.
 */
export function phaseButtonKey(phases, phase, target) {
  const key = phase === "reveal" && target === "rating" ? "new_round" : target;
  const backwards = phases.indexOf(target) < phases.indexOf(phase) && key !== "new_round";
  return backwards ? `phase.back.${target}` : `phase.to.${key}`;
}

/**
 * The round's progress as the server counts it (`Dashboard.progress`,
 * agenda/progress.py): people done = all answers in whole people.  The page
 * never adds up the exact per-norm counts itself: on a shared screen a figure
 * that ticks up after one tap tells the room which norm was just answered.
 */
export function ratingProgress(snap) {
  const progress = snap.progress || { people: snap.participants, complete: 0, norms: [] };
  const { people, complete: done } = progress;
  const percent = people ? Math.round((100 * done) / people) : 0;
  return { done, people, percent };
}

/**
 * One norm's answers as the control view shows them: the server's step
 * (`at_least`, a multiple of `step`) as a range, "3–5 of 12"; a range never
 * goes past the room's size.
 */
export function stepRange(atLeast, step, people) {
  const high = Math.max(atLeast, Math.min(people, atLeast + Math.max(step, 1) - 1));
  return { low: atLeast, high };
}

// ------------------------------------------------------------------ results

/** The analysis' breakdown by organisation type, per norm: Map norm_id -> [entry]. */
export function breakdownByNorm(analysis) {
  const breakdown = new Map();
  for (const entry of analysis ? analysis.breakdown : []) {
    if (!breakdown.has(entry.norm_id)) breakdown.set(entry.norm_id, []);
    breakdown.get(entry.norm_id).push(entry);
  }
  return breakdown;
}

/** "Eerst bespreken" needs the analysis; without it the template order is shown. */
export function effectiveSortMode(sortMode, analysis) {
  return sortMode === "priority" && !analysis ? "template" : sortMode;
}

/** The widest spreads: the IQR of the top few (ties included), Infinity if nothing spreads at all. */
export function spreadThreshold(statsList) {
  const spreads = statsList.filter((s) => s.n >= 2 && s.iqr > 0).map((s) => s.iqr);
  spreads.sort((a, b) => b - a);
  return spreads.length ? spreads[Math.min(HIGHLIGHT_TOP, spreads.length) - 1] : Infinity;
}

/**
 * Whether a norm is marked as much disagreement.  With the analysis, its
 * "contested" (split, or low consensus) replaces the relative "widest
 * spreads": a 6-against-7 table is not "much disagreement".
 */
export function isWide(s, insight, analysis, threshold) {
  return analysis ? Boolean(insight && insight.contested) : Boolean(s && s.n >= 2 && s.iqr > 0 && s.iqr >= threshold);
}

/** The norms with results in one list: by the analysis' rank ("priority") or widest spread first. */
export function resultOrder(norms, sortMode, statsById, insightById) {
  const order = norms.filter((n) => statsById.has(n.id));
  if (sortMode === "priority") {
    const rank = (n) => (insightById.has(n.id) ? insightById.get(n.id).rank : Infinity);
    order.sort((a, b) => rank(a) - rank(b) || a.number - b.number);
  } else {
    const score = (n) => statsById.get(n.id);
    order.sort((a, b) => {
      const sa = score(a);
      const sb = score(b);
      if ((sa.n === 0) !== (sb.n === 0)) return sa.n === 0 ? 1 : -1;
      return (sb.iqr ?? -1) - (sa.iqr ?? -1) || (sb.sd ?? -1) - (sa.sd ?? -1) || a.number - b.number;
    });
  }
  return order;
}

// ------------------------------------------------------------------ brainstorm wall

/** Whether the dot-voting results are out (and came with the snapshot). */
export function votesShown(voting) {
  return voting.state === "shown" && Array.isArray(voting.results);
}

/**
 * The notes on the wall.  Once closed, nobody can show a hidden note again:
 * leave them out.  Notes waiting for approval are in the moderation panel, not
 * on the wall yet.
 */
export function wallNotes(snap) {
  return (snap.phase === "closed" ? snap.notes.filter((n) => !n.hidden) : snap.notes).filter((n) => !n.pending);
}

/** {n, hidden}: notes the room sees, and notes hidden by the facilitator. */
export function noteCounts(notes) {
  return { n: notes.filter((n) => !n.hidden && !n.pending).length, hidden: notes.filter((n) => n.hidden).length };
}

/** Which notes are in which group (first group wins if the server ever sends a note twice). */
export function noteGroupOf(groups) {
  const groupOf = new Map();
  for (const group of groups) for (const id of group.note_ids) if (!groupOf.has(id)) groupOf.set(id, group.group_id);
  return groupOf;
}

/**
 * The groups as shown: each with its notes on the wall and its dots, most dots
 * first once the votes are shown (`votesById`, else null).
 */
export function wallGroups(groups, groupOf, notesById, votesById) {
  const shown = groups.map((group) => {
    const notes = group.note_ids.filter((id) => groupOf.get(id) === group.group_id && notesById.has(id)).map((id) => notesById.get(id));
    return { group, notes, total: (votesById && votesById.get(group.group_id)) || 0 };
  });
  if (votesById) shown.sort((a, b) => b.total - a.total);
  return shown;
}

/** Notes waiting for approval (not rejected yet). */
export function pendingNotes(notes) {
  return notes.filter((n) => n.pending && !n.hidden);
}

/** The wall's count: {key, params} for "12 shown, 1 hidden", or "12 ideas" when none is hidden. */
export function wallCount(notes) {
  const counts = noteCounts(notes);
  return counts.hidden ? { key: "wall.count", params: counts } : { key: "wall.count_plain", params: { n: counts.n } };
}

/** {owner, deadline}: how many agenda actions have no owner, and how many no deadline yet. */
export function missingOnAgenda(agenda) {
  return {
    owner: agenda.filter((item) => !item.owner).length,
    deadline: agenda.filter((item) => !item.deadline).length,
  };
}

/**
 * The draft agenda as shown: each item with `onAgenda` (its norm has an action
 * already), those after the ones still open, each part in the server's order.
 */
export function draftAsShown(draft, agenda) {
  const taken = new Set(agenda.map((item) => item.norm_id).filter(Boolean));
  const marked = draft.map((item) => ({ ...item, onAgenda: taken.has(item.norm_id) }));
  return [...marked.filter((item) => !item.onAgenda), ...marked.filter((item) => item.onAgenda)];
}

// ------------------------------------------------------------------ agenda

/** The norm most of a group's visible notes are about (ties: the first in the template), or undefined. */
export function mostNamedNorm(group, notes, norms) {
  const known = new Set(norms.map((n) => n.id));
  const counts = new Map();
  for (const id of group.note_ids) {
    const note = notes.find((n) => n.note_id === id);
    if (note && !note.hidden && note.norm_id && known.has(note.norm_id)) {
      counts.set(note.norm_id, (counts.get(note.norm_id) || 0) + 1);
    }
  }
  const most = Math.max(0, ...counts.values());
  return norms.find((n) => counts.get(n.id) === most && most > 0);
}

/** Where a new agenda item goes: after the last one, at most `maxPosition`. */
export function nextPosition(items, maxPosition) {
  return Math.min(maxPosition, items.reduce((max, i) => Math.max(max, i.position + 1), 0));
}

// ------------------------------------------------------------------ follow-up of an earlier scan

/** The statuses an earlier scan's item may have (FollowUpStatus, from /api/protocol). */
export function followUpStatuses(protocol = app.protocol) {
  return protocol.enums.FollowUpStatus;
}

/**
 * The earlier scan's medians against now, in template order: [norm_id, before,
 * now, change].  Norms without a figure then or now are left out.
 */
export function previousFigures(snap, norms) {
  const nowById = new Map(snap.norms.map((n) => [n.norm_id, n.median]));
  const byId = new Map(snap.previous.norms.map((n) => [n.norm_id, n]));
  return norms
    .filter((norm) => byId.has(norm.id))
    .map((norm) => {
      const entry = byId.get(norm.id);
      const now = nowById.get(norm.id);
      return [norm.id, entry.median_before, isNumber(now) ? now : null, entry.median_change];
    })
    .filter(([, before, now]) => isNumber(before) || isNumber(now));
}
