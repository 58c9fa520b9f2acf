// What stays around the content: title, room code, language switch, the
// offline banner, the notice under the status line, the phase and timer line,
// and the live region a screen reader reads out.

import { el, renderLanguageSwitch } from "../kleur.js";
import { allowedIn, app, formatRemaining, remainingMs } from "./state.js";
import { $, t } from "./ui.js";

/** Reconnecting for less than this after a loss is not worth a banner (a phone waking up). */
export const BANNER_DELAY_MS = 1500;

/** The server's clock now, as far as the welcome told us the difference. */
export function serverNow() {
  return Date.now() + app.skew;
}

/** A visible message under the status line; `key` is translated on every render. */
export function setNotice(key, params, kind) {
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

export function announce(text) {
  const announcer = $("announcer");
  announcer.textContent = "";
  // A fresh text node after a beat, so the same sentence is read again.
  setTimeout(() => {
    announcer.textContent = text;
  }, 50);
}

export function renderChrome() {
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
export function keepFocusClearOfBanner() {
  const slot = $("banner-slot");
  const update = () => {
    const height = slot.getBoundingClientRect().height;
    document.documentElement.style.scrollPaddingTop = height ? `${Math.ceil(height) + 8}px` : "";
  };
  new ResizeObserver(update).observe(slot);
}

export function renderBanner() {
  const slot = $("banner-slot");
  // Offline, or reconnecting after a loss: at once if the banner is up, else after a moment.
  const reconnecting =
    app.status === "connecting" &&
    app.everOnline &&
    (app.bannerShown || Date.now() - app.connectingSince >= BANNER_DELAY_MS);
  const lost = app.status === "offline" || reconnecting || app.roomLost;
  app.bannerShown = lost && !app.fatal;
  const existing = slot.firstElementChild;
  if (!lost || app.fatal) {
    if (existing) slot.replaceChildren();
    return;
  }
  // A room being restored is no fault of the phone's: a calm note, not a warning.
  // (The slot is role="status": read out politely, once per change.)
  const [kind, text] = app.roomLost
    ? ["banner-healing", t("phone.healing")]
    : ["banner-offline", t("phone.offline")];
  if (existing && existing.textContent === text) return;
  const testid = app.roomLost ? "healing-banner" : "offline-banner";
  slot.replaceChildren(el("p", { class: `banner ${kind}`, "data-testid": testid }, text));
}

export function renderNotice() {
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

export function renderStatusline() {
  const line = $("statusline");
  const phase = app.state?.phase;
  // A closed room runs no countdown, whatever an older server still sends.
  const timerEndsAt = phase === "closed" ? null : app.state?.timer_ends_at;
  // A later round is named while it is rated (the phases that take a rating, from
  // /api/protocol) and shown, so nobody thinks it is the first again.
  const inRound = allowedIn(app, "rate", phase) || phase === "reveal"; // reveal: a view choice
  const round = inRound && app.state.round > 1 ? app.state.round : null;
  const sig = JSON.stringify([app.lang, phase, round, Boolean(timerEndsAt), app.fatal]);
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
      round ? el("span", { class: "phase-round", "data-testid": "phase-round" }, ` ${t("phone.phase_round", { round })}`) : null,
    ),
    timerEndsAt
      ? el(
          "p",
          { class: "timer-line" },
          // "Nog 1:56": the words of the big screen, so both read the same.
          el("span", { class: "timer", id: "timer", role: "timer", "data-testid": "timer" }),
        )
      : null,
  ];
  line.replaceChildren(...parts.filter(Boolean));
  tick();
}

export function tick() {
  const timer = $("timer");
  if (!timer) return;
  const ms = remainingMs(app.state, serverNow());
  if (ms === null) return;
  const done = ms === 0;
  const text = done ? t("phone.timer.done") : t("phone.timer.left", { time: formatRemaining(ms) });
  if (timer.textContent !== text) timer.textContent = text;
  if (timer.classList.contains("timer-done") !== done) {
    timer.classList.toggle("timer-done", done);
    if (done && app.seen.timerDone !== app.state.timer_ends_at) {
      app.seen.timerDone = app.state.timer_ends_at;
      announce(t("phone.timer.ended"));
    }
  }
}
