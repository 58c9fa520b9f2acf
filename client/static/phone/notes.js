// The participant's own notes: writing, editing and withdrawing them, and
// what moderation did to each (waiting for approval, hidden).

import { el, normalizeText, randomId } from "../kleur.js";
import { setNotice } from "./chrome.js";
import { send } from "./connection.js";
import { render } from "./page.js";
import { allowedIn, app, moderation, normById, view } from "./state.js";
import { sessionSet } from "./storage.js";
import { $, formatNumber, section, t, tn } from "./ui.js";

function submitNote(event) {
  event.preventDefault();
  const textarea = $("note-text");
  const select = $("note-norm");
  const max = app.schema.limits.max_note_chars;
  const text = normalizeText(textarea.value);
  if (!text) {
    setNotice("phone.notes.empty", {}, "error");
    textarea.focus();
    return;
  }
  if (text.length > max) {
    setNotice("phone.notes.too_long", { max: formatNumber(max) }, "error");
    textarea.focus();
    return;
  }
  const editing = app.draft.noteId;
  const sent = send("put_note", {
    note_id: editing || randomId(16),
    text,
    norm_id: select && select.value ? select.value : null,
  });
  app.draft = { noteId: null, text: "", norm: "" };
  sessionSet("draft", null);
  // "Sent" only once the server has it; offline, it is kept on the phone till then.
  if (app.status !== "online") setNotice(editing ? "phone.notes.kept_change" : "phone.notes.kept", {}, "info");
  sent.then(
    () => setNotice(editing ? "phone.notes.saved" : "phone.notes.placed", {}, "ok"),
    () => {}, // a refusal shows its own notice (connection.js)
  );
  render();
  const fresh = $("note-text");
  if (fresh) fresh.value = "";
  updateCount();
  fresh?.focus();
}

function editNote(noteId) {
  const note = view(app).notes.get(noteId);
  if (!note) return;
  app.draft = { noteId, text: note.text, norm: note.norm_id || "" };
  render();
  const textarea = $("note-text");
  if (textarea) {
    textarea.value = note.text;
    updateCount();
    textarea.focus();
    textarea.scrollIntoView({ block: "center" });
  }
}

function cancelEdit() {
  app.draft = { noteId: null, text: "", norm: "" };
  sessionSet("draft", null);
  render();
  const textarea = $("note-text");
  if (textarea) {
    textarea.value = "";
    updateCount();
    textarea.focus();
  }
}

function withdrawNote(noteId) {
  const sent = send("withdraw_note", { note_id: noteId });
  if (app.draft.noteId === noteId) app.draft = { noteId: null, text: "", norm: "" };
  // Gone from the wall only once the server has it, as with a new idea.
  if (app.status !== "online") setNotice("phone.notes.kept_withdraw", {}, "info");
  sent.then(
    () => setNotice("phone.notes.withdrawn", {}, "ok"),
    () => {},
  );
  render();
  $("own-notes-title")?.focus();
}

export function notesSection(v, editable) {
  const phase = app.state.phase;
  // While dot voting is open the wall people vote on stays put (the server refuses new notes).
  const votingOpen = app.state.voting.state === "open";
  const canWrite = editable && allowedIn(app, "put_note", phase) && !votingOpen;
  const own = [...v.notes.entries()].sort((a, b) => a[0].localeCompare(b[0]));
  if (!canWrite && own.length === 0) return null;
  const max = app.schema.limits.max_note_chars;
  const maxNotes = app.schema.limits.max_notes_per_participant;
  const full = own.length >= maxNotes && !app.draft.noteId;
  const online = app.status === "online";
  // Moderation reaches the author at once: room_state lists the ids of hidden
  // notes and of those waiting for approval (random ids: only we know ours).
  const { hiddenIds, waitingIds } = moderation(app.state);
  const moderated = [...(hiddenIds || [])].concat(["|"], [...waitingIds]).join(",");
  const data = [canWrite, own, app.draft.noteId, app.draft.norm, full, online, app.norms.length, moderated];
  return section("notes", data, () => {
    const parts = [];
    if (canWrite) {
      const textarea = el("textarea", {
        id: "note-text",
        name: "note",
        rows: "4",
        maxlength: String(max),
        "data-testid": "note-text",
        "aria-describedby": "note-count",
        disabled: full,
        oninput: (event) => {
          app.draft.text = event.target.value;
          sessionSet("draft", app.draft.noteId ? null : event.target.value);
          updateCount();
        },
      });
      textarea.value = app.draft.text;
      const select = el(
        "select",
        { id: "note-norm", name: "norm", "data-testid": "note-norm", disabled: full },
        el("option", { value: "" }, t("phone.notes.no_norm")),
        ...app.norms.map((norm) =>
          el("option", { value: norm.id, lang: app.template.language }, `${norm.number}. ${norm.title}`),
        ),
      );
      select.value = app.draft.norm || "";
      select.addEventListener("change", () => {
        app.draft.norm = select.value;
      });
      parts.push(
        el(
          "form",
          { class: "note-form", onsubmit: submitNote, novalidate: true },
          el("label", { for: "note-text" }, t(app.draft.noteId ? "phone.notes.edit_label" : "phone.notes.label")),
          textarea,
          el("p", { id: "note-count", class: "hint count" }),
          el("label", { for: "note-norm" }, t("phone.notes.norm_label")),
          select,
          full ? el("p", { class: "hint" }, t("phone.notes.limit", { max: maxNotes })) : null,
          el(
            "div",
            { class: "actions" },
            el(
              "button",
              { type: "submit", class: "button", id: "note-submit", "data-testid": "note-submit", disabled: full },
              t(app.draft.noteId ? "phone.notes.save" : "phone.notes.submit"),
            ),
            app.draft.noteId
              ? el(
                  "button",
                  { type: "button", class: "button button-secondary", id: "note-cancel", onclick: cancelEdit },
                  t("phone.notes.cancel"),
                )
              : null,
          ),
        ),
      );
    }
    if (own.length) {
      parts.push(
        el("h3", { id: "own-notes-title", tabindex: "-1" }, tn("phone.notes.own_title", own.length)),
        el(
          "ul",
          { class: "own-notes" },
          ...own.map(([noteId, note]) => {
            const norm = note.norm_id ? normById(app, note.norm_id) : null;
            const textId = `own-note-${noteId}`;
            const hidden = hiddenIds ? hiddenIds.has(noteId) : note.hidden;
            const waiting = !note.pending && !hidden && waitingIds.has(noteId);
            return el(
              "li",
              { class: "own-note", "data-testid": "own-note", "data-note-id": noteId },
              el("p", { class: "note-text", id: textId }, note.text),
              norm ? el("p", { class: "hint", lang: app.template.language }, `${norm.number}. ${norm.title}`) : null,
              note.pending
                ? el("p", { class: "tag tag-pending" }, t(online ? "phone.notes.sending" : "phone.notes.pending"))
                : null,
              waiting ? el("p", { class: "tag", "data-testid": "own-note-waiting" }, t("phone.notes.waiting")) : null,
              hidden ? el("p", { class: "tag", "data-testid": "own-note-hidden" }, t("phone.notes.hidden")) : null,
              canWrite
                ? el(
                    "div",
                    { class: "actions" },
                    el(
                      "button",
                      {
                        type: "button",
                        class: "button button-secondary",
                        id: `note-edit-${noteId}`,
                        "data-testid": "note-edit",
                        "aria-describedby": textId,
                        onclick: () => editNote(noteId),
                      },
                      t("phone.notes.edit"),
                    ),
                    el(
                      "button",
                      {
                        type: "button",
                        class: "button button-secondary",
                        id: `note-withdraw-${noteId}`,
                        "data-testid": "note-withdraw",
                        "aria-describedby": textId,
                        onclick: () => withdrawNote(noteId),
                      },
                      t("phone.notes.withdraw"),
                    ),
                  )
                : null,
            );
          }),
        ),
      );
    }
    const node = el(
      "section",
      { class: "card notes", "aria-labelledby": "notes-title" },
      el("h2", { id: "notes-title" }, t(canWrite ? "phone.notes.title" : "phone.notes.title_readonly")),
      canWrite ? el("p", {}, t("phone.notes.intro")) : null,
      ...parts,
    );
    queueMicrotask(updateCount);
    return node;
  });
}

function updateCount() {
  const textarea = $("note-text");
  const count = $("note-count");
  if (!textarea || !count) return;
  const max = app.schema.limits.max_note_chars;
  count.textContent = t("phone.notes.count", {
    n: formatNumber(textarea.value.length),
    max: formatNumber(max),
  });
  count.classList.toggle("count-near", textarea.value.length > max * 0.9);
}
