// The admin page's school years: the table of years with their periods, and the form that adds a
// year with any number of period rows (each row's labels, ids and error node follow its place, so
// the server's "periods.1.ends_on" lands next to the right field).
import { adminApi } from "./adminapi.js";
import { language, t } from "./i18n.js";
import { announce, byId, fieldValue, focusOn, h } from "./dom.js";
import { wireForm, withItem } from "./admin_forms.js";

/** @type {object[]} the school years as the server lists them */
let years = [];

/** "2025-09-01" in the page's language; the date is a calendar day, so UTC keeps it that day. */
function formatDate(text) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(text || ""));
  if (!m) return String(text || "");
  const date = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return new Intl.DateTimeFormat(language(), { dateStyle: "medium", timeZone: "UTC" }).format(date);
}

function periodList(periods) {
  if (!periods.length) return h("span", { class: "muted", text: t("admin.no_periods") });
  return h(
    "ul",
    { class: "plain-list" },
    ...periods.map((p) =>
      h("li", {
        text: t("admin.period_span", {
          name: p.name,
          from: formatDate(p.starts_on),
          to: formatDate(p.ends_on),
        }),
      }),
    ),
  );
}

function renderYears() {
  const rows = years.map((year) =>
    h(
      "tr",
      {},
      h("th", { scope: "row", text: year.name }),
      h("td", { text: formatDate(year.starts_on) }),
      h("td", { text: formatDate(year.ends_on) }),
      h("td", {}, periodList(year.periods || [])),
    ),
  );
  byId("years").replaceChildren(...rows);
  byId("years-table").hidden = years.length === 0;
  byId("years-empty").hidden = years.length > 0;
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
    // Focus stays in the list (the row that took this one's place), else goes to "Add a period".
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

export async function loadYears() {
  years = await adminApi.years();
  renderYears();
}

/** Redraws the years and the period rows being typed (for a new language). */
export function renderYearsPart() {
  renderYears();
  if (byId("period-rows").children.length) renumberPeriods();
}

export function wireYears() {
  const form = /** @type {HTMLFormElement} */ (byId("year-form"));
  const add = byId("period-add");
  // A refusal about the periods as a whole (overlapping, outside the year) is shown next to
  // "Add a period".
  add.setAttribute("data-path", "periods");
  add.setAttribute("aria-describedby", "periods-error");
  add.addEventListener("click", () => focusOn(addPeriodRow().querySelector("input")));
  wireForm(form, async () => {
    const body = {
      name: fieldValue(form, "name"),
      starts_on: fieldValue(form, "starts_on"),
      ends_on: fieldValue(form, "ends_on"),
      periods: periodsOf(form),
    };
    const year = await adminApi.createYear(body);
    years = withItem(years, year);
    renderYears();
    form.reset();
    byId("period-rows").replaceChildren();
    announce(t("admin.year_created", { name: year.name }));
    return byId("year-name");
  });
}
