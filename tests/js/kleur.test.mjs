// The answers a participant keeps on its device and sends again after a
// welcome (client/static/kleur.js, docs/protocol.md section 14), without a
// browser: node --test tests/js/kleur.test.mjs
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import {
  answerKey,
  dropAnswers,
  keepAnswer,
  ofOlderRound,
  planResend,
} from "../../client/static/kleur.js";

// The server's own tables (tests/test_js_units.py writes them), else none.
const PROTOCOL = process.env.KLEUR_PROTOCOL
  ? JSON.parse(readFileSync(process.env.KLEUR_PROTOCOL, "utf-8"))
  : null;
const ALLOWED = PROTOCOL?.allowed_phases;

const rate = (seq, norm, value, extra = {}) => ({
  type: "rate",
  seq,
  norm_id: norm,
  value,
  round: 1,
  question: "current",
  ...extra,
});

function kept(...commands) {
  const answers = new Map();
  for (const command of commands) keepAnswer(answers, command);
  return answers;
}

/** A welcome; with `answers`, it shows those with a seq up to maxSeq as held (as a server that has them). */
const welcome = (maxSeq, state = {}, answers = null) => {
  const held = answers ? [...answers.values()].filter((c) => c.seq <= maxSeq) : [];
  const org = held.find((c) => c.type === "set_org_type");
  return {
    max_seq: maxSeq,
    state: { phase: "rating", round: 1, voting: { state: "closed" }, ...state },
    org_type: org ? org.org_type : null,
    ratings: held
      .filter((c) => c.type === "rate")
      .map((c) => ({ norm_id: c.norm_id, value: c.value, seq: c.seq, question: c.question ?? "current" })),
    notes: held.filter((c) => c.type === "put_note").map((c) => ({ note_id: c.note_id, seq: c.seq })),
    dots: held.filter((c) => c.type === "dot_vote").map((c) => ({ note_id: c.note_id, dots: c.dots, seq: c.seq })),
  };
};

test("the protocol's tables are there (run through tests/test_js_units.py)", () => {
  assert.ok(ALLOWED, "KLEUR_PROTOCOL not given");
  assert.ok(ALLOWED.rate.includes("rating"));
});

test("one kept answer per rating (round, norm, question), organisation, note and dots", () => {
  assert.equal(answerKey(rate(1, "n1", 3)), "rate|1|n1|current");
  assert.equal(answerKey(rate(1, "n1", 3, { question: "second" })), "rate|1|n1|second");
  assert.equal(answerKey(rate(1, "n1", 3, { round: 2 })), "rate|2|n1|current");
  assert.equal(answerKey({ type: "rate", seq: 1, norm_id: "n1", value: 3 }), "rate|1|n1|current", "defaults");
  assert.equal(answerKey({ type: "set_org_type", seq: 1, org_type: "school" }), "org");
  const put = { type: "put_note", seq: 1, note_id: "a", text: "x", norm_id: null };
  assert.equal(answerKey(put), answerKey({ type: "withdraw_note", seq: 2, note_id: "a" }));
  assert.equal(answerKey({ type: "dot_vote", seq: 1, note_id: "a", dots: 2 }), "dots|a");
  assert.equal(answerKey({ type: "set_phase", seq: 1, phase: "reveal" }), null, "not an answer");
});

test("an acknowledged command is kept unless a newer one of its answer is, and stays bounded", () => {
  const answers = kept(
    rate(1, "n1", 3),
    rate(4, "n1", 5), // re-voted
    rate(2, "n1", 9), // a late ack of an older one
    rate(3, "n1", 2, { question: "second" }),
    { type: "put_note", seq: 5, note_id: "a", text: "Idee", norm_id: "n1" },
    { type: "withdraw_note", seq: 6, note_id: "a" },
    { type: "set_org_type", seq: 7, org_type: "school" },
    { type: "set_org_type", seq: 8, org_type: "gemeente" },
  );
  assert.equal(answers.size, 4);
  assert.equal(answers.get("rate|1|n1|current").value, 5);
  assert.equal(answers.get("rate|1|n1|second").value, 2);
  assert.equal(answers.get("note|a").type, "withdraw_note", "the withdrawal replaces the note");
  assert.equal(answers.get("org").org_type, "gemeente");
  assert.equal(keepAnswer(answers, { type: "set_phase", seq: 9, phase: "reveal" }), false);
  keepAnswer(answers, rate(10, "n2", 1, { reassert: true }));
  assert.equal("reassert" in answers.get("rate|1|n2|current"), false, "kept as first sent");
  // Hundreds of re-votes still keep one entry per answer.
  for (let seq = 11; seq < 300; seq += 1) keepAnswer(answers, rate(seq, "n3", seq % 5));
  assert.equal(answers.size, 6);
});

test("ratings of an older round are dropped once a newer round is seen", () => {
  const answers = kept(rate(1, "n1", 3), rate(2, "n1", 4, { round: 2 }), {
    type: "set_org_type",
    seq: 3,
    org_type: "school",
  });
  assert.equal(dropAnswers(answers, ofOlderRound(2)), true);
  assert.deepEqual([...answers.keys()].sort(), ["org", "rate|2|n1|current"]);
  assert.equal(dropAnswers(answers, ofOlderRound(2)), false);
});

test("after a welcome: the kept answers above max_seq, in seq order, ratings re-asserted", () => {
  const answers = kept(
    { type: "set_org_type", seq: 1, org_type: "school" },
    rate(2, "n1", 3),
    { type: "put_note", seq: 5, note_id: "a", text: "Idee", norm_id: "n1" },
    rate(4, "n2", 5, { question: "second" }),
    rate(3, "n3", null),
  );
  const { now, held } = planResend(answers, welcome(2, {}, answers), ALLOWED);
  assert.deepEqual(
    now.map((m) => m.seq),
    [3, 4, 5],
    "what the server has (seq 1, 2) is not sent; the rest in seq order",
  );
  assert.deepEqual(held, []);
  assert.equal(now[0].reassert, true);
  assert.equal(now[0].value, null, "a don't know is an answer too");
  assert.equal(now[1].question, "second");
  assert.equal("reassert" in now[2], false, "only ratings carry the flag");
  assert.equal(answers.get("rate|1|n3|current").reassert, undefined, "the kept one is not changed");
  assert.deepEqual(planResend(answers, welcome(5, {}, answers), ALLOWED).now, [], "the server has everything");
  assert.equal(planResend(answers, welcome(0), ALLOWED).now.length, 5, "a room rebuilt from nothing");
});

test("after a welcome: a kept answer the welcome does not show goes again, whatever max_seq says", () => {
  // The ballots were lost and rebuilt empty; the note (seq 5) survived, so max_seq is 5.
  const answers = kept(rate(2, "n1", 3), rate(3, "n2", 4), { type: "put_note", seq: 5, note_id: "a", text: "Idee", norm_id: null });
  const lostBallots = { ...welcome(5, {}, answers), ratings: [] };
  assert.deepEqual(
    planResend(answers, lostBallots, ALLOWED).now.map((m) => m.seq),
    [2, 3],
  );
  const older = { ...welcome(5, {}, answers), ratings: [{ norm_id: "n1", value: 1, seq: 1, question: "current" }] };
  assert.deepEqual(
    planResend(answers, older, ALLOWED).now.map((m) => m.seq),
    [2, 3],
    "a rating the server holds at an older seq goes again",
  );
  const orgLost = kept({ type: "set_org_type", seq: 1, org_type: "school" });
  assert.equal(planResend(orgLost, welcome(9), ALLOWED).now.length, 1, "an org type the welcome lacks");
});

test("after a welcome of a later round, the earlier round's ratings are not sent", () => {
  const answers = kept(rate(6, "n1", 3), rate(7, "n2", 4, { round: 2 }), rate(8, "n3", 1, { round: 3 }));
  const { now } = planResend(answers, welcome(0, { round: 2 }), ALLOWED);
  assert.deepEqual(
    now.map((m) => m.seq),
    [7],
  );
});

test("outside the rating phase, one rating goes first and the others wait for its answer", () => {
  // Only a room that heals takes ratings after the rating phase; each refusal
  // counts towards the connection's error limit.
  const answers = kept(
    rate(3, "n1", 3),
    rate(4, "n2", 4),
    rate(5, "n3", 5),
    { type: "put_note", seq: 6, note_id: "a", text: "Idee", norm_id: null },
  );
  const { now, held } = planResend(answers, welcome(0, { phase: "reveal" }), ALLOWED);
  assert.deepEqual(
    now.map((m) => m.seq),
    [3, 6],
  );
  assert.deepEqual(
    held.map((m) => m.seq),
    [4, 5],
  );
  assert.ok(held.every((m) => m.reassert === true));
});

test("notes and dots are sent again only where the phase takes them", () => {
  const answers = kept(
    { type: "put_note", seq: 3, note_id: "a", text: "Idee", norm_id: null },
    { type: "withdraw_note", seq: 4, note_id: "b" },
    { type: "dot_vote", seq: 5, note_id: "c", dots: 2 },
    { type: "set_org_type", seq: 6, org_type: "school" },
  );
  const seqs = (state) => planResend(answers, welcome(0, state), ALLOWED).now.map((m) => m.seq);
  assert.deepEqual(seqs({ phase: "brainstorm" }), [3, 4, 6], "dot voting is not open");
  assert.deepEqual(seqs({ phase: "brainstorm", voting: { state: "open" } }), [4, 5, 6], "no new notes then");
  assert.deepEqual(seqs({ phase: "agenda" }), [6], "no notes in the agenda phase");
  assert.deepEqual(seqs({ phase: "closed" }), [], "nothing in a closed room");
});

test("nothing is sent again while the device waits to be admitted", () => {
  const answers = kept(rate(3, "n1", 3), { type: "set_org_type", seq: 4, org_type: "school" });
  assert.deepEqual(planResend(answers, { ...welcome(0), admitted: false }, ALLOWED), { now: [], held: [] });
  assert.equal(planResend(answers, { ...welcome(0), admitted: true }, ALLOWED).now.length, 2);
});
