// Layouts: the host picks a preset for everyone (the toolbar's select). The stage follows it
// (stage.js decides what is on it, stageview.js places it); the CSS class on #stage
// (layout-lecture, layout-discussion, layout-sharing, layout-chat_focus) sizes the regions.
// On a narrow screen the choice moves into the More menu: with it the host's toolbar did not
// fit a 390 px phone.
import { byId, clearError, showError } from "./dom.js";
import { LAYOUTS } from "./protocol.js";
import { isHost, state } from "./shared.js";
import { layoutChanged } from "./panels.js";
import { arrangeStage } from "./stageview.js";

export function renderLayout() {
  const stage = byId("stage");
  for (const name of LAYOUTS) stage.classList.toggle(`layout-${name}`, name === state.layout);
  stage.dataset.layout = state.layout;
  byId("layout-control").hidden = !isHost();
  const select = /** @type {HTMLSelectElement} */ (byId("layout-select"));
  if (document.activeElement !== select) select.value = state.layout;
  arrangeStage();
}

// A layout the host chose is shown and read out to the others by notices.js.
function setLocal(layout) {
  if (!LAYOUTS.includes(layout)) return;
  const changed = layout !== state.layout;
  state.layout = layout;
  renderLayout();
  if (changed) layoutChanged(layout);
}

/** Narrow screens (the stylesheet's phone width): the layout choice lives in the More menu. */
const NARROW = window.matchMedia("(max-width: 48rem)");

function placeLayoutControl() {
  const control = byId("layout-control");
  const select = byId("layout-select");
  const hadFocus = document.activeElement === select;
  if (NARROW.matches) {
    if (control.parentElement !== byId("more-layout")) byId("more-layout").append(control);
  } else if (control.previousElementSibling !== byId("tool-polls")) {
    byId("tool-polls").after(control);
  }
  if (hadFocus) select.focus();
}

/** Focus the layout choice (key L), opening the More menu first where it lives there. */
export function focusLayout() {
  if (byId("layout-control").hidden) return;
  const menu = byId("more-menu");
  if (byId("more-layout").contains(byId("layout-control")) && !menu.matches(":popover-open")) {
    menu.showPopover();
  }
  byId("layout-select").focus();
}

export function setupLayout() {
  placeLayoutControl();
  NARROW.addEventListener("change", placeLayoutControl);
  const select = /** @type {HTMLSelectElement} */ (byId("layout-select"));
  select.addEventListener("change", async () => {
    clearError();
    const wanted = select.value;
    try {
      await state.conn.setLayout(wanted);
      setLocal(wanted);
    } catch (e) {
      showError(e);
      select.value = state.layout;
    }
  });
}

export function bindLayout(conn) {
  conn.on("room_state", (msg) => setLocal((msg.room && msg.room.layout) || "lecture"));
  conn.on("layout_changed", ({ layout }) => setLocal(layout));
}
