// The revealed results: per norm the median, the spread as a bar chart (and
// as a sentence for a screen reader) and the own answers.

import { el } from "../kleur.js";
import { answerText } from "./rating.js";
import { app, lateAnswer, secondQuestion, step } from "./state.js";
import { formatNumber, section, t, tn } from "./ui.js";

export function resultsSection(v, collapsed) {
  const results = app.state.results;
  const seconds = app.state.second_results || null;
  const own = app.norms.map((norm) => [v.ratings.get(norm.id), v.seconds.get(norm.id)].map((r) => (r ? r.value : "unset")));
  const late = app.norms.map((norm) => [lateAnswer(app, norm.id, "current"), lateAnswer(app, norm.id, "second")]);
  return section("results", [results, seconds, own, late, collapsed, app.resultsOpen], () => {
    const byNorm = new Map((results || []).map((r) => [r.norm_id, r]));
    const secondByNorm = new Map((seconds || []).map((r) => [r.norm_id, r]));
    const body = [];
    for (const theme of app.template.themes) {
      body.push(el("h3", { lang: app.template.language }, theme.title));
      for (const norm of theme.norms) {
        body.push(
          normResult(norm, byNorm.get(norm.id), v.ratings.get(norm.id), {
            result: secondByNorm.get(norm.id),
            own: v.seconds.get(norm.id),
          }),
        );
      }
    }
    const intro = [
      el("p", {}, t(results ? "phone.results.intro" : "phone.results.own_only")),
      results && app.template.scale.dont_know ? el("p", { class: "hint" }, t("phone.results.dk_legend")) : null,
    ];
    if (collapsed) {
      const details = el(
        "details",
        { open: app.resultsOpen },
        el("summary", {}, t("phone.results.show")),
        el("h2", { class: "visually-hidden" }, t("phone.results.title")),
        intro,
        ...body,
      );
      details.addEventListener("toggle", () => {
        app.resultsOpen = details.open;
      });
      return el("section", { class: "card card-quiet results", "data-testid": "results" }, details);
    }
    return el(
      "section",
      { class: "card results", "data-testid": "results", "aria-labelledby": "results-title" },
      el("h2", { id: "results-title" }, t("phone.results.title")),
      intro,
      ...body,
    );
  });
}

/** The second question's median and the own answer to it, as one line (null when not asked). */
function secondLine(second) {
  const asked = secondQuestion(app);
  if (!asked) return null;
  const median =
    second.result && second.result.median !== null && second.result.median !== undefined
      ? formatNumber(second.result.median, 1)
      : "–";
  return el(
    "p",
    { class: "own-answer" },
    t(`phone.results.second_${asked.kind}`, { median, answer: ownText(second.own, second.normId, "second") }),
  );
}

/**
 * The own answer; one given but refused because the round had closed says so
 * (it is not "not answered": the participant did answer, too late).
 */
function ownText(own, normId, question) {
  const late = own ? null : lateAnswer(app, normId, question);
  if (!late) return answerText(own);
  return t("phone.results.own_late", { answer: answerText({ value: late.value }) });
}

function normResult(norm, result, own, second) {
  const lang = app.template.language;
  const scale = app.template.scale;
  const ownLine = el(
    "p",
    { class: "own-answer", "data-testid": `own-answer-${norm.id}` },
    t("phone.results.own", { answer: ownText(own, norm.id, "current") }),
  );
  const title = el("h4", { lang }, `${norm.number}. ${norm.title}`);
  if (!result || !result.counts) {
    return el("article", { class: "norm-result" }, title, ownLine, secondLine({ result: null, own: second.own, normId: norm.id }));
  }
  const columns = result.counts.map((count, i) => ({
    label: formatNumber(scale.min + i),
    count,
  }));
  if (scale.dont_know) columns.push({ label: t("phone.results.dk_short"), count: result.dont_know || 0, dk: true });
  const highest = Math.max(1, ...columns.map((column) => column.count));
  const chart = el(
    "div",
    { class: "chart", "aria-hidden": "true" },
    ...columns.map((column) =>
      el(
        "div",
        { class: ["chart-col", column.dk ? "chart-dk" : null] },
        el("span", { class: "chart-count" }, column.count ? formatNumber(column.count) : ""),
        el(
          "div",
          { class: "chart-track" },
          el("div", { class: `chart-bar h-${step(column.count, highest) * 5}` }),
        ),
        el("span", { class: "chart-label" }, column.label),
      ),
    ),
  );
  const parts = columns
    .filter((column) => column.count > 0)
    .map((column) =>
      column.dk
        ? tn("phone.results.sr_dk", column.count)
        : tn("phone.results.sr_value", column.count, { value: column.label }),
    );
  const median =
    result.median === null || result.median === undefined
      ? t("phone.results.no_median")
      : t("phone.results.median", { median: formatNumber(result.median, 1) });
  return el(
    "article",
    { class: "norm-result" },
    title,
    el(
      "p",
      { class: "result-stats" },
      el("span", {}, median),
      el("span", {}, tn("phone.results.received", result.received)),
    ),
    chart,
    el(
      "p",
      { class: "visually-hidden" },
      parts.length ? t("phone.results.sr_spread", { list: parts.join(", ") }) : t("phone.results.sr_empty"),
    ),
    ownLine,
    secondLine({ ...second, normId: norm.id }),
  );
}
