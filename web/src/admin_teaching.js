// The admin page's subjects and teaching: the school's subjects (added by name) and who teaches
// which subject to which class, chosen from the teachers, classes and subjects the server lists.
import { adminApi } from "./adminapi.js";
import { t } from "./i18n.js";
import { announce, byId, fieldValue, h } from "./dom.js";
import { wireForm, withItem } from "./admin_forms.js";

const data = {
  /** @type {object[]} */ subjects: [],
  /** @type {object[]} */ teachers: [],
  /** @type {object[]} */ classes: [],
  /** @type {object[]} */ teaching: [],
};

function nameOf(list, id) {
  const found = list.find((item) => item.id === id);
  return found ? String(found.name || found.display_name || "") : String(id ?? "");
}

/** Refills a choice list, keeping what was chosen if it is still there. */
function fillSelect(select, items, label) {
  const chosen = select.value;
  select.replaceChildren(h("option", { value: "", text: t("admin.choose") }));
  for (const item of items) select.append(h("option", { value: String(item.id), text: label(item) }));
  select.value = [...select.options].some((o) => o.value === chosen) ? chosen : "";
}

function renderTeachingChoices() {
  const name = (item) => String(item.name || item.display_name || item.id);
  fillSelect(byId("teaching-teacher"), data.teachers, name);
  fillSelect(byId("teaching-class"), data.classes, name);
  fillSelect(byId("teaching-subject"), data.subjects, name);
}

/** The subjects' list; they are choices for teaching too. */
function renderSubjects() {
  byId("subjects").replaceChildren(...data.subjects.map((s) => h("li", { text: s.name })));
  byId("subjects-empty").hidden = data.subjects.length > 0;
  renderTeachingChoices();
}

function renderTeaching() {
  const rows = data.teaching.map((a) =>
    h(
      "tr",
      {},
      h("th", { scope: "row", text: a.teacher_name || nameOf(data.teachers, a.teacher_id) }),
      h("td", { text: a.class_name || nameOf(data.classes, a.class_id) }),
      h("td", { text: a.subject_name || a.subject || nameOf(data.subjects, a.subject_id) }),
    ),
  );
  byId("teaching").replaceChildren(...rows);
  byId("teaching-table").hidden = data.teaching.length === 0;
}

export async function loadSubjects() {
  data.subjects = await adminApi.subjects();
  renderSubjects();
}

/** Loads the teachers, classes and teaching (after an import too: new classes can be chosen). */
export async function loadTeaching() {
  const answer = await adminApi.teaching();
  data.teachers = answer.teachers || [];
  data.classes = answer.classes || [];
  data.teaching = answer.teaching || [];
  renderTeachingChoices();
  renderTeaching();
}

/** Redraws the subjects, the choices and the teaching (for a new language). */
export function renderTeachingPart() {
  renderSubjects();
  renderTeaching();
}

export function wireSubjects() {
  const form = /** @type {HTMLFormElement} */ (byId("subject-form"));
  wireForm(form, async () => {
    const subject = await adminApi.createSubject(fieldValue(form, "name"));
    data.subjects = withItem(data.subjects, subject);
    renderSubjects();
    form.reset();
    announce(t("admin.subject_created", { name: subject.name }));
    return byId("subject-name");
  });
}

export function wireTeaching() {
  const form = /** @type {HTMLFormElement} */ (byId("teaching-form"));
  const pick = (name) => {
    const value = fieldValue(form, name);
    return value ? Number(value) : null;
  };
  wireForm(form, async () => {
    const chosen = {
      teacher_id: pick("teacher_id"),
      class_id: pick("class_id"),
      subject_id: pick("subject_id"),
    };
    const answer = await adminApi.teach(chosen.teacher_id, chosen.class_id, chosen.subject_id);
    data.teaching = [...data.teaching, answer.teaching || chosen];
    renderTeaching();
    announce(
      t("admin.teaching_created", {
        teacher: nameOf(data.teachers, chosen.teacher_id),
        class: nameOf(data.classes, chosen.class_id),
        subject: nameOf(data.subjects, chosen.subject_id),
      }),
    );
  });
}
