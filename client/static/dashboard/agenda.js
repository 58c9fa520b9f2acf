// The agenda panel: the draft, the items, the exports.

import { download, editItem, move, resetForm, saveForm, useDraft } from "./agenda-form.js";
import { announce, command } from "./commands.js";
import { formatDate, formatNumber, normLabel } from "./format.js";
import { app, colourClass, draftAsShown, EDIT_PHASES, EXPORT_ALWAYS, EXPORT_FORMATS, isNumber, scaleValues, themesOf, WALL_PHASES } from "./state.js";
import { $, button, h, keyed, place, setText, showPanel, tr } from "./view.js";

export function buildAgenda() {
  keyed("agenda").clear();
  const limits = app.limits;
  const orgList = h("datalist", { id: "owner-suggestions" }, ...app.template.org_types.map((org) => h("option", { value: org.label })));
  const normSelect = h(
    "select",
    { id: "agenda-norm", "data-testid": "agenda-norm", class: "input" },
    h("option", { value: "" }, tr("agenda.no_norm")),
    ...themesOf(app.norms).map(({ theme, norms }) =>
      h("optgroup", { label: theme.title }, ...norms.map((norm) => h("option", { value: norm.id }, `${norm.number}. ${norm.title}`))),
    ),
  );
  const form = h(
    "form",
    { class: "agenda-form", id: "agenda-form", "aria-labelledby": "agenda-form-title", novalidate: "" },
    h("h3", { class: "subtitle", id: "agenda-form-title", tabindex: "-1" }, tr("agenda.add_title")),
    h("p", { class: "agenda-form__from", id: "agenda-from", hidden: true }),
    h(
      "label",
      { class: "field", for: "agenda-action" },
      h("span", { class: "field__label" }, tr("agenda.action")),
      h("textarea", {
        id: "agenda-action",
        "data-testid": "agenda-action",
        class: "input input--area",
        rows: "2",
        maxlength: String(limits.max_agenda_text_chars),
        required: "",
      }),
    ),
    h(
      "div",
      { class: "field-row" },
      h(
        "label",
        { class: "field", for: "agenda-owner" },
        h("span", { class: "field__label" }, tr("agenda.owner")),
        h("input", {
          type: "text",
          id: "agenda-owner",
          "data-testid": "agenda-owner",
          class: "input",
          list: "owner-suggestions",
          maxlength: String(limits.max_agenda_owner_chars),
          autocomplete: "off",
        }),
      ),
      h(
        "label",
        { class: "field", for: "agenda-deadline" },
        h("span", { class: "field__label" }, tr("agenda.deadline")),
        h("input", { type: "date", id: "agenda-deadline", "data-testid": "agenda-deadline", class: "input" }),
      ),
      h(
        "label",
        { class: "field", for: "agenda-follow-up" },
        h("span", { class: "field__label" }, tr("agenda.follow_up")),
        h("input", {
          type: "date",
          id: "agenda-follow-up",
          "data-testid": "agenda-follow-up",
          class: "input",
          "aria-describedby": "agenda-follow-up-help",
        }),
        h("span", { class: "field__help", id: "agenda-follow-up-help" }, tr("agenda.follow_up_help")),
      ),
    ),
    h("label", { class: "field", for: "agenda-norm" }, h("span", { class: "field__label" }, tr("agenda.norm")), normSelect),
    orgList,
    h(
      "div",
      { class: "btn-row" },
      h("button", { type: "submit", class: "btn btn--primary", "data-testid": "agenda-save", id: "agenda-save" }, tr("agenda.save_new")),
      button(tr("cancel"), { class: "btn btn--secondary", "data-testid": "agenda-cancel", id: "agenda-cancel", hidden: true }, resetForm),
    ),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    saveForm();
  });
  $("agenda").replaceChildren(
    h(
      "div",
      { class: "panel__head" },
      h("h2", { id: "agenda-title", class: "panel__title" }, tr("agenda.title")),
      h("p", { class: "panel__count", id: "agenda-count" }),
    ),
    h("ol", { class: "agenda-list", id: "agenda-list" }),
    h("p", { class: "empty", id: "agenda-empty" }, tr("agenda.empty")),
    form,
    h(
      "div",
      { class: "exports", role: "group", "aria-labelledby": "export-label" },
      h("span", { id: "export-label", class: "exports__label" }, tr("export.label")),
      ...EXPORT_FORMATS.map((fmt) => {
        const node = button(tr(`export.${fmt}`), { class: "btn btn--secondary", "data-testid": `export-${fmt}`, "data-format": fmt }, () =>
          download(fmt),
        );
        node.hidden = !EXPORT_ALWAYS.has(fmt) && app.exportOk.get(fmt) !== true;
        return node;
      }),
    ),
  );
  app.form = { itemId: null, noteId: null, groupId: null };
  probeExports();
}

/** Which optional export formats the server has: HEAD each once, show those that answer 200. */
export async function probeExports() {
  if (app.exportProbe) return;
  app.exportProbe = true;
  for (const fmt of EXPORT_FORMATS) {
    if (EXPORT_ALWAYS.has(fmt) || app.exportOk.has(fmt)) continue;
    try {
      const response = await fetch(`/api/rooms/${encodeURIComponent(app.code)}/export.${fmt}?lang=${app.lang}`, {
        method: "HEAD",
        headers: { Authorization: `Bearer ${app.token}` },
        cache: "no-store",
      });
      app.exportOk.set(fmt, response.ok);
    } catch {
      app.exportOk.set(fmt, false);
    }
    const node = document.querySelector(`[data-format="${fmt}"]`);
    if (node) node.hidden = app.exportOk.get(fmt) !== true;
  }
}

export function itemRow(item) {
  return keyed("agenda").get(item.item_id, () => {
    const id = item.item_id;
    const find = () => app.snap.agenda.find((i) => i.item_id === id);
    return h(
      "li",
      { class: "agenda-item", "data-testid": "agenda-item", "data-item": id },
      h("p", { class: "agenda-item__action", id: `ai-${id}` }),
      h(
        "dl",
        { class: "agenda-item__meta" },
        h("div", { class: "meta" }, h("dt", {}, tr("agenda.owner")), h("dd", { class: "agenda-item__owner" })),
        h("div", { class: "meta" }, h("dt", {}, tr("agenda.deadline")), h("dd", { class: "agenda-item__deadline" })),
        h("div", { class: "meta agenda-item__norm-box" }, h("dt", {}, tr("agenda.norm")), h("dd", { class: "agenda-item__norm" })),
        h("div", { class: "meta agenda-item__follow-box" }, h("dt", {}, tr("agenda.follow_up")), h("dd", { class: "agenda-item__follow-up" })),
        h("div", { class: "meta agenda-item__group-box" }, h("dt", {}, tr("agenda.group")), h("dd", { class: "agenda-item__group" })),
      ),
      h(
        "div",
        { class: "snapshot", "data-testid": "agenda-snapshot", hidden: true },
        h("span", { class: "snapshot__bar", "aria-hidden": "true" }),
        h("span", { class: "snapshot__text" }),
      ),
      h(
        "div",
        { class: "btn-row agenda-item__actions" },
        button(tr("agenda.edit"), { class: "btn btn--small btn--secondary", "data-testid": "agenda-edit", "aria-describedby": `ai-${id}` }, () => {
          const current = find();
          if (current) editItem(current);
        }),
        button("↑", { class: "btn btn--small btn--secondary", "data-testid": "agenda-up", "aria-label": tr("agenda.up"), "aria-describedby": `ai-${id}` }, () => move(id, -1)),
        button("↓", { class: "btn btn--small btn--secondary", "data-testid": "agenda-down", "aria-label": tr("agenda.down"), "aria-describedby": `ai-${id}` }, () => move(id, 1)),
        button(tr("agenda.remove"), { class: "btn btn--small btn--danger", "data-testid": "agenda-remove", "aria-describedby": `ai-${id}` }, async () => {
          const current = find();
          if (!current) return;
          const ack = await command("remove_agenda_item", { item_id: id });
          if (ack) announce(tr("agenda.removed", { action: current.action }));
          if (app.form.itemId === id) resetForm();
        }),
      ),
    );
  });
}

/** The server's proposal: norms to address first, with notes as candidate actions. */
export function renderDraft(snap, editable) {
  let box = $("draft");
  if (!box) {
    box = h(
      "section",
      { class: "tool draft", id: "draft", "aria-labelledby": "draft-title" },
      h("h3", { class: "tool__title", id: "draft-title" }, tr("draft.title")),
      h("p", { class: "tool__status" }, tr("draft.help")),
      // A list without numbers: each norm label already starts with the norm's number.
      h("ul", { class: "draft__list", id: "draft-list", "data-testid": "draft" }),
    );
    const head = $("agenda").querySelector(".panel__head");
    if (head) head.after(box);
    else $("agenda").prepend(box);
  }
  // A norm with an action already is marked so, and comes last.
  const draft = editable && snap.analysis ? draftAsShown(snap.analysis.draft || [], snap.agenda) : [];
  box.hidden = draft.length === 0;
  const notesById = new Map(snap.notes.map((n) => [n.note_id, n]));
  $("draft-list").replaceChildren(
    ...draft.map((item) =>
      h(
        "li",
        { class: `draft__item${item.onAgenda ? " draft__item--on-agenda" : ""}`, "data-testid": `draft-${item.norm_id}`, "data-on-agenda": String(item.onAgenda) },
        h("p", { class: "draft__norm" }, normLabel(item.norm_id)),
        item.onAgenda ? h("p", { class: "draft__taken", "data-testid": `draft-taken-${item.norm_id}` }, tr("draft.on_agenda")) : null,
        h("p", { class: "draft__why" }, item.reasons.map((reason) => tr(`draft.reason_${reason}`)).join(" · ")),
        item.note_ids.length
          ? h("ul", { class: "draft__notes" }, ...item.note_ids.map((id) => h("li", { class: "draft__note" }, (notesById.get(id) || { text: "" }).text)))
          : h("p", { class: "draft__none" }, tr("draft.no_notes")),
        button(tr(item.onAgenda ? "draft.use_again" : "draft.use"), { class: "btn btn--secondary", "data-testid": `draft-use-${item.norm_id}` }, () => useDraft(item)),
      ),
    ),
  );
}

export function renderAgenda(snap) {
  if (!showPanel("agenda", WALL_PHASES.has(snap.phase))) return;
  const editable = EDIT_PHASES.has(snap.phase);
  renderDraft(snap, editable);
  const items = snap.agenda;
  setText($("agenda-count"), tr("agenda.count", { n: items.length }));
  const rows = items.map((item, index) => {
    const row = itemRow(item);
    setText(row.querySelector(".agenda-item__action"), item.action);
    setText(row.querySelector(".agenda-item__owner"), item.owner || tr("agenda.no_owner"));
    setText(row.querySelector(".agenda-item__deadline"), item.deadline ? formatDate(item.deadline) : tr("agenda.no_deadline"));
    row.querySelector(".agenda-item__norm-box").hidden = !item.norm_id;
    setText(row.querySelector(".agenda-item__norm"), item.norm_id ? normLabel(item.norm_id) : "");
    row.querySelector(".agenda-item__follow-box").hidden = !item.follow_up;
    setText(row.querySelector(".agenda-item__follow-up"), item.follow_up ? formatDate(item.follow_up) : "");
    const group = item.group_id ? snap.groups.find((g) => g.group_id === item.group_id) : null;
    // Not when it only repeats the action (promoted with the group's title).
    row.querySelector(".agenda-item__group-box").hidden = !group || group.title === item.action;
    setText(row.querySelector(".agenda-item__group"), group ? group.title : "");
    // The server keeps the first snapshot through edits, also when the norm changed: show it only for its own norm.
    const snapshot = item.snapshot && item.snapshot.norm_id === item.norm_id ? item.snapshot : null;
    renderSnapshot(row.querySelector(".snapshot"), snapshot);
    row.querySelector(".agenda-item__actions").hidden = !editable;
    row.querySelector('[data-testid="agenda-up"]').disabled = index === 0;
    row.querySelector('[data-testid="agenda-down"]').disabled = index === items.length - 1;
    row.classList.toggle("agenda-item--editing", app.form.itemId === item.item_id);
    return row;
  });
  keyed("agenda").sweep();
  place($("agenda-list"), rows);
  $("agenda-empty").hidden = items.length > 0;
  $("agenda-form").hidden = !editable;
}

/** The tiny bar of a norm's distribution when the item was put on the agenda. */
export function renderSnapshot(node, snapshot) {
  const counts = snapshot && Array.isArray(snapshot.counts) ? snapshot.counts : null;
  const n = counts ? counts.reduce((a, b) => a + b, 0) : 0;
  node.hidden = !snapshot || (!n && !isNumber(snapshot.median));
  if (node.hidden) return;
  const key = JSON.stringify([counts, snapshot.median, app.lang]);
  if (node.getAttribute("data-key") === key) return;
  node.setAttribute("data-key", key);
  const values = scaleValues();
  const bar = node.querySelector(".snapshot__bar");
  bar.replaceChildren(
    ...(counts || []).flatMap((count, i) => {
      if (!count) return [];
      const segment = h("span", { class: `snapshot__seg ${colourClass(values[i])}` });
      segment.style.width = `${(100 * count) / n}%`;
      return [segment];
    }),
  );
  bar.hidden = !n;
  setText(
    node.querySelector(".snapshot__text"),
    isNumber(snapshot.median) ? tr("agenda.snapshot", { median: formatNumber(snapshot.median), n }) : tr("agenda.snapshot_none"),
  );
}
