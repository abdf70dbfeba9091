// The lesson page's guest log: everyone in the lesson's room who is not a pupil of its class or
// its teacher. They never become pupils' records; the teacher still sees who visited.
import { t } from "./i18n.js";
import { byId, h } from "./dom.js";
import { formatTime } from "./journal_common.js";
import { data } from "./journal_lesson_state.js";

export function renderGuests() {
  const guests = data.guests;
  byId("guests-empty").hidden = guests.length > 0;
  byId("guests-table").hidden = guests.length === 0;
  byId("guests").replaceChildren(
    ...guests.map((visit) =>
      h(
        "tr",
        {},
        h("th", { scope: "row", text: visit.name }),
        h("td", { text: visit.institution || "—" }),
        h("td", { text: t(`journal.guest_kind_${visit.kind}`) }),
        h("td", { text: formatTime(visit.joined_at) }),
        h("td", {
          text: visit.left_at === null ? t("journal.guest_still_in") : formatTime(visit.left_at),
        }),
      ),
    ),
  );
}
