// The tables under the results: themes, opinion groups, norms by kind of organisation.

import { consensusText, formatChange, formatNumber, normLabel } from "./format.js";
import { app, colourClass, consensusLevel, GROUP_LETTERS, isNumber, secondQuestion, SEPARATING_SHOWN, themesOf } from "./state.js";
import { $, h, tr } from "./view.js";

export function renderThemes(byId, statsById, analysis) {
  const insightById = new Map(analysis ? analysis.themes.map((t) => [t.theme_id, t]) : []);
  const rows = themesOf(app.norms).map(({ theme, norms }) => {
    let answers = 0;
    let widest = null;
    for (const norm of norms) {
      const result = byId.get(norm.id);
      if (!result || !result.counts) continue;
      answers += result.received;
      const s = statsById.get(norm.id);
      if (s && s.n >= 2 && isNumber(s.iqr) && (!widest || s.iqr > widest.s.iqr)) widest = { norm, s };
    }
    const insight = insightById.get(theme.id);
    const median = insight ? insight.median : null;
    const medianCell = !isNumber(median)
      ? h("td", {}, "–")
      : h("td", {}, h("span", { class: `median-chip ${colourClass(Math.round(median))}` }, formatNumber(median)));
    const consensusCell =
      insight && isNumber(insight.consensus) && insight.n >= 2
        ? h("td", { class: `theme-table__consensus theme-table__consensus--${consensusLevel(insight.consensus)}` }, consensusText(insight.consensus))
        : h("td", {}, "–");
    return h(
      "tr",
      { "data-theme": theme.id },
      h("th", { scope: "row" }, theme.title),
      medianCell,
      consensusCell,
      secondQuestion()
        ? h("td", { "data-testid": `theme-gap-${theme.id}` }, insight && isNumber(insight.gap) ? formatChange(insight.gap, 1) : "–")
        : null,
      h("td", {}, widest && widest.s.iqr > 0 ? tr("results.theme_widest", { n: widest.norm.number, title: widest.norm.title, iqr: formatNumber(widest.s.iqr) }) : "–"),
      h("td", {}, String(answers)),
    );
  });
  const tbody = $("theme-rows");
  const key = JSON.stringify(rows.map((r) => [r.textContent, r.querySelector(".median-chip")?.className]));
  if (tbody.getAttribute("data-key") !== key) {
    tbody.setAttribute("data-key", key);
    tbody.replaceChildren(...rows);
  }
}

/** Opinion groups: sizes and, on the norms that tell them apart, their medians.  Never who. */
/** Norms × kinds of organisation: each shown group's median; a dash where a group is too small. */
export function renderBreakdownMatrix(analysis) {
  const section = $("breakdown-matrix");
  const entries = analysis ? analysis.breakdown : [];
  section.hidden = !entries.length;
  if (!entries.length) return;
  const body = $("breakdown-matrix-body");
  const key = JSON.stringify([entries, app.lang]);
  if (body.getAttribute("data-key") === key) return;
  body.setAttribute("data-key", key);
  const shownOrgs = new Set(entries.map((entry) => entry.org_type));
  const orgs = app.template.org_types.filter((org) => shownOrgs.has(org.id));
  const cell = new Map(entries.map((entry) => [`${entry.norm_id}|${entry.org_type}`, entry]));
  body.replaceChildren(
    h(
      "div",
      { class: "breakdown-matrix__box", tabindex: "0", role: "region", "aria-labelledby": "matrix-title" },
      h(
        "table",
        { class: "theme-table breakdown-matrix__table" },
        h(
          "thead",
          {},
          h("tr", {}, h("th", { scope: "col" }, tr("groups.norm")), ...orgs.map((org) => h("th", { scope: "col" }, org.label))),
        ),
        h(
          "tbody",
          {},
          ...app.norms.map((norm) =>
            h(
              "tr",
              { "data-norm": norm.id },
              h("th", { scope: "row" }, normLabel(norm.id)),
              ...orgs.map((org) => {
                const entry = cell.get(`${norm.id}|${org.id}`);
                if (!entry || !isNumber(entry.median)) {
                  return h("td", { class: "breakdown-matrix__none", "aria-label": tr("matrix.none") }, "–");
                }
                return h(
                  "td",
                  { "data-org": org.id },
                  h("span", { class: `median-chip ${colourClass(Math.round(entry.median))}` }, formatNumber(entry.median)),
                  " ",
                  h("span", { class: "breakdown-matrix__n" }, tr("matrix.n", { n: entry.n })),
                );
              }),
            ),
          ),
        ),
      ),
    ),
  );
}

export function renderOpinionGroups(analysis) {
  const section = $("opinion-groups");
  section.hidden = !analysis;
  if (!analysis) return;
  const key = JSON.stringify([analysis.groups_outcome, analysis.groups, analysis.separating_norms, app.lang]);
  const body = $("opinion-groups-body");
  if (body.getAttribute("data-key") === key) return;
  body.setAttribute("data-key", key);
  section.setAttribute("data-outcome", analysis.groups_outcome);
  if (analysis.groups_outcome !== "groups" || analysis.groups.length < 2) {
    const reason = analysis.groups_outcome === "too_few_participants" ? "groups.too_few" : "groups.none";
    body.replaceChildren(h("p", { class: "opinion-groups__calm" }, tr(reason)), h("p", { class: "opinion-groups__about" }, tr("groups.about")));
    return;
  }
  const index = new Map(app.norms.map((norm, i) => [norm.id, i]));
  const name = (i) => tr("groups.name", { letter: GROUP_LETTERS[i] || String(i + 1) });
  const separating = analysis.separating_norms.filter((id) => index.has(id));
  const shown = separating.slice(0, SEPARATING_SHOWN);
  const cell = (value) =>
    isNumber(value)
      ? h("td", {}, h("span", { class: `median-chip ${colourClass(Math.round(value))}` }, formatNumber(value)))
      : h("td", { class: "opinion-groups__none" }, tr("groups.no_median"));
  body.replaceChildren(
    h("p", { class: "opinion-groups__about" }, tr("groups.about")),
    h(
      "ul",
      { class: "opinion-groups__list" },
      ...analysis.groups.map((group, i) =>
        h(
          "li",
          { class: "opinion-group", "data-size": group.size },
          h("span", { class: "opinion-group__name" }, name(i)),
          " ",
          h("span", { class: "opinion-group__size" }, tr("groups.size", { n: group.size })),
        ),
      ),
    ),
    shown.length
      ? h(
          "div",
          { class: "opinion-groups__table-box", tabindex: "0", role: "region", "aria-labelledby": "opinion-groups-caption" },
          h(
            "table",
            { class: "theme-table opinion-groups__table" },
            h("caption", { id: "opinion-groups-caption", class: "opinion-groups__caption" }, tr("groups.separating")),
            h(
              "thead",
              {},
              h("tr", {}, h("th", { scope: "col" }, tr("groups.norm")), ...analysis.groups.map((_, i) => h("th", { scope: "col" }, name(i)))),
            ),
            h(
              "tbody",
              {},
              ...shown.map((normId) =>
                h(
                  "tr",
                  { "data-norm": normId },
                  h("th", { scope: "row" }, normLabel(normId)),
                  ...analysis.groups.map((group) => cell(group.medians[index.get(normId)])),
                ),
              ),
            ),
          ),
        )
      : h("p", { class: "opinion-groups__calm" }, tr("groups.no_separating")),
    // replaceChildren() is the DOM's own: it would print a null child as "null".
    ...(separating.length > shown.length
      ? [h("p", { class: "opinion-groups__more" }, tr("groups.more", { n: separating.length - shown.length }))]
      : []),
  );
}
