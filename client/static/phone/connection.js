// The connection's events (status, welcome, room_state, ack, error) and the
// commands the phone sends.  Each event updates the state in state.js and
// asks page.js to draw again.

import { ofOlderRound } from "../kleur.js";
import { BANNER_DELAY_MS, announce, renderBanner, serverNow, setNotice } from "./chrome.js";
import { render } from "./page.js";
import {
  allowedIn,
  app,
  closeCodeName,
  confirm,
  confirmedFromWelcome,
  firstOpenNorm,
  formatRemaining,
  lateKey,
  remainingMs,
} from "./state.js";
import { storage } from "./storage.js";
import { t } from "./ui.js";

export function onStatus(status, closeCode) {
  app.status = status;
  app.closeCode = closeCode;
  if (status === "online") app.everOnline = true;
  // Lost until a welcome says the room is back; the connection keeps trying meanwhile.
  if (closeCode !== null && closeCodeName(app.schema, closeCode) === "room_lost") app.roomLost = true;
  if (status === "online" || status === "closed") app.roomLost = false;
  if (status === "connecting") {
    app.connectingSince = Date.now();
    setTimeout(renderBanner, BANNER_DELAY_MS + 50);
  }
  if (status === "closed") {
    const name = closeCodeName(app.schema, closeCode);
    const key = `phone.closed.${name}`;
    app.fatal = { key: app.t.has(key) ? key : "phone.closed.generic" };
  }
  renderBanner();
  if (status === "closed") render();
}

export function onWelcome(welcome) {
  // Synchronous part first: the connection resends the outbox right after this.
  const lastRound = Number(storage("round"));
  let stale = [];
  if (storage("round") !== null && lastRound !== welcome.state.round) {
    // Answers typed during an earlier round must not count for this one.
    stale = forgetRatings();
  }
  storage("round", String(welcome.state.round));
  app.welcome = welcome;
  // Waiting for the facilitator (more devices than people expected, or late)?
  app.admission = { admitted: welcome.admitted !== false, code: welcome.device_code || "" };
  app.skew = welcome.server_time - Date.now();
  app.fatal = null;
  const c = app.confirmed;
  Object.assign(c, confirmedFromWelcome(welcome));
  if (c.org) c.orgChosen = true;
  roomState(welcome.state, { fromWelcome: true });
  tooLate(stale); // after the phase change, which clears the notice about the phase before
  if (!app.template || app.template.id !== welcome.template_id) {
    loadTemplate(welcome.template_id);
  }
  render();
}

export async function loadTemplate(id) {
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
    if (app.state?.phase === "rating" && !reload) app.index = firstOpenNorm(app);
    render();
  } catch (error) {
    console.error(error);
    setTimeout(() => loadTemplate(id), 3000);
  }
}

export function onMessage(message, command) {
  switch (message.type) {
    case "room_state":
      roomState(message);
      render();
      break;
    case "ack":
      if (command) confirm(app.confirmed, command);
      render();
      break;
    case "error":
      if (command) {
        const retry = app.schema.errors[message.code]?.retry;
        // A rating kept while offline, refused because the round closed meanwhile.
        if (command.type === "rate" && message.code === "wrong_phase") tooLate([command]);
        else if (!retry) showCommandError(message.code);
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
  // Admitted once the code left the waiting list (codes are unique among the
  // waiting devices); nobody is ever sent back, so this never turns back.
  const admission = app.admission;
  if (admission && !admission.admitted && !(state.waiting || []).includes(admission.code)) {
    admission.admitted = true;
    if (!fromWelcome) {
      setNotice("phone.waiting.admitted", {}, "ok");
      // A device let in again after its room was restored: now its answers can go.
      app.conn.resendAnswers(state);
    }
  }
  const newRound = Boolean(before) && before.round !== state.round;
  if (newRound && !fromWelcome) {
    app.confirmed.ratings.clear();
    app.confirmed.seconds.clear();
    tooLate(forgetRatings());
    // Nor sent again after a later welcome: kept ratings of the old round go too.
    app.conn.forgetAnswers(ofOlderRound(state.round));
    storage("round", String(state.round));
  }
  if (state.phase === "rating" && (before?.phase !== "rating" || newRound || app.index === null)) {
    app.index = app.norms.length ? firstOpenNorm(app) : null;
  }
  // A closed room takes no answer any more: the device need not keep them.
  if (state.phase === "closed") app.conn.forgetAnswers(() => true);
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
    const again = state.phase === "rating" && state.round > 1;
    messages.push(again ? t("phone.announce.rating_again", { round: state.round }) : t(`phone.announce.${state.phase}`));
    app.notice = null; // about the phase before
  }
  if (
    app.seen.voting !== null &&
    app.seen.voting !== state.voting.state &&
    allowedIn(app, "dot_vote", state.phase)
  ) {
    if (state.voting.state === "open") messages.push(t("phone.announce.voting_open"));
    if (state.voting.state === "shown") messages.push(t("phone.announce.voting_shown"));
  }
  if (remainingMs(state, serverNow()) !== null && state.timer_ends_at !== app.seen.timer && before) {
    messages.push(t("phone.timer.started", { time: formatRemaining(remainingMs(state, serverNow())) }));
  }
  app.seen.phase = state.phase;
  app.seen.voting = state.voting.state;
  app.seen.timer = state.timer_ends_at;
  if (messages.length) announce(messages.join(" "));
}

/** Drop the ratings still in the outbox (an earlier round's); returns them. */
function forgetRatings() {
  const ratings = app.conn.outbox.filter((message) => message.type === "rate");
  app.conn.forget((message) => message.type === "rate");
  return ratings;
}

/**
 * Ratings that reached the server after their round closed do not count: say
 * how many, plainly, instead of letting them vanish.  The count starts afresh
 * once the participant closed the notice about the last ones.
 */
function tooLate(ratings) {
  if (!ratings.length) return;
  const late = app.late;
  if (!app.notice?.key.startsWith("phone.late.")) late.count = 0;
  late.count += ratings.length;
  for (const rating of ratings) {
    late.answers.set(lateKey(rating.norm_id, rating.question), { round: rating.round, value: rating.value });
  }
  setNotice(late.count === 1 ? "phone.late.one" : "phone.late.other", { n: late.count }, "warn");
}

function showCommandError(code) {
  const key = `phone.error.${code}`;
  setNotice(app.t.has(key) ? key : "phone.error.generic", {}, "error");
}

// ------------------------------------------------------------------ commands

export function send(type, fields) {
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
