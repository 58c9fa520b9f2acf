// The rating panel (blind): how far the round is, and per norm in steps
// (`Dashboard.progress`): the exact counts stay off the screen, which the
// facilitator may be sharing.

import { app, ratingProgress, stepRange, themesOf } from "./state.js";
import { $, h, keyed, setAttr, setText, showPanel, tr } from "./view.js";

export function buildRating() {
  keyed("rating").clear();
  $("rating").replaceChildren(
    h("h2", { id: "rating-title", class: "panel__title" }, tr("rating.title")),
    h(
      "div",
      { class: "progress" },
      h("p", { class: "progress__text", id: "rating-progress-text", "data-testid": "rating-progress-text" }),
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
      h("p", { class: "progress__how", id: "rating-progress-how" }),
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
  const exact = new Map(snap.norms.map((n) => [n.norm_id, n.received]));
  const steps = new Map(((snap.progress && snap.progress.norms) || []).map((n) => [n.norm_id, n.at_least]));
  const step = app.limits.rating_progress_step || 1;
  const people = snap.participants;
  for (const norm of app.norms) {
    const row = keyed("rating").get(norm.id, () => null);
    if (!row) continue;
    const atLeast = steps.get(norm.id) || 0;
    // The exact count only as an attribute (tests, tools), never as text.
    setAttr(row, "data-received", exact.get(norm.id) || 0);
    setAttr(row, "data-at-least", atLeast);
    const { low, high } = stepRange(atLeast, step, people);
    setText(
      row.querySelector(".norm__received"),
      low === high
        ? tr("rating.received", { n: low, total: people })
        : tr("rating.received_range", { low, high, total: people }),
    );
    row.querySelector(".meter__fill").style.width = `${people ? Math.min(100, (100 * atLeast) / people) : 0}%`;
    row.classList.toggle("norm--complete", people > 0 && atLeast >= people);
  }
  const { done, people: total, percent } = ratingProgress(snap);
  const bar = $("rating-progress");
  setAttr(bar, "aria-valuenow", percent);
  $("rating-progress-fill").style.width = `${percent}%`;
  setText($("rating-progress-text"), tr("rating.progress", { n: done, total, percent }));
  setText($("rating-progress-how"), tr("rating.how", { step }));
}
