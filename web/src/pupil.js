// /journal/pupils/{id}: a pupil's connection over their latest lessons, for a teacher of their
// class — so a line that has been poor for three lessons in a row is seen and said in words.
import { journalApi } from "./journal_api.js";
import { onLanguageChange, t } from "./i18n.js";
import { byId, showError } from "./dom.js";
import { bootPage } from "./journal_common.js";
import { fillConnectionTable } from "./journal_connections.js";

const pupilId = (/^\/journal\/pupils\/(\d+)\/?$/.exec(window.location.pathname) || [])[1];
/** @type {any} */
let answer = null;

function render() {
  const name = answer.pupil.name;
  byId("pupil-title").textContent = t("conn.pupil_title", { name });
  document.title = `${t("conn.pupil_title", { name })} · Sabaq`;
  byId("pupil-class").textContent = t("conn.pupil_class", { class: answer.class_name });
  const mark = byId("pupil-mark");
  mark.hidden = !answer.poor_last_3;
  mark.textContent = answer.poor_last_3 ? t("conn.poor_last_3", { name }) : "";
  const fine = byId("pupil-fine");
  fine.hidden = answer.poor_last_3 || answer.lessons.length === 0;
  fine.textContent = t("conn.not_poor_last_3");
  byId("conn-empty").hidden = answer.lessons.length > 0;
  byId("conn-table").hidden = answer.lessons.length === 0;
  fillConnectionTable(byId("conn-table"), "pupil", answer.lessons);
}

async function main() {
  const user = await bootPage("teacher");
  if (!user) return;
  if (!pupilId) {
    showError({ code: "unknown_pupil" });
    byId("content").hidden = true;
    return;
  }
  try {
    answer = await journalApi.pupilConnections(pupilId);
  } catch (e) {
    showError(e);
    byId("content").hidden = true;
    return;
  }
  render();
  onLanguageChange(render);
}

main().catch((e) => {
  console.error(e); // eslint-disable-line no-console
});
