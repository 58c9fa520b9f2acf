// The phone's one rendering helper: texts and numbers in the page language,
// and `section`/`patch`, which rebuild only the parts of #content whose data
// changed.  Elements themselves are made with kleur.js's el().

import { app } from "./state.js";

export const $ = (id) => document.getElementById(id);

export function t(key, params) {
  return app.t(key, params);
}

/** t() for a count: key.one or key.other, with {n}. */
export function tn(key, n, params = {}) {
  return app.t(`${key}.${n === 1 ? "one" : "other"}`, { n: formatNumber(n), ...params });
}

export function formatNumber(value, digits = 0) {
  return new Intl.NumberFormat(app.lang, { maximumFractionDigits: digits }).format(value);
}

// ------------------------------------------------------------------ sections

/**
 * Rebuild only the sections whose data changed (each has a signature), and
 * give focus back to the element with the same id if a rebuild took it.
 */
export function patch(sections) {
  const content = $("content");
  const active = document.activeElement;
  const focusedId = active && content.contains(active) ? active.id : null;
  const existing = [...content.children];
  const sameKeys =
    existing.length === sections.length &&
    existing.every((node, i) => node.dataset.key === sections[i].key);
  const build = (section) => {
    const node = section.build();
    node.dataset.key = section.key;
    node.dataset.sig = section.sig;
    return node;
  };
  if (sameKeys) {
    sections.forEach((section, i) => {
      if (existing[i].dataset.sig !== section.sig) existing[i].replaceWith(build(section));
    });
  } else {
    content.replaceChildren(...sections.map(build));
  }
  if (focusedId && !content.contains(document.activeElement)) {
    const again = document.getElementById(focusedId);
    if (again && !again.disabled) again.focus({ preventScroll: true });
  }
}

export function section(key, data, build) {
  // The template's language too: its texts arrive after a language switch.
  return { key, sig: JSON.stringify([app.lang, app.templateLang, data]), build };
}
