// The dashboard's pure selectors (client/static/dashboard/state.js), without a browser.
// Run: node --test tests/js/   (tests/test_js_units.py runs it in the test command).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import {
  app,
  breakdownByNorm,
  closeName,
  colourClass,
  consensusLevel,
  cutoffs,
  draftAsShown,
  EDIT_PHASES,
  effectiveSortMode,
  followUpStatuses,
  isWide,
  missingOnAgenda,
  mostNamedNorm,
  nextPosition,
  noteCounts,
  noteGroupOf,
  normsOf,
  pendingNotes,
  phaseButtonKey,
  previousFigures,
  ratingProgress,
  stepRange,
  resultOrder,
  REVEALED,
  ROUND_PHASES,
  scaleValues,
  secondQuestion,
  spreadThreshold,
  stats,
  themesOf,
  useProtocol,
  votesShown,
  wallCount,
  wallGroups,
  wallNotes,
} from "../../client/static/dashboard/state.js";

const SCALE = { min: 0, max: 10 };
// tests/test_js_units.py passes the server's own GET /api/protocol document.
const PROTOCOL = process.env.KLEUR_PROTOCOL ? JSON.parse(readFileSync(process.env.KLEUR_PROTOCOL, "utf-8")) : null;

const theme = (id, norms) => ({ id, title: `Thema ${id}`, norms });
const TEMPLATE = {
  themes: [
    theme("a", [
      { id: "n1", number: 1, title: "Eén", examples: [{ text: "x" }] },
      { id: "n2", number: 2, title: "Twee", figures: "not a list" },
    ]),
    theme("b", [{ id: "n3", number: 3, title: "Drie" }]),
  ],
};

test("scaleValues lists every point of the scale", () => {
  assert.deepEqual(scaleValues({ min: 1, max: 5 }), [1, 2, 3, 4, 5]);
  assert.equal(scaleValues(SCALE).length, 11);
});

test("colourClass maps the scale onto the 11 colour classes, ends included", () => {
  assert.equal(colourClass(0, SCALE), "c-0");
  assert.equal(colourClass(10, SCALE), "c-10");
  assert.equal(colourClass(5, SCALE), "c-5");
  assert.equal(colourClass(1, { min: 1, max: 5 }), "c-0");
  assert.equal(colourClass(3, { min: 1, max: 5 }), "c-5");
  assert.equal(colourClass(5, { min: 1, max: 5 }), "c-10");
});

test("cutoffs are the outer fifth of the scale, at least one step", () => {
  assert.deepEqual(cutoffs(SCALE), { low: 2, high: 8 });
  assert.deepEqual(cutoffs({ min: 1, max: 3 }), { low: 2, high: 2 });
});

test("stats takes the middle range from the server and only n and sd from the counts", () => {
  const counts = [0, 0, 2, 0, 2, 0, 0, 0, 0, 0, 0]; // two 2s and two 4s
  const s = stats(counts, { median: 3, q1: 2, q3: 4 }, SCALE);
  assert.deepEqual(s, { n: 4, median: 3, q1: 2, q3: 4, iqr: 2, sd: 1 });
  // Without the server's numbers there is no median or range, never a local guess.
  assert.deepEqual(stats(counts, null, SCALE), { n: 4, median: null, q1: null, q3: null, iqr: null, sd: 1 });
  assert.equal(stats(new Array(11).fill(0), { median: 5 }, SCALE).n, 0);
  assert.equal(stats(new Array(11).fill(0), { median: 5 }, SCALE).median, null);
});

test("consensusLevel puts the Tastle-Wierman value into words", () => {
  assert.equal(consensusLevel(0.93), "high");
  assert.equal(consensusLevel(0.8), "high");
  assert.equal(consensusLevel(0.79), "mid");
  assert.equal(consensusLevel(0.6), "mid");
  assert.equal(consensusLevel(0.41), "low");
  assert.equal(consensusLevel(0), "low");
});

test("normsOf and themesOf keep the template's order and its themes", () => {
  const norms = normsOf(TEMPLATE);
  assert.deepEqual(
    norms.map((n) => [n.id, n.theme.id]),
    [
      ["n1", "a"],
      ["n2", "a"],
      ["n3", "b"],
    ],
  );
  assert.deepEqual(norms[0].examples, [{ text: "x" }]);
  assert.deepEqual(norms[1].figures, []); // not a list: none
  assert.deepEqual(
    themesOf(norms).map(({ theme: t, norms: list }) => [t.id, list.map((n) => n.id)]),
    [
      ["a", ["n1", "n2"]],
      ["b", ["n3"]],
    ],
  );
});

test("secondQuestion is the template's, or null", () => {
  assert.equal(secondQuestion({}), null);
  assert.equal(secondQuestion(null), null);
  assert.deepEqual(secondQuestion({ second_question: { kind: "importance" } }), { kind: "importance" });
});

test("useProtocol takes the phase rules from the protocol document", () => {
  const protocol = PROTOCOL || {
    limits: { max_dots_per_participant: 10 },
    phases: ["lobby", "rating", "reveal", "brainstorm", "agenda", "closed"],
    transitions: { lobby: ["rating"] },
    revealed_phases: ["reveal", "brainstorm", "agenda", "closed"],
    allowed_phases: { put_agenda_item: ["brainstorm", "agenda"], hide_note: ["brainstorm"], set_dot_voting: ["brainstorm"], rate: ["rating"] },
    enums: { FollowUpStatus: ["open", "in_progress", "done", "dropped"] },
    close_codes: { room_closed: { code: 4404, reconnect: false } },
  };
  useProtocol(protocol);
  assert.equal(app.protocol, protocol);
  assert.deepEqual(app.phases, protocol.phases);
  assert.deepEqual([...REVEALED].sort(), [...protocol.revealed_phases].sort());
  assert.deepEqual([...EDIT_PHASES].sort(), [...protocol.allowed_phases.put_agenda_item].sort());
  assert.ok(!REVEALED.has("rating") && !REVEALED.has("lobby"), "ratings are blind until the reveal");
  // "ronde 2" only where rating happens and its results are shown, not with ideas or the agenda.
  assert.deepEqual([...ROUND_PHASES].sort(), ["rating", "reveal"]);
  assert.deepEqual(followUpStatuses(), protocol.enums.FollowUpStatus);
  const [name, { code }] = Object.entries(protocol.close_codes)[0];
  assert.equal(closeName(code), name);
  assert.equal(closeName(1), null);
});

test("every follow-up status of the real protocol has its words in both languages", { skip: !PROTOCOL }, () => {
  const statuses = followUpStatuses(PROTOCOL);
  assert.ok(statuses.length >= 2);
  for (const lang of ["nl", "en"]) {
    const url = new URL(`../../client/static/i18n/dashboard.${lang}.json`, import.meta.url);
    const catalogue = JSON.parse(readFileSync(url, "utf-8"));
    for (const status of statuses) assert.ok(catalogue[`dashboard.previous.status.${status}`], `${lang}: ${status}`);
  }
  for (const [name, { code }] of Object.entries(PROTOCOL.close_codes)) assert.equal(closeName(code, PROTOCOL), name);
});

test("phaseButtonKey: forward, back, and a new round from the reveal", () => {
  const phases = ["lobby", "rating", "reveal", "brainstorm", "agenda", "closed"];
  assert.equal(phaseButtonKey(phases, "lobby", "rating"), "phase.to.rating");
  assert.equal(phaseButtonKey(phases, "reveal", "rating"), "phase.to.new_round");
  assert.equal(phaseButtonKey(phases, "agenda", "brainstorm"), "phase.back.brainstorm");
  assert.equal(phaseButtonKey(phases, "agenda", "closed"), "phase.to.closed");
});

test("ratingProgress takes the server's whole people, never the exact per-norm counts", () => {
  const snap = {
    participants: 12,
    // Exact counts that would add up to 11 people's worth over two norms: not used.
    norms: [
      { norm_id: "n1", received: 12 },
      { norm_id: "n2", received: 11 },
    ],
    progress: { people: 12, complete: 8, norms: [] },
  };
  assert.deepEqual(ratingProgress(snap), { done: 8, people: 12, percent: 67 });
  // No progress (an older server, or after the reveal): nobody done yet.
  assert.deepEqual(ratingProgress({ participants: 0, norms: [] }), { done: 0, people: 0, percent: 0 });
  assert.deepEqual(ratingProgress({ participants: 5, norms: [] }), { done: 0, people: 5, percent: 0 });
});

test("stepRange: a step as a range that never goes past the room's size", () => {
  assert.deepEqual(stepRange(0, 3, 12), { low: 0, high: 2 });
  assert.deepEqual(stepRange(9, 3, 12), { low: 9, high: 11 });
  assert.deepEqual(stepRange(12, 3, 12), { low: 12, high: 12 });
  assert.deepEqual(stepRange(9, 3, 10), { low: 9, high: 10 });
  assert.deepEqual(stepRange(0, 3, 1), { low: 0, high: 1 });
  assert.deepEqual(stepRange(0, 3, 0), { low: 0, high: 0 });
});

test("results: sort mode, spread threshold, wide norms and the two orders", () => {
  assert.equal(effectiveSortMode("priority", null), "template");
  assert.equal(effectiveSortMode("priority", {}), "priority");
  assert.equal(effectiveSortMode("disagreement", null), "disagreement");
  const s = (n, iqr, sd = 0) => ({ n, iqr, sd });
  const all = [s(5, 4), s(5, 3), s(5, 3), s(5, 1), s(1, 9), s(5, 0)];
  assert.equal(spreadThreshold(all), 3); // top 3 by IQR, the tie counts; n=1 and IQR 0 left out
  assert.equal(spreadThreshold([s(5, 0)]), Infinity);
  assert.equal(isWide(s(5, 3), null, null, 3), true);
  assert.equal(isWide(s(5, 1), null, null, 3), false);
  assert.equal(isWide(s(5, 9), { contested: false }, {}, 3), false, "with the analysis, contested decides");
  assert.equal(isWide(s(5, 0), { contested: true }, {}, 3), true);

  const norms = normsOf(TEMPLATE);
  const statsById = new Map([
    ["n1", s(4, 1, 1)],
    ["n2", s(4, 3, 1)],
    ["n3", s(0, null, null)],
  ]);
  assert.deepEqual(
    resultOrder(norms, "disagreement", statsById, new Map()).map((n) => n.id),
    ["n2", "n1", "n3"],
  );
  const ranks = new Map([
    ["n1", { rank: 2 }],
    ["n3", { rank: 1 }],
  ]);
  assert.deepEqual(
    resultOrder(norms, "priority", statsById, ranks).map((n) => n.id),
    ["n3", "n1", "n2"],
  );
  const analysis = { breakdown: [{ norm_id: "n1", org_type: "x" }, { norm_id: "n1", org_type: "y" }, { norm_id: "n2", org_type: "x" }] };
  assert.deepEqual([...breakdownByNorm(analysis).keys()], ["n1", "n2"]);
  assert.equal(breakdownByNorm(analysis).get("n1").length, 2);
  assert.equal(breakdownByNorm(null).size, 0);
});

test("wall: which notes show, their counts, groups and the order by dots", () => {
  const notes = [
    { note_id: "a", hidden: false, pending: false },
    { note_id: "b", hidden: true, pending: false },
    { note_id: "c", hidden: false, pending: true },
    { note_id: "d", hidden: false, pending: false },
  ];
  assert.deepEqual(
    wallNotes({ phase: "brainstorm", notes }).map((n) => n.note_id),
    ["a", "b", "d"],
  );
  assert.deepEqual(
    wallNotes({ phase: "closed", notes }).map((n) => n.note_id),
    ["a", "d"],
  );
  assert.deepEqual(noteCounts(notes), { n: 2, hidden: 1 });
  // "2 shown, 1 hidden"; with none hidden just "2 ideas" (the pending one is not counted).
  assert.deepEqual(wallCount(notes), { key: "wall.count", params: { n: 2, hidden: 1 } });
  assert.deepEqual(wallCount(notes.filter((n) => !n.hidden)), { key: "wall.count_plain", params: { n: 2 } });
  assert.deepEqual(
    pendingNotes([...notes, { note_id: "e", hidden: true, pending: true }]).map((n) => n.note_id),
    ["c"],
  );
  assert.equal(votesShown({ state: "shown", results: [] }), true);
  assert.equal(votesShown({ state: "shown" }), false);
  assert.equal(votesShown({ state: "open", results: [] }), false);

  const groups = [
    { group_id: "g1", note_ids: ["a", "b"] },
    { group_id: "g2", note_ids: ["a", "d"] }, // "a" twice: the first group keeps it
  ];
  const groupOf = noteGroupOf(groups);
  assert.deepEqual(Object.fromEntries(groupOf), { a: "g1", b: "g1", d: "g2" });
  const onWall = new Map(wallNotes({ phase: "closed", notes }).map((n) => [n.note_id, n]));
  const plain = wallGroups(groups, groupOf, onWall, null);
  assert.deepEqual(
    plain.map(({ group, notes: list, total }) => [group.group_id, list.map((n) => n.note_id), total]),
    [
      ["g1", ["a"], 0],
      ["g2", ["d"], 0],
    ],
  );
  const voted = wallGroups(groups, groupOf, onWall, new Map([["g2", 5], ["g1", 2]]));
  assert.deepEqual(
    voted.map(({ group, total }) => [group.group_id, total]),
    [
      ["g2", 5],
      ["g1", 2],
    ],
  );
});

test("agenda: a group's most named norm, and where a new item goes", () => {
  const norms = normsOf(TEMPLATE);
  const notes = [
    { note_id: "a", norm_id: "n3", hidden: false },
    { note_id: "b", norm_id: "n2", hidden: false },
    { note_id: "c", norm_id: "n3", hidden: true },
    { note_id: "d", norm_id: "gone", hidden: false },
  ];
  assert.equal(mostNamedNorm({ note_ids: ["a", "b", "c", "d"] }, notes, norms).id, "n2", "a tie: the first in the template");
  assert.equal(mostNamedNorm({ note_ids: ["a"] }, notes, norms).id, "n3");
  assert.equal(mostNamedNorm({ note_ids: ["c", "d"] }, notes, norms), undefined);
  assert.equal(nextPosition([], 20), 0);
  assert.equal(nextPosition([{ position: 0 }, { position: 4 }], 20), 5);
  assert.equal(nextPosition([{ position: 30 }], 20), 20);
});

test("agenda: actions without an owner or deadline, and the draft with norms already on it", () => {
  const agenda = [
    { item_id: "1", norm_id: "n1", owner: "Gemeente", deadline: "2027-03-01" },
    { item_id: "2", norm_id: null, owner: "", deadline: null },
    { item_id: "3", norm_id: "n3", owner: null, deadline: "2027-01-01" },
  ];
  assert.deepEqual(missingOnAgenda(agenda), { owner: 2, deadline: 1 });
  assert.deepEqual(missingOnAgenda([]), { owner: 0, deadline: 0 });
  const draft = [{ norm_id: "n3" }, { norm_id: "n2" }, { norm_id: "n1" }, { norm_id: "n4" }];
  assert.deepEqual(
    draftAsShown(draft, agenda).map((item) => [item.norm_id, item.onAgenda]),
    [
      ["n2", false],
      ["n4", false],
      ["n3", true],
      ["n1", true],
    ],
  );
});

test("previousFigures: the earlier medians against now, norms without either left out", () => {
  const norms = normsOf(TEMPLATE);
  const snap = {
    norms: [
      { norm_id: "n1", median: 6 },
      { norm_id: "n2", median: null },
    ],
    previous: {
      norms: [
        { norm_id: "n3", median_before: null, median_change: null },
        { norm_id: "n2", median_before: 4, median_change: null },
        { norm_id: "n1", median_before: 5, median_change: 1 },
      ],
    },
  };
  assert.deepEqual(previousFigures(snap, norms), [
    ["n1", 5, 6, 1],
    ["n2", 4, null, null],
  ]);
});
