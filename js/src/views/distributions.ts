// The Distribution panel: annotation classes as bars (objects or images per class, sorted by
// count or name), numeric fields and metadata as histograms (bin count adjustable), categorical
// metadata as value counts with a "missing" bar. The charts are computed over the current
// filter (api `distributions`), so they follow it. Clicking a bar or brushing a histogram range
// sets the same spec keys the filter panel sets (`labels`, `width`/`height`/…,
// `metadata.<key>.range|values`), so the filter panel and the query box stay in sync.

import { h, s, formatCount } from "../lib/dom";
import { labelColor } from "../lib/colors";
import type { DistCategorical, DistHist, Distributions, Spec } from "../transport/methods";
import type { RpcClient } from "../transport/rpc";

export interface DistributionPanelOptions {
  rpc: RpcClient;
  /** The explorer's current spec. */
  spec: () => Spec;
  /** Apply a new spec (the explorer's applySpec: grid, filter panel and query box follow). */
  onSpec: (spec: Spec) => void;
  onClose: () => void;
}

type Range = [number | null, number | null];
const SPEC_RANGE_KEYS = ["width", "height", "fps", "duration_s"];
const HIST_W = 260, HIST_H = 64;

/** The spec's range for a chart's field (`width` or `metadata:<key>`), if one is set. */
export function rangeOf(spec: Spec, field: string): Range | null {
  if (field.startsWith("metadata:")) {
    const cond = ((spec.metadata as Record<string, any>) ?? {})[field.slice(9)];
    return (cond?.range as Range) ?? null;
  }
  return (spec[field] as Range) ?? null;
}

/** The spec with the field's range set (null: removed), other metadata filters kept. */
export function withRange(spec: Spec, field: string, range: Range | null): Spec {
  const next: Spec = { ...spec };
  if (field.startsWith("metadata:")) {
    const key = field.slice(9);
    const md: Record<string, any> = { ...((spec.metadata as Record<string, any>) ?? {}) };
    const cond = { ...(md[key] ?? {}) };
    if (range) cond.range = range; else delete cond.range;
    if (Object.keys(cond).length) md[key] = cond; else delete md[key];
    if (Object.keys(md).length) next.metadata = md; else delete next.metadata;
  } else if (SPEC_RANGE_KEYS.includes(field)) {
    if (range) next[field] = range; else delete next[field];
  }
  return next;
}

/** The spec with a categorical value added to (or removed from) the key's value filter. */
export function toggleValue(spec: Spec, key: string, value: unknown): Spec {
  const md: Record<string, any> = { ...((spec.metadata as Record<string, any>) ?? {}) };
  const cond = { ...(md[key] ?? {}) };
  const values: unknown[] = (cond.values ?? []).slice();
  const at = values.findIndex((v) => v === value);
  if (at >= 0) values.splice(at, 1); else values.push(value);
  if (values.length) cond.values = values; else delete cond.values;
  if (Object.keys(cond).length) md[key] = cond; else delete md[key];
  const next: Spec = { ...spec };
  if (Object.keys(md).length) next.metadata = md; else delete next.metadata;
  return next;
}

/** The spec with the key's "missing" filter switched: samples without the key are added to
 * (or removed from) what the key's value filter keeps (`metadata.<key>.missing`). */
export function toggleMissing(spec: Spec, key: string): Spec {
  const md: Record<string, any> = { ...((spec.metadata as Record<string, any>) ?? {}) };
  const cond = { ...(md[key] ?? {}) };
  if (cond.missing) delete cond.missing; else cond.missing = true;
  if (Object.keys(cond).length) md[key] = cond; else delete md[key];
  const next: Spec = { ...spec };
  if (Object.keys(md).length) next.metadata = md; else delete next.metadata;
  return next;
}

/** The spec with a class added to (or removed from) the `labels` filter. */
export function toggleLabel(spec: Spec, name: string): Spec {
  const labels = ((spec.labels as string[]) ?? []).slice();
  const at = labels.indexOf(name);
  if (at >= 0) labels.splice(at, 1); else labels.push(name);
  const next: Spec = { ...spec };
  if (labels.length) next.labels = labels; else delete next.labels;
  const excluded = ((spec.exclude_labels as string[]) ?? []).filter((l) => l !== name);
  if (excluded.length) next.exclude_labels = excluded; else delete next.exclude_labels;
  return next;
}

/** The value range [lo, hi] covered by bins i..j of a histogram (whole bins: a brush snaps).
 * A bin holds [edge, next edge) (the last one its upper edge too) while a spec range is
 * inclusive: for integer values the upper bound is the last integer below the next edge, so
 * the filter keeps exactly the brushed bars' samples. */
export function binRange(edges: number[], i: number, j: number, integer = false): [number, number] {
  const a = Math.max(0, Math.min(i, j)), b = Math.min(edges.length - 2, Math.max(i, j));
  const last = b === edges.length - 2;
  if (!integer) return [edges[a], edges[b + 1]];
  return [Math.ceil(edges[a]), last ? edges[b + 1] : Math.ceil(edges[b + 1]) - 1];
}

function fmt(v: number): string {
  if (Number.isInteger(v)) return formatCount(v);
  const a = Math.abs(v);
  return a >= 100 ? v.toFixed(0) : a >= 1 ? v.toFixed(2) : v.toPrecision(3);
}

export class DistributionPanel {
  readonly el: HTMLElement;
  private body: HTMLElement;
  private bins: HTMLInputElement;
  private classMode: HTMLSelectElement;
  private classSort: HTMLSelectElement;
  private data: Distributions | null = null;
  private requestId = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly o: DistributionPanelOptions) {
    this.bins = h("input", { type: "number", min: 2, max: 200, value: 20, "aria-label": "histogram bins", "data-testid": "ls-dist-bins", style: "width:4.5em" });
    this.bins.addEventListener("change", () => void this.load());
    this.classMode = h("select", { "aria-label": "count classes by", "data-testid": "ls-dist-class-mode" },
      h("option", { value: "objects" }, "objects"), h("option", { value: "images" }, "images"));
    this.classSort = h("select", { "aria-label": "sort classes by", "data-testid": "ls-dist-class-sort" },
      h("option", { value: "count" }, "by count"), h("option", { value: "name" }, "by name"));
    // Images per class is a distinct count (slower at a million samples): asked for only in
    // that mode, so switching the mode reloads.
    this.classMode.addEventListener("change", () => void this.load());
    this.classSort.addEventListener("change", () => this.render());
    this.body = h("div", { class: "ls-dist-body", "aria-busy": "true" }, h("p", { class: "ls-muted" }, "Loading…"));
    this.el = h("div", { class: "ls-dist", "data-testid": "ls-dist-panel" },
      h("div", { class: "ls-dist-head" }, h("strong", {}, "Distributions"),
        h("label", { class: "ls-muted", title: "Bins per histogram" }, "bins ", this.bins),
        h("button", { class: "ls-dist-close", "aria-label": "close distributions", onclick: () => this.o.onClose() }, "×")),
      this.body);
  }

  /** The filter changed: reload (coalescing a burst of changes, e.g. typing in a range box). */
  setSpec(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.load(), 120);
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.requestId++;
  }

  async load(): Promise<void> {
    const id = ++this.requestId;
    const bins = Math.max(2, Math.min(200, Math.round(Number(this.bins.value)) || 20));
    this.bins.value = String(bins);
    this.body.setAttribute("aria-busy", "true");
    try {
      const class_count = this.classMode.value as "objects" | "images";
      const { result } = await this.o.rpc.call("distributions", { spec: this.o.spec(), bins, class_count });
      if (id !== this.requestId) return;
      this.data = result;
      this.render();
    } catch (e) {
      if (id !== this.requestId) return;
      this.body.replaceChildren(h("p", { class: "ls-error", "data-testid": "ls-dist-error" }, (e as Error).message));
    } finally {
      if (id === this.requestId) this.body.removeAttribute("aria-busy");
    }
  }

  private render(): void {
    const d = this.data;
    if (!d) return;
    const scrollTop = this.el.scrollTop;
    this.body.replaceChildren(
      h("div", { class: "ls-muted", "data-testid": "ls-dist-count" }, `${formatCount(d.count)} samples in the filter`),
      this.classes(d),
      ...d.numeric.filter((n) => n.min !== null || n.missing > 0).map((n) => this.histogram(n)),
      ...d.categorical.map((c) => this.categorical(c)));
    this.el.scrollTop = scrollTop;
  }

  private section(title: string, testid: string, key: string, extra: (Node | null)[], ...content: Node[]): HTMLElement {
    return h("section", { class: "ls-dist-section", "data-testid": testid, "data-key": key },
      h("div", { class: "ls-dist-title" }, h("span", { class: "ls-name", title }, title), ...extra), ...content);
  }

  /** One row per value: name, a bar scaled to the largest count, the count. */
  private barRow(name: string, count: number, max: number, opts: { color?: string; active?: boolean; muted?: boolean; onClick?: () => void; title?: string }): HTMLElement {
    const pct = max > 0 ? (100 * count) / max : 0;
    const attrs = { class: `ls-dist-row${opts.active ? " ls-active" : ""}${opts.muted ? " ls-muted" : ""}`, "data-value": name, title: opts.title ?? name, "aria-pressed": opts.onClick ? String(!!opts.active) : null };
    const content = [
      h("span", { class: "ls-dist-name" }, name),
      h("span", { class: "ls-dist-track" }, h("span", { class: "ls-dist-bar", style: `width:${pct.toFixed(1)}%${opts.color ? `;background:${opts.color}` : ""}` })),
      h("span", { class: "ls-dist-n" }, formatCount(count)),
    ];
    return opts.onClick ? h("button", { ...attrs, type: "button", onclick: opts.onClick }, ...content) : h("div", attrs, ...content);
  }

  private classes(d: Distributions): HTMLElement {
    // The images count of the answer when it has one (the mode may have changed since).
    const byImages = this.classMode.value === "images" && d.classes.every((r) => r.images !== null);
    const count = (r: Distributions["classes"][number]): number => (byImages ? r.images ?? 0 : r.objects);
    const rows = d.classes.slice();
    if (this.classSort.value === "name") rows.sort((a, b) => a.name.localeCompare(b.name));
    else rows.sort((a, b) => count(b) - count(a) || a.name.localeCompare(b.name));
    const max = Math.max(0, ...rows.map(count));
    const chosen = new Set((this.o.spec().labels as string[]) ?? []);
    const content = rows.length
      ? rows.map((r) => this.barRow(r.name, count(r), max, {
          color: labelColor(r.name), active: chosen.has(r.name),
          title: `${r.name}: ${formatCount(r.objects)} objects${r.images === null ? "" : ` on ${formatCount(r.images)} images`} — click to filter`,
          onClick: () => this.o.onSpec(toggleLabel(this.o.spec(), r.name)),
        }))
      : [h("p", { class: "ls-muted" }, "No annotations in the filter.")];
    return this.section("Classes", "ls-dist-classes", "", [this.classMode, this.classSort], h("div", { class: "ls-dist-bars" }, content));
  }

  private categorical(c: DistCategorical): HTMLElement {
    const spec = this.o.spec();
    const cond = ((spec.metadata as Record<string, any>) ?? {})[c.key] ?? {};
    const chosen: unknown[] = cond.values ?? [];
    const key = c.key;
    const max = Math.max(c.missing, c.other, ...c.values.map((v) => v.count));
    // Booleans travel as text ("true"); the filter compares with JSON booleans.
    const typed = (v: string): unknown => (c.type === "bool" ? v === "true" : v);
    const rows = c.values.map((v) => this.barRow(v.value, v.count, max, {
      active: chosen.includes(typed(v.value)),
      onClick: () => this.o.onSpec(toggleValue(this.o.spec(), key, typed(v.value))),
    }));
    if (c.other > 0) rows.push(this.barRow("(other values)", c.other, max, { muted: true, title: "Values beyond the listed ones" }));
    // Shown while chosen even at 0 (the filter may leave none), so a second click removes it.
    if (c.missing > 0 || cond.missing) rows.push(this.barRow("missing", c.missing, max, {
      muted: true, active: !!cond.missing, title: `Samples without “${key}” — click to filter`,
      onClick: () => this.o.onSpec(toggleMissing(this.o.spec(), key)),
    }));
    return this.section(key, "ls-dist-cat", key, [], h("div", { class: "ls-dist-bars" }, rows));
  }

  private histogram(n: DistHist): HTMLElement {
    const range = rangeOf(this.o.spec(), n.field);
    const clearBtn = range
      ? h("button", { class: "ls-dist-clear", "data-testid": "ls-dist-clear-range", title: `Clear the ${n.key} range`,
          onclick: () => this.o.onSpec(withRange(this.o.spec(), n.field, null)) }, `${range[0] === null ? "…" : fmt(range[0])} – ${range[1] === null ? "…" : fmt(range[1])} ×`)
      : null;
    const missing = n.missing > 0 ? h("span", { class: "ls-muted", "data-testid": "ls-dist-missing", title: `Samples without “${n.key}”` }, `missing ${formatCount(n.missing)}`) : null;
    if (n.min === null) return this.section(n.key, "ls-dist-hist", n.key, [missing, clearBtn]);
    const counts = n.counts;
    const max = Math.max(1, ...counts);
    const bw = HIST_W / counts.length;
    const bars = counts.map((c, i) => s("rect", {
      class: "ls-dist-hbar", "data-bin": i, x: (i * bw + 0.5).toFixed(2), width: Math.max(0.5, bw - 1).toFixed(2),
      y: (HIST_H - (c ? Math.max(1, (c / max) * HIST_H) : 0)).toFixed(2), height: (c ? Math.max(1, (c / max) * HIST_H) : 0).toFixed(2),
    }, s("title", {}, `${fmt(n.edges[i])} – ${fmt(n.edges[i + 1])}: ${formatCount(c)}`)));
    const brush = s("rect", { class: "ls-dist-brush", x: 0, y: 0, width: 0, height: HIST_H, visibility: "hidden" });
    const svg = s("svg", { class: "ls-dist-svg", viewBox: `0 0 ${HIST_W} ${HIST_H}`, preserveAspectRatio: "none", "data-testid": "ls-dist-svg",
      role: "img", "aria-label": `${n.key} histogram: drag to filter a range` }, ...bars, brush) as SVGSVGElement;
    // Brush: drag across bins (or click one) to filter to whole bins; the range snaps to edges.
    const binAt = (ev: PointerEvent): number => {
      const r = svg.getBoundingClientRect();
      const f = r.width > 0 ? (ev.clientX - r.left) / r.width : 0;
      return Math.max(0, Math.min(counts.length - 1, Math.floor(f * counts.length)));
    };
    let start = -1;
    const show = (i: number, j: number) => {
      const a = Math.min(i, j), b = Math.max(i, j);
      brush.setAttribute("x", String(a * bw));
      brush.setAttribute("width", String((b - a + 1) * bw));
      brush.setAttribute("visibility", "visible");
    };
    svg.addEventListener("pointerdown", (ev) => {
      start = binAt(ev);
      svg.setPointerCapture?.(ev.pointerId);
      show(start, start);
      ev.preventDefault();
    });
    svg.addEventListener("pointermove", (ev) => { if (start >= 0) show(start, binAt(ev)); });
    svg.addEventListener("pointerup", (ev) => {
      if (start < 0) return;
      const [lo, hi] = binRange(n.edges, start, binAt(ev), n.type === "int");
      start = -1;
      this.o.onSpec(withRange(this.o.spec(), n.field, [lo, hi]));
    });
    svg.addEventListener("pointercancel", () => { start = -1; brush.setAttribute("visibility", "hidden"); });
    return this.section(n.key, "ls-dist-hist", n.key, [missing, clearBtn], svg,
      h("div", { class: "ls-dist-axis" }, h("span", {}, fmt(n.min)), h("span", {}, fmt(n.max!))));
  }
}

export const DIST_STYLES = `
.ls-root .ls-dist { width: 32%; min-width: 260px; flex: none; border-left: 1px solid var(--ls-border); overflow-y: auto;
  padding: 6px 10px 16px; box-sizing: border-box; display: flex; flex-direction: column; gap: 4px; }
.ls-root .ls-dist-head { display: flex; gap: 8px; align-items: center; position: sticky; top: -6px; background: var(--ls-bg); padding: 4px 0; z-index: 1; }
.ls-root .ls-dist-head strong { flex: 1; }
.ls-root .ls-dist-close { border: none; background: none; font-size: 16px; cursor: pointer; color: var(--ls-fg2); }
.ls-root .ls-dist-section { margin-top: 8px; }
.ls-root .ls-dist-title { display: flex; gap: 6px; align-items: center; font-weight: 600; margin-bottom: 3px; }
.ls-root .ls-dist-title .ls-name { flex: 1; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.ls-root .ls-dist-title select, .ls-root .ls-dist-title .ls-muted { font-weight: normal; font-size: 11px; }
.ls-root .ls-dist-bars { display: flex; flex-direction: column; gap: 1px; max-height: 260px; overflow-y: auto; }
.ls-root .ls-dist-row { display: grid; grid-template-columns: minmax(60px, 38%) 1fr auto; gap: 6px; align-items: center;
  font: inherit; font-size: 12px; color: inherit; background: none; border: 1px solid transparent; border-radius: 3px;
  padding: 1px 3px; text-align: left; width: 100%; box-sizing: border-box; }
.ls-root button.ls-dist-row { cursor: pointer; }
.ls-root button.ls-dist-row:hover { background: var(--ls-bg2); }
.ls-root .ls-dist-row.ls-active { border-color: var(--ls-accent); background: var(--ls-bg2); }
.ls-root .ls-dist-row.ls-muted { color: var(--ls-fg2); font-style: italic; }
.ls-root .ls-dist-name { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.ls-root .ls-dist-track { height: 10px; background: var(--ls-bg2); border-radius: 2px; overflow: hidden; }
.ls-root .ls-dist-bar { display: block; height: 100%; background: var(--ls-accent); }
.ls-root .ls-dist-row.ls-muted .ls-dist-bar { background: var(--ls-fg2); opacity: .5; }
.ls-root .ls-dist-n { font-variant-numeric: tabular-nums; color: var(--ls-fg2); min-width: 3em; text-align: right; }
.ls-root .ls-dist-svg { display: block; width: 100%; height: ${HIST_H}px; cursor: crosshair; touch-action: none;
  background: var(--ls-bg2); border-radius: 3px; }
.ls-root .ls-dist-hbar { fill: var(--ls-accent); }
.ls-root .ls-dist-brush { fill: var(--ls-accent); fill-opacity: .22; stroke: var(--ls-accent); }
.ls-root .ls-dist-axis { display: flex; justify-content: space-between; font-size: 11px; color: var(--ls-fg2); }
.ls-root .ls-dist-clear { font-size: 11px; font-weight: normal; padding: 0 4px; }
`;
