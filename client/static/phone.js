// The participant's phone page: /j/{CODE}?t=JOINTOKEN
//
// What the page shows is the server's word (welcome, acks, room_state) with
// the commands still in the outbox laid on top, so an answer given offline
// or just before a reload is shown at once and sent when the phone is back.

import {
  Connection,
  el,
  isRoomCode,
  loadProtocol,
  loadTranslations,
  normalizeRoomCode,
  normalizeText,
  pageLanguage,
  randomId,
  renderLanguageSwitch,
} from "./kleur.js";

// Where the page offers a control; the server decides (agenda/phases.py), a
// refusal comes back as an error and the outbox entry is dropped.  The phases
// come from /api/protocol's allowed_phases, set in main() before anything is drawn.
let NOTE_PHASES = new Set(); // put_note
let VOTE_PHASES = new Set(); // dot_vote
let OPEN_PHASES = new Set(); // set_org_type

const app = {
  schema: null,
  t: null,
  lang: "nl",
  room: "",
  joinToken: null,
  conn: null,
  status: "connecting",
  closeCode: null,
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

const $ = (id) => document.getElementById(id);

function t(key, params) {
  return app.t(key, params);
}

/** t() for a count: key.one or key.other, with {n}. */
function tn(key, n, params = {}) {
  return app.t(`${key}.${n === 1 ? "one" : "other"}`, { n: formatNumber(n), ...params });
}

function formatNumber(value, digits = 0) {
  return new Intl.NumberFormat(app.lang, { maximumFractionDigits: digits }).format(value);
}

function storage(key, value) {
  const full = `kleur.${app.room}.${key}`;
  try {
    if (value === undefined) return window.localStorage.getItem(full);
    if (value === null) window.localStorage.removeItem(full);
    else window.localStorage.setItem(full, value);
  } catch {
    // storage disabled: nothing to remember
  }
  return null;
}

// ------------------------------------------------------------------ start

async function main() {
  app.lang = pageLanguage();
  document.documentElement.lang = app.lang;
  try {
    [app.schema, app.t] = await Promise.all([
      loadProtocol(),
      loadTranslations(app.lang, onLanguage),
    ]);
  } catch (error) {
    console.error(error);
    setTimeout(main, 3000); // nothing to show without texts; the server is coming back
    return;
  }
  NOTE_PHASES = new Set(app.schema.allowed_phases.put_note);
  VOTE_PHASES = new Set(app.schema.allowed_phases.dot_vote);
  OPEN_PHASES = new Set(app.schema.allowed_phases.set_org_type);
  readAddress();
  keepFocusClearOfBanner();
  renderChrome();
  if (!isRoomCode(app.schema, app.room)) {
    app.fatal = { key: "phone.closed.room_not_found" };
    render();
    return;
  }
  app.confirmed.orgChosen = storage("org_chosen") === "1";
  app.sawLobby = storage("saw_lobby") === "1";
  app.draft.text = sessionGet("draft") || "";
  render();
  app.conn = new Connection({
    room: app.room,
    role: "participant",
    joinToken: app.joinToken,
    onWelcome,
    onMessage,
    onStatus,
  });
  app.conn.start();
  app.timerInterval = setInterval(tick, 250);
}

function sessionGet(key) {
  try {
    return window.sessionStorage.getItem(`kleur.${app.room}.${key}`);
  } catch {
    return null;
  }
}

function sessionSet(key, value) {
  try {
    const full = `kleur.${app.room}.${key}`;
    if (value) window.sessionStorage.setItem(full, value);
    else window.sessionStorage.removeItem(full);
  } catch {
    // ignore
  }
}

/** Room code from the path; join token from ?t=, kept in sessionStorage and taken off the address bar. */
function readAddress() {
  const match = window.location.pathname.match(/^\/j\/([^/]+)/);
  app.room = normalizeRoomCode(match ? decodeURIComponent(match[1]) : "");
  const params = new URLSearchParams(window.location.search);
  const { token_min_chars: min, token_max_chars: max } = app.schema.limits;
  const tokenPattern = new RegExp(`^[A-Za-z0-9_-]{${min},${max}}$`);
  const given = params.get("t");
  if (given && tokenPattern.test(given)) sessionSet("join_token", given);
  const kept = sessionGet("join_token");
  app.joinToken = kept && tokenPattern.test(kept) ? kept : null;
  if (params.has("t") || (match && match[1] !== app.room)) {
    window.history.replaceState(null, "", `/j/${encodeURIComponent(app.room)}`);
  }
}

async function onLanguage(newT, lang) {
  app.t = newT;
  app.lang = lang;
  renderChrome();
  render();
  // The norms, scale labels and organisation types come in the page language too.
  if (app.template && app.templateLang !== lang) loadTemplate(app.template.id);
}

// ------------------------------------------------------------------ connection events

/** Reconnecting for less than this after a loss is not worth a banner (a phone waking up). */
const BANNER_DELAY_MS = 1500;

function onStatus(status, closeCode) {
  app.status = status;
  app.closeCode = closeCode;
  if (status === "online") app.everOnline = true;
  if (status === "connecting") {
    app.connectingSince = Date.now();
    setTimeout(renderBanner, BANNER_DELAY_MS + 50);
  }
  if (status === "closed") {
    const name = closeCodeName(closeCode);
    const key = `phone.closed.${name}`;
    app.fatal = { key: app.t.has(key) ? key : "phone.closed.generic" };
  }
  renderBanner();
  if (status === "closed") render();
}

function closeCodeName(code) {
  for (const [name, entry] of Object.entries(app.schema.close_codes)) {
    if (entry.code === code) return name;
  }
  return "generic";
}

function onWelcome(welcome) {
  // Synchronous part first: the connection resends the outbox right after this.
  const lastRound = Number(storage("round"));
  if (storage("round") !== null && lastRound !== welcome.state.round) {
    // Answers typed during an earlier round must not count for this one.
    app.conn.forget((message) => message.type === "rate");
  }
  storage("round", String(welcome.state.round));
  app.welcome = welcome;
  app.skew = welcome.server_time - Date.now();
  app.fatal = null;
  const c = app.confirmed;
  c.org = welcome.org_type;
  if (c.org) c.orgChosen = true;
  const own = (second) =>
    new Map(
      welcome.ratings
        .filter((r) => isSecond(r) === second)
        .map((r) => [r.norm_id, { value: r.value, seq: r.seq }]),
    );
  c.ratings = own(false);
  c.seconds = own(true);
  c.notes = new Map(
    welcome.notes.map((n) => [
      n.note_id,
      { text: n.text, norm_id: n.norm_id, hidden: n.hidden, seq: n.seq },
    ]),
  );
  c.dots = new Map(welcome.dots.map((d) => [d.note_id, { dots: d.dots, seq: d.seq }]));
  roomState(welcome.state, { fromWelcome: true });
  if (!app.template || app.template.id !== welcome.template_id) {
    loadTemplate(welcome.template_id);
  }
  render();
}

async function loadTemplate(id) {
  const lang = app.lang;
  try {
    const url = `/api/templates/${encodeURIComponent(id)}?lang=${encodeURIComponent(lang)}`;
    const response = await fetch(url, { headers: { accept: "application/json" } });
    if (!response.ok) throw new Error(`template ${id}: HTTP ${response.status}`);
    const template = await response.json();
    // A switch while this loaded asked for the other language: only the newest answer counts.
    if (lang !== app.lang) return loadTemplate(id);
    const reload = app.template?.id === template.id; // the same template in another language
    app.template = template;
    app.templateLang = lang;
    app.norms = template.themes.flatMap((theme) =>
      theme.norms.map((norm) => ({ ...norm, theme })),
    );
    if (app.state?.phase === "rating" && !reload) app.index = firstOpenNorm();
    render();
  } catch (error) {
    console.error(error);
    setTimeout(() => loadTemplate(id), 3000);
  }
}

function onMessage(message, command) {
  switch (message.type) {
    case "room_state":
      roomState(message);
      render();
      break;
    case "ack":
      if (command) confirm(command);
      render();
      break;
    case "error":
      if (command) {
        const retry = app.schema.errors[message.code]?.retry;
        if (!retry) showCommandError(message.code);
      }
      render();
      break;
    default:
      break;
  }
}

/** A new room_state (or the one in a welcome, whose own answers are already the new round's). */
function roomState(state, { fromWelcome = false } = {}) {
  const before = app.state;
  app.state = state;
  const newRound = Boolean(before) && before.round !== state.round;
  if (newRound && !fromWelcome) {
    app.confirmed.ratings.clear();
    app.confirmed.seconds.clear();
    app.conn.forget((message) => message.type === "rate");
    storage("round", String(state.round));
  }
  if (state.phase === "rating" && (before?.phase !== "rating" || newRound || app.index === null)) {
    app.index = app.norms.length ? firstOpenNorm() : null;
  }
  if (state.phase === "lobby" && !app.sawLobby) {
    app.sawLobby = true;
    storage("saw_lobby", "1");
  }
  if (app.seen.phase !== null && app.seen.phase !== state.phase) app.focusPhase = true;
  announceChanges(before, state);
}

function announceChanges(before, state) {
  const messages = [];
  if (app.seen.phase !== null && app.seen.phase !== state.phase) {
    messages.push(t(`phone.announce.${state.phase}`));
    app.notice = null; // about the phase before
  }
  if (
    app.seen.voting !== null &&
    app.seen.voting !== state.voting.state &&
    VOTE_PHASES.has(state.phase)
  ) {
    if (state.voting.state === "open") messages.push(t("phone.announce.voting_open"));
    if (state.voting.state === "shown") messages.push(t("phone.announce.voting_shown"));
  }
  if (remainingMs(state) !== null && state.timer_ends_at !== app.seen.timer && before) {
    messages.push(t("phone.timer.started", { time: formatRemaining(remainingMs(state)) }));
  }
  app.seen.phase = state.phase;
  app.seen.voting = state.voting.state;
  app.seen.timer = state.timer_ends_at;
  if (messages.length) announce(messages.join(" "));
}

/** A command the server stored: it becomes part of the confirmed state. */
function confirm(command) {
  const c = app.confirmed;
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

function showCommandError(code) {
  const key = `phone.error.${code}`;
  setNotice(app.t.has(key) ? key : "phone.error.generic", {}, "error");
}

// ------------------------------------------------------------------ derived state

/** The confirmed state with the outbox laid over it, in seq order. */
function view() {
  const c = app.confirmed;
  const ratings = new Map([...c.ratings].map(([id, r]) => [id, { ...r, pending: false }]));
  const seconds = new Map([...c.seconds].map(([id, r]) => [id, { ...r, pending: false }]));
  const notes = new Map([...c.notes].map(([id, n]) => [id, { ...n, pending: false }]));
  const dots = new Map([...c.dots].map(([id, d]) => [id, d.dots]));
  let org = c.org;
  let orgPending = false;
  for (const message of app.conn ? app.conn.outbox : []) {
    switch (message.type) {
      case "rate":
        (isSecond(message) ? seconds : ratings).set(message.norm_id, {
          value: message.value,
          seq: message.seq,
          pending: true,
        });
        break;
      case "set_org_type":
        org = message.org_type;
        orgPending = true;
        break;
      case "put_note": {
        const old = notes.get(message.note_id);
        notes.set(message.note_id, {
          text: message.text,
          norm_id: message.norm_id,
          hidden: old ? old.hidden : false,
          seq: message.seq,
          pending: true,
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

/** A rating (sent, stored or returned on join) that answers the template's second question. */
function isSecond(rating) {
  return rating.question === "second";
}

/** The template's second question ({kind, question, min_label, max_label}) or null. */
function secondQuestion() {
  return app.template ? app.template.second_question || null : null;
}

/** Every question of this norm answered (the second one too, when the template asks it). */
function isComplete(v, normId) {
  return v.ratings.has(normId) && (!secondQuestion() || v.seconds.has(normId));
}

function firstOpenNorm() {
  const v = view();
  const open = app.norms.findIndex((norm) => !isComplete(v, norm.id));
  return open === -1 ? app.norms.length : open;
}

function normById(id) {
  return app.norms.find((norm) => norm.id === id);
}

function remainingMs(state = app.state) {
  if (!state || !state.timer_ends_at || state.phase === "closed") return null;
  return Math.max(0, state.timer_ends_at - (Date.now() + app.skew));
}

function formatRemaining(ms) {
  const total = Math.ceil(ms / 1000);
  const minutes = Math.floor(total / 60);
  const seconds = total % 60;
  return `${String(minutes).padStart(2, "0")}:${String(seconds).padStart(2, "0")}`;
}

// ------------------------------------------------------------------ actions

function send(type, fields) {
  // The connection keeps it in the outbox (and localStorage) until acknowledged.
  switch (type) {
    case "rate":
      return app.conn.send("rate", fields);
    case "set_org_type":
      return app.conn.send("set_org_type", fields);
    case "put_note":
      return app.conn.send("put_note", fields);
    case "withdraw_note":
      return app.conn.send("withdraw_note", fields);
    case "dot_vote":
      return app.conn.send("dot_vote", fields);
    default:
      throw new Error(`the phone does not send ${type}`);
  }
}

function rate(normId, value, question = "current", byKeyboard = false) {
  // The round travels with the rating: a late resend from an earlier round is
  // refused by the server instead of counting in the new one.
  send("rate", { norm_id: normId, value, round: app.state.round, question });
  app.lastAnswer.set(question === "second" ? "second" : "rate", value);
  if (isComplete(view(), normId)) {
    app.index = Math.min(app.index + 1, app.norms.length);
    render();
    // A key press keeps the keyboard on the scale (one Tab stop per norm); a
    // tap puts the next norm's title first, for a screen reader to read out.
    if (byKeyboard && $("rate-group")) focusScale("rate-group");
    else focusCard();
  } else {
    // The other question of this norm is still open: stay on the card.
    render();
    const group = question === "second" ? "rate-group" : "second-group";
    if (byKeyboard && $(group)) focusScale(group);
    else document.getElementById(question === "second" ? "scale-label" : "second-label")?.focus();
  }
}

/** Focus a scale's one tab stop (its chosen answer, else where the roving stop sits). */
function focusScale(groupId) {
  const stop = $(groupId)?.querySelector('[role="radio"][tabindex="0"]');
  if (!stop) return;
  stop.closest("section")?.scrollIntoView({ block: "start" });
  stop.focus();
}

function goTo(index) {
  app.index = Math.max(0, Math.min(index, app.norms.length));
  render();
  focusCard();
}

function focusCard() {
  const target = $("norm-title") || $("summary-title");
  if (target) {
    target.focus({ preventScroll: true });
    target.closest("section")?.scrollIntoView({ block: "start" });
  }
}

function chooseOrg(orgType) {
  app.confirmed.orgChosen = true;
  storage("org_chosen", "1");
  send("set_org_type", { org_type: orgType });
  render();
}

function submitNote(event) {
  event.preventDefault();
  const textarea = $("note-text");
  const select = $("note-norm");
  const max = app.schema.limits.max_note_chars;
  const text = normalizeText(textarea.value);
  if (!text) {
    setNotice("phone.notes.empty", {}, "error");
    textarea.focus();
    return;
  }
  if (text.length > max) {
    setNotice("phone.notes.too_long", { max: formatNumber(max) }, "error");
    textarea.focus();
    return;
  }
  const editing = app.draft.noteId;
  send("put_note", {
    note_id: editing || randomId(16),
    text,
    norm_id: select && select.value ? select.value : null,
  });
  app.draft = { noteId: null, text: "", norm: "" };
  sessionSet("draft", null);
  setNotice(editing ? "phone.notes.saved" : "phone.notes.placed", {}, "ok");
  render();
  const fresh = $("note-text");
  if (fresh) fresh.value = "";
  updateCount();
  fresh?.focus();
}

function editNote(noteId) {
  const note = view().notes.get(noteId);
  if (!note) return;
  app.draft = { noteId, text: note.text, norm: note.norm_id || "" };
  render();
  const textarea = $("note-text");
  if (textarea) {
    textarea.value = note.text;
    updateCount();
    textarea.focus();
    textarea.scrollIntoView({ block: "center" });
  }
}

function cancelEdit() {
  app.draft = { noteId: null, text: "", norm: "" };
  sessionSet("draft", null);
  render();
  const textarea = $("note-text");
  if (textarea) {
    textarea.value = "";
    updateCount();
    textarea.focus();
  }
}

function withdrawNote(noteId) {
  send("withdraw_note", { note_id: noteId });
  if (app.draft.noteId === noteId) app.draft = { noteId: null, text: "", norm: "" };
  setNotice("phone.notes.withdrawn", {}, "ok");
  render();
  $("own-notes-title")?.focus();
}

function vote(noteId, change) {
  const state = app.state.voting;
  const { dots } = view();
  const current = dots.get(noteId) || 0;
  const used = [...dots.values()].reduce((a, b) => a + b, 0);
  const next = current + change;
  if (next < 0 || next > state.max_per_note) return;
  if (change > 0 && used >= state.dots_per_participant) return;
  send("dot_vote", { note_id: noteId, dots: next });
  render();
  const left = state.dots_per_participant - (used + change);
  announce(t("phone.vote.left", { left, total: state.dots_per_participant }));
}

/** A visible message under the status line; `key` is translated on every render. */
function setNotice(key, params, kind) {
  clearTimeout(app.noticeTimer);
  app.notice = { key, params, kind };
  if (kind === "ok") {
    app.noticeTimer = setTimeout(() => {
      app.notice = null;
      renderNotice();
    }, 6000);
  }
  renderNotice();
}

function announce(text) {
  const announcer = $("announcer");
  announcer.textContent = "";
  // A fresh text node after a beat, so the same sentence is read again.
  setTimeout(() => {
    announcer.textContent = text;
  }, 50);
}

// ------------------------------------------------------------------ rendering: chrome

function renderChrome() {
  document.title = app.room ? t("phone.page_title", { code: app.room }) : "kleur";
  $("room-code").textContent = app.room ? t("phone.room_code", { code: app.room }) : "";
  renderLanguageSwitch($("lang-switch"), app.lang, t);
  renderBanner();
}

/**
 * The offline banner sticks to the top while the page scrolls: the page keeps
 * that much scroll padding, so a control that gets the focus is scrolled
 * clear of it (WCAG 2.4.11), at any zoom and in either language.
 */
function keepFocusClearOfBanner() {
  const slot = $("banner-slot");
  const update = () => {
    const height = slot.getBoundingClientRect().height;
    document.documentElement.style.scrollPaddingTop = height ? `${Math.ceil(height) + 8}px` : "";
  };
  new ResizeObserver(update).observe(slot);
}

function renderBanner() {
  const slot = $("banner-slot");
  // Offline, or reconnecting after a loss: at once if the banner is up, else after a moment.
  const reconnecting =
    app.status === "connecting" &&
    app.everOnline &&
    (app.bannerShown || Date.now() - app.connectingSince >= BANNER_DELAY_MS);
  const lost = app.status === "offline" || reconnecting;
  app.bannerShown = lost && !app.fatal;
  const existing = slot.firstElementChild;
  if (!lost || app.fatal) {
    if (existing) slot.replaceChildren();
    return;
  }
  const text = t("phone.offline");
  if (existing && existing.textContent === text) return;
  slot.replaceChildren(
    el("p", { class: "banner banner-offline", "data-testid": "offline-banner" }, text),
  );
}

function renderNotice() {
  const slot = $("notice-slot");
  const notice = app.notice;
  if (!notice) {
    slot.replaceChildren();
    return;
  }
  slot.replaceChildren(
    el(
      "div",
      { class: `notice notice-${notice.kind}`, "data-testid": "notice" },
      el("p", {}, t(notice.key, notice.params)),
      el(
        "button",
        {
          type: "button",
          class: "button-link notice-close",
          onclick: () => {
            app.notice = null;
            renderNotice();
          },
        },
        t("phone.notice.close"),
      ),
    ),
  );
}

function renderStatusline() {
  const line = $("statusline");
  const phase = app.state?.phase;
  // A closed room runs no countdown, whatever an older server still sends.
  const timerEndsAt = phase === "closed" ? null : app.state?.timer_ends_at;
  const sig = JSON.stringify([app.lang, phase, Boolean(timerEndsAt), app.fatal]);
  if (line.dataset.sig === sig) return;
  line.dataset.sig = sig;
  if (!phase || app.fatal) {
    line.replaceChildren();
    return;
  }
  const parts = [
    el(
      "p",
      { class: "phase-line" },
      el("span", { class: "phase-label" }, t("phone.phase_label")),
      " ",
      el(
        "span",
        { class: "phase-name", "data-testid": "phase", "data-phase": phase },
        t(`phase.${phase}`),
      ),
    ),
    timerEndsAt
      ? el(
          "p",
          { class: "timer-line" },
          el("span", { id: "timer-label", class: "timer-label" }, t("phone.timer.label")),
          " ",
          el("span", {
            class: "timer",
            id: "timer",
            role: "timer",
            "aria-labelledby": "timer-label timer",
            "data-testid": "timer",
          }),
        )
      : null,
  ];
  line.replaceChildren(...parts.filter(Boolean));
  tick();
}

function tick() {
  const timer = $("timer");
  if (!timer) return;
  const ms = remainingMs();
  if (ms === null) return;
  const text = formatRemaining(ms);
  if (timer.textContent !== text) timer.textContent = text;
  const done = ms === 0;
  if (timer.classList.contains("timer-done") !== done) {
    timer.classList.toggle("timer-done", done);
    if (done && app.seen.timerDone !== app.state.timer_ends_at) {
      app.seen.timerDone = app.state.timer_ends_at;
      announce(t("phone.timer.ended"));
    }
  }
}

// ------------------------------------------------------------------ rendering: content

/**
 * Rebuild only the sections whose data changed (each has a signature), and
 * give focus back to the element with the same id if a rebuild took it.
 */
function patch(sections) {
  const content = $("content");
  const active = document.activeElement;
  const focusedId = active && content.contains(active) ? active.id : null;
  const existing = [...content.children];
  const sameKeys =
    existing.length === sections.length &&
    existing.every((node, i) => node.dataset.key === sections[i].key);
  const build = (section) => {
    const node = section.build();
    node.dataset.key = section.key;
    node.dataset.sig = section.sig;
    return node;
  };
  if (sameKeys) {
    sections.forEach((section, i) => {
      if (existing[i].dataset.sig !== section.sig) existing[i].replaceWith(build(section));
    });
  } else {
    content.replaceChildren(...sections.map(build));
  }
  if (focusedId && !content.contains(document.activeElement)) {
    const again = document.getElementById(focusedId);
    if (again && !again.disabled) again.focus({ preventScroll: true });
  }
}

function section(key, data, build) {
  // The template's language too: its texts arrive after a language switch.
  return { key, sig: JSON.stringify([app.lang, app.templateLang, data]), build };
}

function render() {
  if (!app.t) return;
  renderBanner();
  renderStatusline();
  renderNotice();
  if (app.fatal) {
    patch([section("fatal", app.fatal, () => fatalScreen(app.fatal))]);
    return;
  }
  if (!app.state || !app.template) {
    patch([
      section("loading", null, () =>
        el("section", { class: "card" }, el("h1", {}, t("common.loading"))),
      ),
    ]);
    return;
  }
  const v = view();
  const phase = app.state.phase;
  const sections = [];
  switch (phase) {
    case "lobby":
      sections.push(lobbyIntro(), orgSection(v, true));
      break;
    case "rating":
      if (asksOrgFirst(v)) {
        sections.push(heading("rating"), orgFirstSection());
        break;
      }
      sections.push(heading("rating"), ratingSection(v), overviewSection(v));
      sections.push(notesSection(v, true), orgSection(v, false));
      break;
    case "reveal":
      sections.push(heading("reveal"), roundClosed(), resultsSection(v, false));
      sections.push(notesSection(v, true), orgSection(v, false));
      break;
    case "brainstorm":
      sections.push(heading("brainstorm"), ...votingSections(v), notesSection(v, true));
      sections.push(resultsSection(v, true), orgSection(v, false));
      break;
    case "agenda":
      sections.push(heading("agenda"), agendaSection(), ...votingSections(v));
      sections.push(notesSection(v, false), resultsSection(v, true), orgSection(v, false));
      break;
    default:
      sections.push(heading("closed"), agendaSection(), ...votingSections(v));
      sections.push(resultsSection(v, true), notesSection(v, false));
      break;
  }
  patch(sections.filter(Boolean));
  if (app.focusPhase) focusPhaseHeading();
}

/**
 * A phase opened: the focus goes to its heading (not left on <body>), unless
 * the participant is typing in a field that is still there.
 */
function focusPhaseHeading() {
  app.focusPhase = false;
  const active = document.activeElement;
  const typing = active && active.isConnected && active.matches("textarea, input[type=text], select");
  if (typing) return;
  const target = $("phase-title");
  if (target) target.focus({ preventScroll: true });
  window.scrollTo({ top: 0 });
}

function fatalScreen(fatal) {
  return el(
    "section",
    { class: "card" },
    el("h1", {}, t("phone.closed.title")),
    el("p", {}, t(fatal.key)),
    el(
      "p",
      { class: "actions" },
      el(
        "button",
        { type: "button", class: "button", onclick: () => window.location.reload() },
        t("common.retry"),
      ),
      el("a", { class: "button button-secondary", href: "/" }, t("common.home")),
    ),
  );
}

function heading(phase) {
  const orgFirst = phase === "rating" && asksOrgFirst(view());
  const texts = {
    rating: orgFirst ? ["phone.orgfirst.title", "phone.orgfirst.intro"] : ["phone.rating.title", "phone.rating.intro"],
    reveal: ["phone.reveal.title", "phone.reveal.intro"],
    brainstorm: ["phone.brainstorm.title", "phone.brainstorm.intro"],
    agenda: ["phone.agenda.title", "phone.agenda.text"],
    closed: ["phone.closedphase.title", "phone.closedphase.text"],
  }[phase];
  const scale = app.template.scale;
  const params = { min: scale.min, max: scale.max };
  const extra = {
    rating: orgFirst
      ? []
      : [
          secondQuestion() ? t("phone.rating.intro_second") : null,
          scale.dont_know ? t("phone.rating.intro_dk") : null,
        ],
    agenda: [t("phone.agenda.look")],
    closed: [app.state.agenda?.length ? t("phone.closedphase.keep") : t("phone.closedphase.close")],
  }[phase] || [];
  return section(`head-${phase}`, [phase, params, texts, extra], () =>
    el(
      "header",
      { class: "phase-head" },
      el("h1", { id: "phase-title", tabindex: "-1" }, t(texts[0])),
      el("p", {}, t(texts[1], params)),
      ...extra.filter(Boolean).map((text) => el("p", {}, text)),
    ),
  );
}

function lobbyIntro() {
  const n = app.norms.length;
  return section("lobby", [n], () =>
    el(
      "header",
      { class: "phase-head" },
      el("h1", { id: "phase-title", tabindex: "-1" }, t("phone.lobby.title")),
      el("p", { class: "callout" }, t("phone.lobby.anonymous")),
      el("p", {}, t("phone.lobby.what", { n })),
      el("p", {}, t("phone.lobby.wait")),
    ),
  );
}

// -- organisation type

function orgSection(v, open) {
  const types = app.template.org_types || [];
  if (!types.length || !OPEN_PHASES.has(app.state.phase)) return null;
  const chosen = v.org;
  const noneChecked = chosen === null && app.confirmed.orgChosen;
  const data = [types, chosen, noneChecked, open, app.template.language];
  return section("org", data, () => {
    const radio = (id, value, label, labelLang) =>
      el(
        "div",
        { class: "choice" },
        el("input", {
          type: "radio",
          name: "org-type",
          id: `org-${id}`,
          value: id,
          "data-testid": `org-${id}`,
          checked: value === null ? noneChecked : chosen === value,
          onchange: () => chooseOrg(value),
        }),
        el("label", { for: `org-${id}`, lang: labelLang }, label),
      );
    const fieldset = el(
      "fieldset",
      { class: "choices" },
      el("legend", {}, t("phone.org.legend")),
      el("p", { class: "hint", id: "org-why" }, t("phone.org.why", { min: app.schema.limits.min_group_size })),
      ...types.map((org) => radio(org.id, org.id, org.label, app.template.language)),
      radio("none", null, t("phone.org.none"), null),
    );
    fieldset.setAttribute("aria-describedby", "org-why");
    if (open) {
      return el("section", { class: "card", "aria-labelledby": "org-title" },
        el("h2", { id: "org-title" }, t("phone.org.title")),
        fieldset,
      );
    }
    return el(
      "section",
      { class: "card card-quiet" },
      el(
        "details",
        {},
        el("summary", {}, t("phone.org.title")),
        fieldset,
      ),
    );
  });
}

/**
 * A latecomer (this device never saw the lobby) who has not answered yet is
 * asked the organisation type before the first norm, so that its ratings
 * count in the breakdown.  "Verder" with nothing picked skips it.
 */
function asksOrgFirst(v) {
  const types = app.template.org_types || [];
  return types.length > 0 && !app.sawLobby && !app.confirmed.orgChosen && v.org === null;
}

function orgFirstSection() {
  const types = app.template.org_types || [];
  const picked = app.orgDraft;
  return section("org-first", [types, picked, app.template.language], () => {
    const radio = (id, value, label, labelLang) =>
      el(
        "div",
        { class: "choice" },
        el("input", {
          type: "radio",
          name: "org-type",
          id: `org-${id}`,
          value: id,
          "data-testid": `org-${id}`,
          checked: picked !== undefined && picked === value,
          // Only remembered here: arrow keys move through radios, and each move must not send.
          onchange: () => {
            app.orgDraft = value;
          },
        }),
        el("label", { for: `org-${id}`, lang: labelLang }, label),
      );
    const fieldset = el(
      "fieldset",
      { class: "choices", "aria-describedby": "org-why" },
      el("legend", {}, t("phone.org.legend")),
      el("p", { class: "hint", id: "org-why" }, t("phone.org.why", { min: app.schema.limits.min_group_size })),
      ...types.map((org) => radio(org.id, org.id, org.label, app.template.language)),
      radio("none", null, t("phone.org.none"), null),
    );
    return el(
      "section",
      { class: "card", "aria-labelledby": "org-title", "data-testid": "org-first" },
      el("h2", { id: "org-title" }, t("phone.org.title")),
      el(
        "form",
        { onsubmit: submitOrgFirst, novalidate: true },
        fieldset,
        el(
          "div",
          { class: "actions" },
          el(
            "button",
            { type: "submit", class: "button", id: "org-continue", "data-testid": "org-continue" },
            t("phone.orgfirst.continue"),
          ),
        ),
      ),
    );
  });
}

function submitOrgFirst(event) {
  event.preventDefault();
  if (app.orgDraft === undefined) {
    // Skipped: nothing to send, and not asked again on this device.
    app.confirmed.orgChosen = true;
    storage("org_chosen", "1");
    render();
  } else {
    chooseOrg(app.orgDraft);
  }
  focusCard();
}

// -- the agenda (agenda and closed phases)

function formatDate(iso) {
  const date = new Date(`${iso}T12:00:00`);
  if (Number.isNaN(date.getTime())) return iso;
  // en-GB: "1 March 2027", the order a Dutch reader expects too (not the US "March 1").
  const locale = app.lang === "en" ? "en-GB" : app.lang;
  return new Intl.DateTimeFormat(locale, { day: "numeric", month: "long", year: "numeric" }).format(date);
}

function agendaSection() {
  const items = app.state.agenda;
  if (!items) return null;
  const closed = app.state.phase === "closed";
  const data = [items, closed, app.downloading, app.template.language];
  return section("agenda", data, () =>
    el(
      "section",
      { class: "card agenda", "aria-labelledby": "agenda-title", "data-testid": "agenda" },
      el("h2", { id: "agenda-title" }, t("phone.agenda.list_title")),
      items.length
        ? el(
            "ol",
            { class: "agenda-list" },
            ...items.map((item) => {
              const norm = item.norm_id ? normById(item.norm_id) : null;
              const fact = (key, value, lang) =>
                value ? [el("dt", {}, t(key)), el("dd", { lang }, value)] : null;
              return el(
                "li",
                { class: "agenda-item", "data-testid": "agenda-item" },
                el("p", { class: "agenda-action" }, item.action),
                item.owner || item.deadline || norm
                  ? el(
                      "dl",
                      { class: "agenda-facts" },
                      fact("phone.agenda.owner", item.owner),
                      fact("phone.agenda.deadline", item.deadline ? formatDate(item.deadline) : null),
                      fact("phone.agenda.norm", norm ? `${norm.number}. ${norm.title}` : null, app.template.language),
                    )
                  : null,
              );
            }),
          )
        : el("p", {}, t(closed ? "phone.agenda.none" : "phone.agenda.empty")),
      closed
        ? el(
            "p",
            { class: "actions" },
            el(
              "button",
              {
                type: "button",
                class: "button",
                id: "agenda-pdf",
                "data-testid": "agenda-pdf",
                disabled: app.downloading,
                onclick: downloadAgenda,
              },
              t(app.downloading ? "phone.agenda.pdf_busy" : "phone.agenda.pdf"),
            ),
          )
        : null,
    ),
  );
}

/** The closed room's PDF, asked with this device's participant token (never in an address). */
async function downloadAgenda() {
  const token = app.conn ? app.conn.token : null;
  if (!token || app.downloading) return;
  app.downloading = true;
  render();
  try {
    const response = await fetch(
      `/api/rooms/${encodeURIComponent(app.room)}/agenda.pdf?lang=${encodeURIComponent(app.lang)}`,
      { headers: { authorization: `Bearer ${token}` } },
    );
    if (!response.ok) throw new Error(`agenda.pdf: HTTP ${response.status}`);
    const url = URL.createObjectURL(await response.blob());
    const link = el("a", { href: url, download: t("phone.agenda.pdf_file", { code: app.room }) });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  } catch (error) {
    console.warn(error);
    setNotice("phone.agenda.pdf_error", {}, "error");
  } finally {
    app.downloading = false;
    render();
    $("agenda-pdf")?.focus();
  }
}

// -- rating

function answerText(rating) {
  if (!rating) return t("phone.answer.none");
  if (rating.value === null) return t("phone.answer.dont_know");
  return formatNumber(rating.value);
}

/** The own answer to a norm, with the answer to the second question when the template asks one. */
function answersText(rating, second) {
  const asked = secondQuestion();
  if (!asked) return answerText(rating);
  return t(`phone.answer.with_${asked.kind}`, { answer: answerText(rating), second: answerText(second) });
}

/**
 * One question's answers as one radio group: the scale, its end labels and
 * "don't know".  One Tab stop (roving tabindex); arrow keys, Home/End and the
 * digits move the focus, Space/Enter (or a tap) choose, and choosing moves on.
 */
function scaleGroup({ prefix, groupId, labelId, label, labelLang, minLabel, maxLabel, current, onChoose }) {
  const lang = app.template.language;
  const scale = app.template.scale;
  const values = [];
  for (let value = scale.min; value <= scale.max; value += 1) values.push(value);
  const chosen = (value) => Boolean(current) && current.value === value;
  // The tab stop: the answer given, else the value given last on the norm
  // before (a table mostly rates within a narrow band), else the lowest.
  const last = app.lastAnswer.has(prefix) ? app.lastAnswer.get(prefix) : scale.min;
  const usable = last === null ? Boolean(scale.dont_know) : values.includes(last);
  const stop = current ? current.value : usable ? last : scale.min;
  const radio = (value, className, text) =>
    el(
      "button",
      {
        type: "button",
        role: "radio",
        class: className,
        id: `${prefix}-${value === null ? "dk" : value}`,
        "data-testid": `${prefix}-${value === null ? "dk" : value}`,
        "data-value": value === null ? "dk" : String(value),
        "aria-checked": String(chosen(value)),
        tabindex: value === stop ? "0" : "-1",
        // detail 0: Enter or Space, not a pointer.
        onclick: (event) => onChoose(value, event.detail === 0),
      },
      text,
    );
  const group = el(
    "div",
    {
      role: "radiogroup",
      class: "scale",
      id: groupId,
      "aria-labelledby": `${labelId} norm-title`,
      "aria-describedby": "norm-description",
      onkeydown: onScaleKey,
      onfocusin: (event) => {
        // The focused answer becomes the tab stop, however it got the focus.
        if (event.target.getAttribute("role") !== "radio") return;
        for (const other of group.querySelectorAll('[role="radio"]')) {
          other.setAttribute("tabindex", other === event.target ? "0" : "-1");
        }
      },
    },
    el("p", { id: labelId, class: "scale-label", tabindex: "-1", lang: labelLang }, label),
    el(
      "div",
      { class: `scale-grid scale-${values.length}` },
      ...values.map((value) => radio(value, "rate-button", formatNumber(value))),
    ),
    el(
      "p",
      { class: "scale-ends" },
      el("span", { lang }, t("phone.rating.scale_end", { value: scale.min, label: minLabel })),
      el("span", { lang }, t("phone.rating.scale_end", { value: scale.max, label: maxLabel })),
    ),
    scale.dont_know ? radio(null, "rate-button rate-dk", t("phone.rating.dont_know")) : null,
  );
  return group;
}

/** Arrow keys, Home/End and a digit move the focus within a scale; they never choose. */
function onScaleKey(event) {
  if (event.altKey || event.ctrlKey || event.metaKey) return;
  const radios = [...event.currentTarget.querySelectorAll('[role="radio"]')];
  const index = radios.indexOf(document.activeElement);
  if (index === -1) return;
  let next = null;
  if (event.key === "ArrowRight" || event.key === "ArrowDown") next = (index + 1) % radios.length;
  else if (event.key === "ArrowLeft" || event.key === "ArrowUp") next = (index - 1 + radios.length) % radios.length;
  else if (event.key === "Home") next = 0;
  else if (event.key === "End") next = radios.length - 1;
  else if (/^[0-9]$/.test(event.key)) {
    const found = radios.findIndex((radio) => radio.dataset.value === event.key);
    if (found !== -1) next = found;
  }
  if (next === null) return;
  event.preventDefault();
  radios[next].focus();
}

function ratingSection(v) {
  const total = app.norms.length;
  const done = app.norms.filter((norm) => isComplete(v, norm.id)).length;
  const index = app.index ?? firstOpenNorm();
  const norm = app.norms[index];
  const current = norm ? v.ratings.get(norm.id) : null;
  const second = norm ? v.seconds.get(norm.id) : null;
  const asked = secondQuestion();
  const data = [index, total, done, norm?.id, current ? current.value : "unset", second ? second.value : "unset"];
  return section("rate", data, () => {
    const progress = el(
      "div",
      { class: "progress", "data-testid": "progress" },
      el("progress", { max: total, value: done, "aria-labelledby": "progress-text" }),
      el("p", { id: "progress-text", class: "progress-text" }, t("phone.rating.progress", { done, total })),
    );
    if (!norm) {
      return el(
        "section",
        { class: "card rating", "aria-labelledby": "summary-title" },
        progress,
        el(
          "h2",
          { id: "summary-title", tabindex: "-1" },
          t(done === total ? "phone.rating.done_title" : "phone.rating.summary_title"),
        ),
        el("p", {}, t("phone.rating.done_text", { done, total })),
        done < total ? el("p", {}, t("phone.rating.done_missing")) : null,
        done < total
          ? el(
              "p",
              {},
              el(
                "button",
                { type: "button", class: "button", id: "to-open", onclick: () => goTo(firstOpenNorm()) },
                t("phone.rating.to_open"),
              ),
            )
          : null,
        el(
          "div",
          { class: "nav-buttons" },
          el(
            "button",
            { type: "button", class: "button button-secondary", id: "prev", "data-testid": "prev", onclick: () => goTo(index - 1) },
            t("phone.rating.prev"),
          ),
          el(
            "button",
            { type: "button", class: "button button-secondary", id: "next", "data-testid": "next", disabled: true },
            t("phone.rating.next"),
          ),
        ),
      );
    }
    const lang = app.template.language;
    const scale = app.template.scale;
    return el(
      "section",
      { class: "card rating", "aria-labelledby": "norm-title" },
      progress,
      el("p", { class: "theme", lang }, norm.theme.title),
      el("p", { class: "counter" }, t("phone.rating.counter", { n: index + 1, total })),
      el("h2", { id: "norm-title", tabindex: "-1", lang }, norm.title),
      el("p", { class: "description", id: "norm-description", lang }, norm.description),
      scaleGroup({
        prefix: "rate",
        groupId: "rate-group",
        labelId: "scale-label",
        label: t("phone.rating.your_score"),
        labelLang: null,
        minLabel: scale.min_label,
        maxLabel: scale.max_label,
        current,
        onChoose: (value, byKeyboard) => rate(norm.id, value, "current", byKeyboard),
      }),
      asked
        ? scaleGroup({
            prefix: "second",
            groupId: "second-group",
            labelId: "second-label",
            // The template's own words, in the template's language.
            label: asked.question,
            labelLang: lang,
            minLabel: asked.min_label,
            maxLabel: asked.max_label,
            current: second,
            onChoose: (value, byKeyboard) => rate(norm.id, value, "second", byKeyboard),
          })
        : null,
      el(
        "div",
        { class: "nav-buttons" },
        el(
          "button",
          {
            type: "button",
            class: "button button-secondary",
            id: "prev",
            "data-testid": "prev",
            disabled: index === 0,
            onclick: () => goTo(index - 1),
          },
          t("phone.rating.prev"),
        ),
        el(
          "button",
          {
            type: "button",
            class: "button button-secondary",
            id: "next",
            "data-testid": "next",
            onclick: () => goTo(index + 1),
          },
          index === total - 1 ? t("phone.rating.to_summary") : t("phone.rating.next"),
        ),
      ),
    );
  });
}

function overviewSection(v) {
  const index = app.index ?? 0;
  const open = app.overviewOpen || index >= app.norms.length;
  const answers = app.norms.map((norm) => [v.ratings.get(norm.id), v.seconds.get(norm.id)].map((r) => (r ? r.value : "unset")));
  return section("overview", [index, open, answers], () => {
    const details = el(
      "details",
      { class: "overview", open },
      el("summary", {}, t("phone.overview.title")),
      el(
        "ol",
        { class: "overview-list" },
        ...app.norms.map((norm, i) => {
          const rating = v.ratings.get(norm.id);
          const complete = isComplete(v, norm.id);
          return el(
            "li",
            {},
            el(
              "button",
              {
                type: "button",
                class: ["overview-item", complete ? "is-answered" : "is-open"],
                id: `jump-${norm.id}`,
                "data-testid": `jump-${norm.id}`,
                "aria-current": i === index ? "step" : null,
                onclick: () => goTo(i),
              },
              el("span", { class: "overview-title", lang: app.template.language }, `${i + 1}. ${norm.title}`),
              el("span", { class: "overview-answer" }, answersText(rating, v.seconds.get(norm.id))),
            ),
          );
        }),
      ),
    );
    details.addEventListener("toggle", () => {
      app.overviewOpen = details.open;
    });
    return el("section", { class: "card card-quiet" }, details);
  });
}

function roundClosed() {
  return section("round-closed", null, () =>
    el("p", { class: "callout", "data-testid": "round-closed" }, t("phone.round_closed")),
  );
}

// -- results

function resultsSection(v, collapsed) {
  const results = app.state.results;
  const seconds = app.state.second_results || null;
  const own = app.norms.map((norm) => [v.ratings.get(norm.id), v.seconds.get(norm.id)].map((r) => (r ? r.value : "unset")));
  return section("results", [results, seconds, own, collapsed, app.resultsOpen], () => {
    const byNorm = new Map((results || []).map((r) => [r.norm_id, r]));
    const secondByNorm = new Map((seconds || []).map((r) => [r.norm_id, r]));
    const body = [];
    for (const theme of app.template.themes) {
      body.push(el("h3", { lang: app.template.language }, theme.title));
      for (const norm of theme.norms) {
        body.push(
          normResult(norm, byNorm.get(norm.id), v.ratings.get(norm.id), {
            result: secondByNorm.get(norm.id),
            own: v.seconds.get(norm.id),
          }),
        );
      }
    }
    const intro = [
      el("p", {}, t(results ? "phone.results.intro" : "phone.results.own_only")),
      results && app.template.scale.dont_know ? el("p", { class: "hint" }, t("phone.results.dk_legend")) : null,
    ];
    if (collapsed) {
      const details = el(
        "details",
        { open: app.resultsOpen },
        el("summary", {}, t("phone.results.show")),
        el("h2", { class: "visually-hidden" }, t("phone.results.title")),
        intro,
        ...body,
      );
      details.addEventListener("toggle", () => {
        app.resultsOpen = details.open;
      });
      return el("section", { class: "card card-quiet results", "data-testid": "results" }, details);
    }
    return el(
      "section",
      { class: "card results", "data-testid": "results", "aria-labelledby": "results-title" },
      el("h2", { id: "results-title" }, t("phone.results.title")),
      intro,
      ...body,
    );
  });
}

/** A bar length in twentieths (CSS classes h-0..h-100, w-0..w-100): never 0 for a count above 0. */
function step(count, highest) {
  if (count <= 0) return 0;
  return Math.max(1, Math.round((count / highest) * 20));
}

/** The second question's median and the own answer to it, as one line (null when not asked). */
function secondLine(second) {
  const asked = secondQuestion();
  if (!asked) return null;
  const median =
    second.result && second.result.median !== null && second.result.median !== undefined
      ? formatNumber(second.result.median, 1)
      : "–";
  return el(
    "p",
    { class: "own-answer" },
    t(`phone.results.second_${asked.kind}`, { median, answer: answerText(second.own) }),
  );
}

function normResult(norm, result, own, second) {
  const lang = app.template.language;
  const scale = app.template.scale;
  const ownLine = el("p", { class: "own-answer" }, t("phone.results.own", { answer: answerText(own) }));
  const title = el("h4", { lang }, `${norm.number}. ${norm.title}`);
  if (!result || !result.counts) {
    return el("article", { class: "norm-result" }, title, ownLine, secondLine({ result: null, own: second.own }));
  }
  const columns = result.counts.map((count, i) => ({
    label: formatNumber(scale.min + i),
    count,
  }));
  if (scale.dont_know) columns.push({ label: t("phone.results.dk_short"), count: result.dont_know || 0, dk: true });
  const highest = Math.max(1, ...columns.map((column) => column.count));
  const chart = el(
    "div",
    { class: "chart", "aria-hidden": "true" },
    ...columns.map((column) =>
      el(
        "div",
        { class: ["chart-col", column.dk ? "chart-dk" : null] },
        el("span", { class: "chart-count" }, column.count ? formatNumber(column.count) : ""),
        el(
          "div",
          { class: "chart-track" },
          el("div", { class: `chart-bar h-${step(column.count, highest) * 5}` }),
        ),
        el("span", { class: "chart-label" }, column.label),
      ),
    ),
  );
  const parts = columns
    .filter((column) => column.count > 0)
    .map((column) =>
      column.dk
        ? tn("phone.results.sr_dk", column.count)
        : tn("phone.results.sr_value", column.count, { value: column.label }),
    );
  const median =
    result.median === null || result.median === undefined
      ? t("phone.results.no_median")
      : t("phone.results.median", { median: formatNumber(result.median, 1) });
  return el(
    "article",
    { class: "norm-result" },
    title,
    el(
      "p",
      { class: "result-stats" },
      el("span", {}, median),
      el("span", {}, tn("phone.results.received", result.received)),
    ),
    chart,
    el(
      "p",
      { class: "visually-hidden" },
      parts.length ? t("phone.results.sr_spread", { list: parts.join(", ") }) : t("phone.results.sr_empty"),
    ),
    ownLine,
    secondLine(second),
  );
}

// -- notes

function notesSection(v, editable) {
  const phase = app.state.phase;
  // While dot voting is open the wall people vote on stays put (the server refuses new notes).
  const votingOpen = app.state.voting.state === "open";
  const canWrite = editable && NOTE_PHASES.has(phase) && !votingOpen;
  const own = [...v.notes.entries()].sort((a, b) => a[0].localeCompare(b[0]));
  if (!canWrite && own.length === 0) return null;
  const max = app.schema.limits.max_note_chars;
  const maxNotes = app.schema.limits.max_notes_per_participant;
  const full = own.length >= maxNotes && !app.draft.noteId;
  const online = app.status === "online";
  // Moderation reaches the author at once: room_state lists the ids of hidden
  // notes and of those waiting for approval (random ids: only we know ours).
  const hiddenIds = Array.isArray(app.state.hidden_notes) ? new Set(app.state.hidden_notes) : null;
  const waitingIds = new Set(Array.isArray(app.state.pending_notes) ? app.state.pending_notes : []);
  const moderation = [...(hiddenIds || [])].concat(["|"], [...waitingIds]).join(",");
  const data = [canWrite, own, app.draft.noteId, app.draft.norm, full, online, app.norms.length, moderation];
  return section("notes", data, () => {
    const parts = [];
    if (canWrite) {
      const textarea = el("textarea", {
        id: "note-text",
        name: "note",
        rows: "4",
        maxlength: String(max),
        "data-testid": "note-text",
        "aria-describedby": "note-count",
        disabled: full,
        oninput: (event) => {
          app.draft.text = event.target.value;
          sessionSet("draft", app.draft.noteId ? null : event.target.value);
          updateCount();
        },
      });
      textarea.value = app.draft.text;
      const select = el(
        "select",
        { id: "note-norm", name: "norm", "data-testid": "note-norm", disabled: full },
        el("option", { value: "" }, t("phone.notes.no_norm")),
        ...app.norms.map((norm) =>
          el("option", { value: norm.id, lang: app.template.language }, `${norm.number}. ${norm.title}`),
        ),
      );
      select.value = app.draft.norm || "";
      select.addEventListener("change", () => {
        app.draft.norm = select.value;
      });
      parts.push(
        el(
          "form",
          { class: "note-form", onsubmit: submitNote, novalidate: true },
          el("label", { for: "note-text" }, t(app.draft.noteId ? "phone.notes.edit_label" : "phone.notes.label")),
          textarea,
          el("p", { id: "note-count", class: "hint count" }),
          el("label", { for: "note-norm" }, t("phone.notes.norm_label")),
          select,
          full ? el("p", { class: "hint" }, t("phone.notes.limit", { max: maxNotes })) : null,
          el(
            "div",
            { class: "actions" },
            el(
              "button",
              { type: "submit", class: "button", id: "note-submit", "data-testid": "note-submit", disabled: full },
              t(app.draft.noteId ? "phone.notes.save" : "phone.notes.submit"),
            ),
            app.draft.noteId
              ? el(
                  "button",
                  { type: "button", class: "button button-secondary", id: "note-cancel", onclick: cancelEdit },
                  t("phone.notes.cancel"),
                )
              : null,
          ),
        ),
      );
    }
    if (own.length) {
      parts.push(
        el("h3", { id: "own-notes-title", tabindex: "-1" }, tn("phone.notes.own_title", own.length)),
        el(
          "ul",
          { class: "own-notes" },
          ...own.map(([noteId, note]) => {
            const norm = note.norm_id ? normById(note.norm_id) : null;
            const textId = `own-note-${noteId}`;
            const hidden = hiddenIds ? hiddenIds.has(noteId) : note.hidden;
            const waiting = !note.pending && !hidden && waitingIds.has(noteId);
            return el(
              "li",
              { class: "own-note", "data-testid": "own-note", "data-note-id": noteId },
              el("p", { class: "note-text", id: textId }, note.text),
              norm ? el("p", { class: "hint", lang: app.template.language }, `${norm.number}. ${norm.title}`) : null,
              note.pending
                ? el("p", { class: "tag tag-pending" }, t(online ? "phone.notes.sending" : "phone.notes.pending"))
                : null,
              waiting ? el("p", { class: "tag", "data-testid": "own-note-waiting" }, t("phone.notes.waiting")) : null,
              hidden ? el("p", { class: "tag", "data-testid": "own-note-hidden" }, t("phone.notes.hidden")) : null,
              canWrite
                ? el(
                    "div",
                    { class: "actions" },
                    el(
                      "button",
                      {
                        type: "button",
                        class: "button button-secondary",
                        id: `note-edit-${noteId}`,
                        "data-testid": "note-edit",
                        "aria-describedby": textId,
                        onclick: () => editNote(noteId),
                      },
                      t("phone.notes.edit"),
                    ),
                    el(
                      "button",
                      {
                        type: "button",
                        class: "button button-secondary",
                        id: `note-withdraw-${noteId}`,
                        "data-testid": "note-withdraw",
                        "aria-describedby": textId,
                        onclick: () => withdrawNote(noteId),
                      },
                      t("phone.notes.withdraw"),
                    ),
                  )
                : null,
            );
          }),
        ),
      );
    }
    const node = el(
      "section",
      { class: "card notes", "aria-labelledby": "notes-title" },
      el("h2", { id: "notes-title" }, t(canWrite ? "phone.notes.title" : "phone.notes.title_readonly")),
      canWrite ? el("p", {}, t("phone.notes.intro")) : null,
      ...parts,
    );
    queueMicrotask(updateCount);
    return node;
  });
}

function updateCount() {
  const textarea = $("note-text");
  const count = $("note-count");
  if (!textarea || !count) return;
  const max = app.schema.limits.max_note_chars;
  count.textContent = t("phone.notes.count", {
    n: formatNumber(textarea.value.length),
    max: formatNumber(max),
  });
  count.classList.toggle("count-near", textarea.value.length > max * 0.9);
}

// -- dot voting

function votingSections(v) {
  const voting = app.state.voting;
  const notes = app.state.notes || [];
  if (voting.state === "open" && VOTE_PHASES.has(app.state.phase)) {
    return [voteSection(v, voting, notes)];
  }
  if (voting.state === "shown" && voting.results) {
    return [voteResults(voting, notes)];
  }
  return [];
}

/**
 * What can be voted on: each note group as one item (with its notes), then the
 * notes in no group.  A group's own dots plus those put on its notes before
 * the merge are the participant's dots on it (the server counts them so).
 */
function voteItems(notes) {
  const groups = app.state.groups || [];
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

function myDots(dots, item) {
  return item.members.reduce((sum, note) => sum + (dots.get(note.note_id) || 0), dots.get(item.id) || 0);
}

function voteSection(v, voting, notes) {
  const used = [...v.dots.values()].reduce((a, b) => a + b, 0);
  const left = Math.max(0, voting.dots_per_participant - used);
  const items = voteItems(notes);
  const mine = items.map((item) => myDots(v.dots, item));
  const ownIds = [...v.notes.keys()];
  const data = [voting.dots_per_participant, voting.max_per_note, items, mine, left, ownIds];
  return section("vote", data, () =>
    el(
      "section",
      { class: "card vote", "aria-labelledby": "vote-title" },
      el("h2", { id: "vote-title" }, t("phone.vote.title")),
      el("p", {}, t("phone.vote.intro")),
      el("p", { class: "hint" }, t("phone.vote.no_new_notes")),
      el(
        "p",
        { class: "dots-left", "data-testid": "dots-left" },
        t("phone.vote.left", { left, total: voting.dots_per_participant }),
      ),
      voting.max_per_note < voting.dots_per_participant
        ? el("p", { class: "hint" }, tn("phone.vote.max", voting.max_per_note))
        : null,
      items.length
        ? el(
            "ul",
            { class: "vote-list" },
            ...items.map((item, i) => {
              const textId = `vote-note-${item.id}`;
              const dots = mine[i];
              const norm = item.normId ? normById(item.normId) : null;
              const own = ownIds.includes(item.id) || item.members.some((note) => ownIds.includes(note.note_id));
              return el(
                "li",
                { class: "vote-item", "data-note-id": item.id, "data-group": item.members.length ? "true" : null },
                el("p", { class: "note-text", id: textId }, item.text),
                item.members.length
                  ? el(
                      "ul",
                      { class: "vote-members", "aria-label": t("phone.vote.group_notes") },
                      ...item.members.map((note) => el("li", {}, note.text)),
                    )
                  : null,
                norm ? el("p", { class: "hint", lang: app.template.language }, `${norm.number}. ${norm.title}`) : null,
                own ? el("p", { class: "tag" }, t("phone.vote.yours")) : null,
                el(
                  "div",
                  { class: "vote-controls" },
                  el(
                    "button",
                    {
                      type: "button",
                      class: "button button-secondary vote-button",
                      id: `vote-minus-${item.id}`,
                      "data-testid": `vote-minus-${item.id}`,
                      "aria-label": t("phone.vote.minus"),
                      "aria-describedby": textId,
                      disabled: dots === 0,
                      onclick: () => takeDot(item),
                    },
                    "−",
                  ),
                  el(
                    "p",
                    { class: "vote-mine" },
                    el("span", { class: "dot-row", "aria-hidden": "true" }, "●".repeat(dots)),
                    el("span", {}, tn("phone.vote.mine", dots)),
                  ),
                  el(
                    "button",
                    {
                      type: "button",
                      class: "button vote-button",
                      id: `vote-plus-${item.id}`,
                      "data-testid": `vote-plus-${item.id}`,
                      "aria-label": t("phone.vote.plus"),
                      "aria-describedby": textId,
                      disabled: left === 0 || dots >= voting.max_per_note,
                      onclick: () => vote(item.id, 1),
                    },
                    "+",
                  ),
                ),
              );
            }),
          )
        : el("p", {}, t("phone.vote.empty")),
    ),
  );
}

/** One dot back: from the item itself, else from a note of the group that had some before the merge. */
function takeDot(item) {
  const { dots } = view();
  if ((dots.get(item.id) || 0) > 0) {
    vote(item.id, -1);
    return;
  }
  const member = item.members.find((note) => (dots.get(note.note_id) || 0) > 0);
  if (member) vote(member.note_id, -1);
}

function voteResults(voting, notes) {
  const items = new Map(voteItems(notes).map((item) => [item.id, item]));
  const rows = voting.results.filter((row) => items.has(row.note_id));
  const highest = Math.max(1, ...rows.map((row) => row.dots));
  return section("vote-results", [rows, [...items.values()]], () =>
    el(
      "section",
      { class: "card vote-results", "data-testid": "vote-results", "aria-labelledby": "vote-results-title" },
      el("h2", { id: "vote-results-title" }, t("phone.vote.results_title")),
      rows.length
        ? el(
            "ol",
            { class: "vote-result-list" },
            ...rows.map((row) => {
              const item = items.get(row.note_id);
              return el(
                "li",
                {},
                el("p", { class: "note-text" }, item.text),
                item.members.length
                  ? el("p", { class: "hint" }, tn("phone.vote.group_size", item.members.length))
                  : null,
                el(
                  "div",
                  { class: "hbar-track", "aria-hidden": "true" },
                  el("div", { class: `hbar w-${step(row.dots, highest) * 5}` }),
                ),
                el("p", { class: "hint" }, tn("phone.vote.count", row.dots)),
              );
            }),
          )
        : el("p", {}, t("phone.vote.no_results")),
    ),
  );
}

main();
