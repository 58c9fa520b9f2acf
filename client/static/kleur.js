// kleur.js: the browser module shared by the phone page, the start page and
// the dashboard.  It holds no protocol knowledge of its own: message fields,
// error codes, close codes and limits come from GET /api/protocol.
//
//   loadProtocol()            the generated schema (cached)
//   pageLanguage()            "nl" or "en"
//   setLanguage(lang)         remember it, set <html lang>, re-render
//   loadTranslations(lang, onChange?) -> t(key, params)
//   el(tag, attrs, ...children)  DOM builder; text is always a text node
//   new Connection({...})     websocket with an outbox, acks and reconnects
//   answerKey, keepAnswer, planResend   the answers a participant keeps (pure)
//   PRESENTER_PAGES           how the control view turns and holds the presenter's pages
//   formatRemaining(ms)       a timer's "1:56", the same on the phone and the projector

export const SUBPROTOCOL = "kleur.v1.json";
export const LANGUAGES = ["nl", "en"];
const LANG_KEY = "kleur.lang";

// ------------------------------------------------------------------ protocol

let protocolPromise = null;

/** GET /api/protocol, once per page; a failed load is retried on the next call. */
export async function loadProtocol() {
  if (!protocolPromise) {
    protocolPromise = fetchJson("/api/protocol").catch((error) => {
      protocolPromise = null;
      throw error;
    });
  }
  return protocolPromise;
}

async function fetchJson(url, { allowMissing = false } = {}) {
  const response = await fetch(url, { headers: { accept: "application/json" } });
  if (allowMissing && response.status === 404) return null;
  if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status}`);
  return response.json();
}

// ------------------------------------------------------------------ language

function storageGet(storage, key) {
  try {
    return storage.getItem(key);
  } catch {
    return null; // storage disabled (private mode, blocked cookies)
  }
}

function storageSet(storage, key, value) {
  try {
    if (value === null || value === undefined) storage.removeItem(key);
    else storage.setItem(key, value);
  } catch {
    // Full or disabled: the page still works, it just forgets on reload.
  }
}

/** The page language: the visitor's own choice, else what the server put in <html lang>. */
export function pageLanguage() {
  const chosen = storageGet(window.localStorage, LANG_KEY);
  if (LANGUAGES.includes(chosen)) return chosen;
  const served = (document.documentElement.lang || "").toLowerCase().split("-")[0];
  return LANGUAGES.includes(served) ? served : "nl";
}

let onLanguageChange = null;
const catalogues = new Map();
// The page's own catalogue next to {lang}.json: the dashboard's by default,
// the presenter view asks for its own (see loadTranslations).
let pageCatalogue = "dashboard";

/**
 * Switch the page language: remember it, set <html lang>, then load the
 * translations and call the callback given to loadTranslations with the new t.
 */
export async function setLanguage(lang) {
  if (!LANGUAGES.includes(lang)) throw new Error(`unknown language ${lang}`);
  storageSet(window.localStorage, LANG_KEY, lang);
  document.documentElement.lang = lang;
  const t = await loadTranslations(lang);
  if (onLanguageChange) onLanguageChange(t, lang);
  return t;
}

async function catalogue(lang) {
  if (!catalogues.has(lang)) {
    const loading = Promise.all([
      // Relative to this module, so the catalogues share its versioned (cached) prefix.
      fetchJson(new URL(`./i18n/${lang}.json`, import.meta.url)),
      // "" (the phone): no page catalogue, one request and 6 KB less on a phone's first visit.
      pageCatalogue
        ? fetchJson(new URL(`./i18n/${pageCatalogue}.${lang}.json`, import.meta.url), { allowMissing: true }).catch((error) => {
            console.warn(`kleur: ${pageCatalogue} translations not loaded`, error);
            return null;
          })
        : null,
    ]).then(([own, dashboard]) => ({ ...(dashboard || {}), ...own }));
    catalogues.set(lang, loading);
    loading.catch(() => catalogues.delete(lang));
  }
  return catalogues.get(lang);
}

/**
 * Load i18n/{lang}.json and i18n/dashboard.{lang}.json next to this module (if
 * there; `page`, e.g. "presenter", names another one, "" none) and return t(key, params).  `{name}` in a text is replaced by
 * params.name; a missing key returns the key itself and warns once.
 * `onChange(t, lang)`, if given, is called after every setLanguage().
 */
export async function loadTranslations(lang, onChange, page) {
  if (typeof onChange === "function") onLanguageChange = onChange;
  if (typeof page === "string" && page !== pageCatalogue) {
    pageCatalogue = page;
    catalogues.clear();
  }
  const texts = await catalogue(LANGUAGES.includes(lang) ? lang : "nl");
  const warned = new Set();
  function t(key, params = {}) {
    const text = texts[key];
    if (typeof text !== "string") {
      if (!warned.has(key)) {
        warned.add(key);
        console.warn(`kleur: no translation for "${key}" (${lang})`);
      }
      return key;
    }
    return text.replace(/\{(\w+)\}/g, (whole, name) =>
      params[name] === undefined || params[name] === null ? whole : String(params[name]),
    );
  }
  t.lang = lang;
  t.has = (key) => typeof texts[key] === "string";
  return t;
}

// ------------------------------------------------------------------ DOM

// Attributes that are set as properties (their live state), not as attributes.
const PROPERTIES = new Set(["value", "checked", "disabled", "selected", "hidden", "indeterminate"]);
const FORBIDDEN = new Set(["style", "innerhtml", "outerhtml", "srcdoc"]);

/**
 * Build an element.  attrs: `class`, `for`, `aria-*`, `data-*` and other
 * attributes via setAttribute; value/checked/disabled/selected/hidden as
 * properties; `on<event>` must be a function (added as a listener).  `true`
 * sets an empty attribute, `false`/null/undefined leave it out.  Children:
 * strings and numbers become text nodes, nodes are appended, arrays are
 * flattened, null/undefined/false are skipped.  Never parses markup.
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    const lower = name.toLowerCase();
    if (FORBIDDEN.has(lower)) throw new Error(`el(): "${name}" is not allowed (CSP, XSS)`);
    if (lower.startsWith("on")) {
      if (value === null || value === undefined || value === false) continue;
      if (typeof value !== "function") throw new Error(`el(): ${name} must be a function`);
      node.addEventListener(lower.slice(2), value);
    } else if (PROPERTIES.has(name)) {
      node[name] = value;
    } else if (value === null || value === undefined || value === false) {
      continue;
    } else if (name === "class" || name === "className") {
      node.className = Array.isArray(value) ? value.filter(Boolean).join(" ") : String(value);
    } else if (name === "for" || name === "htmlFor") {
      node.htmlFor = String(value);
    } else {
      node.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else if (child instanceof Node) node.appendChild(child);
    else node.appendChild(document.createTextNode(String(child)));
  }
}

// ------------------------------------------------------------------ kept answers

// Redis can lose what it acknowledged (a FLUSHALL, an evicted key, the last
// second of an `everysec` append-only file), so a participant keeps, besides
// its outbox, the last acknowledged command of every answer it gave, and sends
// again after a welcome whatever the server no longer has (docs/protocol.md
// section 14).  These functions are pure: tests/js/kleur.test.mjs runs them.

/**
 * The answer a participant command sets, as a key: one kept command per key,
 * so the store stays as small as the answers themselves.  null: not an answer.
 * A note and its withdrawal share a key (the withdrawal is the note's last word).
 */
export function answerKey(message) {
  switch (message.type) {
    case "rate":
      return `rate|${message.round ?? 1}|${message.norm_id}|${message.question ?? "current"}`;
    case "set_org_type":
      return "org";
    case "put_note":
    case "withdraw_note":
      return `note|${message.note_id}`;
    case "dot_vote":
      return `dots|${message.note_id}`;
    default:
      return null;
  }
}

/** Keep an acknowledged command in `kept` (key -> command) unless a newer one of its answer is kept. */
export function keepAnswer(kept, command) {
  const key = answerKey(command);
  if (key === null) return false;
  const old = kept.get(key);
  if (old && old.seq >= command.seq) return false;
  const plain = { ...command };
  delete plain.reassert; // kept as first sent; planResend sets the flag on what it sends again
  kept.set(key, plain);
  return true;
}

/** Drop kept answers matching `predicate(command)`; whether any was dropped. */
export function dropAnswers(kept, predicate) {
  let changed = false;
  for (const [key, command] of [...kept]) {
    if (predicate(command)) {
      kept.delete(key);
      changed = true;
    }
  }
  return changed;
}

/** A rating of an earlier round than `round`: the server refuses it there, and it must never count. */
export function ofOlderRound(round) {
  return (command) => command.type === "rate" && (command.round ?? 1) < round;
}

/**
 * Whether `welcome` shows the server holding this kept answer (at its seq or a
 * later one).  `max_seq` alone cannot tell: after a rebuild that lost the
 * ballots, the phone's notes (and their seqs) are still there, so ratings
 * older than its last note would not be above `max_seq`.
 */
export function welcomeHolds(welcome, command) {
  const atLeast = (entry) => Boolean(entry) && entry.seq >= command.seq;
  switch (command.type) {
    case "rate": {
      if ((command.round ?? 1) !== (welcome.state?.round ?? 1)) return true; // never re-sent
      const question = command.question ?? "current";
      return atLeast(
        (welcome.ratings || []).find(
          (r) => r.norm_id === command.norm_id && (r.question ?? "current") === question,
        ),
      );
    }
    case "put_note":
      return atLeast((welcome.notes || []).find((n) => n.note_id === command.note_id));
    case "withdraw_note":
      return !(welcome.notes || []).some((n) => n.note_id === command.note_id);
    case "dot_vote": {
      const dots = (welcome.dots || []).find((d) => d.note_id === command.note_id);
      return command.dots === 0 ? !dots || dots.seq >= command.seq : atLeast(dots);
    }
    case "set_org_type":
      return (welcome.org_type ?? null) === (command.org_type ?? null);
    default:
      return true;
  }
}

/**
 * What to send again after `welcome`: the kept answers whose seq is above
 * `welcome.max_seq` or that the welcome does not show (`welcomeHolds`: the
 * server lost them, or never told us it had them), in
 * seq order, ratings with `reassert: true` and only those of the welcome's
 * round.  Returns {now, held}: send `now` at once; `held` are the further
 * ratings when the phase does not take ratings (only a room that heals takes
 * them then): they wait until the first one was accepted, because each refusal
 * counts towards the connection's error limit (section 10) and 40 refused
 * ratings would get the phone closed for good.  Notes and dots are sent only
 * in a phase that takes them (`allowedPhases`, the schema's allowed_phases);
 * dots only while dot voting is open, notes only while it is not.  Nothing
 * while the device waits to be admitted (Connection.resendAnswers, once it is).
 */
export function planResend(kept, welcome, allowedPhases = null) {
  // A device waiting to be admitted would have each refused (not_admitted): later.
  if (welcome.admitted === false) return { now: [], held: [] };
  const maxSeq = Number(welcome.max_seq) || 0;
  const state = welcome.state || {};
  const round = state.round ?? 1;
  const allowed = (type) => !allowedPhases || (allowedPhases[type] || []).includes(state.phase);
  const due = [...kept.values()]
    .filter((command) => command.seq > maxSeq || !welcomeHolds(welcome, command))
    .sort((a, b) => a.seq - b.seq);
  const now = [];
  const held = [];
  let probing = false;
  for (const command of due) {
    if (command.type === "rate") {
      if ((command.round ?? 1) !== round) continue;
      const message = { ...command, reassert: true };
      if (allowed("rate")) now.push(message);
      else if (!probing) {
        probing = true;
        now.push(message);
      } else held.push(message);
    } else if (command.type === "dot_vote" || command.type === "put_note") {
      // Dots go only on an open vote, and the wall people vote on takes no new notes.
      const open = state.voting?.state === "open";
      if (allowed(command.type) && open === (command.type === "dot_vote")) now.push(command);
    } else if (allowed(command.type)) {
      now.push(command);
    }
  }
  return { now, held };
}

// ------------------------------------------------------------------ connection

const BACKOFF_FIRST_MS = 500;
const BACKOFF_MAX_MS = 10000;
const WELCOME_TIMEOUT_MS = 15000;
/** A phone asleep this long may hold a dead socket: reconnect when it wakes. */
const STALE_AFTER_HIDDEN_MS = 15000;

/** How long a phone told "room rebuilt" (4503) waits: at once, spread over a moment so a hall does not rejoin in one instant. */
const REBUILT_SPREAD_MS = 100;
/** A second 4503 this soon after the first takes the back-off: a room that keeps being rebuilt is not hammered. */
const REBUILT_AGAIN_MS = 10000;

/** The schema's name of a close code ("room_rebuilt"), or null. */
function closeName(schema, code) {
  const entry = Object.entries(schema?.close_codes || {}).find(([, c]) => c.code === code);
  return entry ? entry[0] : null;
}

function shouldReconnect(schema, code) {
  const entry = schema
    ? Object.values(schema.close_codes || {}).find((c) => c.code === code)
    : undefined;
  if (entry) return entry.reconnect;
  // Not in the table: 1005/1006 (no close frame: network loss) and other
  // surprises are worth another try; the "do not reconnect" range is not.
  return !(code >= 4000 && code <= 4499);
}

/**
 * One websocket to /ws with an outbox.  Participants keep their token, last
 * seq, outbox and acknowledged answers in localStorage
 * (`kleur.{room}.token|seq|outbox|answers`), so a reload or a phone lock
 * loses nothing; the facilitator keeps its token in sessionStorage
 * (`kleur.{room}.token`) and the rest in memory.
 *
 * After every welcome a participant sends again the kept answers the server
 * reports it does not have (planResend), then the outbox.  onWelcome(welcome)
 * is called before either; onMessage(msg, command) gets every other message
 * (for an ack, `command` is the outbox entry or re-sent answer it answers; for
 * an error the outbox entry, never a re-sent answer: a refused re-assert is
 * dropped without a word); onStatus(status, closeCode).
 */
export class Connection {
  constructor({ room, role, token = null, joinToken = null, onWelcome, onMessage, onStatus }) {
    // "presenter": the projector, read-only; its display token is kept like the facilitator's.
    if (!["participant", "facilitator", "presenter"].includes(role)) throw new Error(`bad role ${role}`);
    this.room = room;
    this.role = role;
    this.joinToken = joinToken || null;
    this.onWelcome = onWelcome || (() => {});
    this.onMessage = onMessage || (() => {});
    this.onStatus = onStatus || (() => {});
    this._persist = role === "participant";
    this._prefix = `kleur.${room}.`;
    this._tokenStorage = this._persist ? window.localStorage : window.sessionStorage;
    // The presenter's display token has a key of its own, so a presenter
    // window opened from the dashboard never takes over its control token.
    this._tokenKey = `${this._prefix}${role === "presenter" ? "display" : "token"}`;
    this._token = token || storageGet(this._tokenStorage, this._tokenKey) || null;
    if (token) storageSet(this._tokenStorage, this._tokenKey, token);
    this._lastSeq = 0;
    this._outbox = new Map(); // seq -> message
    this._kept = new Map(); // answerKey -> the last acknowledged command of that answer
    this._resending = new Map(); // seq -> a kept answer sent again, not yet answered
    this._held = []; // kept ratings waiting for the first re-sent rating's answer
    this._lastWelcome = null;
    this._rebuiltAt = null; // when the last 4503 came (Date.now())
    if (this._persist) this._loadPersisted();
    this._pending = new Map(); // seq -> {resolve, reject}
    this._status = "connecting";
    this._ws = null;
    this._joined = false;
    this._schema = null;
    this._attempt = 0;
    this._reconnectTimer = null;
    this._retryTimer = null;
    this._welcomeTimer = null;
    this._hiddenAt = null;
    this._stopped = false;
    this._started = false;
    this._listeners = [
      ["online", () => this._reconnectNow()],
      ["offline", () => this._wentOffline()],
      // Back from the back/forward cache: the old socket is gone.
      ["pageshow", (event) => event.persisted && this._reconnectNow()],
    ];
    this._onVisibility = () => this._visibilityChanged();
  }

  get status() {
    return this._status;
  }

  /** The device (participant) or facilitator token, once known. */
  get token() {
    return this._token;
  }

  get lastSeq() {
    return this._lastSeq;
  }

  /** Commands not yet acknowledged, in seq order (copies). */
  get outbox() {
    return [...this._outbox.keys()].sort((a, b) => a - b).map((seq) => ({ ...this._outbox.get(seq) }));
  }

  /** The acknowledged answers kept on this device (copies, seq order). */
  get answers() {
    return [...this._kept.values()].sort((a, b) => a.seq - b.seq).map((command) => ({ ...command }));
  }

  /** Kept answers being sent again after a welcome, not yet answered (copies, seq order). */
  get reasserting() {
    return [...this._resending.values(), ...this._held]
      .sort((a, b) => a.seq - b.seq)
      .map((command) => ({ ...command }));
  }

  /**
   * Send the kept answers the last welcome lacked once more, planned against
   * the room's `state` now: for a device the facilitator just admitted (while
   * it waited, nothing was sent).
   */
  resendAnswers(state) {
    if (!this._joined || !this._lastWelcome) return;
    this._planResend({ ...this._lastWelcome, state, admitted: true });
    this._writeResending();
  }

  /** Stop keeping answers matching `predicate(command)` (e.g. ratings of an old round). */
  forgetAnswers(predicate) {
    for (const [seq, command] of [...this._resending]) if (predicate(command)) this._resending.delete(seq);
    this._held = this._held.filter((command) => !predicate(command));
    this._changeKept((kept) => dropAnswers(kept, predicate));
  }

  /** Drop unacknowledged commands matching `predicate(message)` (e.g. from an old round). */
  forget(predicate) {
    let changed = false;
    for (const [seq, message] of [...this._outbox]) {
      if (predicate(message)) {
        this._outbox.delete(seq);
        this._pending.get(seq)?.reject({ type: "error", code: "forgotten", detail: "", seq });
        this._pending.delete(seq);
        changed = true;
      }
    }
    if (changed) this._saveOutbox();
  }

  start() {
    if (this._started) return;
    this._started = true;
    for (const [name, handler] of this._listeners) window.addEventListener(name, handler);
    document.addEventListener("visibilitychange", this._onVisibility);
    this.onStatus("connecting", null);
    this._open();
  }

  close() {
    this._stopped = true;
    this._clearTimers();
    for (const [name, handler] of this._listeners) window.removeEventListener(name, handler);
    document.removeEventListener("visibilitychange", this._onVisibility);
    const ws = this._ws;
    this._ws = null;
    this._joined = false;
    if (ws) ws.close(1000);
    this._setStatus("closed", 1000);
  }

  /**
   * Send a command: it gets the next seq and goes into the outbox (saved)
   * before it is sent.  Resolves with the ack, rejects with the error message.
   */
  send(type, fields = {}) {
    if (this._persist) {
      // Another tab of the same room may have used seqs meanwhile.
      const stored = Number(storageGet(window.localStorage, `${this._prefix}seq`)) || 0;
      this._lastSeq = Math.max(this._lastSeq, stored);
    }
    if ("type" in fields || "seq" in fields) throw new Error("send(): type and seq are set here");
    const seq = ++this._lastSeq;
    const message = { type, seq, ...fields };
    this._outbox.set(seq, message);
    if (this._persist) storageSet(window.localStorage, `${this._prefix}seq`, String(seq));
    this._saveOutbox();
    const promise = new Promise((resolve, reject) => this._pending.set(seq, { resolve, reject }));
    // Nobody may be listening for a rejection: keep it from being "unhandled".
    promise.catch(() => {});
    if (this._joined) this._write(message);
    return promise;
  }

  // -- internals ---------------------------------------------------------

  _loadPersisted() {
    this._lastSeq = Number(storageGet(window.localStorage, `${this._prefix}seq`)) || 0;
    this._kept = this._readKept();
    // Never reuse a seq: a re-sent answer keeps its own, so a new command needs a higher one.
    for (const command of this._kept.values()) this._lastSeq = Math.max(this._lastSeq, command.seq);
    try {
      const saved = JSON.parse(storageGet(window.localStorage, `${this._prefix}outbox`) || "[]");
      for (const message of Array.isArray(saved) ? saved : []) {
        if (message && typeof message.type === "string" && Number.isInteger(message.seq)) {
          this._outbox.set(message.seq, message);
          this._lastSeq = Math.max(this._lastSeq, message.seq);
        }
      }
    } catch {
      // A damaged outbox is dropped rather than blocking the page.
    }
  }

  /** The kept answers as stored (another tab of the room may have added some). */
  _readKept() {
    const kept = new Map();
    try {
      const saved = JSON.parse(storageGet(window.localStorage, `${this._prefix}answers`) || "[]");
      for (const command of Array.isArray(saved) ? saved : []) {
        if (command && typeof command.type === "string" && Number.isInteger(command.seq)) {
          keepAnswer(kept, command);
        }
      }
    } catch {
      // A damaged store is dropped: the server still has what it acknowledged.
    }
    return kept;
  }

  /** Change the kept answers with `change(kept)` (true when it changed them) and store them. */
  _changeKept(change) {
    if (!this._persist) return;
    // Read again first: two tabs of one room keep one store, last change wins per answer.
    const kept = this._readKept();
    for (const command of this._kept.values()) keepAnswer(kept, command);
    this._kept = kept;
    if (!change(kept)) return;
    storageSet(window.localStorage, `${this._prefix}answers`, kept.size ? JSON.stringify(this.answers) : null);
  }

  _saveOutbox() {
    if (!this._persist) return;
    const key = `${this._prefix}outbox`;
    storageSet(window.localStorage, key, this._outbox.size ? JSON.stringify(this.outbox) : null);
  }

  _setStatus(status, closeCode = null) {
    if (this._status === status && status !== "closed") return;
    this._status = status;
    try {
      this.onStatus(status, closeCode);
    } catch (error) {
      console.error(error);
    }
  }

  _clearTimers() {
    clearTimeout(this._reconnectTimer);
    clearTimeout(this._retryTimer);
    clearTimeout(this._welcomeTimer);
    this._reconnectTimer = this._retryTimer = this._welcomeTimer = null;
  }

  async _open() {
    if (this._stopped) return;
    this._clearTimers();
    this._setStatus("connecting");
    try {
      this._schema = await loadProtocol();
    } catch {
      this._scheduleReconnect();
      return;
    }
    if (this._stopped || this._ws) return;
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    let ws;
    try {
      ws = new WebSocket(`${scheme}://${window.location.host}/ws`, SUBPROTOCOL);
    } catch {
      this._scheduleReconnect();
      return;
    }
    this._ws = ws;
    this._joined = false;
    ws.onopen = () => {
      if (ws !== this._ws) return;
      ws.send(
        JSON.stringify({
          type: "join",
          room: this.room,
          role: this.role,
          token: this._token,
          join_token: this.joinToken,
          // A facilitator tab has its own sequence numbers: two dashboard
          // windows must not swallow each other's commands.
          device: this.role === "facilitator" ? facilitatorDevice(this.room) : null,
        }),
      );
    };
    ws.onmessage = (event) => {
      if (ws !== this._ws || typeof event.data !== "string") return;
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      this._receive(message);
    };
    ws.onclose = (event) => {
      if (ws !== this._ws) return;
      this._ws = null;
      this._joined = false;
      this._closed(event.code);
    };
    ws.onerror = () => {}; // followed by close
    // A handshake that hangs (captive portal, half-open network) is retried.
    this._welcomeTimer = setTimeout(() => {
      if (ws !== this._ws || this._joined) return;
      this._drop();
      this._setStatus("offline", null);
      this._scheduleReconnect();
    }, WELCOME_TIMEOUT_MS);
  }

  _closed(code) {
    if (this._stopped) return;
    const rebuilt = closeName(this._schema, code) === "room_rebuilt";
    const again = rebuilt && this._rebuiltAt !== null && Date.now() - this._rebuiltAt < REBUILT_AGAIN_MS;
    if (rebuilt) this._rebuiltAt = Date.now();
    if (rebuilt && !again) {
      // The room was rebuilt and waits for our answers: back at once, no back-off.
      this._attempt = 0;
      this._setStatus("connecting", code); // no offline banner for a moment's rejoin
      clearTimeout(this._reconnectTimer);
      this._reconnectTimer = setTimeout(() => {
        this._reconnectTimer = null;
        this._open();
      }, Math.random() * REBUILT_SPREAD_MS);
    } else if (shouldReconnect(this._schema, code)) {
      this._setStatus("offline", code);
      this._scheduleReconnect();
    } else {
      this._stopped = true;
      this._clearTimers();
      this._setStatus("closed", code);
    }
  }

  /** Close the current socket (if any) and let the reconnect logic take over. */
  _drop() {
    const ws = this._ws;
    this._ws = null;
    this._joined = false;
    if (ws) {
      ws.onclose = null;
      try {
        ws.close(1000);
      } catch {
        // already closing
      }
    }
  }

  _scheduleReconnect() {
    if (this._stopped) return;
    clearTimeout(this._reconnectTimer);
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** this._attempt);
    this._attempt += 1;
    const delay = base / 2 + Math.random() * (base / 2);
    this._reconnectTimer = setTimeout(() => {
      this._reconnectTimer = null;
      if (navigator.onLine === false) {
        this._scheduleReconnect(); // wait for the "online" event or the next try
        return;
      }
      this._open();
    }, delay);
  }

  _reconnectNow() {
    if (this._stopped || !this._started) return;
    this._attempt = 0;
    this._drop();
    this._open();
  }

  _wentOffline() {
    if (this._stopped) return;
    this._drop();
    this._setStatus("offline", null);
    this._scheduleReconnect();
  }

  _visibilityChanged() {
    if (this._stopped) return;
    if (document.visibilityState === "hidden") {
      this._hiddenAt = Date.now();
      return;
    }
    const hiddenFor = this._hiddenAt === null ? 0 : Date.now() - this._hiddenAt;
    this._hiddenAt = null;
    if (!this._joined || hiddenFor > STALE_AFTER_HIDDEN_MS) this._reconnectNow();
  }

  _write(message) {
    if (this._ws && this._ws.readyState === WebSocket.OPEN) {
      this._ws.send(JSON.stringify(message));
    }
  }

  _resendOutbox() {
    for (const message of this.outbox) this._write(message);
  }

  /**
   * Choose the kept answers the welcome says the server lacks (planResend).
   * Before onWelcome, so the page already shows them while they travel.
   */
  _planResend(welcome) {
    this._lastWelcome = welcome;
    this._resending.clear();
    this._held = [];
    if (!this._persist) return;
    // A rating of an earlier round must never count in this one (nor be kept for it).
    this._changeKept((kept) => dropAnswers(kept, ofOlderRound(welcome.state?.round ?? 1)));
    const { now, held } = planResend(this._kept, welcome, this._schema?.allowed_phases);
    this._held = held;
    for (const message of now) this._resending.set(message.seq, message);
  }

  _writeResending() {
    for (const message of [...this._resending.values()].sort((a, b) => a.seq - b.seq)) this._write(message);
  }

  /** The answer to a re-sent kept answer: true when `message` was one. */
  _resendAnswered(message) {
    const command = this._resending.get(message.seq);
    if (!command) return false;
    if (message.type === "ack") {
      this._resending.delete(message.seq);
      this._sendHeld();
      this._deliver(message, command); // the page counts it as stored again
      return true;
    }
    if (this._schema?.errors?.[message.code]?.retry) {
      this._retryAfter(message.code); // kept in _resending: sent again with the outbox
      return true;
    }
    this._resending.delete(message.seq);
    if (message.code === "not_admitted") {
      // Not refused for good: it goes again once the facilitator lets the device in.
      this._deliver(message, undefined);
      return true;
    }
    // Refused for good (the phase moved on, the note is gone): stop keeping it, silently.
    const dropped = [command];
    if (command.type === "rate" && this._held.length) {
      // The first re-sent rating was the probe: the others would be refused alike.
      dropped.push(...this._held);
      this._held = [];
    }
    const seqs = new Set(dropped.map((c) => c.seq));
    this._changeKept((kept) => dropAnswers(kept, (c) => seqs.has(c.seq)));
    this._deliver(message, undefined);
    return true;
  }

  /** The held ratings go once the probe (the one re-sent rating) was accepted. */
  _sendHeld() {
    if (!this._held.length || [...this._resending.values()].some((c) => c.type === "rate")) return;
    for (const message of this._held) {
      this._resending.set(message.seq, message);
      this._write(message);
    }
    this._held = [];
  }

  /** A retryable error: send again later, except `room_lost`, which waits for the next welcome. */
  _retryAfter(code) {
    // Resending into a lost room only collects errors, and 30 of them close the connection for good.
    if (code === "room_lost" || !this._joined) return;
    this._retryLater();
  }

  _retryLater() {
    if (this._retryTimer || this._stopped) return;
    const delay = 1000 + Math.random() * 1000;
    this._retryTimer = setTimeout(() => {
      this._retryTimer = null;
      if (!this._joined) return;
      this._writeResending();
      this._resendOutbox();
    }, delay);
  }

  _receive(message) {
    switch (message.type) {
      case "welcome":
        this._welcome(message);
        return;
      case "ack": {
        if (this._resendAnswered(message)) return;
        const command = this._outbox.get(message.seq);
        this._outbox.delete(message.seq);
        this._saveOutbox();
        if (command) this._changeKept((kept) => keepAnswer(kept, command));
        this._pending.get(message.seq)?.resolve(message);
        this._pending.delete(message.seq);
        this._deliver(message, command);
        return;
      }
      case "error": {
        if (message.seq != null && this._resendAnswered(message)) return;
        const command = message.seq === null ? undefined : this._outbox.get(message.seq);
        const retry = Boolean(this._schema?.errors?.[message.code]?.retry);
        if (message.seq !== null && message.seq !== undefined) {
          if (!retry) {
            this._outbox.delete(message.seq);
            this._saveOutbox();
          }
          this._pending.get(message.seq)?.reject(message);
          this._pending.delete(message.seq);
        }
        if (retry) this._retryAfter(message.code);
        this._deliver(message, command);
        return;
      }
      default:
        this._deliver(message);
    }
  }

  _welcome(welcome) {
    clearTimeout(this._welcomeTimer);
    this._welcomeTimer = null;
    this._joined = true;
    this._attempt = 0;
    if (welcome.participant_token && this.role === "participant") {
      this._token = welcome.participant_token;
      storageSet(this._tokenStorage, `${this._prefix}token`, this._token);
    }
    this._lastSeq = Math.max(this._lastSeq, Number(welcome.max_seq) || 0);
    if (this._persist) storageSet(window.localStorage, `${this._prefix}seq`, String(this._lastSeq));
    this._planResend(welcome);
    this._setStatus("online");
    try {
      this.onWelcome(welcome);
    } catch (error) {
      console.error(error);
    }
    // What the server lost first, then what it never had: each with its own seq.
    // (onWelcome may have forgotten some: only what is still chosen goes.)
    this._writeResending();
    this._resendOutbox();
  }

  _deliver(message, command) {
    try {
      this.onMessage(message, command);
    } catch (error) {
      console.error(error);
    }
  }
}

// ------------------------------------------------------------------ small helpers

/** A random id of `length` URL-safe characters (for note ids). */
/** Fill `nav` with the NL | EN buttons; `current` is pressed; a click switches. */
export function renderLanguageSwitch(nav, current, t) {
  nav.setAttribute("aria-label", t("common.lang.switch"));
  nav.replaceChildren(
    ...LANGUAGES.map((lang) =>
      el(
        "button",
        {
          type: "button",
          class: "lang-button",
          lang,
          "data-testid": `lang-${lang}`,
          "aria-pressed": String(current === lang),
          onclick: () => {
            if (current !== lang) setLanguage(lang).catch((error) => console.error(error));
          },
        },
        t(`common.lang.${lang}_short`),
        el("span", { class: "visually-hidden" }, ` ${t(`common.lang.${lang}`)}`),
      ),
    ),
  );
}

/** This tab's own facilitator device id, kept for the tab's lifetime. */
function facilitatorDevice(room) {
  const key = `kleur.${room}.device`;
  let device = window.sessionStorage.getItem(key);
  if (!device) {
    device = randomId(16);
    window.sessionStorage.setItem(key, device);
  }
  return device;
}

export function randomId(length = 16) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const bytes = new Uint8Array(length);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => alphabet[b & 63]).join("");
}

/** Text as the server wants it: control characters dropped, NFC, trimmed. */
export function normalizeText(value) {
  // eslint-disable-next-line no-control-regex
  return value.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, "").normalize("NFC").trim();
}

/** What someone typed ("abc 23x") as a room code ("ABC23X"). */
export function normalizeRoomCode(typed) {
  return String(typed || "").replace(/\s+/g, "").toUpperCase();
}

/** Whether `code` is a well-formed room code, by the schema's limits. */
export function isRoomCode(schema, code) {
  const { room_code_alphabet: alphabet, room_code_length: length } = schema.limits;
  return code.length === length && [...code].every((ch) => alphabet.includes(ch));
}

// ------------------------------------------------------------------ presenter pages

/**
 * The control view turns and holds the presenter's pages (results, ideas,
 * agenda) in the same browser, over a BroadcastChannel named
 * `channel(code)`.  Control -> presenter: `{type: page, action}` with an
 * action of `actions`, or `{type: query}`.  Presenter -> control, after each
 * change and on a query: `{type: state, page, pages, held}`, `page` counted
 * from 1 (0 when the phase has no pages).
 */
export const PRESENTER_PAGES = Object.freeze({
  channel: (code) => `kleur-presenter-${code}`,
  page: "page",
  actions: Object.freeze(["next", "prev", "hold", "resume"]),
  query: "page-query",
  state: "page-state",
});

// ------------------------------------------------------------------ timer

/** "1:56", as the phone and the big screen both write it ("Nog 1:56"); a started second counts. */
export function formatRemaining(ms) {
  const total = Math.ceil(Math.max(0, ms) / 1000);
  const minutes = Math.floor(total / 60);
  const seconds = total % 60;
  return `${minutes}:${String(seconds).padStart(2, "0")}`;
}
