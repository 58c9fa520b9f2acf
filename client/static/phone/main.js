// The participant's phone page: /j/{CODE}?t=JOINTOKEN
//
// What the page shows is the server's word (welcome, acks, room_state) with
// the commands still in the outbox laid on top, so an answer given offline
// or just before a reload is shown at once and sent when the phone is back.
//
// This module starts the page: texts, protocol, the address, the connection.
// The state and its selectors are in state.js, the connection's events in
// connection.js, what is drawn in page.js and one module per panel.

import {
  Connection,
  isRoomCode,
  loadProtocol,
  loadTranslations,
  normalizeRoomCode,
  pageLanguage,
} from "../kleur.js";
import { keepFocusClearOfBanner, renderChrome, tick } from "./chrome.js";
import { loadTemplate, onMessage, onStatus, onWelcome } from "./connection.js";
import { render } from "./page.js";
import { app } from "./state.js";
import { sessionGet, sessionSet, storage } from "./storage.js";

// ------------------------------------------------------------------ start

async function main() {
  app.lang = pageLanguage();
  document.documentElement.lang = app.lang;
  try {
    [app.schema, app.t] = await Promise.all([
      loadProtocol(),
      // Every text of the phone is in i18n/{lang}.json: no page catalogue to load.
      loadTranslations(app.lang, onLanguage, ""),
    ]);
  } catch (error) {
    console.error(error);
    setTimeout(main, 3000); // nothing to show without texts; the server is coming back
    return;
  }
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

main();
