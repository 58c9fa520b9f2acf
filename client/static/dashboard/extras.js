// A norm's regional figures and good-practice examples.

import { figureDate, figureValue } from "./format.js";
import { isNumber } from "./state.js";
import { h, tr, trNodes } from "./view.js";

/** An address the template gave, if it is http(s) (the loader checked that already). */
export function safeLink(value) {
  if (typeof value !== "string") return null;
  try {
    const url = new URL(value);
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
  } catch {
    return null;
  }
}

/** A link that opens in a new tab and tells nothing to the other site. */
export function externalLink(href, ...children) {
  return h(
    "a",
    { class: "norm-extras__link", href, target: "_blank", rel: "noopener noreferrer" },
    ...children,
    h("span", { class: "visually-hidden" }, ` ${tr("extras.new_tab")}`),
  );
}

/**
 * The template's regional figures and good-practice examples for one norm,
 * shown with its results; null (nothing at all) for a norm without them.  A
 * figure is only ever shown with its source and date.
 */
export function normExtras(norm) {
  const figures = norm.figures.filter(
    (f) => f && isNumber(f.value) && typeof f.label === "string" && f.label && typeof f.source === "string" && f.source && typeof f.date === "string" && f.date,
  );
  const examples = norm.examples.filter((e) => e && typeof e.text === "string" && e.text);
  if (!figures.length && !examples.length) return null;
  const about = h("span", { class: "visually-hidden" }, ` – ${tr("results.aria.norm", { n: norm.number, title: norm.title })}`);
  const part = (kind, title, list) =>
    h(
      "div",
      { class: `norm-extras__part norm-extras__part--${kind}` },
      h("h5", { class: "norm-extras__title", id: `extras-${kind}-${norm.id}` }, title, about.cloneNode(true)),
      list,
    );
  return h(
    "div",
    { class: "norm-extras", "data-testid": `extras-${norm.id}` },
    figures.length
      ? part(
          "figures",
          tr("extras.figures"),
          h(
            "ul",
            { class: "norm-extras__list", "aria-labelledby": `extras-figures-${norm.id}` },
            ...figures.map((figure) => {
              const link = safeLink(figure.link);
              const source = link ? externalLink(link, figure.source) : figure.source;
              return h(
                "li",
                { class: "norm-extras__figure" },
                h("span", { class: "norm-extras__label" }, `${figure.label}: `),
                h("strong", { class: "norm-extras__value" }, figureValue(figure.value, figure.unit || "")),
                " ",
                h("span", { class: "norm-extras__source" }, ...trNodes("extras.source", { source, date: figureDate(figure.date) })),
              );
            }),
          ),
        )
      : null,
    examples.length
      ? part(
          "examples",
          tr("extras.examples"),
          h(
            "ul",
            { class: "norm-extras__list", "aria-labelledby": `extras-examples-${norm.id}` },
            ...examples.map((example) => {
              const link = safeLink(example.link);
              return h(
                "li",
                { class: "norm-extras__example" },
                example.text,
                link ? " " : null,
                link ? externalLink(link, new URL(link).host.replace(/^www\./, "")) : null,
              );
            }),
          ),
        )
      : null,
  );
}

/**
 * Keep the headings of the extras one level below the list they are in:
 * h5 under a theme's h4, h4 in the one-list orders (under the h3).
 */
export function extrasHeadingLevel(row, level) {
  for (const title of row.querySelectorAll(".norm-extras__title")) {
    if (title.tagName === `H${level}`) continue;
    const again = h(`h${level}`, { class: title.className, id: title.id }, ...title.childNodes);
    title.replaceWith(again);
  }
}
