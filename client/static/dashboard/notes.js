// The wall's note cards and a group's rename form.

import { promote } from "./agenda-form.js";
import { command, showError } from "./commands.js";
import { normLabel } from "./format.js";
import { app, EDIT_PHASES, MODERATE_PHASES } from "./state.js";
import { $, button, cleanText, h, keyed, setAttr, setText, tr } from "./view.js";

export function noteCard(note) {
  return keyed("notes").get(note.note_id, () => {
    const id = note.note_id;
    const select = h("input", {
      type: "checkbox",
      class: "note__check",
      id: `select-${id}`,
      "data-testid": `select-${id}`,
      "aria-describedby": `nt-${id}`,
    });
    select.addEventListener("change", () => {
      if (select.checked) app.selected.add(id);
      else app.selected.delete(id);
      renderSelection();
    });
    const card = h(
      "li",
      { class: "note", "data-testid": `note-${id}`, "data-note": id },
      h(
        "div",
        { class: "note__top" },
        h("label", { class: "note__select", for: `select-${id}` }, select, h("span", { class: "note__select-text" }, tr("wall.select"))),
        h("span", { class: "note__votes", "data-testid": `votes-${id}`, hidden: true }),
      ),
      h("p", { class: "note__text", id: `nt-${id}` }),
      h("p", { class: "note__norm" }),
      h(
        "div",
        { class: "btn-row note__actions" },
        button("", { class: "btn btn--small btn--secondary", "data-testid": `hide-${id}`, "aria-describedby": `nt-${id}` }, () => {
          const current = app.snap.notes.find((n) => n.note_id === id);
          if (current) command("hide_note", { note_id: id, hidden: !current.hidden });
        }),
        button(tr("wall.promote"), { class: "btn btn--small btn--primary", "data-testid": `promote-${id}`, "aria-describedby": `nt-${id}` }, () =>
          promote(id),
        ),
      ),
    );
    return card;
  });
}

export function renderNote(card, note, votes, phase) {
  const textNode = card.querySelector(".note__text");
  const shownText = note.hidden ? tr("wall.hidden_note") : note.text;
  setText(textNode, shownText); // textContent: participant text stays text
  textNode.classList.toggle("note__text--hidden", note.hidden);
  card.classList.toggle("note--hidden", note.hidden);
  const normText = note.norm_id ? tr("wall.norm", { norm: normLabel(note.norm_id) }) : "";
  const normNode = card.querySelector(".note__norm");
  setText(normNode, normText);
  normNode.hidden = !normText;
  const hide = card.querySelector(`[data-testid="hide-${note.note_id}"]`);
  setText(hide, note.hidden ? tr("wall.show_note") : tr("wall.hide_note"));
  setAttr(hide, "aria-pressed", String(note.hidden));
  const moderate = MODERATE_PHASES.has(phase);
  hide.hidden = !moderate;
  const promoteBtn = card.querySelector(`[data-testid="promote-${note.note_id}"]`);
  promoteBtn.hidden = !EDIT_PHASES.has(phase) || note.hidden;
  card.querySelector(".note__select").hidden = !EDIT_PHASES.has(phase);
  const select = card.querySelector(".note__check");
  select.checked = app.selected.has(note.note_id);
  card.classList.toggle("note--selected", select.checked);
  const votesNode = card.querySelector(".note__votes");
  votesNode.hidden = votes === null;
  if (votes !== null) {
    setText(votesNode, tr("voting.note_dots", { n: votes }));
    setAttr(votesNode, "data-count", votes);
  }
}

export function renderSelection() {
  const n = app.selected.size;
  setText($("selected-count"), tr("wall.selected", { n }));
  for (const card of $("wall").querySelectorAll(".note")) {
    const id = card.getAttribute("data-note");
    card.classList.toggle("note--selected", app.selected.has(id));
  }
}

/** The inline form that renames a note group (hidden until "Naam wijzigen"). */
export function renameForm(groupId) {
  const inputId = `rename-input-${groupId}`;
  const input = h("input", {
    type: "text",
    id: inputId,
    class: "input",
    "data-testid": `rename-input-${groupId}`,
    maxlength: String(app.limits.max_group_title_chars),
  });
  const cancel = button(tr("cancel"), { class: "btn btn--small btn--secondary" }, () => closeRename(groupId));
  return h(
    "form",
    {
      class: "group__rename",
      id: `rename-${groupId}`,
      hidden: true,
      novalidate: true,
      onsubmit: (event) => {
        event.preventDefault();
        saveRename(groupId);
      },
    },
    h("label", { for: inputId }, tr("wall.rename_label")),
    input,
    h(
      "div",
      { class: "btn-row" },
      h("button", { type: "submit", class: "btn btn--small btn--primary", "data-testid": `rename-save-${groupId}` }, tr("wall.rename_save")),
      cancel,
    ),
  );
}

export function openRename(groupId) {
  const group = app.snap.groups.find((g) => g.group_id === groupId);
  const form = $(`rename-${groupId}`);
  if (!group || !form) return;
  form.hidden = false;
  const input = $(`rename-input-${groupId}`);
  input.value = group.title;
  input.focus();
  input.select();
}

export function closeRename(groupId) {
  const form = $(`rename-${groupId}`);
  if (form) form.hidden = true;
  $(`rename-group-${groupId}`)?.focus();
}

export async function saveRename(groupId) {
  const group = app.snap.groups.find((g) => g.group_id === groupId);
  const title = cleanText($(`rename-input-${groupId}`).value);
  if (!group) return;
  if (!title) {
    showError({ code: "group_title" });
    return;
  }
  if (await command("put_note_group", { group_id: groupId, title, note_ids: group.note_ids })) closeRename(groupId);
}
