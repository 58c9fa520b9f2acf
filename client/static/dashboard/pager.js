// The projector's results pages from here: previous, hold/resume, next.
//
// The presenter turns its results pages by itself every 20 s.  This view sends
// it commands over a BroadcastChannel, so only to a presenter in this browser
// (the window "Open presentatie" opened).  The contract is PRESENTER_PAGES in
// kleur.js, which presenter.js reads too: send {type: page, action}, or a query;
// the presenter answers {type: state, page: n (1 = first; 0: no pages), pages: m,
// held} after each change and on a query.  Without an answer (no presenter here,
// or on another device) the tool says so.

import { PRESENTER_PAGES } from "../kleur.js";
import { app } from "./state.js";
import { $, button, h, setText, tr } from "./view.js";

/** The buttons, in the order they stand (hold and resume share one place). */
export const PAGE_ACTIONS = ["prev", "hold", "resume", "next"];
/** How long to wait for the presenter's answer before saying there is none. */
export const ANSWER_MS = 1500;

export function channelName(code) {
  return PRESENTER_PAGES.channel(code);
}

/** The presenter's answer if it is one (a page-state with sane numbers), else null.
 * `{page: 0, pages: 0}`: the presenter is there, its phase has no pages. */
export function pageState(message) {
  if (!message || message.type !== PRESENTER_PAGES.state) return null;
  const { page, pages, held } = message;
  if (!Number.isInteger(page) || !Number.isInteger(pages)) return null;
  if (page === 0 && pages === 0) return { page, pages, held: Boolean(held) };
  if (pages < 1 || page < 1 || page > pages) return null;
  return { page, pages, held: Boolean(held) };
}

const pager = {
  channel: null,
  state: null, // the presenter's last page-state
  asked: 0, // when we last sent something (Date.now())
  answered: 0, // when the last answer came
  timer: null,
};

function openChannel() {
  if (pager.channel || typeof BroadcastChannel === "undefined") return pager.channel;
  pager.channel = new BroadcastChannel(channelName(app.code));
  pager.channel.addEventListener("message", (event) => {
    const state = pageState(event.data);
    if (!state) return;
    pager.state = state;
    pager.answered = Date.now();
    renderPagerState();
  });
  return pager.channel;
}

function post(message) {
  const channel = openChannel();
  if (!channel) return;
  pager.asked = Date.now();
  channel.postMessage(message);
  clearTimeout(pager.timer);
  pager.timer = setTimeout(renderPagerState, ANSWER_MS);
}

/** Ask the presenter where it is (on showing the tool, and after opening the presenter). */
export function queryPresenter() {
  post({ type: PRESENTER_PAGES.query });
}

function turn(action) {
  post({ type: PRESENTER_PAGES.page, action });
}

function build() {
  const tool = h(
    "section",
    { class: "tool pager", id: "pager", "data-testid": "pager", "aria-labelledby": "pager-title" },
    h("h3", { class: "tool__title", id: "pager-title" }, tr("pager.title")),
    h(
      "div",
      { class: "btn-row" },
      button(tr("pager.prev"), { class: "btn btn--secondary", "data-testid": "pager-prev" }, () => turn("prev")),
      button(tr("pager.hold"), { class: "btn btn--secondary", "data-testid": "pager-hold", id: "pager-hold", "aria-pressed": "false" }, () =>
        turn(pager.state && pager.state.held ? "resume" : "hold"),
      ),
      button(tr("pager.next"), { class: "btn btn--secondary", "data-testid": "pager-next" }, () => turn("next")),
      h("span", { class: "pager__state", id: "pager-state", "data-testid": "pager-state", role: "status" }),
    ),
    h("p", { class: "tool__status pager__none", id: "pager-none", "data-testid": "pager-none", hidden: true }, tr("pager.no_answer")),
  );
  const bar = $("results").querySelector(".results__bar");
  if (bar) bar.before(tool);
  else $("results").append(tool);
  return tool;
}

function renderPagerState() {
  const hold = $("pager-hold");
  if (!hold) return;
  const state = pager.state;
  const held = Boolean(state && state.held);
  setText(hold, held ? tr("pager.resume") : tr("pager.hold"));
  hold.setAttribute("aria-pressed", String(held));
  // Asked, waited, and nothing came since: no presenter here to hear it.
  const silent = pager.asked > 0 && pager.answered < pager.asked && Date.now() - pager.asked >= ANSWER_MS;
  const known = state && state.pages > 0 && !silent; // 0 pages: there, nothing to say
  setText($("pager-state"), known ? tr(held ? "pager.state_held" : "pager.state", { page: state.page, pages: state.pages }) : "");
  $("pager-none").hidden = !silent;
}

/** In the reveal phase, the tool at the top of the results panel (which must be shown). */
export function renderPager(snap) {
  let tool = $("pager");
  const wanted = snap.phase === "reveal";
  if (!wanted) {
    if (tool) tool.remove();
    return;
  }
  if (!tool) {
    tool = build();
    queryPresenter();
  }
  renderPagerState();
}
