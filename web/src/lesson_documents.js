// The documents shared in a lesson's room, listed with their lesson (journal page and diary):
// each opens by the lesson's own address, for its teacher and, after the lesson, its class.
import { h } from "./dom.js";
import { t } from "./i18n.js";
import { formatTime } from "./journal_common.js";

/** A link that opens (or downloads) one of the lesson's documents. */
export function documentLink(doc) {
  return h("a", {
    href: doc.url,
    "aria-label": t("doc.open", { name: doc.name }),
    "data-testid": "lesson-document",
    text: doc.name,
  });
}

/** What kind of document it is, in words: its type and, for pages, how many. */
export function documentKind(doc) {
  const kind = String(doc.kind || "").toUpperCase();
  return doc.shown_as === "pages" && doc.pages ? `${kind} · ${t("doc.pages_count", { pages: doc.pages })}` : kind;
}

/** Fills the lesson page's table of documents (#documents). */
export function renderLessonDocuments(list) {
  const docs = Array.isArray(list) ? list : [];
  const table = document.getElementById("documents-table");
  const empty = document.getElementById("documents-empty");
  const body = document.getElementById("documents");
  if (!table || !empty || !body) return;
  table.hidden = docs.length === 0;
  empty.hidden = docs.length > 0;
  body.replaceChildren(
    ...docs.map((d) =>
      h(
        "tr",
        {},
        h("td", {}, documentLink(d)),
        h("td", { text: documentKind(d) }),
        h("td", { text: `${d.uploaded_by} · ${formatTime(d.uploaded_at)}` }),
      ),
    ),
  );
}
