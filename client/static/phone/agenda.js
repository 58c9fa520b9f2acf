// The improvement agenda (agenda and closed phases) and, once the room is
// closed, its PDF.

import { el } from "../kleur.js";
import { setNotice } from "./chrome.js";
import { render } from "./page.js";
import { app, normById } from "./state.js";
import { $, section, t } from "./ui.js";

function formatDate(iso) {
  const date = new Date(`${iso}T12:00:00`);
  if (Number.isNaN(date.getTime())) return iso;
  // en-GB: "1 March 2027", the order a Dutch reader expects too (not the US "March 1").
  const locale = app.lang === "en" ? "en-GB" : app.lang;
  return new Intl.DateTimeFormat(locale, { day: "numeric", month: "long", year: "numeric" }).format(date);
}

export function agendaSection() {
  const items = app.state.agenda;
  if (!items) return null;
  const closed = app.state.phase === "closed";
  const data = [items, closed, app.downloading, app.template.language];
  return section("agenda", data, () =>
    el(
      "section",
      { class: "card agenda", "aria-labelledby": "agenda-title", "data-testid": "agenda" },
      el("h2", { id: "agenda-title" }, t("phone.agenda.list_title")),
      items.length
        ? el(
            "ol",
            { class: "agenda-list" },
            ...items.map((item) => {
              const norm = item.norm_id ? normById(app, item.norm_id) : null;
              const fact = (key, value, lang) =>
                value ? [el("dt", {}, t(key)), el("dd", { lang }, value)] : null;
              return el(
                "li",
                { class: "agenda-item", "data-testid": "agenda-item" },
                el("p", { class: "agenda-action" }, item.action),
                item.owner || item.deadline || norm
                  ? el(
                      "dl",
                      { class: "agenda-facts" },
                      fact("phone.agenda.owner", item.owner),
                      fact("phone.agenda.deadline", item.deadline ? formatDate(item.deadline) : null),
                      fact("phone.agenda.norm", norm ? `${norm.number}. ${norm.title}` : null, app.template.language),
                    )
                  : null,
              );
            }),
          )
        : el("p", {}, t(closed ? "phone.agenda.none" : "phone.agenda.empty")),
      closed
        ? el(
            "p",
            { class: "actions" },
            el(
              "button",
              {
                type: "button",
                class: "button",
                id: "agenda-pdf",
                "data-testid": "agenda-pdf",
                disabled: app.downloading,
                onclick: downloadAgenda,
              },
              t(app.downloading ? "phone.agenda.pdf_busy" : "phone.agenda.pdf"),
            ),
          )
        : null,
    ),
  );
}

/** The closed room's PDF, asked with this device's participant token (never in an address). */
async function downloadAgenda() {
  const token = app.conn ? app.conn.token : null;
  if (!token || app.downloading) return;
  app.downloading = true;
  render();
  try {
    const response = await fetch(
      `/api/rooms/${encodeURIComponent(app.room)}/agenda.pdf?lang=${encodeURIComponent(app.lang)}`,
      { headers: { authorization: `Bearer ${token}` } },
    );
    if (!response.ok) throw new Error(`agenda.pdf: HTTP ${response.status}`);
    const url = URL.createObjectURL(await response.blob());
    const link = el("a", { href: url, download: t("phone.agenda.pdf_file", { code: app.room }) });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  } catch (error) {
    console.warn(error);
    setNotice("phone.agenda.pdf_error", {}, "error");
  } finally {
    app.downloading = false;
    render();
    $("agenda-pdf")?.focus();
  }
}
