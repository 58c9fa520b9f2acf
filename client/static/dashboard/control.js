// Facilitator control on another device: link and QR code.

import { showError } from "./commands.js";
import { app } from "./state.js";
import { $, h, setAttr, setText, tr } from "./view.js";

export async function loadLinks() {
  try {
    const response = await fetch(`/api/rooms/${encodeURIComponent(app.code)}/links`, {
      headers: { Authorization: `Bearer ${app.token}` },
      cache: "no-store",
    });
    if (!response.ok) return;
    app.links = await response.json();
    $("open-presenter").hidden = !app.links.display_url;
    renderControl();
  } catch (error) {
    console.warn("kleur: links not loaded", error);
  }
}

export async function loadControlQr() {
  if (app.controlQrUrl) return;
  const response = await fetch(`/api/rooms/${encodeURIComponent(app.code)}/control-qr.svg`, {
    headers: { Authorization: `Bearer ${app.token}` },
    cache: "no-store",
  });
  if (!response.ok) throw { code: "qr_failed" };
  app.controlQrUrl = URL.createObjectURL(await response.blob());
  const img = $("control-qr");
  if (img) img.src = app.controlQrUrl;
}

export function renderControl() {
  const panel = $("control");
  const toggle = $("show-control");
  setAttr(toggle, "aria-expanded", String(app.showControl));
  setText(toggle, app.showControl ? tr("control.hide") : tr("control.show"));
  panel.hidden = !app.showControl || !app.links;
  if (panel.hidden) {
    panel.replaceChildren();
    return;
  }
  if (panel.firstChild) return;
  const qr = h("img", { id: "control-qr", "data-testid": "control-qr", class: "control__qr", alt: tr("control.qr_alt", { code: app.code }), width: "240", height: "240" });
  if (app.controlQrUrl) qr.src = app.controlQrUrl;
  panel.replaceChildren(
    h("h2", { id: "control-title", class: "panel__title" }, tr("control.title")),
    h("p", { class: "control__warning", role: "note" }, tr("control.warning")),
    h(
      "div",
      { class: "control" },
      h("div", { class: "join__qr-box" }, qr),
      h(
        "div",
        { class: "control__text" },
        h("p", {}, tr("control.how")),
        h("p", { class: "control__label", id: "control-link-label" }, tr("control.link")),
        h("p", { class: "control__link", "data-testid": "control-link", "aria-labelledby": "control-link-label" }, app.links.facilitator_url),
      ),
    ),
  );
  loadControlQr().catch((error) => showError(error));
}
