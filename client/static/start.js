// The start page (/): type a room code to join, or start a new session.

import {
  el,
  isRoomCode,
  loadProtocol,
  loadTranslations,
  normalizeRoomCode,
  pageLanguage,
  renderLanguageSwitch,
} from "./kleur.js";

const EXAMPLE_CODE = "ABC234";
//: An earlier scan's export stays far below the server's request limit (1 MiB).
const MAX_PREVIOUS_BYTES = 1024 * 1024;
const SESSION_TEXT_MAX = 120;

const app = {
  t: null,
  lang: "nl",
  schema: null,
  templates: null, // null while loading, [] if none
  templatesFailed: false,
  chosen: null,
  code: "",
  joinError: null,
  createError: null,
  busy: false,
  // About the session (in every export): name, region, date.
  session: { name: "", region: "", date: today(), expected: "" },
  // A follow-up scan: the earlier scan's JSON export, parsed, and what it says.
  previous: null,
  previousName: "",
  previousError: null,
  previousInput: null,
};

/** Today as YYYY-MM-DD in the browser's own time zone. */
function today() {
  const now = new Date();
  const pad = (n) => String(n).padStart(2, "0");
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

const $ = (id) => document.getElementById(id);

function t(key, params) {
  return app.t(key, params);
}

async function main() {
  app.lang = pageLanguage();
  document.documentElement.lang = app.lang;
  try {
    [app.schema, app.t] = await Promise.all([
      loadProtocol(),
      loadTranslations(app.lang, (newT, lang) => {
        app.t = newT;
        app.lang = lang;
        render();
        loadTemplates(); // their titles and descriptions in the new language
      }),
    ]);
  } catch (error) {
    console.error(error);
    setTimeout(main, 3000);
    return;
  }
  render();
  loadTemplates();
}

async function loadTemplates() {
  try {
    const response = await fetch(`/api/templates?lang=${encodeURIComponent(app.lang)}`, {
      headers: { accept: "application/json" },
    });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    app.templates = await response.json();
    app.templatesFailed = false;
    if (!app.chosen && app.templates.length) app.chosen = app.templates[0].id;
  } catch (error) {
    console.error(error);
    app.templates = [];
    app.templatesFailed = true;
  }
  render();
}

function submitJoin(event) {
  event.preventDefault();
  const code = normalizeRoomCode($("join-code").value);
  app.code = $("join-code").value;
  if (!isRoomCode(app.schema, code)) {
    app.joinError = t("start.join.invalid", {
      length: app.schema.limits.room_code_length,
      example: EXAMPLE_CODE,
    });
    render();
    $("join-code").focus();
    return;
  }
  app.joinError = null;
  window.location.assign(`/j/${encodeURIComponent(code)}`);
}

async function submitCreate(event) {
  event.preventDefault();
  if (app.busy) return;
  if (app.previousError) {
    render();
    $("previous-file")?.focus();
    return;
  }
  if (!app.chosen) {
    app.createError = t("start.create.choose");
    render();
    return;
  }
  app.busy = true;
  app.createError = null;
  render();
  const body = { template: app.chosen };
  for (const field of ["name", "region", "date"]) {
    const value = app.session[field].trim();
    if (value) body[field] = value;
  }
  if (app.previous) body.previous = app.previous;
  // People expected at the table: more devices than that wait for the facilitator.
  const { min_expected_people: low, max_expected_people: high, default_expected_people: usual } = app.schema.limits;
  const expected = app.session.expected.trim() === "" ? usual : Number(app.session.expected);
  if (!Number.isInteger(expected) || expected < low || expected > high) {
    app.busy = false;
    app.createError = t("start.session.expected_bounds", { min: low, max: high });
    render();
    $("session-expected")?.focus();
    return;
  }
  body.expected_people = expected;
  try {
    const response = await fetch("/api/rooms", {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify(body),
    });
    if (response.status === 429) throw new Error("rate_limited");
    if (response.status === 400) {
      const refusal = await response.json().catch(() => ({}));
      throw Object.assign(new Error("refused"), { detail: String(refusal.detail || "") });
    }
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const room = await response.json();
    window.location.assign(room.facilitator_url);
    return;
  } catch (error) {
    if (error.message === "refused") {
      // The server names the field (e.g. "previous: ..."); kept as it says it.
      app.createError = t("start.create.refused", { detail: error.detail });
    } else {
      console.error(error);
      app.createError = t(
        error.message === "rate_limited" ? "start.create.rate_limited" : "start.create.error",
      );
    }
  }
  app.busy = false;
  render();
  $("start-session")?.focus();
}

/** Read the earlier scan's JSON export that the facilitator chose; check what we can here. */
async function choosePrevious(event) {
  const file = event.target.files && event.target.files[0];
  app.previous = null;
  app.previousError = null;
  app.previousName = file ? file.name : "";
  if (!file) {
    render();
    return;
  }
  try {
    if (file.size > MAX_PREVIOUS_BYTES) throw new Error("start.previous.too_large");
    let document_;
    try {
      document_ = JSON.parse(await file.text());
    } catch {
      throw new Error("start.previous.not_export");
    }
    if (!document_ || document_.format !== "kleur-result") throw new Error("start.previous.not_export");
    const templateId = document_.template && document_.template.id;
    if (!(app.templates || []).some((template) => template.id === templateId)) {
      throw new Error("start.previous.unknown_template");
    }
    app.previous = document_;
    app.chosen = templateId;
  } catch (error) {
    app.previousError = t(error.message.startsWith("start.") ? error.message : "start.previous.not_export");
  }
  render();
  $(app.previousError ? "previous-file" : "previous-summary")?.focus();
}

function previousSummary(previous) {
  const agenda = Array.isArray(previous.agenda) ? previous.agenda.length : 0;
  const key = agenda === 1 ? "start.previous.summary_one" : "start.previous.summary";
  return t(key, { room: String(previous.room || "?"), n: agenda });
}

function sessionFields() {
  const field = (name, type, extra = {}) => {
    const input = el("input", {
      type,
      id: `session-${name}`,
      name,
      "data-testid": `session-${name}`,
      maxlength: type === "text" ? String(SESSION_TEXT_MAX) : null,
      autocomplete: "off",
      oninput: (event) => {
        app.session[name] = event.target.value;
      },
      ...extra,
    });
    input.value = app.session[name];
    return el(
      "div",
      { class: "field" },
      el("label", { for: `session-${name}` }, t(`start.session.${name}`)),
      input,
    );
  };
  return el(
    "fieldset",
    { class: "fields" },
    el("legend", {}, t("start.session.legend")),
    el("p", { class: "hint", id: "session-hint" }, t("start.session.hint")),
    field("name", "text", { "aria-describedby": "session-hint" }),
    field("region", "text"),
    field("date", "date"),
    field("expected", "number", {
      min: String(app.schema.limits.min_expected_people),
      max: String(app.schema.limits.max_expected_people),
      placeholder: String(app.schema.limits.default_expected_people),
      inputmode: "numeric",
      "aria-describedby": "expected-hint",
    }),
    el("p", { class: "hint", id: "expected-hint" }, t("start.session.expected_hint", { n: app.schema.limits.default_expected_people })),
  );
}

/** One file input for the page's life: a new one on each render would forget the chosen file. */
function previousInput(describedBy) {
  if (!app.previousInput) {
    app.previousInput = el("input", {
      type: "file",
      id: "previous-file",
      name: "previous",
      accept: ".json,application/json",
      "data-testid": "previous-file",
      onchange: choosePrevious,
    });
  }
  app.previousInput.setAttribute("aria-describedby", describedBy);
  if (app.previousError) app.previousInput.setAttribute("aria-invalid", "true");
  else app.previousInput.removeAttribute("aria-invalid");
  return app.previousInput;
}

function previousField() {
  const describedBy = app.previousError ? "previous-hint previous-error" : "previous-hint";
  return el(
    "fieldset",
    { class: "fields" },
    el("legend", {}, t("start.previous.legend")),
    el("p", { class: "hint", id: "previous-hint" }, t("start.previous.hint")),
    el(
      "div",
      { class: "field" },
      el("label", { for: "previous-file" }, t("start.previous.label")),
      previousInput(describedBy),
    ),
    app.previousError
      ? el("p", { class: "error-text", id: "previous-error", role: "alert" }, app.previousError)
      : null,
    app.previous
      ? el(
          "p",
          { class: "previous-summary", id: "previous-summary", tabindex: "-1", "data-testid": "previous-summary" },
          previousSummary(app.previous),
        )
      : null,
  );
}

function renderLanguage() {
  renderLanguageSwitch($("lang-switch"), app.lang, t);
}

function joinSection() {
  const describedBy = app.joinError ? "join-hint join-error" : "join-hint";
  const input = el("input", {
    type: "text",
    id: "join-code",
    name: "code",
    class: "code-input",
    "data-testid": "join-code",
    autocomplete: "off",
    autocapitalize: "characters",
    spellcheck: "false",
    enterkeyhint: "go",
    maxlength: "20",
    "aria-describedby": describedBy,
    "aria-invalid": app.joinError ? "true" : null,
    oninput: (event) => {
      app.code = event.target.value;
    },
  });
  input.value = app.code;
  return el(
    "section",
    { class: "card", "aria-labelledby": "join-title" },
    el("h2", { id: "join-title" }, t("start.join.heading")),
    el(
      "form",
      { id: "join-form", novalidate: true, onsubmit: submitJoin },
      el("label", { for: "join-code" }, t("start.join.label")),
      el("p", { class: "hint", id: "join-hint" }, t("start.join.hint", { example: EXAMPLE_CODE })),
      input,
      app.joinError ? el("p", { class: "error-text", id: "join-error" }, app.joinError) : null,
      el(
        "div",
        { class: "actions" },
        el(
          "button",
          { type: "submit", class: "button", id: "join-button", "data-testid": "join-button" },
          t("start.join.button"),
        ),
      ),
    ),
  );
}

function createSection() {
  let body;
  if (app.templates === null) {
    body = [el("p", {}, t("common.loading"))];
  } else if (!app.templates.length) {
    body = [
      el("p", {}, t(app.templatesFailed ? "start.create.load_error" : "start.create.none")),
      app.templatesFailed
        ? el(
            "button",
            { type: "button", class: "button button-secondary", onclick: () => loadTemplates() },
            t("common.retry"),
          )
        : null,
    ];
  } else {
    body = [
      el("p", {}, t("start.create.intro")),
      el(
        "form",
        { id: "create-form", novalidate: true, onsubmit: submitCreate },
        el(
          "fieldset",
          { class: "choices" },
          el("legend", {}, t("start.create.legend")),
          ...app.templates.map((template) =>
            el(
              "div",
              { class: "choice choice-template" },
              el("input", {
                type: "radio",
                name: "template",
                id: `template-${template.id}`,
                value: template.id,
                "data-testid": `template-${template.id}`,
                "aria-describedby": `template-${template.id}-about`,
                checked: app.chosen === template.id,
                onchange: () => {
                  app.chosen = template.id;
                },
              }),
              el(
                "label",
                { for: `template-${template.id}` },
                el("span", { class: "template-title", lang: template.language }, template.title),
                el(
                  "span",
                  { class: "template-about", id: `template-${template.id}-about` },
                  el("span", { lang: template.language }, template.description),
                  " ",
                  el("span", { class: "template-norms" }, t("start.create.norms", { n: template.norms })),
                ),
              ),
            ),
          ),
        ),
        sessionFields(),
        previousField(),
        app.createError
          ? el("p", { class: "error-text", id: "create-error", role: "alert" }, app.createError)
          : null,
        el(
          "div",
          { class: "actions" },
          el(
            "button",
            {
              type: "submit",
              class: "button",
              id: "start-session",
              "data-testid": "start-session",
              "aria-disabled": app.busy ? "true" : null,
            },
            t(app.busy ? "start.create.busy" : app.previous ? "start.create.button_followup" : "start.create.button"),
          ),
        ),
      ),
    ];
  }
  return el(
    "section",
    { class: "card", "aria-labelledby": "create-title" },
    el("h2", { id: "create-title" }, t("start.create.heading")),
    ...body,
  );
}

function render() {
  document.title = t("start.page_title");
  renderLanguage();
  const page = $("main");
  const active = document.activeElement;
  const focusedId = active && page.contains(active) ? active.id : null;
  page.replaceChildren(
    el("h1", { class: "start-title" }, "kleur"),
    el("p", { class: "tagline" }, t("start.tagline")),
    joinSection(),
    createSection(),
  );
  if (focusedId && $(focusedId)) $(focusedId).focus({ preventScroll: true });
}

main();
