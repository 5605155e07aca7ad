// The Annotations view: a virtualised grid of object crops (boxes and masks) across the
// dataset, cut server-side (api/crops.py). Filters by class, source, confidence, box size and
// sample tags; sorts by insertion, confidence, size, class or a label-issue score. Select many
// (click the check box or Ctrl/Cmd+click, Shift+click for a range, Ctrl+A for the whole
// filter) and relabel, delete or tag their samples in one step; each step is undoable (the
// Undo button, Ctrl+Z, or dataset.undo() in Python). Clicking a crop opens the annotator on
// its sample with that annotation selected.

import { clear, h } from "../lib/dom";
import { labelColor } from "../lib/colors";
import { cellPosition, computeLayout, visibleRange, type Layout } from "../lib/virtual";
import type { CropQuery, CropRow, EditReply } from "../transport/methods";
import type { RpcClient } from "../transport/rpc";

const PAGE = 200;
const IMAGE_BATCH = 64;
const GAP = 8;

export interface CropsViewOptions {
  rpc: RpcClient;
  datasetId: string;
  /** Open the annotator on this crop's sample, with the annotation selected. */
  onOpen: (row: CropRow) => void;
  /** Annotations or tags changed here (the sample grid and filters reload). */
  onChanged: () => void;
  flash: (text: string, error?: boolean) => void;
}

export class CropsView {
  readonly el: HTMLDivElement;
  private query: CropQuery = {};
  private total = -1;
  private generation = 0;
  private readonly pages = new Map<number, CropRow[] | "loading">();
  private readonly images = new Map<string, string>(); // annotation id -> object URL ("" failed)
  private readonly imageErrors = new Map<string, string>();
  private readonly imageQueue = new Set<string>();
  private selected = new Set<string>();
  private anchor = -1;
  private layout: Layout = computeLayout(800, 150, 0, GAP);
  private cellSize = 150;
  private frame = 0;
  private readonly scroller: HTMLDivElement;
  private readonly spacer: HTMLDivElement;
  private readonly layer: HTMLDivElement;
  private readonly cells = new Map<number, { el: HTMLDivElement; sig: string }>();
  private readonly countEl = h("span", { class: "ls-count", "data-testid": "ls-crops-count" });
  private readonly selEl = h("span", { class: "ls-count", "data-testid": "ls-crops-selected" });
  private readonly undoBtn = h("button", { "data-testid": "ls-undo", disabled: true, title: "Undo (Ctrl+Z)" }, "Undo");
  private readonly labelSel = h("select", { "aria-label": "class", "data-testid": "ls-crops-label" });
  private readonly sourceSel = h("select", { "aria-label": "source", "data-testid": "ls-crops-source" });
  private readonly tagSel = h("select", { "aria-label": "sample tag", "data-testid": "ls-crops-tag" });
  private readonly sortSel = h("select", { "aria-label": "sort crops", "data-testid": "ls-crops-sort" });
  private readonly resize: ResizeObserver;

  constructor(private readonly o: CropsViewOptions) {
    const num = (name: string, placeholder: string, step: string) =>
      h("input", { type: "number", step, placeholder, "aria-label": placeholder, "data-testid": `ls-crops-${name}`, class: "ls-crops-num" });
    const confMin = num("conf-min", "conf ≥", "0.05");
    const confMax = num("conf-max", "conf ≤", "0.05");
    const sizeMin = num("size-min", "size ≥ px", "1");
    const sizeMax = num("size-max", "size ≤ px", "1");
    const desc = h("input", { type: "checkbox", "data-testid": "ls-crops-desc", title: "descending" });
    const value = (el: HTMLInputElement) => (el.value === "" ? null : Number(el.value));
    const apply = () => {
      const sort = this.sortSel.value;
      this.setQuery({
        labels: this.labelSel.value ? [this.labelSel.value] : [],
        sources: this.sourceSel.value ? [this.sourceSel.value] : [],
        tags: this.tagSel.value ? [this.tagSel.value] : [],
        confidence_min: value(confMin), confidence_max: value(confMax),
        size_min: value(sizeMin), size_max: value(sizeMax),
        sort, descending: desc.checked,
      });
    };
    for (const el of [this.labelSel, this.sourceSel, this.tagSel, this.sortSel, desc, confMin, confMax, sizeMin, sizeMax]) el.addEventListener("change", apply);

    const labelInput = h("input", { type: "text", placeholder: "new class", "data-testid": "ls-crops-relabel-input", style: "width:100px" });
    const relabelBtn = h("button", { "data-testid": "ls-crops-relabel" }, "Relabel");
    const deleteBtn = h("button", { "data-testid": "ls-crops-delete", class: "ls-danger" }, "Delete");
    const tagInput = h("input", { type: "text", placeholder: "sample tag", "data-testid": "ls-crops-tag-input", style: "width:100px" });
    const tagBtn = h("button", { "data-testid": "ls-crops-tag-button" }, "Tag samples");
    const selectAll = h("button", { "data-testid": "ls-crops-select-all", title: "Select every crop of the filter (Ctrl+A)" }, "Select all");
    relabelBtn.addEventListener("click", () => {
      const label = labelInput.value.trim();
      if (!label) { labelInput.focus(); return; }
      void this.edit("annotations_relabel", { label }, (n) => `Relabelled ${n} annotations as “${label}”`);
    });
    deleteBtn.addEventListener("click", () => void this.edit("annotations_delete", {}, (n) => `Deleted ${n} annotations`));
    tagBtn.addEventListener("click", () => {
      const tag = tagInput.value.trim();
      if (!tag) { tagInput.focus(); return; }
      void this.edit("annotations_tag", { tag }, (n) => `Tagged ${n} samples “${tag}”`);
    });
    selectAll.addEventListener("click", () => void this.selectAll());
    this.undoBtn.addEventListener("click", () => void this.undo());

    const filtersBar = h("div", { class: "ls-crops-bar", "data-testid": "ls-crops-filters" },
      this.labelSel, this.sourceSel, this.tagSel, confMin, confMax, sizeMin, sizeMax,
      h("span", { class: "ls-crops-sep" }, "Sort"), this.sortSel,
      h("label", { class: "ls-check", title: "descending" }, desc, "desc"));
    const actionsBar = h("div", { class: "ls-crops-bar" },
      this.countEl, this.selEl, selectAll, h("span", { class: "ls-spacer" }),
      labelInput, relabelBtn, tagInput, tagBtn, deleteBtn, this.undoBtn);
    this.spacer = h("div", { class: "ls-spacer-el" });
    this.layer = h("div", { style: "position:absolute;left:0;top:0;right:0" });
    this.scroller = h("div", { class: "ls-scroller", tabindex: 0, role: "grid", "aria-label": "annotation crops", "data-testid": "ls-crops-grid" }, this.spacer, this.layer);
    this.el = h("div", { class: "ls-crops", "data-testid": "ls-crops" }, filtersBar, actionsBar, this.scroller);
    this.scroller.addEventListener("scroll", () => this.schedule(), { passive: true });
    this.scroller.addEventListener("click", (e) => this.onClick(e));
    this.el.addEventListener("keydown", (e) => this.onKey(e));
    this.resize = new ResizeObserver(() => this.schedule());
    this.resize.observe(this.scroller);
  }

  /** (Re)load the filter choices, the undo state and the crops; `data-busy` is "1" meanwhile
   * (tests wait for "0" before clicking cells that a reload would replace). */
  async load(): Promise<void> {
    this.el.dataset.busy = "1";
    try { await this.loadNow(); } finally { this.el.dataset.busy = "0"; }
  }

  private async loadNow(): Promise<void> {
    const { result } = await this.o.rpc.call("crop_options", { dataset_id: this.o.datasetId });
    const fill = (sel: HTMLSelectElement, all: string, values: string[]) => {
      const keep = sel.value;
      clear(sel);
      sel.append(h("option", { value: "" }, all), ...values.map((v) => h("option", { value: v }, v)));
      sel.value = values.includes(keep) ? keep : "";
    };
    fill(this.labelSel, "all classes", result.labels);
    fill(this.sourceSel, "all sources", result.sources);
    fill(this.tagSel, "any sample tag", result.tags);
    const sorts: [string, string][] = [["added", "added"], ["confidence", "confidence"], ["size", "size"], ["label", "class"],
      ...result.issues.map((i): [string, string] => [`issue:${i}`, `issue: ${i}`])];
    const keep = this.sortSel.value;
    clear(this.sortSel);
    this.sortSel.append(...sorts.map(([v, t]) => h("option", { value: v }, t)));
    this.sortSel.value = sorts.some(([v]) => v === keep) ? keep : "added";
    this.setUndo(result.undo);
    await this.reload();
  }

  setQuery(q: CropQuery): void {
    this.query = q;
    this.selected.clear();
    this.anchor = -1;
    this.scroller.scrollTop = 0;
    void this.reload();
  }

  setCellSize(px: number): void {
    this.cellSize = Math.max(80, Math.min(300, px));
    this.schedule(true);
  }

  focus(): void {
    this.scroller.focus();
  }

  /** Drop every loaded page and image and load the current filter again. */
  async reload(): Promise<void> {
    this.generation++;
    this.pages.clear();
    for (const url of this.images.values()) if (url) URL.revokeObjectURL(url);
    this.images.clear();
    this.imageErrors.clear();
    this.imageQueue.clear();
    this.total = -1;
    this.renderCounts();
    await this.fetchPage(0);
    this.schedule(true);
  }

  row(index: number): CropRow | undefined {
    const page = this.pages.get(Math.floor(index / PAGE));
    return page && page !== "loading" ? page[index % PAGE] : undefined;
  }

  get selection(): string[] {
    return [...this.selected];
  }

  private async fetchPage(n: number): Promise<void> {
    if (this.pages.has(n)) return;
    this.pages.set(n, "loading");
    const gen = this.generation;
    try {
      const { result } = await this.o.rpc.call("crops_page", { ...this.query, dataset_id: this.o.datasetId, offset: n * PAGE, limit: PAGE });
      if (gen !== this.generation) return;
      this.pages.set(n, result.rows);
      this.total = result.total;
      this.renderCounts();
      this.schedule(true);
    } catch (e) {
      if (gen !== this.generation) return;
      this.pages.delete(n);
      this.total = 0;
      this.countEl.textContent = "";
      this.o.flash((e as Error).message, true);
    }
  }

  private async fetchImages(ids: string[]): Promise<void> {
    const gen = this.generation;
    for (let i = 0; i < ids.length; i += IMAGE_BATCH) {
      const batch = ids.slice(i, i + IMAGE_BATCH);
      try {
        const { result, buffers } = await this.o.rpc.call("crop_images", { dataset_id: this.o.datasetId, annotation_ids: batch });
        if (gen !== this.generation) return;
        result.annotation_ids.forEach((id, k) => {
          const buf = buffers[k];
          this.images.set(id, buf && buf.byteLength ? URL.createObjectURL(new Blob([buf as BlobPart], { type: result.mime })) : "");
          if (result.errors[k]) this.imageErrors.set(id, result.errors[k]!);
        });
      } catch (e) {
        for (const id of batch) { this.images.set(id, ""); this.imageErrors.set(id, (e as Error).message); }
      } finally {
        for (const id of batch) this.imageQueue.delete(id);
      }
      this.schedule();
    }
  }

  private renderCounts(): void {
    this.countEl.textContent = this.total < 0 ? "Loading…" : `Showing ${this.total.toLocaleString("en-US")} annotations`;
    const n = this.selected.size;
    this.selEl.textContent = n ? `${n.toLocaleString("en-US")} selected` : "";
  }

  private setUndo(description: string | null): void {
    this.undoBtn.disabled = !description;
    this.undoBtn.title = description ? `Undo: ${description} (Ctrl+Z)` : "Nothing to undo";
    this.undoBtn.textContent = description ? "Undo" : "Undo";
  }

  private async edit(method: "annotations_relabel" | "annotations_delete" | "annotations_tag", extra: { label?: string; tag?: string },
                     message: (n: number) => string): Promise<void> {
    const ids = this.selection;
    if (!ids.length) { this.o.flash("Select crops first (click their check box, Shift+click, Ctrl+A).", true); return; }
    try {
      const { result } = await this.o.rpc.call(method, { dataset_id: this.o.datasetId, annotation_ids: ids, ...extra } as never);
      const reply = result as EditReply;
      this.o.flash(`${message(reply.changed)}. Undo with Ctrl+Z.`);
      this.selected.clear();
      await this.afterChange(reply.undo);
    } catch (e) { this.o.flash((e as Error).message, true); }
  }

  async undo(): Promise<void> {
    try {
      const { result } = await this.o.rpc.call("undo", { dataset_id: this.o.datasetId });
      this.o.flash(`Undone: ${result.undone}`);
      await this.afterChange(result.undo);
    } catch (e) { this.o.flash((e as Error).message, true); }
  }

  private async afterChange(undo: string | null): Promise<void> {
    this.setUndo(undo);
    this.o.onChanged();
    await this.load();
  }

  private async selectAll(): Promise<void> {
    try {
      const { result } = await this.o.rpc.call("crops_page", { ...this.query, dataset_id: this.o.datasetId, ids_only: true });
      this.selected = new Set(result.ids ?? []);
      this.renderCounts();
      this.schedule(true);
    } catch (e) { this.o.flash((e as Error).message, true); }
  }

  private schedule(force = false): void {
    if (force) for (const c of this.cells.values()) c.sig = "";
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => { this.frame = 0; this.render(); });
  }

  private render(): void {
    const count = Math.max(0, this.total);
    this.layout = computeLayout(this.scroller.clientWidth || 800, this.cellSize, count, GAP, 18);
    this.spacer.style.height = `${this.layout.scrollHeight}px`;
    const scrollTop = this.scroller.scrollTop;
    const vh = this.scroller.clientHeight || 600;
    const range = visibleRange(this.layout, scrollTop, vh, 2);
    for (let p = Math.floor(range.start / PAGE); p <= Math.floor(Math.max(range.start, range.end - 1) / PAGE); p++) {
      if (p * PAGE < count) void this.fetchPage(p);
    }
    for (const [i, c] of this.cells) if (i < range.start || i >= range.end) { c.el.remove(); this.cells.delete(i); }
    const wanted: string[] = [];
    for (let i = range.start; i < range.end; i++) {
      let c = this.cells.get(i);
      if (!c) {
        c = { el: h("div", { class: "ls-cell ls-crop", role: "gridcell", "data-index": i }), sig: "" };
        this.cells.set(i, c);
        this.layer.append(c.el);
      }
      const pos = cellPosition(this.layout, i, scrollTop, vh);
      c.el.style.transform = `translate(${pos.x}px, ${pos.y}px)`;
      c.el.style.width = `${this.layout.cellWidth}px`;
      c.el.style.height = `${this.layout.cellWidth + 18}px`;
      const row = this.row(i);
      if (row && !this.images.has(row.annotation_id) && !this.imageQueue.has(row.annotation_id)) {
        this.imageQueue.add(row.annotation_id);
        wanted.push(row.annotation_id);
      }
      this.paint(c, row);
    }
    if (wanted.length) void this.fetchImages(wanted);
  }

  private paint(c: { el: HTMLDivElement; sig: string }, row: CropRow | undefined): void {
    const selected = !!row && this.selected.has(row.annotation_id);
    c.el.classList.toggle("ls-selected", selected);
    c.el.setAttribute("aria-selected", String(selected));
    const img = row ? this.images.get(row.annotation_id) : undefined;
    const sig = row ? `${row.annotation_id}|${row.version}|${img === undefined ? "-" : img ? "i" : "x"}|${this.layout.cellWidth}` : "loading";
    if (sig === c.sig) return;
    c.sig = sig;
    clear(c.el);
    if (!row) return;
    c.el.dataset.annotationId = row.annotation_id;
    const conf = row.confidence === null ? "" : ` ${row.confidence.toFixed(2)}`;
    c.el.title = `${row.label} (${row.source}${conf})`;
    // The crop fitted into the square, and the box outlined where it lies in the crop.
    const size = this.layout.cellWidth;
    const [cw, ch] = row.crop_size;
    const scale = Math.min(size / cw, size / ch);
    const w = cw * scale, hh = ch * scale;
    const frame = h("div", { class: "ls-crop-frame", style: `left:${(size - w) / 2}px;top:${(size - hh) / 2}px;width:${w}px;height:${hh}px` });
    if (img) frame.append(h("img", { src: img, alt: row.label, draggable: "false", decoding: "async" }));
    else if (img === "") frame.append(h("div", { class: "ls-broken", title: this.imageErrors.get(row.annotation_id) ?? "" }, "Cannot read image"));
    const [bx, by, bw, bh] = row.box_in_crop;
    const color = labelColor(row.label);
    frame.append(h("div", { class: "ls-crop-box", style: `left:${bx * 100}%;top:${by * 100}%;width:${bw * 100}%;height:${bh * 100}%;border-color:${color}` }));
    c.el.append(frame);
    if (row.score !== null) c.el.append(h("span", { class: "ls-crop-score", "data-testid": "ls-crop-score" }, row.score.toFixed(2)));
    c.el.append(h("div", { class: "ls-check-box", "data-role": "check", title: "Select" }));
    c.el.append(h("div", { class: "ls-crop-label", style: `border-left-color:${color}` }, `${row.label}${conf}`, h("span", { class: "ls-crop-source" }, row.source)));
  }

  private onClick(e: MouseEvent): void {
    const cell = (e.target as HTMLElement).closest?.(".ls-crop") as HTMLElement | null;
    if (!cell) return;
    const index = Number(cell.dataset.index);
    const row = this.row(index);
    if (!row) return;
    const onCheck = (e.target as HTMLElement).dataset.role === "check";
    if (e.shiftKey && this.anchor >= 0) {
      const [lo, hi] = this.anchor < index ? [this.anchor, index] : [index, this.anchor];
      for (let i = lo; i <= hi; i++) { const r = this.row(i); if (r) this.selected.add(r.annotation_id); }
    } else if (e.ctrlKey || e.metaKey || onCheck) {
      if (this.selected.has(row.annotation_id)) this.selected.delete(row.annotation_id);
      else this.selected.add(row.annotation_id);
      this.anchor = index;
    } else {
      this.anchor = index;
      this.o.onOpen(row);
      return;
    }
    this.renderCounts();
    this.schedule(true);
  }

  private onKey(e: KeyboardEvent): void {
    const target = e.target as HTMLElement;
    if (target.tagName === "INPUT" || target.tagName === "SELECT") return;
    const mod = e.ctrlKey || e.metaKey;
    if (mod && (e.key === "a" || e.key === "A")) { e.preventDefault(); void this.selectAll(); }
    else if (mod && (e.key === "z" || e.key === "Z") && !e.shiftKey) { e.preventDefault(); if (!this.undoBtn.disabled) void this.undo(); }
    else if (e.key === "Escape" && this.selected.size) { this.selected.clear(); this.renderCounts(); this.schedule(true); }
  }

  dispose(): void {
    cancelAnimationFrame(this.frame);
    this.resize.disconnect();
    this.generation++;
    for (const url of this.images.values()) if (url) URL.revokeObjectURL(url);
  }
}

export const CROPS_STYLES = `
.ls-root .ls-crops { flex: 1; min-width: 0; display: flex; flex-direction: column; }
.ls-root .ls-crops[hidden] { display: none; }
.ls-root .ls-crops-bar { display: flex; flex-wrap: wrap; align-items: center; gap: 6px; padding: 6px 8px;
  border-bottom: 1px solid var(--ls-border); }
.ls-root .ls-crops-num { width: 100px; }
.ls-root .ls-crops-sep { color: var(--ls-fg2); margin-left: 6px; }
.ls-root .ls-crops .ls-scroller { flex: 1; position: relative; overflow-y: auto; outline: none; }
.ls-root .ls-crop { position: absolute; left: 0; top: 0; background: var(--ls-cell-bg); border-radius: 4px;
  overflow: hidden; cursor: pointer; }
.ls-root .ls-crop.ls-selected { outline: 3px solid var(--ls-accent); outline-offset: -3px; }
.ls-root .ls-crop-frame { position: absolute; }
.ls-root .ls-crop-frame img { width: 100%; height: 100%; display: block; }
.ls-root .ls-crop-box { position: absolute; border: 2px solid; box-sizing: border-box; pointer-events: none; }
.ls-root .ls-crop-label { position: absolute; left: 0; right: 0; bottom: 0; height: 18px; padding: 0 6px;
  font-size: 11px; line-height: 18px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis;
  background: var(--ls-bg2); border-left: 4px solid; display: flex; gap: 6px; }
.ls-root .ls-crop-source { color: var(--ls-fg2); margin-left: auto; }
.ls-root .ls-crop-score { position: absolute; right: 4px; top: 4px; padding: 0 5px; border-radius: 8px;
  font-size: 11px; background: rgba(0,0,0,.65); color: #fff; }
.ls-root .ls-mode-switch { display: inline-flex; border: 1px solid var(--ls-border); border-radius: 4px; overflow: hidden; }
.ls-root .ls-mode-switch button { border: none; border-radius: 0; display: inline-flex; align-items: center; gap: 6px; min-height: 28px; }
.ls-mode-switch .ls-icon { display: none; }
.ls-tight .ls-mode-switch .ls-icon { display: block; }
.ls-tight .ls-mode-switch .ls-label { display: none; }
.ls-root.ls-tight .ls-mode-switch button { padding: 3px 6px; }
.ls-root .ls-mode-switch button[aria-pressed="true"] { background: var(--ls-accent); color: var(--ls-accent-fg); }
`;
