// The annotator's own rules, added next to the shared stylesheet (views/styles.ts).

const CSS = `
.ls-annotator { outline: none; }
.ls-annotator .ls-ann-tools { display: flex; gap: 2px; }
.ls-annotator .ls-ann-tools button { padding: 3px 7px; }
.ls-annotator button.ls-active { background: var(--ls-accent); color: var(--ls-accent-fg); border-color: var(--ls-accent); }
.ls-annotator .ls-ann-body { display: flex; flex: 1; min-height: 0; }
.ls-annotator .ls-ann-stage { flex: 1; position: relative; overflow: hidden; background: var(--ls-cell-bg, #1c1f23);
  touch-action: none; user-select: none; }
.ls-annotator .ls-ann-stage[data-cursor=crosshair] { cursor: crosshair; }
.ls-annotator .ls-ann-stage[data-cursor=grab] { cursor: grab; }
.ls-annotator .ls-ann-stage[data-cursor=grabbing] { cursor: grabbing; }
.ls-annotator .ls-ann-world { position: absolute; left: 0; top: 0; transform-origin: 0 0; }
.ls-annotator .ls-ann-world img, .ls-annotator .ls-ann-world canvas, .ls-annotator .ls-ann-world svg {
  position: absolute; left: 0; top: 0; display: block; }
.ls-annotator .ls-ann-world.ls-pixelated img, .ls-annotator .ls-ann-world.ls-pixelated canvas { image-rendering: pixelated; }
.ls-annotator .ls-ann-world svg { overflow: visible; }
.ls-annotator .ls-ann-side { width: 320px; flex: none; overflow-y: auto; border-left: 1px solid var(--ls-border);
  padding: 6px 10px 16px; }
.ls-annotator .ls-ann-row { display: flex; flex-wrap: wrap; align-items: center; gap: 4px 5px; padding: 2px 3px; border-radius: 4px; cursor: pointer; }
.ls-annotator .ls-ann-row.ls-selected { background: var(--ls-bg3); }
/* The class name takes the row; source, confidence and buttons wrap below a long one. */
.ls-annotator .ls-ann-row input { flex: 1 1 160px; min-width: 0; width: 0; padding: 1px 4px; font-size: 12px; text-overflow: ellipsis; }
.ls-annotator .ls-ann-row .ls-kind { width: 16px; color: var(--ls-fg2); font-size: 11px; }
.ls-annotator .ls-ann-row .ls-conf { color: var(--ls-fg2); font-size: 11px; font-variant-numeric: tabular-nums; }
.ls-annotator .ls-ann-row .ls-src { color: var(--ls-fg2); font-size: 11px; flex: 0 1 auto; max-width: 70px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.ls-annotator .ls-ann-row .ls-src:empty { display: none; }
.ls-annotator .ls-x { padding: 0 5px; line-height: 16px; }
.ls-annotator textarea { font: inherit; width: 100%; color: var(--ls-fg); background: var(--ls-bg2);
  border: 1px solid var(--ls-border); border-radius: 4px; resize: vertical; min-height: 34px; }
.ls-annotator .ls-cap { display: flex; gap: 4px; align-items: flex-start; margin-bottom: 4px; }
.ls-annotator .ls-chipline { display: flex; flex-wrap: wrap; gap: 4px; margin-bottom: 4px; }
.ls-annotator .ls-ann-chip { display: inline-flex; gap: 4px; align-items: center; border-radius: 10px;
  padding: 1px 4px 1px 8px; border: 1px solid var(--ls-border); }
.ls-annotator .ls-ann-status { padding: 3px 10px; border-top: 1px solid var(--ls-border); font-size: 12px;
  color: var(--ls-fg2); min-height: 22px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.ls-annotator .ls-ann-status.ls-error { color: var(--ls-danger); }
.ls-annotator .ls-ann-help { font-size: 11px; color: var(--ls-fg2); line-height: 1.5; }
.ls-annotator .ls-ann-help kbd { font: inherit; border: 1px solid var(--ls-border); border-radius: 3px; padding: 0 3px; }
.ls-annotator .ls-ann-label { font: 600 12px var(--ls-font); paint-order: stroke; stroke: rgba(0,0,0,.75);
  stroke-width: 3px; fill: #fff; pointer-events: none; }
`;

const done = new WeakSet<Document | ShadowRoot>();

export function injectAnnotatorStyles(el: HTMLElement): void {
  const root = el.getRootNode() as Document | ShadowRoot;
  const target = root instanceof ShadowRoot ? root : document;
  if (done.has(target)) return;
  const style = document.createElement("style");
  style.dataset.lightlyStudioAnnotator = "";
  style.textContent = CSS;
  (target instanceof ShadowRoot ? target : document.head).append(style);
  done.add(target);
}
