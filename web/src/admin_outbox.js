// The admin page's dead letters: outbox records the journal would not take after every try, each
// with "Retry" (sent again at once), and "Refresh" to list them anew.
import { adminApi } from "./adminapi.js";
import { language, t } from "./i18n.js";
import { announce, byId, clearError, focusOn, h, showError } from "./dom.js";

/** @type {object[]} the dead letters as last listed */
let dead = [];

/** Unix seconds or an ISO string, as a local date and time. */
function formatMoment(value) {
  const date = typeof value === "number" ? new Date(value * 1000) : new Date(String(value));
  if (Number.isNaN(date.getTime())) return String(value ?? "");
  return new Intl.DateTimeFormat(language(), { dateStyle: "medium", timeStyle: "short" }).format(date);
}

function deadRow(record) {
  const retry = h("button", {
    type: "button",
    class: "small",
    text: t("admin.retry"),
    "aria-label": t("admin.retry_label", { record: record.key }),
    "data-record": String(record.id),
  });
  retry.addEventListener("click", async () => {
    clearError();
    retry.disabled = true;
    try {
      await adminApi.retry(record.id);
      const index = dead.indexOf(record);
      dead = dead.filter((r) => r !== record);
      renderDead();
      announce(t("admin.retried", { record: record.key }));
      // Focus goes to the "Retry" that took this row's place (else the last, else the heading).
      const buttons = byId("dead").querySelectorAll("button");
      focusOn(buttons[Math.min(index, buttons.length - 1)] || byId("dead-title"));
    } catch (e) {
      retry.disabled = false;
      showError(e);
    }
  });
  return h(
    "tr",
    { "data-key": record.key },
    h("th", { scope: "row" }, h("code", { text: record.key })),
    h("td", { text: record.destination }),
    h("td", { text: String(record.attempts) }),
    h("td", { class: "dead-error", text: record.last_error || "" }),
    h("td", { text: formatMoment(record.created_at) }),
    h("td", {}, retry),
  );
}

/** Draws the dead letters (also for a new language). */
export function renderDead() {
  byId("dead").replaceChildren(...dead.map(deadRow));
  byId("dead-table").hidden = dead.length === 0;
  byId("dead-empty").hidden = dead.length > 0;
}

export async function loadDead() {
  dead = await adminApi.deadLetters();
  renderDead();
}

export function wireDead() {
  const refresh = /** @type {HTMLButtonElement} */ (byId("dead-refresh"));
  refresh.addEventListener("click", async () => {
    clearError();
    refresh.disabled = true;
    try {
      await loadDead();
      announce(t("admin.dead_count", { count: dead.length }));
    } catch (e) {
      showError(e);
    } finally {
      refresh.disabled = false;
    }
  });
}
