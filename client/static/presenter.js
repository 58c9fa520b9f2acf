// The presenter view (/p/{CODE}#{display token}): the projector at the front of the room.
//
// Read-only by construction: the server sends a `presenter` snapshot with only
// what the whole room may see (agenda.views.presenter) and refuses every
// command from this role.  The page has no buttons, inputs or forms; it
// follows the phase.  The layout is one 1920×1080 design scaled to the screen
// (presenter.css: every size in rem, the root font size from the viewport),
// so a 1280×720 projector shows the same screen, smaller.  What can grow (the
// norms of a theme, ideas, agenda items) is split into pages by the height
// actually available (fitPages); the page turns by itself every PAGE_SECONDS
// (the facilitator is busy at the laptop), ending the reveal with the
// norm × organisation-type matrix.  The arrow keys or PageUp/PageDown turn a
// page, Space or "p" holds it; the control view does the same over a
// BroadcastChannel (PRESENTER_PAGES in kleur.js).  `?theme=N` (1-based) or
// `?view=matrix` pins one page, e.g. for a screenshot or a session about one
// theme.  Participant text only ever reaches the page as text nodes, through el().

import { Connection, PRESENTER_PAGES, el, formatRemaining, loadProtocol, loadTranslations } from "./kleur.js";

const PAGE_SECONDS = 20;
// How long the hint about the keys stays after a page was turned or held.
const HINT_SECONDS = 4;
const LANGS = ["nl", "en"];
const LOCALES = { nl: "nl-NL", en: "en-GB" };
// Consensus (Tastle & Wierman, 0..1) at or above which the group "agrees";
// below it the group "partly agrees", and a norm the server marks contested
// "disagrees" (CONTESTED_CONSENSUS in agenda/insights.py is 0.6).
const AGREE_FROM = 0.8;
const FOLLOW_UP_STATUSES = ["open", "in_progress", "done", "dropped"];

const $ = (id) => document.getElementById(id);

const app = {
  code: "",
  token: "",
  lang: "nl",
  t: (key) => key,
  limits: {},
  joinPhases: new Set(), // phases in which a newcomer can still take part (from /api/protocol)
  template: null,
  themes: [], // [{id, title, norms: [{id, number, title}]}]
  normById: new Map(),
  orgLabel: new Map(),
  snap: null,
  clockOffset: 0,
  page: 0,
  pinned: null, // {theme: index} or {matrix: true}
  held: false,
  pages: [], // the current phase's pages: [{kind, build: () => element, ...}]
  turnTimer: null,
  hintTimer: null,
  channel: null,
  qrUrl: null,
  qrLoading: false,
  lastPhase: null,
};

// ------------------------------------------------------------------ helpers

/** A text with a count: `{key}_one` when n is 1 (if the catalogue has it). */
function plural(key, n, params = {}) {
  const one = `${key}_one`;
  return app.t(n === 1 && app.t.has(one) ? one : key, { n, ...params });
}

function number(value) {
  if (value === null || value === undefined || !Number.isFinite(value)) return "";
  return new Intl.NumberFormat(LOCALES[app.lang], { maximumFractionDigits: 1 }).format(value);
}

function date(iso) {
  if (!iso) return "";
  const [y, m, d] = iso.split("-").map(Number);
  const when = new Date(Date.UTC(y, m - 1, d));
  return new Intl.DateTimeFormat(LOCALES[app.lang], { day: "numeric", month: "long", year: "numeric", timeZone: "UTC" }).format(when);
}

function phaseName(phase) {
  return app.t(`phase.${phase}`);
}

function normTitle(normId) {
  const norm = app.normById.get(normId);
  return norm ? `${norm.number}. ${norm.title}` : normId;
}

function scaleValues() {
  const scale = (app.template && app.template.scale) || { min: 0, max: 10 };
  const values = [];
  for (let v = scale.min; v <= scale.max; v += 1) values.push(v);
  return values;
}

function setText(node, text) {
  const value = String(text);
  if (node.textContent !== value) node.textContent = value;
}

// ------------------------------------------------------------------ header

function renderHeader(snap) {
  setText($("room-code"), app.code);
  const phase = $("phase");
  setText(phase, phaseName(snap.phase));
  phase.setAttribute("data-phase", snap.phase);
  const round = $("round");
  round.hidden = !(snap.round > 1);
  setText(round, snap.round > 1 ? app.t("presenter.round", { n: snap.round }) : "");
  const people = $("people");
  if (snap.phase === "lobby") {
    // Admitted devices against the people expected, while people come in.
    const counts = { n: snap.participants, m: snap.expected_people };
    setText(
      people,
      snap.participants === 1
        ? app.t("presenter.devices_expected.one", counts)
        : app.t("presenter.devices_expected.other", counts),
    );
  } else {
    // After the lobby only the people: an extra device is the control view's business.
    setText(people, plural("presenter.people", snap.participants));
  }
  people.setAttribute("data-count", String(snap.participants));
  renderJoin(snap);
  tickTimer();
}

/**
 * Latecomers: a small join QR code in every phase after the lobby in which a
 * newcomer can still take part, that is choose an organisation type (the
 * protocol's allowed_phases.set_org_type: all but "closed").  The QR link
 * carries the join token, so it works in a locked room too; the typed code
 * only while the room is open.
 */
function renderJoin(snap) {
  const box = $("join");
  // The lobby shows the big QR code instead: a view's choice, not a rule.
  const show = snap.phase !== "lobby" && app.joinPhases.has(snap.phase);
  box.hidden = !show;
  if (!show) return;
  loadQr();
  const img = $("join-qr");
  if (app.qrUrl && img.getAttribute("src") !== app.qrUrl) img.src = app.qrUrl;
  img.alt = app.t("presenter.lobby.qr_alt", { code: app.code });
  setText($("join-text"), snap.locked ? app.t("presenter.join.locked") : app.t("presenter.join.open", { code: app.code }));
  box.setAttribute("data-locked", String(Boolean(snap.locked)));
}

function tickTimer() {
  const node = $("timer");
  const snap = app.snap;
  if (!snap || !snap.timer_ends_at || snap.phase === "closed") {
    node.hidden = true;
    return;
  }
  const ms = snap.timer_ends_at - (Date.now() + app.clockOffset);
  node.hidden = false;
  // A started second counts, as on the phones: both say "De tijd is om" at the same moment.
  setText(node, ms > 0 ? app.t("presenter.timer", { time: formatRemaining(ms) }) : app.t("presenter.timer_done"));
}

// ------------------------------------------------------------------ lobby

async function loadQr() {
  if (app.qrUrl || app.qrLoading) return;
  app.qrLoading = true;
  try {
    // The display token may fetch the join QR: it is shown to the whole room anyway.
    const response = await fetch(`/api/rooms/${encodeURIComponent(app.code)}/qr.svg`, {
      headers: { Authorization: `Bearer ${app.token}` },
      cache: "no-store",
    });
    if (!response.ok) throw new Error(`qr: HTTP ${response.status}`);
    app.qrUrl = URL.createObjectURL(await response.blob());
    for (const img of [$("qr"), $("join-qr")]) if (img) img.src = app.qrUrl;
  } catch (error) {
    console.warn("kleur: QR code not loaded", error);
  } finally {
    app.qrLoading = false;
  }
}

function lobbyView(snap) {
  loadQr();
  const qr = el("img", {
    id: "qr",
    class: "lobby__qr",
    "data-testid": "qr",
    alt: app.t("presenter.lobby.qr_alt", { code: app.code }),
    width: "560",
    height: "560",
  });
  if (app.qrUrl) qr.src = app.qrUrl;
  const joined =
    snap.participants === 0 ? app.t("presenter.lobby.none") : plural("presenter.lobby.joined", snap.participants);
  return el(
    "section",
    { class: "lobby", "aria-labelledby": "view-title" },
    el("div", { class: "lobby__qr-box" }, qr),
    el(
      "div",
      { class: "lobby__text" },
      el("h1", { id: "view-title", class: "pres-title" }, app.t("presenter.lobby.title")),
      el("p", { class: "lobby__step" }, app.t("presenter.lobby.scan")),
      el("p", { class: "lobby__step" }, app.t("presenter.lobby.or_go")),
      el("p", { class: "lobby__url" }, window.location.host),
      el("p", { class: "lobby__step" }, app.t("presenter.lobby.and_type")),
      el("p", { class: "lobby__code", "data-testid": "join-code" }, app.code),
      el("p", { class: "lobby__count", "data-testid": "joined", "data-count": String(snap.participants) }, joined),
    ),
  );
}

// ------------------------------------------------------------------ rating (blind)

/**
 * Before the reveal the server sends no count per norm, only the answers in
 * counted in whole people (`progress`, agenda/progress.py): a figure that
 * ticked up right after one tap would tell the room which norm was just
 * answered.  One block per person, filled from the left.
 */
function ratingView(snap) {
  const progress = snap.progress || { people: snap.participants, complete: 0 };
  const { people, complete: done } = progress;
  return el(
    "section",
    { class: "rating", "aria-labelledby": "view-title" },
    el("h1", { id: "view-title", class: "pres-title" }, app.t("presenter.rating.title")),
    el(
      "div",
      { class: "rating__progress" },
      el("p", { class: "rating__total", "data-testid": "rating-total", "data-done": String(done), "data-total": String(people) },
        app.t("presenter.rating.total", { done, total: people })),
      peopleBar(done, people),
      el("p", { class: "rating__how" }, app.t("presenter.rating.how")),
    ),
    el("p", { class: "rating__hint" }, app.t("presenter.rating.hint")),
    el(
      "div",
      { class: "rating__themes" },
      app.themes.map((theme) =>
        el(
          "section",
          { class: "rating__theme", "aria-labelledby": `theme-${theme.id}` },
          el("h2", { class: "pres-subtitle", id: `theme-${theme.id}` }, theme.title),
          el(
            "ul",
            { class: "rating__norms" },
            theme.norms.map((norm) => el("li", { class: "rating__norm" }, `${norm.number}. ${norm.title}`)),
          ),
        ),
      ),
    ),
  );
}

/** A coarse bar: one block per person (one bar when the room is too big for blocks). */
const MAX_BLOCKS = 40;

function peopleBar(done, people) {
  if (people > MAX_BLOCKS) {
    const fill = el("span", { class: "meter__fill" });
    fill.style.width = `${people ? Math.min(100, (100 * done) / people) : 0}%`;
    return el("span", { class: "meter meter--people", "aria-hidden": "true", "data-testid": "rating-bar" }, fill);
  }
  return el(
    "ol",
    { class: "people-bar", "aria-hidden": "true", "data-testid": "rating-bar" },
    Array.from({ length: people }, (_, i) => el("li", { class: ["people-bar__one", i < done && "people-bar__one--done"] })),
  );
}

// ------------------------------------------------------------------ pages

/** The bottom of the space the views have: #main's content box. */
function spaceBottom() {
  const main = $("main");
  return main.getBoundingClientRect().bottom - parseFloat(getComputedStyle(main).paddingBottom) + 0.5;
}

/**
 * Split `items` into pages that each fit the screen.  `build(slice)` returns
 * a view whose `[data-fit]` elements' children are the slice's items, in
 * order (one list, or a table and a list after it); a page takes the items whose box ends above the bottom of #main
 * (at least one, so the pages always move on).  Measured in #main itself,
 * at the size the screen has now.
 */
function fitPages(items, build) {
  if (!items.length) return [[]];
  const main = $("main");
  const pages = [];
  let start = 0;
  while (start < items.length) {
    const rest = items.slice(start);
    main.replaceChildren(build(rest));
    const shown = [...main.querySelectorAll("[data-fit]")].flatMap((list) => [...list.children]);
    const bottom = spaceBottom();
    const fits = shown.findIndex((child) => child.getBoundingClientRect().bottom > bottom);
    const n = shown.length ? Math.max(1, fits < 0 ? shown.length : fits) : rest.length;
    pages.push(rest.slice(0, n));
    start += n;
  }
  return pages;
}

/** Pages beyond this many show as "3/12" instead of one dot each. */
const MAX_DOTS = 8;

/**
 * Where the pages are, in the header (in place of the people count): one dot
 * per page, and the "held" mark while the facilitator holds the page.
 */
function renderPager() {
  const box = $("pages");
  const count = app.pages.length;
  const show = count > 1 || app.held;
  box.setAttribute("data-page", String(app.page + 1));
  box.setAttribute("data-pages", String(count));
  box.hidden = !show;
  $("people").hidden = show;
  if (!show) {
    box.replaceChildren();
    return;
  }
  const at = app.page;
  let where = null;
  if (count > MAX_DOTS) {
    where = el("span", { class: "pager__count" }, `${at + 1}/${count}`);
  } else if (count > 1) {
    where = el(
      "ol",
      { class: "pager", "aria-hidden": "true" },
      Array.from({ length: count }, (_, i) => el("li", { class: ["pager__dot", i === at && "pager__dot--current"] })),
    );
  }
  const held = app.held
    ? el("span", { class: "pager__held", "data-testid": "held" }, el("span", { class: "pager__pause", "aria-hidden": "true" }), app.t("presenter.pages.held"))
    : null;
  const said = el("span", { class: "visually-hidden" }, app.t("presenter.pages.at", { n: at + 1, total: count }));
  box.replaceChildren(...[said, held, where].filter(Boolean)); // replaceChildren(null) would write "null"
}

// ------------------------------------------------------------------ reveal

/** The same pages, with the items spread evenly (a theme of 5 in 3 + 2, not 4 + 1). */
function balanced(pages) {
  if (pages.length < 2) return pages;
  const items = pages.flat();
  const size = Math.ceil(items.length / pages.length);
  const even = [];
  for (let start = 0; start < items.length; start += size) even.push(items.slice(start, start + size));
  return even;
}

function revealPages(snap) {
  const context = {
    results: new Map(snap.norms.map((r) => [r.norm_id, r])),
    insights: new Map(((snap.analysis && snap.analysis.norms) || []).map((n) => [n.norm_id, n])),
    previous: new Map(((snap.previous && snap.previous.norms) || []).map((n) => [n.norm_id, n])),
  };
  const pages = [];
  app.themes.forEach((theme, index) => {
    const first = { theme, index, part: 0, parts: 1 };
    const parts = balanced(fitPages(theme.norms, (norms) => themeView(snap, context, { ...first, norms })));
    parts.forEach((norms, part) => {
      const page = { theme, index, norms, part, parts: parts.length };
      pages.push({ kind: "theme", index, build: () => themeView(snap, context, page) });
    });
  });
  const breakdown = (snap.analysis && snap.analysis.breakdown) || [];
  if (breakdown.length) pages.push({ kind: "matrix", build: () => matrixView(snap) });
  if (!pages.length) pages.push({ kind: "empty", build: () => el("p", { class: "pres-empty" }, app.t("presenter.reveal.none")) });
  return pages;
}

/** The page `?theme=N` or `?view=matrix` asks for, if this phase has it. */
function pinnedIndex(pages) {
  if (!app.pinned) return -1;
  if (app.pinned.matrix) return pages.findIndex((p) => p.kind === "matrix");
  return pages.findIndex((p) => p.kind === "theme" && p.index === app.pinned.theme);
}

function themeView(snap, context, page) {
  const themeCount = app.themes.length;
  return el(
    "section",
    { class: "reveal", "aria-labelledby": "view-title", "data-testid": "reveal-page", "data-theme": page.theme.id },
    el(
      "div",
      { class: "reveal__head" },
      el("h1", { id: "view-title", class: "pres-title" },
        page.parts > 1 ? `${page.theme.title} (${page.part + 1}/${page.parts})` : page.theme.title),
      el("p", { class: "reveal__page" }, app.t("presenter.reveal.page", { n: page.index + 1, total: themeCount })),
      scaleLegend(),
    ),
    el(
      "ul",
      { class: "reveal__norms", "data-fit": "" },
      page.norms.map((norm) =>
        normRow(snap, norm, context.results.get(norm.id), context.insights.get(norm.id), context.previous.get(norm.id)),
      ),
    ),
  );
}

/** What the ends of the axis mean, in the template's words ("0 = zeer slecht, 10 = uitstekend"). */
function scaleLegend() {
  const scale = app.template && app.template.scale;
  if (!scale || !scale.min_label || !scale.max_label) return null;
  const { min, max, min_label: minLabel, max_label: maxLabel } = scale;
  return el("p", { class: "reveal__page", lang: app.template.language },
    app.t("presenter.reveal.scale", { min, max, min_label: minLabel, max_label: maxLabel }));
}

function agreementText(insight) {
  if (!insight || insight.consensus === null || insight.consensus === undefined) return "";
  if (insight.contested) return app.t("presenter.reveal.disagree");
  return insight.consensus >= AGREE_FROM ? app.t("presenter.reveal.agree") : app.t("presenter.reveal.partly");
}

function rangeText(insight) {
  const low = insight?.most_low;
  const high = insight?.most_high;
  if (low === null || low === undefined || high === null || high === undefined) return "";
  // The server's middle range in whole scores (NormInsight.most_low/most_high,
  // agenda/stats.py rounds the quartiles outward): one text for every screen and export.
  if (low === high) return app.t("presenter.reveal.range_one", { value: number(low) });
  return app.t("presenter.reveal.range", { low: number(low), high: number(high) });
}

/** "+1", "−0,5", "0": a change with its sign, in the page's language. */
function signed(value) {
  const text = number(Math.abs(value));
  if (value > 0) return `+${text}`;
  if (value < 0) return `−${text}`;
  return text;
}

/** Round 2 and later: how the middle score moved since the round before (NormInsight.median_delta). */
function shiftText(snap, insight) {
  if (!(snap.round > 1) || !insight || !Number.isFinite(insight.median_delta)) return null;
  const delta = insight.median_delta;
  const arrow = delta > 0 ? "▲" : delta < 0 ? "▼" : "=";
  return el(
    "p",
    { class: "norm__shift", "data-testid": `shift-${insight.norm_id}`, "data-delta": String(delta) },
    el("span", { "aria-hidden": "true" }, `${arrow} `),
    app.t("presenter.reveal.shift", { median: signed(delta), round: snap.round - 1 }),
  );
}

function normRow(snap, norm, result, insight, previous) {
  const n = result ? result.received : 0;
  const contested = Boolean(insight && insight.contested);
  const words = [
    el("h2", { class: "norm__title" }, `${norm.number}. ${norm.title}`),
    contested
      ? el(
          "p",
          { class: "norm__contested", "data-testid": `contested-${norm.id}` },
          // An icon and a word, never colour alone.
          el("span", { class: "norm__contested-icon", "aria-hidden": "true" }, "⚠"),
          el("strong", {}, app.t("presenter.reveal.contested")),
          " ",
          app.t("presenter.reveal.contested_hint"),
        )
      : null,
    el("p", { class: "norm__range", "data-testid": `range-${norm.id}` }, rangeText(insight)),
    el("p", { class: "norm__agree" }, agreementText(insight)),
    shiftText(snap, insight),
    previous && previous.median_before !== null
      ? el("p", { class: "norm__before" }, app.t("presenter.reveal.change", { before: number(previous.median_before) }))
      : null,
  ];
  return el(
    "li",
    {
      class: ["norm", contested && "norm--contested"],
      "data-testid": `norm-${norm.id}`,
      "data-received": String(n),
      "data-contested": String(contested),
    },
    el("div", { class: "norm__words" }, words),
    histogram(norm, result),
  );
}

/**
 * Bars on a fixed 0–10 axis plus "weet niet", heights by count: two camps
 * show as two humps.  Each bar carries its count as text, so neither colour
 * nor height alone carries the numbers.
 */
function histogram(norm, result) {
  const values = scaleValues();
  const counts = (result && result.counts) || values.map(() => 0);
  const dontKnow = (result && result.dont_know) || 0;
  const hasDontKnow = !app.template || app.template.scale.dont_know !== false;
  const max = Math.max(1, ...counts, dontKnow);
  const column = (label, count, extra) => {
    const bar = el("span", { class: "hist__bar" });
    bar.style.height = `${(100 * count) / max}%`;
    return el(
      "li",
      { class: ["hist__col", extra], "data-count": String(count) },
      el("span", { class: "hist__count" }, count ? String(count) : ""),
      el("span", { class: "hist__track" }, bar),
      el("span", { class: "hist__label" }, label),
    );
  };
  const described = values.map((v, i) => app.t("presenter.reveal.chart_value", { value: v, n: counts[i] || 0 }));
  if (hasDontKnow) described.push(app.t("presenter.reveal.chart_value", { value: app.t("presenter.reveal.dont_know"), n: dontKnow }));
  return el(
    "figure",
    { class: "hist", "data-testid": `hist-${norm.id}` },
    el("figcaption", { class: "visually-hidden" },
      app.t("presenter.reveal.chart", { norm: norm.title, counts: described.join(", ") })),
    el(
      "ol",
      { class: "hist__cols", "aria-hidden": "true" },
      values.map((v, i) => column(String(v), counts[i] || 0, null)),
      hasDontKnow ? column(app.t("presenter.reveal.dont_know"), dontKnow, "hist__col--dk") : null,
    ),
  );
}

// ------------------------------------------------------------------ matrix

function matrixView(snap) {
  const breakdown = snap.analysis.breakdown;
  const orgOrder = (app.template ? app.template.org_types : []).map((o) => o.id);
  const orgs = orgOrder.filter((id) => breakdown.some((b) => b.org_type === id));
  const cell = new Map(breakdown.map((b) => [`${b.norm_id}|${b.org_type}`, b]));
  const everyone = new Map(snap.norms.map((r) => [r.norm_id, r.median]));
  return el(
    "section",
    { class: "matrix", "aria-labelledby": "view-title", "data-testid": "matrix" },
    el(
      "div",
      { class: "reveal__head" },
      el("h1", { id: "view-title", class: "pres-title" }, app.t("presenter.matrix.title")),
      el("p", { class: "reveal__page" }, app.t("presenter.reveal.matrix_page")),
    ),
    el("p", { class: "matrix__hint" }, app.t("presenter.matrix.hint")),
    el(
      "table",
      { class: "matrix__table" },
      el(
        "thead",
        {},
        el(
          "tr",
          {},
          el("th", { scope: "col", class: "matrix__norm" }, app.t("presenter.matrix.norm")),
          el("th", { scope: "col" }, app.t("presenter.matrix.all")),
          orgs.map((org) => el("th", { scope: "col" }, app.orgLabel.get(org) || org)),
        ),
      ),
      el(
        "tbody",
        {},
        app.themes.flatMap((theme) =>
          theme.norms.map((norm) =>
            el(
              "tr",
              { "data-testid": `matrix-${norm.id}` },
              el("th", { scope: "row", class: "matrix__norm" }, `${norm.number}. ${norm.title}`),
              el("td", {}, number(everyone.get(norm.id))),
              orgs.map((org) => {
                const entry = cell.get(`${norm.id}|${org}`);
                const median = entry ? entry.median : null;
                return el("td", { "data-org": org }, median === null ? app.t("presenter.matrix.hidden") : number(median));
              }),
            ),
          ),
        ),
      ),
    ),
  );
}

// ------------------------------------------------------------------ wall

/**
 * The wall as one list: groups (one item each in dot voting) and loose ideas.
 * Once the dots are shown it is one ranking, most dots first, groups and
 * loose ideas together; before that the groups come first, as the facilitator
 * made them.
 */
function wallItems(snap) {
  const voting = snap.voting;
  const dots = new Map(voting.state === "shown" && voting.results ? voting.results.map((r) => [r.note_id, r.dots]) : []);
  const byId = new Map(snap.notes.map((n) => [n.note_id, n]));
  const grouped = new Set();
  const items = [];
  for (const group of snap.groups) {
    const notes = group.note_ids.map((id) => byId.get(id)).filter(Boolean);
    for (const note of notes) grouped.add(note.note_id);
    items.push({ kind: "group", id: group.group_id, group, notes, dots: dots.get(group.group_id) });
  }
  for (const note of snap.notes) {
    if (!grouped.has(note.note_id)) items.push({ kind: "note", id: note.note_id, note, dots: dots.get(note.note_id) });
  }
  if (dots.size) items.sort((a, b) => (b.dots || 0) - (a.dots || 0)); // stable: ties keep their order
  return { items, ranked: dots.size > 0 };
}

function wallCard(item) {
  const dots = item.dots === undefined ? null : plural("presenter.wall.dots", item.dots);
  if (item.kind === "group") {
    return el(
      "li",
      { class: "card card--group", "data-testid": `wall-group-${item.id}`, "data-dots": String(item.dots || 0) },
      el("h2", { class: "card__title" }, item.group.title, dots ? [" ", el("span", { class: "wall__group-dots" }, "· ", dots)] : null),
      el(
        "ul",
        { class: "card__notes" },
        item.notes.map((note) => el("li", { class: "card__note", "data-testid": `wall-note-${note.note_id}` }, note.text)),
      ),
    );
  }
  return el(
    "li",
    { class: "card", "data-testid": `wall-note-${item.id}`, "data-dots": String(item.dots || 0) },
    el("span", { class: "card__text" }, item.note.text),
    dots ? el("span", { class: "card__dots" }, dots) : null,
  );
}

function wallView(snap, items, ranked) {
  const voting = snap.voting;
  let status = null;
  if (voting.state === "open") {
    status = el("p", { class: "wall__voting" }, app.t("presenter.wall.voting_open"), " ",
      plural("presenter.wall.voting_cast", voting.dots_cast));
  } else if (ranked) {
    status = el("p", { class: "reveal__page" }, app.t("presenter.wall.ranked"));
  }
  return el(
    "section",
    { class: "wall", "aria-labelledby": "view-title", "data-testid": "wall" },
    el("div", { class: "reveal__head" }, el("h1", { id: "view-title", class: "pres-title" }, app.t("presenter.wall.title")), status),
    snap.notes.length ? null : el("p", { class: "pres-empty" }, app.t("presenter.wall.none")),
    items.length ? el("ul", { class: "wall__items", "data-fit": "", "data-testid": "wall-items" }, items.map(wallCard)) : null,
  );
}

function wallPages(snap) {
  const { items, ranked } = wallItems(snap);
  return fitPages(items, (slice) => wallView(snap, slice, ranked)).map((slice) => ({
    kind: "wall",
    build: () => wallView(snap, slice, ranked),
  }));
}

// ------------------------------------------------------------------ agenda

/** One agenda page: its agenda items, then (a follow-up scan) the earlier scan's agreements. */
function agendaView(snap, items, earlier) {
  const closed = snap.phase === "closed";
  let table = null;
  if (items.length) {
    table = el(
      "table",
      { class: "agenda__table" },
      el(
        "thead",
        {},
        el(
          "tr",
          {},
          el("th", { scope: "col" }, app.t("presenter.agenda.action")),
          el("th", { scope: "col" }, app.t("presenter.agenda.owner")),
          el("th", { scope: "col" }, app.t("presenter.agenda.deadline")),
        ),
      ),
      el(
        "tbody",
        { "data-fit": "" },
        items.map((item) =>
          el(
            "tr",
            { "data-testid": `agenda-${item.item_id}` },
            el("td", { class: "agenda__action" }, item.action,
              item.norm_id ? el("span", { class: "agenda__norm" }, normTitle(item.norm_id)) : null),
            el("td", {}, item.owner || app.t("presenter.agenda.no_owner")),
            el("td", {}, item.deadline ? date(item.deadline) : app.t("presenter.agenda.no_deadline")),
          ),
        ),
      ),
    );
  } else if (!snap.agenda.length) {
    table = el("p", { class: "pres-empty" }, app.t("presenter.agenda.none"));
  }
  return el(
    "section",
    { class: "agenda", "aria-labelledby": "view-title", "data-testid": "agenda" },
    el("div", { class: "reveal__head" }, el("h1", { id: "view-title", class: "pres-title" }, app.t("presenter.agenda.title"))),
    closed ? el("p", { class: "agenda__thanks" }, app.t("presenter.closed.thanks")) : null,
    table,
    earlier.length ? previousView(earlier) : null,
  );
}

/** The earlier scan's agreements (a follow-up scan), after the agenda. */
function previousView(items) {
  return el(
    "section",
    { class: "previous", "aria-labelledby": "previous-title", "data-testid": "previous" },
    el("h2", { class: "pres-subtitle", id: "previous-title" }, app.t("presenter.previous.title")),
    el(
      "ul",
      { class: "previous__items", "data-fit": "" },
      items.map((item) => {
        const status = FOLLOW_UP_STATUSES.includes(item.status) ? item.status : "open";
        return el(
          "li",
          { class: `previous__item previous__item--${status}` },
          el("span", { class: "previous__status" }, app.t(`presenter.previous.status.${status}`)),
          el("span", {}, item.action),
        );
      }),
    ),
  );
}

function agendaPages(snap) {
  const earlier = (snap.previous && snap.previous.items) || [];
  const items = [...snap.agenda.map((item) => ({ item })), ...earlier.map((before) => ({ before }))];
  const build = (slice) =>
    agendaView(
      snap,
      slice.filter((x) => x.item).map((x) => x.item),
      slice.filter((x) => x.before).map((x) => x.before),
    );
  return fitPages(items, build).map((slice) => ({ kind: "agenda", build: () => build(slice) }));
}

// ------------------------------------------------------------------ rendering

const one = (view) => (snap) => [{ kind: "one", build: () => view(snap) }];

const PAGES = {
  lobby: one(lobbyView),
  rating: one(ratingView),
  reveal: revealPages,
  brainstorm: wallPages,
  agenda: agendaPages,
  closed: agendaPages,
};

function render() {
  const snap = app.snap;
  if (!snap || !app.template) return;
  document.body.setAttribute("data-phase", snap.phase);
  document.title = app.t("presenter.title", { code: app.code });
  if (app.lastPhase !== snap.phase) {
    app.page = 0; // every phase starts at its first page, turning
    app.held = false;
    app.lastPhase = snap.phase;
  }
  renderHeader(snap);
  const pages = (PAGES[snap.phase] || PAGES.lobby)(snap);
  app.pages = pages;
  const pinned = pinnedIndex(pages);
  if (pinned >= 0) app.page = pinned;
  app.page = ((app.page % pages.length) + pages.length) % pages.length;
  $("main").replaceChildren(pages[app.page].build());
  renderPager();
  keepTurning();
  announce();
}

/** Turn by itself every PAGE_SECONDS, unless held, pinned or alone. */
function keepTurning() {
  const turning = app.pages.length > 1 && !app.held && !(app.pinned && pinnedIndex(app.pages) >= 0);
  if (turning && !app.turnTimer) {
    app.turnTimer = setTimeout(() => {
      app.turnTimer = null;
      turn(1);
    }, PAGE_SECONDS * 1000);
  } else if (!turning && app.turnTimer) {
    clearTimeout(app.turnTimer);
    app.turnTimer = null;
  }
}

function turn(delta) {
  if (!app.snap || !app.pages.length) return;
  app.pinned = null; // someone turns: the pin is over
  app.page += delta;
  clearTimeout(app.turnTimer); // a full PAGE_SECONDS on the new page
  app.turnTimer = null;
  render();
}

/** One page action, from a key or the control view: "next", "prev", "hold", "resume" or "toggle". */
function act(action) {
  if (action === "next") turn(1);
  else if (action === "prev") turn(-1);
  else {
    app.held = action === "toggle" ? !app.held : action === "hold";
    render();
  }
}

let announced = "";

/** Tell the control view where the pages are (after each change, or asked with force). */
function announce(force = false) {
  if (!app.channel) return;
  const message = {
    type: PRESENTER_PAGES.state,
    page: app.pages.length ? app.page + 1 : 0,
    pages: app.pages.length,
    held: app.held,
  };
  const key = JSON.stringify(message);
  if (!force && key === announced) return;
  announced = key;
  app.channel.postMessage(message);
}

const KEYS = { ArrowRight: "next", PageDown: "next", ArrowLeft: "prev", PageUp: "prev", " ": "toggle", p: "toggle", P: "toggle" };

function onKey(event) {
  if (event.altKey || event.ctrlKey || event.metaKey) return;
  const action = KEYS[event.key];
  if (!action) return;
  event.preventDefault();
  act(action);
  showHint();
}

/** For a moment after a key: where we are and which keys do what. */
function showHint() {
  const hint = $("hint");
  const count = app.pages.length;
  setText(hint, `${app.t("presenter.pages.at", { n: app.page + 1, total: count })} · ${app.t("presenter.pages.keys")}`);
  hint.hidden = false;
  clearTimeout(app.hintTimer);
  app.hintTimer = setTimeout(() => {
    hint.hidden = true;
  }, HINT_SECONDS * 1000);
}

function listenToControl() {
  if (typeof BroadcastChannel !== "function") return;
  app.channel = new BroadcastChannel(PRESENTER_PAGES.channel(app.code));
  app.channel.onmessage = (event) => {
    const data = event.data;
    if (!data || typeof data !== "object") return;
    if (data.type === PRESENTER_PAGES.page && PRESENTER_PAGES.actions.includes(data.action)) act(data.action);
    else if (data.type === PRESENTER_PAGES.query) announce(true);
  };
}

function status(text) {
  setText($("status"), text);
  $("status").hidden = !text;
}

async function loadTemplate(templateId) {
  if (app.template && app.template.id === templateId) return;
  const response = await fetch(`/api/templates/${encodeURIComponent(templateId)}`);
  if (!response.ok) throw new Error(`template: HTTP ${response.status}`);
  const template = await response.json();
  app.template = template;
  app.themes = template.themes.map((theme) => ({
    id: theme.id,
    title: theme.title,
    norms: theme.norms.map((norm) => ({ id: norm.id, number: norm.number, title: norm.title })),
  }));
  app.normById = new Map(app.themes.flatMap((theme) => theme.norms.map((norm) => [norm.id, norm])));
  app.orgLabel = new Map(template.org_types.map((o) => [o.id, o.label]));
  render();
}

function readToken() {
  const key = `kleur.${app.code}.display`;
  const fromHash = decodeURIComponent(location.hash.slice(1));
  if (fromHash) {
    sessionStorage.setItem(key, fromHash);
    // Off the address bar: the projector's screen is seen by everyone.
    history.replaceState(history.state, "", location.pathname + location.search);
    return fromHash;
  }
  return sessionStorage.getItem(key) || "";
}

function readPin() {
  const params = new URLSearchParams(location.search);
  if (params.get("view") === "matrix") return { matrix: true };
  const theme = Number(params.get("theme"));
  return Number.isInteger(theme) && theme >= 1 ? { theme: theme - 1 } : null;
}

async function main() {
  const parts = location.pathname.split("/").filter(Boolean);
  app.code = (parts[parts.length - 1] || "").toUpperCase();
  app.token = readToken();
  app.pinned = readPin();
  // The server chose the language (Accept-Language or ?lang=); no switch here.
  const served = (document.documentElement.lang || "").toLowerCase().split("-")[0];
  app.lang = LANGS.includes(served) ? served : "nl";
  const [t, protocol] = await Promise.all([loadTranslations(app.lang, null, "presenter"), loadProtocol()]);
  app.t = t;
  app.limits = protocol.limits || {};
  app.joinPhases = new Set((protocol.allowed_phases && protocol.allowed_phases.set_org_type) || []);
  for (const node of document.querySelectorAll("[data-i18n]")) setText(node, app.t(node.getAttribute("data-i18n")));
  setText($("room-code"), app.code);
  const tokenPattern = new RegExp(`^[A-Za-z0-9_-]{${app.limits.token_min_chars},${app.limits.token_max_chars}}$`);
  if (!tokenPattern.test(app.token)) {
    setText($("loading"), app.t("presenter.no_token"));
    return;
  }
  setInterval(tickTimer, 500);
  listenToControl();
  document.addEventListener("keydown", onKey);
  // A new size (the projector plugged in, a window moved): measure the pages again.
  let resizing = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizing);
    resizing = setTimeout(render, 150);
  });
  const conn = new Connection({
    room: app.code,
    role: "presenter",
    token: app.token,
    onWelcome: (welcome) => {
      loadTemplate(welcome.template_id).catch((error) => console.error(error));
    },
    onMessage: (message) => {
      if (message && message.type === "presenter") {
        app.clockOffset = message.server_time - Date.now();
        app.snap = message;
        render();
      }
    },
    onStatus: (state) => {
      if (state === "online") status("");
      else if (state === "offline") status(app.t("presenter.offline"));
      else if (state === "closed") status(app.t("presenter.closed"));
    },
  });
  conn.start();
}

main().catch((error) => {
  console.error(error);
  const loading = $("loading");
  if (loading) loading.textContent = "kleur: the presentation could not start / de presentatie kon niet starten.";
});
