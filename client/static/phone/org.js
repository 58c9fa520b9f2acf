// The organisation type: asked in the lobby, kept under a fold later, and
// asked before the first norm of a latecomer (asksOrgFirst in state.js).

import { el } from "../kleur.js";
import { send } from "./connection.js";
import { render } from "./page.js";
import { focusCard } from "./rating.js";
import { allowedIn, app } from "./state.js";
import { storage } from "./storage.js";
import { section, t } from "./ui.js";

function chooseOrg(orgType) {
  app.confirmed.orgChosen = true;
  storage("org_chosen", "1");
  send("set_org_type", { org_type: orgType });
  render();
}

/** The organisation types as radios, plus "zeg ik liever niet" (value null). */
function orgFieldset(isChecked, onPick) {
  const radio = (id, value, label, labelLang) =>
    el(
      "div",
      { class: "choice" },
      el("input", {
        type: "radio",
        name: "org-type",
        id: `org-${id}`,
        value: id,
        "data-testid": `org-${id}`,
        checked: isChecked(value),
        onchange: () => onPick(value),
      }),
      el("label", { for: `org-${id}`, lang: labelLang }, label),
    );
  return el(
    "fieldset",
    { class: "choices", "aria-describedby": "org-why" },
    el("legend", {}, t("phone.org.legend")),
    el("p", { class: "hint", id: "org-why" }, t("phone.org.why", { min: app.schema.limits.min_group_size })),
    ...(app.template.org_types || []).map((org) => radio(org.id, org.id, org.label, app.template.language)),
    radio("none", null, t("phone.org.none"), null),
  );
}

export function orgSection(v, open) {
  const types = app.template.org_types || [];
  if (!types.length || !allowedIn(app, "set_org_type", app.state.phase)) return null;
  const chosen = v.org;
  // Fixed once the first round opened (a change would show what one rated);
  // one who has none may still pick one, once (asked before the first norm).
  if (app.state.phase !== "lobby" && chosen) {
    const label = (types.find((org) => org.id === chosen) || { label: chosen }).label;
    return section("org", ["fixed", chosen, app.template.language, app.lang], () =>
      el(
        "section",
        { class: "card card-quiet", "data-testid": "org-fixed" },
        el("h2", {}, t("phone.org.title")),
        el("p", {}, el("strong", { lang: app.template.language }, label)),
        el("p", { class: "hint" }, t("phone.org.fixed")),
      ),
    );
  }
  const noneChecked = chosen === null && app.confirmed.orgChosen;
  const data = [types, chosen, noneChecked, open, app.template.language];
  return section("org", data, () => {
    const fieldset = orgFieldset(
      (value) => (value === null ? noneChecked : chosen === value),
      (value) => chooseOrg(value),
    );
    if (open) {
      return el("section", { class: "card", "aria-labelledby": "org-title" },
        el("h2", { id: "org-title" }, t("phone.org.title")),
        fieldset,
      );
    }
    return el(
      "section",
      { class: "card card-quiet" },
      el(
        "details",
        {},
        el("summary", {}, t("phone.org.title")),
        fieldset,
      ),
    );
  });
}

export function orgFirstSection() {
  const types = app.template.org_types || [];
  const picked = app.orgDraft;
  return section("org-first", [types, picked, app.template.language], () => {
    const fieldset = orgFieldset(
      (value) => picked !== undefined && picked === value,
      // Only remembered here: arrow keys move through radios, and each move must not send.
      (value) => {
        app.orgDraft = value;
      },
    );
    return el(
      "section",
      { class: "card", "aria-labelledby": "org-title", "data-testid": "org-first" },
      el("h2", { id: "org-title" }, t("phone.org.title")),
      el(
        "form",
        { onsubmit: submitOrgFirst, novalidate: true },
        fieldset,
        el(
          "div",
          { class: "actions" },
          el(
            "button",
            { type: "submit", class: "button", id: "org-continue", "data-testid": "org-continue" },
            t("phone.orgfirst.continue"),
          ),
        ),
      ),
    );
  });
}

function submitOrgFirst(event) {
  event.preventDefault();
  if (app.orgDraft === undefined) {
    // Skipped: nothing to send, and not asked again on this device.
    app.confirmed.orgChosen = true;
    storage("org_chosen", "1");
    render();
  } else {
    chooseOrg(app.orgDraft);
  }
  focusCard();
}
