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
};

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
    const response = await fetch("/api/templates", { headers: { accept: "application/json" } });
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
  if (!app.chosen) {
    app.createError = t("start.create.choose");
    render();
    return;
  }
  app.busy = true;
  app.createError = null;
  render();
  try {
    const response = await fetch("/api/rooms", {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ template: app.chosen }),
    });
    if (response.status === 429) throw new Error("rate_limited");
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const room = await response.json();
    window.location.assign(room.facilitator_url);
    return;
  } catch (error) {
    console.error(error);
    app.createError = t(
      error.message === "rate_limited" ? "start.create.rate_limited" : "start.create.error",
    );
  }
  app.busy = false;
  render();
  $("start-session")?.focus();
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
        app.createError ? el("p", { class: "error-text", id: "create-error" }, app.createError) : null,
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
            t(app.busy ? "start.create.busy" : "start.create.button"),
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
