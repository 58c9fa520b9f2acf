// The header: room code, people, the phase stepper and buttons, the timer.

import { announce, command, goToPhase } from "./commands.js";
import { phaseName } from "./format.js";
import { app, phaseButtonKey, ROUND_PHASES, TIMER_MINUTES } from "./state.js";
import { $, button, h, setAttr, setText, tr } from "./view.js";

export function buildHeader() {
  for (const node of document.querySelectorAll("[data-i18n]")) {
    setText(node, app.t(node.getAttribute("data-i18n")));
  }
  document.title = `${tr("title")} ${app.code}`;
  setText($("room-code"), app.code);
  const stepper = $("stepper");
  stepper.replaceChildren(
    ...app.phases.map((phase, i) =>
      h(
        "li",
        { class: "step", "data-step": phase },
        h("span", { class: "step__n", "aria-hidden": "true" }, String(i + 1)),
        h("span", { class: "step__name" }, phaseName(phase)),
      ),
    ),
  );
  const phaseButtons = $("phase-buttons");
  phaseButtons.replaceChildren(
    ...app.phases.map((phase) => {
      const node = button("", { class: `btn ${phase === "closed" ? "btn--danger" : "btn--primary"}`, "data-testid": `phase-to-${phase}` }, () =>
        goToPhase(phase),
      );
      node.hidden = true;
      return node;
    }),
  );
  const timerButtons = $("timer-buttons");
  timerButtons.replaceChildren(
    ...TIMER_MINUTES.map((minutes) =>
      button(
        tr("timer.minutes", { n: minutes }),
        { class: "btn btn--secondary", "data-testid": `timer-${minutes}`, "aria-label": tr("timer.start", { n: minutes }) },
        () => command("set_timer", { seconds: Math.min(minutes * 60, app.limits.max_timer_seconds) }),
      ),
    ),
    button(tr("timer.stop"), { class: "btn btn--secondary", "data-testid": "timer-stop", id: "timer-stop" }, () =>
      command("set_timer", { seconds: null }),
    ),
  );
  for (const lang of ["nl", "en"]) {
    setAttr($(`lang-${lang}`), "aria-pressed", String(lang === app.lang));
  }
  setText($("show-join"), tr("join.show"));
}

export function renderHeader(snap) {
  // The session's name (and region) as given at creation; older rooms have none.
  const session = snap.session;
  const sessionText = session ? [session.name, session.region].filter(Boolean).join(" · ") : "";
  setText($("session-name"), sessionText);
  $("session-name").hidden = !sessionText;
  setText($("participants"), snap.participants);
  setAttr($("participants"), "data-count", snap.participants);
  setText($("participants-label"), tr("participants", { n: snap.participants }));
  const phase = $("phase");
  setText(phase, phaseName(snap.phase));
  setAttr(phase, "data-phase", snap.phase);
  // "Cijfers geven ronde 2", "Uitslag ronde 2"; not "Ideeën ronde 2": ideas have no rounds.
  setText($("round"), snap.round > 1 && ROUND_PHASES.has(snap.phase) ? tr("round", { n: snap.round }) : "");
  const currentIndex = app.phases.indexOf(snap.phase);
  for (const step of $("stepper").children) {
    const index = app.phases.indexOf(step.getAttribute("data-step"));
    setAttr(step, "aria-current", index === currentIndex ? "step" : null);
    step.classList.toggle("step--done", index < currentIndex);
    step.classList.toggle("step--current", index === currentIndex);
  }
  const allowed = app.transitions[snap.phase] || [];
  for (const node of $("phase-buttons").children) {
    const target = node.getAttribute("data-testid").slice("phase-to-".length);
    node.hidden = !allowed.includes(target);
    setText(node, tr(phaseButtonKey(app.phases, snap.phase, target)));
  }
  const open = snap.phase !== "closed";
  $("timer-group").hidden = !open;
  $("timer-buttons").hidden = !open;
  $("timer-stop").hidden = !snap.timer_ends_at;
  const joinToggle = $("show-join");
  joinToggle.hidden = snap.phase === "lobby" || snap.phase === "closed";
  setAttr(joinToggle, "aria-expanded", String(app.showJoin));
  setText(joinToggle, app.showJoin ? tr("join.hide") : tr("join.show"));
  tickTimer();
}

export function tickTimer() {
  const node = $("timer");
  const snap = app.snap;
  if (!snap || !snap.timer_ends_at) {
    node.hidden = true;
    app.timerAnnounced = false;
    return;
  }
  const remaining = Math.max(0, snap.timer_ends_at - (Date.now() + app.clockOffset));
  const total = Math.ceil(remaining / 1000);
  const text = `${String(Math.floor(total / 60)).padStart(2, "0")}:${String(total % 60).padStart(2, "0")}`;
  node.hidden = false;
  setText(node, text);
  setAttr(node, "aria-label", tr("timer.remaining", { time: text }));
  node.classList.toggle("dash-timer__time--done", total === 0);
  node.classList.toggle("dash-timer__time--soon", total > 0 && total <= 30);
  if (total === 0 && !app.timerAnnounced) {
    app.timerAnnounced = true;
    announce(tr("timer.done"));
  } else if (total > 0) {
    app.timerAnnounced = false;
  }
}
