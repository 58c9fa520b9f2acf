// The facilitator's dashboard (/f/{CODE}): read from the back of a room.
//
// Every `dashboard` message is a full snapshot of the room; render() updates
// the page from it in place (keyed nodes are reused, so focus, selection and
// half-typed form fields survive the 4 snapshots a second).  Participant text
// only ever reaches the page as text nodes, through el() or textContent.

import {
  Connection,
  el,
  loadProtocol,
  loadTranslations,
  normalizeText,
  pageLanguage,
  randomId,
  setLanguage,
} from "./kleur.js";

// The phase rules come from /api/protocol (generated from agenda/phases.py), set
// in main() before anything is drawn: which phase may follow which, and which
// command is allowed in which phase.  The server checks them anyway.
let REVEALED = new Set(); // revealed_phases
let EDIT_PHASES = new Set(); // put_agenda_item: agenda items, groups
let MODERATE_PHASES = new Set(); // hide_note
let VOTING_PHASES = new Set(); // set_dot_voting
// The wall and agenda panels stay up to the close:
const WALL_PHASES = new Set(["brainstorm", "agenda", "closed"]); // a view choice, not a rule
const TIMER_MINUTES = [2, 5, 10];
// Export formats: md and json always; the others only once the server
// answers 200 for them (probed once with HEAD), so no dead button is shown.
const EXPORT_FORMATS = ["pdf", "docx", "md", "csv", "csv-semicolon", "json"];
const EXPORT_ALWAYS = new Set(["md", "json"]);
const COLOUR_CLASSES = 11; // .c-0 ... .c-10 in dashboard.css
const HIGHLIGHT_TOP = 3; // norms marked "much disagreement"
// Consensus (Tastle & Wierman, 0..1) in words.  Below 0.6 the server calls a
// norm contested (CONTESTED_CONSENSUS in agenda/insights.py); a tight bell
// curve scores about 0.8 (docs/analysis.md).
const CONSENSUS_WORDS = [
  [0.8, "high"],
  [0.6, "mid"],
  [0, "low"],
];
// FollowUpStatus in protocol/phases.py (/api/protocol names the type, not its values).
const FOLLOW_UP_STATUSES = ["open", "in_progress", "done", "dropped"];
const GROUP_LETTERS = "ABCDEFGHIJ";
const SEPARATING_SHOWN = 6; // norms in the opinion groups table, most separating first

const $ = (id) => document.getElementById(id);

const app = {
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
};

// ------------------------------------------------------------------ helpers

function tr(key, params) {
  // "{n} stippen" / "1 stip": a key ending in _one is used when n is 1.
  if (params && params.n === 1 && app.t.has && app.t.has(`dashboard.${key}_one`)) {
    return app.t(`dashboard.${key}_one`, params);
  }
  return app.t(`dashboard.${key}`, params);
}

function h(tag, attrs, ...children) {
  // el() with string attributes only; properties and listeners are set here.
  const plain = {};
  const props = {};
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (typeof value === "function" || typeof value === "boolean") props[name] = value;
    else plain[name] = String(value);
  }
  const node = el(tag, plain, ...children.filter((c) => c !== null && c !== undefined && c !== false));
  for (const [name, value] of Object.entries(props)) {
    if (typeof value === "function") node.addEventListener(name.replace(/^on/, ""), value);
    else node[name] = value;
  }
  return node;
}

function button(label, attrs, onClick) {
  const node = h("button", { type: "button", class: "btn", ...attrs }, label);
  node.addEventListener("click", onClick);
  return node;
}

function setText(node, text) {
  const value = String(text);
  if (node.textContent !== value) node.textContent = value;
}

function setAttr(node, name, value) {
  if (value === null || value === undefined) {
    if (node.hasAttribute(name)) node.removeAttribute(name);
  } else if (node.getAttribute(name) !== String(value)) {
    node.setAttribute(name, String(value));
  }
}

/** Make `container`'s children exactly `nodes`, in order, moving as little as possible. */
function place(container, nodes) {
  nodes.forEach((node, index) => {
    if (container.children[index] !== node) container.insertBefore(node, container.children[index] || null);
  });
  while (container.children.length > nodes.length) container.lastElementChild.remove();
}

/** A keyed cache of elements: `get(key, create)` reuses, `sweep()` forgets unused keys. */
function keyed(name) {
  if (!app.keyed[name]) {
    const map = new Map();
    let used = new Set();
    app.keyed[name] = {
      get(key, create) {
        used.add(key);
        if (!map.has(key)) map.set(key, create());
        return map.get(key);
      },
      sweep() {
        for (const key of map.keys()) if (!used.has(key)) map.delete(key);
        used = new Set();
      },
      clear() {
        map.clear();
        used = new Set();
      },
    };
  }
  return app.keyed[name];
}

const cleanText = normalizeText; // NFC, control characters dropped, trimmed

function formatNumber(value) {
  return new Intl.NumberFormat(locale(), { maximumFractionDigits: 1 }).format(value);
}

/** "0,93" (nl) or "0.93" (en): a fixed number of decimals. */
function formatFixed(value, digits) {
  return new Intl.NumberFormat(locale(), { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(value);
}

/** "+1", "-0,5", "0": a change, with its sign (rounded to zero: no sign). */
function formatChange(value, digits = 1) {
  return new Intl.NumberFormat(locale(), {
    minimumFractionDigits: digits > 1 ? digits : 0,
    maximumFractionDigits: digits,
    signDisplay: "exceptZero",
  }).format(value);
}

function isNumber(value) {
  return typeof value === "number" && Number.isFinite(value);
}

/** "high", "mid" or "low". */
function consensusLevel(consensus) {
  return (CONSENSUS_WORDS.find(([from]) => consensus >= from) || CONSENSUS_WORDS[CONSENSUS_WORDS.length - 1])[1];
}

/** "eensgezind 0,93" / "verdeeld 0,41". */
function consensusText(consensus) {
  return tr(`consensus.${consensusLevel(consensus)}`, { value: formatFixed(consensus, 2) });
}

function formatDate(iso) {
  const [y, m, d] = iso.split("-").map(Number);
  if (!y || !m || !d) return iso;
  return new Intl.DateTimeFormat(locale(), { day: "numeric", month: "long", year: "numeric" }).format(
    new Date(Date.UTC(y, m - 1, d)),
  );
}

function normLabel(normId) {
  const norm = app.normById.get(normId);
  return norm ? `${norm.number}. ${norm.title}` : normId;
}

function phaseName(phase) {
  // One name per phase for every page (i18n/{lang}.json), not the dashboard's own.
  return app.t(`phase.${phase}`);
}

// ------------------------------------------------------------------ statistics

function scaleValues() {
  const { min, max } = app.template.scale;
  return Array.from({ length: max - min + 1 }, (_, i) => min + i);
}

/**
 * What the result rows need of one distribution.  The median and the quartiles
 * are the server's (`NormInsight`/`ThemeInsight`, agenda/stats.py `quantile`),
 * so the screen shows the middle range the exports print; only the count and
 * the spread's tie-break (sd) are taken from the counts here.
 */
function stats(counts, insight) {
  const min = app.template.scale.min;
  const n = counts.reduce((a, b) => a + b, 0);
  const server = (key) => (insight && isNumber(insight[key]) ? insight[key] : null);
  if (n === 0) return { n: 0, median: null, q1: null, q3: null, iqr: null, sd: null };
  const mean = counts.reduce((sum, c, i) => sum + c * (min + i), 0) / n;
  const variance = counts.reduce((sum, c, i) => sum + c * (min + i - mean) ** 2, 0) / n;
  const q1 = server("q1");
  const q3 = server("q3");
  return { n, median: server("median"), q1, q3, iqr: q1 === null || q3 === null ? null : q3 - q1, sd: Math.sqrt(variance) };
}

function colourClass(value) {
  const { min, max } = app.template.scale;
  return `c-${Math.round(((value - min) / (max - min)) * (COLOUR_CLASSES - 1))}`;
}

/** Low and high cut-offs for the text alternative: the outer fifth of the scale. */
function cutoffs() {
  const { min, max } = app.template.scale;
  const reach = Math.max(1, Math.round((max - min) * 0.2));
  return { low: min + reach, high: max - reach };
}

// ------------------------------------------------------------------ commands

async function command(type, fields) {
  try {
    let ack = await app.conn.send(type, fields);
    if (ack && ack.duplicate) {
      // The server keeps one seq counter per room for all facilitator
      // connections: another window with this facilitator link has used our
      // next numbers, so the command was taken for a replay and NOT applied.
      // Join again (welcome.max_seq is the current counter) and send it once more.
      await resync();
      ack = await app.conn.send(type, fields);
    }
    return ack;
  } catch (error) {
    showError(error);
    return null;
  }
}

/** Replace the connection by a fresh one (one at a time), once its welcome arrived. */
function resync() {
  if (!app.resyncing) {
    app.resyncing = (async () => {
      const old = app.conn;
      // Let commands in flight on the old connection finish first (at most 2 s).
      for (let i = 0; i < 20 && old.outbox.length; i += 1) await new Promise((r) => setTimeout(r, 100));
      const ready = connect();
      old.close();
      await ready;
    })().finally(() => {
      app.resyncing = null;
    });
  }
  return app.resyncing;
}

function showError(error) {
  const code = (error && error.code) || "unknown";
  let text = tr(`error.${code}`);
  if (text === `dashboard.error.${code}`) text = tr("error.unknown", { code });
  const box = $("error");
  box.replaceChildren(h("p", { class: "dash-error__text" }, text));
  clearTimeout(app.errorTimer);
  app.errorTimer = setTimeout(() => box.replaceChildren(), 12000);
}

function announce(text) {
  const live = $("announcer");
  live.textContent = "";
  // A fresh text node after a tick is announced even when it repeats.
  setTimeout(() => {
    live.textContent = text;
  }, 50);
}

const confirmDialog = {
  ask(message, okLabel) {
    const dialog = $("confirm");
    setText($("confirm-text"), message);
    setText($("confirm-ok"), okLabel);
    setText($("confirm-cancel"), tr("cancel"));
    return new Promise((resolve) => {
      const done = (answer) => {
        $("confirm-ok").removeEventListener("click", ok);
        $("confirm-cancel").removeEventListener("click", cancel);
        dialog.removeEventListener("cancel", cancel);
        if (dialog.open) dialog.close();
        resolve(answer);
      };
      const ok = () => done(true);
      const cancel = () => done(false);
      $("confirm-ok").addEventListener("click", ok);
      $("confirm-cancel").addEventListener("click", cancel);
      dialog.addEventListener("cancel", cancel);
      dialog.showModal();
      $("confirm-cancel").focus();
    });
  },
};

async function goToPhase(target) {
  const current = app.snap && app.snap.phase;
  if (target === "closed") {
    const sure = await confirmDialog.ask(tr("confirm.close"), tr("phase.to.closed"));
    if (!sure) return;
  }
  if (current === "reveal" && target === "rating") {
    const sure = await confirmDialog.ask(tr("confirm.new_round"), tr("phase.to.new_round"));
    if (!sure) return;
  }
  await command("set_phase", { phase: target });
}

// ------------------------------------------------------------------ header

function buildHeader() {
  for (const node of document.querySelectorAll("[data-i18n]")) {
    setText(node, app.t(node.getAttribute("data-i18n")));
  }
  document.title = `${tr("title")} ${app.code}`;
  setText($("room-code"), app.code);
  const stepper = $("stepper");
  stepper.replaceChildren(
    ...app.phases.map((phase, i) =>
      h(
        "li",
        { class: "step", "data-step": phase },
        h("span", { class: "step__n", "aria-hidden": "true" }, String(i + 1)),
        h("span", { class: "step__name" }, phaseName(phase)),
      ),
    ),
  );
  const phaseButtons = $("phase-buttons");
  phaseButtons.replaceChildren(
    ...app.phases.map((phase) => {
      const node = button("", { class: `btn ${phase === "closed" ? "btn--danger" : "btn--primary"}`, "data-testid": `phase-to-${phase}` }, () =>
        goToPhase(phase),
      );
      node.hidden = true;
      return node;
    }),
  );
  const timerButtons = $("timer-buttons");
  timerButtons.replaceChildren(
    ...TIMER_MINUTES.map((minutes) =>
      button(
        tr("timer.minutes", { n: minutes }),
        { class: "btn btn--secondary", "data-testid": `timer-${minutes}`, "aria-label": tr("timer.start", { n: minutes }) },
        () => command("set_timer", { seconds: Math.min(minutes * 60, app.limits.max_timer_seconds) }),
      ),
    ),
    button(tr("timer.stop"), { class: "btn btn--secondary", "data-testid": "timer-stop", id: "timer-stop" }, () =>
      command("set_timer", { seconds: null }),
    ),
  );
  for (const lang of ["nl", "en"]) {
    setAttr($(`lang-${lang}`), "aria-pressed", String(lang === app.lang));
  }
  setText($("show-join"), tr("join.show"));
}

function renderHeader(snap) {
  // The session's name (and region) as given at creation; older rooms have none.
  const session = snap.session;
  const sessionText = session ? [session.name, session.region].filter(Boolean).join(" · ") : "";
  setText($("session-name"), sessionText);
  $("session-name").hidden = !sessionText;
  setText($("participants"), snap.participants);
  setAttr($("participants"), "data-count", snap.participants);
  setText($("participants-label"), tr("participants", { n: snap.participants }));
  const phase = $("phase");
  setText(phase, phaseName(snap.phase));
  setAttr(phase, "data-phase", snap.phase);
  setText($("round"), snap.round > 1 ? tr("round", { n: snap.round }) : "");
  const currentIndex = app.phases.indexOf(snap.phase);
  for (const step of $("stepper").children) {
    const index = app.phases.indexOf(step.getAttribute("data-step"));
    setAttr(step, "aria-current", index === currentIndex ? "step" : null);
    step.classList.toggle("step--done", index < currentIndex);
    step.classList.toggle("step--current", index === currentIndex);
  }
  const allowed = app.transitions[snap.phase] || [];
  for (const node of $("phase-buttons").children) {
    const target = node.getAttribute("data-testid").slice("phase-to-".length);
    node.hidden = !allowed.includes(target);
    const key = snap.phase === "reveal" && target === "rating" ? "new_round" : target;
    const backwards = app.phases.indexOf(target) < currentIndex && key !== "new_round";
    setText(node, tr(backwards ? `phase.back.${target}` : `phase.to.${key}`));
  }
  const open = snap.phase !== "closed";
  $("timer-group").hidden = !open;
  $("timer-buttons").hidden = !open;
  $("timer-stop").hidden = !snap.timer_ends_at;
  const joinToggle = $("show-join");
  joinToggle.hidden = snap.phase === "lobby" || snap.phase === "closed";
  setAttr(joinToggle, "aria-expanded", String(app.showJoin));
  setText(joinToggle, app.showJoin ? tr("join.hide") : tr("join.show"));
  tickTimer();
}

function tickTimer() {
  const node = $("timer");
  const snap = app.snap;
  if (!snap || !snap.timer_ends_at) {
    node.hidden = true;
    app.timerAnnounced = false;
    return;
  }
  const remaining = Math.max(0, snap.timer_ends_at - (Date.now() + app.clockOffset));
  const total = Math.ceil(remaining / 1000);
  const text = `${String(Math.floor(total / 60)).padStart(2, "0")}:${String(total % 60).padStart(2, "0")}`;
  node.hidden = false;
  setText(node, text);
  setAttr(node, "aria-label", tr("timer.remaining", { time: text }));
  node.classList.toggle("dash-timer__time--done", total === 0);
  node.classList.toggle("dash-timer__time--soon", total > 0 && total <= 30);
  if (total === 0 && !app.timerAnnounced) {
    app.timerAnnounced = true;
    announce(tr("timer.done"));
  } else if (total > 0) {
    app.timerAnnounced = false;
  }
}

// ------------------------------------------------------------------ join panel (lobby)

function buildJoin() {
  const joinUrl = `${location.origin}/j/${app.code}`;
  const qr = h("img", {
    class: "join__qr",
    "data-testid": "qr",
    id: "qr",
    alt: tr("join.qr_alt", { code: app.code }),
    width: "480",
    height: "480",
  });
  if (app.qrUrl) qr.src = app.qrUrl;
  const lock = button("", { class: "btn btn--secondary", "data-testid": "lock", id: "lock", "aria-describedby": "lock-help" }, () =>
    command("set_lock", { locked: !app.snap.locked }),
  );
  $("join").replaceChildren(
    h("h2", { id: "join-title", class: "panel__title" }, tr("join.title")),
    h(
      "div",
      { class: "join" },
      h("div", { class: "join__qr-box" }, qr),
      h(
        "div",
        { class: "join__text" },
        h("p", { class: "join__step" }, tr("join.scan")),
        h("p", { class: "join__step" }, tr("join.or_go")),
        h("p", { class: "join__url" }, joinUrl),
        h("p", { class: "join__step" }, tr("join.code")),
        h("p", { class: "join__code" }, app.code),
        h(
          "p",
          { class: "join__count" },
          h("span", { class: "join__count-n", id: "join-count" }, "0"),
          " ",
          h("span", { id: "join-count-label" }, ""),
        ),
        h("div", { id: "org-counts", class: "join__orgs" }),
        h(
          "div",
          { class: "join__lock" },
          h("p", { class: "join__lock-state", id: "lock-state" }),
          lock,
          h("p", { class: "join__help", id: "lock-help" }, tr("join.lock_help")),
        ),
      ),
    ),
  );
}

async function loadQr() {
  if (app.qrUrl || app.qrLoading) return;
  app.qrLoading = true;
  try {
    const response = await fetch(`/api/rooms/${encodeURIComponent(app.code)}/qr.svg`, {
      headers: { Authorization: `Bearer ${app.token}` },
      cache: "no-store",
    });
    if (!response.ok) throw { code: response.status === 401 ? "bad_token" : "qr_failed" };
    app.qrUrl = URL.createObjectURL(await response.blob());
    const img = $("qr");
    if (img) img.src = app.qrUrl;
  } catch (error) {
    showError(error && error.code ? error : { code: "qr_failed" });
  } finally {
    app.qrLoading = false;
  }
}

function renderJoin(snap) {
  const visible = snap.phase === "lobby" || (app.showJoin && snap.phase !== "closed");
  if (!showPanel("join", visible)) return;
  loadQr();
  setText($("join-count"), snap.participants);
  setText($("join-count-label"), tr("join.joined", { n: snap.participants }));
  const orgs = $("org-counts");
  const orgKey = JSON.stringify(snap.org_counts);
  if (orgs.getAttribute("data-key") !== orgKey) {
    orgs.setAttribute("data-key", orgKey);
    orgs.replaceChildren(
      ...(snap.org_counts.length
        ? [
            h("h3", { class: "join__orgs-title" }, tr("join.orgs")),
            h(
              "ul",
              { class: "org-list" },
              ...snap.org_counts.map((org) =>
                h(
                  "li",
                  { class: "org-list__item" },
                  h("span", { class: "org-list__name" }, app.orgLabel.get(org.org_type) || org.org_type),
                  " ",
                  h("span", { class: "org-list__n" }, String(org.count)),
                ),
              ),
            ),
          ]
        : []),
    );
  }
  const lock = $("lock");
  setText(lock, snap.locked ? tr("join.unlock") : tr("join.lock"));
  setAttr(lock, "aria-pressed", String(snap.locked));
  lock.hidden = snap.phase === "closed";
  const state = $("lock-state");
  setText(state, snap.locked ? tr("join.locked") : tr("join.open"));
  state.classList.toggle("join__lock-state--locked", snap.locked);
}

// ------------------------------------------------------------------ rating (blind)

function themesOf(norms) {
  const groups = [];
  for (const norm of norms) {
    const last = groups[groups.length - 1];
    if (last && last.theme.id === norm.theme.id) last.norms.push(norm);
    else groups.push({ theme: norm.theme, norms: [norm] });
  }
  return groups;
}

function buildRating() {
  keyed("rating").clear();
  $("rating").replaceChildren(
    h("h2", { id: "rating-title", class: "panel__title" }, tr("rating.title")),
    h(
      "div",
      { class: "progress" },
      h("p", { class: "progress__text", id: "rating-progress-text" }),
      h(
        "div",
        {
          class: "meter meter--big",
          role: "progressbar",
          id: "rating-progress",
          "aria-valuemin": "0",
          "aria-valuemax": "100",
          "aria-labelledby": "rating-progress-text",
        },
        h("div", { class: "meter__fill", id: "rating-progress-fill" }),
      ),
    ),
    h(
      "div",
      { class: "norm-columns" },
      ...themesOf(app.norms).map(({ theme, norms }) =>
        h(
          "section",
          { class: "theme", "aria-labelledby": `rt-${theme.id}` },
          h("h3", { class: "theme__title", id: `rt-${theme.id}` }, theme.title),
          h(
            "ul",
            { class: "norm-list" },
            ...norms.map((norm) =>
              keyed("rating").get(norm.id, () =>
                h(
                  "li",
                  { class: "norm norm--rating", "data-testid": `norm-${norm.id}` },
                  h("span", { class: "norm__title" }, h("span", { class: "norm__n" }, `${norm.number}.`), " ", norm.title),
                  h("span", { class: "meter meter--small", "aria-hidden": "true" }, h("span", { class: "meter__fill" })),
                  h("span", { class: "norm__received" }),
                ),
              ),
            ),
          ),
        ),
      ),
    ),
  );
}

function renderRating(snap) {
  if (!showPanel("rating", snap.phase === "rating")) return;
  const panel = $("rating");
  setText(panel.querySelector(".panel__title"), snap.round > 1 ? tr("rating.title_round", { n: snap.round }) : tr("rating.title"));
  const expected = Math.max(snap.participants, 1);
  let received = 0;
  const byId = new Map(snap.norms.map((n) => [n.norm_id, n]));
  for (const norm of app.norms) {
    const result = byId.get(norm.id);
    const count = result ? result.received : 0;
    received += Math.min(count, expected);
    const row = keyed("rating").get(norm.id, () => null);
    if (!row) continue;
    setAttr(row, "data-received", count);
    const of = Math.max(snap.participants, count);
    setText(row.querySelector(".norm__received"), tr("rating.received", { n: count, total: of }));
    row.querySelector(".meter__fill").style.width = `${of ? (100 * count) / of : 0}%`;
    row.classList.toggle("norm--complete", of > 0 && count >= of);
  }
  const percent = Math.round((100 * received) / (expected * app.norms.length || 1));
  const bar = $("rating-progress");
  setAttr(bar, "aria-valuenow", percent);
  $("rating-progress-fill").style.width = `${percent}%`;
  setText(
    $("rating-progress-text"),
    tr("rating.progress", { n: received, total: snap.participants * app.norms.length, percent }),
  );
}

// ------------------------------------------------------------------ results (revealed)

function buildResults() {
  keyed("results").clear();
  const { scale } = app.template;
  const legend = h(
    "div",
    { class: "legend", "aria-hidden": "true" },
    h("span", { class: "legend__end" }, `${scale.min} ${scale.min_label}`),
    h("span", { class: "legend__scale" }, ...scaleValues().map((v) => h("span", { class: `legend__swatch ${colourClass(v)}` }, String(v)))),
    h("span", { class: "legend__end" }, `${scale.max} ${scale.max_label}`),
    scale.dont_know ? h("span", { class: "legend__swatch legend__dk" }, tr("results.dont_know")) : null,
  );
  const sortButton = (mode, label, testid) =>
    button(label, { class: "btn btn--toggle", "data-testid": testid, id: testid }, () => {
      app.sortMode = mode;
      renderResults(app.snap, true);
    });
  $("results").replaceChildren(
    h("h2", { id: "results-title", class: "panel__title" }, tr("results.title")),
    h(
      "div",
      { class: "results__bar" },
      h(
        "div",
        { class: "btn-row", role: "group", "aria-labelledby": "sort-label" },
        h("span", { id: "sort-label", class: "results__sort-label" }, tr("results.sort")),
        sortButton("template", tr("results.sort_template"), "sort-template"),
        sortButton("priority", tr("results.sort_priority"), "sort-priority"),
        sortButton("disagreement", tr("results.sort_disagreement"), "sort-disagreement"),
      ),
      legend,
    ),
    h("p", { class: "results__hint", id: "priority-hint", hidden: true }, tr("results.priority_hint")),
    h(
      "section",
      { class: "norms-overview", "aria-labelledby": "norms-title" },
      h("h3", { id: "norms-title", class: "subtitle" }, tr("results.norms")),
      h("div", { class: "norm-columns", id: "result-norms" }),
    ),
    h(
      "div",
      { class: "results__more" },
      h(
        "section",
        // Focusable, so that a keyboard can scroll the table when it is wider than the screen.
        { class: "themes-overview", "aria-labelledby": "themes-title", tabindex: "0" },
        h("h3", { id: "themes-title", class: "subtitle" }, tr("results.themes")),
        h(
          "table",
          { class: "theme-table" },
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              h("th", { scope: "col" }, tr("results.theme")),
              h("th", { scope: "col" }, tr("results.median")),
              h("th", { scope: "col" }, tr("results.consensus")),
              secondQuestion() ? h("th", { scope: "col" }, tr(`results.gap_col_${secondQuestion().kind}`)) : null,
              h("th", { scope: "col" }, tr("results.spread")),
              h("th", { scope: "col" }, tr("results.answers")),
            ),
          ),
          h("tbody", { id: "theme-rows" }),
        ),
      ),
      h(
        "section",
        { class: "opinion-groups", id: "opinion-groups", "data-testid": "opinion-groups", "aria-labelledby": "opinion-groups-title", hidden: true },
        h("h3", { id: "opinion-groups-title", class: "subtitle" }, tr("groups.title")),
        h("div", { id: "opinion-groups-body" }),
      ),
      h(
        "section",
        // Every norm against every kind of organisation in one view (no click per norm).
        { class: "breakdown-matrix", id: "breakdown-matrix", "data-testid": "breakdown-matrix", "aria-labelledby": "matrix-title", hidden: true },
        h("h3", { id: "matrix-title", class: "subtitle" }, tr("matrix.title")),
        h("p", { class: "breakdown-matrix__about" }, tr("matrix.about", { n: app.limits.min_group_size || 3 })),
        h("div", { id: "breakdown-matrix-body" }),
      ),
    ),
  );
}

function resultRow(norm) {
  return keyed("results").get(norm.id, () =>
    h(
      "li",
      { class: "norm norm--result", "data-testid": `norm-${norm.id}` },
      h(
        "p",
        { class: "norm__head" },
        h("span", { class: "norm__title" }, h("span", { class: "norm__n" }, `${norm.number}.`), " ", norm.title),
        h("span", { class: "norm__badges" }, h("span", { class: "badge badge--spread", hidden: true }, tr("results.wide"))),
      ),
      h(
        "div",
        { class: "norm__viz" },
        h("div", { class: "dist", role: "img", "data-testid": `dist-${norm.id}` }),
        h("span", { class: "dk", "aria-hidden": "true" }),
      ),
      h("p", { class: "norm__stats" }),
      h("p", { class: "norm__insight", hidden: true }),
      normExtras(norm),
    ),
  );
}

// ------------------------------------------------------------------ examples and figures of a norm

// The page language as a full locale for numbers and dates.
const LOCALES = { nl: "nl-NL", en: "en-GB" };
// Units written without a space: "12,5%".
const TIGHT_UNITS = new Set(["%", "‰"]);

function locale() {
  return LOCALES[app.lang] || LOCALES.nl;
}

/** An address the template gave, if it is http(s) (the loader checked that already). */
function safeLink(value) {
  if (typeof value !== "string") return null;
  try {
    const url = new URL(value);
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
  } catch {
    return null;
  }
}

/** A link that opens in a new tab and tells nothing to the other site. */
function externalLink(href, ...children) {
  return h(
    "a",
    { class: "norm-extras__link", href, target: "_blank", rel: "noopener noreferrer" },
    ...children,
    h("span", { class: "visually-hidden" }, ` ${tr("extras.new_tab")}`),
  );
}

/** "2025" as is, "2025-10" as "oktober 2025", "2025-10-01" as "1 oktober 2025". */
function figureDate(value) {
  const [y, m, d] = String(value).split("-").map(Number);
  if (!y) return String(value);
  if (!m) return String(y);
  const date = new Date(Date.UTC(y, m - 1, d || 1));
  // An impossible date ("2025-13", "2025-02-30") as written, not moved to another month.
  if (date.getUTCMonth() !== m - 1 || (d && date.getUTCDate() !== d)) return String(value);
  const options = d ? { day: "numeric", month: "long", year: "numeric" } : { month: "long", year: "numeric" };
  return new Intl.DateTimeFormat(locale(), { ...options, timeZone: "UTC" }).format(date);
}

/** "1.234,5 jongeren" (nl) or "1,234.5 jongeren" (en). */
function figureValue(value, unit) {
  const number = new Intl.NumberFormat(locale(), { maximumFractionDigits: 3 }).format(value);
  if (!unit) return number;
  return TIGHT_UNITS.has(unit) ? `${number}${unit}` : `${number}\u00a0${unit}`;
}

/** A translation with nodes in place of some of its {placeholders}. */
function trNodes(key, params) {
  return tr(key)
    .split(/(\{\w+\})/)
    .filter((part) => part !== "")
    .map((part) => {
      const match = /^\{(\w+)\}$/.exec(part);
      return match && match[1] in params ? params[match[1]] : part;
    });
}

/**
 * The template's regional figures and good-practice examples for one norm,
 * shown with its results; null (nothing at all) for a norm without them.  A
 * figure is only ever shown with its source and date.
 */
function normExtras(norm) {
  const figures = norm.figures.filter(
    (f) => f && isNumber(f.value) && typeof f.label === "string" && f.label && typeof f.source === "string" && f.source && typeof f.date === "string" && f.date,
  );
  const examples = norm.examples.filter((e) => e && typeof e.text === "string" && e.text);
  if (!figures.length && !examples.length) return null;
  const about = h("span", { class: "visually-hidden" }, ` – ${tr("results.aria.norm", { n: norm.number, title: norm.title })}`);
  const part = (kind, title, list) =>
    h(
      "div",
      { class: `norm-extras__part norm-extras__part--${kind}` },
      h("h5", { class: "norm-extras__title", id: `extras-${kind}-${norm.id}` }, title, about.cloneNode(true)),
      list,
    );
  return h(
    "div",
    { class: "norm-extras", "data-testid": `extras-${norm.id}` },
    figures.length
      ? part(
          "figures",
          tr("extras.figures"),
          h(
            "ul",
            { class: "norm-extras__list", "aria-labelledby": `extras-figures-${norm.id}` },
            ...figures.map((figure) => {
              const link = safeLink(figure.link);
              const source = link ? externalLink(link, figure.source) : figure.source;
              return h(
                "li",
                { class: "norm-extras__figure" },
                h("span", { class: "norm-extras__label" }, `${figure.label}: `),
                h("strong", { class: "norm-extras__value" }, figureValue(figure.value, figure.unit || "")),
                " ",
                h("span", { class: "norm-extras__source" }, ...trNodes("extras.source", { source, date: figureDate(figure.date) })),
              );
            }),
          ),
        )
      : null,
    examples.length
      ? part(
          "examples",
          tr("extras.examples"),
          h(
            "ul",
            { class: "norm-extras__list", "aria-labelledby": `extras-examples-${norm.id}` },
            ...examples.map((example) => {
              const link = safeLink(example.link);
              return h(
                "li",
                { class: "norm-extras__example" },
                example.text,
                link ? " " : null,
                link ? externalLink(link, new URL(link).host.replace(/^www\./, "")) : null,
              );
            }),
          ),
        )
      : null,
  );
}

/**
 * Keep the headings of the extras one level below the list they are in:
 * h5 under a theme's h4, h4 in the one-list orders (under the h3).
 */
function extrasHeadingLevel(row, level) {
  for (const title of row.querySelectorAll(".norm-extras__title")) {
    if (title.tagName === `H${level}`) continue;
    const again = h(`h${level}`, { class: title.className, id: title.id }, ...title.childNodes);
    title.replaceWith(again);
  }
}

function renderDistribution(row, norm, result, insight) {
  const counts = result.counts || [];
  const s = stats(counts, insight);
  const dist = row.querySelector(".dist");
  const key = JSON.stringify([counts, result.dont_know, app.lang]);
  if (dist.getAttribute("data-key") !== key) {
    dist.setAttribute("data-key", key);
    const values = scaleValues();
    const segments = [];
    counts.forEach((count, i) => {
      if (!count) return;
      const share = (100 * count) / s.n;
      const segment = h(
        "span",
        { class: `dist__seg ${colourClass(values[i])}${share < 5 ? " dist__seg--narrow" : ""}`, "aria-hidden": "true" },
        String(values[i]),
      );
      segment.style.width = `${share}%`;
      segments.push(segment);
    });
    if (!segments.length) segments.push(h("span", { class: "dist__empty" }, tr("results.no_answers")));
    dist.replaceChildren(...segments);
    // The text alternative of the bar.
    const { low, high } = cutoffs();
    const lowCount = counts.reduce((sum, c, i) => (values[i] <= low ? sum + c : sum), 0);
    const highCount = counts.reduce((sum, c, i) => (values[i] >= high ? sum + c : sum), 0);
    const parts = [tr("results.aria.norm", { n: norm.number, title: norm.title })];
    parts.push(
      result.median === null || result.median === undefined
        ? tr("results.aria.no_median")
        : tr("results.aria.median", { median: formatNumber(result.median) }),
    );
    parts.push(tr("results.aria.low", { n: lowCount, value: low }));
    parts.push(tr("results.aria.high", { n: highCount, value: high }));
    if (result.dont_know) parts.push(tr("results.aria.dont_know", { n: result.dont_know }));
    dist.setAttribute("aria-label", parts.join(", "));
  }
  // "Don't know" apart, in a slot of its own (kept empty so the bars line up).
  const dk = row.querySelector(".dk");
  dk.hidden = !app.template.scale.dont_know;
  dk.classList.toggle("dk--none", !result.dont_know);
  setText(dk, result.dont_know ? tr("results.dont_know_n", { n: result.dont_know }) : "");
  // The middle range is the server's (agenda/stats.py), never computed here.
  const statsText =
    s.n === 0
      ? tr("results.no_answers")
      : [
          tr("results.median_is", { median: formatNumber(result.median ?? s.median) }),
          s.q1 === null ? null : tr("results.iqr_is", { q1: formatNumber(s.q1), q3: formatNumber(s.q3) }),
          tr("results.n_is", { n: s.n }),
        ]
          .filter(Boolean)
          .join(" · ");
  setText(row.querySelector(".norm__stats"), statsText);
  if (result.median === null || result.median === undefined) setAttr(row, "data-median", null);
  else setAttr(row, "data-median", result.median);
  setAttr(row, "data-received", result.received);
  return s;
}

/**
 * The child of `parent` matching `selector`, made by `create()` while `wanted`
 * (before the child matching `before`, else last) and removed otherwise: a
 * data-testid is then either there and visible, or not in the page at all.
 */
function optionalChild(parent, selector, wanted, create, before) {
  let node = parent.querySelector(`:scope > ${selector}`);
  if (!wanted) {
    if (node) node.remove();
    return null;
  }
  if (!node) {
    node = create();
    const anchor = before ? parent.querySelector(`:scope > ${before}`) : null;
    parent.insertBefore(node, anchor);
  }
  return node;
}

/** Consensus, the median band, the shift since the last round and the breakdown of one norm. */
function renderInsight(row, norm, insight, snap, breakdown) {
  setAttr(row, "data-rank", insight ? insight.rank : null);
  setAttr(row, "data-contested", insight ? String(insight.contested) : null);
  const rated = Boolean(insight && insight.n > 0);

  // "Verdeeld" (or "twee kampen" when the table splits in two), replacing "veel verschil".
  const contested = Boolean(insight && insight.contested);
  const badges = row.querySelector(".norm__badges");
  const badge = optionalChild(badges, ".badge--contested", contested, () =>
    h("span", { class: "badge badge--contested", "data-testid": `contested-${norm.id}` }),
  );
  if (badge) {
    setText(badge, insight.split ? tr("results.split") : tr("results.contested"));
    badge.classList.toggle("badge--split", insight.split);
  }

  // "eensgezind 0,93 · mediaan met 95% zekerheid tussen 6 en 8"
  const line = row.querySelector(".norm__insight");
  const parts = [];
  // One rating agrees with itself (consensus 1): that says nothing.
  if (rated && insight.n >= 2 && isNumber(insight.consensus)) parts.push(consensusText(insight.consensus));
  if (rated && isNumber(insight.median_low) && isNumber(insight.median_high)) {
    const { min, max } = app.template.scale;
    // Up to 5 ratings the band is the whole scale (docs/analysis.md): say so plainly.
    const whole = insight.median_low <= min && insight.median_high >= max;
    const band = { low: formatNumber(insight.median_low), high: formatNumber(insight.median_high) };
    parts.push(tr(whole ? "results.band_whole" : "results.band", band));
  }
  line.hidden = !parts.length;
  setText(line, parts.join(" · "));
  line.classList.toggle("norm__insight--low", rated && isNumber(insight.consensus) && consensusLevel(insight.consensus) === "low");

  // "mediaan +1 sinds ronde 1, eensgezindheid +0,45" (round 2 and later).
  const hasShift = Boolean(snap.round > 1 && insight && isNumber(insight.median_delta));
  const shift = optionalChild(
    row,
    ".norm__shift",
    hasShift,
    () => h("p", { class: "norm__shift", "data-testid": `shift-${norm.id}` }),
    ".breakdown",
  );
  if (shift) {
    const params = { median: formatChange(insight.median_delta, 1), round: snap.round - 1 };
    const text = isNumber(insight.consensus_delta)
      ? tr("results.shift", { ...params, consensus: formatChange(insight.consensus_delta, 2) })
      : tr("results.shift_median", params);
    setText(shift, text);
    shift.classList.toggle("norm__shift--up", insight.median_delta > 0);
    shift.classList.toggle("norm__shift--down", insight.median_delta < 0);
  }

  // "belang: mediaan 4,5, verschil met score +2,5" (templates with a second question).
  const asked = secondQuestion();
  const hasGap = Boolean(asked && insight && isNumber(insight.second_median));
  const gap = optionalChild(
    row,
    ".norm__gap",
    hasGap,
    () => h("p", { class: "norm__gap", "data-testid": `gap-${norm.id}` }),
    ".breakdown",
  );
  if (gap) {
    setText(
      gap,
      tr(`results.gap_${asked.kind}`, {
        second: formatNumber(insight.second_median),
        gap: isNumber(insight.gap) ? formatChange(insight.gap, 1) : "–",
      }),
    );
  }

  // Per organisation type: only what the server allows to be shown.
  const details = optionalChild(row, ".breakdown", rated, () =>
    h(
      "details",
      { class: "breakdown", "data-testid": `breakdown-${norm.id}` },
      h(
        "summary",
        { class: "breakdown__toggle" },
        tr("breakdown.toggle"),
        h("span", { class: "visually-hidden" }, ` – ${tr("results.aria.norm", { n: norm.number, title: norm.title })}`),
      ),
      h("ul", { class: "breakdown__list" }),
      h("p", { class: "breakdown__note" }),
    ),
  );
  if (details) {
    const entries = breakdown.get(norm.id) || [];
    const key = JSON.stringify([entries, app.lang]);
    const list = details.querySelector(".breakdown__list");
    if (list.getAttribute("data-key") !== key) {
      list.setAttribute("data-key", key);
      list.replaceChildren(
        ...(entries.length
          ? entries.map((entry) =>
              h(
                "li",
                { class: "breakdown__item", "data-org": entry.org_type },
                h("span", { class: "breakdown__org" }, app.orgLabel.get(entry.org_type) || entry.org_type),
                " ",
                isNumber(entry.median)
                  ? h("span", { class: `median-chip median-chip--small ${colourClass(Math.round(entry.median))}` }, formatNumber(entry.median))
                  : h("span", { class: "median-chip median-chip--small" }, "–"),
                " ",
                h("span", { class: "breakdown__n" }, tr("breakdown.n", { n: entry.n })),
              ),
            )
          : [h("li", { class: "breakdown__none" }, tr("breakdown.none"))]),
      );
      setText(details.querySelector(".breakdown__note"), tr("breakdown.note", { n: app.limits.min_group_size || 3 }));
    }
  }
}

function renderResults(snap, resorted = false) {
  const visible = REVEALED.has(snap.phase) && snap.norms.every((n) => n.counts);
  if (!showPanel("results", visible)) return;
  const analysis = snap.analysis || null;
  const insightById = new Map(analysis ? analysis.norms.map((n) => [n.norm_id, n]) : []);
  const breakdown = new Map();
  for (const entry of analysis ? analysis.breakdown : []) {
    if (!breakdown.has(entry.norm_id)) breakdown.set(entry.norm_id, []);
    breakdown.get(entry.norm_id).push(entry);
  }
  // "Eerst bespreken" needs the analysis; without it the template order is shown.
  const sortMode = app.sortMode === "priority" && !analysis ? "template" : app.sortMode;
  $("sort-priority").hidden = !analysis;
  $("priority-hint").hidden = sortMode !== "priority";
  for (const mode of ["template", "priority", "disagreement"]) setAttr($(`sort-${mode}`), "aria-pressed", String(sortMode === mode));
  const byId = new Map(snap.norms.map((n) => [n.norm_id, n]));
  const statsById = new Map();
  for (const norm of app.norms) {
    const result = byId.get(norm.id);
    if (!result) continue;
    statsById.set(norm.id, renderDistribution(resultRow(norm), norm, result, insightById.get(norm.id)));
  }
  // The widest spreads: the top few by IQR (ties included), if any spread at all.
  const spreads = [...statsById.values()].filter((s) => s.n >= 2 && s.iqr > 0).map((s) => s.iqr);
  spreads.sort((a, b) => b - a);
  const threshold = spreads.length ? spreads[Math.min(HIGHLIGHT_TOP, spreads.length) - 1] : Infinity;
  for (const norm of app.norms) {
    const s = statsById.get(norm.id);
    const row = resultRow(norm);
    const insight = insightById.get(norm.id);
    // With the analysis, its "contested" (split, or low consensus) replaces the
    // relative "widest spreads": a 6-against-7 table is not "much disagreement".
    const wide = analysis ? Boolean(insight && insight.contested) : Boolean(s && s.n >= 2 && s.iqr > 0 && s.iqr >= threshold);
    row.classList.toggle("norm--wide", wide);
    row.querySelector(".badge--spread").hidden = Boolean(analysis) || !wide;
    renderInsight(row, norm, insight, snap, breakdown);
    // The examples and figures stay after the numbers (a shift line is added later), before the breakdown.
    const extras = row.querySelector(":scope > .norm-extras");
    const anchor = row.querySelector(":scope > .breakdown");
    if (extras && extras.nextElementSibling !== anchor) row.insertBefore(extras, anchor);
  }
  // Order: template order grouped by theme, or one list (where to talk first, or by disagreement).
  const container = $("result-norms");
  const mode = `${sortMode}`;
  if (sortMode === "disagreement" || sortMode === "priority") {
    const order = app.norms.filter((n) => statsById.has(n.id));
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
    let list = container.querySelector(":scope > ol.norm-list--flat");
    if (!list || container.getAttribute("data-mode") !== mode) {
      // An ordered list: its order is the point.
      list = h("ol", { class: "norm-list norm-list--flat" });
      container.replaceChildren(list);
    }
    place(list, order.map(resultRow));
  } else if (container.getAttribute("data-mode") !== mode || resorted || !container.children.length) {
    container.replaceChildren(
      ...themesOf(app.norms).map(({ theme, norms }) =>
        h(
          "section",
          { class: "theme", "aria-labelledby": `th-${theme.id}` },
          h("h4", { class: "theme__title", id: `th-${theme.id}` }, theme.title),
          h("ul", { class: "norm-list" }, ...norms.map(resultRow)),
        ),
      ),
    );
  }
  container.setAttribute("data-mode", mode);
  const level = sortMode === "template" ? 5 : 4;
  for (const norm of app.norms) {
    if (norm.figures.length || norm.examples.length) extrasHeadingLevel(resultRow(norm), level);
  }
  renderThemes(byId, statsById, analysis);
  renderOpinionGroups(analysis);
  renderBreakdownMatrix(analysis);
}

function renderThemes(byId, statsById, analysis) {
  const insightById = new Map(analysis ? analysis.themes.map((t) => [t.theme_id, t]) : []);
  const rows = themesOf(app.norms).map(({ theme, norms }) => {
    let answers = 0;
    let widest = null;
    for (const norm of norms) {
      const result = byId.get(norm.id);
      if (!result || !result.counts) continue;
      answers += result.received;
      const s = statsById.get(norm.id);
      if (s && s.n >= 2 && isNumber(s.iqr) && (!widest || s.iqr > widest.s.iqr)) widest = { norm, s };
    }
    const insight = insightById.get(theme.id);
    const median = insight ? insight.median : null;
    const medianCell = !isNumber(median)
      ? h("td", {}, "–")
      : h("td", {}, h("span", { class: `median-chip ${colourClass(Math.round(median))}` }, formatNumber(median)));
    const consensusCell =
      insight && isNumber(insight.consensus) && insight.n >= 2
        ? h("td", { class: `theme-table__consensus theme-table__consensus--${consensusLevel(insight.consensus)}` }, consensusText(insight.consensus))
        : h("td", {}, "–");
    return h(
      "tr",
      { "data-theme": theme.id },
      h("th", { scope: "row" }, theme.title),
      medianCell,
      consensusCell,
      secondQuestion()
        ? h("td", { "data-testid": `theme-gap-${theme.id}` }, insight && isNumber(insight.gap) ? formatChange(insight.gap, 1) : "–")
        : null,
      h("td", {}, widest && widest.s.iqr > 0 ? tr("results.theme_widest", { n: widest.norm.number, title: widest.norm.title, iqr: formatNumber(widest.s.iqr) }) : "–"),
      h("td", {}, String(answers)),
    );
  });
  const tbody = $("theme-rows");
  const key = JSON.stringify(rows.map((r) => [r.textContent, r.querySelector(".median-chip")?.className]));
  if (tbody.getAttribute("data-key") !== key) {
    tbody.setAttribute("data-key", key);
    tbody.replaceChildren(...rows);
  }
}

/** Opinion groups: sizes and, on the norms that tell them apart, their medians.  Never who. */
/** Norms × kinds of organisation: each shown group's median; a dash where a group is too small. */
function renderBreakdownMatrix(analysis) {
  const section = $("breakdown-matrix");
  const entries = analysis ? analysis.breakdown : [];
  section.hidden = !entries.length;
  if (!entries.length) return;
  const body = $("breakdown-matrix-body");
  const key = JSON.stringify([entries, app.lang]);
  if (body.getAttribute("data-key") === key) return;
  body.setAttribute("data-key", key);
  const shownOrgs = new Set(entries.map((entry) => entry.org_type));
  const orgs = app.template.org_types.filter((org) => shownOrgs.has(org.id));
  const cell = new Map(entries.map((entry) => [`${entry.norm_id}|${entry.org_type}`, entry]));
  body.replaceChildren(
    h(
      "div",
      { class: "breakdown-matrix__box", tabindex: "0", role: "region", "aria-labelledby": "matrix-title" },
      h(
        "table",
        { class: "theme-table breakdown-matrix__table" },
        h(
          "thead",
          {},
          h("tr", {}, h("th", { scope: "col" }, tr("groups.norm")), ...orgs.map((org) => h("th", { scope: "col" }, org.label))),
        ),
        h(
          "tbody",
          {},
          ...app.norms.map((norm) =>
            h(
              "tr",
              { "data-norm": norm.id },
              h("th", { scope: "row" }, normLabel(norm.id)),
              ...orgs.map((org) => {
                const entry = cell.get(`${norm.id}|${org.id}`);
                if (!entry || !isNumber(entry.median)) {
                  return h("td", { class: "breakdown-matrix__none", "aria-label": tr("matrix.none") }, "–");
                }
                return h(
                  "td",
                  { "data-org": org.id },
                  h("span", { class: `median-chip ${colourClass(Math.round(entry.median))}` }, formatNumber(entry.median)),
                  " ",
                  h("span", { class: "breakdown-matrix__n" }, tr("matrix.n", { n: entry.n })),
                );
              }),
            ),
          ),
        ),
      ),
    ),
  );
}

function renderOpinionGroups(analysis) {
  const section = $("opinion-groups");
  section.hidden = !analysis;
  if (!analysis) return;
  const key = JSON.stringify([analysis.groups_outcome, analysis.groups, analysis.separating_norms, app.lang]);
  const body = $("opinion-groups-body");
  if (body.getAttribute("data-key") === key) return;
  body.setAttribute("data-key", key);
  section.setAttribute("data-outcome", analysis.groups_outcome);
  if (analysis.groups_outcome !== "groups" || analysis.groups.length < 2) {
    const reason = analysis.groups_outcome === "too_few_participants" ? "groups.too_few" : "groups.none";
    body.replaceChildren(h("p", { class: "opinion-groups__calm" }, tr(reason)), h("p", { class: "opinion-groups__about" }, tr("groups.about")));
    return;
  }
  const index = new Map(app.norms.map((norm, i) => [norm.id, i]));
  const name = (i) => tr("groups.name", { letter: GROUP_LETTERS[i] || String(i + 1) });
  const separating = analysis.separating_norms.filter((id) => index.has(id));
  const shown = separating.slice(0, SEPARATING_SHOWN);
  const cell = (value) =>
    isNumber(value)
      ? h("td", {}, h("span", { class: `median-chip ${colourClass(Math.round(value))}` }, formatNumber(value)))
      : h("td", { class: "opinion-groups__none" }, tr("groups.no_median"));
  body.replaceChildren(
    h("p", { class: "opinion-groups__about" }, tr("groups.about")),
    h(
      "ul",
      { class: "opinion-groups__list" },
      ...analysis.groups.map((group, i) =>
        h(
          "li",
          { class: "opinion-group", "data-size": group.size },
          h("span", { class: "opinion-group__name" }, name(i)),
          " ",
          h("span", { class: "opinion-group__size" }, tr("groups.size", { n: group.size })),
        ),
      ),
    ),
    shown.length
      ? h(
          "div",
          { class: "opinion-groups__table-box", tabindex: "0", role: "region", "aria-labelledby": "opinion-groups-caption" },
          h(
            "table",
            { class: "theme-table opinion-groups__table" },
            h("caption", { id: "opinion-groups-caption", class: "opinion-groups__caption" }, tr("groups.separating")),
            h(
              "thead",
              {},
              h("tr", {}, h("th", { scope: "col" }, tr("groups.norm")), ...analysis.groups.map((_, i) => h("th", { scope: "col" }, name(i)))),
            ),
            h(
              "tbody",
              {},
              ...shown.map((normId) =>
                h(
                  "tr",
                  { "data-norm": normId },
                  h("th", { scope: "row" }, normLabel(normId)),
                  ...analysis.groups.map((group) => cell(group.medians[index.get(normId)])),
                ),
              ),
            ),
          ),
        )
      : h("p", { class: "opinion-groups__calm" }, tr("groups.no_separating")),
    // replaceChildren() is the DOM's own: it would print a null child as "null".
    ...(separating.length > shown.length
      ? [h("p", { class: "opinion-groups__more" }, tr("groups.more", { n: separating.length - shown.length }))]
      : []),
  );
}

// ------------------------------------------------------------------ brainstorm wall

function buildWall() {
  keyed("notes").clear();
  keyed("groups").clear();
  const limits = app.limits;
  const maxDots = limits.max_dots_per_participant;
  const dots = h("input", {
    type: "number",
    id: "voting-dots",
    "data-testid": "voting-dots",
    min: "1",
    max: String(maxDots),
    inputmode: "numeric",
    class: "input input--num",
  });
  const maxPer = h("input", {
    type: "number",
    id: "voting-max",
    "data-testid": "voting-max",
    min: "1",
    max: String(maxDots),
    inputmode: "numeric",
    class: "input input--num",
  });
  const groupTitle = h("input", {
    type: "text",
    id: "group-title",
    "data-testid": "group-title",
    class: "input",
    maxlength: String(limits.max_group_title_chars),
    autocomplete: "off",
  });
  const merge = button(tr("wall.merge"), { class: "btn btn--primary", "data-testid": "group-merge", id: "group-merge" }, mergeSelected);
  groupTitle.addEventListener("keydown", (event) => {
    if (event.key === "Enter") mergeSelected();
  });
  $("wall").replaceChildren(
    h(
      "div",
      { class: "panel__head" },
      h("h2", { id: "wall-title", class: "panel__title" }, tr("wall.title")),
      h("p", { class: "panel__count", id: "wall-count" }),
    ),
    h(
      "div",
      { class: "wall-tools" },
      h(
        "section",
        { class: "tool", id: "voting-tool", "aria-labelledby": "voting-title" },
        h("h3", { class: "tool__title", id: "voting-title" }, tr("voting.title")),
        h("p", { class: "tool__status", id: "voting-status" }),
        h("p", { class: "tool__status tool__status--big", id: "dots-cast-box" }, h("span", { "data-testid": "dots-cast", id: "dots-cast" })),
        h(
          "div",
          { class: "tool__fields", id: "voting-fields" },
          h("label", { class: "field field--inline", for: "voting-dots" }, h("span", { class: "field__label" }, tr("voting.dots")), dots),
          h("label", { class: "field field--inline", for: "voting-max" }, h("span", { class: "field__label" }, tr("voting.max")), maxPer),
        ),
        h(
          "div",
          { class: "btn-row" },
          button(tr("voting.open"), { class: "btn btn--primary", "data-testid": "voting-open", id: "voting-open" }, () => setVoting("open")),
          button(tr("voting.show"), { class: "btn btn--primary", "data-testid": "voting-show", id: "voting-show" }, () => setVoting("shown")),
          button(tr("voting.close"), { class: "btn btn--secondary", "data-testid": "voting-close", id: "voting-close" }, () => setVoting("closed")),
        ),
      ),
      h(
        "section",
        { class: "tool", id: "group-tool", "aria-labelledby": "group-tool-title" },
        h("h3", { class: "tool__title", id: "group-tool-title" }, tr("wall.group_title")),
        h("p", { class: "tool__status", id: "selected-count", "aria-live": "polite" }),
        h(
          "label",
          { class: "field field--inline tool__grow", for: "group-title" },
          h("span", { class: "field__label" }, tr("wall.group_name")),
          groupTitle,
        ),
        h("div", { class: "btn-row" }, merge, button(tr("wall.clear_selection"), { class: "btn btn--secondary", id: "clear-selection", "data-testid": "clear-selection" }, clearSelection)),
      ),
    ),
    h(
      "section",
      { class: "tool suggestions", id: "suggest-tool", "aria-labelledby": "suggest-title", hidden: true },
      h("h3", { class: "tool__title", id: "suggest-title" }, tr("wall.suggestions")),
      h("p", { class: "tool__status" }, tr("wall.suggestions_help")),
      h("ul", { class: "suggestions__list", id: "suggestions", "data-testid": "suggestions" }),
    ),
    h("div", { class: "groups", id: "groups" }),
    h(
      "section",
      { class: "loose", "aria-labelledby": "loose-title", id: "loose" },
      h("h3", { class: "subtitle", id: "loose-title" }, tr("wall.loose")),
      h("ul", { class: "notes", id: "loose-notes" }),
      h("p", { class: "empty", id: "wall-empty" }, tr("wall.empty")),
    ),
  );
  dots.addEventListener("input", () => {
    maxPer.max = dots.value || String(maxDots);
  });
  app.voteInputsApplied = "";
}

function readVotingInputs() {
  const maxDots = app.limits.max_dots_per_participant;
  const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, Math.round(Number(v) || lo)));
  const dots = clamp($("voting-dots").value, 1, maxDots);
  const maxPer = clamp($("voting-max").value, 1, dots);
  return { dots_per_participant: dots, max_per_note: maxPer };
}

async function setVoting(state) {
  await command("set_dot_voting", { state, ...readVotingInputs() });
}

function clearSelection() {
  app.selected.clear();
  renderWall(app.snap);
}

async function mergeSelected() {
  const snap = app.snap;
  const title = cleanText($("group-title").value);
  const noteIds = [...app.selected].filter((id) => snap.notes.some((n) => n.note_id === id));
  if (!noteIds.length) {
    showError({ code: "select_notes" });
    return;
  }
  if (!title) {
    showError({ code: "group_title" });
    $("group-title").focus();
    return;
  }
  // A note belongs to one group: take the chosen ones out of their old groups.
  for (const group of snap.groups) {
    const rest = group.note_ids.filter((id) => !noteIds.includes(id));
    if (rest.length === group.note_ids.length) continue;
    if (rest.length) await command("put_note_group", { group_id: group.group_id, title: group.title, note_ids: rest });
    else await command("remove_note_group", { group_id: group.group_id });
  }
  const ack = await command("put_note_group", { group_id: randomId(), title, note_ids: noteIds });
  if (ack) {
    $("group-title").value = "";
    app.selected.clear();
    announce(tr("wall.merged", { title, n: noteIds.length }));
    renderWall(app.snap);
  }
}

async function addSelectedTo(group) {
  const snap = app.snap;
  const adding = [...app.selected].filter((id) => snap.notes.some((n) => n.note_id === id) && !group.note_ids.includes(id));
  if (!adding.length) {
    showError({ code: "select_notes" });
    return;
  }
  for (const other of snap.groups) {
    if (other.group_id === group.group_id) continue;
    const rest = other.note_ids.filter((id) => !adding.includes(id));
    if (rest.length === other.note_ids.length) continue;
    if (rest.length) await command("put_note_group", { group_id: other.group_id, title: other.title, note_ids: rest });
    else await command("remove_note_group", { group_id: other.group_id });
  }
  const ack = await command("put_note_group", {
    group_id: group.group_id,
    title: group.title,
    note_ids: [...group.note_ids, ...adding],
  });
  if (ack) {
    app.selected.clear();
    renderWall(app.snap);
  }
}

function noteCard(note) {
  return keyed("notes").get(note.note_id, () => {
    const id = note.note_id;
    const select = h("input", {
      type: "checkbox",
      class: "note__check",
      id: `select-${id}`,
      "data-testid": `select-${id}`,
      "aria-describedby": `nt-${id}`,
    });
    select.addEventListener("change", () => {
      if (select.checked) app.selected.add(id);
      else app.selected.delete(id);
      renderSelection();
    });
    const card = h(
      "li",
      { class: "note", "data-testid": `note-${id}`, "data-note": id },
      h(
        "div",
        { class: "note__top" },
        h("label", { class: "note__select", for: `select-${id}` }, select, h("span", { class: "note__select-text" }, tr("wall.select"))),
        h("span", { class: "note__votes", "data-testid": `votes-${id}`, hidden: true }),
      ),
      h("p", { class: "note__text", id: `nt-${id}` }),
      h("p", { class: "note__norm" }),
      h(
        "div",
        { class: "btn-row note__actions" },
        button("", { class: "btn btn--small btn--secondary", "data-testid": `hide-${id}`, "aria-describedby": `nt-${id}` }, () => {
          const current = app.snap.notes.find((n) => n.note_id === id);
          if (current) command("hide_note", { note_id: id, hidden: !current.hidden });
        }),
        button(tr("wall.promote"), { class: "btn btn--small btn--primary", "data-testid": `promote-${id}`, "aria-describedby": `nt-${id}` }, () =>
          promote(id),
        ),
      ),
    );
    return card;
  });
}

function renderNote(card, note, votes, phase) {
  const textNode = card.querySelector(".note__text");
  const shownText = note.hidden ? tr("wall.hidden_note") : note.text;
  setText(textNode, shownText); // textContent: participant text stays text
  textNode.classList.toggle("note__text--hidden", note.hidden);
  card.classList.toggle("note--hidden", note.hidden);
  const normText = note.norm_id ? tr("wall.norm", { norm: normLabel(note.norm_id) }) : "";
  const normNode = card.querySelector(".note__norm");
  setText(normNode, normText);
  normNode.hidden = !normText;
  const hide = card.querySelector(`[data-testid="hide-${note.note_id}"]`);
  setText(hide, note.hidden ? tr("wall.show_note") : tr("wall.hide_note"));
  setAttr(hide, "aria-pressed", String(note.hidden));
  const moderate = MODERATE_PHASES.has(phase);
  hide.hidden = !moderate;
  const promoteBtn = card.querySelector(`[data-testid="promote-${note.note_id}"]`);
  promoteBtn.hidden = !EDIT_PHASES.has(phase) || note.hidden;
  card.querySelector(".note__select").hidden = !EDIT_PHASES.has(phase);
  const select = card.querySelector(".note__check");
  select.checked = app.selected.has(note.note_id);
  card.classList.toggle("note--selected", select.checked);
  const votesNode = card.querySelector(".note__votes");
  votesNode.hidden = votes === null;
  if (votes !== null) {
    setText(votesNode, tr("voting.note_dots", { n: votes }));
    setAttr(votesNode, "data-count", votes);
  }
}

function renderSelection() {
  const n = app.selected.size;
  setText($("selected-count"), tr("wall.selected", { n }));
  for (const card of $("wall").querySelectorAll(".note")) {
    const id = card.getAttribute("data-note");
    card.classList.toggle("note--selected", app.selected.has(id));
  }
}

/** Groups of similar notes the server suggests: one click merges them. */
function renderSuggestions(snap, editable) {
  const suggestions = editable ? snap.suggestions || [] : [];
  $("suggest-tool").hidden = suggestions.length === 0;
  const notesById = new Map(snap.notes.map((n) => [n.note_id, n]));
  $("suggestions").replaceChildren(
    ...suggestions.map((suggestion) =>
      h(
        "li",
        { class: "suggestion" },
        h("p", { class: "suggestion__title" }, tr("wall.suggestion", { title: suggestion.title, n: suggestion.note_ids.length })),
        h(
          "ul",
          { class: "suggestion__notes" },
          ...suggestion.note_ids.map((id) => h("li", { class: "suggestion__note" }, (notesById.get(id) || { text: "" }).text)),
        ),
        button(
          tr("wall.suggestion_merge"),
          { class: "btn btn--secondary", "data-testid": `suggest-merge-${suggestion.group_id}` },
          async () => {
            const ack = await command("put_note_group", {
              group_id: randomId(),
              title: suggestion.title,
              note_ids: suggestion.note_ids,
            });
            if (ack) announce(tr("wall.merged", { title: suggestion.title, n: suggestion.note_ids.length }));
          },
        ),
      ),
    ),
  );
}

/** The inline form that renames a note group (hidden until "Naam wijzigen"). */
function renameForm(groupId) {
  const inputId = `rename-input-${groupId}`;
  const input = h("input", {
    type: "text",
    id: inputId,
    class: "input",
    "data-testid": `rename-input-${groupId}`,
    maxlength: String(app.limits.max_group_title_chars),
  });
  const cancel = button(tr("cancel"), { class: "btn btn--small btn--secondary" }, () => closeRename(groupId));
  return h(
    "form",
    {
      class: "group__rename",
      id: `rename-${groupId}`,
      hidden: true,
      novalidate: true,
      onsubmit: (event) => {
        event.preventDefault();
        saveRename(groupId);
      },
    },
    h("label", { for: inputId }, tr("wall.rename_label")),
    input,
    h(
      "div",
      { class: "btn-row" },
      h("button", { type: "submit", class: "btn btn--small btn--primary", "data-testid": `rename-save-${groupId}` }, tr("wall.rename_save")),
      cancel,
    ),
  );
}

function openRename(groupId) {
  const group = app.snap.groups.find((g) => g.group_id === groupId);
  const form = $(`rename-${groupId}`);
  if (!group || !form) return;
  form.hidden = false;
  const input = $(`rename-input-${groupId}`);
  input.value = group.title;
  input.focus();
  input.select();
}

function closeRename(groupId) {
  const form = $(`rename-${groupId}`);
  if (form) form.hidden = true;
  $(`rename-group-${groupId}`)?.focus();
}

async function saveRename(groupId) {
  const group = app.snap.groups.find((g) => g.group_id === groupId);
  const title = cleanText($(`rename-input-${groupId}`).value);
  if (!group) return;
  if (!title) {
    showError({ code: "group_title" });
    return;
  }
  if (await command("put_note_group", { group_id: groupId, title, note_ids: group.note_ids })) closeRename(groupId);
}

function renderWall(snap) {
  if (!showPanel("wall", WALL_PHASES.has(snap.phase))) return;
  renderSuggestions(snap, EDIT_PHASES.has(snap.phase));
  const phase = snap.phase;
  const editable = EDIT_PHASES.has(phase);
  const voting = snap.voting;
  const shown = voting.state === "shown" && Array.isArray(voting.results);
  const votesById = new Map(shown ? voting.results.map((r) => [r.note_id, r.dots]) : []);
  // Once closed, nobody can show a hidden note again: leave them out.  Notes
  // waiting for approval are in the moderation panel, not on the wall yet.
  const wallNotes = (phase === "closed" ? snap.notes.filter((n) => !n.hidden) : snap.notes).filter((n) => !n.pending);
  const notesById = new Map(wallNotes.map((n) => [n.note_id, n]));
  for (const id of [...app.selected]) if (!notesById.has(id)) app.selected.delete(id);
  const visibleCount = snap.notes.filter((n) => !n.hidden && !n.pending).length;
  const hiddenCount = snap.notes.filter((n) => n.hidden).length;
  setText($("wall-count"), tr("wall.count", { n: visibleCount, hidden: hiddenCount }));

  // Voting tool.
  const votingTool = $("voting-tool");
  votingTool.hidden = !VOTING_PHASES.has(phase);
  setText($("voting-status"), tr(`voting.state.${voting.state}`, { dots: voting.dots_per_participant, max: voting.max_per_note }));
  const cast = $("dots-cast");
  setText(cast, tr("voting.cast", { n: voting.dots_cast }));
  setAttr(cast, "data-count", voting.dots_cast);
  $("dots-cast-box").hidden = voting.state === "closed" && voting.dots_cast === 0;
  $("voting-open").hidden = voting.state === "open";
  setText($("voting-open"), voting.state === "closed" ? tr("voting.open") : tr("voting.reopen"));
  $("voting-close").hidden = voting.state === "closed";
  $("voting-show").hidden = voting.state === "shown";
  $("voting-fields").hidden = voting.state !== "closed";
  const applied = `${voting.dots_per_participant}/${voting.max_per_note}`;
  const dotsInput = $("voting-dots");
  const maxInput = $("voting-max");
  if (app.voteInputsApplied !== applied && document.activeElement !== dotsInput && document.activeElement !== maxInput) {
    app.voteInputsApplied = applied;
    dotsInput.value = String(voting.dots_per_participant);
    maxInput.value = String(voting.max_per_note);
    maxInput.max = String(voting.dots_per_participant);
  }
  $("group-tool").hidden = !editable;

  // Which notes are in which group (first group wins if the server ever sends a note twice).
  const groupOf = new Map();
  for (const group of snap.groups) for (const id of group.note_ids) if (!groupOf.has(id)) groupOf.set(id, group.group_id);
  const byVotes = (list) => (shown ? [...list].sort((a, b) => (votesById.get(b.note_id) || 0) - (votesById.get(a.note_id) || 0)) : list);
  // A group is one item in dot voting: its notes carry no dots of their own.
  const cardFor = (note) => {
    const card = noteCard(note);
    const counted = shown && !note.hidden && !groupOf.has(note.note_id);
    renderNote(card, note, counted ? votesById.get(note.note_id) || 0 : null, phase);
    return card;
  };

  // Groups as named clusters.
  const groups = snap.groups.map((group) => {
    const notes = group.note_ids.filter((id) => groupOf.get(id) === group.group_id && notesById.has(id)).map((id) => notesById.get(id));
    return { group, notes, total: votesById.get(group.group_id) || 0 };
  });
  if (shown) groups.sort((a, b) => b.total - a.total);
  const groupNodes = groups.map(({ group, notes, total }) => {
    const node = keyed("groups").get(group.group_id, () => {
      const ungroup = button(tr("wall.ungroup"), { class: "btn btn--small btn--secondary", "data-testid": `ungroup-${group.group_id}` }, () =>
        command("remove_note_group", { group_id: group.group_id }),
      );
      const add = button(tr("wall.add_selected"), { class: "btn btn--small btn--secondary", "data-testid": `group-add-${group.group_id}` }, () => {
        const current = app.snap.groups.find((g) => g.group_id === group.group_id);
        if (current) addSelectedTo(current);
      });
      const promoteGroupButton = button(
        tr("wall.promote_group"),
        { class: "btn btn--small btn--primary", "data-testid": `promote-group-${group.group_id}`, "aria-describedby": `gt-${group.group_id}` },
        () => promoteGroup(group.group_id),
      );
      const rename = button(
        tr("wall.rename"),
        {
          class: "btn btn--small btn--secondary",
          id: `rename-group-${group.group_id}`,
          "data-testid": `rename-group-${group.group_id}`,
          "aria-describedby": `gt-${group.group_id}`,
        },
        () => openRename(group.group_id),
      );
      return h(
        "section",
        { class: "group", "data-testid": `group-${group.group_id}`, "aria-labelledby": `gt-${group.group_id}` },
        h(
          "div",
          { class: "group__head" },
          h("h3", { class: "group__title", id: `gt-${group.group_id}` }),
          h("span", { class: "group__meta" }),
          h("div", { class: "btn-row group__actions" }, promoteGroupButton, rename, add, ungroup),
        ),
        renameForm(group.group_id),
        h("ul", { class: "notes" }),
      );
    });
    setText(node.querySelector(".group__title"), group.title);
    setText(
      node.querySelector(".group__meta"),
      shown ? tr("wall.group_meta_votes", { n: notes.length, dots: total }) : tr("wall.group_meta", { n: notes.length }),
    );
    node.querySelector(".group__actions").hidden = !editable;
    place(node.querySelector(".notes"), notes.map(cardFor));
    return node;
  });
  keyed("groups").sweep();
  place($("groups"), groupNodes);

  const loose = byVotes(wallNotes.filter((n) => !groupOf.has(n.note_id)));
  place($("loose-notes"), loose.map(cardFor));
  keyed("notes").sweep();
  $("loose-title").hidden = !groups.length || !loose.length;
  $("wall-empty").hidden = wallNotes.length > 0;
  renderSelection();
}

// ------------------------------------------------------------------ moderation

function buildModeration() {
  keyed("pending").clear();
  const toggle = h("input", { type: "checkbox", id: "moderation-switch", "data-testid": "moderation-switch", class: "moderation__check", "aria-describedby": "moderation-help" });
  toggle.addEventListener("change", () => command("set_moderation", { enabled: toggle.checked }));
  $("moderation").replaceChildren(
    h(
      "div",
      { class: "panel__head" },
      h("h2", { id: "moderation-title", class: "panel__title" }, tr("moderation.title")),
      h("p", { class: "panel__count", id: "moderation-count", "data-testid": "moderation-count", "aria-live": "polite" }),
    ),
    h("label", { class: "moderation__switch", for: "moderation-switch" }, toggle, h("span", {}, tr("moderation.switch"))),
    h("p", { class: "moderation__help", id: "moderation-help" }, tr("moderation.help")),
    h("ul", { class: "notes moderation__list", id: "pending-notes" }),
    h("p", { class: "empty", id: "moderation-empty" }),
    button(tr("moderation.approve_all"), { class: "btn btn--secondary", id: "approve-all", "data-testid": "approve-all" }, () => {
      for (const note of app.snap.notes) if (note.pending && !note.hidden) command("hide_note", { note_id: note.note_id, hidden: false });
    }),
  );
}

function pendingCard(note) {
  return keyed("pending").get(note.note_id, () => {
    const id = note.note_id;
    return h(
      "li",
      { class: "note note--pending", "data-testid": `pending-${id}` },
      h("p", { class: "note__text", id: `pt-${id}` }),
      h("p", { class: "note__norm" }),
      h(
        "div",
        { class: "btn-row note__actions" },
        // hide_note with hidden=false approves a waiting note (protocol/messages.py HideNote).
        button(tr("moderation.approve"), { class: "btn btn--small btn--primary", "data-testid": `approve-${id}`, "aria-describedby": `pt-${id}` }, () =>
          command("hide_note", { note_id: id, hidden: false }),
        ),
        button(tr("moderation.reject"), { class: "btn btn--small btn--secondary", "data-testid": `reject-${id}`, "aria-describedby": `pt-${id}` }, () =>
          command("hide_note", { note_id: id, hidden: true }),
        ),
      ),
    );
  });
}

function renderModeration(snap) {
  if (!showPanel("moderation", MODERATE_PHASES.has(snap.phase))) return;
  const on = Boolean(snap.moderation);
  const toggle = $("moderation-switch");
  if (toggle.checked !== on) toggle.checked = on;
  const pending = snap.notes.filter((n) => n.pending && !n.hidden);
  const count = $("moderation-count");
  setText(count, pending.length ? tr("moderation.waiting", { n: pending.length }) : "");
  setAttr(count, "data-count", pending.length);
  const cards = pending.map((note) => {
    const card = pendingCard(note);
    setText(card.querySelector(".note__text"), note.text); // textContent: participant text stays text
    const normNode = card.querySelector(".note__norm");
    const normText = note.norm_id ? tr("wall.norm", { norm: normLabel(note.norm_id) }) : "";
    setText(normNode, normText);
    normNode.hidden = !normText;
    return card;
  });
  keyed("pending").sweep();
  place($("pending-notes"), cards);
  const empty = $("moderation-empty");
  empty.hidden = pending.length > 0;
  setText(empty, on ? tr("moderation.empty") : tr("moderation.off"));
  $("approve-all").hidden = pending.length < 2;
}

// ------------------------------------------------------------------ control on another device

async function loadLinks() {
  try {
    const response = await fetch(`/api/rooms/${encodeURIComponent(app.code)}/links`, {
      headers: { Authorization: `Bearer ${app.token}` },
      cache: "no-store",
    });
    if (!response.ok) return;
    app.links = await response.json();
    $("open-presenter").hidden = !app.links.display_url;
    renderControl();
  } catch (error) {
    console.warn("kleur: links not loaded", error);
  }
}

async function loadControlQr() {
  if (app.controlQrUrl) return;
  const response = await fetch(`/api/rooms/${encodeURIComponent(app.code)}/control-qr.svg`, {
    headers: { Authorization: `Bearer ${app.token}` },
    cache: "no-store",
  });
  if (!response.ok) throw { code: "qr_failed" };
  app.controlQrUrl = URL.createObjectURL(await response.blob());
  const img = $("control-qr");
  if (img) img.src = app.controlQrUrl;
}

function renderControl() {
  const panel = $("control");
  const toggle = $("show-control");
  setAttr(toggle, "aria-expanded", String(app.showControl));
  setText(toggle, app.showControl ? tr("control.hide") : tr("control.show"));
  panel.hidden = !app.showControl || !app.links;
  if (panel.hidden) {
    panel.replaceChildren();
    return;
  }
  if (panel.firstChild) return;
  const qr = h("img", { id: "control-qr", "data-testid": "control-qr", class: "control__qr", alt: tr("control.qr_alt", { code: app.code }), width: "240", height: "240" });
  if (app.controlQrUrl) qr.src = app.controlQrUrl;
  panel.replaceChildren(
    h("h2", { id: "control-title", class: "panel__title" }, tr("control.title")),
    h("p", { class: "control__warning", role: "note" }, tr("control.warning")),
    h(
      "div",
      { class: "control" },
      h("div", { class: "join__qr-box" }, qr),
      h(
        "div",
        { class: "control__text" },
        h("p", {}, tr("control.how")),
        h("p", { class: "control__label", id: "control-link-label" }, tr("control.link")),
        h("p", { class: "control__link", "data-testid": "control-link", "aria-labelledby": "control-link-label" }, app.links.facilitator_url),
      ),
    ),
  );
  loadControlQr().catch((error) => showError(error));
}

// ------------------------------------------------------------------ agenda

function buildAgenda() {
  keyed("agenda").clear();
  const limits = app.limits;
  const orgList = h("datalist", { id: "owner-suggestions" }, ...app.template.org_types.map((org) => h("option", { value: org.label })));
  const normSelect = h(
    "select",
    { id: "agenda-norm", "data-testid": "agenda-norm", class: "input" },
    h("option", { value: "" }, tr("agenda.no_norm")),
    ...themesOf(app.norms).map(({ theme, norms }) =>
      h("optgroup", { label: theme.title }, ...norms.map((norm) => h("option", { value: norm.id }, `${norm.number}. ${norm.title}`))),
    ),
  );
  const form = h(
    "form",
    { class: "agenda-form", id: "agenda-form", "aria-labelledby": "agenda-form-title", novalidate: "" },
    h("h3", { class: "subtitle", id: "agenda-form-title", tabindex: "-1" }, tr("agenda.add_title")),
    h("p", { class: "agenda-form__from", id: "agenda-from", hidden: true }),
    h(
      "label",
      { class: "field", for: "agenda-action" },
      h("span", { class: "field__label" }, tr("agenda.action")),
      h("textarea", {
        id: "agenda-action",
        "data-testid": "agenda-action",
        class: "input input--area",
        rows: "2",
        maxlength: String(limits.max_agenda_text_chars),
        required: "",
      }),
    ),
    h(
      "div",
      { class: "field-row" },
      h(
        "label",
        { class: "field", for: "agenda-owner" },
        h("span", { class: "field__label" }, tr("agenda.owner")),
        h("input", {
          type: "text",
          id: "agenda-owner",
          "data-testid": "agenda-owner",
          class: "input",
          list: "owner-suggestions",
          maxlength: String(limits.max_agenda_owner_chars),
          autocomplete: "off",
        }),
      ),
      h(
        "label",
        { class: "field", for: "agenda-deadline" },
        h("span", { class: "field__label" }, tr("agenda.deadline")),
        h("input", { type: "date", id: "agenda-deadline", "data-testid": "agenda-deadline", class: "input" }),
      ),
      h(
        "label",
        { class: "field", for: "agenda-follow-up" },
        h("span", { class: "field__label" }, tr("agenda.follow_up")),
        h("input", {
          type: "date",
          id: "agenda-follow-up",
          "data-testid": "agenda-follow-up",
          class: "input",
          "aria-describedby": "agenda-follow-up-help",
        }),
        h("span", { class: "field__help", id: "agenda-follow-up-help" }, tr("agenda.follow_up_help")),
      ),
    ),
    h("label", { class: "field", for: "agenda-norm" }, h("span", { class: "field__label" }, tr("agenda.norm")), normSelect),
    orgList,
    h(
      "div",
      { class: "btn-row" },
      h("button", { type: "submit", class: "btn btn--primary", "data-testid": "agenda-save", id: "agenda-save" }, tr("agenda.save_new")),
      button(tr("cancel"), { class: "btn btn--secondary", "data-testid": "agenda-cancel", id: "agenda-cancel", hidden: true }, resetForm),
    ),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    saveForm();
  });
  $("agenda").replaceChildren(
    h(
      "div",
      { class: "panel__head" },
      h("h2", { id: "agenda-title", class: "panel__title" }, tr("agenda.title")),
      h("p", { class: "panel__count", id: "agenda-count" }),
    ),
    h("ol", { class: "agenda-list", id: "agenda-list" }),
    h("p", { class: "empty", id: "agenda-empty" }, tr("agenda.empty")),
    form,
    h(
      "div",
      { class: "exports", role: "group", "aria-labelledby": "export-label" },
      h("span", { id: "export-label", class: "exports__label" }, tr("export.label")),
      ...EXPORT_FORMATS.map((fmt) => {
        const node = button(tr(`export.${fmt}`), { class: "btn btn--secondary", "data-testid": `export-${fmt}`, "data-format": fmt }, () =>
          download(fmt),
        );
        node.hidden = !EXPORT_ALWAYS.has(fmt) && app.exportOk.get(fmt) !== true;
        return node;
      }),
    ),
  );
  app.form = { itemId: null, noteId: null, groupId: null };
  probeExports();
}

/** Which optional export formats the server has: HEAD each once, show those that answer 200. */
async function probeExports() {
  if (app.exportProbe) return;
  app.exportProbe = true;
  for (const fmt of EXPORT_FORMATS) {
    if (EXPORT_ALWAYS.has(fmt) || app.exportOk.has(fmt)) continue;
    try {
      const response = await fetch(`/api/rooms/${encodeURIComponent(app.code)}/export.${fmt}?lang=${app.lang}`, {
        method: "HEAD",
        headers: { Authorization: `Bearer ${app.token}` },
        cache: "no-store",
      });
      app.exportOk.set(fmt, response.ok);
    } catch {
      app.exportOk.set(fmt, false);
    }
    const node = document.querySelector(`[data-format="${fmt}"]`);
    if (node) node.hidden = app.exportOk.get(fmt) !== true;
  }
}

function itemRow(item) {
  return keyed("agenda").get(item.item_id, () => {
    const id = item.item_id;
    const find = () => app.snap.agenda.find((i) => i.item_id === id);
    return h(
      "li",
      { class: "agenda-item", "data-testid": "agenda-item", "data-item": id },
      h("p", { class: "agenda-item__action", id: `ai-${id}` }),
      h(
        "dl",
        { class: "agenda-item__meta" },
        h("div", { class: "meta" }, h("dt", {}, tr("agenda.owner")), h("dd", { class: "agenda-item__owner" })),
        h("div", { class: "meta" }, h("dt", {}, tr("agenda.deadline")), h("dd", { class: "agenda-item__deadline" })),
        h("div", { class: "meta agenda-item__norm-box" }, h("dt", {}, tr("agenda.norm")), h("dd", { class: "agenda-item__norm" })),
        h("div", { class: "meta agenda-item__follow-box" }, h("dt", {}, tr("agenda.follow_up")), h("dd", { class: "agenda-item__follow-up" })),
        h("div", { class: "meta agenda-item__group-box" }, h("dt", {}, tr("agenda.group")), h("dd", { class: "agenda-item__group" })),
      ),
      h(
        "div",
        { class: "snapshot", "data-testid": "agenda-snapshot", hidden: true },
        h("span", { class: "snapshot__bar", "aria-hidden": "true" }),
        h("span", { class: "snapshot__text" }),
      ),
      h(
        "div",
        { class: "btn-row agenda-item__actions" },
        button(tr("agenda.edit"), { class: "btn btn--small btn--secondary", "data-testid": "agenda-edit", "aria-describedby": `ai-${id}` }, () => {
          const current = find();
          if (current) editItem(current);
        }),
        button("↑", { class: "btn btn--small btn--secondary", "data-testid": "agenda-up", "aria-label": tr("agenda.up"), "aria-describedby": `ai-${id}` }, () => move(id, -1)),
        button("↓", { class: "btn btn--small btn--secondary", "data-testid": "agenda-down", "aria-label": tr("agenda.down"), "aria-describedby": `ai-${id}` }, () => move(id, 1)),
        button(tr("agenda.remove"), { class: "btn btn--small btn--danger", "data-testid": "agenda-remove", "aria-describedby": `ai-${id}` }, async () => {
          const current = find();
          if (!current) return;
          const ack = await command("remove_agenda_item", { item_id: id });
          if (ack) announce(tr("agenda.removed", { action: current.action }));
          if (app.form.itemId === id) resetForm();
        }),
      ),
    );
  });
}

/** The server's proposal: norms to address first, with notes as candidate actions. */
function renderDraft(snap, editable) {
  let box = $("draft");
  if (!box) {
    box = h(
      "section",
      { class: "tool draft", id: "draft", "aria-labelledby": "draft-title" },
      h("h3", { class: "tool__title", id: "draft-title" }, tr("draft.title")),
      h("p", { class: "tool__status" }, tr("draft.help")),
      // A list without numbers: each norm label already starts with the norm's number.
      h("ul", { class: "draft__list", id: "draft-list", "data-testid": "draft" }),
    );
    const head = $("agenda").querySelector(".panel__head");
    if (head) head.after(box);
    else $("agenda").prepend(box);
  }
  const draft = editable && snap.analysis ? snap.analysis.draft || [] : [];
  box.hidden = draft.length === 0;
  const notesById = new Map(snap.notes.map((n) => [n.note_id, n]));
  $("draft-list").replaceChildren(
    ...draft.map((item) =>
      h(
        "li",
        { class: "draft__item" },
        h("p", { class: "draft__norm" }, normLabel(item.norm_id)),
        h("p", { class: "draft__why" }, item.reasons.map((reason) => tr(`draft.reason_${reason}`)).join(" · ")),
        item.note_ids.length
          ? h("ul", { class: "draft__notes" }, ...item.note_ids.map((id) => h("li", { class: "draft__note" }, (notesById.get(id) || { text: "" }).text)))
          : h("p", { class: "draft__none" }, tr("draft.no_notes")),
        button(tr("draft.use"), { class: "btn btn--secondary", "data-testid": `draft-use-${item.norm_id}` }, () => useDraft(item)),
      ),
    ),
  );
}

/** Open the agenda form from a proposed item: its first candidate note as the action. */
function useDraft(item) {
  const note = item.note_ids.map((id) => app.snap.notes.find((n) => n.note_id === id)).find(Boolean);
  const f = formFields();
  f.action.value = note ? note.text.slice(0, app.limits.max_agenda_text_chars) : "";
  f.owner.value = "";
  f.deadline.value = "";
  f.followUp.value = "";
  f.norm.value = app.normById.has(item.norm_id) ? item.norm_id : "";
  app.form = { itemId: null, noteId: note ? note.note_id : null, groupId: null };
  setFormMode(false, "note");
  renderAgenda(app.snap);
  focusForm();
}

function renderAgenda(snap) {
  if (!showPanel("agenda", WALL_PHASES.has(snap.phase))) return;
  const editable = EDIT_PHASES.has(snap.phase);
  renderDraft(snap, editable);
  const items = snap.agenda;
  setText($("agenda-count"), tr("agenda.count", { n: items.length }));
  const rows = items.map((item, index) => {
    const row = itemRow(item);
    setText(row.querySelector(".agenda-item__action"), item.action);
    setText(row.querySelector(".agenda-item__owner"), item.owner || tr("agenda.no_owner"));
    setText(row.querySelector(".agenda-item__deadline"), item.deadline ? formatDate(item.deadline) : tr("agenda.no_deadline"));
    row.querySelector(".agenda-item__norm-box").hidden = !item.norm_id;
    setText(row.querySelector(".agenda-item__norm"), item.norm_id ? normLabel(item.norm_id) : "");
    row.querySelector(".agenda-item__follow-box").hidden = !item.follow_up;
    setText(row.querySelector(".agenda-item__follow-up"), item.follow_up ? formatDate(item.follow_up) : "");
    const group = item.group_id ? snap.groups.find((g) => g.group_id === item.group_id) : null;
    // Not when it only repeats the action (promoted with the group's title).
    row.querySelector(".agenda-item__group-box").hidden = !group || group.title === item.action;
    setText(row.querySelector(".agenda-item__group"), group ? group.title : "");
    // The server keeps the first snapshot through edits, also when the norm changed: show it only for its own norm.
    const snapshot = item.snapshot && item.snapshot.norm_id === item.norm_id ? item.snapshot : null;
    renderSnapshot(row.querySelector(".snapshot"), snapshot);
    row.querySelector(".agenda-item__actions").hidden = !editable;
    row.querySelector('[data-testid="agenda-up"]').disabled = index === 0;
    row.querySelector('[data-testid="agenda-down"]').disabled = index === items.length - 1;
    row.classList.toggle("agenda-item--editing", app.form.itemId === item.item_id);
    return row;
  });
  keyed("agenda").sweep();
  place($("agenda-list"), rows);
  $("agenda-empty").hidden = items.length > 0;
  $("agenda-form").hidden = !editable;
}

/** The tiny bar of a norm's distribution when the item was put on the agenda. */
function renderSnapshot(node, snapshot) {
  const counts = snapshot && Array.isArray(snapshot.counts) ? snapshot.counts : null;
  const n = counts ? counts.reduce((a, b) => a + b, 0) : 0;
  node.hidden = !snapshot || (!n && !isNumber(snapshot.median));
  if (node.hidden) return;
  const key = JSON.stringify([counts, snapshot.median, app.lang]);
  if (node.getAttribute("data-key") === key) return;
  node.setAttribute("data-key", key);
  const values = scaleValues();
  const bar = node.querySelector(".snapshot__bar");
  bar.replaceChildren(
    ...(counts || []).flatMap((count, i) => {
      if (!count) return [];
      const segment = h("span", { class: `snapshot__seg ${colourClass(values[i])}` });
      segment.style.width = `${(100 * count) / n}%`;
      return [segment];
    }),
  );
  bar.hidden = !n;
  setText(
    node.querySelector(".snapshot__text"),
    isNumber(snapshot.median) ? tr("agenda.snapshot", { median: formatNumber(snapshot.median), n }) : tr("agenda.snapshot_none"),
  );
}

function formFields() {
  return {
    action: $("agenda-action"),
    owner: $("agenda-owner"),
    deadline: $("agenda-deadline"),
    followUp: $("agenda-follow-up"),
    norm: $("agenda-norm"),
  };
}

/** Where a new item comes from: null, "note" or a note group's title. */
function formSource() {
  if (app.form.itemId) return null;
  if (app.form.groupId) {
    const group = app.snap && app.snap.groups.find((g) => g.group_id === app.form.groupId);
    return { group: group ? group.title : "" };
  }
  return app.form.noteId ? "note" : null;
}

function setFormMode(editing, source) {
  setText($("agenda-form-title"), editing ? tr("agenda.edit_title") : tr("agenda.add_title"));
  setText($("agenda-save"), editing ? tr("agenda.save_edit") : tr("agenda.save_new"));
  $("agenda-cancel").hidden = !editing && !source;
  const from = $("agenda-from");
  from.hidden = !source;
  let text = "";
  if (source === "note") text = tr("agenda.from_note");
  else if (source && source.group) text = tr("agenda.from_group", { title: source.group });
  else if (source) text = tr("agenda.from_group_gone");
  setText(from, text);
}

function resetForm() {
  const f = formFields();
  f.action.value = "";
  f.owner.value = "";
  f.deadline.value = "";
  f.followUp.value = "";
  f.norm.value = "";
  app.form = { itemId: null, noteId: null, groupId: null };
  setFormMode(false, null);
  if (app.snap) renderAgenda(app.snap);
}

function focusForm() {
  const form = $("agenda-form");
  form.scrollIntoView({ block: "center", behavior: "smooth" });
  $("agenda-action").focus({ preventScroll: true });
}

function promote(noteId) {
  const note = app.snap.notes.find((n) => n.note_id === noteId);
  if (!note) return;
  const f = formFields();
  f.action.value = note.text.slice(0, app.limits.max_agenda_text_chars);
  f.owner.value = "";
  f.deadline.value = "";
  f.followUp.value = "";
  f.norm.value = note.norm_id && app.normById.has(note.norm_id) ? note.norm_id : "";
  app.form = { itemId: null, noteId, groupId: null };
  setFormMode(false, "note");
  renderAgenda(app.snap);
  focusForm();
}

/** Open the agenda form for a note group: its title as the action, the norm most of its notes name. */
function promoteGroup(groupId) {
  const group = app.snap.groups.find((g) => g.group_id === groupId);
  if (!group) return;
  // The norm most of its notes are about (ties: the first in the template).
  const counts = new Map();
  for (const id of group.note_ids) {
    const note = app.snap.notes.find((n) => n.note_id === id);
    if (note && !note.hidden && note.norm_id && app.normById.has(note.norm_id)) {
      counts.set(note.norm_id, (counts.get(note.norm_id) || 0) + 1);
    }
  }
  const most = Math.max(0, ...counts.values());
  const norm = app.norms.find((n) => counts.get(n.id) === most && most > 0);
  const f = formFields();
  f.action.value = group.title.slice(0, app.limits.max_agenda_text_chars);
  f.owner.value = "";
  f.deadline.value = "";
  f.followUp.value = "";
  f.norm.value = norm ? norm.id : "";
  app.form = { itemId: null, noteId: null, groupId };
  setFormMode(false, formSource());
  renderAgenda(app.snap);
  focusForm();
}

function editItem(item) {
  const f = formFields();
  f.action.value = item.action;
  f.owner.value = item.owner;
  f.deadline.value = item.deadline || "";
  f.followUp.value = item.follow_up || "";
  f.norm.value = item.norm_id && app.normById.has(item.norm_id) ? item.norm_id : "";
  app.form = { itemId: item.item_id, noteId: item.note_id, groupId: item.group_id || null };
  setFormMode(true, null);
  renderAgenda(app.snap);
  focusForm();
}

async function saveForm() {
  const f = formFields();
  const action = cleanText(f.action.value);
  if (!action) {
    showError({ code: "action_required" });
    f.action.focus();
    return;
  }
  const isoDate = (value) => (value && /^\d{4}-\d{2}-\d{2}$/.test(value) ? value : null);
  const deadline = isoDate(f.deadline.value);
  const items = app.snap.agenda;
  const existing = app.form.itemId ? items.find((i) => i.item_id === app.form.itemId) : null;
  const maxPosition = app.limits.max_agenda_items;
  const position = existing ? existing.position : Math.min(maxPosition, items.reduce((max, i) => Math.max(max, i.position + 1), 0));
  // A group merged away meanwhile is no longer linked.
  const groupId = app.form.groupId && app.snap.groups.some((g) => g.group_id === app.form.groupId) ? app.form.groupId : null;
  const ack = await command("put_agenda_item", {
    item_id: app.form.itemId || randomId(),
    action,
    owner: cleanText(f.owner.value),
    deadline,
    norm_id: f.norm.value || null,
    note_id: app.form.noteId || null,
    position,
    group_id: groupId,
    follow_up: isoDate(f.followUp.value),
  });
  if (ack) {
    announce(existing ? tr("agenda.saved") : tr("agenda.added", { action }));
    resetForm();
  }
}

async function move(itemId, delta) {
  const items = [...app.snap.agenda];
  const index = items.findIndex((i) => i.item_id === itemId);
  const target = index + delta;
  if (index < 0 || target < 0 || target >= items.length) return;
  [items[index], items[target]] = [items[target], items[index]];
  // Number the list 0, 1, 2...; usually only the two swapped items change.
  for (const [position, item] of items.entries()) {
    if (item.position === position) continue;
    const { item_id, action, owner, deadline, norm_id, note_id } = item;
    const extra = { group_id: item.group_id ?? null, follow_up: item.follow_up ?? null };
    const ack = await command("put_agenda_item", { item_id, action, owner, deadline, norm_id, note_id, position, ...extra });
    if (!ack) return;
  }
  // Keep keyboard focus on the moved item's button.
  const row = keyed("agenda").get(itemId, () => null);
  const again = row && row.querySelector(`[data-testid="agenda-${delta < 0 ? "up" : "down"}"]`);
  if (again && !again.disabled) again.focus();
}

async function download(fmt) {
  try {
    const response = await fetch(`/api/rooms/${encodeURIComponent(app.code)}/export.${fmt}?lang=${app.lang}`, {
      headers: { Authorization: `Bearer ${app.token}` },
      cache: "no-store",
    });
    if (!response.ok) throw { code: response.status === 401 ? "bad_token" : "export_failed" };
    const blob = await response.blob();
    const disposition = response.headers.get("content-disposition") || "";
    const match = /filename="([^"]+)"/.exec(disposition);
    const url = URL.createObjectURL(blob);
    const link = h("a", { href: url, download: match ? match[1] : `kleur-${app.code}.${fmt}`, class: "visually-hidden" });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
    announce(tr("export.done"));
  } catch (error) {
    showError(error && error.code ? error : { code: "export_failed" });
  }
}

// ------------------------------------------------------------------ follow-up of an earlier scan

/** The panel is not in dashboard.html: it is added to <main> once. */
function ensurePreviousPanel() {
  if ($("previous")) return;
  $("main").append(h("section", { class: "panel panel--previous", id: "previous", "aria-labelledby": "previous-title", hidden: true }));
}

function buildPrevious() {
  keyed("previous").clear();
  $("previous").replaceChildren(
    h(
      "div",
      { class: "previous", "data-testid": "previous-scan" },
      h(
        "div",
        { class: "panel__head" },
        h("h2", { id: "previous-title", class: "panel__title" }, tr("previous.title")),
        h("p", { class: "panel__count", id: "previous-room" }),
      ),
      h(
        "div",
        { class: "previous__parts" },
        h(
          "section",
          { class: "previous__items", "aria-labelledby": "previous-items-title" },
          h("h3", { class: "subtitle", id: "previous-items-title" }, tr("previous.items")),
          h("p", { class: "previous__help", id: "previous-items-help" }, tr("previous.items_help")),
          h("ol", { class: "previous-list", id: "previous-items" }),
          h("p", { class: "empty", id: "previous-items-empty" }, tr("previous.items_empty")),
        ),
        h(
          "section",
          { class: "previous__norms", "aria-labelledby": "previous-norms-title" },
          h("h3", { class: "subtitle", id: "previous-norms-title" }, tr("previous.norms")),
          h("p", { class: "previous__help", id: "previous-norms-help" }),
          h(
            "div",
            // Focusable, so that a keyboard can scroll the table when it is wider than the screen.
            { class: "previous__table-box", id: "previous-table-box", tabindex: "0", role: "region", "aria-labelledby": "previous-norms-title" },
            h(
              "table",
              { class: "theme-table previous-table" },
              h(
                "thead",
                {},
                h(
                  "tr",
                  {},
                  h("th", { scope: "col" }, tr("previous.norm")),
                  h("th", { scope: "col" }, tr("previous.before")),
                  h("th", { scope: "col" }, tr("previous.now")),
                  h("th", { scope: "col" }, tr("previous.change")),
                ),
              ),
              h("tbody", { id: "previous-rows" }),
            ),
          ),
        ),
      ),
    ),
  );
}

function previousItemRow(index) {
  return keyed("previous").get(index, () => {
    const select = h(
      "select",
      {
        class: "input previous-item__status",
        id: `previous-status-${index}`,
        "data-testid": `previous-status-${index}`,
        "aria-describedby": `pi-${index}`,
      },
      ...FOLLOW_UP_STATUSES.map((status) => h("option", { value: status }, tr(`previous.status.${status}`))),
    );
    select.addEventListener("change", async () => {
      const status = select.value;
      const ack = await command("set_follow_up_status", { index, status });
      if (ack) {
        announce(tr("previous.status_saved", { status: tr(`previous.status.${status}`) }));
      } else {
        // Refused: show what the server has again.
        const current = app.snap && app.snap.previous && app.snap.previous.items.find((i) => i.index === index);
        if (current) select.value = current.status;
      }
    });
    return h(
      "li",
      { class: "previous-item", "data-index": String(index) },
      h("p", { class: "previous-item__action", id: `pi-${index}` }),
      h(
        "dl",
        { class: "agenda-item__meta" },
        h("div", { class: "meta" }, h("dt", {}, tr("agenda.owner")), h("dd", { class: "previous-item__owner" })),
        h("div", { class: "meta" }, h("dt", {}, tr("agenda.deadline")), h("dd", { class: "previous-item__deadline" })),
      ),
      h(
        "label",
        { class: "field field--inline previous-item__field", for: `previous-status-${index}` },
        h("span", { class: "field__label" }, tr("previous.status_label")),
        select,
      ),
    );
  });
}

function renderPrevious(snap) {
  const previous = snap.previous || null;
  if (!showPanel("previous", Boolean(previous))) return;
  setText($("previous-room"), previous.room ? tr("previous.room", { room: previous.room }) : "");
  const closed = snap.phase === "closed";
  const rows = previous.items.map((item) => {
    const row = previousItemRow(item.index);
    setText(row.querySelector(".previous-item__action"), item.action);
    setText(row.querySelector(".previous-item__owner"), item.owner || tr("agenda.no_owner"));
    setText(row.querySelector(".previous-item__deadline"), item.deadline ? formatDate(item.deadline) : tr("agenda.no_deadline"));
    const select = row.querySelector("select");
    // Never overwrite a choice the facilitator is making right now.
    if (document.activeElement !== select && select.value !== item.status) select.value = item.status;
    select.disabled = closed;
    setAttr(row, "data-status", item.status);
    return row;
  });
  keyed("previous").sweep();
  place($("previous-items"), rows);
  $("previous-items-empty").hidden = rows.length > 0;

  // The earlier figures only once this scan's results are shown: they must not steer the rating.
  const revealed = Boolean(snap.revealed) && REVEALED.has(snap.phase);
  setText($("previous-norms-help"), revealed ? tr("previous.norms_help") : tr("previous.norms_later"));
  if (!revealed) {
    $("previous-table-box").hidden = true;
    return;
  }
  const nowById = new Map(snap.norms.map((n) => [n.norm_id, n.median]));
  const byId = new Map(previous.norms.map((n) => [n.norm_id, n]));
  // Norms without a figure then or now are left out.
  const cells = app.norms
    .filter((norm) => byId.has(norm.id))
    .map((norm) => {
      const entry = byId.get(norm.id);
      const now = nowById.get(norm.id);
      return [norm.id, entry.median_before, isNumber(now) ? now : null, entry.median_change];
    })
    .filter(([, before, now]) => isNumber(before) || isNumber(now));
  $("previous-table-box").hidden = !cells.length;
  const tbody = $("previous-rows");
  const key = JSON.stringify([cells, app.lang]);
  if (tbody.getAttribute("data-key") === key) return;
  tbody.setAttribute("data-key", key);
  const chip = (value) =>
    isNumber(value) ? h("span", { class: `median-chip ${colourClass(Math.round(value))}` }, formatNumber(value)) : "–";
  tbody.replaceChildren(
    ...cells.map(([normId, before, now, change]) =>
      h(
        "tr",
        { "data-norm": normId },
        h("th", { scope: "row" }, normLabel(normId)),
        h("td", {}, chip(before)),
        h("td", {}, chip(now)),
        h(
          "td",
          { class: `previous-table__change${isNumber(change) && change > 0 ? " previous-table__change--up" : ""}${isNumber(change) && change < 0 ? " previous-table__change--down" : ""}` },
          isNumber(change) ? formatChange(change, 1) : "–",
        ),
      ),
    ),
  );
}

// ------------------------------------------------------------------ rendering

const BUILDERS = {
  join: () => buildJoin(),
  rating: () => buildRating(),
  results: () => buildResults(),
  wall: () => buildWall(),
  moderation: () => buildModeration(),
  agenda: () => buildAgenda(),
  previous: () => buildPrevious(),
};

/**
 * Show or hide a panel.  A hidden panel is emptied, so that a data-testid
 * (e.g. norm-{id}, in both the rating and the results panel) is never in the
 * page twice; it is built again when it is shown.
 */
function showPanel(id, visible) {
  const panel = $(id);
  panel.hidden = !visible;
  if (!visible) {
    if (panel.firstChild) {
      panel.replaceChildren();
      if (app.keyed[id]) app.keyed[id].clear();
    }
    return false;
  }
  if (!panel.firstChild) BUILDERS[id]();
  return true;
}

function buildAll() {
  buildHeader();
  if (!app.template) return;
  ensurePreviousPanel();
  // Panels are built when shown (showPanel); a language switch empties them all.
  for (const id of Object.keys(BUILDERS)) $(id).replaceChildren();
  app.built = true;
}

function render() {
  const snap = app.snap;
  if (!snap || !app.built) return;
  $("loading").hidden = true;
  const focusLost = () => document.activeElement === document.body || (document.activeElement && document.activeElement.closest("[hidden]"));
  document.body.setAttribute("data-phase", snap.phase);
  renderHeader(snap);
  renderJoin(snap);
  renderRating(snap);
  renderResults(snap);
  renderModeration(snap);
  renderWall(snap);
  renderAgenda(snap);
  renderPrevious(snap);
  if (app.lastPhase !== snap.phase || app.lastRound !== snap.round) {
    if (app.lastPhase !== null) {
      announce(tr("phase.announce", { phase: phaseName(snap.phase) }));
      if (focusLost()) $("main").focus({ preventScroll: true });
      window.scrollTo({ top: 0 });
    }
    app.lastPhase = snap.phase;
    app.lastRound = snap.round;
  }
}

function onDashboard(snap) {
  app.clockOffset = snap.server_time - Date.now();
  app.snap = snap;
  render();
}

function onStatus(status, closeCode) {
  app.closeCode = closeCode ?? null;
  let text = tr(`status.${status}`);
  if (status === "closed" && closeCode) {
    const name = closeName(closeCode);
    const key = `close.${name}`;
    if (name && app.t.has && app.t.has(`dashboard.${key}`)) text = tr(key);
  }
  if (text === `dashboard.status.${status}`) text = "";
  document.body.classList.toggle("dash--offline", status !== "online");
  if (status === "closed" && !app.snap) {
    // Refused before anything was shown: say why in place of the dashboard.
    setText($("loading"), text);
    text = "";
  }
  setText($("conn-status"), text);
}

function closeName(code) {
  const table = (app.protocol && app.protocol.close_codes) || {};
  const entry = Object.entries(table).find(([, value]) => value.code === code);
  return entry ? entry[0] : null;
}

async function switchLanguage(lang) {
  if (lang === app.lang) return;
  try {
    await setLanguage(lang); // calls onLanguage() with the new t
  } catch (error) {
    showError({ code: "internal" });
  }
  $(`lang-${lang}`).focus();
}

/** The language changed (here or through setLanguage): rebuild every text, the template's too. */
async function onLanguage(t, lang) {
  app.langWanted = lang;
  let template = null;
  if (app.template && app.templateLang !== lang) {
    try {
      template = await fetchTemplate(app.template.id, lang);
    } catch (error) {
      console.error(error); // keep the template's texts in the old language
    }
    if (app.langWanted !== lang) return; // switched again meanwhile: that switch wins
  }
  if (template) useTemplate(template, lang);
  app.t = t;
  app.lang = lang;
  document.documentElement.lang = lang;
  const form = saveFormState();
  buildAll();
  $("control").replaceChildren();
  renderControl();
  if (app.conn) onStatus(app.conn.status, app.closeCode);
  render();
  if (form && $("agenda-form")) {
    restoreFormState(form);
    render();
  }
}

function saveFormState() {
  if (!$("agenda-form")) return null;
  const f = formFields();
  return {
    state: { ...app.form },
    action: f.action.value,
    owner: f.owner.value,
    deadline: f.deadline.value,
    followUp: f.followUp.value,
    norm: f.norm.value,
  };
}

function restoreFormState(saved) {
  const f = formFields();
  f.action.value = saved.action;
  f.owner.value = saved.owner;
  f.deadline.value = saved.deadline;
  f.followUp.value = saved.followUp;
  f.norm.value = saved.norm;
  app.form = saved.state;
  setFormMode(Boolean(app.form.itemId), formSource());
}

/** The template's second question per norm ({kind, question, ...}), or null. */
function secondQuestion() {
  return (app.template && app.template.second_question) || null;
}

/** The template with its texts in `lang` (or its own language where it has none in `lang`). */
async function fetchTemplate(templateId, lang) {
  const response = await fetch(`/api/templates/${encodeURIComponent(templateId)}?lang=${encodeURIComponent(lang)}`);
  if (!response.ok) throw { code: "template_failed" };
  return response.json();
}

async function loadTemplate(templateId) {
  if (app.template && app.template.id === templateId && app.templateLang === app.lang) return;
  const lang = app.lang;
  const template = await fetchTemplate(templateId, lang);
  if (lang !== app.lang) return loadTemplate(templateId); // switched meanwhile: load it again
  useTemplate(template, lang);
  buildAll();
  render();
}

function useTemplate(template, lang) {
  app.template = template;
  app.templateLang = lang;
  app.norms = [];
  app.normById = new Map();
  for (const theme of template.themes) {
    for (const norm of theme.norms) {
      const entry = {
        id: norm.id,
        number: norm.number,
        title: norm.title,
        theme,
        examples: Array.isArray(norm.examples) ? norm.examples : [],
        figures: Array.isArray(norm.figures) ? norm.figures : [],
      };
      app.norms.push(entry);
      app.normById.set(norm.id, entry);
    }
  }
  app.orgLabel = new Map(template.org_types.map((o) => [o.id, o.label]));
}

function readToken() {
  // The key Connection uses for the facilitator token, too.
  const key = `kleur.${app.code}.token`;
  // Kept per room in localStorage as well, so a new tab or a crashed browser
  // on this device gets control back; a new device needs the link or QR code.
  // (Not `.token`: on a shared device that key holds a participant's token.)
  const kept = `kleur.${app.code}.control`;
  const fromHash = decodeURIComponent(location.hash.slice(1));
  if (fromHash) {
    sessionStorage.setItem(key, fromHash);
    try {
      localStorage.setItem(kept, fromHash);
    } catch {
      // Storage full or disabled: this tab keeps control all the same.
    }
    history.replaceState(history.state, "", location.pathname + location.search);
    return fromHash;
  }
  let stored = sessionStorage.getItem(key) || "";
  if (!stored) {
    try {
      stored = localStorage.getItem(kept) || "";
    } catch {
      stored = "";
    }
    if (stored) sessionStorage.setItem(key, stored);
  }
  return stored;
}

async function main() {
  const parts = location.pathname.split("/").filter(Boolean);
  app.code = (parts[parts.length - 1] || "").toUpperCase();
  app.token = readToken();
  app.lang = pageLanguage();
  document.documentElement.lang = app.lang;
  const [t, protocol] = await Promise.all([loadTranslations(app.lang, onLanguage), loadProtocol()]);
  app.t = t;
  app.protocol = protocol;
  app.limits = protocol.limits || {};
  app.phases = protocol.phases;
  app.transitions = protocol.transitions;
  REVEALED = new Set(protocol.revealed_phases);
  EDIT_PHASES = new Set(protocol.allowed_phases.put_agenda_item);
  MODERATE_PHASES = new Set(protocol.allowed_phases.hide_note);
  VOTING_PHASES = new Set(protocol.allowed_phases.set_dot_voting);
  buildHeader();
  for (const lang of ["nl", "en"]) $(`lang-${lang}`).addEventListener("click", () => switchLanguage(lang));
  $("show-join").addEventListener("click", () => {
    app.showJoin = !app.showJoin;
    render();
    if (app.showJoin) $("join").scrollIntoView({ block: "start" });
  });
  $("open-presenter").addEventListener("click", () => {
    // A window of its own (for the second screen), without a handle back to this one.
    if (app.links && app.links.display_url) window.open(app.links.display_url, `kleur-presenter-${app.code}`, "noopener");
  });
  $("show-control").addEventListener("click", () => {
    app.showControl = !app.showControl;
    renderControl();
    if (app.showControl && !$("control").hidden) $("control").scrollIntoView({ block: "start" });
  });
  setInterval(tickTimer, 250);
  const tokenPattern = new RegExp(`^[A-Za-z0-9_-]{${app.limits.token_min_chars},${app.limits.token_max_chars}}$`);
  if (!tokenPattern.test(app.token)) {
    setText($("loading"), tr("no_token"));
    $("show-control").hidden = true;
    return;
  }
  connect();
}

/** Open the facilitator connection; resolves at its first welcome. */
function connect() {
  return new Promise((resolve) => {
    const conn = new Connection({
      room: app.code,
      role: "facilitator",
      token: app.token,
      onWelcome: (welcome) => {
        if (conn !== app.conn) return;
        loadTemplate(welcome.template_id).catch((error) => showError(error));
        // Only once the server took the token: a wrong one asks for nothing more.
        if (!app.links) loadLinks();
        resolve();
      },
      onMessage: (message) => {
        if (conn !== app.conn || !message) return;
        if (message.type === "dashboard") onDashboard(message);
        // Errors of a command reject its promise (see command()); the rest,
        // e.g. a refused join, are shown here.
        else if (message.type === "error" && (message.seq === null || message.seq === undefined)) showError(message);
      },
      onStatus: (status, closeCode) => {
        if (conn === app.conn) onStatus(status, closeCode);
      },
    });
    app.conn = conn;
    conn.start();
  });
}

main().catch((error) => {
  console.error(error);
  const loading = $("loading");
  if (loading) loading.textContent = "kleur: the dashboard could not start / het dashboard kon niet starten.";
});
