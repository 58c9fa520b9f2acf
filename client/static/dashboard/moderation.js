// The moderation panel: notes waiting for approval.

import { command } from "./commands.js";
import { normLabel } from "./format.js";
import { app, MODERATE_PHASES, pendingNotes } from "./state.js";
import { $, button, h, keyed, place, setAttr, setText, showPanel, tr } from "./view.js";

export function buildModeration() {
  keyed("pending").clear();
  const toggle = h("input", { type: "checkbox", id: "moderation-switch", "data-testid": "moderation-switch", class: "moderation__check", "aria-describedby": "moderation-help" });
  toggle.addEventListener("change", () => command("set_moderation", { enabled: toggle.checked }));
  $("moderation").replaceChildren(
    h(
      "div",
      { class: "panel__head" },
      h("h2", { id: "moderation-title", class: "panel__title" }, tr("moderation.title")),
      h("p", { class: "panel__count", id: "moderation-count", "data-testid": "moderation-count", "aria-live": "polite" }),
    ),
    h("label", { class: "moderation__switch", for: "moderation-switch" }, toggle, h("span", {}, tr("moderation.switch"))),
    h("p", { class: "moderation__help", id: "moderation-help" }, tr("moderation.help")),
    h("ul", { class: "notes moderation__list", id: "pending-notes" }),
    h("p", { class: "empty", id: "moderation-empty" }),
    button(tr("moderation.approve_all"), { class: "btn btn--secondary", id: "approve-all", "data-testid": "approve-all" }, () => {
      for (const note of app.snap.notes) if (note.pending && !note.hidden) command("hide_note", { note_id: note.note_id, hidden: false });
    }),
  );
}

export function pendingCard(note) {
  return keyed("pending").get(note.note_id, () => {
    const id = note.note_id;
    return h(
      "li",
      { class: "note note--pending", "data-testid": `pending-${id}` },
      h("p", { class: "note__text", id: `pt-${id}` }),
      h("p", { class: "note__norm" }),
      h(
        "div",
        { class: "btn-row note__actions" },
        // hide_note with hidden=false approves a waiting note (protocol/messages.py HideNote).
        button(tr("moderation.approve"), { class: "btn btn--small btn--primary", "data-testid": `approve-${id}`, "aria-describedby": `pt-${id}` }, () =>
          command("hide_note", { note_id: id, hidden: false }),
        ),
        button(tr("moderation.reject"), { class: "btn btn--small btn--secondary", "data-testid": `reject-${id}`, "aria-describedby": `pt-${id}` }, () =>
          command("hide_note", { note_id: id, hidden: true }),
        ),
      ),
    );
  });
}

export function renderModeration(snap) {
  // Always while ideas are collected; in the other phases only when something waits, so that
  // an empty queue does not push the results off the first screen.
  const waiting = pendingNotes(snap.notes).length > 0;
  if (!showPanel("moderation", MODERATE_PHASES.has(snap.phase) && (snap.phase === "brainstorm" || waiting))) return;
  const on = Boolean(snap.moderation);
  const toggle = $("moderation-switch");
  if (toggle.checked !== on) toggle.checked = on;
  const pending = pendingNotes(snap.notes);
  const count = $("moderation-count");
  setText(count, pending.length ? tr("moderation.waiting", { n: pending.length }) : "");
  setAttr(count, "data-count", pending.length);
  const cards = pending.map((note) => {
    const card = pendingCard(note);
    setText(card.querySelector(".note__text"), note.text); // textContent: participant text stays text
    const normNode = card.querySelector(".note__norm");
    const normText = note.norm_id ? tr("wall.norm", { norm: normLabel(note.norm_id) }) : "";
    setText(normNode, normText);
    normNode.hidden = !normText;
    return card;
  });
  keyed("pending").sweep();
  place($("pending-notes"), cards);
  const empty = $("moderation-empty");
  empty.hidden = pending.length > 0;
  setText(empty, on ? tr("moderation.empty") : tr("moderation.off"));
  $("approve-all").hidden = pending.length < 2;
}
