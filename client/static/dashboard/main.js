// The facilitator's dashboard (/f/{CODE}): read from the back of a room.
//
// Every `dashboard` message is a full snapshot of the room; render() updates
// the page from it in place (keyed nodes are reused, so focus, selection and
// half-typed form fields survive the 4 snapshots a second).  Participant text
// only ever reaches the page as text nodes, through el() or textContent.

import { Connection, loadProtocol, loadTranslations, pageLanguage, setLanguage } from "../kleur.js";
import { restoreFormState, saveFormState } from "./agenda-form.js";
import { setReconnect, showError } from "./commands.js";
import { loadLinks, presenterUrl, renderControl } from "./control.js";
import { buildHeader, tickTimer } from "./header.js";
import { queryPresenter } from "./pager.js";
import { buildAll, render } from "./panels.js";
import { keepSnapshot, renderLost, showLost } from "./restore.js";
import { app, closeName, normsOf, useProtocol } from "./state.js";
import { $, setText, tr } from "./view.js";

function onDashboard(snap) {
  app.clockOffset = snap.server_time - Date.now();
  app.snap = snap;
  keepSnapshot(snap);
  render();
}

function onStatus(status, closeCode) {
  app.closeCode = closeCode ?? null;
  // Lost from storage: the restore panel says what to do, not the status line.
  if (closeCode && closeName(closeCode) === "room_lost") showLost();
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
  renderLost();
  if (app.conn) onStatus(app.conn.status, app.closeCode);
  render();
  if (form && $("agenda-form")) {
    restoreFormState(form);
    render();
  }
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
  app.norms = normsOf(template);
  app.normById = new Map(app.norms.map((norm) => [norm.id, norm]));
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
  useProtocol(protocol);
  setReconnect(connect);
  buildHeader();
  for (const lang of ["nl", "en"]) $(`lang-${lang}`).addEventListener("click", () => switchLanguage(lang));
  $("show-join").addEventListener("click", () => {
    app.showJoin = !app.showJoin;
    render();
    if (app.showJoin) $("join").scrollIntoView({ block: "start" });
  });
  $("open-presenter").addEventListener("click", () => {
    // A window of its own (for the second screen), without a handle back to this one.
    // In this view's language (the presenter has no switch of its own; the server reads ?lang=).
    if (!app.links || !app.links.display_url) return;
    window.open(presenterUrl(app.links.display_url, app.lang), `kleur-presenter-${app.code}`, "noopener");
    // Where its results pages are, for the buttons that turn them (pager.js).
    if (app.snap && app.snap.phase === "reveal") setTimeout(queryPresenter, 2000);
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
        app.templateId = welcome.template_id;
        if (app.lost) {
          app.lost = false; // restored (in this window or another)
          renderLost();
        }
        loadTemplate(welcome.template_id).catch((error) => showError(error));
        // Only once the server took the token: a wrong one asks for nothing more.
        if (!app.links) loadLinks();
        resolve();
      },
      onMessage: (message) => {
        if (conn !== app.conn || !message) return;
        if (message.type === "dashboard") onDashboard(message);
        else if (message.type === "error" && message.code === "room_lost") showLost();
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
