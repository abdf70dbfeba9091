// The admin page's CSV import of classes and pupils: the chosen file is checked first (a dry run
// that reports broken lines), and only a file whose check found nothing can be imported. Both
// requests show their upload's progress; new pupils' one-time passwords are shown and offered as
// a CSV download.
import { adminApi } from "./adminapi.js";
import { has, t } from "./i18n.js";
import { busy, byId, clearError, focusOn, h, showError, showErrorText } from "./dom.js";

const MAX_CSV_BYTES = 1024 * 1024;

const upload = {
  /** @type {string|null} the chosen file's text */ text: null,
  /** the dry run of exactly this text found no problems */ checked: false,
};

/** @type {string|null} the object URL behind the passwords' download link */
let passwordsUrl = null;

/** Only a checked file can be imported: "Import" follows the check. */
function setChecked(checked) {
  upload.checked = checked;
  /** @type {HTMLButtonElement} */ (byId("import-run")).disabled = !checked;
}

function say(text) {
  byId("import-summary").textContent = text;
}

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
  setChecked(false);
  say("");
  renderReport([]);
  renderCreated(null);
}

/** Sends the file's text (a dry run or the import) with the form busy and the progress shown. */
async function send(dryRun) {
  const form = /** @type {HTMLFormElement} */ (byId("import-form"));
  const box = byId("import-progress-box");
  setProgress(0, 1);
  box.hidden = false;
  say(t(dryRun ? "admin.import_checking" : "admin.import_uploading"));
  try {
    const newClasses = /** @type {HTMLInputElement} */ (byId("import-new-classes")).checked;
    const teachers = /** @type {HTMLInputElement} */ (byId("import-teachers")).checked;
    const people = teachers ? "teachers" : "pupils";
    return await busy(form, () =>
      adminApi.importCsv(upload.text || "", { dryRun, newClasses, onUpload: setProgress, people }),
    );
  } finally {
    box.hidden = true;
  }
}

/** Runs a step of the import; a failure replaces the "Checking…"/"Uploading…" summary. */
async function step(fn) {
  try {
    await fn();
  } catch (e) {
    say("");
    showError(e);
  }
}

/** The file chosen for checking, or null (the reason is shown and focus goes to the file field). */
function chosenFile(input) {
  const file = input.files && input.files[0];
  let refusal = null;
  if (!file) refusal = "admin.import_no_file";
  else if (file.size > MAX_CSV_BYTES) refusal = "admin.import_too_large";
  if (!refusal) return file;
  showErrorText(t(refusal));
  focusOn(input);
  return null;
}

/** `onImported` runs after a successful import and before focus moves (its failure is shown). */
export function wireImport(onImported) {
  const input = /** @type {HTMLInputElement} */ (byId("import-file"));
  // A new file needs a new check; the file is read when checked, so the check and the import
  // send the same text.
  input.addEventListener("change", () => {
    clearError();
    resetImport();
    upload.text = null;
  });

  // The check is about the file and this choice together: a new choice needs a new check.
  for (const choice of ["import-new-classes", "import-pupils", "import-teachers"]) {
    byId(choice).addEventListener("change", () => {
      if (upload.checked) resetImport();
    });
  }

  byId("import-check").addEventListener("click", async () => {
    clearError();
    resetImport();
    const file = chosenFile(input);
    if (!file) return;
    await step(async () => {
      upload.text = await file.text();
      const report = await send(true);
      const lines = report.lines || [];
      renderReport(lines);
      setChecked(!!report.ok && lines.length === 0);
      renderCreated(upload.checked ? report.created : null);
      say(
        upload.checked
          ? t("admin.import_dry_ok")
          : t("admin.import_dry_errors", { count: lines.length }),
      );
      focusOn(upload.checked ? byId("import-run") : byId("import-report"));
    });
  });

  byId("import-run").addEventListener("click", async () => {
    clearError();
    if (!upload.checked) return;
    await step(async () => {
      const report = await send(false);
      setChecked(false);
      const lines = report.lines || [];
      renderReport(lines);
      renderCreated(report.created, report.passwords);
      say(
        report.ok && !lines.length
          ? t("admin.import_done")
          : t("admin.import_dry_errors", { count: lines.length }),
      );
      if (report.ok) {
        input.value = "";
        upload.text = null;
        await onImported();
      }
      focusOn(byId("import-title"));
    });
  });
}
