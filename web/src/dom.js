// Small DOM helpers. User text only ever goes in through textContent (strings given as
// children become text nodes); there is no innerHTML anywhere in this client.
import { errorText } from "./i18n.js";

/**
 * Creates an element. attrs: plain attributes, plus `class`, `text` (textContent),
 * `on` ({event: handler}) and `hidden`/`disabled` booleans. Children: nodes or strings (as text).
 * @returns {HTMLElement}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "text") el.textContent = String(value);
    else if (name === "on") {
      for (const [event, fn] of Object.entries(value)) el.addEventListener(event, fn);
    } else if (value === true) el.setAttribute(name, "");
    else el.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return el;
}

/** document.getElementById that throws when the page is not what this script expects. */
export function byId(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} missing from the page`);
  return el;
}

/** Shows exactly one of the given sections (by id). */
export function showOnly(ids, visible) {
  for (const id of ids) byId(id).hidden = id !== visible;
}

/** Puts focus on an element (a heading gets tabindex=-1 so it can take focus). */
export function focusOn(el) {
  if (!el) return;
  if (!el.hasAttribute("tabindex") && !/^(A|BUTTON|INPUT|SELECT|TEXTAREA)$/.test(el.tagName)) {
    el.setAttribute("tabindex", "-1");
  }
  el.focus();
}

/** The page's error region (role="alert", id "alert"). */
export function showError(err) {
  const region = byId("alert");
  region.textContent = errorText(err);
  region.hidden = false;
}

export function showErrorText(text) {
  const region = byId("alert");
  region.textContent = text;
  region.hidden = false;
}

export function clearError() {
  const region = byId("alert");
  region.textContent = "";
  region.hidden = true;
}

/** Says something through the polite live region (id "status"). */
export function announce(text) {
  const region = byId("status");
  region.textContent = "";
  // A fresh text node after clearing makes screen readers read repeated messages again.
  window.setTimeout(() => {
    region.textContent = text;
  }, 50);
}

/** Copies text to the clipboard; falls back to selecting an input's content. */
export async function copyText(text, input) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    if (input) {
      input.focus();
      input.select();
    }
    return false;
  }
}

/** Reads a form's trimmed text field. */
export function fieldValue(form, name) {
  const el = form.elements.namedItem(name);
  return el && "value" in el ? String(el.value).trim() : "";
}

/** Disables a form's controls while an async action runs. */
export async function busy(form, fn) {
  const controls = [...form.querySelectorAll("button, input, select")];
  const was = controls.map((c) => c.disabled);
  controls.forEach((c) => {
    c.disabled = true;
  });
  form.setAttribute("aria-busy", "true");
  try {
    return await fn();
  } finally {
    controls.forEach((c, i) => {
      c.disabled = was[i];
    });
    form.removeAttribute("aria-busy");
  }
}

/**
 * Wires the "#signin-form" both pages share: checks that both fields are filled, then runs
 * `signIn(login, password)` with the form busy; any error is shown.
 */
export function wireSignIn(signIn) {
  const form = /** @type {HTMLFormElement} */ (byId("signin-form"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError();
    const login = fieldValue(form, "login");
    const password = form.elements.namedItem("password").value;
    if (!login || !password) {
      showError({ code: "credentials_required" });
      focusOn(byId(login ? "signin-password" : "signin-login"));
      return;
    }
    await busy(form, async () => {
      try {
        await signIn(login, password, form);
      } catch (e) {
        showError(e);
      }
    });
  });
}

/**
 * On narrow screens (phones) the stylesheet stacks a `.stacked-table`'s rows: each cell on a line
 * of its own under its column's name (data-label), so no column is squeezed to a word per line.
 * The explicit roles keep it a table for screen readers, which some browsers forget once a
 * table's display changes. Used by the diary and the connection history.
 */
export function stackable(table, labels) {
  table.setAttribute("role", "table");
  for (const group of table.querySelectorAll("thead, tbody")) group.setAttribute("role", "rowgroup");
  for (const row of table.querySelectorAll("tr")) {
    row.setAttribute("role", "row");
    [...row.children].forEach((cell, i) => {
      const header = cell.tagName === "TH";
      const scope = cell.getAttribute("scope");
      cell.setAttribute("role", header ? (scope === "col" ? "columnheader" : "rowheader") : "cell");
      if (header) return;
      cell.setAttribute("data-label", labels[i] || "");
      // Nothing to say ("—"): phones leave the line out.
      if (cell.textContent === "—") cell.classList.add("empty");
    });
  }
}
