// The presenter view (/p/{CODE}#{display token}): the projector at the front of the room.
//
// Read-only by construction: the server sends a `presenter` snapshot with only
// what the whole room may see (agenda.views.presenter) and refuses every
// command from this role.  The page has no buttons, inputs or forms; it
// follows the phase.  In the reveal it shows one theme's norms per screen and
// turns the page by itself every PAGE_SECONDS (the facilitator is busy at the
// laptop and should not have to drive a second screen), ending with the
// norm × organisation-type matrix.  `?theme=N` (1-based) or `?view=matrix`
// pins one page, e.g. for a screenshot or a session about one theme.
// Participant text only ever reaches the page as text nodes, through el().

import { Connection, el, loadProtocol, loadTranslations } from "./kleur.js";

const PAGE_SECONDS = 20;
// Rows that fit one 1080-pixel screen at these sizes; a theme with more
// (an operator's own template) is shown in parts, each on one screen.
const MAX_ROWS = 6;
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
  template: null,
  themes: [], // [{id, title, norms: [{id, number, title}]}]
  normById: new Map(),
  orgLabel: new Map(),
  snap: null,
  clockOffset: 0,
  page: 0,
  pinned: null, // {theme: index} or {matrix: true}
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
  const people = $("people");
  // Admitted devices against the people expected: more devices than people is visible.
  const counts = { n: snap.participants, m: snap.expected_people };
  setText(
    people,
    snap.participants === 1
      ? app.t("presenter.devices_expected.one", counts)
      : app.t("presenter.devices_expected.other", counts),
  );
  people.setAttribute("data-count", String(snap.participants));
  tickTimer();
}

function tickTimer() {
  const node = $("timer");
  const snap = app.snap;
  if (!snap || !snap.timer_ends_at || snap.phase === "closed") {
    node.hidden = true;
    return;
  }
  const left = Math.max(0, Math.round((snap.timer_ends_at - (Date.now() + app.clockOffset)) / 1000));
  node.hidden = false;
  const time = `${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}`;
  setText(node, left > 0 ? app.t("presenter.timer", { time }) : app.t("presenter.timer_done"));
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
    const img = $("qr");
    if (img) img.src = app.qrUrl;
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

// ------------------------------------------------------------------ reveal

function revealPages(snap) {
  const pages = [];
  app.themes.forEach((theme, index) => {
    const parts = Math.ceil(theme.norms.length / MAX_ROWS) || 1;
    for (let part = 0; part < parts; part += 1) {
      const norms = theme.norms.slice(part * MAX_ROWS, (part + 1) * MAX_ROWS);
      pages.push({ kind: "theme", theme, index, norms, part, parts });
    }
  });
  const breakdown = (snap.analysis && snap.analysis.breakdown) || [];
  if (breakdown.length) pages.push({ kind: "matrix" });
  return pages;
}

function currentPage(pages) {
  if (app.pinned && app.pinned.matrix) {
    const matrix = pages.find((p) => p.kind === "matrix");
    if (matrix) return matrix;
  }
  if (app.pinned && Number.isInteger(app.pinned.theme)) {
    const pinned = pages.find((p) => p.kind === "theme" && p.index === app.pinned.theme);
    if (pinned) return pinned;
  }
  return pages[app.page % pages.length];
}

function pager(pages, page) {
  const at = pages.indexOf(page);
  return el(
    "ol",
    { class: "pager", "aria-hidden": "true" },
    pages.map((p, i) => el("li", { class: ["pager__dot", i === at && "pager__dot--current"] })),
  );
}

function revealView(snap) {
  const pages = revealPages(snap);
  if (!pages.length) return el("p", { class: "pres-empty" }, app.t("presenter.reveal.none"));
  const page = currentPage(pages);
  if (page.kind === "matrix") return matrixView(snap, pages, page);
  const results = new Map(snap.norms.map((r) => [r.norm_id, r]));
  const insights = new Map(((snap.analysis && snap.analysis.norms) || []).map((n) => [n.norm_id, n]));
  const previous = new Map(((snap.previous && snap.previous.norms) || []).map((n) => [n.norm_id, n]));
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
      pager(pages, page),
    ),
    el(
      "ul",
      { class: "reveal__norms" },
      page.norms.map((norm) => normRow(norm, results.get(norm.id), insights.get(norm.id), previous.get(norm.id))),
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
  if (!insight || insight.q1 === null || insight.q3 === null || insight.q1 === undefined) return "";
  // The server's quartiles (NormInsight.q1/q3): one definition for every screen and export.
  if (insight.q1 === insight.q3) return app.t("presenter.reveal.range_one", { value: number(insight.q1) });
  return app.t("presenter.reveal.range", { low: number(insight.q1), high: number(insight.q3) });
}

function normRow(norm, result, insight, previous) {
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

function matrixView(snap, pages, page) {
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
      pager(pages, page),
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

function wallView(snap) {
  const voting = snap.voting;
  const dots = new Map(voting.state === "shown" && voting.results ? voting.results.map((r) => [r.note_id, r.dots]) : []);
  const byId = new Map(snap.notes.map((n) => [n.note_id, n]));
  const grouped = new Set();
  const card = (note) =>
    el(
      "li",
      { class: "card", "data-testid": `wall-note-${note.note_id}` },
      el("span", { class: "card__text" }, note.text),
      dots.has(note.note_id) ? el("span", { class: "card__dots" }, plural("presenter.wall.dots", dots.get(note.note_id))) : null,
    );
  const order = (notes) =>
    dots.size ? [...notes].sort((a, b) => (dots.get(b.note_id) || 0) - (dots.get(a.note_id) || 0)) : notes;
  // A group is one item in dot voting: its dots stand by its title, most dots first.
  const ordered = dots.size
    ? [...snap.groups].sort((a, b) => (dots.get(b.group_id) || 0) - (dots.get(a.group_id) || 0))
    : snap.groups;
  const groups = ordered.map((group) => {
    const notes = group.note_ids.map((id) => byId.get(id)).filter(Boolean);
    for (const note of notes) grouped.add(note.note_id);
    return el(
      "section",
      { class: "wall__group", "data-testid": `wall-group-${group.group_id}` },
      el(
        "h2",
        { class: "pres-subtitle" },
        group.title,
        dots.has(group.group_id)
          ? el("span", { class: "wall__group-dots" }, " · ", plural("presenter.wall.dots", dots.get(group.group_id)))
          : null,
      ),
      el("ul", { class: "wall__cards" }, notes.map(card)),
    );
  });
  const loose = snap.notes.filter((n) => !grouped.has(n.note_id));
  let status = null;
  if (voting.state === "open") {
    status = el("p", { class: "wall__voting" }, app.t("presenter.wall.voting_open"), " ",
      plural("presenter.wall.voting_cast", voting.dots_cast));
  }
  return el(
    "section",
    { class: "wall", "aria-labelledby": "view-title", "data-testid": "wall" },
    el("div", { class: "reveal__head" }, el("h1", { id: "view-title", class: "pres-title" }, app.t("presenter.wall.title")), status),
    snap.notes.length ? null : el("p", { class: "pres-empty" }, app.t("presenter.wall.none")),
    groups,
    loose.length
      ? el(
          "section",
          { class: "wall__group wall__group--loose" },
          groups.length ? el("h2", { class: "pres-subtitle" }, app.t("presenter.wall.loose")) : null,
          el("ul", { class: "wall__cards" }, order(loose).map(card)),
        )
      : null,
  );
}

// ------------------------------------------------------------------ agenda

function agendaView(snap) {
  const closed = snap.phase === "closed";
  return el(
    "section",
    { class: "agenda", "aria-labelledby": "view-title", "data-testid": "agenda" },
    el("h1", { id: "view-title", class: "pres-title" }, app.t("presenter.agenda.title")),
    closed ? el("p", { class: "agenda__thanks" }, app.t("presenter.closed.thanks")) : null,
    snap.agenda.length
      ? el(
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
            {},
            snap.agenda.map((item) =>
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
        )
      : el("p", { class: "pres-empty" }, app.t("presenter.agenda.none")),
    previousView(snap),
  );
}

function previousView(snap) {
  const items = (snap.previous && snap.previous.items) || [];
  if (!items.length) return null;
  return el(
    "section",
    { class: "previous", "aria-labelledby": "previous-title", "data-testid": "previous" },
    el("h2", { class: "pres-subtitle", id: "previous-title" }, app.t("presenter.previous.title")),
    el(
      "ul",
      { class: "previous__items" },
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

// ------------------------------------------------------------------ rendering

const VIEWS = {
  lobby: lobbyView,
  rating: ratingView,
  reveal: revealView,
  brainstorm: wallView,
  agenda: agendaView,
  closed: agendaView,
};

function render() {
  const snap = app.snap;
  if (!snap || !app.template) return;
  document.body.setAttribute("data-phase", snap.phase);
  document.title = app.t("presenter.title", { code: app.code });
  if (app.lastPhase !== snap.phase) {
    app.page = 0; // every reveal starts at the first theme
    app.lastPhase = snap.phase;
  }
  renderHeader(snap);
  const view = (VIEWS[snap.phase] || lobbyView)(snap);
  $("main").replaceChildren(view);
}

function turnPage() {
  if (!app.snap || app.snap.phase !== "reveal" || app.pinned) return;
  app.page += 1;
  render();
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
  for (const node of document.querySelectorAll("[data-i18n]")) setText(node, app.t(node.getAttribute("data-i18n")));
  setText($("room-code"), app.code);
  const tokenPattern = new RegExp(`^[A-Za-z0-9_-]{${app.limits.token_min_chars},${app.limits.token_max_chars}}$`);
  if (!tokenPattern.test(app.token)) {
    setText($("loading"), app.t("presenter.no_token"));
    return;
  }
  setInterval(tickTimer, 500);
  setInterval(turnPage, PAGE_SECONDS * 1000);
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
