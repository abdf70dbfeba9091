// The administrator's page (/admin), its entry: sign-in, the refusal for anyone but an admin, and
// the wiring of its parts — school settings and attendance rules (admin_settings.js), school years
// with periods (admin_years.js), subjects and teaching (admin_teaching.js), the CSV import with its
// dry run (admin_import.js), people and their sessions (admin_people.js), the outbox's dead letters
// with "Retry" (admin_outbox.js) and the audit log of changes to accounts (admin_audit.js). The
// server judges every value; its sentence is shown next to the field it names (admin_forms.js).
import { api } from "./api.js";
import { initI18n, onLanguageChange } from "./i18n.js";
import { byId, clearError, focusOn, showError, showOnly, wireSignIn } from "./dom.js";
import { loadSchool, wireSchool } from "./admin_settings.js";
import { loadYears, renderYearsPart, wireYears } from "./admin_years.js";
import {
  loadSubjects,
  loadTeaching,
  renderTeachingPart,
  wireSubjects,
  wireTeaching,
} from "./admin_teaching.js";
import { wireImport } from "./admin_import.js";
import { loadDead, renderDead, wireDead } from "./admin_outbox.js";
import { loadPeople, renderPeople, wirePeople } from "./admin_people.js";
import { loadAudit, renderAudit, wireAudit } from "./admin_audit.js";

const SECTIONS = ["loading", "signin", "refused", "admin"];

/** @type {object|null} */
let user = null;

async function showAdmin() {
  showOnly(SECTIONS, "admin");
  // Each part loads on its own: one failing endpoint leaves the others usable.
  const parts = [
    loadSchool(),
    loadYears(),
    loadSubjects(),
    loadTeaching(),
    loadPeople(),
    loadDead(),
    loadAudit(),
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
  // An import can add classes and teachers: they become choices for teaching, and people.
  wireImport(async () => {
    await Promise.all([loadTeaching(), loadPeople(), loadAudit()]);
  });
  wirePeople(async () => {
    await Promise.all([loadAudit(), loadTeaching()]);
  });
  wireDead();
  wireAudit();
  // Static labels follow their data-i18n keys by themselves; what is drawn here is drawn again.
  onLanguageChange(() => {
    if (user && user.kind === "admin") {
      renderYearsPart();
      renderTeachingPart();
      renderDead();
      renderPeople();
      renderAudit();
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
