// The results panel (revealed): one row per norm, sorted three ways.

import { extrasHeadingLevel, normExtras } from "./extras.js";
import { renderDistribution, renderInsight } from "./insight.js";
import {
  app,
  breakdownByNorm,
  colourClass,
  effectiveSortMode,
  isWide,
  resultOrder,
  REVEALED,
  scaleValues,
  secondQuestion,
  spreadThreshold,
  themesOf,
} from "./state.js";
import { renderBreakdownMatrix, renderOpinionGroups, renderThemes } from "./tables.js";
import { renderPager } from "./pager.js";
import { $, button, h, keyed, place, setAttr, setText, showPanel, tr } from "./view.js";

export function buildResults() {
  keyed("results").clear();
  const { scale } = app.template;
  const legend = h(
    "div",
    { class: "legend", "aria-hidden": "true" },
    h("span", { class: "legend__end" }, `${scale.min} ${scale.min_label}`),
    h("span", { class: "legend__scale" }, ...scaleValues().map((v) => h("span", { class: `legend__swatch ${colourClass(v)}` }, String(v)))),
    h("span", { class: "legend__end" }, `${scale.max} ${scale.max_label}`),
    scale.dont_know ? h("span", { class: "legend__swatch legend__dk" }, tr("results.dont_know")) : null,
  );
  const sortButton = (mode, label, testid) =>
    button(label, { class: "btn btn--toggle", "data-testid": testid, id: testid }, () => {
      app.sortMode = mode;
      renderResults(app.snap, true);
    });
  $("results").replaceChildren(
    h("h2", { id: "results-title", class: "panel__title" }, tr("results.title")),
    // Who the figures are about: admitted devices only, against the people expected.
    h("p", { class: "panel__count", id: "results-devices", "data-testid": "results-devices" }),
    h(
      "div",
      { class: "results__bar" },
      h(
        "div",
        { class: "btn-row", role: "group", "aria-labelledby": "sort-label" },
        h("span", { id: "sort-label", class: "results__sort-label" }, tr("results.sort")),
        sortButton("template", tr("results.sort_template"), "sort-template"),
        sortButton("priority", tr("results.sort_priority"), "sort-priority"),
        sortButton("disagreement", tr("results.sort_disagreement"), "sort-disagreement"),
      ),
      legend,
    ),
    h("p", { class: "results__hint", id: "priority-hint", hidden: true }, tr("results.priority_hint")),
    h(
      "section",
      { class: "norms-overview", "aria-labelledby": "norms-title" },
      h("h3", { id: "norms-title", class: "subtitle" }, tr("results.norms")),
      h("div", { class: "norm-columns", id: "result-norms" }),
    ),
    h(
      "div",
      { class: "results__more" },
      h(
        "section",
        // Focusable, so that a keyboard can scroll the table when it is wider than the screen.
        { class: "themes-overview", "aria-labelledby": "themes-title", tabindex: "0" },
        h("h3", { id: "themes-title", class: "subtitle" }, tr("results.themes")),
        h(
          "table",
          { class: "theme-table" },
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              h("th", { scope: "col" }, tr("results.theme")),
              h("th", { scope: "col" }, tr("results.median")),
              h("th", { scope: "col" }, tr("results.consensus")),
              secondQuestion() ? h("th", { scope: "col" }, tr(`results.gap_col_${secondQuestion().kind}`)) : null,
              h("th", { scope: "col" }, tr("results.spread")),
              h("th", { scope: "col" }, tr("results.answers")),
            ),
          ),
          h("tbody", { id: "theme-rows" }),
        ),
      ),
      h(
        "section",
        { class: "opinion-groups", id: "opinion-groups", "data-testid": "opinion-groups", "aria-labelledby": "opinion-groups-title", hidden: true },
        h("h3", { id: "opinion-groups-title", class: "subtitle" }, tr("groups.title")),
        h("div", { id: "opinion-groups-body" }),
      ),
      h(
        "section",
        // Every norm against every kind of organisation in one view (no click per norm).
        { class: "breakdown-matrix", id: "breakdown-matrix", "data-testid": "breakdown-matrix", "aria-labelledby": "matrix-title", hidden: true },
        h("h3", { id: "matrix-title", class: "subtitle" }, tr("matrix.title")),
        h("p", { class: "breakdown-matrix__about" }, tr("matrix.about", { n: app.limits.min_group_size || 3 })),
        h("div", { id: "breakdown-matrix-body" }),
      ),
    ),
  );
}

export function resultRow(norm) {
  return keyed("results").get(norm.id, () =>
    h(
      "li",
      { class: "norm norm--result", "data-testid": `norm-${norm.id}` },
      h(
        "p",
        { class: "norm__head" },
        h("span", { class: "norm__title" }, h("span", { class: "norm__n" }, `${norm.number}.`), " ", norm.title),
        h("span", { class: "norm__badges" }, h("span", { class: "badge badge--spread", hidden: true }, tr("results.wide"))),
      ),
      h(
        "div",
        { class: "norm__viz" },
        h("div", { class: "dist", role: "img", "data-testid": `dist-${norm.id}` }),
        h("span", { class: "dk", "aria-hidden": "true" }),
      ),
      h("p", { class: "norm__stats" }),
      h("p", { class: "norm__insight", hidden: true }),
      normExtras(norm),
    ),
  );
}

export function renderResults(snap, resorted = false) {
  const visible = REVEALED.has(snap.phase) && snap.norms.every((n) => n.counts);
  if (!showPanel("results", visible)) return;
  renderPager(snap);
  const counts = { n: snap.participants, m: snap.expected_people };
  setText(
    $("results-devices"),
    snap.participants === 1 ? tr("devices_expected.one", counts) : tr("devices_expected.other", counts),
  );
  const analysis = snap.analysis || null;
  const insightById = new Map(analysis ? analysis.norms.map((n) => [n.norm_id, n]) : []);
  const breakdown = breakdownByNorm(analysis);
  const sortMode = effectiveSortMode(app.sortMode, analysis);
  $("sort-priority").hidden = !analysis;
  $("priority-hint").hidden = sortMode !== "priority";
  for (const mode of ["template", "priority", "disagreement"]) setAttr($(`sort-${mode}`), "aria-pressed", String(sortMode === mode));
  const byId = new Map(snap.norms.map((n) => [n.norm_id, n]));
  const statsById = new Map();
  for (const norm of app.norms) {
    const result = byId.get(norm.id);
    if (!result) continue;
    statsById.set(norm.id, renderDistribution(resultRow(norm), norm, result, insightById.get(norm.id)));
  }
  const threshold = spreadThreshold([...statsById.values()]);
  for (const norm of app.norms) {
    const s = statsById.get(norm.id);
    const row = resultRow(norm);
    const insight = insightById.get(norm.id);
    // With the analysis, its "contested" (split, or low consensus) replaces the
    // relative "widest spreads": a 6-against-7 table is not "much disagreement".
    const wide = isWide(s, insight, analysis, threshold);
    row.classList.toggle("norm--wide", wide);
    row.querySelector(".badge--spread").hidden = Boolean(analysis) || !wide;
    renderInsight(row, norm, insight, snap, breakdown);
    // The examples and figures stay after the numbers (a shift line is added later), before the breakdown.
    const extras = row.querySelector(":scope > .norm-extras");
    const anchor = row.querySelector(":scope > .breakdown");
    if (extras && extras.nextElementSibling !== anchor) row.insertBefore(extras, anchor);
  }
  // Order: template order grouped by theme, or one list (where to talk first, or by disagreement).
  const container = $("result-norms");
  const mode = `${sortMode}`;
  if (sortMode === "disagreement" || sortMode === "priority") {
    const order = resultOrder(app.norms, sortMode, statsById, insightById);
    let list = container.querySelector(":scope > ol.norm-list--flat");
    if (!list || container.getAttribute("data-mode") !== mode) {
      // An ordered list: its order is the point.
      list = h("ol", { class: "norm-list norm-list--flat" });
      container.replaceChildren(list);
    }
    place(list, order.map(resultRow));
  } else if (container.getAttribute("data-mode") !== mode || resorted || !container.children.length) {
    container.replaceChildren(
      ...themesOf(app.norms).map(({ theme, norms }) =>
        h(
          "section",
          { class: "theme", "aria-labelledby": `th-${theme.id}` },
          h("h4", { class: "theme__title", id: `th-${theme.id}` }, theme.title),
          h("ul", { class: "norm-list" }, ...norms.map(resultRow)),
        ),
      ),
    );
  }
  container.setAttribute("data-mode", mode);
  const level = sortMode === "template" ? 5 : 4;
  for (const norm of app.norms) {
    if (norm.figures.length || norm.examples.length) extrasHeadingLevel(resultRow(norm), level);
  }
  renderThemes(byId, statsById, analysis);
  renderOpinionGroups(analysis);
  renderBreakdownMatrix(analysis);
}
