// The rating panel (blind): how many ratings came in per norm.

import { app, ratingProgress, themesOf } from "./state.js";
import { $, h, keyed, setAttr, setText, showPanel, tr } from "./view.js";

export function buildRating() {
  keyed("rating").clear();
  $("rating").replaceChildren(
    h("h2", { id: "rating-title", class: "panel__title" }, tr("rating.title")),
    h(
      "div",
      { class: "progress" },
      h("p", { class: "progress__text", id: "rating-progress-text" }),
      h(
        "div",
        {
          class: "meter meter--big",
          role: "progressbar",
          id: "rating-progress",
          "aria-valuemin": "0",
          "aria-valuemax": "100",
          "aria-labelledby": "rating-progress-text",
        },
        h("div", { class: "meter__fill", id: "rating-progress-fill" }),
      ),
    ),
    h(
      "div",
      { class: "norm-columns" },
      ...themesOf(app.norms).map(({ theme, norms }) =>
        h(
          "section",
          { class: "theme", "aria-labelledby": `rt-${theme.id}` },
          h("h3", { class: "theme__title", id: `rt-${theme.id}` }, theme.title),
          h(
            "ul",
            { class: "norm-list" },
            ...norms.map((norm) =>
              keyed("rating").get(norm.id, () =>
                h(
                  "li",
                  { class: "norm norm--rating", "data-testid": `norm-${norm.id}` },
                  h("span", { class: "norm__title" }, h("span", { class: "norm__n" }, `${norm.number}.`), " ", norm.title),
                  h("span", { class: "meter meter--small", "aria-hidden": "true" }, h("span", { class: "meter__fill" })),
                  h("span", { class: "norm__received" }),
                ),
              ),
            ),
          ),
        ),
      ),
    ),
  );
}

export function renderRating(snap) {
  if (!showPanel("rating", snap.phase === "rating")) return;
  const panel = $("rating");
  setText(panel.querySelector(".panel__title"), snap.round > 1 ? tr("rating.title_round", { n: snap.round }) : tr("rating.title"));
  const byId = new Map(snap.norms.map((n) => [n.norm_id, n]));
  for (const norm of app.norms) {
    const result = byId.get(norm.id);
    const count = result ? result.received : 0;
    const row = keyed("rating").get(norm.id, () => null);
    if (!row) continue;
    setAttr(row, "data-received", count);
    const of = Math.max(snap.participants, count);
    setText(row.querySelector(".norm__received"), tr("rating.received", { n: count, total: of }));
    row.querySelector(".meter__fill").style.width = `${of ? (100 * count) / of : 0}%`;
    row.classList.toggle("norm--complete", of > 0 && count >= of);
  }
  const { received, total, percent } = ratingProgress(snap, app.norms);
  const bar = $("rating-progress");
  setAttr(bar, "aria-valuenow", percent);
  $("rating-progress-fill").style.width = `${percent}%`;
  setText(
    $("rating-progress-text"),
    tr("rating.progress", { n: received, total, percent }),
  );
}
