// One stylesheet for every view, scoped under .ls-root. Colours come from JupyterLab's theme
// variables (so light and dark themes both read well), with fallbacks for the full-page app,
// marimo, VS Code and Colab, which follow the host page's scheme (data-ls-theme) or the OS.

import { OPERATOR_STYLES } from "./operators";

const DARK = `--ls-bg: var(--jp-layout-color1, #15181c);
    --ls-bg2: var(--jp-layout-color2, #1e2227);
    --ls-bg3: var(--jp-layout-color3, #2a2f35);
    --ls-fg: var(--jp-ui-font-color0, #e8eaed);
    --ls-fg2: var(--jp-ui-font-color2, #9aa3ad);
    --ls-border: var(--jp-border-color1, #39414a);
    --ls-cell-bg: var(--jp-layout-color0, #0c0e10);`;

export const CSS = `
.ls-root {
  --ls-bg: var(--jp-layout-color1, #ffffff);
  --ls-bg2: var(--jp-layout-color2, #f1f3f5);
  --ls-bg3: var(--jp-layout-color3, #dde1e5);
  --ls-fg: var(--jp-ui-font-color0, #1b1f24);
  --ls-fg2: var(--jp-ui-font-color2, #5c6570);
  --ls-border: var(--jp-border-color1, #c9ced4);
  --ls-accent: var(--jp-brand-color1, #1a73e8);
  --ls-accent-fg: #ffffff;
  /* Thumbnails sit on a quiet tone next to the panel's (Lab's layout-color3 is a mid grey
     in both themes: images looked washed out on it). */
  --ls-cell-bg: var(--jp-layout-color2, #e4e7ea);
  --ls-danger: var(--jp-error-color1, #d32f2f);
  --ls-radius: 6px;
  --ls-font: var(--jp-ui-font-family, system-ui, -apple-system, "Segoe UI", sans-serif);
  font-family: var(--ls-font);
  font-size: 13px;
  color: var(--ls-fg);
  background: var(--ls-bg);
  border: 1px solid var(--ls-border);
  border-radius: var(--ls-radius);
  position: relative;
  display: flex;
  flex-direction: column;
  overflow: hidden;
  box-sizing: border-box;
}
@media (prefers-color-scheme: dark) {
  .ls-root:not([data-ls-theme="light"]):not([data-ls-theme="light"] .ls-root) {
    ${DARK}
  }
}
/* The host page's scheme (js/src/host/theme.ts sets data-ls-theme on the view's element)
   wins over the OS setting: marimo, VS Code and Colab pages have their own. */
[data-ls-theme="dark"] .ls-root, .ls-root[data-ls-theme="dark"] {
  ${DARK}
}
/* The full page chooses its theme itself (dark by default, like the reference app); the
   notebook widgets follow JupyterLab's variables above (light, dark, high contrast). */
.ls-app[data-ls-theme="light"] .ls-root, .ls-app[data-ls-theme="light"] {
  --ls-bg: #ffffff; --ls-bg2: #f3f4f6; --ls-bg3: #e2e5e9; --ls-fg: #1b1f24; --ls-fg2: #5c6570;
  --ls-border: #d3d7dc; --ls-cell-bg: #e9ecef; --ls-accent: #1a73e8;
}
.ls-app[data-ls-theme="dark"] .ls-root, .ls-app[data-ls-theme="dark"] {
  --ls-bg: #121417; --ls-bg2: #1b1e23; --ls-bg3: #2a2f36; --ls-fg: #e8eaed; --ls-fg2: #9aa3ad;
  --ls-border: #2f353d; --ls-cell-bg: #0b0c0e; --ls-accent: #4c8dff;
}
.ls-root *, .ls-root *::before, .ls-root *::after { box-sizing: border-box; }
.ls-root button, .ls-root input, .ls-root select {
  font: inherit; color: var(--ls-fg); background: var(--ls-bg2);
  border: 1px solid var(--ls-border); border-radius: 4px; padding: 3px 8px;
}
.ls-root button { cursor: pointer; }
.ls-root button:hover { border-color: var(--ls-accent); }
.ls-root button.ls-primary { background: var(--ls-accent); color: var(--ls-accent-fg); border-color: var(--ls-accent); }
.ls-root button:disabled { opacity: .5; cursor: default; }
.ls-root input[type=checkbox] { accent-color: var(--ls-accent); margin: 0; }
.ls-root input[type=range] { padding: 0; border: none; background: none; accent-color: var(--ls-accent); }
.ls-root :focus-visible { outline: 2px solid var(--ls-accent); outline-offset: 1px; }

.ls-toolbar { display: flex; align-items: center; gap: 8px; padding: 6px 10px;
  border-bottom: 1px solid var(--ls-border); background: var(--ls-bg2); flex-wrap: nowrap; min-height: 42px; }
.ls-toolbar > * { flex: none; }
.ls-toolbar .ls-spacer { flex: 1 1 0; min-width: 0; }
.ls-toolbar > .ls-title { flex: 0 1 auto; min-width: 40px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.ls-title { font-weight: 600; font-size: 14px; }
.ls-icon { flex: none; display: block; }
.ls-root .ls-icon-button { display: inline-flex; align-items: center; gap: 6px; white-space: nowrap; min-height: 28px; }
.ls-narrow .ls-icon-button .ls-label { display: none; }
.ls-narrow .ls-icon-button { padding: 3px 6px; }
.ls-narrow .ls-tag-group input { width: 80px !important; }
.ls-tag-group { display: flex; gap: 4px; align-items: center; }
.ls-tag-group button { white-space: nowrap; }
.ls-root .ls-tag-button, .ls-root .ls-select-all { display: inline-flex; align-items: center; gap: 6px; min-height: 28px; }
.ls-tag-button .ls-icon, .ls-select-all .ls-icon { display: none; }
/* A compact toolbar (a 600 px notebook cell): icons instead of the last text labels, tighter
   gaps, the count without its unit; every control stays on the one line. */
.ls-compact .ls-toolbar { gap: 3px; padding: 6px; }
.ls-compact .ls-tag-group input { width: 64px !important; }
.ls-compact .ls-toolbar > .ls-title { min-width: 0; }
.ls-compact .ls-icon-button, .ls-root.ls-compact .ls-tag-button, .ls-root.ls-compact .ls-select-all { padding: 3px 5px; }
.ls-compact .ls-tag-button .ls-icon, .ls-compact .ls-select-all .ls-icon { display: block; }
.ls-compact .ls-tag-button .ls-label, .ls-compact .ls-select-all .ls-label, .ls-compact .ls-count-unit { display: none; }
.ls-pop-anchor { position: relative; }
.ls-popover { position: absolute; right: 0; top: calc(100% + 4px); z-index: 22; width: 240px; padding: 10px 12px;
  background: var(--ls-bg); border: 1px solid var(--ls-border); border-radius: var(--ls-radius);
  box-shadow: 0 6px 24px rgba(0,0,0,.25); display: flex; flex-direction: column; gap: 6px; }
.ls-popover[hidden] { display: none; }
/* A video in the detail view hides the image's layers (world, arrows, zoom bar), which set
   their own display. */
.ls-detail-image > [hidden] { display: none !important; }
.ls-pop-title { font-size: 11px; text-transform: uppercase; letter-spacing: .04em; color: var(--ls-fg2); margin-top: 4px; }
.ls-pop-checks { display: grid; grid-template-columns: 1fr 1fr; gap: 2px 8px; }
.ls-pop-row { display: flex; gap: 8px; align-items: center; }
.ls-pop-row select { flex: 1; min-width: 0; }
.ls-muted { color: var(--ls-fg2); }
.ls-count { color: var(--ls-fg2); white-space: nowrap; }
.ls-body { display: flex; flex: 1; min-height: 0; }

.ls-filters { width: 240px; flex: none; overflow-y: auto; border-right: 1px solid var(--ls-border);
  padding: 8px 10px 16px; background: var(--ls-bg); }
.ls-filters.ls-collapsed { display: none; }
.ls-section { margin-bottom: 12px; }
.ls-section h4 { margin: 6px 0; font-size: 12px; text-transform: uppercase; letter-spacing: .04em;
  color: var(--ls-fg2); display: flex; justify-content: space-between; align-items: center; }
.ls-check { display: flex; align-items: center; gap: 6px; padding: 2px 0; cursor: pointer; }
.ls-check .ls-name { flex: 1; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.ls-check .ls-n { color: var(--ls-fg2); font-variant-numeric: tabular-nums; font-size: 12px; }
.ls-dot { width: 10px; height: 10px; border-radius: 2px; flex: none; }
.ls-filters input[type=text], .ls-filters input[type=search], .ls-filters select { width: 100%; }
.ls-range { display: flex; gap: 4px; align-items: center; }
.ls-range input { width: 50%; min-width: 0; }
.ls-hist { display: flex; align-items: flex-end; gap: 1px; height: 24px; margin: 4px 0 2px; }
.ls-hist div { flex: 1; background: var(--ls-accent); opacity: .55; border-radius: 1px 1px 0 0; }

.ls-main { flex: 1; position: relative; min-width: 0; display: flex; flex-direction: column; }
.ls-scroller { flex: 1; overflow-y: auto; overflow-x: hidden; position: relative; outline: none; }
.ls-spacer-el { width: 1px; }
.ls-cell { position: absolute; border-radius: var(--ls-radius); background: var(--ls-cell-bg);
  overflow: hidden; cursor: pointer; border: 2px solid transparent; }
.ls-cell:hover { border-color: var(--ls-border); }
.ls-cell.ls-selected { border-color: var(--ls-accent); box-shadow: 0 0 0 1px var(--ls-accent); }
.ls-cell.ls-focus { outline: 2px dashed var(--ls-accent); outline-offset: 1px; }
.ls-cell img, .ls-cell canvas, .ls-cell svg { position: absolute; inset: 0; width: 100%; height: 100%; }
.ls-cell img { object-fit: contain; }
.ls-cell .ls-check-box { position: absolute; top: 6px; right: 6px; width: 16px; height: 16px;
  border: 1.5px solid rgba(255,255,255,.85); border-radius: 3px; background: rgba(0,0,0,.25);
  /* a dark ring keeps the white box visible on light images and light themes */
  box-shadow: 0 0 0 1px rgba(0,0,0,.35); }
.ls-cell.ls-selected .ls-check-box { background: var(--ls-accent); border-color: var(--ls-accent); }
.ls-cell .ls-chips { position: absolute; left: 4px; bottom: 4px; right: 4px; display: flex; gap: 3px;
  flex-wrap: wrap; pointer-events: none; }
.ls-chip { font-size: 11px; padding: 0 6px; border-radius: 9px; background: rgba(20,24,28,.78);
  color: #fff; max-width: 100%; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; line-height: 17px; }
.ls-chip.ls-issue-chip { background: rgba(176,32,32,.88); }
.ls-filters .ls-zero { opacity: .55; }
.ls-filters .ls-static { cursor: default; padding-left: 20px; }
.ls-cell .ls-caption { position: absolute; left: 0; right: 0; top: 0; padding: 3px 6px; font-size: 11px;
  background: rgba(20,24,28,.72); color: #fff; max-height: 40%; overflow: hidden; }
.ls-cell .ls-video-head { position: absolute; left: 0; right: 26px; top: 0; padding: 2px 6px; font-size: 11px;
  font-weight: 600; color: #fff; background: rgba(20, 90, 200, 0.85); white-space: nowrap; overflow: hidden;
  text-overflow: ellipsis; pointer-events: none; }
.ls-cell .ls-frame-no { position: absolute; right: 4px; top: 22px; padding: 0 4px; font-size: 11px; color: #fff;
  background: rgba(0, 0, 0, 0.55); border-radius: 3px; pointer-events: none; font-variant-numeric: tabular-nums; }
.ls-cell .ls-name-bar { position: absolute; left: 0; right: 0; bottom: 0; padding: 2px 6px; font-size: 11px;
  background: rgba(20,24,28,.6); color: #fff; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.ls-cell .ls-broken { position: absolute; inset: 0; display: flex; align-items: center; justify-content: center;
  color: var(--ls-danger); font-size: 11px; padding: 8px; text-align: center; }
/* Group tiles (grid.ts paintGroupCell): members side by side above the name bar. */
.ls-cell .ls-group-members { position: absolute; left: 0; right: 0; top: 0; bottom: 19px; display: flex; gap: 2px; }
.ls-cell .ls-group-member { position: relative; flex: 1 1 0; min-width: 0; background: rgba(0,0,0,.18); }
.ls-cell .ls-view-name { position: absolute; left: 4px; top: 4px; max-width: calc(100% - 8px); padding: 0 5px;
  font-size: 10px; line-height: 15px; border-radius: 8px; background: rgba(20,24,28,.72); color: #fff;
  white-space: nowrap; overflow: hidden; text-overflow: ellipsis; pointer-events: none; }
.ls-cell .ls-group-gap { position: absolute; inset: 6px; display: flex; align-items: center; justify-content: center;
  border: 1px dashed var(--ls-fg2); border-radius: 4px; color: var(--ls-fg2); font-size: 11px; }
/* Group detail (groupDetail.ts): one full-size panel per view. */
.ls-group-detail-main { display: flex; }
.ls-group-detail-members { position: absolute; inset: 12px 60px; display: flex; gap: 12px; }
.ls-group-detail-member { flex: 1 1 0; min-width: 0; margin: 0; display: flex; flex-direction: column; }
.ls-group-detail-member figcaption { padding: 4px 2px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.ls-group-detail-picture { flex: 1; position: relative; min-height: 0; }
.ls-group-detail-picture img, .ls-group-detail-picture svg, .ls-group-detail-picture canvas { position: absolute; inset: 0; width: 100%; height: 100%; }
.ls-group-detail-picture img { object-fit: contain; }
.ls-group-detail-picture .ls-group-gap { position: absolute; inset: 0; display: flex; align-items: center; justify-content: center;
  border: 1px dashed var(--ls-fg2); border-radius: 4px; color: var(--ls-fg2); }
.ls-group-detail-tags { padding-top: 4px; }
.ls-empty { position: absolute; inset: 0; display: flex; align-items: center; justify-content: center; color: var(--ls-fg2); }

.ls-status { position: absolute; left: 10px; bottom: 8px; background: var(--ls-bg2); border: 1px solid var(--ls-border);
  border-radius: 4px; padding: 3px 8px; font-size: 12px; z-index: 5; }
.ls-error { color: var(--ls-danger); }
.ls-progress { height: 3px; background: var(--ls-accent); transition: width .2s; }

.ls-detail { position: absolute; inset: 0; background: var(--ls-bg); z-index: 10; display: flex; flex-direction: column; }
.ls-detail-body { flex: 1; display: flex; min-height: 0; }
.ls-detail-image { flex: 1; position: relative; background: var(--ls-cell-bg); min-width: 0; overflow: hidden;
  cursor: grab; touch-action: none; user-select: none; }
.ls-detail-image.ls-panning { cursor: grabbing; }
.ls-detail-world { position: absolute; left: 0; top: 0; transform-origin: 0 0; }
.ls-detail-world img, .ls-detail-world svg, .ls-detail-world canvas { position: absolute; inset: 0; width: 100%; height: 100%; }
.ls-detail-world img { image-rendering: auto; }
.ls-detail-arrow { position: absolute; top: 50%; transform: translateY(-50%); z-index: 3; width: 40px; height: 64px;
  display: flex; align-items: center; justify-content: center; opacity: .55; }
.ls-root button.ls-detail-arrow { background: rgba(10,12,14,.55); color: #fff; border: none; border-radius: 8px; padding: 0; }
.ls-root button.ls-detail-arrow:hover { opacity: 1; }
.ls-detail-arrow.ls-prev { left: 10px; }
.ls-detail-arrow.ls-next { right: 10px; }
.ls-detail-controls { position: absolute; left: 50%; bottom: 12px; transform: translateX(-50%); z-index: 3;
  display: flex; align-items: center; gap: 6px; padding: 4px 10px; border-radius: 10px; white-space: nowrap;
  background: color-mix(in srgb, var(--ls-bg) 88%, transparent); border: 1px solid var(--ls-border); cursor: default; }
.ls-detail-controls .ls-count { min-width: 44px; text-align: center; font-variant-numeric: tabular-nums; }
.ls-root button.ls-text-only { border: none; background: none; padding: 2px 6px; font-weight: 600; }
.ls-sep { width: 1px; height: 18px; background: var(--ls-border); }
.ls-adjust { display: flex; align-items: center; gap: 4px; font-size: 12px; color: var(--ls-fg2); }
.ls-adjust input { width: 80px; }
.ls-detail-note { position: absolute; top: 12px; left: 50%; transform: translateX(-50%); z-index: 4; padding: 4px 10px;
  border-radius: 6px; background: var(--ls-bg); border: 1px solid var(--ls-border); }
.ls-crumbs { display: flex; align-items: center; gap: 6px; min-width: 0; overflow: hidden; flex: 0 1 auto !important; }
.ls-root button.ls-crumb { border: none; background: none; padding: 0; color: var(--ls-fg2); white-space: nowrap; }
.ls-root button.ls-crumb:hover { color: var(--ls-accent); text-decoration: underline; }
.ls-crumb-sep { color: var(--ls-fg2); }
.ls-crumb-current { font-weight: 600; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; min-width: 0; }
.ls-root button.ls-link { border: none; background: none; padding: 0; color: var(--ls-accent); font-size: 11px; text-transform: none; letter-spacing: 0; }
.ls-ann-hidden { opacity: .5; }
.ls-ann .ls-ann-label { overflow-wrap: anywhere; }
.ls-detail-side { width: 320px; flex: none; overflow-y: auto; padding: 10px 12px; border-left: 1px solid var(--ls-border); }
.ls-tagchip { display: inline-flex; align-items: center; gap: 4px; background: var(--ls-bg3); border-radius: 12px;
  padding: 1px 4px 1px 9px; margin: 0 4px 4px 0; }
.ls-tagchip button { border: none; background: none; padding: 0 4px; color: var(--ls-fg2); }
.ls-ann { display: flex; align-items: center; gap: 6px; padding: 4px 6px; border-radius: 4px; background: var(--ls-bg2); margin-bottom: 4px; }
.ls-ann .ls-name { flex: 1; min-width: 0; }
.ls-ann .ls-sub { color: var(--ls-fg2); font-size: 11px; }
.ls-kv { width: 100%; border-collapse: collapse; font-size: 12px; }
.ls-kv td { padding: 3px 4px; border-bottom: 1px solid var(--ls-border); vertical-align: top; word-break: break-all; }
.ls-kv td:first-child { color: var(--ls-fg2); width: 40%; word-break: normal; }

.ls-plot { position: relative; flex: 1; min-height: 200px; background: var(--ls-cell-bg); }
.ls-plot canvas { position: absolute; inset: 0; width: 100%; height: 100%; }
.ls-plot-message { position: absolute; inset: 0; display: flex; flex-direction: column; justify-content: center;
  padding: 24px; gap: 4px; overflow-wrap: anywhere; overflow-y: auto; background: var(--ls-bg); }
.ls-plot-message p { margin: 4px 0; }
.ls-root code { font-family: var(--jp-code-font-family, ui-monospace, SFMono-Regular, Menlo, monospace); font-size: 12px;
  background: var(--ls-bg3); padding: 1px 4px; border-radius: 3px; }
.ls-plot-tip { position: absolute; pointer-events: none; z-index: 4; background: var(--ls-bg); border: 1px solid var(--ls-border);
  border-radius: 4px; padding: 3px; width: 140px; font-size: 11px; }
.ls-plot-tip img { width: 100%; display: block; }
.ls-plot-tip-name { margin-top: 2px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; font-weight: 600; }
.ls-root .ls-legend-row { display: flex; align-items: center; width: 100%; background: none; border: 0; padding: 1px 0; font: inherit;
  color: inherit; cursor: pointer; text-align: left; user-select: none; }
.ls-root .ls-legend-row:hover { text-decoration: underline; border: 0; }
.ls-legend-off { opacity: 0.4; text-decoration: line-through; }
.ls-legend-static { display: flex; align-items: center; padding: 1px 0; }
.ls-legend { position: absolute; right: 8px; top: 8px; background: var(--ls-bg); border: 1px solid var(--ls-border);
  border-radius: 4px; padding: 4px 8px; font-size: 11px; max-height: 60%; overflow-y: auto; z-index: 3; }
.ls-legend-title { font-weight: 600; margin-bottom: 2px; }
.ls-legend-ramp { width: 140px; height: 10px; border-radius: 2px; }
.ls-legend-ticks { display: flex; justify-content: space-between; width: 140px; margin-bottom: 2px; font-variant-numeric: tabular-nums; }
.ls-side-plot { width: 42%; flex: none; border-left: 1px solid var(--ls-border); display: flex; flex-direction: column; min-width: 0; }
.ls-side-plot .ls-toolbar > *, [data-testid=ls-plot-root] .ls-toolbar > * { flex: 0 1 auto; min-width: 0; }
.ls-side-plot .ls-toolbar > .ls-count { flex: 0 1 auto; overflow: hidden; text-overflow: ellipsis; }
.ls-eval { width: 40%; flex: none; border-left: 1px solid var(--ls-border); overflow: auto; padding: 6px; display: flex; flex-direction: column; gap: 6px; }
.ls-eval-head { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
.ls-eval-head select { min-width: 0; max-width: 100%; }
.ls-eval-metric { margin-right: 10px; }
.ls-eval-count { margin: 2px 4px 2px 0; }
.ls-eval-scroll { overflow: auto; max-height: 360px; }
.ls-eval-grid { display: grid; font-size: 10px; }
.ls-eval-cell { width: 18px; height: 18px; box-sizing: border-box; border: 1px solid rgba(128,128,128,.15); cursor: pointer; }
.ls-eval-row { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; padding-right: 4px; text-align: right; line-height: 18px; }
.ls-eval-col { writing-mode: vertical-rl; transform: rotate(180deg); max-height: 8em; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.ls-eval-tip { min-height: 1.2em; font-size: 11px; }
.ls-eval-table { border-collapse: collapse; font-size: 11px; }
.ls-eval-table td, .ls-eval-table th { padding: 1px 6px; text-align: right; }
.ls-eval-table td:first-child, .ls-eval-table th:first-child { text-align: left; }
.ls-eval-cell-on { outline: 2px solid var(--ls-accent, #2563eb); outline-offset: -1px; position: relative; z-index: 1; }
.ls-eval-colors { display: flex; flex-wrap: wrap; gap: 4px 10px; align-items: center; }
.ls-outcome-legend { display: flex; flex-wrap: wrap; gap: 2px 10px; font-size: 11px; align-items: center; }
.ls-outcome-legend[hidden] { display: none; }
.ls-outcome-key { display: inline-flex; align-items: center; gap: 4px; white-space: nowrap; }
.ls-outcome-swatch { width: 12px; height: 12px; border-radius: 2px; display: inline-block; }
.ls-outcome-tag { color: #fff; font-size: 10px; font-weight: 600; border-radius: 3px; padding: 0 4px; margin-left: 6px; }
.ls-ann-dim { opacity: .45; }
.ls-root button.ls-frame-ann-class { width: 100%; text-align: left; border: 1px solid transparent; font: inherit; text-transform: none; letter-spacing: 0; }
.ls-root button.ls-frame-ann-class:hover { border-color: var(--ls-accent); }

.ls-dialog { position: absolute; inset: 0; background: rgba(0,0,0,.35); z-index: 20; display: flex; align-items: center; justify-content: center; }
.ls-dialog-box { background: var(--ls-bg); border: 1px solid var(--ls-border); border-radius: var(--ls-radius);
  padding: 14px 16px; width: min(420px, calc(100% - 24px)); max-height: calc(100% - 24px); overflow-y: auto;
  display: flex; flex-direction: column; gap: 10px; box-shadow: 0 12px 40px rgba(0,0,0,.35); }
.ls-dialog-head { display: flex; align-items: center; justify-content: space-between; }
.ls-root button.ls-icon-only { border: none; background: none; padding: 4px; color: var(--ls-fg2); display: inline-flex; }
.ls-root button.ls-icon-only:hover { color: var(--ls-fg); }
.ls-row button[hidden] { display: none; }
.ls-dialog-box label { display: flex; flex-direction: column; gap: 3px; }
.ls-row { display: flex; gap: 8px; justify-content: flex-end; }
`;

let injected = new WeakSet<Document | ShadowRoot>();

/** Add the stylesheet once per document (or shadow root). */
export function injectStyles(el: HTMLElement): void {
  const root = el.getRootNode() as Document | ShadowRoot;
  const target = root instanceof ShadowRoot ? root : document;
  if (injected.has(target)) return;
  const style = document.createElement("style");
  style.dataset.lightlyStudio = "";
  style.textContent = CSS + OPERATOR_STYLES;
  (target instanceof ShadowRoot ? target : document.head).append(style);
  injected.add(target);
}

/** For tests: forget which documents have the stylesheet. */
export function resetStyles(): void {
  injected = new WeakSet();
}
