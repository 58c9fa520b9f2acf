// Other devices: the presenter view's own link (for a projector not fed by this
// laptop) and the control link, each with its QR code.

import { showError } from "./commands.js";
import { app } from "./state.js";
import { $, button, h, setAttr, setText, tr } from "./view.js";

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
    // The join panel prints the link its QR code holds (with the join token).
    const joinUrl = $("join-url");
    if (joinUrl && app.links.join_url) setText(joinUrl, app.links.join_url);
  } catch (error) {
    console.warn("kleur: links not loaded", error);
  }
}

/** The presenter view's link in `lang`: the server picks the page's language from ?lang=. */
export function presenterUrl(displayUrl, lang) {
  const [address, token] = displayUrl.split("#");
  const url = new URL(address);
  url.searchParams.set("lang", lang);
  return token === undefined ? url.href : `${url.href}#${token}`;
}

/** A QR code picture from a Bearer-authorised route; its object URL is kept in app[key]. */
async function loadQr(route, key, imgId) {
  if (app[key]) return;
  const response = await fetch(`/api/rooms/${encodeURIComponent(app.code)}/${route}`, {
    headers: { Authorization: `Bearer ${app.token}` },
    cache: "no-store",
  });
  if (!response.ok) throw { code: "qr_failed" };
  app[key] = URL.createObjectURL(await response.blob());
  const img = $(imgId);
  if (img) img.src = app[key];
}

/** "Copy link": to the clipboard, or (no clipboard, e.g. plain http) the link selected for Ctrl+C. */
function copyButton(linkId, testid) {
  return button(tr("display.copy"), { class: "btn btn--secondary btn--small control__copy", "data-testid": testid }, async () => {
    const node = $(linkId);
    try {
      await navigator.clipboard.writeText(node.textContent);
      setText($(`${linkId}-status`), tr("display.copied"));
    } catch {
      const range = document.createRange();
      range.selectNodeContents(node);
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      setText($(`${linkId}-status`), tr("display.selected"));
    }
  });
}

function qrImage(id, alt, key) {
  const qr = h("img", { id, "data-testid": id, class: "control__qr", alt, width: "240", height: "240" });
  if (app[key]) qr.src = app[key];
  return qr;
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
  const display = app.links.display_url;
  panel.replaceChildren(
    h("h2", { id: "control-title", class: "panel__title" }, tr("control.panel_title")),
    display
      ? h(
          "section",
          { class: "control__part", "aria-labelledby": "display-title", "data-testid": "display-part" },
          h("h3", { id: "display-title", class: "subtitle" }, tr("display.title")),
          h(
            "div",
            { class: "control" },
            h("div", { class: "join__qr-box" }, qrImage("display-qr", tr("display.qr_alt", { code: app.code }), "displayQrUrl")),
            h(
              "div",
              { class: "control__text" },
              h("p", {}, tr("display.how")),
              h("p", { class: "control__label", id: "display-link-label" }, tr("display.link")),
              h("p", { class: "control__link", id: "display-link", "data-testid": "display-link", "aria-labelledby": "display-link-label" }, display),
              copyButton("display-link", "copy-display-link"),
              h("span", { class: "control__copied", id: "display-link-status", role: "status" }),
              h("p", { class: "control__note" }, tr("display.note")),
            ),
          ),
        )
      : null,
    h(
      "section",
      { class: "control__part", "aria-labelledby": "control-part-title" },
      h("h3", { id: "control-part-title", class: "subtitle" }, tr("control.title")),
      h("p", { class: "control__warning", role: "note" }, tr("control.warning")),
      h(
        "div",
        { class: "control" },
        h("div", { class: "join__qr-box" }, qrImage("control-qr", tr("control.qr_alt", { code: app.code }), "controlQrUrl")),
        h(
          "div",
          { class: "control__text" },
          h("p", {}, tr("control.how")),
          h("p", { class: "control__label", id: "control-link-label" }, tr("control.link")),
          h("p", { class: "control__link", "data-testid": "control-link", "aria-labelledby": "control-link-label" }, app.links.facilitator_url),
        ),
      ),
    ),
  );
  if (display) loadQr("display-qr.svg", "displayQrUrl", "display-qr").catch((error) => showError(error));
  loadQr("control-qr.svg", "controlQrUrl", "control-qr").catch((error) => showError(error));
}
