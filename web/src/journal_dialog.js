// A confirmation in a modal <dialog>: focus goes to a chosen button when it opens, Escape
// cancels, and focus returns to the control that opened it when it closes.
import { byId } from "./dom.js";

/**
 * Wires the <dialog id=dialogId> whose form has method="dialog"; its submit buttons' values
 * say the choice. `onChoice(value)` runs after it closed ("" when cancelled with Escape).
 */
export function wireDialog(dialogId, openerId, onChoice) {
  const dialog = /** @type {HTMLDialogElement} */ (byId(dialogId));
  dialog.addEventListener("close", () => {
    const opener = document.getElementById(openerId);
    const choice = dialog.returnValue;
    // The choice may hide the opener (a started lesson has no Start button): focus then
    // moves on in onChoice.
    if (opener && !opener.hidden) opener.focus();
    onChoice(choice);
  });
  return {
    /** Opens the dialog modally with focus on the button `focusId`. */
    open(focusId) {
      dialog.returnValue = "";
      dialog.showModal();
      const target = document.getElementById(focusId);
      if (target) target.focus();
    },
  };
}
