// What this device remembers about one room: localStorage survives a restart
// (round, organisation asked, lobby seen), sessionStorage only this tab (join
// token, a note being typed).  Storage may be disabled: then nothing is kept.

import { app } from "./state.js";

export function storage(key, value) {
  const full = `kleur.${app.room}.${key}`;
  try {
    if (value === undefined) return window.localStorage.getItem(full);
    if (value === null) window.localStorage.removeItem(full);
    else window.localStorage.setItem(full, value);
  } catch {
    // storage disabled: nothing to remember
  }
  return null;
}

export function sessionGet(key) {
  try {
    return window.sessionStorage.getItem(`kleur.${app.room}.${key}`);
  } catch {
    return null;
  }
}

export function sessionSet(key, value) {
  try {
    const full = `kleur.${app.room}.${key}`;
    if (value) window.sessionStorage.setItem(full, value);
    else window.sessionStorage.removeItem(full);
  } catch {
    // ignore
  }
}
