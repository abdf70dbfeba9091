// The lesson page's marks: a row per pupil of the class with a mark on the school's scale and a
// comment; saving or removing redraws only that row and keeps focus on the same control.
import { journalApi } from "./journal_api.js";
import { t } from "./i18n.js";
import { announce, byId, clearError, focusOn, h, showError, showErrorText } from "./dom.js";
import { data, lessonId } from "./journal_lesson_state.js";

function markRow(pupil) {
  const mark = data.marks.get(pupil.id) || null;
  const name = pupil.name;
  const select = /** @type {HTMLSelectElement} */ (
    h("select", { "aria-label": t("journal.mark_of", { name }), "data-action": "value" })
  );
  select.append(h("option", { value: "", text: t("journal.mark_none") }));
  for (let v = data.scale.min; v <= data.scale.max; v += 1) {
    select.append(h("option", { value: String(v), text: String(v) }));
  }
  select.value = mark ? String(mark.value) : "";
  const comment = /** @type {HTMLInputElement} */ (
    h("input", {
      maxlength: "500",
      autocomplete: "off",
      "aria-label": t("journal.mark_comment_of", { name }),
      "data-action": "comment",
      value: mark && mark.comment ? mark.comment : "",
    })
  );
  const save = h("button", {
    type: "button",
    class: "small",
    "data-action": "save",
    text: t("journal.mark_save"),
    "aria-label": t("journal.mark_save_of", { name }),
  });
  save.addEventListener("click", () => saveMark(pupil, select, comment, save));
  const remove = mark
    ? h("button", {
        type: "button",
        class: "small danger",
        "data-action": "remove",
        text: t("journal.mark_remove"),
        "aria-label": t("journal.mark_remove_of", { name }),
      })
    : null;
  if (remove) remove.addEventListener("click", () => removeMark(pupil, remove));
  const shown = mark
    ? h("span", { class: "mark-value", text: t("journal.mark_given", { value: mark.value }) })
    : null;
  return h(
    "tr",
    { "data-pupil": String(pupil.id) },
    h("th", { scope: "row" }, name, shown ? " " : null, shown),
    h("td", {}, select),
    h("td", {}, comment),
    h("td", {}, h("div", { class: "actions" }, save, remove)),
  );
}

export function renderMarks() {
  byId("marks-scale").textContent = t("journal.marks_scale", data.scale);
  byId("marks-caption").textContent = t("journal.marks_caption");
  byId("marks").replaceChildren(...data.pupils.map(markRow));
}

/** Re-renders one pupil's row and gives focus back to the same control in it. */
function rerenderMarkRow(pupil, action) {
  const old = byId("marks").querySelector(`tr[data-pupil="${CSS.escape(String(pupil.id))}"]`);
  const row = markRow(pupil);
  if (old) old.replaceWith(row);
  const target = row.querySelector(`[data-action="${action}"]`) || row.querySelector("button");
  focusOn(/** @type {HTMLElement} */ (target));
}

async function saveMark(pupil, select, comment, button) {
  clearError();
  if (!select.value) {
    showErrorText(t("journal.mark_required", { name: pupil.name }));
    focusOn(select);
    return;
  }
  button.disabled = true;
  try {
    const value = Number(select.value);
    const mark = await journalApi.setMark(lessonId, pupil.id, value, comment.value.trim());
    data.marks.set(pupil.id, mark);
    rerenderMarkRow(pupil, "save");
    announce(t("journal.mark_saved", { name: pupil.name, value: mark.value }));
  } catch (e) {
    showError(e);
  } finally {
    button.disabled = false;
  }
}

async function removeMark(pupil, button) {
  clearError();
  button.disabled = true;
  try {
    await journalApi.deleteMark(lessonId, pupil.id);
    data.marks.delete(pupil.id);
    rerenderMarkRow(pupil, "value");
    announce(t("journal.mark_removed", { name: pupil.name }));
  } catch (e) {
    showError(e);
    button.disabled = false;
  }
}
