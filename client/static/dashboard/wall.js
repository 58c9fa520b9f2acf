// The brainstorm wall: dot voting, grouping, suggestions, notes by group.

import { randomId } from "../kleur.js";
import { promoteGroup } from "./agenda-form.js";
import { announce, command, showError } from "./commands.js";
import { noteCard, openRename, renameForm, renderNote, renderSelection } from "./notes.js";
import {
  app,
  EDIT_PHASES,
  noteGroupOf,
  pendingNotes,
  VOTING_PHASES,
  votesShown,
  wallCount,
  WALL_PHASES,
  wallGroups,
  wallNotes,
} from "./state.js";
import { $, button, cleanText, h, keyed, place, setAttr, setText, showPanel, tr } from "./view.js";

export function buildWall() {
  keyed("notes").clear();
  keyed("groups").clear();
  const limits = app.limits;
  const maxDots = limits.max_dots_per_participant;
  const dots = h("input", {
    type: "number",
    id: "voting-dots",
    "data-testid": "voting-dots",
    min: "1",
    max: String(maxDots),
    inputmode: "numeric",
    class: "input input--num",
  });
  const maxPer = h("input", {
    type: "number",
    id: "voting-max",
    "data-testid": "voting-max",
    min: "1",
    max: String(maxDots),
    inputmode: "numeric",
    class: "input input--num",
  });
  const groupTitle = h("input", {
    type: "text",
    id: "group-title",
    "data-testid": "group-title",
    class: "input",
    maxlength: String(limits.max_group_title_chars),
    autocomplete: "off",
  });
  const merge = button(tr("wall.merge"), { class: "btn btn--primary", "data-testid": "group-merge", id: "group-merge" }, mergeSelected);
  groupTitle.addEventListener("keydown", (event) => {
    if (event.key === "Enter") mergeSelected();
  });
  $("wall").replaceChildren(
    h(
      "div",
      { class: "panel__head" },
      h("h2", { id: "wall-title", class: "panel__title" }, tr("wall.title")),
      h("p", { class: "panel__count", id: "wall-count" }),
    ),
    h(
      "div",
      { class: "wall-tools" },
      h(
        "section",
        { class: "tool", id: "voting-tool", "aria-labelledby": "voting-title" },
        h("h3", { class: "tool__title", id: "voting-title" }, tr("voting.title")),
        h("p", { class: "tool__status", id: "voting-status" }),
        h("p", { class: "tool__status tool__status--big", id: "dots-cast-box" }, h("span", { "data-testid": "dots-cast", id: "dots-cast" })),
        h(
          "div",
          { class: "tool__fields", id: "voting-fields" },
          h("label", { class: "field field--inline", for: "voting-dots" }, h("span", { class: "field__label" }, tr("voting.dots")), dots),
          h("label", { class: "field field--inline", for: "voting-max" }, h("span", { class: "field__label" }, tr("voting.max")), maxPer),
        ),
        h(
          "div",
          { class: "btn-row" },
          button(tr("voting.open"), { class: "btn btn--primary", "data-testid": "voting-open", id: "voting-open" }, () => setVoting("open")),
          button(tr("voting.show"), { class: "btn btn--primary", "data-testid": "voting-show", id: "voting-show" }, () => setVoting("shown")),
          button(tr("voting.close"), { class: "btn btn--secondary", "data-testid": "voting-close", id: "voting-close" }, () => setVoting("closed")),
        ),
      ),
      h(
        "section",
        { class: "tool", id: "group-tool", "aria-labelledby": "group-tool-title" },
        h("h3", { class: "tool__title", id: "group-tool-title" }, tr("wall.group_title")),
        h("p", { class: "tool__status", id: "selected-count", "aria-live": "polite" }),
        h(
          "label",
          { class: "field field--inline tool__grow", for: "group-title" },
          h("span", { class: "field__label" }, tr("wall.group_name")),
          groupTitle,
        ),
        h("div", { class: "btn-row" }, merge, button(tr("wall.clear_selection"), { class: "btn btn--secondary", id: "clear-selection", "data-testid": "clear-selection" }, clearSelection)),
      ),
    ),
    h(
      "section",
      { class: "tool suggestions", id: "suggest-tool", "aria-labelledby": "suggest-title", hidden: true },
      h("h3", { class: "tool__title", id: "suggest-title" }, tr("wall.suggestions")),
      h("p", { class: "tool__status" }, tr("wall.suggestions_help")),
      h("ul", { class: "suggestions__list", id: "suggestions", "data-testid": "suggestions" }),
    ),
    h("div", { class: "groups", id: "groups" }),
    h(
      "section",
      { class: "loose", "aria-labelledby": "loose-title", id: "loose" },
      h("h3", { class: "subtitle", id: "loose-title" }, tr("wall.loose")),
      h("ul", { class: "notes", id: "loose-notes" }),
      h("p", { class: "empty", id: "wall-empty" }, tr("wall.empty")),
    ),
  );
  dots.addEventListener("input", () => {
    maxPer.max = dots.value || String(maxDots);
  });
  app.voteInputsApplied = "";
}

export function readVotingInputs() {
  const maxDots = app.limits.max_dots_per_participant;
  const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, Math.round(Number(v) || lo)));
  const dots = clamp($("voting-dots").value, 1, maxDots);
  const maxPer = clamp($("voting-max").value, 1, dots);
  return { dots_per_participant: dots, max_per_note: maxPer };
}

export async function setVoting(state) {
  await command("set_dot_voting", { state, ...readVotingInputs() });
}

export function clearSelection() {
  app.selected.clear();
  renderWall(app.snap);
}

export async function mergeSelected() {
  const snap = app.snap;
  const title = cleanText($("group-title").value);
  const noteIds = [...app.selected].filter((id) => snap.notes.some((n) => n.note_id === id));
  if (!noteIds.length) {
    showError({ code: "select_notes" });
    return;
  }
  if (!title) {
    showError({ code: "group_title" });
    $("group-title").focus();
    return;
  }
  // A note belongs to one group: take the chosen ones out of their old groups.
  for (const group of snap.groups) {
    const rest = group.note_ids.filter((id) => !noteIds.includes(id));
    if (rest.length === group.note_ids.length) continue;
    if (rest.length) await command("put_note_group", { group_id: group.group_id, title: group.title, note_ids: rest });
    else await command("remove_note_group", { group_id: group.group_id });
  }
  const ack = await command("put_note_group", { group_id: randomId(), title, note_ids: noteIds });
  if (ack) {
    $("group-title").value = "";
    app.selected.clear();
    announce(tr("wall.merged", { title, n: noteIds.length }));
    renderWall(app.snap);
  }
}

export async function addSelectedTo(group) {
  const snap = app.snap;
  const adding = [...app.selected].filter((id) => snap.notes.some((n) => n.note_id === id) && !group.note_ids.includes(id));
  if (!adding.length) {
    showError({ code: "select_notes" });
    return;
  }
  for (const other of snap.groups) {
    if (other.group_id === group.group_id) continue;
    const rest = other.note_ids.filter((id) => !adding.includes(id));
    if (rest.length === other.note_ids.length) continue;
    if (rest.length) await command("put_note_group", { group_id: other.group_id, title: other.title, note_ids: rest });
    else await command("remove_note_group", { group_id: other.group_id });
  }
  const ack = await command("put_note_group", {
    group_id: group.group_id,
    title: group.title,
    note_ids: [...group.note_ids, ...adding],
  });
  if (ack) {
    app.selected.clear();
    renderWall(app.snap);
  }
}

/** Groups of similar notes the server suggests: one click merges them. */
export function renderSuggestions(snap, editable) {
  const suggestions = editable ? snap.suggestions || [] : [];
  $("suggest-tool").hidden = suggestions.length === 0;
  const notesById = new Map(snap.notes.map((n) => [n.note_id, n]));
  $("suggestions").replaceChildren(
    ...suggestions.map((suggestion) =>
      h(
        "li",
        { class: "suggestion" },
        h("p", { class: "suggestion__title" }, tr("wall.suggestion", { title: suggestion.title, n: suggestion.note_ids.length })),
        h(
          "ul",
          { class: "suggestion__notes" },
          ...suggestion.note_ids.map((id) => h("li", { class: "suggestion__note" }, (notesById.get(id) || { text: "" }).text)),
        ),
        button(
          tr("wall.suggestion_merge"),
          { class: "btn btn--secondary", "data-testid": `suggest-merge-${suggestion.group_id}` },
          async () => {
            const ack = await command("put_note_group", {
              group_id: randomId(),
              title: suggestion.title,
              note_ids: suggestion.note_ids,
            });
            if (ack) announce(tr("wall.merged", { title: suggestion.title, n: suggestion.note_ids.length }));
          },
        ),
      ),
    ),
  );
}

export function renderWall(snap) {
  if (!showPanel("wall", WALL_PHASES.has(snap.phase))) return;
  renderSuggestions(snap, EDIT_PHASES.has(snap.phase));
  const phase = snap.phase;
  const editable = EDIT_PHASES.has(phase);
  const voting = snap.voting;
  const shown = votesShown(voting);
  const votesById = new Map(shown ? voting.results.map((r) => [r.note_id, r.dots]) : []);
  const onWall = wallNotes(snap);
  const notesById = new Map(onWall.map((n) => [n.note_id, n]));
  for (const id of [...app.selected]) if (!notesById.has(id)) app.selected.delete(id);
  const count = wallCount(snap.notes);
  setText($("wall-count"), tr(count.key, count.params));

  // Voting tool.
  const votingTool = $("voting-tool");
  votingTool.hidden = !VOTING_PHASES.has(phase);
  setText($("voting-status"), tr(`voting.state.${voting.state}`, { dots: voting.dots_per_participant, max: voting.max_per_note }));
  const cast = $("dots-cast");
  setText(cast, tr("voting.cast", { n: voting.dots_cast }));
  setAttr(cast, "data-count", voting.dots_cast);
  $("dots-cast-box").hidden = voting.state === "closed" && voting.dots_cast === 0;
  $("voting-open").hidden = voting.state === "open";
  setText($("voting-open"), voting.state === "closed" ? tr("voting.open") : tr("voting.reopen"));
  $("voting-close").hidden = voting.state === "closed";
  $("voting-show").hidden = voting.state === "shown";
  $("voting-fields").hidden = voting.state !== "closed";
  const applied = `${voting.dots_per_participant}/${voting.max_per_note}`;
  const dotsInput = $("voting-dots");
  const maxInput = $("voting-max");
  if (app.voteInputsApplied !== applied && document.activeElement !== dotsInput && document.activeElement !== maxInput) {
    app.voteInputsApplied = applied;
    dotsInput.value = String(voting.dots_per_participant);
    maxInput.value = String(voting.max_per_note);
    maxInput.max = String(voting.dots_per_participant);
  }
  $("group-tool").hidden = !editable;

  const groupOf = noteGroupOf(snap.groups);
  const byVotes = (list) => (shown ? [...list].sort((a, b) => (votesById.get(b.note_id) || 0) - (votesById.get(a.note_id) || 0)) : list);
  // A group is one item in dot voting: its notes carry no dots of their own.
  const cardFor = (note) => {
    const card = noteCard(note);
    const counted = shown && !note.hidden && !groupOf.has(note.note_id);
    renderNote(card, note, counted ? votesById.get(note.note_id) || 0 : null, phase);
    return card;
  };

  // Groups as named clusters.
  const groups = wallGroups(snap.groups, groupOf, notesById, shown ? votesById : null);
  const groupNodes = groups.map(({ group, notes, total }) => {
    const node = keyed("groups").get(group.group_id, () => {
      const ungroup = button(tr("wall.ungroup"), { class: "btn btn--small btn--secondary", "data-testid": `ungroup-${group.group_id}` }, () =>
        command("remove_note_group", { group_id: group.group_id }),
      );
      const add = button(tr("wall.add_selected"), { class: "btn btn--small btn--secondary", "data-testid": `group-add-${group.group_id}` }, () => {
        const current = app.snap.groups.find((g) => g.group_id === group.group_id);
        if (current) addSelectedTo(current);
      });
      const promoteGroupButton = button(
        tr("wall.promote_group"),
        { class: "btn btn--small btn--primary", "data-testid": `promote-group-${group.group_id}`, "aria-describedby": `gt-${group.group_id}` },
        () => promoteGroup(group.group_id),
      );
      const rename = button(
        tr("wall.rename"),
        {
          class: "btn btn--small btn--secondary",
          id: `rename-group-${group.group_id}`,
          "data-testid": `rename-group-${group.group_id}`,
          "aria-describedby": `gt-${group.group_id}`,
        },
        () => openRename(group.group_id),
      );
      return h(
        "section",
        { class: "group", "data-testid": `group-${group.group_id}`, "aria-labelledby": `gt-${group.group_id}` },
        h(
          "div",
          { class: "group__head" },
          h("h3", { class: "group__title", id: `gt-${group.group_id}` }),
          h("span", { class: "group__meta" }),
          h("div", { class: "btn-row group__actions" }, promoteGroupButton, rename, add, ungroup),
        ),
        renameForm(group.group_id),
        h("ul", { class: "notes" }),
      );
    });
    setText(node.querySelector(".group__title"), group.title);
    setText(
      node.querySelector(".group__meta"),
      shown ? tr("wall.group_meta_votes", { n: notes.length, dots: total }) : tr("wall.group_meta", { n: notes.length }),
    );
    node.querySelector(".group__actions").hidden = !editable;
    place(node.querySelector(".notes"), notes.map(cardFor));
    return node;
  });
  keyed("groups").sweep();
  place($("groups"), groupNodes);

  const loose = byVotes(onWall.filter((n) => !groupOf.has(n.note_id)));
  place($("loose-notes"), loose.map(cardFor));
  keyed("notes").sweep();
  $("loose-title").hidden = !groups.length || !loose.length;
  $("wall-empty").hidden = onWall.length > 0;
  // Not "no ideas yet" while some wait for approval (in the moderation panel above).
  const waiting = pendingNotes(snap.notes).length;
  setText($("wall-empty"), waiting ? tr("wall.empty_waiting", { n: waiting }) : tr("wall.empty"));
  renderSelection();
}
