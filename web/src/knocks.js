// The host's knock banner: who is waiting to enter, at the top of the screen as soon as they
// knock, with Admit / Deny for each of the first few and Admit all / Deny all for a group (one
// command for the lot, `admit_all` / `deny_all`). The lobby list in the host panel stays too.
import { announce, byId, h, showError } from "./dom.js";
import { t } from "./i18n.js";
import { bannerArea, showCount } from "./banner.js";
import { freshKnocks, knockView } from "./news.js";
import { act, button, focusedControl, isHost, restoreFocus, state } from "./shared.js";

// Knockers with their own buttons: three, or the first only on a phone (the rest are counted).
const NARROW = window.matchMedia("(max-width: 40rem)");
const rowsShown = () => (NARROW.matches ? 1 : 3);
NARROW.addEventListener("change", () => renderKnocks());

function knockRow(k) {
  const conn = state.conn;
  return h(
    "li",
    { class: "knock-row", "data-key": `kb:${k.id}`, "data-knock-banner": k.id },
    h(
      "span",
      { class: "knock-who" },
      h("span", { class: "knock-name", text: k.name }),
      k.institution ? h("span", { class: "knock-institution", text: k.institution }) : null,
    ),
    h(
      "span",
      { class: "actions" },
      button(t("host.admit"), "admit", (el) => act(el, () => conn.admit(k.id), "knocks-title"), {
        label: t("host.admit_label", { name: k.name }),
        cls: "small primary",
      }),
      button(t("host.deny"), "deny", (el) => act(el, () => conn.deny(k.id), "knocks-title"), {
        label: t("host.deny_label", { name: k.name }),
        cls: "small danger",
      }),
    ),
  );
}

/** Admit all / Deny all: for the knockers the host sees now, not ones arriving meanwhile. */
function answerAll(el, admit) {
  const conn = state.conn;
  const ids = state.lobby.map((k) => k.id);
  if (!admit) return confirmDenyAll(ids);
  return runAll(el, ids, admit, conn);
}

function runAll(el, ids, admit, conn) {
  return act(
    el,
    async () => {
      await (admit ? conn.admitAll(ids) : conn.denyAll(ids));
      announce(t(admit ? "knock.admitted_all" : "knock.denied_all", { count: ids.length }));
    },
    "knocks-title",
  );
}

// Turning a whole group away cannot be undone (each would have to knock again): asked first.
// The ids are the ones the host saw when pressing Deny all.
let pendingDeny = null;

function confirmDenyAll(ids) {
  pendingDeny = { ids, conn: state.conn };
  byId("deny-all-text").textContent = t("knock.deny_all_text", { count: ids.length });
  byId("deny-all-confirm").textContent = t("knock.deny_all_confirm", { count: ids.length });
  const dialog = /** @type {HTMLDialogElement} */ (byId("deny-all-dialog"));
  dialog.returnValue = "";
  dialog.showModal();
  byId("deny-all-cancel").focus(); // the safe choice under Enter
}

/** Wires the Deny all confirmation (once, at start). */
export function setupKnocks() {
  const dialog = /** @type {HTMLDialogElement} */ (byId("deny-all-dialog"));
  dialog.addEventListener("close", () => {
    const pending = pendingDeny;
    pendingDeny = null;
    const back = document.querySelector('#knock-banner button[data-action="deny-all"]');
    if (back instanceof HTMLElement) back.focus();
    if (!pending || dialog.returnValue !== "deny" || pending.conn !== state.conn) return;
    runAll(back instanceof HTMLButtonElement ? back : byId("deny-all-confirm"), pending.ids, false, pending.conn);
  });
}

/** Key A: admit the one who has waited longest (hosts, when someone knocks). */
export function admitOldest() {
  if (!isHost() || !state.conn || !state.lobby.length) return;
  const first = state.lobby[0];
  const conn = state.conn;
  conn
    .admit(first.id)
    .then(() => announce(t("knock.admitted_one", { name: first.name })))
    .catch((e) => showError(e));
}

function banner() {
  let el = document.getElementById("knock-banner");
  if (!el) {
    el = h("section", {
      id: "knock-banner",
      class: "knock-banner",
      "aria-labelledby": "knock-banner-title",
      "data-testid": "knock-banner",
      hidden: true,
    });
    bannerArea().prepend(el);
  }
  return el;
}

/** Renders the banner from `state.lobby` (hosts only), keeping keyboard focus in place. */
export function renderKnocks() {
  const host = isHost();
  const lobby = host ? state.lobby : [];
  const view = knockView(lobby, rowsShown());
  const label = t("knock.count_label", { count: view.count });
  showCount("knocks", view.count, label);
  const el = banner();
  if (!view.count) {
    el.hidden = true;
    el.replaceChildren();
    return;
  }
  const saved = focusedControl(el);
  const active = document.activeElement;
  const savedAction = active instanceof HTMLElement && el.contains(active) ? active.dataset.action : null;
  const list = h("ul", { class: "knock-list plain-list" }, ...view.shown.map(knockRow));
  const rows = [
    h(
      "div",
      { class: "knock-head" },
      h("h2", { id: "knock-banner-title", class: "knock-title", text: t("knock.title") }),
      h("span", {
        class: "count-badge",
        "data-testid": "knock-count",
        "aria-label": label,
        title: label,
        text: String(view.count),
      }),
    ),
    list,
  ];
  if (view.more) {
    rows.push(h("p", { class: "knock-more", text: t("knock.more", { count: view.more }) }));
  }
  if (view.all) {
    rows.push(
      h(
        "div",
        { class: "actions knock-all" },
        button(t("knock.admit_all", { count: view.count }), "admit-all", (b) => answerAll(b, true), {
          label: t("knock.admit_all_label", { count: view.count }),
          cls: "small primary",
          testid: "admit-all",
        }),
        button(t("knock.deny_all"), "deny-all", (b) => answerAll(b, false), {
          label: t("knock.deny_all_label", { count: view.count }),
          cls: "small danger",
          testid: "deny-all",
        }),
      ),
    );
  }
  el.replaceChildren(...rows);
  el.hidden = false;
  // The all-buttons sit outside the list: give focus back to them by their action.
  restoreFocus(el, saved);
  if (savedAction && !el.contains(document.activeElement)) {
    const same = el.querySelector(`button[data-action="${savedAction}"]`);
    if (same instanceof HTMLElement) same.focus();
  }
}

/** Reads out who started knocking (the banner shows them; a screen reader hears them). */
export function announceKnocks(before, after) {
  if (!isHost()) return;
  const fresh = freshKnocks(before, after);
  if (!fresh.length) return;
  const text =
    fresh.length === 1
      ? t("host.knock_one", { name: fresh[0].name })
      : t("host.knock_many", { count: fresh.length });
  const region = document.getElementById("knock-news");
  if (region) region.textContent = text;
}
