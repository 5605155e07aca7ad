// The stylesheet of the explorer's side panels (query box, tag manager), added once per
// document or shadow root next to the views' main stylesheet (styles.ts), scoped under .ls-root.

import { CROPS_STYLES } from "./crops";
import { DIST_STYLES } from "./distributions";
import { IMAGE_SEARCH_STYLES } from "./imageSearch";
import { SETTINGS_STYLES } from "./settings";
import { TAG_STYLES } from "./tags";

const CSS = TAG_STYLES + DIST_STYLES + CROPS_STYLES + IMAGE_SEARCH_STYLES + SETTINGS_STYLES + `
.ls-root .ls-side-query { width: 38%; min-width: 280px; flex: none; border-left: 1px solid var(--ls-border);
  display: flex; flex-direction: column; gap: 6px; padding: 8px 10px; overflow-y: auto; box-sizing: border-box; }
.ls-root .ls-qb-help { margin: 0; padding-left: 16px; color: var(--ls-fg2); font-size: 12px; }
.ls-root .ls-qb-help code { font-size: 11.5px; }
.ls-root .ls-qb-editor { position: relative; font: 13px/1.45 var(--jp-code-font-family, ui-monospace, Menlo, Consolas, monospace); }
.ls-root .ls-qb-editor textarea, .ls-root .ls-qb-backdrop { font: inherit; margin: 0; padding: 6px 8px;
  border: 1px solid var(--ls-border); border-radius: 4px; box-sizing: border-box; width: 100%;
  white-space: pre-wrap; overflow-wrap: break-word; letter-spacing: normal; }
.ls-root .ls-qb-editor textarea { position: relative; z-index: 1; min-height: 84px; resize: vertical;
  background: transparent; color: var(--ls-fg); }
.ls-root .ls-qb-backdrop { position: absolute; inset: 0; z-index: 0; color: transparent; overflow: hidden;
  background: var(--ls-bg); pointer-events: none; }
.ls-root .ls-qb-backdrop mark { color: transparent; background: transparent;
  text-decoration: underline wavy var(--ls-danger); text-decoration-skip-ink: none; }
.ls-root .ls-qb-backdrop mark.ls-qb-caret { border-left: 2px solid var(--ls-danger); text-decoration: none; }
.ls-root .ls-qb-list { position: absolute; left: 0; right: 0; z-index: 5; max-height: 220px; overflow-y: auto;
  margin: 2px 0 0; padding: 2px; list-style: none; background: var(--ls-bg); border: 1px solid var(--ls-border);
  border-radius: 4px; box-shadow: 0 4px 12px rgba(0,0,0,.18); }
.ls-root .ls-qb-list[hidden] { display: none; }
.ls-root .ls-qb-list li { display: flex; gap: 8px; padding: 2px 6px; cursor: pointer; border-radius: 3px; }
.ls-root .ls-qb-list li[aria-selected="true"] { background: var(--ls-accent); color: var(--ls-accent-fg); }
.ls-root .ls-qb-list .ls-qb-kind { width: 54px; flex: none; color: var(--ls-fg2); font-size: 11px; }
.ls-root .ls-qb-list li[aria-selected="true"] .ls-qb-kind, .ls-root .ls-qb-list li[aria-selected="true"] .ls-qb-detail { color: inherit; }
.ls-root .ls-qb-list .ls-qb-detail { margin-left: auto; color: var(--ls-fg2); font-size: 11px; white-space: nowrap;
  overflow: hidden; text-overflow: ellipsis; }
.ls-root .ls-qb-error { color: var(--ls-danger); font-size: 12px; white-space: pre-wrap; }
.ls-root .ls-qb-python { font: 12px/1.4 var(--jp-code-font-family, ui-monospace, Menlo, Consolas, monospace);
  background: var(--ls-bg2); padding: 4px 6px; border-radius: 4px; white-space: pre-wrap; overflow-wrap: anywhere; }
.ls-root .ls-qb-python[hidden], .ls-root .ls-qb-error[hidden] { display: none; }
.ls-root .ls-qchip { display: flex; align-items: center; gap: 4px; margin-top: 4px; padding: 2px 6px;
  background: var(--ls-bg2); border-radius: 4px; font-size: 12px; }
.ls-root .ls-qchip code { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; flex: 1; }
`;

let injected = new WeakSet<Document | ShadowRoot>();

/** Add the panels' stylesheet once per document (or shadow root) holding ``el``. */
export function injectPanelStyles(el: HTMLElement): void {
  const root = el.getRootNode() as Document | ShadowRoot;
  const target = root instanceof ShadowRoot ? root : document;
  if (injected.has(target)) return;
  const style = document.createElement("style");
  style.dataset.lightlyStudioPanels = "";
  style.textContent = CSS;
  (target instanceof ShadowRoot ? target : document.head).append(style);
  injected.add(target);
}

/** For tests: forget which documents have the stylesheet. */
export function resetPanelStyles(): void {
  injected = new WeakSet();
}
