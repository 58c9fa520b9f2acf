// The phone page's pure selectors (client/static/phone/state.js), without a
// browser: node --test tests/js/phone.test.mjs
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  allowedIn,
  asksOrgFirst,
  closeCodeName,
  confirm,
  confirmedFromWelcome,
  dotsUsed,
  firstOpenNorm,
  formatRemaining,
  isComplete,
  isSecond,
  moderation,
  myDots,
  normById,
  remainingMs,
  secondQuestion,
  step,
  view,
  voteItems,
} from "../../client/static/phone/state.js";

const NORMS = [{ id: "n1" }, { id: "n2" }, { id: "n3" }].map((norm, i) => ({ ...norm, number: i + 1 }));
const SECOND = { kind: "importance", question: "How important?", min_label: "low", max_label: "high" };

/** A state of the app's shape: confirmed answers, an outbox, a template. */
function state({ outbox = [], second = null, orgTypes = [], ...rest } = {}) {
  return {
    schema: null,
    confirmed: {
      org: null,
      orgChosen: false,
      ratings: new Map(),
      seconds: new Map(),
      notes: new Map(),
      dots: new Map(),
    },
    conn: { outbox },
    template: { second_question: second, org_types: orgTypes },
    norms: NORMS,
    sawLobby: false,
    ...rest,
  };
}

test("a command's control is offered only in the phases the protocol's table allows", () => {
  const s = { schema: { allowed_phases: { put_note: ["rating", "brainstorm"], dot_vote: ["brainstorm"] } } };
  assert.equal(allowedIn(s, "put_note", "rating"), true);
  assert.equal(allowedIn(s, "put_note", "brainstorm"), true);
  assert.equal(allowedIn(s, "put_note", "lobby"), false);
  assert.equal(allowedIn(s, "dot_vote", "rating"), false);
  assert.equal(allowedIn(s, "set_org_type", "lobby"), false, "a message the table lacks");
  assert.equal(allowedIn({ schema: null }, "put_note", "rating"), false, "before the protocol is loaded");
});

test("a close code is named from the protocol's table, else generic", () => {
  const schema = { close_codes: { room_closed: { code: 4004 }, kicked: { code: 4010 } } };
  assert.equal(closeCodeName(schema, 4010), "kicked");
  assert.equal(closeCodeName(schema, 4004), "room_closed");
  assert.equal(closeCodeName(schema, 1006), "generic");
});

test("the welcome's own answers are split into the two questions", () => {
  const welcome = {
    org_type: "school",
    ratings: [
      { norm_id: "n1", value: 7, seq: 1, question: "current" },
      { norm_id: "n1", value: 3, seq: 2, question: "second" },
      { norm_id: "n2", value: null, seq: 3, question: "current" },
    ],
    notes: [{ note_id: "a", text: "Idee", norm_id: null, hidden: true, seq: 4, extra: "dropped" }],
    dots: [{ note_id: "a", dots: 2, seq: 5 }],
  };
  const c = confirmedFromWelcome(welcome);
  assert.equal(c.org, "school");
  assert.deepEqual([...c.ratings], [["n1", { value: 7, seq: 1 }], ["n2", { value: null, seq: 3 }]]);
  assert.deepEqual([...c.seconds], [["n1", { value: 3, seq: 2 }]]);
  assert.deepEqual(c.notes.get("a"), { text: "Idee", norm_id: null, hidden: true, seq: 4 });
  assert.deepEqual(c.dots.get("a"), { dots: 2, seq: 5 });
  assert.equal(isSecond({ question: "second" }), true);
  assert.equal(isSecond({ question: "current" }), false);
  assert.equal(isSecond({}), false, "an answer without a question answers the first one");
});

test("an acknowledged command is confirmed unless a newer one already is", () => {
  const { confirmed: c } = state();
  confirm(c, { type: "rate", norm_id: "n1", value: 5, seq: 3, question: "current" });
  confirm(c, { type: "rate", norm_id: "n1", value: 9, seq: 2, question: "current" }); // late ack of an older one
  assert.deepEqual(c.ratings.get("n1"), { value: 5, seq: 3 });
  confirm(c, { type: "rate", norm_id: "n1", value: 1, seq: 4, question: "second" });
  assert.deepEqual(c.seconds.get("n1"), { value: 1, seq: 4 });
  assert.deepEqual(c.ratings.get("n1"), { value: 5, seq: 3 }, "the other question is untouched");

  c.notes.set("a", { text: "old", norm_id: null, hidden: true, seq: 1 });
  confirm(c, { type: "put_note", note_id: "a", text: "new", norm_id: "n2", seq: 6 });
  assert.deepEqual(c.notes.get("a"), { text: "new", norm_id: "n2", hidden: true, seq: 6 }, "an edit stays hidden");
  confirm(c, { type: "withdraw_note", note_id: "a", seq: 7 });
  assert.equal(c.notes.has("a"), false);

  confirm(c, { type: "dot_vote", note_id: "b", dots: 2, seq: 8 });
  confirm(c, { type: "dot_vote", note_id: "b", dots: 1, seq: 5 });
  assert.deepEqual(c.dots.get("b"), { dots: 2, seq: 8 });
  confirm(c, { type: "set_org_type", org_type: "gemeente", seq: 9 });
  assert.equal(c.org, "gemeente");
});

test("the view lays the outbox over the confirmed state, marked pending", () => {
  const s = state({
    outbox: [
      { type: "rate", norm_id: "n2", value: 4, seq: 10, question: "current" },
      { type: "rate", norm_id: "n1", value: 6, seq: 11, question: "second" },
      { type: "set_org_type", org_type: "school", seq: 12 },
      { type: "put_note", note_id: "b", text: "edited", norm_id: null, seq: 13 },
      { type: "withdraw_note", note_id: "c", seq: 14 },
      { type: "dot_vote", note_id: "d", dots: 0, seq: 15 },
      { type: "dot_vote", note_id: "e", dots: 2, seq: 16 },
    ],
  });
  const c = s.confirmed;
  c.ratings.set("n1", { value: 8, seq: 1 });
  c.notes.set("b", { text: "first", norm_id: "n1", hidden: true, seq: 2 });
  c.notes.set("c", { text: "gone", norm_id: null, hidden: false, seq: 3 });
  c.dots.set("d", { dots: 1, seq: 4 });
  const v = view(s);
  assert.deepEqual(v.ratings.get("n1"), { value: 8, seq: 1, pending: false });
  assert.deepEqual(v.ratings.get("n2"), { value: 4, seq: 10, pending: true });
  assert.deepEqual(v.seconds.get("n1"), { value: 6, seq: 11, pending: true });
  assert.equal(v.org, "school");
  assert.equal(v.orgPending, true);
  assert.deepEqual(v.notes.get("b"), { text: "edited", norm_id: null, hidden: true, seq: 13, pending: true });
  assert.equal(v.notes.has("c"), false, "a withdrawal waiting to be sent hides the note");
  assert.equal(v.dots.has("d"), false, "no dots left on a note: not listed");
  assert.equal(v.dots.get("e"), 2);
  assert.equal(dotsUsed(v.dots), 2);
  assert.equal(c.ratings.get("n1").pending, undefined, "the confirmed state is not changed");
  assert.equal(view(state({ conn: null })).org, null, "before the connection exists");
});

test("the view shows the answers being sent again after a welcome that lacked them", () => {
  // The server came back older (everysec crash, a rebuilt room): its welcome
  // lacks n2 and the note, the phone sends them again, and shows them meanwhile.
  const s = state({
    outbox: [{ type: "rate", norm_id: "n3", value: 1, seq: 12, question: "current" }],
  });
  s.conn.reasserting = [
    { type: "rate", norm_id: "n2", value: 4, seq: 10, round: 1, question: "current", reassert: true },
    { type: "put_note", note_id: "a", text: "Idee", norm_id: null, seq: 11 },
    { type: "rate", norm_id: "n3", value: 6, seq: 9, round: 1, question: "current", reassert: true },
  ];
  s.confirmed.ratings.set("n1", { value: 8, seq: 1 });
  const v = view(s);
  assert.deepEqual(v.ratings.get("n1"), { value: 8, seq: 1, pending: false });
  assert.deepEqual(v.ratings.get("n2"), { value: 4, seq: 10, pending: false }, "given before: not waiting");
  assert.deepEqual(v.ratings.get("n3"), { value: 1, seq: 12, pending: true }, "the outbox's newer one wins");
  assert.deepEqual(v.notes.get("a"), { text: "Idee", norm_id: null, hidden: false, seq: 11, pending: false });
  assert.equal(firstOpenNorm(s), 3, "nothing to answer again");
});

test("a norm is complete when every question the template asks is answered", () => {
  const s = state({ outbox: [{ type: "rate", norm_id: "n2", value: null, seq: 1, question: "current" }] });
  s.confirmed.ratings.set("n1", { value: 7, seq: 1 });
  assert.equal(secondQuestion(s), null);
  assert.equal(isComplete(s, view(s), "n1"), true);
  assert.equal(firstOpenNorm(s), 2, "n1 confirmed, n2 pending ('don't know' counts)");

  const asked = state({ second: SECOND });
  asked.confirmed.ratings.set("n1", { value: 7, seq: 1 });
  assert.deepEqual(secondQuestion(asked), SECOND);
  assert.equal(isComplete(asked, view(asked), "n1"), false, "the second question is still open");
  assert.equal(firstOpenNorm(asked), 0);
  asked.confirmed.seconds.set("n1", { value: 2, seq: 2 });
  assert.equal(firstOpenNorm(asked), 1);

  const done = state();
  for (const norm of NORMS) done.confirmed.ratings.set(norm.id, { value: 1, seq: 1 });
  assert.equal(firstOpenNorm(done), NORMS.length, "all answered: the summary");
  assert.equal(secondQuestion({ template: null }), null);
  assert.equal(normById(done, "n3").number, 3);
  assert.equal(normById(done, "nope"), undefined);
});

test("only a latecomer who has not answered is asked the organisation first", () => {
  const types = [{ id: "school", label: "School" }];
  const late = state({ orgTypes: types });
  assert.equal(asksOrgFirst(late, view(late)), true);
  assert.equal(asksOrgFirst(state(), view(state())), false, "the template asks no organisation");
  const sawLobby = state({ orgTypes: types, sawLobby: true });
  assert.equal(asksOrgFirst(sawLobby, view(sawLobby)), false, "asked in the lobby already");
  const skipped = state({ orgTypes: types });
  skipped.confirmed.orgChosen = true;
  assert.equal(asksOrgFirst(skipped, view(skipped)), false, "skipped on this device");
  const sending = state({ orgTypes: types, outbox: [{ type: "set_org_type", org_type: "school", seq: 1 }] });
  assert.equal(asksOrgFirst(sending, view(sending)), false, "an answer still in the outbox");
});

test("the timer's remaining time, never below zero and none in a closed room", () => {
  const now = 1_000_000;
  assert.equal(remainingMs({ phase: "rating", timer_ends_at: now + 61_500 }, now), 61_500);
  assert.equal(remainingMs({ phase: "rating", timer_ends_at: now - 5 }, now), 0);
  assert.equal(remainingMs({ phase: "rating", timer_ends_at: null }, now), null);
  assert.equal(remainingMs({ phase: "closed", timer_ends_at: now + 10 }, now), null);
  assert.equal(remainingMs(null, now), null);
  assert.equal(formatRemaining(61_500), "1:02", "a started second counts");
  assert.equal(formatRemaining(600_000), "10:00");
  assert.equal(formatRemaining(1), "0:01");
  assert.equal(formatRemaining(0), "0:00");
});

test("moderation: the hidden and waiting note ids of a room_state", () => {
  const { hiddenIds, waitingIds } = moderation({ hidden_notes: ["a"], pending_notes: ["b", "c"] });
  assert.deepEqual([...hiddenIds], ["a"]);
  assert.deepEqual([...waitingIds], ["b", "c"]);
  const older = moderation({});
  assert.equal(older.hiddenIds, null, "no list: the note's own hidden flag counts");
  assert.equal(older.waitingIds.size, 0);
});

test("vote items: each group once with its notes, then the notes in no group", () => {
  const notes = [
    { note_id: "a", text: "A", norm_id: "n1" },
    { note_id: "b", text: "B", norm_id: null },
    { note_id: "c", text: "C", norm_id: "n2" },
  ];
  const groups = [{ group_id: "g", title: "Group", note_ids: ["a", "c", "hidden-one"] }];
  const items = voteItems(notes, groups);
  assert.deepEqual(
    items.map((item) => [item.id, item.text, item.normId, item.members.map((note) => note.note_id)]),
    [
      ["g", "Group", null, ["a", "c"]],
      ["b", "B", null, []],
    ],
  );
  assert.deepEqual(voteItems(notes, []).map((item) => item.id), ["a", "b", "c"]);
  const dots = new Map([["g", 1], ["a", 2], ["b", 1]]);
  assert.equal(myDots(dots, items[0]), 3, "the group's own dots and those on its notes before the merge");
  assert.equal(myDots(dots, items[1]), 1);
  assert.equal(myDots(new Map(), items[1]), 0);
  assert.equal(dotsUsed(dots), 4);
  assert.equal(dotsUsed(new Map()), 0);
});

test("bar steps in twentieths: zero only for zero", () => {
  assert.equal(step(0, 10), 0);
  assert.equal(step(1, 1000), 1, "a count above zero always shows");
  assert.equal(step(10, 10), 20);
  assert.equal(step(5, 10), 10);
  for (let count = 1; count <= 37; count += 1) {
    const value = step(count, 37);
    assert.ok(value >= 1 && value <= 20, `${count}: ${value}`);
  }
});
