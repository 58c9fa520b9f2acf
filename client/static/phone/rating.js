// Rating the norms one card at a time: the scales (one radio group per
// question, keyboard first), the previous/next buttons, the summary and the
// overview of every norm with the own answers.

import { el } from "../kleur.js";
import { send } from "./connection.js";
import { render } from "./page.js";
import { app, firstOpenNorm, isComplete, secondQuestion, view } from "./state.js";
import { $, formatNumber, section, t } from "./ui.js";

function rate(normId, value, question = "current", byKeyboard = false) {
  // The round travels with the rating: a late resend from an earlier round is
  // refused by the server instead of counting in the new one.
  send("rate", { norm_id: normId, value, round: app.state.round, question });
  app.lastAnswer.set(question === "second" ? "second" : "rate", value);
  if (isComplete(app, view(app), normId)) {
    app.index = Math.min(app.index + 1, app.norms.length);
    render();
    // A key press keeps the keyboard on the scale (one Tab stop per norm); a
    // tap puts the next norm's title first, for a screen reader to read out.
    if (byKeyboard && $("rate-group")) focusScale("rate-group");
    else focusCard();
  } else {
    // The other question of this norm is still open: stay on the card.
    render();
    const group = question === "second" ? "rate-group" : "second-group";
    if (byKeyboard && $(group)) focusScale(group);
    else document.getElementById(question === "second" ? "scale-label" : "second-label")?.focus();
  }
}

/** Focus a scale's one tab stop (its chosen answer, else where the roving stop sits). */
function focusScale(groupId) {
  const stop = $(groupId)?.querySelector('[role="radio"][tabindex="0"]');
  if (!stop) return;
  stop.closest("section")?.scrollIntoView({ block: "start" });
  stop.focus();
}

function goTo(index) {
  app.index = Math.max(0, Math.min(index, app.norms.length));
  render();
  focusCard();
}

export function focusCard() {
  const target = $("norm-title") || $("summary-title");
  if (target) {
    target.focus({ preventScroll: true });
    target.closest("section")?.scrollIntoView({ block: "start" });
  }
}

export function answerText(rating) {
  if (!rating) return t("phone.answer.none");
  if (rating.value === null) return t("phone.answer.dont_know");
  return formatNumber(rating.value);
}

/** The own answer to a norm, with the answer to the second question when the template asks one. */
export function answersText(rating, second) {
  const asked = secondQuestion(app);
  if (!asked) return answerText(rating);
  return t(`phone.answer.with_${asked.kind}`, { answer: answerText(rating), second: answerText(second) });
}

/**
 * One question's answers as one radio group: the scale, its end labels and
 * "don't know".  One Tab stop (roving tabindex); arrow keys, Home/End and the
 * digits move the focus, Space/Enter (or a tap) choose, and choosing moves on.
 */
function scaleGroup({ prefix, groupId, labelId, label, labelLang, minLabel, maxLabel, current, onChoose }) {
  const lang = app.template.language;
  const scale = app.template.scale;
  const values = [];
  for (let value = scale.min; value <= scale.max; value += 1) values.push(value);
  const chosen = (value) => Boolean(current) && current.value === value;
  // The tab stop: the answer given, else the value given last on the norm
  // before (a table mostly rates within a narrow band), else the lowest.
  const last = app.lastAnswer.has(prefix) ? app.lastAnswer.get(prefix) : scale.min;
  const usable = last === null ? Boolean(scale.dont_know) : values.includes(last);
  const stop = current ? current.value : usable ? last : scale.min;
  const radio = (value, className, text) =>
    el(
      "button",
      {
        type: "button",
        role: "radio",
        class: className,
        id: `${prefix}-${value === null ? "dk" : value}`,
        "data-testid": `${prefix}-${value === null ? "dk" : value}`,
        "data-value": value === null ? "dk" : String(value),
        "aria-checked": String(chosen(value)),
        tabindex: value === stop ? "0" : "-1",
        // detail 0: Enter or Space, not a pointer.
        onclick: (event) => onChoose(value, event.detail === 0),
      },
      text,
    );
  const group = el(
    "div",
    {
      role: "radiogroup",
      class: "scale",
      id: groupId,
      "aria-labelledby": `${labelId} norm-title`,
      "aria-describedby": "norm-description",
      onkeydown: onScaleKey,
      onfocusin: (event) => {
        // The focused answer becomes the tab stop, however it got the focus.
        if (event.target.getAttribute("role") !== "radio") return;
        for (const other of group.querySelectorAll('[role="radio"]')) {
          other.setAttribute("tabindex", other === event.target ? "0" : "-1");
        }
      },
    },
    el("p", { id: labelId, class: "scale-label", tabindex: "-1", lang: labelLang }, label),
    el(
      "div",
      { class: `scale-grid scale-${values.length}` },
      ...values.map((value) => radio(value, "rate-button", formatNumber(value))),
    ),
    el(
      "p",
      { class: "scale-ends" },
      el("span", { lang }, t("phone.rating.scale_end", { value: scale.min, label: minLabel })),
      el("span", { lang }, t("phone.rating.scale_end", { value: scale.max, label: maxLabel })),
    ),
    scale.dont_know ? radio(null, "rate-button rate-dk", t("phone.rating.dont_know")) : null,
  );
  return group;
}

/** Arrow keys, Home/End and a digit move the focus within a scale; they never choose. */
function onScaleKey(event) {
  if (event.altKey || event.ctrlKey || event.metaKey) return;
  const radios = [...event.currentTarget.querySelectorAll('[role="radio"]')];
  const index = radios.indexOf(document.activeElement);
  if (index === -1) return;
  let next = null;
  if (event.key === "ArrowRight" || event.key === "ArrowDown") next = (index + 1) % radios.length;
  else if (event.key === "ArrowLeft" || event.key === "ArrowUp") next = (index - 1 + radios.length) % radios.length;
  else if (event.key === "Home") next = 0;
  else if (event.key === "End") next = radios.length - 1;
  else if (/^[0-9]$/.test(event.key)) {
    const found = radios.findIndex((radio) => radio.dataset.value === event.key);
    if (found !== -1) next = found;
  }
  if (next === null) return;
  event.preventDefault();
  radios[next].focus();
}

export function ratingSection(v) {
  const total = app.norms.length;
  const done = app.norms.filter((norm) => isComplete(app, v, norm.id)).length;
  const index = app.index ?? firstOpenNorm(app);
  const norm = app.norms[index];
  const current = norm ? v.ratings.get(norm.id) : null;
  const second = norm ? v.seconds.get(norm.id) : null;
  const asked = secondQuestion(app);
  const data = [index, total, done, norm?.id, current ? current.value : "unset", second ? second.value : "unset"];
  return section("rate", data, () => {
    const progress = el(
      "div",
      { class: "progress", "data-testid": "progress" },
      el("progress", { max: total, value: done, "aria-labelledby": "progress-text" }),
      el("p", { id: "progress-text", class: "progress-text" }, t("phone.rating.progress", { done, total })),
    );
    if (!norm) {
      return el(
        "section",
        { class: "card rating", "aria-labelledby": "summary-title" },
        progress,
        el(
          "h2",
          { id: "summary-title", tabindex: "-1" },
          t(done === total ? "phone.rating.done_title" : "phone.rating.summary_title"),
        ),
        el("p", {}, t("phone.rating.done_text", { done, total })),
        done < total ? el("p", {}, t("phone.rating.done_missing")) : null,
        done < total
          ? el(
              "p",
              {},
              el(
                "button",
                { type: "button", class: "button", id: "to-open", onclick: () => goTo(firstOpenNorm(app)) },
                t("phone.rating.to_open"),
              ),
            )
          : null,
        el(
          "div",
          { class: "nav-buttons" },
          el(
            "button",
            { type: "button", class: "button button-secondary", id: "prev", "data-testid": "prev", onclick: () => goTo(index - 1) },
            t("phone.rating.prev"),
          ),
          el(
            "button",
            { type: "button", class: "button button-secondary", id: "next", "data-testid": "next", disabled: true },
            t("phone.rating.next"),
          ),
        ),
      );
    }
    const lang = app.template.language;
    const scale = app.template.scale;
    return el(
      "section",
      { class: "card rating", "aria-labelledby": "norm-title" },
      progress,
      el("p", { class: "theme", lang }, norm.theme.title),
      el("p", { class: "counter" }, t("phone.rating.counter", { n: index + 1, total })),
      el("h2", { id: "norm-title", tabindex: "-1", lang }, norm.title),
      el("p", { class: "description", id: "norm-description", lang }, norm.description),
      scaleGroup({
        prefix: "rate",
        groupId: "rate-group",
        labelId: "scale-label",
        label: t("phone.rating.your_score"),
        labelLang: null,
        minLabel: scale.min_label,
        maxLabel: scale.max_label,
        current,
        onChoose: (value, byKeyboard) => rate(norm.id, value, "current", byKeyboard),
      }),
      asked
        ? scaleGroup({
            prefix: "second",
            groupId: "second-group",
            labelId: "second-label",
            // The template's own words, in the template's language.
            label: asked.question,
            labelLang: lang,
            minLabel: asked.min_label,
            maxLabel: asked.max_label,
            current: second,
            onChoose: (value, byKeyboard) => rate(norm.id, value, "second", byKeyboard),
          })
        : null,
      el(
        "div",
        { class: "nav-buttons" },
        el(
          "button",
          {
            type: "button",
            class: "button button-secondary",
            id: "prev",
            "data-testid": "prev",
            disabled: index === 0,
            onclick: () => goTo(index - 1),
          },
          t("phone.rating.prev"),
        ),
        el(
          "button",
          {
            type: "button",
            class: "button button-secondary",
            id: "next",
            "data-testid": "next",
            onclick: () => goTo(index + 1),
          },
          index === total - 1 ? t("phone.rating.to_summary") : t("phone.rating.next"),
        ),
      ),
    );
  });
}

export function overviewSection(v) {
  const index = app.index ?? 0;
  const open = app.overviewOpen || index >= app.norms.length;
  const answers = app.norms.map((norm) => [v.ratings.get(norm.id), v.seconds.get(norm.id)].map((r) => (r ? r.value : "unset")));
  return section("overview", [index, open, answers], () => {
    const details = el(
      "details",
      { class: "overview", open },
      el("summary", {}, t("phone.overview.title")),
      el(
        "ol",
        { class: "overview-list" },
        ...app.norms.map((norm, i) => {
          const rating = v.ratings.get(norm.id);
          const complete = isComplete(app, v, norm.id);
          return el(
            "li",
            {},
            el(
              "button",
              {
                type: "button",
                class: ["overview-item", complete ? "is-answered" : "is-open"],
                id: `jump-${norm.id}`,
                "data-testid": `jump-${norm.id}`,
                "aria-current": i === index ? "step" : null,
                onclick: () => goTo(i),
              },
              el("span", { class: "overview-title", lang: app.template.language }, `${i + 1}. ${norm.title}`),
              el("span", { class: "overview-answer" }, answersText(rating, v.seconds.get(norm.id))),
            ),
          );
        }),
      ),
    );
    details.addEventListener("toggle", () => {
      app.overviewOpen = details.open;
    });
    return el("section", { class: "card card-quiet" }, details);
  });
}
