// The administrator's page (/admin): school settings and attendance rules, school years with
// periods, subjects, teaching assignments, the CSV import of classes and pupils (dry run first),
// and the outbox's dead letters with "Retry". The server judges every value; its sentence is
// shown next to the field it names.
import { api } from "./api.js";
import { adminApi } from "./adminapi.js";
import { errorText, has, initI18n, language, onLanguageChange, t } from "./i18n.js";
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
  showOnly,
  wireSignIn,
} from "./dom.js";

const SECTIONS = ["loading", "signin", "refused", "admin"];
const MAX_CSV_BYTES = 1024 * 1024;

/** @type {object|null} */
let user = null;
const data = {
  /** @type {object[]} */ years: [],
  /** @type {object[]} */ subjects: [],
  /** @type {object[]} */ teachers: [],
  /** @type {object[]} */ classes: [],
  /** @type {object[]} */ teaching: [],
  /** @type {object[]} */ dead: [],
};

// ---------------------------------------------------------------- field errors

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
function wireForm(form, save) {
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

/**
 * A number field's value for the server: a number when it is one, else the text as typed (an
 * emptied field too), so that the server refuses it with its own sentence.
 */
function numberValue(input) {
  const raw = String(input.value).trim();
  const n = Number(raw);
  return raw !== "" && Number.isFinite(n) ? n : raw;
}

// ---------------------------------------------------------------- formatting

function formatDate(text) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(text || ""));
  if (!m) return String(text || "");
  const date = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return new Intl.DateTimeFormat(language(), { dateStyle: "medium", timeZone: "UTC" }).format(date);
}

/** Unix seconds or an ISO string, as a local date and time. */
function formatMoment(value) {
  const date = typeof value === "number" ? new Date(value * 1000) : new Date(String(value));
  if (Number.isNaN(date.getTime())) return String(value ?? "");
  return new Intl.DateTimeFormat(language(), { dateStyle: "medium", timeStyle: "short" }).format(date);
}

function nameOf(list, id) {
  const found = list.find((item) => item.id === id);
  return found ? String(found.name || found.display_name || "") : String(id ?? "");
}

// ---------------------------------------------------------------- school settings

const SCHOOL_FIELDS = [
  "name",
  "timezone",
  "mark_min",
  "mark_max",
  "present_ratio",
  "late_after_min",
  "left_early_min",
  "reconnect_grace_s",
  "finalise_grace_min",
];

/** Fills the settings form; saving is possible only from then on (nothing typed is lost to it). */
function fillSchool(school) {
  const form = /** @type {HTMLFormElement} */ (byId("school-form"));
  /** @type {HTMLButtonElement} */ (byId("school-save")).disabled = false;
  for (const name of SCHOOL_FIELDS) {
    const input = /** @type {HTMLInputElement} */ (form.elements.namedItem(name));
    const value = school ? school[name] : undefined;
    input.value = value === undefined || value === null ? "" : String(value);
  }
}

function wireSchool() {
  const form = /** @type {HTMLFormElement} */ (byId("school-form"));
  wireForm(form, async () => {
    const body = {};
    for (const name of SCHOOL_FIELDS) {
      const input = /** @type {HTMLInputElement} */ (form.elements.namedItem(name));
      body[name] = input.dataset.kind ? numberValue(input) : String(input.value).trim();
    }
    fillSchool(await adminApi.saveSchool(body));
    announce(t("admin.school_saved"));
  });
}

// ---------------------------------------------------------------- years and periods

function renderYears() {
  const rows = data.years.map((year) =>
    h(
      "tr",
      {},
      h("th", { scope: "row", text: year.name }),
      h("td", { text: formatDate(year.starts_on) }),
      h("td", { text: formatDate(year.ends_on) }),
      h(
        "td",
        {},
        (year.periods || []).length
          ? h(
              "ul",
              { class: "plain-list" },
              ...(year.periods || []).map((p) =>
                h("li", {
                  text: t("admin.period_span", {
                    name: p.name,
                    from: formatDate(p.starts_on),
                    to: formatDate(p.ends_on),
                  }),
                }),
              ),
            )
          : h("span", { class: "muted", text: t("admin.no_periods") }),
      ),
    ),
  );
  byId("years").replaceChildren(...rows);
  byId("years-table").hidden = data.years.length === 0;
  byId("years-empty").hidden = data.years.length > 0;
}

/** Renumbers the period rows (labels, ids and data-path follow the row's place). */
function renumberPeriods() {
  const rows = [...byId("period-rows").children];
  rows.forEach((row, index) => {
    const n = index + 1;
    row.querySelector("legend").textContent = t("admin.period_number", { n });
    for (const input of row.querySelectorAll("input")) {
      const key = input.dataset.key;
      input.id = `period-${index}-${key}`;
      input.dataset.path = `periods.${index}.${key}`;
      input.setAttribute("aria-describedby", `period-${index}-error`);
      const label = row.querySelector(`label[data-key="${key}"]`);
      label.htmlFor = input.id;
      label.textContent = t(`admin.period_${key}`);
    }
    row.querySelector(".field-error").id = `period-${index}-error`;
    const remove = row.querySelector("button");
    remove.textContent = t("admin.period_remove");
    remove.setAttribute("aria-label", t("admin.period_remove_label", { n }));
  });
}

function addPeriodRow() {
  const input = (key, type) =>
    h("input", { type, name: `period_${key}`, "data-key": key, autocomplete: "off", maxlength: 64 });
  const field = (key, type) =>
    h("div", { class: "field" }, h("label", { "data-key": key }), input(key, type));
  const row = h(
    "li",
    { class: "period-row" },
    h(
      "fieldset",
      { class: "field" },
      h("legend"),
      h("div", { class: "row" }, field("name", "text"), field("starts_on", "date"), field("ends_on", "date")),
      h("p", { class: "field-error", hidden: true }),
    ),
  );
  const remove = h("button", { type: "button", class: "small danger" });
  remove.addEventListener("click", () => {
    const list = byId("period-rows");
    const index = [...list.children].indexOf(row);
    row.remove();
    renumberPeriods();
    const next = list.children[Math.min(index, list.children.length - 1)];
    focusOn(next ? next.querySelector("input") : byId("period-add"));
  });
  row.querySelector(".row").append(remove);
  byId("period-rows").append(row);
  renumberPeriods();
  return row;
}

function periodsOf(form) {
  const periods = [];
  for (const row of form.querySelectorAll(".period-row")) {
    const value = (key) => String(row.querySelector(`input[data-key="${key}"]`).value).trim();
    periods.push({ name: value("name"), starts_on: value("starts_on"), ends_on: value("ends_on") });
  }
  return periods;
}

function wireYears() {
  const form = /** @type {HTMLFormElement} */ (byId("year-form"));
  byId("period-add").setAttribute("data-path", "periods");
  byId("period-add").setAttribute("aria-describedby", "periods-error");
  byId("period-add").addEventListener("click", () => focusOn(addPeriodRow().querySelector("input")));
  wireForm(form, async () => {
    const body = {
      name: fieldValue(form, "name"),
      starts_on: fieldValue(form, "starts_on"),
      ends_on: fieldValue(form, "ends_on"),
      periods: periodsOf(form),
    };
    const year = await adminApi.createYear(body);
    data.years = [...data.years.filter((y) => y.id !== year.id), year];
    renderYears();
    form.reset();
    byId("period-rows").replaceChildren();
    announce(t("admin.year_created", { name: year.name }));
    return byId("year-name");
  });
}

// ---------------------------------------------------------------- subjects

function renderSubjects() {
  byId("subjects").replaceChildren(...data.subjects.map((s) => h("li", { text: s.name })));
  byId("subjects-empty").hidden = data.subjects.length > 0;
  renderTeachingChoices();
}

function wireSubjects() {
  const form = /** @type {HTMLFormElement} */ (byId("subject-form"));
  wireForm(form, async () => {
    const subject = await adminApi.createSubject(fieldValue(form, "name"));
    data.subjects = [...data.subjects.filter((s) => s.id !== subject.id), subject];
    renderSubjects();
    form.reset();
    announce(t("admin.subject_created", { name: subject.name }));
    return byId("subject-name");
  });
}

// ---------------------------------------------------------------- teaching

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

function wireTeaching() {
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

// ---------------------------------------------------------------- CSV import

const upload = {
  /** @type {string|null} the chosen file's text */ text: null,
  /** the dry run of exactly this text found no problems */ checked: false,
};

function setProgress(sent, total) {
  const bar = /** @type {HTMLProgressElement} */ (byId("import-progress"));
  if (total > 0) bar.value = Math.round((100 * sent) / total);
  else bar.removeAttribute("value"); // unknown size: an indeterminate bar
}

function renderReport(lines) {
  const rows = lines.map((l) =>
    h("tr", {}, h("th", { scope: "row", text: String(l.line) }), h("td", { text: String(l.error) })),
  );
  byId("import-lines").replaceChildren(...rows);
  byId("import-report").hidden = lines.length === 0;
}

/** @type {string|null} the object URL behind the passwords' download link */
let passwordsUrl = null;

/** The passwords are shown once: a CSV download lets the admin keep them for the pupils. */
function offerPasswords(passwords) {
  const link = /** @type {HTMLAnchorElement} */ (byId("import-passwords-save"));
  if (passwordsUrl) URL.revokeObjectURL(passwordsUrl);
  passwordsUrl = null;
  link.hidden = passwords.length === 0;
  link.removeAttribute("href");
  if (!passwords.length) return;
  const cell = (value) => `"${String(value).replaceAll('"', '""')}"`;
  const lines = ["login,password", ...passwords.map((p) => `${cell(p.login)},${cell(p.password)}`)];
  passwordsUrl = URL.createObjectURL(new Blob([`${lines.join("\r\n")}\r\n`], { type: "text/csv" }));
  link.href = passwordsUrl;
}

/** What an import made (or would make): counts and class names, and new pupils' passwords. */
function renderCreated(created, passwords = []) {
  const items = [];
  for (const [key, value] of Object.entries(created || {})) {
    const label = has(`admin.created_${key}`) ? t(`admin.created_${key}`) : key;
    const text = Array.isArray(value) ? (value.length ? value.join(", ") : "–") : String(value);
    items.push(h("li", { text: `${label}: ${text}` }));
  }
  const rows = (passwords || []).map((p) =>
    h("tr", {}, h("th", { scope: "row", text: p.login }), h("td", {}, h("code", { text: p.password }))),
  );
  byId("import-created-list").replaceChildren(...items);
  byId("import-password-rows").replaceChildren(...rows);
  offerPasswords(passwords || []);
  byId("import-passwords").hidden = rows.length === 0;
  byId("import-created").hidden = items.length === 0 && rows.length === 0;
}

function resetImport() {
  upload.checked = false;
  byId("import-run").disabled = true;
  byId("import-summary").textContent = "";
  renderReport([]);
  renderCreated(null);
}

async function send(dryRun) {
  const form = /** @type {HTMLFormElement} */ (byId("import-form"));
  const box = byId("import-progress-box");
  setProgress(0, 1);
  box.hidden = false;
  byId("import-summary").textContent = t(dryRun ? "admin.import_checking" : "admin.import_uploading");
  try {
    const newClasses = /** @type {HTMLInputElement} */ (byId("import-new-classes")).checked;
    return await busy(form, () =>
      adminApi.importCsv(upload.text || "", { dryRun, newClasses, onUpload: setProgress }),
    );
  } finally {
    box.hidden = true;
  }
}

function wireImport() {
  const input = /** @type {HTMLInputElement} */ (byId("import-file"));
  // A new file needs a new check; the file is read when checked, so the check and the import
  // send the same text.
  input.addEventListener("change", () => {
    clearError();
    resetImport();
    upload.text = null;
  });

  // The check is about the file and this choice together: a new choice needs a new check.
  byId("import-new-classes").addEventListener("change", () => {
    if (upload.checked) resetImport();
  });

  byId("import-check").addEventListener("click", async () => {
    clearError();
    resetImport();
    const file = input.files && input.files[0];
    if (!file) {
      showErrorText(t("admin.import_no_file"));
      focusOn(input);
      return;
    }
    if (file.size > MAX_CSV_BYTES) {
      showErrorText(t("admin.import_too_large"));
      focusOn(input);
      return;
    }
    try {
      upload.text = await file.text();
      const report = await send(true);
      const lines = report.lines || [];
      renderReport(lines);
      upload.checked = !!report.ok && lines.length === 0;
      byId("import-run").disabled = !upload.checked;
      renderCreated(upload.checked ? report.created : null);
      byId("import-summary").textContent = upload.checked
        ? t("admin.import_dry_ok")
        : t("admin.import_dry_errors", { count: lines.length });
      focusOn(upload.checked ? byId("import-run") : byId("import-report"));
    } catch (e) {
      byId("import-summary").textContent = "";
      showError(e);
    }
  });

  byId("import-run").addEventListener("click", async () => {
    clearError();
    if (!upload.checked) return;
    try {
      const report = await send(false);
      upload.checked = false;
      byId("import-run").disabled = true;
      const lines = report.lines || [];
      renderReport(lines);
      renderCreated(report.created, report.passwords);
      byId("import-summary").textContent =
        report.ok && !lines.length
          ? t("admin.import_done")
          : t("admin.import_dry_errors", { count: lines.length });
      if (report.ok) {
        input.value = "";
        upload.text = null;
        await loadTeachingChoices(); // new classes are choices for teaching now
      }
      focusOn(byId("import-title"));
    } catch (e) {
      byId("import-summary").textContent = "";
      showError(e);
    }
  });
}

// ---------------------------------------------------------------- dead letters

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
      const index = data.dead.indexOf(record);
      data.dead = data.dead.filter((r) => r !== record);
      renderDead();
      announce(t("admin.retried", { record: record.key }));
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

function renderDead() {
  byId("dead").replaceChildren(...data.dead.map(deadRow));
  byId("dead-table").hidden = data.dead.length === 0;
  byId("dead-empty").hidden = data.dead.length > 0;
}

async function loadDead() {
  data.dead = await adminApi.deadLetters();
  renderDead();
}

function wireDead() {
  const refresh = /** @type {HTMLButtonElement} */ (byId("dead-refresh"));
  refresh.addEventListener("click", async () => {
    clearError();
    refresh.disabled = true;
    try {
      await loadDead();
      announce(t("admin.dead_count", { count: data.dead.length }));
    } catch (e) {
      showError(e);
    } finally {
      refresh.disabled = false;
    }
  });
}

// ---------------------------------------------------------------- page

async function loadTeachingChoices() {
  const answer = await adminApi.teaching();
  data.teachers = answer.teachers || [];
  data.classes = answer.classes || [];
  data.teaching = answer.teaching || [];
  renderTeachingChoices();
  renderTeaching();
}

function renderAll() {
  renderYears();
  renderSubjects();
  renderTeaching();
  renderDead();
  const rows = byId("period-rows");
  if (rows.children.length) renumberPeriods();
}

async function showAdmin() {
  showOnly(SECTIONS, "admin");
  // Each part loads on its own: one failing endpoint leaves the others usable.
  const parts = [
    adminApi.school().then(fillSchool),
    adminApi.years().then((years) => {
      data.years = years;
      renderYears();
    }),
    adminApi.subjects().then((subjects) => {
      data.subjects = subjects;
      renderSubjects();
    }),
    loadTeachingChoices(),
    loadDead(),
  ];
  for (const result of await Promise.allSettled(parts)) {
    if (result.status === "rejected") showError(result.reason);
  }
}

async function showFor(signedIn) {
  user = signedIn;
  for (const el of document.querySelectorAll(".user-name")) {
    el.textContent = user ? user.display_name : "";
  }
  if (!user) {
    showOnly(SECTIONS, "signin");
    return;
  }
  if (user.must_change_password) {
    // The home page asks for the new password first; then the admin comes back here.
    window.location.assign("/");
    return;
  }
  if (user.kind !== "admin") {
    showOnly(SECTIONS, "refused");
    return;
  }
  await showAdmin();
}

function wire() {
  wireSignIn(async (login, password, form) => {
    const signedIn = await api.signIn(login, password);
    form.reset();
    await showFor(signedIn);
    focusOn(byId(signedIn.kind === "admin" ? "admin-title" : "refused-title"));
  });
  for (const button of document.querySelectorAll(".signout")) {
    button.addEventListener("click", async () => {
      clearError();
      try {
        await api.signOut();
      } catch (e) {
        showError(e);
        return;
      }
      await showFor(null);
      focusOn(byId("signin-title"));
    });
  }
  wireSchool();
  wireYears();
  wireSubjects();
  wireTeaching();
  wireImport();
  wireDead();
  onLanguageChange(() => {
    if (user && user.kind === "admin") {
      renderAll();
      renderTeachingChoices();
    }
  });
}

async function main() {
  await initI18n();
  wire();
  let signedIn = null;
  try {
    signedIn = await api.me();
  } catch (e) {
    showError(e);
  }
  await showFor(signedIn);
}

main().catch((e) => {
  console.error(e); // eslint-disable-line no-console
});
