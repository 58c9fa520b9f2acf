// A lost room (docs/protocol.md section 14): the control view keeps what it
// needs of its last snapshot, and when the server says the room is lost from
// storage (close 4504, or a join answered room_lost) it offers to restore it
// (POST /api/rooms/{code}/restore).  Phase, agenda and settings come back from
// here; tallies, notes and dots come back from the phones, which re-send them.

import { resync } from "./commands.js";
import { app } from "./state.js";
import { $, button, h, setText, tr } from "./view.js";

// The Dashboard fields a restore sends back (server/restore.py RestoreBody).
const KEPT_FIELDS = ["phase", "round", "locked", "participants", "agenda", "groups", "session", "expected_people", "admission", "moderation", "voting", "version"];

const storageKey = () => `kleur.${app.code}.snapshot`;

/** What a restore needs of a dashboard snapshot (pure: tests/js may call it). */
export function restoreBody(templateId, snap) {
  const body = { template: templateId };
  for (const field of KEPT_FIELDS) if (field in snap) body[field] = snap[field];
  return body;
}

/** Keep the snapshot's restore fields in memory and in this browser (a reload keeps them). */
export function keepSnapshot(snap) {
  if (!app.templateId || snap.phase === "closed") return;
  if (app.kept && app.kept.version === snap.version && app.kept.template === app.templateId) return;
  app.kept = restoreBody(app.templateId, snap);
  const text = JSON.stringify(app.kept);
  for (const storage of [window.sessionStorage, window.localStorage]) {
    try {
      storage.setItem(storageKey(), text);
    } catch {
      // Storage full or off: memory still has it for as long as the tab lives.
    }
  }
}

/** The kept snapshot: memory first, else what an earlier page of this room left. */
function keptSnapshot() {
  if (app.kept) return app.kept;
  for (const storage of [window.sessionStorage, window.localStorage]) {
    try {
      const kept = JSON.parse(storage.getItem(storageKey()) || "null");
      if (kept && typeof kept.template === "string") return (app.kept = kept);
    } catch {
      // A damaged copy: try the other one.
    }
  }
  return null;
}

/** The server says the room is lost: show the panel (once), in place of the stale view. */
export function showLost() {
  if (app.lost) return;
  app.lost = true;
  renderLost();
  const panel = $("restore");
  if (panel) panel.scrollIntoView({ block: "start" });
}

/** (Re)draw the panel, e.g. after a language switch. */
export function renderLost(message = "") {
  let panel = $("restore");
  // The view below is of a room that no longer is: dimmed until the restore.
  document.body.classList.toggle("dash--lost", Boolean(app.lost));
  if (!app.lost) {
    if (panel) panel.remove();
    return;
  }
  // A reload of a lost room has nothing to load: the panel says what to do.
  if (!app.snap) setText($("loading"), "");
  if (!panel) {
    panel = h("section", { class: "panel panel--restore", id: "restore", "data-testid": "restore-panel", "aria-labelledby": "restore-title", role: "alert" });
    $("main").prepend(panel);
  }
  const kept = keptSnapshot();
  const go = button(tr("restore.button"), { class: "btn btn--primary", id: "restore-button", "data-testid": "restore-button" }, () => restoreRoom());
  go.disabled = !kept || Boolean(app.restoring);
  panel.replaceChildren(
    h("h2", { id: "restore-title", class: "panel__title" }, tr("restore.title")),
    h("p", { class: "restore__text" }, tr("restore.text")),
    ...(kept ? [] : [h("p", { class: "restore__text" }, tr("restore.no_snapshot"))]),
    h("div", { class: "btn-row" }, go),
    h("p", { class: "restore__status", id: "restore-status", role: "status", hidden: !message }, message),
  );
}

async function restoreRoom() {
  const kept = keptSnapshot();
  if (!kept || app.restoring) return;
  app.restoring = true;
  renderLost(tr("restore.busy"));
  let message = "";
  try {
    const response = await fetch(`/api/rooms/${encodeURIComponent(app.code)}/restore`, {
      method: "POST",
      headers: { Authorization: `Bearer ${app.token}`, "Content-Type": "application/json" },
      body: JSON.stringify(kept),
      cache: "no-store",
    });
    if (response.ok || response.status === 409) {
      // 409: restored meanwhile (another window of this room): join it all the same.
      const restored = response.ok ? await response.json() : null;
      if (restored && !restored.tokens_kept) {
        // New join and display links: load them again.
        app.qrUrl = null;
        app.links = null;
      }
      app.lost = false;
      renderLost();
      await resync();
      return;
    }
    const answer = await response.json().catch(() => ({}));
    const key = `restore.failed.${answer.error || "other"}`;
    message = tr(key) === `dashboard.${key}` ? tr("restore.failed.other") : tr(key);
  } catch {
    message = tr("restore.failed.other");
  } finally {
    app.restoring = false;
  }
  renderLost(message);
}
