// The admin page's people: every account (filtered by kind), adding a teacher or administrator,
// and for the chosen person a panel to rename, switch between teacher and administrator, move a
// pupil to another class, reset the password (a one-time one, shown once), disable or enable,
// and see and end their open sessions. `onChanged` runs after each change (the audit log).
import { api } from "./api.js";
import { adminApi } from "./adminapi.js";
import { language, t } from "./i18n.js";
import { announce, byId, clearError, fieldValue, focusOn, h, showError } from "./dom.js";
import { wireForm } from "./admin_forms.js";

const data = {
  /** @type {object[]} */ people: [],
  /** @type {object[]} */ classes: [],
  /** @type {object|null} the person the panel is about */ chosen: null,
  /** @type {object[]} the chosen person's open sessions */ sessions: [],
};
let onChanged = async () => {};

function formatMoment(seconds) {
  const date = new Date(seconds * 1000);
  return new Intl.DateTimeFormat(language(), { dateStyle: "medium", timeStyle: "short" }).format(date);
}

function stateText(person) {
  if (person.disabled) return t("people.state_disabled");
  return person.must_change_password ? t("people.state_one_time") : t("people.state_active");
}

/** Shows a one-time password once, with whose it is; focus goes to it. */
function showSecret(person, password) {
  byId("people-secret-text").textContent = t("people.secret", { name: person.display_name, login: person.login });
  byId("people-secret-password").textContent = password;
  const box = byId("people-secret");
  box.hidden = false;
  focusOn(box);
}

function personRow(person) {
  const manage = h("button", {
    type: "button",
    class: "small",
    text: t("people.manage"),
    "aria-label": t("people.manage_label", { name: person.display_name }),
    on: { click: () => choose(person) },
  });
  return h(
    "tr",
    { "data-login": person.login },
    h("th", { scope: "row", text: person.display_name }),
    h("td", {}, h("code", { text: person.login })),
    h("td", { text: t(`people.kind_${person.kind}`) }),
    h("td", { text: person.class_name || "" }),
    h("td", { text: stateText(person) }),
    h("td", {}, manage),
  );
}

export function renderPeople() {
  byId("people").replaceChildren(...data.people.map(personRow));
  renderPanel();
}

export async function loadPeople() {
  const kind = /** @type {HTMLSelectElement} */ (byId("people-kind")).value;
  const [people, classes] = await Promise.all([adminApi.users(kind || undefined), api.classes()]);
  data.people = people;
  data.classes = classes;
  if (data.chosen) data.chosen = data.people.find((p) => p.id === data.chosen.id) || data.chosen;
  renderPeople();
}

/** Puts the changed account in the list (and the panel) without asking for the list again. */
function replaced(person) {
  data.people = data.people.map((p) => (p.id === person.id ? person : p));
  if (data.chosen && data.chosen.id === person.id) data.chosen = person;
  renderPeople();
}

function sessionRow(session) {
  const end = h("button", {
    type: "button",
    class: "small",
    text: t("people.end"),
    "aria-label": t("people.end_label", { started: formatMoment(session.created_at) }),
    on: {
      click: async () => {
        clearError();
        try {
          await adminApi.endSession(data.chosen.id, session.id);
          announce(t("people.ended", { count: 1 }));
          await loadSessions();
          await onChanged();
          focusOn(byId("person-sessions-title"));
        } catch (e) {
          showError(e);
        }
      },
    },
  });
  return h(
    "tr",
    {},
    h("td", { text: formatMoment(session.created_at) }),
    h("td", { text: formatMoment(session.last_seen_at) }),
    h("td", { class: "dead-error", text: session.user_agent }),
    h("td", { text: session.address }),
    h("td", {}, end),
  );
}

function renderSessions() {
  byId("person-sessions").replaceChildren(...data.sessions.map(sessionRow));
  byId("person-sessions-table").hidden = data.sessions.length === 0;
  byId("person-sessions-empty").hidden = data.sessions.length > 0;
  /** @type {HTMLButtonElement} */ (byId("person-end-all")).disabled = data.sessions.length === 0;
}

async function loadSessions() {
  data.sessions = data.chosen ? await adminApi.sessions(data.chosen.id) : [];
  renderSessions();
}

function renderPanel() {
  const person = data.chosen;
  byId("person-panel").hidden = !person;
  if (!person) return;
  byId("person-title").textContent = t("people.manage_title", { name: person.display_name });
  const form = /** @type {HTMLFormElement} */ (byId("person-form"));
  const name = /** @type {HTMLInputElement} */ (byId("person-name"));
  if (form.dataset.for !== String(person.id)) {
    form.dataset.for = String(person.id);
    name.value = person.display_name;
  }
  const pupil = person.kind === "pupil";
  byId("person-kind-field").hidden = pupil;
  byId("person-class-field").hidden = !pupil;
  /** @type {HTMLSelectElement} */ (byId("person-kind")).value = pupil ? "teacher" : person.kind;
  const classes = /** @type {HTMLSelectElement} */ (byId("person-class"));
  classes.replaceChildren(
    ...data.classes.map((c) => h("option", { value: String(c.id), text: c.name })),
  );
  classes.value = person.class_id ? String(person.class_id) : "";
  byId("person-disable").textContent = t(person.disabled ? "people.enable" : "people.disable");
  renderSessions();
}

async function choose(person) {
  clearError();
  data.chosen = person;
  byId("person-form").dataset.for = "";
  renderPanel();
  focusOn(byId("person-title"));
  try {
    await loadSessions();
  } catch (e) {
    showError(e);
  }
}

/** Runs one action of the panel: errors shown, the audit log refreshed after. */
async function act(button, fn) {
  clearError();
  button.disabled = true;
  try {
    await fn();
    await onChanged();
  } catch (e) {
    showError(e);
  } finally {
    button.disabled = false;
  }
}

export function wirePeople(changed) {
  onChanged = changed;
  byId("people-kind").addEventListener("change", async () => {
    clearError();
    try {
      await loadPeople();
    } catch (e) {
      showError(e);
    }
  });

  const addForm = /** @type {HTMLFormElement} */ (byId("person-new-form"));
  wireForm(addForm, async () => {
    const made = await adminApi.addUser(
      fieldValue(addForm, "login"),
      fieldValue(addForm, "display_name"),
      fieldValue(addForm, "kind"),
    );
    addForm.reset();
    await loadPeople();
    await onChanged();
    showSecret(made.user, made.password);
    return null;
  });

  const editForm = /** @type {HTMLFormElement} */ (byId("person-form"));
  wireForm(editForm, async () => {
    const person = data.chosen;
    const patch = { display_name: fieldValue(editForm, "display_name") };
    if (person.kind === "pupil") {
      const classId = Number(fieldValue(editForm, "class_id"));
      if (classId && classId !== person.class_id) patch.class_id = classId;
    } else {
      patch.kind = fieldValue(editForm, "kind");
    }
    replaced(await adminApi.editUser(person.id, patch));
    announce(t("people.saved", { name: data.chosen.display_name }));
    await onChanged();
    return byId("person-title");
  });

  const reset = /** @type {HTMLButtonElement} */ (byId("person-reset"));
  reset.addEventListener("click", () =>
    act(reset, async () => {
      const made = await adminApi.resetPassword(data.chosen.id);
      replaced(made.user);
      await loadSessions();
      showSecret(made.user, made.password);
    }),
  );

  const disable = /** @type {HTMLButtonElement} */ (byId("person-disable"));
  disable.addEventListener("click", () =>
    act(disable, async () => {
      const person = await adminApi.editUser(data.chosen.id, { disabled: !data.chosen.disabled });
      replaced(person);
      await loadSessions();
      announce(t(person.disabled ? "people.disabled" : "people.enabled", { name: person.display_name }));
      focusOn(disable);
    }),
  );

  const endAll = /** @type {HTMLButtonElement} */ (byId("person-end-all"));
  endAll.addEventListener("click", () =>
    act(endAll, async () => {
      const answer = await adminApi.endSessions(data.chosen.id);
      await loadSessions();
      announce(t("people.ended", { count: answer.ended ?? 0 }));
      focusOn(byId("person-sessions-title"));
    }),
  );

  byId("person-close").addEventListener("click", () => {
    const login = data.chosen ? data.chosen.login : null;
    data.chosen = null;
    renderPanel();
    const row = login ? document.querySelector(`#people tr[data-login="${CSS.escape(login)}"] button`) : null;
    focusOn(/** @type {HTMLElement} */ (row) || byId("people-title"));
  });
}
