// Commands to the server, errors, announcements and the confirm dialog.

import { app, missingOnAgenda } from "./state.js";
import { $, h, setText, tr } from "./view.js";

export async function command(type, fields) {
  try {
    let ack = await app.conn.send(type, fields);
    if (ack && ack.duplicate) {
      // The server keeps one seq counter per room for all facilitator
      // connections: another window with this facilitator link has used our
      // next numbers, so the command was taken for a replay and NOT applied.
      // Join again (welcome.max_seq is the current counter) and send it once more.
      await resync();
      ack = await app.conn.send(type, fields);
    }
    return ack;
  } catch (error) {
    showError(error);
    return null;
  }
}

/** How to open a new connection (main.js's connect), given once at start-up. */
let reconnect = null;

export function setReconnect(connect) {
  reconnect = connect;
}

/** Replace the connection by a fresh one (one at a time), once its welcome arrived. */
export function resync() {
  if (!app.resyncing) {
    app.resyncing = (async () => {
      const old = app.conn;
      // Let commands in flight on the old connection finish first (at most 2 s).
      for (let i = 0; i < 20 && old.outbox.length; i += 1) await new Promise((r) => setTimeout(r, 100));
      const ready = reconnect();
      old.close();
      await ready;
    })().finally(() => {
      app.resyncing = null;
    });
  }
  return app.resyncing;
}

export function showError(error) {
  const code = (error && error.code) || "unknown";
  // A command refused as room_lost is kept and sent again after the restore (restore.js).
  let text = code === "room_lost" ? tr("restore.command_kept") : tr(`error.${code}`);
  if (text === `dashboard.error.${code}`) text = tr("error.unknown", { code });
  const box = $("error");
  box.replaceChildren(h("p", { class: "dash-error__text" }, text));
  clearTimeout(app.errorTimer);
  app.errorTimer = setTimeout(() => box.replaceChildren(), 12000);
}

export function announce(text) {
  const live = $("announcer");
  live.textContent = "";
  // A fresh text node after a tick is announced even when it repeats.
  setTimeout(() => {
    live.textContent = text;
  }, 50);
}

export const confirmDialog = {
  ask(message, okLabel, warnings = []) {
    const dialog = $("confirm");
    setText($("confirm-text"), message);
    const warning = $("confirm-warning");
    warning.replaceChildren(...warnings.map((text) => h("p", { class: "dash-dialog__warning-line" }, text)));
    warning.hidden = warnings.length === 0;
    setText($("confirm-ok"), okLabel);
    setText($("confirm-cancel"), tr("cancel"));
    return new Promise((resolve) => {
      const done = (answer) => {
        $("confirm-ok").removeEventListener("click", ok);
        $("confirm-cancel").removeEventListener("click", cancel);
        dialog.removeEventListener("cancel", cancel);
        if (dialog.open) dialog.close();
        resolve(answer);
      };
      const ok = () => done(true);
      const cancel = () => done(false);
      $("confirm-ok").addEventListener("click", ok);
      $("confirm-cancel").addEventListener("click", cancel);
      dialog.addEventListener("cancel", cancel);
      dialog.showModal();
      $("confirm-cancel").focus();
    });
  },
};

/** What closing would leave unfinished on the agenda, as sentences (none: nothing to say). */
function closeWarnings(agenda) {
  const missing = missingOnAgenda(agenda);
  const lines = [];
  if (missing.owner) lines.push(tr("confirm.close_no_owner", { n: missing.owner }));
  if (missing.deadline) lines.push(tr("confirm.close_no_deadline", { n: missing.deadline }));
  if (lines.length) lines.push(tr("confirm.close_fix"));
  return lines;
}

export async function goToPhase(target) {
  const current = app.snap && app.snap.phase;
  if (target === "closed") {
    const sure = await confirmDialog.ask(tr("confirm.close"), tr("phase.to.closed"), closeWarnings(app.snap ? app.snap.agenda : []));
    if (!sure) return;
  }
  if (current === "reveal" && target === "rating") {
    const sure = await confirmDialog.ask(tr("confirm.new_round"), tr("phase.to.new_round"));
    if (!sure) return;
  }
  await command("set_phase", { phase: target });
}
