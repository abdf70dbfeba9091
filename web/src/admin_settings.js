// The admin page's school settings: the school's name, time zone, mark scale, the attendance
// rules, who may write privately to whom in lessons and who may record them (with the recordings' quota and
// retention), in one form that can be saved only once the server's values have filled it.
import { adminApi } from "./adminapi.js";
import { t } from "./i18n.js";
import { announce, byId } from "./dom.js";
import { wireForm } from "./admin_forms.js";

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
  "private_chat",
  "recording",
  "recording_quota_mb",
  "recording_retention_days",
];

function schoolForm() {
  return /** @type {HTMLFormElement} */ (byId("school-form"));
}

function inputOf(form, name) {
  return /** @type {HTMLInputElement} */ (form.elements.namedItem(name));
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

/** Fills the settings form; saving is possible only from then on (nothing typed is lost to it). */
function fillSchool(school) {
  const form = schoolForm();
  /** @type {HTMLButtonElement} */ (byId("school-save")).disabled = false;
  for (const name of SCHOOL_FIELDS) {
    const value = school ? school[name] : undefined;
    inputOf(form, name).value = value === undefined || value === null ? "" : String(value);
  }
}

export async function loadSchool() {
  fillSchool(await adminApi.school());
}

export function wireSchool() {
  const form = schoolForm();
  wireForm(form, async () => {
    const body = {};
    for (const name of SCHOOL_FIELDS) {
      const input = inputOf(form, name);
      body[name] = input.dataset.kind ? numberValue(input) : String(input.value).trim();
    }
    fillSchool(await adminApi.saveSchool(body));
    announce(t("admin.school_saved"));
  });
}
