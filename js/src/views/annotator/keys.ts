// Keyboard shortcuts of the annotator: its actions; their keys (defaults and the user's own)
// live in views/shortcuts.ts, shown in the help list and the tool tips.

import { ACTIONS, actionIn, displayKey, keyName, keysOf, type KeyLike } from "../shortcuts";

export type Action =
  | "tool:select" | "tool:box" | "tool:polygon" | "tool:brush" | "tool:eraser" | "tool:pan"
  | "next" | "previous" | "next-frame" | "previous-frame" | "undo" | "redo" | "delete" | "escape" | "close-polygon"
  | "brush-smaller" | "brush-bigger" | "zoom-in" | "zoom-out" | "zoom-fit"
  | "accept" | "focus-label" | "focus-class" | "focus-caption" | "toggle-mask-kind"
  | "toggle-color" | `label:${number}`;

export type { KeyLike } from "../shortcuts";

/** The annotator's shortcuts as the help list shows them: keys, action, what it does. Follows
 * the user's customised bindings (views/shortcuts.ts). */
export function shortcutList(): [string, string][] {
  return ACTIONS.filter((a) => a.scope === "annotator").map((a) => {
    const keys = keysOf(a.id);
    const shown = a.id === "annotator.label" ? "1–9" : keys.map(displayKey).join(" / ");
    return [shown, a.label];
  });
}

/** The action of a key press, or null when the annotator does not handle it. */
export function actionFor(e: KeyLike): Action | null {
  const id = actionIn("annotator", e);
  if (!id || id === "annotator.pan-hold") return null;
  if (id === "annotator.label") return `label:${Number(keyName(e))}`;
  return id.slice("annotator.".length) as Action;
}
