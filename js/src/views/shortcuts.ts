// Keyboard shortcuts of the views: one table of actions with their default keys, the user's
// customised keys on top (stored in the database through api `set_shortcuts`, read with
// `view_settings`), and the lookup every view's key handler goes through.
//
// An action belongs to a scope (the grid, the detail view, the annotator): a scope's handler
// only sees its own actions, so the same key may do different things in different scopes, but
// never two things in one. Keys are named as `keyName` writes them: a single character in
// lower case ("r", "+"), a DOM key name ("ArrowLeft", "Enter", " " for Space), with "Ctrl+",
// "Alt+" and "Shift+" in front ("Ctrl+z", "Ctrl+Shift+z"). Shift is part of a name only with
// Ctrl or Alt or a named key: "+" is Shift+= on many layouts and must stay "+".

import type { RpcClient } from "../transport/rpc";

export type Scope = "grid" | "detail" | "video" | "annotator";

export interface ShortcutAction {
  id: string;
  scope: Scope;
  label: string;
  keys: string[];
  /** Shown and checked for conflicts, but not customisable. */
  fixed?: boolean;
}

export const SCOPE_LABELS: Record<Scope, string> = { grid: "Grid", detail: "Detail view", video: "Video player", annotator: "Annotator" };

const DIGITS = ["1", "2", "3", "4", "5", "6", "7", "8", "9"];

export const ACTIONS: ShortcutAction[] = [
  { id: "grid.open", scope: "grid", label: "open the focused sample", keys: ["Enter"] },
  { id: "grid.toggle", scope: "grid", label: "select / unselect the focused sample", keys: [" "] },
  { id: "grid.clear", scope: "grid", label: "clear the selection", keys: ["Escape"] },
  { id: "grid.select-visible", scope: "grid", label: "select the samples in view", keys: ["Ctrl+a"] },
  { id: "grid.move", scope: "grid", label: "move the focus (Shift: extend the selection)", keys: ["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "PageUp", "PageDown", "Home", "End"], fixed: true },
  { id: "detail.close", scope: "detail", label: "close", keys: ["Escape"] },
  { id: "detail.previous", scope: "detail", label: "previous sample", keys: ["ArrowLeft"] },
  { id: "detail.next", scope: "detail", label: "next sample", keys: ["ArrowRight"] },
  { id: "detail.zoom-in", scope: "detail", label: "zoom in", keys: ["+", "="] },
  { id: "detail.zoom-out", scope: "detail", label: "zoom out", keys: ["-"] },
  { id: "detail.fit", scope: "detail", label: "fit the image", keys: ["0"] },
  { id: "detail.actual-size", scope: "detail", label: "actual size (1:1)", keys: ["1"] },
  // The video player has the keys while it has the focus (it takes the image's place in the
  // detail view); Escape and the rest still reach the detail view.
  { id: "video.play", scope: "video", label: "play / pause", keys: [" "] },
  { id: "video.next-frame", scope: "video", label: "next frame (hold: play forward)", keys: ["ArrowRight"] },
  { id: "video.previous-frame", scope: "video", label: "previous frame", keys: ["ArrowLeft"] },
  { id: "video.forward-10", scope: "video", label: "forward 10 frames", keys: ["Shift+ArrowRight"] },
  { id: "video.back-10", scope: "video", label: "back 10 frames", keys: ["Shift+ArrowLeft"] },
  { id: "video.annotate-frame", scope: "video", label: "annotate the frame shown", keys: ["e"] },
  { id: "annotator.tool:select", scope: "annotator", label: "select / move / resize", keys: ["v"] },
  { id: "annotator.tool:box", scope: "annotator", label: "box", keys: ["r"] },
  { id: "annotator.tool:polygon", scope: "annotator", label: "polygon", keys: ["p"] },
  { id: "annotator.tool:brush", scope: "annotator", label: "brush", keys: ["b"] },
  { id: "annotator.tool:eraser", scope: "annotator", label: "eraser", keys: ["e"] },
  { id: "annotator.tool:pan", scope: "annotator", label: "pan", keys: ["h"] },
  { id: "annotator.pan-hold", scope: "annotator", label: "pan while held", keys: [" "], fixed: true },
  { id: "annotator.next", scope: "annotator", label: "next sample", keys: ["ArrowRight", "d", "PageDown"] },
  { id: "annotator.previous", scope: "annotator", label: "previous sample", keys: ["ArrowLeft", "a", "PageUp"] },
  { id: "annotator.next-frame", scope: "annotator", label: "next frame of the video", keys: [".", "Alt+ArrowRight"] },
  { id: "annotator.previous-frame", scope: "annotator", label: "previous frame of the video", keys: [",", "Alt+ArrowLeft"] },
  { id: "annotator.undo", scope: "annotator", label: "undo", keys: ["Ctrl+z"] },
  { id: "annotator.redo", scope: "annotator", label: "redo", keys: ["Ctrl+Shift+z", "Ctrl+y"] },
  { id: "annotator.delete", scope: "annotator", label: "delete selected", keys: ["Delete", "Backspace"] },
  { id: "annotator.close-polygon", scope: "annotator", label: "close polygon", keys: ["Enter"] },
  { id: "annotator.escape", scope: "annotator", label: "cancel / deselect", keys: ["Escape"] },
  { id: "annotator.brush-smaller", scope: "annotator", label: "smaller brush", keys: ["["] },
  { id: "annotator.brush-bigger", scope: "annotator", label: "bigger brush", keys: ["]"] },
  { id: "annotator.zoom-in", scope: "annotator", label: "zoom in", keys: ["+", "="] },
  { id: "annotator.zoom-out", scope: "annotator", label: "zoom out", keys: ["-", "_"] },
  { id: "annotator.zoom-fit", scope: "annotator", label: "fit the image", keys: ["0"] },
  { id: "annotator.accept", scope: "annotator", label: "accept selected prediction", keys: ["y"] },
  { id: "annotator.focus-label", scope: "annotator", label: "class name field", keys: ["l"] },
  { id: "annotator.focus-class", scope: "annotator", label: "add image class", keys: ["c"] },
  { id: "annotator.focus-caption", scope: "annotator", label: "add caption", keys: ["t"] },
  { id: "annotator.toggle-mask-kind", scope: "annotator", label: "instance / semantic masks", keys: ["m"] },
  { id: "annotator.toggle-color", scope: "annotator", label: "colour by source / class", keys: ["s"] },
  { id: "annotator.label", scope: "annotator", label: "pick class n", keys: DIGITS, fixed: true },
];

const BY_ID = new Map(ACTIONS.map((a) => [a.id, a]));

export interface KeyLike {
  key: string;
  ctrlKey?: boolean;
  metaKey?: boolean;
  shiftKey?: boolean;
  altKey?: boolean;
}

/** The name of a key press (see the top of this file); Cmd counts as Ctrl. */
export function keyName(e: KeyLike): string {
  const ctrl = !!(e.ctrlKey || e.metaKey);
  const single = e.key.length === 1;
  const key = single ? e.key.toLowerCase() : e.key;
  const shift = !!e.shiftKey && (!single || ctrl || !!e.altKey);
  return `${ctrl ? "Ctrl+" : ""}${e.altKey ? "Alt+" : ""}${shift ? "Shift+" : ""}${key}`;
}

const ARROWS: Record<string, string> = { ArrowLeft: "←", ArrowRight: "→", ArrowUp: "↑", ArrowDown: "↓" };

/** A key name as people read it: "Ctrl+Shift+Z", "Space", "←". */
export function displayKey(name: string): string {
  const parts = name.split("+");
  // "+" itself and "Ctrl++" end in an empty part.
  const key = name.endsWith("+") ? "+" : parts.pop()!;
  const mods = name.endsWith("+") ? parts.slice(0, -2) : parts;
  const shown = key === " " ? "Space" : ARROWS[key] ?? (key === "Delete" ? "Del" : key === "Escape" ? "Esc" : key.length === 1 ? key.toUpperCase() : key);
  return [...mods, shown].join("+");
}

// -- the customised bindings of this page (every view on it shares them) ---------------------

let custom: Record<string, string[]> = {};
const listeners = new Set<() => void>();

export function keysOf(id: string): string[] {
  return custom[id] ?? BY_ID.get(id)?.keys ?? [];
}

export function customBindings(): Record<string, string[]> {
  return { ...custom };
}

/** Replace the customised bindings (unknown or fixed actions are dropped). */
export function setCustomBindings(next: Record<string, string[]>): void {
  custom = {};
  for (const [id, keys] of Object.entries(next)) {
    const a = BY_ID.get(id);
    if (a && !a.fixed && Array.isArray(keys) && keys.length) custom[id] = [...keys];
  }
  for (const fn of listeners) fn();
}

export function onBindingsChange(fn: () => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** The action of a key press among a scope's actions, or null. */
export function actionIn(scope: Scope, e: KeyLike): string | null {
  const name = keyName(e);
  for (const a of ACTIONS) {
    if (a.scope === scope && keysOf(a.id).includes(name)) return a.id;
  }
  return null;
}

/** The action a key is already bound to in the scope of `id` (other than `id`), or null. */
export function conflictWith(id: string, key: string): ShortcutAction | null {
  const scope = BY_ID.get(id)?.scope;
  return ACTIONS.find((a) => a.id !== id && a.scope === scope && keysOf(a.id).includes(key)) ?? null;
}

/** Bind `key` as the only key of `id`; refused (a message, nothing changed) on a conflict. */
export function rebind(id: string, key: string): string | null {
  const a = BY_ID.get(id);
  if (!a) return `Unknown action ${id}.`;
  if (a.fixed) return `“${a.label}” cannot be changed.`;
  const other = conflictWith(id, key);
  if (other) return `${displayKey(key)} is already “${other.label}” in the ${SCOPE_LABELS[other.scope].toLowerCase()}.`;
  const next = { ...custom, [id]: [key] };
  if (a.keys.length === 1 && a.keys[0] === key) delete next[id];
  setCustomBindings(next);
  return null;
}

// -- the database ----------------------------------------------------------------------------

let loaded: Promise<void> | null = null;

/** Read the stored bindings once per page (later calls share the first answer). */
export function loadBindings(rpc: RpcClient): Promise<void> {
  loaded ??= rpc.call("view_settings", {}).then(({ result }) => setCustomBindings(result.shortcuts)).catch(() => {
    loaded = null; // a server without the method or a failed call: defaults, try again later
  });
  return loaded;
}

export async function saveBindings(rpc: RpcClient): Promise<void> {
  const { result } = await rpc.call("set_shortcuts", { shortcuts: customBindings() });
  setCustomBindings(result.shortcuts);
}
