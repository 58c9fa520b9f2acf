// The admission panel: devices against the people expected, the expected number,
// the admission switch and the waiting list (one "Admit" per device).
//
// A device beyond the expected number, or new once the first round opened,
// waits until the facilitator admits it: extra devices could otherwise make a
// lone person's organisation type large enough to show (docs/protocol.md §3).

import { command } from "./commands.js";
import { app } from "./state.js";
import { $, button, h, keyed, place, setAttr, setText, showPanel, tr } from "./view.js";

export function buildAdmission() {
  keyed("waiting").clear();
  const limits = app.limits;
  const expected = h("input", {
    type: "number",
    id: "expected-people",
    "data-testid": "expected-people",
    class: "admission__number",
    min: limits.min_expected_people,
    max: limits.max_expected_people,
    inputmode: "numeric",
  });
  const save = () => {
    const value = Number(expected.value);
    const low = limits.min_expected_people;
    const high = limits.max_expected_people;
    if (!Number.isInteger(value) || value < low || value > high) {
      setText($("expected-error"), tr("admission.expected_bounds", { min: low, max: high }));
      return;
    }
    setText($("expected-error"), "");
    if (value !== app.snap.expected_people) command("set_expected_people", { expected: value });
  };
  expected.addEventListener("change", save);
  expected.addEventListener("keydown", (event) => {
    if (event.key === "Enter") save();
  });
  const toggle = h("input", {
    type: "checkbox",
    id: "admission-switch",
    "data-testid": "admission-switch",
    class: "moderation__check",
    "aria-describedby": "admission-help",
  });
  toggle.addEventListener("change", () => command("set_admission", { enabled: toggle.checked }));
  // Folded after the lobby (one line: title and count), open again when a device waits.
  $("admission").replaceChildren(
    h(
      "details",
      { class: "admission__fold", id: "admission-fold", "data-testid": "admission-fold", open: true },
      h(
        "summary",
        { class: "panel__head admission__summary" },
        h("h2", { id: "admission-title", class: "panel__title" }, tr("admission.title")),
        h("span", { class: "panel__count", id: "devices-count", "data-testid": "devices-count", "aria-live": "polite" }),
      ),
      ...admissionBody(expected, toggle),
    ),
  );
}

function admissionBody(expected, toggle) {
  return [
    h("p", { class: "admission__over", id: "devices-over", "data-testid": "devices-over", hidden: true }, tr("admission.over")),
    h(
      "div",
      { class: "admission__row" },
      h("label", { class: "admission__label", for: "expected-people" }, tr("admission.expected_label")),
      expected,
      h("p", { class: "admission__error", id: "expected-error", role: "alert" }),
    ),
    h("label", { class: "moderation__switch", for: "admission-switch" }, toggle, h("span", {}, tr("admission.switch"))),
    h("p", { class: "moderation__help", id: "admission-help" }, tr("admission.help")),
    h("h3", { class: "subtitle", id: "waiting-title" }, tr("admission.waiting_title")),
    h("ul", { class: "admission__list", id: "waiting-list", "aria-labelledby": "waiting-title" }),
    h("p", { class: "empty", id: "waiting-empty" }, tr("admission.none_waiting")),
  ];
}

function waitingItem(code) {
  return keyed("waiting").get(code, () =>
    h(
      "li",
      { class: "admission__item", "data-testid": `waiting-${code}` },
      h("span", { class: "admission__code", id: `wc-${code}` }, code),
      button(tr("admission.admit"), { class: "btn btn--small btn--primary", "data-testid": `admit-${code}`, "aria-label": tr("admission.admit_label", { code }) }, () =>
        command("admit", { code }),
      ),
    ),
  );
}

export function renderAdmission(snap) {
  if (!showPanel("admission", snap.phase !== "closed")) return;
  const expected = snap.expected_people;
  setText($("devices-count"), tr("admission.count", { n: snap.participants, m: expected }));
  setAttr($("devices-count"), "data-count", snap.participants);
  $("devices-over").hidden = snap.participants <= expected;
  const input = $("expected-people");
  if (document.activeElement !== input) input.value = String(expected);
  $("admission-switch").checked = snap.admission;
  const list = $("waiting-list");
  place(list, snap.waiting.map(waitingItem));
  keyed("waiting").sweep();
  $("waiting-empty").hidden = snap.waiting.length > 0;
  setAttr($("admission"), "data-waiting", String(snap.waiting.length > 0));
  // Open in the lobby and when someone starts waiting; else folded, unless opened by hand.
  const fold = $("admission-fold");
  const waiting = snap.waiting.length > 0;
  const key = `${snap.phase}:${waiting}`;
  if (fold.getAttribute("data-key") !== key) {
    const first = !fold.hasAttribute("data-key");
    const phaseChanged = first || !fold.getAttribute("data-key").startsWith(`${snap.phase}:`);
    if (phaseChanged || waiting) fold.open = snap.phase === "lobby" || waiting;
    fold.setAttribute("data-key", key);
  }
}
