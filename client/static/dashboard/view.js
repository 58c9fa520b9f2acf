// The one rendering helper of the dashboard: elements from el(), text and attributes
// set only when they change, keyed nodes that survive a snapshot, panels built when shown.

import { el, normalizeText } from "../kleur.js";
import { app } from "./state.js";

export const $ = (id) => document.getElementById(id);

export function tr(key, params) {
  // "{n} stippen" / "1 stip": a key ending in _one is used when n is 1.
  if (params && params.n === 1 && app.t.has && app.t.has(`dashboard.${key}_one`)) {
    return app.t(`dashboard.${key}_one`, params);
  }
  return app.t(`dashboard.${key}`, params);
}

export function h(tag, attrs, ...children) {
  // el() with string attributes only; properties and listeners are set here.
  const plain = {};
  const props = {};
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (typeof value === "function" || typeof value === "boolean") props[name] = value;
    else plain[name] = String(value);
  }
  const node = el(tag, plain, ...children.filter((c) => c !== null && c !== undefined && c !== false));
  for (const [name, value] of Object.entries(props)) {
    if (typeof value === "function") node.addEventListener(name.replace(/^on/, ""), value);
    else node[name] = value;
  }
  return node;
}

export function button(label, attrs, onClick) {
  const node = h("button", { type: "button", class: "btn", ...attrs }, label);
  node.addEventListener("click", onClick);
  return node;
}

export function setText(node, text) {
  const value = String(text);
  if (node.textContent !== value) node.textContent = value;
}

export function setAttr(node, name, value) {
  if (value === null || value === undefined) {
    if (node.hasAttribute(name)) node.removeAttribute(name);
  } else if (node.getAttribute(name) !== String(value)) {
    node.setAttribute(name, String(value));
  }
}

/** Make `container`'s children exactly `nodes`, in order, moving as little as possible. */
export function place(container, nodes) {
  nodes.forEach((node, index) => {
    if (container.children[index] !== node) container.insertBefore(node, container.children[index] || null);
  });
  while (container.children.length > nodes.length) container.lastElementChild.remove();
}

/** A keyed cache of elements: `get(key, create)` reuses, `sweep()` forgets unused keys. */
export function keyed(name) {
  if (!app.keyed[name]) {
    const map = new Map();
    let used = new Set();
    app.keyed[name] = {
      get(key, create) {
        used.add(key);
        if (!map.has(key)) map.set(key, create());
        return map.get(key);
      },
      sweep() {
        for (const key of map.keys()) if (!used.has(key)) map.delete(key);
        used = new Set();
      },
      clear() {
        map.clear();
        used = new Set();
      },
    };
  }
  return app.keyed[name];
}

export const cleanText = normalizeText; // NFC, control characters dropped, trimmed

/** A translation with nodes in place of some of its {placeholders}. */
export function trNodes(key, params) {
  return tr(key)
    .split(/(\{\w+\})/)
    .filter((part) => part !== "")
    .map((part) => {
      const match = /^\{(\w+)\}$/.exec(part);
      return match && match[1] in params ? params[match[1]] : part;
    });
}

/** Each panel's build function by its id, given by panels.js (so that this helper imports no panel). */
const builders = {};

export function registerBuilders(table) {
  Object.assign(builders, table);
}

/**
 * Show or hide a panel.  A hidden panel is emptied, so that a data-testid
 * (e.g. norm-{id}, in both the rating and the results panel) is never in the
 * page twice; it is built again when it is shown.
 */
export function showPanel(id, visible) {
  const panel = $(id);
  panel.hidden = !visible;
  if (!visible) {
    if (panel.firstChild) {
      panel.replaceChildren();
      if (app.keyed[id]) app.keyed[id].clear();
    }
    return false;
  }
  if (!panel.firstChild) builders[id]();
  return true;
}
