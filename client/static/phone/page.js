// What #content shows in each phase: the panels in their order, plus the
// phase heading, the lobby and the screen shown when joining is impossible.

import { el } from "../kleur.js";
import { agendaSection } from "./agenda.js";
import { renderBanner, renderNotice, renderStatusline } from "./chrome.js";
import { notesSection } from "./notes.js";
import { orgFirstSection, orgSection } from "./org.js";
import { overviewSection, ratingSection } from "./rating.js";
import { resultsSection } from "./results.js";
import { allowedIn, app, asksOrgFirst, secondQuestion, view } from "./state.js";
import { $, patch, section, t } from "./ui.js";
import { votingSections } from "./voting.js";

export function render() {
  if (!app.t) return;
  renderBanner();
  renderStatusline();
  renderNotice();
  if (app.fatal) {
    patch([section("fatal", app.fatal, () => fatalScreen(app.fatal))]);
    return;
  }
  if (!app.state || !app.template) {
    patch([
      section("loading", null, () =>
        el("section", { class: "card" }, el("h1", {}, t("common.loading"))),
      ),
    ]);
    return;
  }
  const v = view(app);
  const phase = app.state.phase;
  if (app.admission && !app.admission.admitted && phase !== "closed") {
    patch([waitingScreen(app.admission.code)]);
    return;
  }
  const sections = [];
  switch (phase) {
    case "lobby":
      sections.push(lobbyIntro(), orgSection(v, true));
      break;
    case "rating":
      if (asksOrgFirst(app, v)) {
        sections.push(heading("rating"), orgFirstSection());
        break;
      }
      sections.push(heading("rating"), ratingSection(v), overviewSection(v));
      sections.push(notesSection(v, true), orgSection(v, false));
      break;
    case "reveal":
      sections.push(heading("reveal"), roundClosed(), resultsSection(v, false));
      sections.push(notesSection(v, true), orgSection(v, false));
      break;
    case "brainstorm":
      sections.push(heading("brainstorm"), ...votingSections(v), notesSection(v, true));
      sections.push(resultsSection(v, true), orgSection(v, false));
      break;
    case "agenda":
      sections.push(heading("agenda"), agendaSection(), ...votingSections(v));
      sections.push(notesSection(v, false), resultsSection(v, true), orgSection(v, false));
      break;
    default:
      sections.push(heading("closed"), agendaSection(), ...votingSections(v));
      sections.push(resultsSection(v, true), notesSection(v, false));
      break;
  }
  patch(sections.filter(Boolean));
  if (app.focusPhase) focusPhaseHeading();
}

/**
 * A phase opened: the focus goes to its heading (not left on <body>), unless
 * the participant is typing in a field that is still there.
 */
function focusPhaseHeading() {
  app.focusPhase = false;
  const active = document.activeElement;
  const typing = active && active.isConnected && active.matches("textarea, input[type=text], select");
  if (typing) return;
  const target = $("phase-title");
  if (target) target.focus({ preventScroll: true });
  window.scrollTo({ top: 0 });
}

/** Not admitted yet: the code the facilitator admits this device by. */
function waitingScreen(code) {
  return section("waiting", [code, app.lang], () =>
    el(
      "section",
      { class: "card", "aria-labelledby": "waiting-title", "data-testid": "waiting" },
      el("h1", { id: "waiting-title", tabindex: "-1" }, t("phone.waiting.title")),
      el("p", {}, t("phone.waiting.text")),
      el("p", { class: "device-code", "data-testid": "device-code", "aria-label": t("phone.waiting.code_label", { code: code.split("").join(" ") }) }, code),
      el("p", { class: "hint" }, t("phone.waiting.why")),
    ),
  );
}

function fatalScreen(fatal) {
  return el(
    "section",
    { class: "card" },
    el("h1", {}, t("phone.closed.title")),
    el("p", {}, t(fatal.key)),
    el(
      "p",
      { class: "actions" },
      el(
        "button",
        { type: "button", class: "button", onclick: () => window.location.reload() },
        t("common.retry"),
      ),
      el("a", { class: "button button-secondary", href: "/" }, t("common.home")),
    ),
  );
}

function heading(phase) {
  const orgFirst = phase === "rating" && asksOrgFirst(app, view(app));
  // A second round says so: the same scales again, with 0 of 20 answered,
  // would look as if the first round's answers were lost.
  const round = app.state.round;
  const again = phase === "rating" && !orgFirst && round > 1;
  // While dots are given, no idea can be written: the heading says what to do now.
  const dots = phase === "brainstorm" && app.state.voting.state === "open" && allowedIn(app, "dot_vote", phase);
  const texts = {
    rating: orgFirst
      ? ["phone.orgfirst.title", "phone.orgfirst.intro"]
      : [again ? "phone.rating.title_again" : "phone.rating.title", "phone.rating.intro"],
    reveal: ["phone.reveal.title", "phone.reveal.intro"],
    brainstorm: dots ? ["phone.dots.title", "phone.dots.intro"] : ["phone.brainstorm.title", "phone.brainstorm.intro"],
    agenda: ["phone.agenda.title", "phone.agenda.text"],
    closed: ["phone.closedphase.title", "phone.closedphase.text"],
  }[phase];
  const scale = app.template.scale;
  const params = { min: scale.min, max: scale.max, round, previous: round - 1 };
  const extra = {
    rating: orgFirst
      ? []
      : [
          again ? t("phone.rating.again_kept", params) : null,
          secondQuestion(app) ? t("phone.rating.intro_second") : null,
          scale.dont_know ? t("phone.rating.intro_dk") : null,
        ],
    agenda: [t("phone.agenda.look")],
    closed: [app.state.agenda?.length ? t("phone.closedphase.keep") : t("phone.closedphase.close")],
  }[phase] || [];
  return section(`head-${phase}`, [phase, params, texts, extra], () =>
    el(
      "header",
      { class: "phase-head" },
      el("h1", { id: "phase-title", tabindex: "-1" }, t(texts[0], params)),
      el("p", {}, t(texts[1], params)),
      ...extra.filter(Boolean).map((text) => el("p", {}, text)),
    ),
  );
}

function lobbyIntro() {
  const n = app.norms.length;
  return section("lobby", [n], () =>
    el(
      "header",
      { class: "phase-head" },
      el("h1", { id: "phase-title", tabindex: "-1" }, t("phone.lobby.title")),
      el("p", { class: "callout" }, t("phone.lobby.anonymous")),
      el("p", {}, t("phone.lobby.what", { n })),
      el("p", {}, t("phone.lobby.wait")),
    ),
  );
}

function roundClosed() {
  return section("round-closed", null, () =>
    el("p", { class: "callout", "data-testid": "round-closed" }, t("phone.round_closed")),
  );
}
