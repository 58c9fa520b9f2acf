// Follow-up of an earlier scan: its items with their status, its figures against now.

import { announce, command } from "./commands.js";
import { formatChange, formatDate, formatNumber, normLabel } from "./format.js";
import { app, colourClass, followUpStatuses, isNumber, previousFigures, REVEALED } from "./state.js";
import { $, h, keyed, place, setAttr, setText, showPanel, tr } from "./view.js";

/** The panel is not in dashboard.html: it is added to <main> once. */
export function ensurePreviousPanel() {
  if ($("previous")) return;
  $("main").append(h("section", { class: "panel panel--previous", id: "previous", "aria-labelledby": "previous-title", hidden: true }));
}

export function buildPrevious() {
  keyed("previous").clear();
  $("previous").replaceChildren(
    h(
      "div",
      { class: "previous", "data-testid": "previous-scan" },
      h(
        "div",
        { class: "panel__head" },
        h("h2", { id: "previous-title", class: "panel__title" }, tr("previous.title")),
        h("p", { class: "panel__count", id: "previous-room" }),
      ),
      h(
        "div",
        { class: "previous__parts" },
        h(
          "section",
          { class: "previous__items", "aria-labelledby": "previous-items-title" },
          h("h3", { class: "subtitle", id: "previous-items-title" }, tr("previous.items")),
          h("p", { class: "previous__help", id: "previous-items-help" }, tr("previous.items_help")),
          h("ol", { class: "previous-list", id: "previous-items" }),
          h("p", { class: "empty", id: "previous-items-empty" }, tr("previous.items_empty")),
        ),
        h(
          "section",
          { class: "previous__norms", "aria-labelledby": "previous-norms-title" },
          h("h3", { class: "subtitle", id: "previous-norms-title" }, tr("previous.norms")),
          h("p", { class: "previous__help", id: "previous-norms-help" }),
          h(
            "div",
            // Focusable, so that a keyboard can scroll the table when it is wider than the screen.
            { class: "previous__table-box", id: "previous-table-box", tabindex: "0", role: "region", "aria-labelledby": "previous-norms-title" },
            h(
              "table",
              { class: "theme-table previous-table" },
              h(
                "thead",
                {},
                h(
                  "tr",
                  {},
                  h("th", { scope: "col" }, tr("previous.norm")),
                  h("th", { scope: "col" }, tr("previous.before")),
                  h("th", { scope: "col" }, tr("previous.now")),
                  h("th", { scope: "col" }, tr("previous.change")),
                ),
              ),
              h("tbody", { id: "previous-rows" }),
            ),
          ),
        ),
      ),
    ),
  );
}

export function previousItemRow(index) {
  return keyed("previous").get(index, () => {
    const select = h(
      "select",
      {
        class: "input previous-item__status",
        id: `previous-status-${index}`,
        "data-testid": `previous-status-${index}`,
        "aria-describedby": `pi-${index}`,
      },
      ...followUpStatuses().map((status) => h("option", { value: status }, tr(`previous.status.${status}`))),
    );
    select.addEventListener("change", async () => {
      const status = select.value;
      const ack = await command("set_follow_up_status", { index, status });
      if (ack) {
        announce(tr("previous.status_saved", { status: tr(`previous.status.${status}`) }));
      } else {
        // Refused: show what the server has again.
        const current = app.snap && app.snap.previous && app.snap.previous.items.find((i) => i.index === index);
        if (current) select.value = current.status;
      }
    });
    return h(
      "li",
      { class: "previous-item", "data-index": String(index) },
      h("p", { class: "previous-item__action", id: `pi-${index}` }),
      h(
        "dl",
        { class: "agenda-item__meta" },
        h("div", { class: "meta" }, h("dt", {}, tr("agenda.owner")), h("dd", { class: "previous-item__owner" })),
        h("div", { class: "meta" }, h("dt", {}, tr("agenda.deadline")), h("dd", { class: "previous-item__deadline" })),
      ),
      h(
        "label",
        { class: "field field--inline previous-item__field", for: `previous-status-${index}` },
        h("span", { class: "field__label" }, tr("previous.status_label")),
        select,
      ),
    );
  });
}

export function renderPrevious(snap) {
  const previous = snap.previous || null;
  if (!showPanel("previous", Boolean(previous))) return;
  setText($("previous-room"), previous.room ? tr("previous.room", { room: previous.room }) : "");
  const closed = snap.phase === "closed";
  const rows = previous.items.map((item) => {
    const row = previousItemRow(item.index);
    setText(row.querySelector(".previous-item__action"), item.action);
    setText(row.querySelector(".previous-item__owner"), item.owner || tr("agenda.no_owner"));
    setText(row.querySelector(".previous-item__deadline"), item.deadline ? formatDate(item.deadline) : tr("agenda.no_deadline"));
    const select = row.querySelector("select");
    // Never overwrite a choice the facilitator is making right now.
    if (document.activeElement !== select && select.value !== item.status) select.value = item.status;
    select.disabled = closed;
    setAttr(row, "data-status", item.status);
    return row;
  });
  keyed("previous").sweep();
  place($("previous-items"), rows);
  $("previous-items-empty").hidden = rows.length > 0;

  // The earlier figures only once this scan's results are shown: they must not steer the rating.
  const revealed = Boolean(snap.revealed) && REVEALED.has(snap.phase);
  setText($("previous-norms-help"), revealed ? tr("previous.norms_help") : tr("previous.norms_later"));
  if (!revealed) {
    $("previous-table-box").hidden = true;
    return;
  }
  const cells = previousFigures(snap, app.norms);
  $("previous-table-box").hidden = !cells.length;
  const tbody = $("previous-rows");
  const key = JSON.stringify([cells, app.lang]);
  if (tbody.getAttribute("data-key") === key) return;
  tbody.setAttribute("data-key", key);
  const chip = (value) =>
    isNumber(value) ? h("span", { class: `median-chip ${colourClass(Math.round(value))}` }, formatNumber(value)) : "–";
  tbody.replaceChildren(
    ...cells.map(([normId, before, now, change]) =>
      h(
        "tr",
        { "data-norm": normId },
        h("th", { scope: "row" }, normLabel(normId)),
        h("td", {}, chip(before)),
        h("td", {}, chip(now)),
        h(
          "td",
          { class: `previous-table__change${isNumber(change) && change > 0 ? " previous-table__change--up" : ""}${isNumber(change) && change < 0 ? " previous-table__change--down" : ""}` },
          isNumber(change) ? formatChange(change, 1) : "–",
        ),
      ),
    ),
  );
}
