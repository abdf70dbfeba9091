// The admin page's audit log: every change to accounts (who, what, to whom, when), newest first,
// with "Refresh".
import { adminApi } from "./adminapi.js";
import { has, language, t } from "./i18n.js";
import { announce, byId, clearError, h, showError } from "./dom.js";

/** @type {object[]} */
let entries = [];

function when(seconds) {
  const date = new Date(seconds * 1000);
  return new Intl.DateTimeFormat(language(), { dateStyle: "medium", timeStyle: "medium" }).format(date);
}

/** What changed, as "old → new" or "name: value" pairs (values are data, never translated). */
function detailText(detail) {
  if (!detail || typeof detail !== "object") return "";
  if ("old" in detail || "new" in detail) return `${detail.old ?? "—"} → ${detail.new ?? "—"}`;
  return Object.entries(detail)
    .map(([key, value]) => `${key}: ${value}`)
    .join(", ");
}

function entryRow(entry) {
  const action = has(`audit.action_${entry.action}`) ? t(`audit.action_${entry.action}`) : entry.action;
  return h(
    "tr",
    { "data-action": entry.action },
    h("td", { text: when(entry.at) }),
    h("td", { text: entry.actor }),
    h("th", { scope: "row", text: action }),
    h("td", {}, h("code", { text: entry.target })),
    h("td", { text: detailText(entry.detail) }),
  );
}

export function renderAudit() {
  byId("audit").replaceChildren(...entries.map(entryRow));
  byId("audit-table").hidden = entries.length === 0;
  byId("audit-empty").hidden = entries.length > 0;
}

export async function loadAudit() {
  entries = await adminApi.audit();
  renderAudit();
}

export function wireAudit() {
  const refresh = /** @type {HTMLButtonElement} */ (byId("audit-refresh"));
  refresh.addEventListener("click", async () => {
    clearError();
    refresh.disabled = true;
    try {
      await loadAudit();
      announce(t("audit.count", { count: entries.length }));
    } catch (e) {
      showError(e);
    } finally {
      refresh.disabled = false;
    }
  });
}
