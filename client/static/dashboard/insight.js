// One result row's numbers: the distribution, consensus, shift, gap and breakdown.

import { consensusText, formatChange, formatNumber } from "./format.js";
import { app, colourClass, consensusLevel, cutoffs, isNumber, scaleValues, secondQuestion, stats } from "./state.js";
import { h, setAttr, setText, tr } from "./view.js";

export function renderDistribution(row, norm, result, insight) {
  const counts = result.counts || [];
  const s = stats(counts, insight);
  const dist = row.querySelector(".dist");
  const key = JSON.stringify([counts, result.dont_know, app.lang]);
  if (dist.getAttribute("data-key") !== key) {
    dist.setAttribute("data-key", key);
    const values = scaleValues();
    const segments = [];
    counts.forEach((count, i) => {
      if (!count) return;
      const share = (100 * count) / s.n;
      const segment = h(
        "span",
        { class: `dist__seg ${colourClass(values[i])}${share < 5 ? " dist__seg--narrow" : ""}`, "aria-hidden": "true" },
        String(values[i]),
      );
      segment.style.width = `${share}%`;
      segments.push(segment);
    });
    if (!segments.length) segments.push(h("span", { class: "dist__empty" }, tr("results.no_answers")));
    dist.replaceChildren(...segments);
    // The text alternative of the bar.
    const { low, high } = cutoffs();
    const lowCount = counts.reduce((sum, c, i) => (values[i] <= low ? sum + c : sum), 0);
    const highCount = counts.reduce((sum, c, i) => (values[i] >= high ? sum + c : sum), 0);
    const parts = [tr("results.aria.norm", { n: norm.number, title: norm.title })];
    parts.push(
      result.median === null || result.median === undefined
        ? tr("results.aria.no_median")
        : tr("results.aria.median", { median: formatNumber(result.median) }),
    );
    parts.push(tr("results.aria.low", { n: lowCount, value: low }));
    parts.push(tr("results.aria.high", { n: highCount, value: high }));
    if (result.dont_know) parts.push(tr("results.aria.dont_know", { n: result.dont_know }));
    dist.setAttribute("aria-label", parts.join(", "));
  }
  // "Don't know" apart, in a slot of its own (kept empty so the bars line up).
  const dk = row.querySelector(".dk");
  dk.hidden = !app.template.scale.dont_know;
  dk.classList.toggle("dk--none", !result.dont_know);
  setText(dk, result.dont_know ? tr("results.dont_know_n", { n: result.dont_know }) : "");
  // The middle range is the server's (agenda/stats.py), never computed here.
  const statsText =
    s.n === 0
      ? "" // the bar says "Nog geen antwoorden" already
      : [
          tr("results.median_is", { median: formatNumber(result.median ?? s.median) }),
          mostText(insight),
          tr("results.n_is", { n: s.n }),
        ]
          .filter(Boolean)
          .join(" · ");
  setText(row.querySelector(".norm__stats"), statsText);
  if (result.median === null || result.median === undefined) setAttr(row, "data-median", null);
  else setAttr(row, "data-median", result.median);
  setAttr(row, "data-received", result.received);
  return s;
}

/** "meeste cijfers 3–7" / "meeste cijfers zijn 3": the server's middle range in
 * whole scores (NormInsight.most_low/most_high, rounded outward by agenda/stats.py). */
function mostText(insight) {
  if (!insight || !isNumber(insight.most_low) || !isNumber(insight.most_high)) return null;
  if (insight.most_low === insight.most_high) return tr("results.iqr_one", { value: formatNumber(insight.most_low) });
  return tr("results.iqr_is", { low: formatNumber(insight.most_low), high: formatNumber(insight.most_high) });
}

/**
 * The child of `parent` matching `selector`, made by `create()` while `wanted`
 * (before the child matching `before`, else last) and removed otherwise: a
 * data-testid is then either there and visible, or not in the page at all.
 */
export function optionalChild(parent, selector, wanted, create, before) {
  let node = parent.querySelector(`:scope > ${selector}`);
  if (!wanted) {
    if (node) node.remove();
    return null;
  }
  if (!node) {
    node = create();
    const anchor = before ? parent.querySelector(`:scope > ${before}`) : null;
    parent.insertBefore(node, anchor);
  }
  return node;
}

/** Consensus, the median band, the shift since the last round and the breakdown of one norm. */
export function renderInsight(row, norm, insight, snap, breakdown) {
  setAttr(row, "data-rank", insight ? insight.rank : null);
  setAttr(row, "data-contested", insight ? String(insight.contested) : null);
  const rated = Boolean(insight && insight.n > 0);

  // "Verdeeld" (or "twee kampen" when the table splits in two), replacing "veel verschil".
  const contested = Boolean(insight && insight.contested);
  const badges = row.querySelector(".norm__badges");
  const badge = optionalChild(badges, ".badge--contested", contested, () =>
    h("span", { class: "badge badge--contested", "data-testid": `contested-${norm.id}` }),
  );
  if (badge) {
    // One word for both (the guide and the projector say "Verdeeld"); a split keeps its own style.
    setText(badge, tr("results.contested"));
    badge.classList.toggle("badge--split", insight.split);
  }

  // "eensgezind 0,93 · mediaan met 95% zekerheid tussen 6 en 8"
  const line = row.querySelector(".norm__insight");
  const parts = [];
  // One rating agrees with itself (consensus 1): that says nothing.
  if (rated && insight.n >= 2 && isNumber(insight.consensus)) parts.push(consensusText(insight.consensus));
  if (rated && isNumber(insight.median_low) && isNumber(insight.median_high)) {
    const { min, max } = app.template.scale;
    // Up to 5 ratings the band is the whole scale (docs/analysis.md): say so plainly.
    const whole = insight.median_low <= min && insight.median_high >= max;
    const band = { low: formatNumber(insight.median_low), high: formatNumber(insight.median_high) };
    const one = insight.median_low === insight.median_high;
    parts.push(tr(whole ? "results.band_whole" : one ? "results.band_one" : "results.band", { ...band, value: band.low }));
  }
  line.hidden = !parts.length;
  setText(line, parts.join(" · "));
  line.classList.toggle("norm__insight--low", rated && isNumber(insight.consensus) && consensusLevel(insight.consensus) === "low");

  // "mediaan +1 sinds ronde 1, eensgezindheid +0,45" (round 2 and later).
  const hasShift = Boolean(snap.round > 1 && insight && isNumber(insight.median_delta));
  const shift = optionalChild(
    row,
    ".norm__shift",
    hasShift,
    () => h("p", { class: "norm__shift", "data-testid": `shift-${norm.id}` }),
    ".breakdown",
  );
  if (shift) {
    const params = { median: formatChange(insight.median_delta, 1), round: snap.round - 1 };
    const text = isNumber(insight.consensus_delta)
      ? tr("results.shift", { ...params, consensus: formatChange(insight.consensus_delta, 2) })
      : tr("results.shift_median", params);
    setText(shift, text);
    shift.classList.toggle("norm__shift--up", insight.median_delta > 0);
    shift.classList.toggle("norm__shift--down", insight.median_delta < 0);
  }

  // "belang: mediaan 4,5, verschil met score +2,5" (templates with a second question).
  const asked = secondQuestion();
  const hasGap = Boolean(asked && insight && isNumber(insight.second_median));
  const gap = optionalChild(
    row,
    ".norm__gap",
    hasGap,
    () => h("p", { class: "norm__gap", "data-testid": `gap-${norm.id}` }),
    ".breakdown",
  );
  if (gap) {
    setText(
      gap,
      tr(`results.gap_${asked.kind}`, {
        second: formatNumber(insight.second_median),
        gap: isNumber(insight.gap) ? formatChange(insight.gap, 1) : "–",
      }),
    );
  }

  // Per organisation type: only what the server allows to be shown.
  const details = optionalChild(row, ".breakdown", rated, () =>
    h(
      "details",
      { class: "breakdown", "data-testid": `breakdown-${norm.id}` },
      h(
        "summary",
        { class: "breakdown__toggle" },
        tr("breakdown.toggle"),
        h("span", { class: "visually-hidden" }, ` – ${tr("results.aria.norm", { n: norm.number, title: norm.title })}`),
      ),
      h("ul", { class: "breakdown__list" }),
      h("p", { class: "breakdown__note" }),
    ),
  );
  if (details) {
    const entries = breakdown.get(norm.id) || [];
    const key = JSON.stringify([entries, app.lang]);
    const list = details.querySelector(".breakdown__list");
    if (list.getAttribute("data-key") !== key) {
      list.setAttribute("data-key", key);
      list.replaceChildren(
        ...(entries.length
          ? entries.map((entry) =>
              h(
                "li",
                { class: "breakdown__item", "data-org": entry.org_type },
                h("span", { class: "breakdown__org" }, app.orgLabel.get(entry.org_type) || entry.org_type),
                " ",
                isNumber(entry.median)
                  ? h("span", { class: `median-chip median-chip--small ${colourClass(Math.round(entry.median))}` }, formatNumber(entry.median))
                  : h("span", { class: "median-chip median-chip--small" }, "–"),
                " ",
                h("span", { class: "breakdown__n" }, tr("breakdown.n", { n: entry.n })),
              ),
            )
          : [h("li", { class: "breakdown__none" }, tr("breakdown.none"))]),
      );
      setText(details.querySelector(".breakdown__note"), tr("breakdown.note", { n: app.limits.min_group_size || 3 }));
    }
  }
}
