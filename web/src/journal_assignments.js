// The lesson page's assignments: the list (with Delete) and the form — kind, difficulty, text,
// due date, for the whole class or chosen pupils.
import { journalApi } from "./journal_api.js";
import { t } from "./i18n.js";
import {
  announce,
  busy,
  byId,
  clearError,
  fieldValue,
  focusOn,
  h,
  showError,
  showErrorText,
} from "./dom.js";
import { formatDay, parseDate } from "./journal_common.js";
import { data, lessonId, pupilName } from "./journal_lesson_state.js";

function assignmentSummary(a) {
  const parts = [t(`journal.kind_${a.kind}`), t(`journal.difficulty_${a.difficulty}`)];
  const due = parseDate(a.due_on);
  if (due) parts.push(t("journal.due", { date: formatDay(due, { weekday: false }) }));
  parts.push(
    a.pupil_ids && a.pupil_ids.length
      ? t("journal.for_pupils", { names: a.pupil_ids.map(pupilName).join(", ") })
      : t("journal.for_class"),
  );
  return parts.join(" · ");
}

function assignmentItem(a) {
  const snippet = a.text.length > 40 ? `${a.text.slice(0, 40)}…` : a.text;
  const remove = h("button", {
    type: "button",
    class: "small danger",
    "data-action": "delete",
    text: t("journal.assignment_delete"),
    "aria-label": t("journal.assignment_delete_of", {
      kind: t(`journal.kind_${a.kind}`),
      text: snippet,
    }),
  });
  remove.addEventListener("click", () => deleteAssignment(a, remove));
  return h(
    "li",
    { class: "assignment", "data-key": String(a.id) },
    h(
      "div",
      { class: "assignment-body" },
      h("div", { class: "muted", text: assignmentSummary(a) }),
      h("p", { class: "assignment-text", text: a.text }),
    ),
    remove,
  );
}

export function renderAssignments() {
  byId("assignments").replaceChildren(...data.assignments.map(assignmentItem));
  byId("assignments-empty").hidden = data.assignments.length > 0;
  const box = byId("assignment-pupils");
  const checked = new Set(
    [...box.querySelectorAll("input:checked")].map(
      (el) => /** @type {HTMLInputElement} */ (el).value,
    ),
  );
  box.replaceChildren(
    ...data.pupils.map((p) =>
      h(
        "label",
        { class: "choice" },
        h("input", {
          type: "checkbox",
          name: "pupil",
          value: String(p.id),
          checked: checked.has(String(p.id)),
        }),
        " ",
        h("span", { text: p.name }),
      ),
    ),
  );
}

async function deleteAssignment(a, button) {
  clearError();
  button.disabled = true;
  try {
    await journalApi.deleteAssignment(lessonId, a.id);
    const index = data.assignments.indexOf(a);
    data.assignments = data.assignments.filter((x) => x !== a);
    renderAssignments();
    announce(t("journal.assignment_deleted"));
    const items = byId("assignments").querySelectorAll("li button");
    const next = /** @type {HTMLElement} */ (items[Math.min(index, items.length - 1)]);
    focusOn(next || byId("assignments-title"));
  } catch (e) {
    showError(e);
    button.disabled = false;
  }
}

export function wireAssignments() {
  const form = /** @type {HTMLFormElement} */ (byId("assignment-form"));
  const chosenBox = byId("assignment-pupils");
  for (const radio of form.querySelectorAll('input[name="for"]')) {
    radio.addEventListener("change", () => {
      chosenBox.hidden = form.querySelector('input[name="for"]:checked').value !== "chosen";
    });
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError();
    const text = /** @type {HTMLTextAreaElement} */ (byId("assignment-text")).value.trim();
    if (!text) {
      showErrorText(t("journal.assignment_text_required"));
      focusOn(byId("assignment-text"));
      return;
    }
    const forChosen = form.querySelector('input[name="for"]:checked').value === "chosen";
    const pupilIds = [...chosenBox.querySelectorAll("input:checked")].map((el) =>
      Number(/** @type {HTMLInputElement} */ (el).value),
    );
    if (forChosen && pupilIds.length === 0) {
      showErrorText(t("journal.assignment_pupils_required"));
      focusOn(/** @type {HTMLElement} */ (chosenBox.querySelector("input")));
      return;
    }
    const body = {
      kind: fieldValue(form, "kind"),
      difficulty: fieldValue(form, "difficulty"),
      text,
      due_on: fieldValue(form, "due_on") || null,
      pupil_ids: forChosen ? pupilIds : null,
    };
    await busy(form, async () => {
      try {
        const assignment = await journalApi.addAssignment(lessonId, body);
        data.assignments = [...data.assignments, assignment];
        form.reset();
        chosenBox.hidden = true;
        renderAssignments();
        announce(t("journal.assignment_added"));
        focusOn(byId("assignment-text"));
      } catch (e) {
        showError(e);
      }
    });
  });
}
