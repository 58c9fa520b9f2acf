// Dot voting: placing and taking back dots on notes and note groups while
// voting is open, and the counts once the facilitator shows them.

import { el } from "../kleur.js";
import { announce } from "./chrome.js";
import { send } from "./connection.js";
import { render } from "./page.js";
import { allowedIn, app, dotsUsed, myDots, normById, step, view, voteItems } from "./state.js";
import { section, t, tn } from "./ui.js";

function vote(noteId, change) {
  const state = app.state.voting;
  const { dots } = view(app);
  const current = dots.get(noteId) || 0;
  const used = dotsUsed(dots);
  const next = current + change;
  if (next < 0 || next > state.max_per_note) return;
  if (change > 0 && used >= state.dots_per_participant) return;
  send("dot_vote", { note_id: noteId, dots: next });
  render();
  const left = state.dots_per_participant - (used + change);
  announce(t("phone.vote.left", { left, total: state.dots_per_participant }));
}

export function votingSections(v) {
  const voting = app.state.voting;
  const notes = app.state.notes || [];
  if (voting.state === "open" && allowedIn(app, "dot_vote", app.state.phase)) {
    return [voteSection(v, voting, notes)];
  }
  if (voting.state === "shown" && voting.results) {
    return [voteResults(voting, notes)];
  }
  return [];
}

function voteSection(v, voting, notes) {
  const used = dotsUsed(v.dots);
  const left = Math.max(0, voting.dots_per_participant - used);
  const items = voteItems(notes, app.state.groups || []);
  const mine = items.map((item) => myDots(v.dots, item));
  const ownIds = [...v.notes.keys()];
  const data = [voting.dots_per_participant, voting.max_per_note, items, mine, left, ownIds];
  return section("vote", data, () =>
    el(
      "section",
      { class: "card vote", "aria-labelledby": "vote-title" },
      el("h2", { id: "vote-title" }, t("phone.vote.title")),
      el("p", {}, t("phone.vote.intro")),
      el(
        "p",
        { class: "dots-left", "data-testid": "dots-left" },
        t("phone.vote.left", { left, total: voting.dots_per_participant }),
      ),
      voting.max_per_note < voting.dots_per_participant
        ? el("p", { class: "hint" }, tn("phone.vote.max", voting.max_per_note))
        : null,
      items.length
        ? el(
            "ul",
            { class: "vote-list" },
            ...items.map((item, i) => {
              const textId = `vote-note-${item.id}`;
              const dots = mine[i];
              const norm = item.normId ? normById(app, item.normId) : null;
              const own = ownIds.includes(item.id) || item.members.some((note) => ownIds.includes(note.note_id));
              return el(
                "li",
                { class: "vote-item", "data-note-id": item.id, "data-group": item.members.length ? "true" : null },
                el("p", { class: "note-text", id: textId }, item.text),
                item.members.length
                  ? el(
                      "ul",
                      { class: "vote-members", "aria-label": t("phone.vote.group_notes") },
                      ...item.members.map((note) => el("li", {}, note.text)),
                    )
                  : null,
                norm ? el("p", { class: "hint", lang: app.template.language }, `${norm.number}. ${norm.title}`) : null,
                own ? el("p", { class: "tag" }, t("phone.vote.yours")) : null,
                el(
                  "div",
                  { class: "vote-controls" },
                  el(
                    "button",
                    {
                      type: "button",
                      class: "button button-secondary vote-button",
                      id: `vote-minus-${item.id}`,
                      "data-testid": `vote-minus-${item.id}`,
                      "aria-label": t("phone.vote.minus"),
                      "aria-describedby": textId,
                      disabled: dots === 0,
                      onclick: () => takeDot(item),
                    },
                    "−",
                  ),
                  el(
                    "p",
                    { class: "vote-mine" },
                    el("span", { class: "dot-row", "aria-hidden": "true" }, "●".repeat(dots)),
                    el("span", {}, tn("phone.vote.mine", dots)),
                  ),
                  el(
                    "button",
                    {
                      type: "button",
                      class: "button vote-button",
                      id: `vote-plus-${item.id}`,
                      "data-testid": `vote-plus-${item.id}`,
                      "aria-label": t("phone.vote.plus"),
                      "aria-describedby": textId,
                      disabled: left === 0 || dots >= voting.max_per_note,
                      onclick: () => vote(item.id, 1),
                    },
                    "+",
                  ),
                ),
              );
            }),
          )
        : el("p", {}, t("phone.vote.empty")),
    ),
  );
}

/** One dot back: from the item itself, else from a note of the group that had some before the merge. */
function takeDot(item) {
  const { dots } = view(app);
  if ((dots.get(item.id) || 0) > 0) {
    vote(item.id, -1);
    return;
  }
  const member = item.members.find((note) => (dots.get(note.note_id) || 0) > 0);
  if (member) vote(member.note_id, -1);
}

function voteResults(voting, notes) {
  const items = new Map(voteItems(notes, app.state.groups || []).map((item) => [item.id, item]));
  const rows = voting.results.filter((row) => items.has(row.note_id));
  const highest = Math.max(1, ...rows.map((row) => row.dots));
  return section("vote-results", [rows, [...items.values()]], () =>
    el(
      "section",
      { class: "card vote-results", "data-testid": "vote-results", "aria-labelledby": "vote-results-title" },
      el("h2", { id: "vote-results-title" }, t("phone.vote.results_title")),
      rows.length
        ? el(
            "ol",
            { class: "vote-result-list" },
            ...rows.map((row) => {
              const item = items.get(row.note_id);
              return el(
                "li",
                {},
                el("p", { class: "note-text" }, item.text),
                item.members.length
                  ? el("p", { class: "hint" }, tn("phone.vote.group_size", item.members.length))
                  : null,
                el(
                  "div",
                  { class: "hbar-track", "aria-hidden": "true" },
                  el("div", { class: `hbar w-${step(row.dots, highest) * 5}` }),
                ),
                el("p", { class: "hint" }, tn("phone.vote.count", row.dots)),
              );
            }),
          )
        : el("p", {}, t("phone.vote.no_results")),
    ),
  );
}
