// Layouts: the host picks a preset for everyone (the toolbar's select). The stage follows it
// (stage.js decides what is on it, stageview.js places it); the CSS class on #stage
// (layout-lecture, layout-discussion, layout-sharing, layout-chat_focus) sizes the regions.
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

export function setupLayout() {
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
