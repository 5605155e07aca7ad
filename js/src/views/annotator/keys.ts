// Keyboard shortcuts of the annotator: one table, shown in the help line and the tool tips.

export type Action =
  | "tool:select" | "tool:box" | "tool:polygon" | "tool:brush" | "tool:eraser" | "tool:pan"
  | "next" | "previous" | "next-frame" | "previous-frame" | "undo" | "redo" | "delete" | "escape" | "close-polygon"
  | "brush-smaller" | "brush-bigger" | "zoom-in" | "zoom-out" | "zoom-fit"
  | "accept" | "focus-label" | "focus-class" | "focus-caption" | "toggle-mask-kind"
  | "toggle-color" | `label:${number}`;

export interface KeyLike {
  key: string;
  ctrlKey?: boolean;
  metaKey?: boolean;
  shiftKey?: boolean;
  altKey?: boolean;
}

export const SHORTCUTS: [string, Action, string][] = [
  ["V", "tool:select", "select / move / resize"],
  ["R", "tool:box", "box"],
  ["P", "tool:polygon", "polygon"],
  ["B", "tool:brush", "brush"],
  ["E", "tool:eraser", "eraser"],
  ["H", "tool:pan", "pan (or hold Space)"],
  ["→ / D", "next", "next sample"],
  ["← / A", "previous", "previous sample"],
  [". / Alt+→", "next-frame", "next frame of the video"],
  [", / Alt+←", "previous-frame", "previous frame of the video"],
  ["Ctrl+Z", "undo", "undo"],
  ["Ctrl+Shift+Z / Ctrl+Y", "redo", "redo"],
  ["Del", "delete", "delete selected"],
  ["Enter", "close-polygon", "close polygon"],
  ["Esc", "escape", "cancel / deselect"],
  ["[ / ]", "brush-smaller", "brush size"],
  ["+ / - / 0", "zoom-in", "zoom in / out / fit"],
  ["Y", "accept", "accept selected prediction"],
  ["L", "focus-label", "class name field"],
  ["C", "focus-class", "add image class"],
  ["T", "focus-caption", "add caption"],
  ["M", "toggle-mask-kind", "instance / semantic masks"],
  ["S", "toggle-color", "colour by source / class"],
  ["1–9", "label:1", "pick class n"],
];

/** The action of a key press, or null when the annotator does not handle it. */
export function actionFor(e: KeyLike): Action | null {
  const mod = !!(e.ctrlKey || e.metaKey);
  const k = e.key.length === 1 ? e.key.toLowerCase() : e.key;
  if (mod) {
    if (k === "z") return e.shiftKey ? "redo" : "undo";
    if (k === "y") return "redo";
    return null;
  }
  if (e.altKey) {
    if (k === "ArrowRight") return "next-frame";
    if (k === "ArrowLeft") return "previous-frame";
    return null;
  }
  switch (k) {
    case ".": return "next-frame";
    case ",": return "previous-frame";
    case "v": return "tool:select";
    case "r": return "tool:box";
    case "p": return "tool:polygon";
    case "b": return "tool:brush";
    case "e": return "tool:eraser";
    case "h": return "tool:pan";
    case "ArrowRight": case "d": case "PageDown": return "next";
    case "ArrowLeft": case "a": case "PageUp": return "previous";
    case "Delete": case "Backspace": return "delete";
    case "Escape": return "escape";
    case "Enter": return "close-polygon";
    case "[": return "brush-smaller";
    case "]": return "brush-bigger";
    case "+": case "=": return "zoom-in";
    case "-": case "_": return "zoom-out";
    case "0": return "zoom-fit";
    case "y": return "accept";
    case "l": return "focus-label";
    case "c": return "focus-class";
    case "t": return "focus-caption";
    case "m": return "toggle-mask-kind";
    case "s": return "toggle-color";
  }
  if (/^[1-9]$/.test(k)) return `label:${Number(k)}`;
  return null;
}
