// The settings dialog (the toolbar's gear button): this dataset's grid options (overlays,
// thumbnail size, sort; the same state as the View popover) and the keyboard shortcuts of the
// grid, the detail view and the annotator. Click a shortcut's key, press the new one: a key
// another action of the same view uses is refused with a message. Both are stored in the
// database (api `set_view_options`, `set_shortcuts`), so they come back in the next session.

import { h } from "../lib/dom";
import { icon } from "../lib/icons";
import type { ViewOptions } from "../transport/methods";
import type { RpcClient } from "../transport/rpc";
import {
  ACTIONS, SCOPE_LABELS, customBindings, displayKey, keyName, keysOf, rebind, saveBindings,
  setCustomBindings, type Scope, type ShortcutAction,
} from "./shortcuts";

export const SETTINGS_STYLES = `
.ls-root .ls-settings-box { width: min(560px, calc(100% - 24px)); }
.ls-root .ls-settings-box h3 { margin: 4px 0 0; font-size: 13px; font-weight: 600; }
.ls-root .ls-settings-box h4 { margin: 6px 0 2px; font-size: 11px; text-transform: uppercase;
  letter-spacing: .04em; color: var(--ls-fg2); font-weight: 600; }
.ls-root .ls-settings-grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(110px, 1fr)); gap: 2px 10px; }
.ls-root .ls-settings-box label.ls-check { flex-direction: row; }
.ls-root .ls-keys { width: 100%; border-collapse: collapse; font-size: 13px; }
.ls-root .ls-keys td { padding: 2px 4px; border-bottom: 1px solid var(--ls-border); vertical-align: middle; }
.ls-root .ls-keys td:first-child { width: 60%; }
.ls-root .ls-keys td:last-child { text-align: right; white-space: nowrap; }
.ls-root .ls-keys td.ls-fixed-keys { white-space: normal; font-size: 12px; }
.ls-root .ls-keys button { min-width: 90px; font-family: var(--jp-code-font-family, ui-monospace, Menlo, Consolas, monospace); font-size: 12px; }
.ls-root .ls-keys button.ls-capturing { border-color: var(--ls-accent); color: var(--ls-accent); }
.ls-root .ls-keys tr.ls-custom td:first-child::after { content: " (changed)"; color: var(--ls-fg2); font-size: 11px; }
.ls-root .ls-settings-status { min-height: 1.3em; overflow-wrap: anywhere; }
`;

export interface GridOptionsHandle {
  /** The grid's options now (what the View popover shows). */
  get(): ViewOptions;
  /** Change some options: the grid, the View popover and the database follow. */
  set(change: Partial<ViewOptions>): void;
  /** Back to the defaults, and forget the stored ones. */
  reset(): void;
  sorts: [string, string][];
}

const MODIFIERS = new Set(["Shift", "Control", "Alt", "Meta", "AltGraph", "CapsLock", "Fn"]);

export function openSettingsDialog(host: HTMLElement, rpc: RpcClient, grid: GridOptionsHandle): () => void {
  const status = h("div", { class: "ls-muted ls-settings-status", role: "status", "data-testid": "ls-settings-status" });
  const say = (text: string, error = false) => {
    status.className = `ls-settings-status ${error ? "ls-error" : "ls-muted"}`;
    status.textContent = text;
  };

  // -- grid options of this dataset -----------------------------------------------------------
  const gridSection = h("div", { "data-testid": "ls-settings-grid" });
  const renderGrid = () => {
    const o = grid.get();
    const checks = (["boxes", "masks", "labels", "captions", "names"] as const).map((k) =>
      h("label", { class: "ls-check" },
        h("input", { type: "checkbox", checked: !!o.overlays[k], "data-settings-overlay": k,
                     onchange: (e: Event) => grid.set({ overlays: { ...grid.get().overlays, [k]: (e.target as HTMLInputElement).checked } }) }), k));
    const size = h("input", { type: "range", min: 80, max: 400, step: 10, value: o.cell_size, "aria-label": "thumbnail size", "data-testid": "ls-settings-size", style: "width:100%" });
    size.addEventListener("change", () => grid.set({ cell_size: Number(size.value) }));
    const sort = h("select", { "aria-label": "sort by", "data-testid": "ls-settings-sort" }, grid.sorts.map(([v, t]) => h("option", { value: v }, t)));
    sort.value = o.sort_field;
    const desc = h("input", { type: "checkbox", checked: o.sort_desc, "data-testid": "ls-settings-desc" });
    const onSort = () => grid.set({ sort_field: sort.value, sort_desc: desc.checked });
    sort.addEventListener("change", onSort);
    desc.addEventListener("change", onSort);
    const reset = h("button", { "data-testid": "ls-settings-grid-reset", onclick: () => { grid.reset(); renderGrid(); say("Grid options are back to the defaults."); } }, "Reset grid options");
    gridSection.replaceChildren(
      h("h4", {}, "Show on thumbnails"), h("div", { class: "ls-settings-grid" }, checks),
      h("h4", {}, "Thumbnail size"), size,
      h("h4", {}, "Sort by"), h("div", { class: "ls-pop-row" }, sort, h("label", { class: "ls-check" }, desc, "descending")),
      h("div", { class: "ls-row" }, reset));
  };
  renderGrid();

  // -- keyboard shortcuts ---------------------------------------------------------------------
  let capturing: { action: ShortcutAction } | null = null;
  const keysSection = h("div", { "data-testid": "ls-settings-keys" });
  const stopCapture = () => {
    if (!capturing) return;
    const id = capturing.action.id;
    capturing = null;
    renderKeys();
    // The table was drawn anew: keep the focus on the same row, inside the dialog (Escape).
    keysSection.querySelector<HTMLButtonElement>(`button[data-action="${id}"]`)?.focus();
  };
  const renderKeys = () => {
    const custom = customBindings();
    const scopes = [...new Set(ACTIONS.map((a) => a.scope))] as Scope[];
    keysSection.replaceChildren(...scopes.map((scope) => h("div", {},
      h("h4", {}, SCOPE_LABELS[scope]),
      h("table", { class: "ls-keys" }, h("tbody", {}, ACTIONS.filter((a) => a.scope === scope).map((a) => {
        const shown = a.id === "annotator.label" ? "1–9" : keysOf(a.id).map(displayKey).join(" / ");
        if (a.fixed) {
          return h("tr", { "data-testid": `ls-shortcut-${a.id}` }, h("td", {}, a.label),
            h("td", { class: "ls-muted ls-fixed-keys", title: "Fixed" }, shown));
        }
        const button = h("button", { "data-action": a.id, title: "Click, then press the new key" }, shown);
        button.addEventListener("click", () => {
          stopCapture();
          const b = keysSection.querySelector<HTMLButtonElement>(`button[data-action="${a.id}"]`)!;
          capturing = { action: a };
          b.classList.add("ls-capturing");
          b.textContent = "Press a key…";
          say(`Press the new key for “${a.label}” (Esc cancels).`);
          b.focus();
        });
        return h("tr", { class: a.id in custom ? "ls-custom" : "", "data-testid": `ls-shortcut-${a.id}` }, h("td", {}, a.label), h("td", {}, button));
      }))))));
  };
  renderKeys();
  const resetKeys = h("button", { "data-testid": "ls-settings-keys-reset" }, "Reset shortcuts to defaults");
  resetKeys.addEventListener("click", async () => {
    stopCapture();
    const before = customBindings();
    setCustomBindings({});
    renderKeys();
    try {
      await saveBindings(rpc);
      say("Every shortcut is back on its default key.");
    } catch (e) {
      setCustomBindings(before);
      renderKeys();
      say(`Not saved: ${(e as Error).message}`, true);
    }
  });

  const onCaptureKey = async (e: KeyboardEvent) => {
    if (!capturing || MODIFIERS.has(e.key)) return;
    e.preventDefault();
    e.stopPropagation();
    const { action } = capturing;
    if (e.key === "Escape") { stopCapture(); say("Unchanged."); return; }
    const key = keyName(e);
    const before = customBindings();
    const refused = rebind(action.id, key);
    stopCapture();
    if (refused) { say(refused, true); return; }
    try {
      await saveBindings(rpc);
      say(`“${action.label}” is now ${displayKey(key)}.`);
    } catch (e) {
      setCustomBindings(before);
      renderKeys();
      say(`Not saved: ${(e as Error).message}`, true);
    }
  };

  // -- the dialog -----------------------------------------------------------------------------
  const before = document.activeElement as HTMLElement | null;
  const close = () => {
    dialog.remove();
    before?.focus?.();
  };
  const closeBtn = h("button", { "data-testid": "ls-settings-close" }, "Close");
  closeBtn.addEventListener("click", close);
  const box = h("div", { class: "ls-dialog-box ls-settings-box" },
    h("div", { class: "ls-dialog-head" }, h("span", { class: "ls-title", id: "ls-settings-title" }, "Settings"),
      h("button", { class: "ls-icon-only", title: "Close (Esc)", "aria-label": "Close", onclick: close }, icon("close"))),
    h("h3", {}, "Grid of this dataset"), gridSection,
    h("h3", {}, "Keyboard shortcuts"), keysSection,
    status,
    h("div", { class: "ls-row" }, resetKeys, closeBtn));
  const dialog = h("div", { class: "ls-dialog", role: "dialog", "aria-modal": "true", "aria-labelledby": "ls-settings-title", "data-testid": "ls-settings", tabindex: -1 }, box);
  dialog.addEventListener("pointerdown", (e) => { if (e.target === dialog) close(); });
  dialog.addEventListener("keydown", (e) => {
    if (capturing) { void onCaptureKey(e); return; }
    // Keys typed here never reach the grid behind the dialog.
    e.stopPropagation();
    if (e.key === "Escape") close();
  });
  host.append(dialog);
  dialog.focus();
  return close;
}
