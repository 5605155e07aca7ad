// Embedding plot: regl-scatterplot (WebGL) fed once with the Float32 coordinates from
// `plot_points`; a lasso/click selection goes to the server as point indices (one Uint32
// buffer) and comes back as a token naming the id set (`plot_select`), never as id strings;
// colour by class label, annotation source, tag, a metadata key (numeric keys: a colour ramp
// with its legend; the others: one colour per value) or an evaluation run's outcome per sample;
// a legend click hides a category's points, a double-click shows only that one; points outside
// the explorer's filter stay drawn, greyed (setFilter); hover shows a card with the thumbnail
// and the file name.

import createScatterplot from "regl-scatterplot";
import { clear, h } from "../lib/dom";
import { paletteHex } from "../lib/colors";
import type { ModelLike } from "../transport/model";
import type { RpcClient } from "../transport/rpc";
import type { PlotSelection } from "../transport/methods";
import type { ReadyInfo } from "./explorer";
import { injectStyles } from "./styles";

export interface PlotOptions {
  rpc: RpcClient;
  datasetId: string;
  /** Video datasets: "frame" plots the frames, otherwise the videos (the grid's collection). */
  kind?: string;
  colorBy: string;
  /** ids: the token of the selected id set for a spec's "ids" (null: nothing selected). */
  onSelection: (selection: PlotSelection) => void;
  onStatus?: (text: string) => void;
}

export type { PlotSelection } from "../transport/methods";

/** The numeric ramp (viridis, 10 steps): dark for the smallest values, yellow for the largest. */
export const RAMP = ["#440154", "#482878", "#3e4989", "#31688e", "#26828e", "#1f9e89", "#35b779", "#6ece58", "#b5de2b", "#fde725"];
const NONE_COLOR = "#8a94a0";
const PLAIN_COLOR = "#3b82f6";
/** Points outside the explorer's filter: drawn, greyed (the plot keeps its shape). */
export const OUTSIDE_COLOR = "#c9ced6";
const OUTSIDE_COLOR_DARK = "#3a4048";

type Scatter = ReturnType<typeof createScatterplot>;

export class PlotView {
  readonly el: HTMLDivElement;
  private readonly canvasBox: HTMLDivElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly legend: HTMLDivElement;
  private readonly tip: HTMLDivElement;
  private readonly bar: HTMLDivElement;
  private readonly status: HTMLSpanElement;
  private scatter: Scatter | null = null;
  private token = "";
  private xs = new Float32Array(0);
  private ys = new Float32Array(0);
  private cats = new Float32Array(0);
  /** Each point's category of the current colouring (0: "none"; all 0 without colouring). */
  private base = new Uint8Array(0);
  private legendNames: string[] = [];
  private colors: string[] = [PLAIN_COLOR];
  /** Legend categories whose points are hidden (a legend click). */
  private hidden = new Set<number>();
  private hiddenBeforeClick: Set<number> | null = null;
  private painting: Promise<void> = Promise.resolve();
  private paintQueued = false;
  /** 1 for the points in the explorer's filter; null: no filter (nothing greyed). */
  private inFilter: Uint8Array | null = null;
  private filterSpec: Record<string, unknown> | null = null;
  private filterSeq = 0;
  private selectedIdx: number[] = [];
  private selected: PlotSelection = { ids: null, count: 0 };
  private selectSeq = 0;
  private mode!: HTMLSelectElement;
  private ready = false;
  private readonly resize: ResizeObserver;
  private hoverSeq = 0;
  private pointerDownHere = false;
  private readonly disposers: (() => void)[] = [];
  /** Screen position of a point in the canvas (tests hover it). */
  pointPosition(index: number): [number, number] | null {
    return (this.scatter?.getScreenPosition(index) as [number, number] | undefined) ?? null;
  }
  /** Time of the last lasso -> ids round trip, in ms (the benchmark reads it). */
  lastSelectMs = 0;

  constructor(private readonly o: PlotOptions) {
    this.canvas = h("canvas", { "data-testid": "ls-plot-canvas" });
    this.legend = h("div", { class: "ls-legend", "data-testid": "ls-plot-legend" });
    this.tip = h("div", { class: "ls-plot-tip", "data-testid": "ls-plot-tip", style: "display:none" });
    this.canvasBox = h("div", { class: "ls-plot" }, this.canvas, this.legend, this.tip);
    this.status = h("span", { class: "ls-count", "data-testid": "ls-plot-status" }, "Loading plot…");
    this.bar = h("div", { class: "ls-toolbar" });
    this.el = h("div", { class: "ls-main", "data-testid": "ls-plot" }, this.bar, this.canvasBox);
    (this.el as any).__lsPlot = this; // tests and benchmarks read point positions through it
    this.resize = new ResizeObserver(() => this.fit());
    this.resize.observe(this.canvasBox);
    this.renderBar();
  }

  private renderBar(): void {
    clear(this.bar);
    const mode = h("select", { "aria-label": "mouse mode", "data-testid": "ls-plot-mode" },
      h("option", { value: "lasso" }, "Lasso"), h("option", { value: "panZoom" }, "Pan / zoom"));
    this.mode = mode;
    mode.addEventListener("change", () => { if (this.ready) this.scatter?.set({ mouseMode: mode.value as "lasso" | "panZoom" }); });
    const color = h("select", { "aria-label": "colour by", "data-testid": "ls-plot-color" },
      h("option", { value: "" }, "no colour"), h("option", { value: "label" }, "colour by class"),
      h("option", { value: "source" }, "colour by source"));
    void this.o.rpc.call("field_choices", { dataset_id: this.o.datasetId }).then(({ result }) => {
      const group = (label: string, options: [string, string][]) => options.length
        ? color.append(h("optgroup", { label }, options.map(([v, t]) => h("option", { value: v }, t)))) : undefined;
      group("tag", result.tags.map((t) => [`tag:${t}`, `tag: ${t}`]));
      group("evaluation status", (result.evaluations ?? []).map((r) => [`evaluation:${r}`, `evaluation: ${r}`]));
      group("numeric metadata (ramp)", result.metadata.filter((m) => m.numeric).map((m) => [`metadata:${m.key}`, m.key]));
      group("categorical metadata", result.metadata.filter((m) => !m.numeric).map((m) => [`metadata:${m.key}`, m.key]));
      color.value = this.o.colorBy;
    }).catch(() => undefined); // the plain choices above still work
    color.value = this.o.colorBy;
    color.addEventListener("change", () => void this.setColorBy(color.value));
    const tagInput = h("input", { type: "text", placeholder: "Tag selection…", "data-testid": "ls-plot-tag-input", style: "width:140px" });
    tagInput.addEventListener("keydown", (e) => {
      if (e.key === "Enter") void this.tagSelection(tagInput.value).then(() => (tagInput.value = ""));
    });
    this.bar.append(this.status, h("span", { class: "ls-spacer" }), mode, color, tagInput,
      h("button", { onclick: () => { this.pointerDownHere = true; this.scatter?.deselect(); } }, "Clear"),
      h("button", { onclick: () => this.scatter?.reset() }, "Reset view"));
  }

  async load(): Promise<void> {
    try {
      const { result, buffers } = await this.o.rpc.call(
        "plot_points", { dataset_id: this.o.datasetId, kind: this.o.kind ?? null },
        { onProgress: (p) => (this.status.textContent = p.message || "Computing…") });
      this.token = result.token;
      const xy = new Float32Array(buffers[0].slice().buffer);
      const n = result.count;
      this.xs = new Float32Array(n);
      this.ys = new Float32Array(n);
      let minX = Infinity, maxX = -Infinity, minY = Infinity, maxY = -Infinity;
      for (let i = 0; i < n; i++) {
        const x = xy[2 * i], y = xy[2 * i + 1];
        if (x < minX) minX = x; if (x > maxX) maxX = x;
        if (y < minY) minY = y; if (y > maxY) maxY = y;
      }
      const sx = maxX > minX ? 1.9 / (maxX - minX) : 1, sy = maxY > minY ? 1.9 / (maxY - minY) : 1;
      for (let i = 0; i < n; i++) {
        this.xs[i] = maxX > minX ? (xy[2 * i] - minX) * sx - 0.95 : 0;
        this.ys[i] = maxY > minY ? (xy[2 * i + 1] - minY) * sy - 0.95 : 0;
      }
      this.cats = new Float32Array(n);
      this.base = new Uint8Array(n);
      this.status.textContent = "Building the lasso index…"; // no "N points" before it is ready
      this.create();
      // draw() resolves once regl-scatterplot has built its lasso's spatial index (from
      // 1,000,000 points on in a worker, which takes seconds); a lasso before that selects
      // nothing, so "N points" shows, and the lasso mode is switched on, only from then on.
      await this.draw();
      this.ready = true;
      this.scatter?.set({ mouseMode: this.mode.value as "lasso" | "panZoom" });
      this.status.textContent = `${n.toLocaleString("en-US")} points`;
      if (this.o.colorBy) await this.setColorBy(this.o.colorBy);
      if (this.filterSpec) await this.setFilter(this.filterSpec);
    } catch (e) {
      // The reason goes where the plot would be, whole and wrapped (the server's message says
      // what to run, e.g. dataset.compute_embeddings()); no empty canvas stays behind it.
      this.status.textContent = "Plot unavailable";
      this.status.classList.add("ls-error");
      this.scatter?.destroy();
      this.scatter = null;
      clear(this.canvasBox);
      clear(this.bar);
      this.bar.append(this.status); // lasso, colours and tagging mean nothing without points
      const text = (e as Error).message;
      this.canvasBox.append(h("div", { class: "ls-plot-message", "data-testid": "ls-plot-message", role: "status" },
        h("div", { class: "ls-title" }, "No plot for this dataset yet"),
        h("p", {}, text),
        /compute_embeddings/.test(text) ? null : h("p", { class: "ls-muted" }, "The plot shows embeddings. In Python: ",
          h("code", {}, "dataset.compute_embeddings()"), ", then open the plot again.")));
    }
  }

  private create(): void {
    const { width, height } = this.canvasBox.getBoundingClientRect();
    const dark = getComputedStyle(this.el).getPropertyValue("--ls-bg").trim();
    this.scatter = createScatterplot({
      canvas: this.canvas,
      width: Math.max(100, width),
      height: Math.max(100, height),
      // The view spans [-1, 1] along the height; a panel taller than wide would cut the
      // points at the left and right edges off (seen in the side panel): zoom out to fit.
      cameraDistance: Math.max(1, height / Math.max(1, width)),
      pointSize: this.xs.length > 200_000 ? 2 : this.xs.length > 10_000 ? 3 : 5,
      pointSizeSelected: 2,
      mouseMode: "panZoom", // "lasso" once the spatial index is built (see load())
      lassoOnLongPress: false,
      backgroundColor: isDark(dark) ? [0.05, 0.06, 0.07, 1] : [0.96, 0.97, 0.98, 1],
      pointColor: "#3b82f6",
      pointColorActive: "#f97316",
      lassoColor: "#f97316",
    } as any);
    this.scatter.subscribe("select", ({ points }) => void this.onSelect(points));
    // regl-scatterplot deselects on any click it sees, including clicks elsewhere on the
    // page (another notebook cell): that must not drop the selection Python reads. Only a
    // click that started on this canvas (or the Clear button) deselects.
    const onPointerDown = (e: PointerEvent) => { this.pointerDownHere = this.canvas.contains(e.target as Node); };
    window.addEventListener("pointerdown", onPointerDown, true);
    this.disposers.push(() => window.removeEventListener("pointerdown", onPointerDown, true));
    this.scatter.subscribe("deselect", () => {
      if (this.pointerDownHere) void this.onSelect([]);
      else if (this.selectedIdx.length) this.scatter?.select(this.selectedIdx, { preventEvent: true });
    });
    this.scatter.subscribe("pointOver", (i) => void this.hover(i));
    this.scatter.subscribe("pointOut", () => (this.tip.style.display = "none"));
  }

  /** Draw the points with the current categories. After the first draw the coordinates do not
   * change, so a recolouring reuses the lasso's spatial index (at 1,000,000 points building it
   * takes seconds). */
  private async draw(): Promise<void> {
    if (!this.scatter) return;
    const spatialIndex = this.ready ? (this.scatter.get as (k: string) => unknown)("spatialIndex") : undefined;
    await this.scatter.draw({ x: this.xs, y: this.ys, valueA: this.cats } as any, spatialIndex ? { spatialIndex } as any : undefined);
  }

  async setColorBy(by: string): Promise<void> {
    this.o.colorBy = by;
    if (!this.scatter || !this.token) return;
    const { result, buffers } = await this.o.rpc.call("plot_colors", { token: this.token, by });
    this.base = new Uint8Array(buffers[0].slice(0));
    const n = Math.max(1, result.legend.length);
    this.colors = !by ? [PLAIN_COLOR]
      : result.colors?.length ? result.colors
      : result.continuous ? [NONE_COLOR, ...RAMP] : [NONE_COLOR, ...paletteHex(Math.max(1, n - 1))];
    this.legendNames = by ? result.legend : [];
    this.hidden.clear();
    this.renderLegend(by, !!result.continuous);
    await this.paint();
  }

  /** Grey the points outside a filter (the explorer's spec; null: none). The plot's own lasso
   * (the spec's `ids` when it is this plot's selection) is no filter here: it is drawn as the
   * selection. */
  async setFilter(spec: Record<string, unknown> | null): Promise<void> {
    const next = spec ? { ...spec } : null;
    if (next) {
      if (this.selected.ids && next.ids === this.selected.ids) delete next.ids;
      delete next.sort;
    }
    this.filterSpec = next;
    if (!this.scatter || !this.token || !this.ready) return;
    const seq = ++this.filterSeq;
    let mask: Uint8Array | null = null;
    if (next && Object.keys(next).some((k) => k !== "dataset_id" && k !== "kind")) {
      const { result, buffers } = await this.o.rpc.call("plot_indices", { token: this.token, spec: next });
      if (seq !== this.filterSeq) return;
      if (result.count < this.xs.length) {
        mask = new Uint8Array(this.xs.length);
        for (const i of new Uint32Array(buffers[0].slice().buffer)) mask[i] = 1;
      }
    }
    this.inFilter = mask;
    this.renderLegend(this.o.colorBy, this.legend.dataset.continuous === "1");
    await this.paint();
  }

  /** Points in the filter: their category's colour; outside it: grey; a hidden category's
   * points: filtered out of the scatterplot (not drawn, not lassoed). */
  private paint(): Promise<void> {
    // One draw at a time (regl-scatterplot refuses a draw while one runs); the queued one
    // reads the state of when it runs, so several requests while drawing make one more draw.
    if (this.paintQueued) return this.painting;
    this.paintQueued = true;
    this.painting = this.painting.then(() => {
      this.paintQueued = false;
      return this.paintNow();
    }).catch((e) => this.o.onStatus?.(`Plot: ${(e as Error).message}`));
    return this.painting;
  }

  private async paintNow(): Promise<void> {
    if (!this.scatter) return;
    const outside = this.colors.length;
    const n = this.xs.length;
    for (let i = 0; i < n; i++) this.cats[i] = this.inFilter && !this.inFilter[i] ? outside : this.base[i] ?? 0;
    await this.scatter.set({ colorBy: "valueA", pointColor: [...this.colors, this.outsideColor()] } as any);
    await this.draw();
    if (this.hidden.size) {
      const shown: number[] = [];
      for (let i = 0; i < n; i++) if (!this.hidden.has(this.base[i])) shown.push(i);
      await this.scatter.filter(shown, { preventEvent: true });
    }
    this.scatter.select(this.selectedIdx.filter((i) => !this.hidden.has(this.base[i])), { preventEvent: true });
    this.el.dataset.greyed = String(this.inFilter ? this.inFilter.reduce((a, v) => a + (v ? 0 : 1), 0) : 0);
    this.el.dataset.hidden = [...this.hidden].sort((a, b) => a - b).map((k) => this.legendNames[k]).join(",");
  }

  private outsideColor(): string {
    return isDark(getComputedStyle(this.el).getPropertyValue("--ls-bg").trim()) ? OUTSIDE_COLOR_DARK : OUTSIDE_COLOR;
  }

  /** Legend: click hides or shows a category, double-click shows only it (again: all). */
  private toggleCategory(k: number, only: boolean): void {
    if (only) {
      // A double-click's first click already toggled k: judge by the state before it.
      const before = this.hiddenBeforeClick ?? this.hidden;
      const isolated = before.size === this.legendNames.length - 1 && !before.has(k);
      this.hidden = new Set(isolated ? [] : this.legendNames.map((_, j) => j).filter((j) => j !== k));
    } else {
      this.hiddenBeforeClick = new Set(this.hidden);
      if (this.hidden.has(k)) this.hidden.delete(k);
      else this.hidden.add(k);
    }
    for (const row of this.legend.querySelectorAll<HTMLElement>("[data-category]")) {
      const off = this.hidden.has(Number(row.dataset.category));
      row.classList.toggle("ls-legend-off", off);
      row.setAttribute("aria-pressed", String(!off));
    }
    void this.paint();
  }

  private legendRow(name: string, color: string, k: number | null): HTMLElement {
    const dot = h("span", { class: "ls-dot", style: `display:inline-block;margin-right:4px;background:${color}` });
    if (k === null) return h("div", { "data-name": name, class: "ls-legend-static" }, dot, name);
    const off = this.hidden.has(k);
    const row = h("button", {
      type: "button", class: `ls-legend-row${off ? " ls-legend-off" : ""}`, "data-name": name, "data-category": k,
      "aria-pressed": String(!off), title: "click: hide / show · double-click: only this",
    }, dot, name);
    row.addEventListener("click", (e) => { if (e.detail < 2) this.toggleCategory(k, false); });
    row.addEventListener("dblclick", () => this.toggleCategory(k, true));
    return row;
  }

  private renderLegend(by: string, continuous: boolean): void {
    clear(this.legend);
    this.legend.dataset.by = by;
    this.legend.dataset.continuous = continuous ? "1" : "";
    const legend = this.legendNames;
    if (by && continuous) {
      // A ramp: the gradient with the smallest and largest value, and the "none" swatch.
      const ticks = legend.slice(1);
      this.legend.append(
        h("div", { class: "ls-legend-title" }, by.replace(/^metadata:/, "")),
        h("div", { class: "ls-legend-ramp", "data-testid": "ls-plot-ramp", style: `background:linear-gradient(to right, ${RAMP.join(", ")})` }),
        h("div", { class: "ls-legend-ticks" }, h("span", { "data-testid": "ls-plot-ramp-min" }, ticks[0] ?? ""), h("span", { "data-testid": "ls-plot-ramp-max" }, ticks[ticks.length - 1] ?? "")),
        this.legendRow(legend[0], NONE_COLOR, 0));
    } else if (by) {
      if (by.startsWith("evaluation:")) this.legend.append(h("div", { class: "ls-legend-title" }, by.slice(11)));
      legend.forEach((name, i) => this.legend.append(this.legendRow(name, this.colors[i] ?? "#888", i)));
    }
    if (this.inFilter) {
      this.legend.append(h("div", { "data-testid": "ls-plot-outside", class: "ls-legend-static ls-muted" },
        h("span", { class: "ls-dot", style: `display:inline-block;margin-right:4px;background:${this.outsideColor()}` }), "outside the filter"));
    }
    this.legend.style.display = by || this.inFilter ? "" : "none";
  }

  private async onSelect(points: number[]): Promise<void> {
    this.selectedIdx = points;
    const seq = ++this.selectSeq;
    const t0 = performance.now();
    const idx = Uint32Array.from(points);
    // Sent even when empty: in a notebook the kernel clears plot.selected_ids on it.
    const { result } = await this.o.rpc.call("plot_select", { token: this.token }, { buffers: [idx.buffer] });
    if (seq !== this.selectSeq) return; // a newer lasso already went out
    this.selected = result;
    this.lastSelectMs = performance.now() - t0;
    this.status.textContent = `${this.xs.length.toLocaleString("en-US")} points · ${result.count.toLocaleString("en-US")} selected`;
    this.o.onSelection(result);
  }

  /** Select the points of these ids (Python pushed a selection). */
  async highlightSpec(spec: Record<string, unknown> | null): Promise<void> {
    if (!this.scatter || !this.token) return;
    if (!spec) {
      this.scatter.deselect({ preventEvent: true });
      return;
    }
    const { buffers } = await this.o.rpc.call("plot_indices", { token: this.token, spec });
    const idx = new Uint32Array(buffers[0].slice().buffer);
    this.selectedIdx = Array.from(idx);
    this.scatter.select(this.selectedIdx, { preventEvent: true });
  }

  private async tagSelection(tag: string): Promise<void> {
    if (!tag.trim() || !this.selected.ids) return;
    const { result } = await this.o.rpc.call("tag_samples", {
      spec: { dataset_id: this.o.datasetId, ids: this.selected.ids }, tag: tag.trim() });
    this.o.onStatus?.(`Tagged ${result.changed} samples "${tag.trim()}"`);
    this.status.textContent = `Tagged ${result.changed} samples`;
  }

  private async hover(index: number): Promise<void> {
    const seq = ++this.hoverSeq;
    const { result } = await this.o.rpc.call("plot_ids", { token: this.token, indices: [index], names: true });
    if (seq !== this.hoverSeq) return;
    const id = result.sample_ids[0];
    const name = result.file_names?.[0] ?? id;
    const thumb = await this.o.rpc.call("thumbnails", { dataset_id: this.o.datasetId, sample_ids: [id] });
    if (seq !== this.hoverSeq) return;
    const [px, py] = this.scatter!.getScreenPosition(index) ?? [0, 0];
    clear(this.tip);
    this.tip.dataset.sampleId = id;
    if (thumb.buffers[0]?.byteLength) {
      const url = URL.createObjectURL(new Blob([thumb.buffers[0] as BlobPart], { type: thumb.result.mime }));
      const img = h("img", { src: url, alt: name });
      img.onload = () => URL.revokeObjectURL(url);
      this.tip.append(img);
    }
    const k = this.base[index] ?? 0;
    const category = this.o.colorBy && this.legendNames[k] !== undefined ? this.legendNames[k] : null;
    const outside = this.inFilter && !this.inFilter[index];
    this.tip.append(h("div", { class: "ls-plot-tip-name", "data-testid": "ls-plot-tip-name", title: name }, name));
    if (category !== null || outside) {
      this.tip.append(h("div", { class: "ls-muted" }, [category, outside ? "outside the filter" : null].filter(Boolean).join(" · ")));
    }
    this.tip.style.left = `${Math.min(px + 12, this.canvasBox.clientWidth - 150)}px`;
    this.tip.style.top = `${Math.max(0, py - 70)}px`;
    this.tip.style.display = "";
  }

  private fit(): void {
    if (!this.scatter) return;
    const { width, height } = this.canvasBox.getBoundingClientRect();
    if (width > 0 && height > 0) this.scatter.set({ width, height });
  }

  get selection(): PlotSelection {
    return this.selected;
  }

  dispose(): void {
    for (const d of this.disposers) d();
    this.resize.disconnect();
    this.scatter?.destroy();
  }
}

function isDark(color: string): boolean {
  const hex = color.match(/^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})/i);
  if (hex) return 0.299 * parseInt(hex[1], 16) + 0.587 * parseInt(hex[2], 16) + 0.114 * parseInt(hex[3], 16) < 128;
  const m = color.match(/\d+/g);
  if (!m || m.length < 3) return window.matchMedia?.("(prefers-color-scheme: dark)").matches ?? false;
  const [r, g, b] = m.map(Number);
  return 0.299 * r + 0.587 * g + 0.114 * b < 128;
}

/** The EmbeddingPlot widget: the plot on its own, bound to the widget's model. */
export function mountPlot(el: HTMLElement, model: ModelLike, rpc: RpcClient, info: ReadyInfo): () => void {
  injectStyles(el);
  const plot = new PlotView({
    rpc, datasetId: info.dataset_id, colorBy: model.get("color_by") ?? "",
    // plot.selected_ids is set in the kernel by the widget's plot_select handler.
    onSelection: () => undefined,
  });
  const root = h("div", { class: "ls-root", "data-testid": "ls-plot-root", style: `height:${model.get("height") ?? 480}px` }, plot.el);
  el.append(root);
  (root as any).__lsPlot = plot;
  const onColor = () => void plot.setColorBy(model.get("color_by") ?? "");
  const onHighlight = () => {
    const spec = model.get("highlight_spec");
    void plot.highlightSpec(spec && Object.keys(spec).length ? spec : null);
  };
  model.on("change:color_by", onColor);
  model.on("change:highlight_spec", onHighlight);
  void plot.load().then(onHighlight);
  return () => {
    model.off("change:color_by", onColor);
    model.off("change:highlight_spec", onHighlight);
    plot.dispose();
    root.remove();
  };
}
