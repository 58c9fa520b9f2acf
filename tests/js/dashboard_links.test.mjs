// The control view's presenter link and the results-pages contract with the presenter
// (client/static/dashboard/control.js, pager.js), without a browser.
import assert from "node:assert/strict";
import { test } from "node:test";

import { presenterUrl } from "../../client/static/dashboard/control.js";
import { channelName, pageState } from "../../client/static/dashboard/pager.js";

test("presenterUrl: the language as ?lang=, the token kept after #", () => {
  assert.equal(presenterUrl("http://kleur.test:8000/p/ABCD#tok_en-1", "en"), "http://kleur.test:8000/p/ABCD?lang=en#tok_en-1");
  assert.equal(presenterUrl("https://kleur.test/p/ABCD?lang=en#t", "nl"), "https://kleur.test/p/ABCD?lang=nl#t");
  assert.equal(presenterUrl("https://kleur.test/p/ABCD", "nl"), "https://kleur.test/p/ABCD?lang=nl");
});

test("pageState: only a sane answer of the presenter counts", () => {
  assert.equal(channelName("ABCD"), "kleur-presenter-ABCD");
  assert.deepEqual(pageState({ type: "page-state", page: 2, pages: 5, held: true }), { page: 2, pages: 5, held: true });
  assert.deepEqual(pageState({ type: "page-state", page: 1, pages: 1 }), { page: 1, pages: 1, held: false });
  // A presenter in a phase without pages answers 0 of 0: it is there.
  assert.deepEqual(pageState({ type: "page-state", page: 0, pages: 0 }), { page: 0, pages: 0, held: false });
  for (const bad of [null, "x", { type: "page", action: "next" }, { type: "page-state", page: 0, pages: 5 }, { type: "page-state", page: 6, pages: 5 }, { type: "page-state", page: "2", pages: 5 }, { type: "page-state", page: 1, pages: 0 }]) {
    assert.equal(pageState(bad), null, JSON.stringify(bad));
  }
});
