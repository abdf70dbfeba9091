// The admin page's forms (settings, years, subjects, teaching) save the same way: the form is busy
// while the server judges the body, and a refusal is shown next to the field it names, in the
// server's own sentence. Shared here so every form behaves alike.
import { errorText, t } from "./i18n.js";
import { busy, clearError, focusOn, showError, showErrorText } from "./dom.js";

/** "present_ratio: Input should be ≤ 1." → ["present_ratio", "Input should be ≤ 1."] */
function splitMessage(message) {
  const m = /^([A-Za-z_][\w.]*): (.+)$/s.exec(String(message || ""));
  return m ? [m[1], m[2]] : [null, String(message || "")];
}

/** The control a server error is about: the longest `data-path` prefix of the field it names. */
function controlFor(form, path) {
  if (!path) return null;
  const parts = path.split(".");
  for (let n = parts.length; n > 0; n--) {
    const wanted = parts.slice(0, n).join(".");
    const el = [...form.querySelectorAll("[data-path]")].find((c) => c.dataset.path === wanted);
    if (el) return /** @type {HTMLElement} */ (el);
  }
  return null;
}

function errorNodeOf(control) {
  const ids = (control.getAttribute("aria-describedby") || "").split(/\s+/);
  const id = ids.find((i) => i.endsWith("-error"));
  return id ? document.getElementById(id) : null;
}

function clearFieldErrors(form) {
  for (const el of form.querySelectorAll(".field-error")) {
    el.textContent = "";
    el.hidden = true;
  }
  for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
}

/**
 * Shows a refusal: next to the field the server named (its own sentence), else in the alert.
 * Returns whether it went next to a field.
 */
function showFormError(form, err) {
  const [path, sentence] = splitMessage(err && err.message);
  const control = controlFor(form, (err && err.field) || path);
  const node = control ? errorNodeOf(control) : null;
  if (!control || !node) {
    // A sentence about the whole body says more than the generic "invalid payload" one.
    if (err && err.code === "invalid_payload" && sentence) showErrorText(sentence);
    else showError(err);
    return false;
  }
  node.textContent = sentence || errorText(err);
  node.hidden = false;
  control.setAttribute("aria-invalid", "true");
  showErrorText(t("admin.not_saved"));
  focusOn(control);
  return true;
}

/**
 * Wires a form: on submit, `save()` runs with the form busy. A refusal is shown next to its field
 * once the form is usable again (a disabled control cannot take focus); on success, focus goes to
 * what `save` returns, if anything.
 */
export function wireForm(form, save) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError();
    clearFieldErrors(form);
    let failure = null;
    let focusTarget = null;
    await busy(form, async () => {
      try {
        focusTarget = await save();
      } catch (e) {
        failure = e;
      }
    });
    if (failure) showFormError(form, failure);
    else if (focusTarget) focusOn(focusTarget);
  });
}

/** The list with `item` added after the save; one with its id is replaced, never shown twice. */
export function withItem(list, item) {
  return [...list.filter((x) => x.id !== item.id), item];
}
