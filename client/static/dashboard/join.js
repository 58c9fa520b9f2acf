// The join panel (lobby, or shown on demand): QR code, link, code, lock.

import { command, showError } from "./commands.js";
import { app } from "./state.js";
import { $, button, h, setAttr, setText, showPanel, tr } from "./view.js";

export function buildJoin() {
  // The link the QR code holds (with the join token): the only one that still works once the
  // room is locked.  Until /links answered, the plain link (it works while the room is open).
  const joinUrl = (app.links && app.links.join_url) || `${location.origin}/j/${app.code}`;
  const qr = h("img", {
    class: "join__qr",
    "data-testid": "qr",
    id: "qr",
    alt: tr("join.qr_alt", { code: app.code }),
    width: "480",
    height: "480",
  });
  if (app.qrUrl) qr.src = app.qrUrl;
  const lock = button("", { class: "btn btn--secondary", "data-testid": "lock", id: "lock", "aria-describedby": "lock-help" }, () =>
    command("set_lock", { locked: !app.snap.locked }),
  );
  $("join").replaceChildren(
    h("h2", { id: "join-title", class: "panel__title" }, tr("join.title")),
    h(
      "div",
      { class: "join" },
      h("div", { class: "join__qr-box" }, qr),
      h(
        "div",
        { class: "join__text" },
        h("p", { class: "join__step" }, tr("join.scan")),
        h("p", { class: "join__step" }, tr("join.or_go")),
        h("p", { class: "join__url", id: "join-url", "data-testid": "join-url" }, joinUrl),
        // The start page takes a typed code (only while the room is open).
        h("p", { class: "join__step" }, tr("join.code", { site: location.host })),
        h("p", { class: "join__code" }, app.code),
        h(
          "p",
          { class: "join__count" },
          h("span", { class: "join__count-n", id: "join-count" }, "0"),
          " ",
          h("span", { id: "join-count-label" }, ""),
        ),
        h("div", { id: "org-counts", class: "join__orgs" }),
        h(
          "div",
          { class: "join__lock" },
          h("p", { class: "join__lock-state", id: "lock-state" }),
          lock,
          h("p", { class: "join__help", id: "lock-help" }, tr("join.lock_help")),
        ),
      ),
    ),
  );
}

export async function loadQr() {
  if (app.qrUrl || app.qrLoading) return;
  app.qrLoading = true;
  try {
    const response = await fetch(`/api/rooms/${encodeURIComponent(app.code)}/qr.svg`, {
      headers: { Authorization: `Bearer ${app.token}` },
      cache: "no-store",
    });
    if (!response.ok) throw { code: response.status === 401 ? "bad_token" : "qr_failed" };
    app.qrUrl = URL.createObjectURL(await response.blob());
    const img = $("qr");
    if (img) img.src = app.qrUrl;
  } catch (error) {
    showError(error && error.code ? error : { code: "qr_failed" });
  } finally {
    app.qrLoading = false;
  }
}

export function renderJoin(snap) {
  const visible = snap.phase === "lobby" || (app.showJoin && snap.phase !== "closed");
  if (!showPanel("join", visible)) return;
  loadQr();
  setText($("join-count"), snap.participants);
  setText($("join-count-label"), tr("join.joined", { n: snap.participants }));
  const orgs = $("org-counts");
  const orgKey = JSON.stringify(snap.org_counts);
  if (orgs.getAttribute("data-key") !== orgKey) {
    orgs.setAttribute("data-key", orgKey);
    orgs.replaceChildren(
      ...(snap.org_counts.length
        ? [
            h("h3", { class: "join__orgs-title" }, tr("join.orgs")),
            h(
              "ul",
              { class: "org-list" },
              ...snap.org_counts.map((org) =>
                h(
                  "li",
                  { class: "org-list__item" },
                  h("span", { class: "org-list__name" }, app.orgLabel.get(org.org_type) || org.org_type),
                  " ",
                  h("span", { class: "org-list__n" }, String(org.count)),
                ),
              ),
            ),
          ]
        : []),
    );
  }
  const lock = $("lock");
  setText(lock, snap.locked ? tr("join.unlock") : tr("join.lock"));
  setAttr(lock, "aria-pressed", String(snap.locked));
  lock.hidden = snap.phase === "closed";
  const state = $("lock-state");
  setText(state, snap.locked ? tr("join.locked") : tr("join.open"));
  state.classList.toggle("join__lock-state--locked", snap.locked);
}
