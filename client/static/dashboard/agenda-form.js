// The agenda panel's form: add, edit, promote a note or group, reorder, download.

import { randomId } from "../kleur.js";
import { renderAgenda } from "./agenda.js";
import { announce, command, showError } from "./commands.js";
import { app, mostNamedNorm, nextPosition } from "./state.js";
import { $, cleanText, h, keyed, setText, tr } from "./view.js";

export function formFields() {
  return {
    action: $("agenda-action"),
    owner: $("agenda-owner"),
    deadline: $("agenda-deadline"),
    followUp: $("agenda-follow-up"),
    norm: $("agenda-norm"),
  };
}

/** Where a new item comes from: null, "note" or a note group's title. */
export function formSource() {
  if (app.form.itemId) return null;
  if (app.form.groupId) {
    const group = app.snap && app.snap.groups.find((g) => g.group_id === app.form.groupId);
    return { group: group ? group.title : "" };
  }
  return app.form.noteId ? "note" : null;
}

export function setFormMode(editing, source) {
  setText($("agenda-form-title"), editing ? tr("agenda.edit_title") : tr("agenda.add_title"));
  setText($("agenda-save"), editing ? tr("agenda.save_edit") : tr("agenda.save_new"));
  $("agenda-cancel").hidden = !editing && !source;
  const from = $("agenda-from");
  from.hidden = !source;
  let text = "";
  if (source === "note") text = tr("agenda.from_note");
  else if (source && source.group) text = tr("agenda.from_group", { title: source.group });
  else if (source) text = tr("agenda.from_group_gone");
  setText(from, text);
}

export function resetForm() {
  const f = formFields();
  f.action.value = "";
  f.owner.value = "";
  f.deadline.value = "";
  f.followUp.value = "";
  f.norm.value = "";
  app.form = { itemId: null, noteId: null, groupId: null };
  setFormMode(false, null);
  if (app.snap) renderAgenda(app.snap);
}

export function focusForm() {
  const form = $("agenda-form");
  form.scrollIntoView({ block: "center", behavior: "smooth" });
  $("agenda-action").focus({ preventScroll: true });
}

/** Open the agenda form from a proposed item: its first candidate note as the action. */
export function useDraft(item) {
  const note = item.note_ids.map((id) => app.snap.notes.find((n) => n.note_id === id)).find(Boolean);
  const f = formFields();
  f.action.value = note ? note.text.slice(0, app.limits.max_agenda_text_chars) : "";
  f.owner.value = "";
  f.deadline.value = "";
  f.followUp.value = "";
  f.norm.value = app.normById.has(item.norm_id) ? item.norm_id : "";
  app.form = { itemId: null, noteId: note ? note.note_id : null, groupId: null };
  setFormMode(false, "note");
  renderAgenda(app.snap);
  focusForm();
}

export function promote(noteId) {
  const note = app.snap.notes.find((n) => n.note_id === noteId);
  if (!note) return;
  const f = formFields();
  f.action.value = note.text.slice(0, app.limits.max_agenda_text_chars);
  f.owner.value = "";
  f.deadline.value = "";
  f.followUp.value = "";
  f.norm.value = note.norm_id && app.normById.has(note.norm_id) ? note.norm_id : "";
  app.form = { itemId: null, noteId, groupId: null };
  setFormMode(false, "note");
  renderAgenda(app.snap);
  focusForm();
}

/** Open the agenda form for a note group: its title as the action, the norm most of its notes name. */
export function promoteGroup(groupId) {
  const group = app.snap.groups.find((g) => g.group_id === groupId);
  if (!group) return;
  const norm = mostNamedNorm(group, app.snap.notes, app.norms);
  const f = formFields();
  f.action.value = group.title.slice(0, app.limits.max_agenda_text_chars);
  f.owner.value = "";
  f.deadline.value = "";
  f.followUp.value = "";
  f.norm.value = norm ? norm.id : "";
  app.form = { itemId: null, noteId: null, groupId };
  setFormMode(false, formSource());
  renderAgenda(app.snap);
  focusForm();
}

export function editItem(item) {
  const f = formFields();
  f.action.value = item.action;
  f.owner.value = item.owner;
  f.deadline.value = item.deadline || "";
  f.followUp.value = item.follow_up || "";
  f.norm.value = item.norm_id && app.normById.has(item.norm_id) ? item.norm_id : "";
  app.form = { itemId: item.item_id, noteId: item.note_id, groupId: item.group_id || null };
  setFormMode(true, null);
  renderAgenda(app.snap);
  focusForm();
}

export async function saveForm() {
  const f = formFields();
  const action = cleanText(f.action.value);
  if (!action) {
    showError({ code: "action_required" });
    f.action.focus();
    return;
  }
  const isoDate = (value) => (value && /^\d{4}-\d{2}-\d{2}$/.test(value) ? value : null);
  const deadline = isoDate(f.deadline.value);
  const items = app.snap.agenda;
  const existing = app.form.itemId ? items.find((i) => i.item_id === app.form.itemId) : null;
  const position = existing ? existing.position : nextPosition(items, app.limits.max_agenda_items);
  // A group merged away meanwhile is no longer linked.
  const groupId = app.form.groupId && app.snap.groups.some((g) => g.group_id === app.form.groupId) ? app.form.groupId : null;
  const ack = await command("put_agenda_item", {
    item_id: app.form.itemId || randomId(),
    action,
    owner: cleanText(f.owner.value),
    deadline,
    norm_id: f.norm.value || null,
    note_id: app.form.noteId || null,
    position,
    group_id: groupId,
    follow_up: isoDate(f.followUp.value),
  });
  if (ack) {
    announce(existing ? tr("agenda.saved") : tr("agenda.added", { action }));
    resetForm();
  }
}

export async function move(itemId, delta) {
  const items = [...app.snap.agenda];
  const index = items.findIndex((i) => i.item_id === itemId);
  const target = index + delta;
  if (index < 0 || target < 0 || target >= items.length) return;
  [items[index], items[target]] = [items[target], items[index]];
  // Number the list 0, 1, 2...; usually only the two swapped items change.
  for (const [position, item] of items.entries()) {
    if (item.position === position) continue;
    const { item_id, action, owner, deadline, norm_id, note_id } = item;
    const extra = { group_id: item.group_id ?? null, follow_up: item.follow_up ?? null };
    const ack = await command("put_agenda_item", { item_id, action, owner, deadline, norm_id, note_id, position, ...extra });
    if (!ack) return;
  }
  // Keep keyboard focus on the moved item's button.
  const row = keyed("agenda").get(itemId, () => null);
  const again = row && row.querySelector(`[data-testid="agenda-${delta < 0 ? "up" : "down"}"]`);
  if (again && !again.disabled) again.focus();
}

export async function download(fmt) {
  try {
    const response = await fetch(`/api/rooms/${encodeURIComponent(app.code)}/export.${fmt}?lang=${app.lang}`, {
      headers: { Authorization: `Bearer ${app.token}` },
      cache: "no-store",
    });
    if (!response.ok) throw { code: response.status === 401 ? "bad_token" : "export_failed" };
    const blob = await response.blob();
    const disposition = response.headers.get("content-disposition") || "";
    const match = /filename="([^"]+)"/.exec(disposition);
    const url = URL.createObjectURL(blob);
    const link = h("a", { href: url, download: match ? match[1] : `kleur-${app.code}.${fmt}`, class: "visually-hidden" });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
    announce(tr("export.done"));
  } catch (error) {
    showError(error && error.code ? error : { code: "export_failed" });
  }
}

export function saveFormState() {
  if (!$("agenda-form")) return null;
  const f = formFields();
  return {
    state: { ...app.form },
    action: f.action.value,
    owner: f.owner.value,
    deadline: f.deadline.value,
    followUp: f.followUp.value,
    norm: f.norm.value,
  };
}

export function restoreFormState(saved) {
  const f = formFields();
  f.action.value = saved.action;
  f.owner.value = saved.owner;
  f.deadline.value = saved.deadline;
  f.followUp.value = saved.followUp;
  f.norm.value = saved.norm;
  app.form = saved.state;
  setFormMode(Boolean(app.form.itemId), formSource());
}
