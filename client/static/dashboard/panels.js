// Which panel is built by whom, and render(): every panel from one snapshot.

import { buildAdmission, renderAdmission } from "./admission.js";
import { buildAgenda, renderAgenda } from "./agenda.js";
import { announce } from "./commands.js";
import { phaseName } from "./format.js";
import { buildHeader, renderHeader } from "./header.js";
import { buildJoin, renderJoin } from "./join.js";
import { buildModeration, renderModeration } from "./moderation.js";
import { buildPrevious, ensurePreviousPanel, renderPrevious } from "./previous.js";
import { buildRating, renderRating } from "./rating.js";
import { buildResults, renderResults } from "./results.js";
import { app } from "./state.js";
import { $, registerBuilders, tr } from "./view.js";
import { buildWall, renderWall } from "./wall.js";

const BUILDERS = {
  join: () => buildJoin(),
  admission: () => buildAdmission(),
  rating: () => buildRating(),
  results: () => buildResults(),
  wall: () => buildWall(),
  moderation: () => buildModeration(),
  agenda: () => buildAgenda(),
  previous: () => buildPrevious(),
};
registerBuilders(BUILDERS);

export function buildAll() {
  buildHeader();
  if (!app.template) return;
  ensurePreviousPanel();
  // Panels are built when shown (showPanel); a language switch empties them all.
  for (const id of Object.keys(BUILDERS)) $(id).replaceChildren();
  app.built = true;
}

export function render() {
  const snap = app.snap;
  if (!snap || !app.built) return;
  $("loading").hidden = true;
  const focusLost = () => document.activeElement === document.body || (document.activeElement && document.activeElement.closest("[hidden]"));
  document.body.setAttribute("data-phase", snap.phase);
  // "Toon QR-code" is for the moment it was asked: a new phase closes it.
  if (app.lastPhase !== null && app.lastPhase !== snap.phase) app.showJoin = false;
  renderHeader(snap);
  renderJoin(snap);
  renderAdmission(snap);
  renderRating(snap);
  renderResults(snap);
  renderModeration(snap);
  renderWall(snap);
  renderAgenda(snap);
  renderPrevious(snap);
  if (app.lastPhase !== snap.phase || app.lastRound !== snap.round) {
    if (app.lastPhase !== null) {
      announce(tr("phase.announce", { phase: phaseName(snap.phase) }));
      if (focusLost()) $("main").focus({ preventScroll: true });
      window.scrollTo({ top: 0 });
    }
    app.lastPhase = snap.phase;
    app.lastRound = snap.round;
  }
}
