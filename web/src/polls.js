// Polls: hosts and presenters create (or prepare) polls, launch, close and publish them and see
// live results; participants answer (and may change the answer while the poll is open) and see
// published results. Results are drawn as <progress> bars with the numbers as text.
import { showPanel } from "./panels.js";
import { announce, byId, clearError, h, showError } from "./dom.js";
import { t } from "./i18n.js";
import { LIMITS } from "./protocol.js";
import { act, button, isStaff, state } from "./shared.js";

const polls = {
  /** @type {Map<number, object>} */ all: new Map(),
  /** @type {Map<number, {choices?: number[], text?: string}>} own answers sent */ answers: new Map(),
  /** @type {Map<number, {version: string, el: HTMLElement}>} rendered items */ items: new Map(),
};

function optionText(poll, i) {
  if (poll.kind === "yes_no") return t(i === 0 ? "poll.yes" : "poll.no");
  return String(poll.options[i] ?? "");
}

function resultsView(poll) {
  const r = poll.results;
  if (!r) return null;
  const voters = Number(r.voters) || 0;
  const box = h("div", { class: "poll-results", "data-results": "" });
  box.append(h("p", { class: "muted", text: t("poll.voters", { count: voters }) }));
  if (poll.kind !== "text") {
    const rows = (r.counts || []).map((count, i) => {
      const label = optionText(poll, i);
      const pct = voters ? Math.round((count * 100) / voters) : 0;
      return h(
        "li",
        { class: "bar-row" },
        h("span", { class: "bar-label", text: label }),
        h("progress", { max: Math.max(voters, 1), value: count, "aria-label": label }),
        h("span", { class: "bar-value", text: t("poll.count", { count, pct }) }),
      );
    });
    box.append(h("ul", { class: "plain-list bars" }, ...rows));
  } else if (Array.isArray(r.texts) && r.texts.length) {
    box.append(h("ul", { class: "poll-texts" }, ...r.texts.map((x) => h("li", { text: x }))));
  }
  if (Array.isArray(r.named) && r.named.length) {
    const rows = r.named.map((n) => {
      const answer =
        typeof n.text === "string" && n.text
          ? n.text
          : (n.choices || []).map((c) => optionText(poll, c)).join(", ");
      return h("li", { text: `${n.name}: ${answer}` });
    });
    box.append(h("details", {}, h("summary", { text: t("poll.named") }), h("ul", {}, ...rows)));
  }
  return box;
}

function answerForm(poll) {
  const mine = polls.answers.get(poll.id);
  const form = h("form", { class: "stack poll-answer", novalidate: true });
  const name = `poll-${poll.id}`;
  let field;
  if (poll.kind === "text") {
    const id = `poll-${poll.id}-text`;
    field = h(
      "div",
      { class: "field" },
      h("label", { for: id, text: t("poll.your_answer") }),
      h("textarea", { id, name, rows: 2, maxlength: LIMITS.pollText }),
    );
    if (mine && typeof mine.text === "string") field.querySelector("textarea").value = mine.text;
  } else {
    const type = poll.kind === "multiple" ? "checkbox" : "radio";
    const choices = poll.options.map((_, i) => {
      const input = h("input", { type, name, value: i });
      if (mine && mine.choices && mine.choices.includes(i)) input.checked = true;
      return h("label", { class: "choice" }, input, optionText(poll, i));
    });
    field = h(
      "fieldset",
      { class: "field" },
      h("legend", { text: t(type === "checkbox" ? "poll.choose_many" : "poll.choose_one") }),
      ...choices,
    );
  }
  const submit = h("button", {
    type: "submit",
    class: "primary",
    text: t(mine ? "poll.change_answer" : "poll.send_answer"),
  });
  form.append(field, h("div", { class: "row" }, submit));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError();
    /** @type {{choices?: number[], text?: string}} */
    let answer;
    if (poll.kind === "text") {
      answer = { text: String(form.querySelector("textarea").value) };
      if (!answer.text.trim()) return showError({ code: "empty" });
    } else {
      const checked = [...form.querySelectorAll("input:checked")].map((el) => Number(el.value));
      if (!checked.length) return showError({ code: "poll_choose" });
      answer = { choices: checked };
    }
    submit.disabled = true;
    try {
      await state.conn.pollVote(poll.id, answer);
      polls.answers.set(poll.id, answer);
      submit.textContent = t("poll.change_answer");
      form.querySelector(".poll-sent").textContent = t("poll.sent");
    } catch (e) {
      showError(e);
    } finally {
      submit.disabled = false;
    }
    return undefined;
  });
  form.append(h("p", { class: "poll-sent muted", role: "status", text: mine ? t("poll.sent") : "" }));
  return form;
}

function staffActions(poll) {
  const conn = state.conn;
  const q = poll.question;
  const out = [];
  if (poll.state === "draft") {
    out.push(button(t("poll.launch"), "launch", (el) => act(el, () => conn.pollLaunch(poll.id)), {
      label: t("poll.launch_label", { question: q }),
      cls: "small primary",
    }));
  }
  if (poll.state === "open") {
    out.push(button(t("poll.close"), "close", (el) => act(el, () => conn.pollClose(poll.id)), {
      label: t("poll.close_label", { question: q }),
    }));
  }
  if (poll.state === "closed" && !poll.published) {
    out.push(button(t("poll.publish"), "publish", (el) => act(el, () => conn.pollPublish(poll.id)), {
      label: t("poll.publish_label", { question: q }),
      cls: "small primary",
    }));
  }
  return out.length ? h("div", { class: "actions" }, ...out) : null;
}

function pollItem(poll) {
  const status = t(`poll.state_${poll.state}`) + (poll.published ? ` · ${t("poll.published")}` : "");
  const headingId = `poll-${poll.id}-q`;
  const item = h(
    "li",
    { class: "poll", "data-poll": poll.id, "data-state": poll.state, "data-key": `poll:${poll.id}`, "aria-labelledby": headingId },
    h("h4", { id: headingId, class: "poll-question", text: poll.question }),
    h(
      "p",
      { class: "muted poll-meta" },
      `${t(`poll.kind_${poll.kind}`)} · ${t(poll.anonymous ? "poll.anonymous" : "poll.named_poll")} · `,
      h("span", { class: "poll-status", text: status }),
    ),
  );
  if (isStaff()) {
    const actions = staffActions(poll);
    if (actions) item.append(actions);
    item.append(resultsView(poll) || "");
  } else {
    if (poll.state === "open") item.append(answerForm(poll));
    if (poll.published) item.append(resultsView(poll) || "");
    else if (poll.state === "closed") item.append(h("p", { class: "muted", text: t("poll.closed_wait") }));
  }
  return item;
}

function visiblePolls() {
  return [...polls.all.values()]
    .filter((p) => isStaff() || p.state !== "draft")
    .sort((a, b) => b.id - a.id);
}

/** Renders the poll list; items whose poll did not change are kept (answers in progress stay). */
export function renderPolls(force = false) {
  const staff = isStaff();
  byId("poll-create").hidden = !staff;
  const list = byId("polls");
  const shown = visiblePolls();
  const nodes = shown.map((poll) => {
    const version = `${staff}|${poll.state}|${poll.published}|${JSON.stringify(poll.results || null)}`;
    const cached = polls.items.get(poll.id);
    if (!force && cached && cached.version === version) return cached.el;
    const el = pollItem(poll);
    if (cached && cached.el.contains(document.activeElement)) {
      // Keep focus on the same kind of control when the item is rebuilt.
      window.setTimeout(() => {
        const next = el.querySelector("button");
        if (next instanceof HTMLElement) next.focus();
      }, 0);
    }
    polls.items.set(poll.id, { version, el });
    return el;
  });
  list.replaceChildren(...nodes);
  byId("polls-empty").hidden = shown.length > 0;
}

export function setupPolls() {
  const form = /** @type {HTMLFormElement} */ (byId("poll-form"));
  const kind = /** @type {HTMLSelectElement} */ (byId("poll-kind"));
  const optionsField = byId("poll-options-field");
  const syncKind = () => {
    optionsField.hidden = !(kind.value === "single" || kind.value === "multiple");
  };
  kind.addEventListener("change", syncKind);
  syncKind();
  let launch = true;
  byId("poll-launch").addEventListener("click", () => {
    launch = true;
  });
  byId("poll-draft").addEventListener("click", () => {
    launch = false;
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError();
    const question = String(/** @type {HTMLTextAreaElement} */ (byId("poll-question")).value).trim();
    if (!question) return showError({ code: "empty" });
    const options = String(/** @type {HTMLTextAreaElement} */ (byId("poll-options")).value)
      .split("\n")
      .map((line) => line.trim())
      .filter(Boolean);
    const withOptions = kind.value === "single" || kind.value === "multiple";
    if (withOptions && (options.length < LIMITS.pollOptionsMin || options.length > LIMITS.pollOptionsMax)) {
      return showError({ code: "poll_options" });
    }
    if (withOptions && options.some((o) => [...o].length > LIMITS.pollOption)) {
      return showError({ code: "too_long" });
    }
    const buttons = [...form.querySelectorAll("button")];
    buttons.forEach((b) => {
      b.disabled = true;
    });
    try {
      await state.conn.pollCreate({
        kind: kind.value,
        question,
        options,
        anonymous: /** @type {HTMLInputElement} */ (byId("poll-anonymous")).checked,
        launch,
      });
      form.reset();
      syncKind();
      announce(t(launch ? "poll.launched" : "poll.saved"));
    } catch (e) {
      showError(e);
    } finally {
      buttons.forEach((b) => {
        b.disabled = false;
      });
    }
    return undefined;
  });
}

function upsert(poll, news) {
  if (!poll || typeof poll.id !== "number") return;
  const before = polls.all.get(poll.id);
  // poll_opened/poll_closed carry no results: keep the ones staff already have.
  const merged = before && before.results && !poll.results ? { ...poll, results: before.results } : poll;
  polls.all.set(poll.id, merged);
  renderPolls();
  if (news) announce(t(news, { question: poll.question }));
}

export function bindPolls(conn) {
  conn.on("room_state", (msg) => {
    polls.all = new Map((msg.polls || []).map((p) => [p.id, p]));
    renderPolls(true);
  });
  conn.on("poll_opened", ({ poll }) => {
    upsert(poll, isStaff() ? null : "poll.news_opened");
    // A question to answer now: its panel comes forward (focus stays where the pupil is).
    if (!isStaff()) showPanel("polls");
  });
  conn.on("poll_closed", ({ poll }) => upsert(poll, null));
  conn.on("poll_results", ({ poll }) => {
    upsert(poll, isStaff() ? null : "poll.news_results");
    if (!isStaff()) showPanel("polls");
  });
  conn.on("poll_updated", ({ poll }) => upsert(poll, null));
}

export function resetPolls() {
  polls.all = new Map();
  polls.answers = new Map();
  polls.items = new Map();
}
