// The virtualized image grid: only cells in (or near) the viewport exist in the DOM, so a
// query of 1,000,000 samples scrolls like one of 100.

import { cellPosition, computeLayout, contentOffset, navigate, revealOffset, scrollTopFor, visibleRange, type Layout } from "../lib/virtual";
import { clear, h } from "../lib/dom";
import type { OutcomeColoring } from "./evalColors";
import { SAMPLE_DRAG_TYPE } from "./imageSearch";
import { actionIn } from "./shortcuts";
import { issueLabel } from "./issues";
import { maskCanvas, overlaySvg } from "./overlays";
import { PAGE_SIZE, type Row, type SampleSource } from "./source";

export interface GridOverlays {
  boxes: boolean;
  masks: boolean;
  labels: boolean;
  captions: boolean;
  names: boolean;
  /** Chips naming the quality issues a sample was flagged with (lightly_studio.quality). */
  issues: boolean;
}

export interface GridOptions {
  source: SampleSource;
  cellSize: number;
  overlays: GridOverlays;
  onOpen: (index: number, row: Row) => void;
  onSelectionChange: (ids: string[]) => void;
  /** Colours by an evaluation run's outcomes while one is chosen. */
  coloring?: OutcomeColoring;
}

const GAP = 8;
const OVERSCAN_ROWS = 2; // rows above and below the viewport that exist too

interface CellState {
  el: HTMLDivElement;
  signature: string;
}

export class GridView {
  readonly el: HTMLDivElement;
  private readonly scroller: HTMLDivElement;
  private readonly spacer: HTMLDivElement;
  private readonly layer: HTMLDivElement;
  private readonly empty: HTMLDivElement;
  private layout: Layout;
  private readonly cells = new Map<number, CellState>();
  private selected = new Set<string>();
  private anchor = -1;
  private focusIndex = -1;
  private frame = 0;
  private readonly resize: ResizeObserver;
  private readonly unlisten: () => void;

  constructor(private readonly opts: GridOptions) {
    this.spacer = h("div", { class: "ls-spacer-el" });
    this.layer = h("div", { style: "position:absolute;left:0;top:0;right:0" });
    this.empty = h("div", { class: "ls-empty" });
    this.scroller = h("div", {
      class: "ls-scroller",
      tabindex: 0,
      role: "grid",
      "aria-label": "samples",
      "data-testid": "ls-grid",
    }, this.spacer, this.layer, this.empty);
    this.el = h("div", { class: "ls-main" }, this.scroller);
    this.layout = computeLayout(800, opts.cellSize, 0);
    this.scroller.addEventListener("scroll", () => this.schedule(), { passive: true });
    this.scroller.addEventListener("click", (e) => this.onClick(e));
    this.scroller.addEventListener("keydown", (e) => this.onKey(e));
    this.resize = new ResizeObserver(() => this.schedule());
    this.resize.observe(this.scroller);
    const offSource = opts.source.onChange(() => this.schedule());
    const offColoring = opts.coloring?.onChange(() => this.schedule());
    this.unlisten = () => { offSource(); offColoring?.(); };
  }

  setCellSize(px: number): void {
    // Keep the first visible sample in view across the re-layout.
    const first = visibleRange(this.layout, this.scroller.scrollTop, this.scroller.clientHeight, 0).start;
    this.opts.cellSize = px;
    this.relayout();
    this.scrollToIndex(first, true);
    this.invalidate();
  }

  setOverlays(o: GridOverlays): void {
    this.opts.overlays = o;
    this.invalidate();
  }

  setSelected(ids: string[]): void {
    this.selected = new Set(ids);
    this.invalidate();
  }

  get selection(): string[] {
    return [...this.selected];
  }

  /** Forget every cell so the next render rebuilds from the data. */
  invalidate(): void {
    for (const c of this.cells.values()) c.signature = "";
    this.schedule();
  }

  resetScroll(): void {
    this.scroller.scrollTop = 0;
    this.focusIndex = -1;
    this.anchor = -1;
  }

  focus(): void {
    this.scroller.focus();
  }

  scrollToIndex(index: number, top = false): void {
    const vh = this.scroller.clientHeight;
    const offset = contentOffset(this.layout, this.scroller.scrollTop, vh);
    const target = top ? Math.floor(index / this.layout.columns) * this.layout.rowHeight : revealOffset(this.layout, index, offset, vh);
    if (target !== null) this.scroller.scrollTop = scrollTopFor(this.layout, target, vh);
  }

  /** How many cells a render scrolled to the top creates (at most a page); 0 while the grid
   * has no size yet (not in the document). */
  firstScreenCells(): number {
    const width = this.scroller.clientWidth;
    const height = this.scroller.clientHeight;
    if (!width || !height) return 0;
    const layout = computeLayout(width, this.opts.cellSize, PAGE_SIZE, GAP);
    return visibleRange(layout, 0, height, OVERSCAN_ROWS).end;
  }

  /** Resolves once the thumbnails of the cells in the DOM (after the render pending now)
   * are decoded, i.e. on screen; a thumbnail that fails to decode counts as done. */
  async imagesShown(): Promise<void> {
    await new Promise((r) => requestAnimationFrame(r)); // after the pending render
    const images = [...this.layer.querySelectorAll("img")];
    await Promise.all(images.map((img) => img.decode().catch(() => undefined)));
  }

  /** Number of cell elements in the DOM (tests assert virtualization with it). */
  get domCells(): number {
    return this.cells.size;
  }

  private relayout(): void {
    const count = Math.max(0, this.opts.source.count);
    this.layout = computeLayout(this.scroller.clientWidth || 800, this.opts.cellSize, count, GAP);
    this.spacer.style.height = `${this.layout.scrollHeight}px`;
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  private render(): void {
    const src = this.opts.source;
    this.relayout();
    const vh = this.scroller.clientHeight || 600;
    if (src.count === 0) {
      this.empty.textContent = src.error ? `Error: ${src.error}` : "No samples match the filters.";
      this.empty.classList.toggle("ls-error", !!src.error);
      this.empty.style.display = "";
    } else {
      this.empty.style.display = "none";
    }
    // Read once: reading scrollTop after the cell writes below forces a layout per cell (the
    // first screen's render took ~175 ms instead of a few, measured at 1,000,000 samples).
    const scrollTop = this.scroller.scrollTop;
    const range = visibleRange(this.layout, scrollTop, vh, OVERSCAN_ROWS);
    src.ensure(range.start, range.end);
    for (const [i, c] of this.cells) {
      if (i < range.start || i >= range.end) {
        c.el.remove();
        this.cells.delete(i);
      }
    }
    const visibleIds = new Set<string>();
    for (let i = range.start; i < range.end; i++) {
      let c = this.cells.get(i);
      if (!c) {
        // Draggable onto the AI search box: search by this sample's image (imageSearch.ts).
        c = { el: h("div", { class: "ls-cell", role: "gridcell", "data-index": i, draggable: "true" }), signature: "" };
        const el = c.el;
        el.addEventListener("dragstart", (e: DragEvent) => {
          if (el.dataset.sampleId) e.dataTransfer?.setData(SAMPLE_DRAG_TYPE, el.dataset.sampleId);
        });
        this.cells.set(i, c);
        this.layer.append(c.el);
      }
      const pos = cellPosition(this.layout, i, scrollTop, vh);
      const style = c.el.style;
      style.transform = `translate(${pos.x}px, ${pos.y}px)`;
      style.width = `${this.layout.cellWidth}px`;
      style.height = `${this.layout.cellWidth}px`;
      const row = src.row(i);
      if (row) visibleIds.add(row.sample_id);
      // A group's thumbnails are its members' (queued by paintCell below).
      for (const m of row?.members ?? []) if (m.sample_id) visibleIds.add(m.sample_id);
      this.paintCell(c, i, row);
    }
    src.retainQueued(visibleIds);
  }

  private paintCell(c: CellState, index: number, row: Row | undefined): void {
    if (row?.members) {
      this.paintGroupCell(c, index, row);
      return;
    }
    const src = this.opts.source;
    const o = this.opts.overlays;
    const thumb = row ? src.thumbnail(row.sample_id) : undefined;
    const selected = row ? this.selected.has(row.sample_id) : false;
    const sig = row
      ? `${row.sample_id}|${row.similarity ?? ""}|${thumb === undefined ? "-" : thumb ? "t" : "x"}|${o.boxes}${o.masks}${o.labels}${o.captions}${o.names}${o.issues}|${row.tags.join(",")}|${(row.issues ?? []).join(",")}|${this.layout.cellWidth}|${this.opts.coloring?.signature(row.sample_id) ?? ""}|${this.startsVideo(index, row)}`
      : "loading";
    c.el.classList.toggle("ls-selected", selected);
    c.el.classList.toggle("ls-focus", index === this.focusIndex);
    c.el.setAttribute("aria-selected", String(selected));
    if (sig === c.signature) return;
    c.signature = sig;
    clear(c.el);
    if (!row) return;
    c.el.dataset.sampleId = row.sample_id;
    c.el.title = row.file_name;
    if (thumb) {
      c.el.append(h("img", { src: thumb, alt: row.file_name, draggable: "false", decoding: "async" }));
    } else if (thumb === "") {
      c.el.append(h("div", { class: "ls-broken" }, "Cannot read image"));
      c.el.title = src.thumbnailError(row.sample_id) ?? row.file_name;
    }
    if (thumb) {
      const opts = { ...o, displayWidth: this.layout.cellWidth, displayHeight: this.layout.cellWidth, maskResolution: 160,
        styleOf: this.opts.coloring?.styleFor(row.sample_id) };
      const mask = maskCanvas(row.width, row.height, row.annotations, opts);
      if (mask) c.el.append(mask);
      const svg = overlaySvg(row.width, row.height, row.annotations, opts);
      if (svg) c.el.append(svg);
    }
    if (o.captions && row.captions.length) c.el.append(h("div", { class: "ls-caption" }, row.captions[0]));
    if (row.frame_number !== undefined && row.frame_number !== null) {
      // Frames grid: the first frame of each video (in the grid's order) carries the video's
      // name as a group header; every frame its number.
      if (this.startsVideo(index, row)) {
        c.el.append(h("div", { class: "ls-video-head", "data-testid": "ls-video-group", title: row.file_name }, `▶ ${row.file_name}`));
      }
      c.el.append(h("div", { class: "ls-frame-no" }, `#${row.frame_number}`));
    }
    // Ranked by similarity (text or image search): the score on the tile.
    if (row.similarity !== undefined && row.similarity !== null) {
      c.el.append(h("span", { class: "ls-sim-score", "data-testid": "ls-sim-score" }, row.similarity.toFixed(3)));
    }
    c.el.append(h("div", { class: "ls-check-box", "data-role": "check", title: "Select" }));
    const issues = o.issues ? row.issues ?? [] : [];
    if (row.tags.length || issues.length) {
      // Issue chips first (at most 3, then "+n"), then tags: four chips in all.
      const shown = issues.slice(0, issues.length > 3 ? 2 : 3);
      const more = issues.length - shown.length;
      c.el.append(h("div", { class: "ls-chips" },
        shown.map((i) => h("span", { class: "ls-chip ls-issue-chip", "data-issue": i, title: i }, issueLabel(i))),
        more > 0 ? h("span", { class: "ls-chip ls-issue-chip", title: issues.slice(shown.length).join(", ") }, `+${more}`) : null,
        row.tags.slice(0, Math.max(0, 4 - shown.length - (more > 0 ? 1 : 0))).map((t) => h("span", { class: "ls-chip" }, t))));
    } else if (o.names) {
      c.el.append(h("div", { class: "ls-name-bar" }, row.file_name));
    }
  }

  /** A group's tile: its members side by side, one column per view (in view order), each with
   * the view's name; a view the group has no member in shows an empty slot. */
  private paintGroupCell(c: CellState, index: number, row: Row): void {
    const src = this.opts.source;
    const members = row.members ?? [];
    const thumbs = members.map((m) => (m.sample_id ? src.thumbnail(m.sample_id) : null));
    const selected = this.selected.has(row.sample_id);
    const o = this.opts.overlays;
    const sig = `${row.sample_id}|${thumbs.map((t) => (t === undefined ? "-" : t === null ? "0" : t ? "t" : "x")).join("")}|${o.boxes}${o.masks}${o.labels}|${row.tags.join(",")}|${this.layout.cellWidth}`;
    c.el.classList.toggle("ls-selected", selected);
    c.el.classList.toggle("ls-focus", index === this.focusIndex);
    c.el.setAttribute("aria-selected", String(selected));
    if (sig === c.signature) return;
    c.signature = sig;
    clear(c.el);
    c.el.dataset.sampleId = row.sample_id;
    c.el.title = row.file_name;
    // Each member's slot: an equal share of the tile's width above the name bar.
    const slotWidth = (this.layout.cellWidth - 2 * (members.length - 1)) / Math.max(1, members.length);
    const slotHeight = this.layout.cellWidth - 19;
    c.el.append(h("div", { class: "ls-group-members", "data-testid": "ls-group-members" }, members.map((m, i) => {
      const thumb = thumbs[i];
      const picture = thumb
        ? h("img", { src: thumb, alt: `${row.file_name} ${m.view}`, draggable: "false", decoding: "async" })
        : thumb === ""
          ? h("div", { class: "ls-broken" }, "Cannot read image")
          : thumb === null ? h("div", { class: "ls-group-gap" }, "none") : null;
      const slot = h("div", { class: "ls-group-member", "data-view": m.view, title: m.file_name ?? `no ${m.view}` }, picture);
      if (thumb && m.width && m.height && m.annotations?.length) {
        const opts = { ...o, displayWidth: slotWidth, displayHeight: slotHeight, maskResolution: 160 };
        const mask = maskCanvas(m.width, m.height, m.annotations, opts);
        if (mask) slot.append(mask);
        const svg = overlaySvg(m.width, m.height, m.annotations, opts);
        if (svg) slot.append(svg);
      }
      slot.append(h("div", { class: "ls-view-name" }, m.kind === "video" ? `▶ ${m.view}` : m.view));
      return slot;
    })));
    c.el.append(h("div", { class: "ls-check-box", "data-role": "check", title: "Select" }));
    if (row.tags.length) {
      c.el.append(h("div", { class: "ls-chips" }, row.tags.slice(0, 4).map((t) => h("span", { class: "ls-chip" }, t))));
    } else {
      c.el.append(h("div", { class: "ls-name-bar" }, row.file_name));
    }
  }

  /** A frame whose video differs from the previous cell's (the previous row is loaded with it:
   * pages are contiguous, and the first row of a page is compared once its page arrives). */
  private startsVideo(index: number, row: Row): boolean {
    if (row.video_id === undefined) return false;
    if (index === 0) return true;
    const previous = this.opts.source.row(index - 1);
    return previous !== undefined && previous.video_id !== row.video_id;
  }

  private indexOf(target: EventTarget | null): number {
    const cell = (target as HTMLElement | null)?.closest?.(".ls-cell") as HTMLElement | null;
    return cell ? Number(cell.dataset.index) : -1;
  }

  private onClick(e: MouseEvent): void {
    const index = this.indexOf(e.target);
    if (index < 0) return;
    const row = this.opts.source.row(index);
    if (!row) return;
    const onCheck = (e.target as HTMLElement).dataset.role === "check";
    this.focusIndex = index;
    if (e.shiftKey && this.anchor >= 0) {
      this.selectRange(this.anchor, index, e.ctrlKey || e.metaKey);
    } else if (e.ctrlKey || e.metaKey || onCheck) {
      this.toggle(row.sample_id);
      this.anchor = index;
    } else {
      this.anchor = index;
      this.opts.onOpen(index, row);
      this.schedule();
      return;
    }
    this.commitSelection();
  }

  private toggle(id: string): void {
    if (this.selected.has(id)) this.selected.delete(id);
    else this.selected.add(id);
  }

  private selectRange(a: number, b: number, additive: boolean): void {
    if (!additive) this.selected.clear();
    const [lo, hi] = a < b ? [a, b] : [b, a];
    for (let i = lo; i <= hi; i++) {
      const row = this.opts.source.row(i);
      if (row) this.selected.add(row.sample_id);
    }
  }

  private commitSelection(): void {
    this.opts.onSelectionChange([...this.selected]);
    this.invalidate();
  }

  private onKey(e: KeyboardEvent): void {
    const count = Math.max(0, this.opts.source.count);
    if (!count) return;
    const vh = this.scroller.clientHeight;
    // The customisable actions (views/shortcuts.ts); the arrows, Page and Home/End keys below
    // are fixed.
    const action = actionIn("grid", e);
    if (action === "grid.open" && this.focusIndex >= 0) {
      const row = this.opts.source.row(this.focusIndex);
      if (row) this.opts.onOpen(this.focusIndex, row);
      e.preventDefault();
      return;
    }
    if (action === "grid.toggle" && this.focusIndex >= 0) {
      const row = this.opts.source.row(this.focusIndex);
      if (row) {
        this.toggle(row.sample_id);
        this.anchor = this.focusIndex;
        this.commitSelection();
      }
      e.preventDefault();
      return;
    }
    if (action === "grid.clear" && this.selected.size) {
      this.selected.clear();
      this.commitSelection();
      return;
    }
    if (action === "grid.select-visible") {
      // Select the loaded rows in view; selecting a whole query is the toolbar's job.
      const r = visibleRange(this.layout, this.scroller.scrollTop, vh, 0);
      this.selectRange(r.start, r.end - 1, true);
      this.commitSelection();
      e.preventDefault();
      return;
    }
    const pageRows = Math.max(1, Math.floor(vh / this.layout.rowHeight));
    const from = this.focusIndex < 0 ? 0 : this.focusIndex;
    const next = this.focusIndex < 0 && e.key.startsWith("Arrow") ? 0 : navigate(from, e.key, this.layout.columns, count, pageRows);
    if (next === from && this.focusIndex >= 0) return;
    e.preventDefault();
    if (e.shiftKey && this.anchor >= 0) {
      this.selectRange(this.anchor, next, false);
      this.commitSelection();
    } else if (!e.shiftKey) {
      this.anchor = next;
    }
    this.focusIndex = next;
    this.scrollToIndex(next);
    this.invalidate();
  }

  /** Step the focus (detail view prev/next uses the same order). */
  get focused(): number {
    return this.focusIndex;
  }

  setFocus(index: number): void {
    this.focusIndex = index;
    this.scrollToIndex(index);
    this.invalidate();
  }

  dispose(): void {
    cancelAnimationFrame(this.frame);
    this.resize.disconnect();
    this.unlisten();
  }
}
