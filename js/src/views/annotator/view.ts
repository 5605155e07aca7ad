// The annotation editor: the full-resolution image under an SVG layer (boxes, polygons,
// handles) and a canvas of masks at native resolution, inside a zoom/pan transform; a side
// panel with the annotations, image classes, captions and per-source / per-class visibility.
// Every edit is one api call (one transaction) and one undo step; the sample's revision is
// polled so edits made from Python appear without a reload.

import { appendAll, clear, h, s } from "../../lib/dom";
import { labelColor, labelRgb, hashString } from "../../lib/colors";
import { pointInPolygon } from "../../lib/geometry";
import type { ModelLike } from "../../transport/model";
import { RpcError, type RpcClient } from "../../transport/rpc";
import { History, type Command, type Ref } from "./history";
import { actionFor, SHORTCUTS, type Action } from "./keys";
import { MaskBitmap, unionDirty, type Dirty } from "./mask";
import {
  boxFromPoints, clipBox, clipRing, fitTransform, handlePoints, hitHandle, hitVertex, inBox, isDegenerate,
  moveBox, resizeBox, ringArea, round2, toImage, zoomAt, HANDLES, type Box, type Handle, type ViewTransform,
} from "./shapes";

export interface Ann {
  annotation_id: string;
  sample_id: string;
  label: string;
  type: string;
  source: string;
  confidence: number | null;
  box: Box | null;
  rle: number[] | null;
  polygon: number[][] | null;
  iscrowd: boolean;
  version: number;
}

interface Caption {
  caption_id: string;
  text: string;
}

interface Loaded {
  sample: { sample_id: string; dataset_id: string; file_name: string; width: number; height: number } | null;
  index: number | null;
  total: number | null;
  annotations: Ann[];
  captions: Caption[];
  labels: { name: string; count: number }[];
  sources: string[];
  revision: string;
}

export interface AnnotatorInfo {
  dataset_id: string;
  dataset_name?: string;
}

type Tool = "select" | "box" | "polygon" | "brush" | "eraser" | "pan";
type MaskKind = "instance_segmentation" | "semantic_segmentation";
type Spec = Partial<Ann>;

const GT = "ground_truth";
const MASKED = new Set(["instance_segmentation", "semantic_segmentation"]);
const TOOLS: [Tool, string, string][] = [
  ["select", "Select", "V"], ["box", "Box", "R"], ["polygon", "Polygon", "P"],
  ["brush", "Brush", "B"], ["eraser", "Eraser", "E"], ["pan", "Pan", "H"],
];
const SOURCE_COLORS = ["#2ca02c", "#ff7f0e", "#1f77b4", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf"];

function sourceColor(source: string, sources: string[]): string {
  if (source === GT) return SOURCE_COLORS[0];
  const i = sources.filter((x) => x !== GT).indexOf(source);
  return SOURCE_COLORS[1 + ((i < 0 ? hashString(source) : i) % (SOURCE_COLORS.length - 1))];
}

function hexRgb(hex: string): [number, number, number] {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

type Drag =
  | { kind: "pan"; x: number; y: number; t: ViewTransform }
  | { kind: "draw-box"; x0: number; y0: number; x1: number; y1: number }
  | { kind: "move"; id: string; x: number; y: number; start: Box; box: Box }
  | { kind: "resize"; id: string; handle: Handle; start: Box; box: Box }
  | { kind: "vertex"; id: string; ring: number; vertex: number; start: number[][]; rings: number[][] }
  | { kind: "paint"; id: string | null; mask: MaskBitmap; before: MaskBitmap | null; x: number; y: number; value: 0 | 1; dirty: Dirty | null };

export class Annotator {
  readonly el: HTMLDivElement;
  private readonly stage: HTMLDivElement;
  private readonly world: HTMLDivElement;
  private readonly img: HTMLImageElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly svg: SVGElement;
  private readonly side: HTMLDivElement;
  private readonly status: HTMLDivElement;
  private readonly toolbar: HTMLDivElement;
  private readonly labelInput: HTMLInputElement;
  private readonly datalist: HTMLDataListElement;
  private readonly position: HTMLSpanElement;
  private readonly brushSize: HTMLInputElement;
  private readonly maskKindSelect: HTMLSelectElement;
  private readonly colorSelect: HTMLSelectElement;
  private readonly toolButtons = new Map<Tool, HTMLButtonElement>();
  private classInput!: HTMLInputElement;
  private captionInput!: HTMLTextAreaElement;

  private data: Loaded | null = null;
  private anns: Ann[] = [];
  private masks = new Map<string, MaskBitmap>();
  private refs = new Map<string, Ref>();
  private captionRefs = new Map<string, Ref>();
  private labels: string[] = [];
  private selected: string | null = null;
  private tool: Tool = "select";
  private maskKind: MaskKind = "instance_segmentation";
  private colorBy: "source" | "class" = "source";
  private hiddenSources = new Set<string>();
  private hiddenClasses = new Set<string>();
  private t: ViewTransform = { scale: 1, tx: 0, ty: 0 };
  private drag: Drag | null = null;
  private draft: number[] = []; // polygon being drawn
  private spaceDown = false;
  private composite: ImageData | null = null;
  private imageUrl = "";
  private index = 0;
  private pending = 0;
  private loading = false;
  private loadSeq = 0;
  private readonly hist = new History();
  private readonly disposers: (() => void)[] = [];

  constructor(
    private readonly model: ModelLike,
    private readonly rpc: RpcClient,
    private readonly info: AnnotatorInfo,
  ) {
    this.datalist = h("datalist", { id: `ls-ann-labels-${Math.random().toString(36).slice(2, 8)}` });
    this.labelInput = h("input", {
      type: "text", list: this.datalist.id, placeholder: "class", title: "Class of new shapes (L); a new name creates it",
      "data-testid": "ls-ann-label-input", style: "width:120px",
    });
    this.brushSize = h("input", { type: "range", min: 1, max: 200, value: 20, title: "Brush size in image pixels ([ / ])", "data-testid": "ls-ann-brush-size", style: "width:80px" });
    this.maskKindSelect = h("select", { title: "Masks from polygons and the brush are stored as (M)", "data-testid": "ls-ann-mask-kind" },
      h("option", { value: "instance_segmentation" }, "instance masks"),
      h("option", { value: "semantic_segmentation" }, "semantic masks"));
    this.colorSelect = h("select", { title: "Colour by (S)" }, h("option", { value: "source" }, "colour: source"), h("option", { value: "class" }, "colour: class"));
    this.position = h("span", { class: "ls-count", "data-testid": "ls-ann-position" }, "–");
    const tools = h("div", { class: "ls-ann-tools" });
    for (const [tool, name, key] of TOOLS) {
      const b = h("button", { title: `${name} (${key})`, "data-testid": `ls-ann-tool-${tool}`, onclick: () => this.setTool(tool) }, `${name}`);
      this.toolButtons.set(tool, b);
      tools.append(b);
    }
    this.toolbar = h("div", { class: "ls-toolbar" },
      tools, this.labelInput, this.datalist, this.maskKindSelect,
      h("label", { class: "ls-muted" }, "brush ", this.brushSize),
      this.colorSelect,
      h("button", { title: "Undo (Ctrl+Z)", "data-testid": "ls-ann-undo", onclick: () => this.undo() }, "↶"),
      h("button", { title: "Redo (Ctrl+Shift+Z)", "data-testid": "ls-ann-redo", onclick: () => this.redo() }, "↷"),
      h("button", { title: "Fit (0)", onclick: () => this.fit() }, "Fit"),
      h("span", { class: "ls-spacer" }),
      h("button", { title: "Previous (← / A)", "data-testid": "ls-ann-prev", onclick: () => this.step(-1) }, "◀"),
      this.position,
      h("button", { title: "Next (→ / D)", "data-testid": "ls-ann-next", onclick: () => this.step(1) }, "▶"));
    this.img = h("img", { alt: "", draggable: "false" });
    this.canvas = h("canvas", {});
    this.svg = s("svg", {});
    this.world = h("div", { class: "ls-ann-world", "data-testid": "ls-ann-world" }, this.img, this.canvas, this.svg);
    this.stage = h("div", { class: "ls-ann-stage", "data-testid": "ls-ann-stage" }, this.world);
    this.side = h("div", { class: "ls-ann-side", "data-testid": "ls-ann-side" });
    this.status = h("div", { class: "ls-ann-status", "data-testid": "ls-ann-status" }, "Loading…");
    this.el = h("div", {
      class: "ls-root ls-annotator", tabindex: 0, "data-testid": "ls-annotator",
      // Keys typed here belong to the annotator, not to JupyterLab's notebook shortcuts.
      "data-lm-suppress-shortcuts": "true",
      style: `height:${Number(model.get("height")) || 640}px`,
    }, this.toolbar, h("div", { class: "ls-ann-body" }, this.stage, this.side), this.status);
    this.bind();
    this.setTool("select");
  }

  // --- lifecycle -------------------------------------------------------------------------------

  async start(): Promise<void> {
    this.labels = [...(this.model.get("labels") ?? [])];
    if (this.labels.length) this.labelInput.value = this.labels[0];
    const sid = String(this.model.get("sample_id") || "");
    await this.load(sid ? { sample_id: sid } : { index: Number(this.model.get("index")) || 0 });
    const poll = () => {
      const ms = Number(this.model.get("poll_ms")) || 0;
      if (ms > 0) timer = window.setTimeout(async () => {
        await this.poll();
        poll();
      }, ms);
    };
    let timer = 0;
    poll();
    this.disposers.push(() => window.clearTimeout(timer));
    this.disposers.push(this.rpc.on("data_changed", () => void this.reloadAnnotations("Updated from Python")));
    const onIndex = () => {
      const i = Number(this.model.get("index"));
      if (Number.isFinite(i) && i !== this.index) void this.load({ index: i });
    };
    this.model.on("change:index", onIndex);
    this.disposers.push(() => this.model.off("change:index", onIndex));
    const onLabels = () => {
      this.labels = [...new Set([...(this.model.get("labels") ?? []), ...this.labels])];
      this.renderSide();
    };
    this.model.on("change:labels", onLabels);
    this.disposers.push(() => this.model.off("change:labels", onLabels));
  }

  dispose(): void {
    for (const d of this.disposers) d();
    if (this.imageUrl) URL.revokeObjectURL(this.imageUrl);
  }

  // --- loading ---------------------------------------------------------------------------------

  private spec(): Record<string, unknown> {
    const spec = this.model.get("spec");
    return spec && Object.keys(spec).length ? spec : { dataset_id: this.info.dataset_id };
  }

  private async load(where: { index?: number; sample_id?: string }): Promise<void> {
    const seq = ++this.loadSeq;
    this.loading = true;
    this.setStatus("Loading…");
    await this.hist.idle();
    try {
      const { result } = await this.rpc.call<Loaded>("annotator_sample", { spec: this.spec(), ...where });
      if (seq !== this.loadSeq) return;
      if (!result.sample) {
        this.data = result;
        this.anns = [];
        this.position.textContent = "0 of 0";
        this.setStatus("No samples in this query.");
        return;
      }
      const sameSample = this.data?.sample?.sample_id === result.sample.sample_id;
      this.apply(result);
      this.index = result.index ?? 0;
      this.hist.clear();
      this.selected = null;
      this.draft = [];
      this.model.set("sample_id", result.sample.sample_id);
      this.model.set("index", this.index);
      this.model.save_changes();
      if (!sameSample) await this.loadImage(seq);
      this.setStatus(`${result.sample.file_name} — ${result.sample.width}×${result.sample.height}`);
    } catch (e) {
      this.error(e);
    } finally {
      if (seq === this.loadSeq) this.loading = false;
    }
  }

  private async loadImage(seq: number): Promise<void> {
    const sample = this.data!.sample!;
    const { width: w, height: hgt } = sample;
    for (const el of [this.img, this.canvas, this.svg] as Element[]) {
      el.setAttribute("width", String(w));
      el.setAttribute("height", String(hgt));
    }
    this.world.style.width = `${w}px`;
    this.world.style.height = `${hgt}px`;
    this.svg.setAttribute("viewBox", `0 0 ${w} ${hgt}`);
    this.composite = null;
    this.fit();
    this.renderMasks();
    try {
      const { result, buffers } = await this.rpc.call("image", { dataset_id: sample.dataset_id, sample_id: sample.sample_id });
      if (seq !== this.loadSeq) return;
      if (this.imageUrl) URL.revokeObjectURL(this.imageUrl);
      this.imageUrl = URL.createObjectURL(new Blob([buffers[0] as BlobPart], { type: result.mime }));
      this.img.src = this.imageUrl;
      await this.img.decode().catch(() => undefined);
    } catch (e) {
      this.error(e, "Image could not be loaded (you can still annotate)");
    }
  }

  /** Take a server answer about the whole sample. */
  private apply(r: Loaded): void {
    this.data = r;
    this.anns = r.annotations;
    this.masks.clear();
    const known = new Set(this.labels);
    for (const l of r.labels) if (!known.has(l.name)) this.labels.push(l.name);
    this.el.dataset.sampleId = r.sample?.sample_id ?? "";
    this.el.dataset.index = String(r.index ?? "");
    this.position.textContent = r.total === null ? r.sample?.file_name ?? "" : `${(r.index ?? 0) + 1} of ${r.total}`;
    if (!this.labelInput.value && this.labels.length) this.labelInput.value = this.labels[0];
    this.renderAll();
  }

  private async reloadAnnotations(message: string): Promise<void> {
    if (!this.data?.sample) return;
    await this.hist.idle();
    try {
      const { result } = await this.rpc.call<Loaded>("annotator_sample", { sample_id: this.data.sample.sample_id });
      result.index = this.data.index;
      result.total = this.data.total;
      const keep = this.selected;
      this.apply(result);
      this.selected = this.anns.some((a) => a.annotation_id === keep) ? keep : null;
      this.renderAll();
      this.setStatus(message);
    } catch (e) {
      this.error(e);
    }
  }

  private async poll(): Promise<void> {
    if (!this.data?.sample || this.loading || this.drag || this.pending || document.hidden) return;
    try {
      const { result } = await this.rpc.call("annotator_revision", { sample_id: this.data.sample.sample_id });
      if (this.data && result.revision !== this.data.revision && !this.pending && !this.drag) {
        await this.reloadAnnotations("Updated from Python");
      }
    } catch {
      // The next poll tries again; a closed kernel shows up on the next edit.
    }
  }

  private async step(delta: number): Promise<void> {
    if (!this.data) return;
    const total = this.data.total ?? 1;
    const next = Math.max(0, Math.min(total - 1, this.index + delta));
    if (next === this.index && this.data.sample) return;
    await this.load({ index: next });
  }

  // --- server edits ----------------------------------------------------------------------------

  private async call<T = any>(method: string, params: Record<string, unknown>): Promise<T> {
    this.pending++;
    this.el.dataset.pending = String(this.pending);
    this.setStatus("Saving…");
    try {
      const { result } = await this.rpc.call<any>(method, params);
      if (result.revision && this.data) this.data.revision = result.revision;
      if (result.annotation) this.upsert(result.annotation);
      if (result.deleted?.annotation_id) this.remove(result.deleted.annotation_id);
      this.setStatus("Saved");
      return result as T;
    } catch (e) {
      if (e instanceof RpcError && (e.type === "AnnotationConflictError" || /was deleted/.test(e.message))) {
        await this.reloadAfterConflict(e.message);
      }
      throw e;
    } finally {
      this.pending--;
      this.el.dataset.pending = String(this.pending);
      this.renderAll();
    }
  }

  private async reloadAfterConflict(message: string): Promise<void> {
    if (!this.data?.sample) return;
    const { result } = await this.rpc.call<Loaded>("annotator_sample", { sample_id: this.data.sample.sample_id });
    result.index = this.data.index;
    result.total = this.data.total;
    this.apply(result);
    this.setStatus(message, true);
  }

  private upsert(a: Ann): void {
    const i = this.anns.findIndex((x) => x.annotation_id === a.annotation_id);
    if (i >= 0) this.anns[i] = a;
    else this.anns.push(a);
    this.masks.delete(a.annotation_id);
    if (!this.labels.includes(a.label)) this.labels.push(a.label);
  }

  private remove(id: string): void {
    this.anns = this.anns.filter((a) => a.annotation_id !== id);
    this.masks.delete(id);
    if (this.selected === id) this.selected = null;
  }

  private ann(id: string): Ann | undefined {
    return this.anns.find((a) => a.annotation_id === id);
  }

  private refFor(id: string): Ref {
    let ref = this.refs.get(id);
    if (!ref) this.refs.set(id, (ref = { id }));
    return ref;
  }

  private rebind(ref: Ref, id: string): void {
    this.refs.delete(ref.id);
    ref.id = id;
    this.refs.set(id, ref);
  }

  private version(ref: Ref): number | undefined {
    return this.ann(ref.id)?.version;
  }

  private createSpec(a: Spec): Record<string, unknown> {
    return { type: a.type, label: a.label, source: a.source ?? GT, confidence: a.confidence ?? null, box: a.box ?? null, rle: a.rle ?? null, polygon: a.polygon ?? null, iscrowd: a.iscrowd ?? false };
  }

  /** Create an annotation as one undoable step; resolves with its ref. */
  private async create(spec: Spec, name = "create"): Promise<Ref | null> {
    const sampleId = this.data!.sample!.sample_id;
    const ref: Ref = { id: "" };
    let snapshot: Spec = spec;
    const cmd: Command = {
      name,
      apply: async () => {
        const r = await this.call("annotation_create", { sample_id: sampleId, annotation: this.createSpec(snapshot) });
        snapshot = r.annotation;
        if (ref.id) this.rebind(ref, r.annotation.annotation_id);
        else {
          ref.id = r.annotation.annotation_id;
          this.refs.set(ref.id, ref);
        }
        this.selected = ref.id;
      },
      revert: async () => {
        await this.call("annotation_delete", { annotation_id: ref.id, version: this.version(ref) });
      },
    };
    try {
      await this.hist.run(cmd);
      return ref;
    } catch (e) {
      this.error(e);
      return null;
    }
  }

  private async update(id: string, before: Record<string, unknown>, after: Record<string, unknown>, name = "edit"): Promise<void> {
    const ref = this.refFor(id);
    const cmd: Command = {
      name,
      apply: async () => void (await this.call("annotation_update", { annotation_id: ref.id, version: this.version(ref), changes: after })),
      revert: async () => void (await this.call("annotation_update", { annotation_id: ref.id, version: this.version(ref), changes: before })),
    };
    try {
      await this.hist.run(cmd);
    } catch (e) {
      this.error(e);
    }
  }

  private async deleteAnn(id: string): Promise<void> {
    const ref = this.refFor(id);
    let snapshot: Spec = { ...this.ann(id)! };
    const cmd: Command = {
      name: "delete",
      apply: async () => {
        const r = await this.call("annotation_delete", { annotation_id: ref.id, version: this.version(ref) });
        snapshot = r.deleted;
      },
      revert: async () => {
        const r = await this.call("annotation_create", { sample_id: this.data!.sample!.sample_id, annotation: this.createSpec(snapshot) });
        this.rebind(ref, r.annotation.annotation_id);
      },
    };
    try {
      await this.hist.run(cmd);
    } catch (e) {
      this.error(e);
    }
  }

  private async accept(id: string): Promise<void> {
    const a = this.ann(id);
    if (!a || a.source === GT) {
      this.setStatus("Select a prediction to accept it.", true);
      return;
    }
    const ref: Ref = { id: "" };
    const cmd: Command = {
      name: "accept",
      apply: async () => {
        const r = await this.call("annotation_accept", { annotation_id: id });
        if (ref.id) this.rebind(ref, r.annotation.annotation_id);
        else this.refs.set((ref.id = r.annotation.annotation_id), ref);
        this.selected = ref.id;
      },
      revert: async () => void (await this.call("annotation_delete", { annotation_id: ref.id, version: this.version(ref) })),
    };
    try {
      await this.hist.run(cmd);
    } catch (e) {
      this.error(e);
    }
  }

  private async addClassification(label: string): Promise<void> {
    label = label.trim();
    if (!label || !this.data?.sample) return;
    const sampleId = this.data.sample.sample_id;
    const ref: Ref = { id: "" };
    const cmd: Command = {
      name: "classification",
      apply: async () => {
        const r = await this.call("classification_add", { sample_id: sampleId, label });
        if (ref.id) this.rebind(ref, r.annotation.annotation_id);
        else this.refs.set((ref.id = r.annotation.annotation_id), ref);
      },
      revert: async () => void (await this.call("annotation_delete", { annotation_id: ref.id, version: this.version(ref) })),
    };
    if (this.anns.some((a) => a.type === "classification" && a.source === GT && a.label === label)) {
      this.setStatus(`The image has class ${label} already.`);
      return;
    }
    try {
      await this.hist.run(cmd);
    } catch (e) {
      this.error(e);
    }
  }

  private captionRef(id: string): Ref {
    let ref = this.captionRefs.get(id);
    if (!ref) this.captionRefs.set(id, (ref = { id }));
    return ref;
  }

  private async captionAdd(text: string): Promise<void> {
    if (!text.trim() || !this.data?.sample) return;
    const sampleId = this.data.sample.sample_id;
    const ref: Ref = { id: "" };
    let createdAt: string | null = null;
    const cmd: Command = {
      name: "caption",
      apply: async () => {
        const r = await this.call("caption_add", { sample_id: sampleId, text, caption_id: ref.id || null, created_at: createdAt });
        ref.id = r.caption.caption_id;
        this.captionRefs.set(ref.id, ref);
        this.data!.captions = [...this.data!.captions.filter((c) => c.caption_id !== ref.id), r.caption];
      },
      revert: async () => {
        const r = await this.call("caption_delete", { caption_id: ref.id });
        createdAt = r.deleted.created_at;
        this.data!.captions = this.data!.captions.filter((c) => c.caption_id !== ref.id);
      },
    };
    try {
      await this.hist.run(cmd);
    } catch (e) {
      this.error(e);
    }
  }

  private async captionEdit(id: string, before: string, after: string): Promise<void> {
    if (before === after) return;
    const ref = this.captionRef(id);
    const set = async (text: string) => {
      const r = await this.call("caption_update", { caption_id: ref.id, text });
      this.data!.captions = this.data!.captions.map((c) => (c.caption_id === ref.id ? r.caption : c));
    };
    try {
      await this.hist.run({ name: "caption", apply: () => set(after), revert: () => set(before) });
    } catch (e) {
      this.error(e);
    }
  }

  private async captionDelete(id: string): Promise<void> {
    const ref = this.captionRef(id);
    let old: { text: string; created_at: string } | null = null;
    const cmd: Command = {
      name: "caption",
      apply: async () => {
        const r = await this.call("caption_delete", { caption_id: ref.id });
        old = r.deleted;
        this.data!.captions = this.data!.captions.filter((c) => c.caption_id !== ref.id);
      },
      revert: async () => {
        const r = await this.call("caption_add", { sample_id: this.data!.sample!.sample_id, caption_id: ref.id, text: old!.text, created_at: old!.created_at });
        const all = [...this.data!.captions, r.caption];
        this.data!.captions = all; // order is fixed by the next reload (created_at kept)
      },
    };
    try {
      await this.hist.run(cmd);
    } catch (e) {
      this.error(e);
    }
  }

  private async undo(): Promise<void> {
    try {
      const name = await this.hist.undo();
      this.setStatus(name ? `Undid ${name}` : "Nothing to undo");
    } catch (e) {
      this.error(e);
    }
  }

  private async redo(): Promise<void> {
    try {
      const name = await this.hist.redo();
      this.setStatus(name ? `Redid ${name}` : "Nothing to redo");
    } catch (e) {
      this.error(e);
    }
  }

  // --- input -----------------------------------------------------------------------------------

  private bind(): void {
    const st = this.stage;
    st.addEventListener("pointerdown", (e) => this.onDown(e));
    st.addEventListener("pointermove", (e) => this.onMove(e));
    st.addEventListener("pointerup", (e) => this.onUp(e));
    st.addEventListener("pointercancel", (e) => this.onUp(e));
    st.addEventListener("dblclick", (e) => {
      if (this.tool === "polygon") {
        e.preventDefault();
        void this.closePolygon();
      }
    });
    st.addEventListener("wheel", (e) => {
      e.preventDefault();
      const [vx, vy] = this.viewPoint(e);
      this.setTransform(zoomAt(this.t, Math.pow(1.0015, -e.deltaY), vx, vy));
    }, { passive: false });
    this.el.addEventListener("keydown", (e) => this.onKey(e));
    this.el.addEventListener("keyup", (e) => {
      if (e.key === " ") {
        this.spaceDown = false;
        this.updateCursor();
      }
    });
    this.labelInput.addEventListener("change", () => {
      const name = this.labelInput.value.trim();
      if (name && !this.labels.includes(name)) {
        this.labels.push(name);
        this.renderSide();
      }
    });
    this.maskKindSelect.addEventListener("change", () => (this.maskKind = this.maskKindSelect.value as MaskKind));
    this.colorSelect.addEventListener("change", () => {
      this.colorBy = this.colorSelect.value as "source" | "class";
      this.renderAll();
    });
    this.brushSize.addEventListener("input", () => this.renderVectors());
    const ro = new ResizeObserver(() => {
      if (this.data?.sample && this.t.scale === this.fitScale) this.fit();
    });
    ro.observe(this.stage);
    this.disposers.push(() => ro.disconnect());
  }

  private fitScale = 1;

  private viewPoint(e: MouseEvent): [number, number] {
    const r = this.stage.getBoundingClientRect();
    return [e.clientX - r.left, e.clientY - r.top];
  }

  private imagePoint(e: MouseEvent): [number, number] {
    const [vx, vy] = this.viewPoint(e);
    return toImage(this.t, vx, vy);
  }

  private get tol(): number {
    return 6 / this.t.scale; // handle grab distance: 6 screen pixels
  }

  private onDown(e: PointerEvent): void {
    if (!this.data?.sample) return;
    this.el.focus({ preventScroll: true });
    const [x, y] = this.imagePoint(e);
    const { width: W, height: H } = this.data.sample;
    const pan = e.button === 1 || this.spaceDown || this.tool === "pan";
    if (e.button === 2) return;
    this.stage.setPointerCapture(e.pointerId);
    if (pan) {
      const [vx, vy] = this.viewPoint(e);
      this.drag = { kind: "pan", x: vx, y: vy, t: { ...this.t } };
      this.updateCursor();
      return;
    }
    const sel = this.selected ? this.ann(this.selected) : undefined;
    if ((this.tool === "select" || this.tool === "box") && sel) {
      if (sel.type === "object_detection" && sel.box) {
        const handle = hitHandle(sel.box, x, y, this.tol);
        if (handle) {
          this.drag = { kind: "resize", id: sel.annotation_id, handle, start: [...sel.box] as Box, box: [...sel.box] as Box };
          return;
        }
      }
      if (sel.polygon) {
        const v = hitVertex(sel.polygon, x, y, this.tol);
        if (v) {
          this.drag = { kind: "vertex", id: sel.annotation_id, ring: v[0], vertex: v[1], start: sel.polygon.map((r) => [...r]), rings: sel.polygon.map((r) => [...r]) };
          return;
        }
      }
    }
    switch (this.tool) {
      case "select": {
        const hit = this.hitTest(x, y);
        this.select(hit?.annotation_id ?? null);
        if (hit?.type === "object_detection" && hit.box) {
          this.drag = { kind: "move", id: hit.annotation_id, x, y, start: [...hit.box] as Box, box: [...hit.box] as Box };
        } else if (!hit) {
          const [vx, vy] = this.viewPoint(e);
          this.drag = { kind: "pan", x: vx, y: vy, t: { ...this.t } };
        }
        return;
      }
      case "box":
        this.drag = { kind: "draw-box", x0: clampTo(x, W), y0: clampTo(y, H), x1: clampTo(x, W), y1: clampTo(y, H) };
        return;
      case "polygon": {
        const px = round2(clampTo(x, W)), py = round2(clampTo(y, H));
        if (this.draft.length >= 6 && Math.hypot(px - this.draft[0], py - this.draft[1]) <= this.tol) {
          void this.closePolygon();
          return;
        }
        const n = this.draft.length;
        if (n >= 2 && Math.hypot(px - this.draft[n - 2], py - this.draft[n - 1]) < 0.5 / this.t.scale) return;
        this.draft.push(px, py);
        this.renderVectors();
        return;
      }
      case "brush":
      case "eraser": {
        const target = this.paintTarget();
        if (this.tool === "eraser" && !target) {
          this.setStatus("Select a mask to erase from.", true);
          return;
        }
        const before = target ? this.maskOf(target) : null;
        const mask = before ? before.clone() : new MaskBitmap(W, H);
        const value: 0 | 1 = this.tool === "brush" ? 1 : 0;
        const dirty = mask.stroke(x, y, x, y, this.radius, value);
        this.drag = { kind: "paint", id: target?.annotation_id ?? null, mask, before, x, y, value, dirty };
        this.renderMasks(dirty);
        return;
      }
    }
  }

  private onMove(e: PointerEvent): void {
    const d = this.drag;
    if (!d || !this.data?.sample) {
      if (this.tool === "brush" || this.tool === "eraser") this.renderCursor(e);
      return;
    }
    const { width: W, height: H } = this.data.sample;
    const [x, y] = this.imagePoint(e);
    switch (d.kind) {
      case "pan": {
        const [vx, vy] = this.viewPoint(e);
        this.setTransform({ scale: d.t.scale, tx: d.t.tx + vx - d.x, ty: d.t.ty + vy - d.y });
        return;
      }
      case "draw-box":
        d.x1 = clampTo(x, W);
        d.y1 = clampTo(y, H);
        break;
      case "move":
        d.box = moveBox(d.start, x - d.x, y - d.y, W, H);
        break;
      case "resize":
        d.box = resizeBox(d.start, d.handle, x, y, W, H);
        break;
      case "vertex":
        d.rings[d.ring][2 * d.vertex] = round2(clampTo(x, W));
        d.rings[d.ring][2 * d.vertex + 1] = round2(clampTo(y, H));
        break;
      case "paint": {
        const dirty = d.mask.stroke(d.x, d.y, x, y, this.radius, d.value);
        d.x = x;
        d.y = y;
        d.dirty = unionDirty(d.dirty, dirty);
        this.renderMasks(dirty);
        this.renderCursor(e);
        return;
      }
    }
    this.renderVectors();
  }

  private onUp(e: PointerEvent): void {
    const d = this.drag;
    this.drag = null;
    if (this.stage.hasPointerCapture(e.pointerId)) this.stage.releasePointerCapture(e.pointerId);
    this.updateCursor();
    if (!d || !this.data?.sample) return;
    const { width: W, height: H } = this.data.sample;
    switch (d.kind) {
      case "draw-box": {
        const box = clipBox(boxFromPoints(d.x0, d.y0, d.x1, d.y1), W, H).map(round2) as Box;
        this.renderVectors();
        if (isDegenerate(box)) {
          if (box[2] > 0 || box[3] > 0) this.setStatus("Box too small (each side needs at least 1 px); not saved.", true);
          return;
        }
        void this.create({ type: "object_detection", label: this.currentLabel(), box }, "box");
        return;
      }
      case "move":
      case "resize": {
        const box = d.box.map(round2) as Box;
        if (box.every((v, i) => v === d.start[i])) return this.renderVectors();
        if (isDegenerate(box)) {
          this.setStatus("Box too small; not saved.", true);
          return this.renderVectors();
        }
        const a = this.ann(d.id);
        if (a) a.box = box; // show it at once; the answer replaces it
        void this.update(d.id, { box: d.start }, { box }, d.kind);
        return;
      }
      case "vertex": {
        const ring = d.rings[d.ring];
        if (ringArea(ring) < 1) {
          this.setStatus("That would make the polygon degenerate; not saved.", true);
          return this.renderVectors();
        }
        const a = this.ann(d.id);
        if (a) a.polygon = d.rings;
        void this.update(d.id, { polygon: d.start, rle: a?.rle ?? null }, { polygon: d.rings }, "polygon");
        return;
      }
      case "paint":
        void this.commitPaint(d);
        return;
      case "pan":
        return;
    }
  }

  private async commitPaint(d: Extract<Drag, { kind: "paint" }>): Promise<void> {
    const count = d.mask.count();
    this.el.dataset.lastMaskPixels = String(count);
    if (d.id === null) {
      this.masks.set("__draft__", d.mask);
      const ref = await this.create({ type: this.maskKind, label: this.currentLabel(), rle: d.mask.toRle() }, "brush");
      this.masks.delete("__draft__");
      if (!ref) this.renderMasks();
      return;
    }
    const a = this.ann(d.id);
    if (!a) return;
    if (count === 0) {
      // Erasing everything removes the annotation (an empty mask is not stored).
      this.masks.set(d.id, d.mask);
      await this.deleteAnn(d.id);
      return;
    }
    const before = { rle: a.rle, polygon: a.polygon };
    this.masks.set(d.id, d.mask);
    await this.update(d.id, before, { rle: d.mask.toRle(), polygon: null }, d.value ? "brush" : "eraser");
  }

  private async closePolygon(): Promise<void> {
    const ring = this.draft;
    this.draft = [];
    this.renderVectors();
    if (ring.length < 6 || ringArea(ring) < 1) {
      if (ring.length) this.setStatus("A polygon needs at least 3 points and some area; not saved.", true);
      return;
    }
    const { width: W, height: H } = this.data!.sample!;
    await this.create({ type: this.maskKind, label: this.currentLabel(), polygon: [clipRing(ring, W, H)] }, "polygon");
  }

  private onKey(e: KeyboardEvent): void {
    const target = e.target as HTMLElement;
    const typing = target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.tagName === "SELECT";
    if (typing) {
      if (e.key === "Escape") {
        target.blur();
        this.el.focus();
      }
      e.stopPropagation();
      return;
    }
    if (e.key === " ") {
      this.spaceDown = true;
      this.updateCursor();
      e.preventDefault();
      e.stopPropagation();
      return;
    }
    const action = actionFor(e);
    if (!action) return;
    e.preventDefault();
    e.stopPropagation();
    this.run(action);
  }

  /** Do what a shortcut says (also used by tests through the keyboard). */
  run(action: Action): void {
    if (action.startsWith("tool:")) return this.setTool(action.slice(5) as Tool);
    if (action.startsWith("label:")) {
      const name = this.labels[Number(action.slice(6)) - 1];
      if (!name) return;
      this.labelInput.value = name;
      const sel = this.selected ? this.ann(this.selected) : undefined;
      if (sel && sel.label !== name) void this.update(sel.annotation_id, { label: sel.label }, { label: name }, "class");
      return;
    }
    const r = this.stage.getBoundingClientRect();
    switch (action) {
      case "next": void this.step(1); break;
      case "previous": void this.step(-1); break;
      case "undo": void this.undo(); break;
      case "redo": void this.redo(); break;
      case "delete":
        if (this.tool === "polygon" && this.draft.length) {
          this.draft.splice(-2, 2);
          this.renderVectors();
        } else if (this.selected) void this.deleteAnn(this.selected);
        break;
      case "escape":
        if (this.draft.length) this.draft = [];
        else this.select(null);
        this.renderVectors();
        break;
      case "close-polygon": void this.closePolygon(); break;
      case "brush-smaller": this.brushSize.value = String(Math.max(1, Math.round(Number(this.brushSize.value) / 1.25))); break;
      case "brush-bigger": this.brushSize.value = String(Math.min(200, Math.round(Number(this.brushSize.value) * 1.25) + 1)); break;
      case "zoom-in": this.setTransform(zoomAt(this.t, 1.25, r.width / 2, r.height / 2)); break;
      case "zoom-out": this.setTransform(zoomAt(this.t, 0.8, r.width / 2, r.height / 2)); break;
      case "zoom-fit": this.fit(); break;
      case "accept": if (this.selected) void this.accept(this.selected); break;
      case "focus-label": this.labelInput.focus(); this.labelInput.select(); break;
      case "focus-class": this.classInput?.focus(); break;
      case "focus-caption": this.captionInput?.focus(); break;
      case "toggle-mask-kind":
        this.maskKind = this.maskKind === "instance_segmentation" ? "semantic_segmentation" : "instance_segmentation";
        this.maskKindSelect.value = this.maskKind;
        this.setStatus(`New masks: ${this.maskKind.replace("_", " ")}`);
        break;
      case "toggle-color":
        this.colorBy = this.colorBy === "source" ? "class" : "source";
        this.colorSelect.value = this.colorBy;
        this.renderAll();
        break;
    }
  }

  private setTool(tool: Tool): void {
    if (tool !== "polygon" && this.draft.length) this.draft = [];
    this.tool = tool;
    for (const [t, b] of this.toolButtons) b.classList.toggle("ls-active", t === tool);
    this.el.dataset.tool = tool;
    this.updateCursor();
    this.renderVectors();
  }

  private updateCursor(): void {
    const panning = this.drag?.kind === "pan";
    this.stage.dataset.cursor = panning ? "grabbing" : this.spaceDown || this.tool === "pan" ? "grab" : this.tool === "select" ? "default" : "crosshair";
  }

  private select(id: string | null): void {
    this.selected = id;
    this.renderAll();
  }

  private currentLabel(): string {
    const v = this.labelInput.value.trim();
    if (v) return v;
    return this.labels[0] ?? "object";
  }

  private get radius(): number {
    return Number(this.brushSize.value) / 2;
  }

  /** The mask a brush stroke edits: the selected ground-truth mask; in semantic mode the
   *  sample's ground-truth mask of the current class; else none (the stroke creates one). */
  private paintTarget(): Ann | undefined {
    const sel = this.selected ? this.ann(this.selected) : undefined;
    if (sel && MASKED.has(sel.type) && sel.rle) return sel;
    if (this.maskKind === "semantic_segmentation") {
      const label = this.currentLabel();
      return this.anns.find((a) => a.type === "semantic_segmentation" && a.source === GT && a.label === label && a.rle);
    }
    return undefined;
  }

  private maskOf(a: Ann): MaskBitmap {
    let m = this.masks.get(a.annotation_id);
    if (!m) {
      const { width: W, height: H } = this.data!.sample!;
      m = MaskBitmap.fromRle(a.rle ?? [W * H], W, H);
      this.masks.set(a.annotation_id, m);
    }
    return m;
  }

  private visible(a: Ann): boolean {
    return !this.hiddenSources.has(a.source) && !this.hiddenClasses.has(a.label);
  }

  private hitTest(x: number, y: number): Ann | undefined {
    for (let i = this.anns.length - 1; i >= 0; i--) {
      const a = this.anns[i];
      if (!this.visible(a) || a.type === "classification") continue;
      if (a.type === "object_detection" && a.box && inBox(a.box, x, y)) return a;
      if (a.polygon && a.polygon.some((ring) => pointInPolygon(x, y, ring))) return a;
      if (a.rle && a.box && inBox(a.box, x, y)) {
        const m = this.maskOf(a);
        const px = Math.floor(x), py = Math.floor(y);
        if (px >= 0 && py >= 0 && px < m.width && py < m.height && m.data[py * m.width + px]) return a;
      }
    }
    return undefined;
  }

  // --- view transform --------------------------------------------------------------------------

  private fit(): void {
    if (!this.data?.sample) return;
    const r = this.stage.getBoundingClientRect();
    if (r.width < 10 || r.height < 10) return;
    const t = fitTransform(this.data.sample.width, this.data.sample.height, r.width, r.height);
    this.fitScale = t.scale;
    this.setTransform(t);
  }

  private setTransform(t: ViewTransform): void {
    this.t = t;
    this.world.style.transform = `translate(${t.tx}px, ${t.ty}px) scale(${t.scale})`;
    this.world.classList.toggle("ls-pixelated", t.scale > 2);
    this.el.dataset.scale = String(t.scale);
    this.renderVectors();
  }

  // --- rendering -------------------------------------------------------------------------------

  private color(a: { source: string; label: string }): string {
    return this.colorBy === "class" ? labelColor(a.label) : sourceColor(a.source, this.data?.sources ?? [GT]);
  }

  private renderAll(): void {
    this.el.dataset.count = String(this.anns.length);
    this.el.dataset.revision = this.data?.revision ?? "";
    this.renderMasks();
    this.renderVectors();
    this.renderSide();
  }

  /** Paint every visible mask into the canvas (or only the `dirty` rectangle). */
  private renderMasks(dirty?: Dirty | null): void {
    const sample = this.data?.sample;
    if (!sample) return;
    const { width: W, height: H } = sample;
    const ctx = this.canvas.getContext("2d");
    if (!ctx) return;
    if (!this.composite || this.composite.width !== W || this.composite.height !== H) {
      this.composite = ctx.createImageData(W, H);
      dirty = null;
    }
    const r = dirty ?? { x0: 0, y0: 0, x1: W, y1: H };
    const px = this.composite.data;
    for (let y = r.y0; y < r.y1; y++) px.fill(0, (y * W + r.x0) * 4, (y * W + r.x1) * 4);
    const layers: [MaskBitmap, [number, number, number], number][] = [];
    const d = this.drag?.kind === "paint" ? this.drag : null;
    for (const a of this.anns) {
      if (!a.rle || !this.visible(a)) continue;
      const m = d && d.id === a.annotation_id ? d.mask : this.maskOf(a);
      const rgb = this.colorBy === "class" ? labelRgb(a.label) : hexRgb(this.color(a));
      layers.push([m, rgb, a.annotation_id === this.selected ? 150 : 100]);
    }
    const draft = d && d.id === null ? d.mask : this.masks.get("__draft__");
    if (draft) layers.push([draft, this.colorBy === "class" ? labelRgb(this.currentLabel()) : hexRgb(SOURCE_COLORS[0]), 150]);
    for (const [m, rgb, alpha] of layers) {
      for (let y = r.y0; y < r.y1; y++) {
        const row = y * W;
        for (let x = r.x0; x < r.x1; x++) {
          if (!m.data[row + x]) continue;
          const o = (row + x) * 4;
          px[o] = rgb[0];
          px[o + 1] = rgb[1];
          px[o + 2] = rgb[2];
          px[o + 3] = alpha;
        }
      }
    }
    ctx.putImageData(this.composite, 0, 0, r.x0, r.y0, r.x1 - r.x0, r.y1 - r.y0);
  }

  private renderVectors(): void {
    const svg = this.svg;
    clear(svg);
    const sample = this.data?.sample;
    if (!sample) return;
    const k = 1 / this.t.scale; // one screen pixel in image pixels
    const d = this.drag;
    for (const a of this.anns) {
      if (!this.visible(a) || a.type === "classification") continue;
      const c = this.color(a);
      const sel = a.annotation_id === this.selected;
      const pred = a.source !== GT;
      let box = a.box;
      if (d && (d.kind === "move" || d.kind === "resize") && d.id === a.annotation_id) box = d.box;
      const rings = d && d.kind === "vertex" && d.id === a.annotation_id ? d.rings : a.polygon;
      const common = { stroke: c, fill: "none", "stroke-width": sel ? 2.5 : 1.5, "vector-effect": "non-scaling-stroke", "stroke-dasharray": pred ? "5 3" : null };
      if (a.type === "object_detection" && box) {
        svg.append(s("rect", { ...common, x: box[0], y: box[1], width: box[2], height: box[3], fill: sel ? "rgba(255,255,255,0.08)" : "none", "data-ann": a.annotation_id }));
      } else if (rings) {
        for (const ring of rings) svg.append(s("polygon", { ...common, points: pairs(ring), "data-ann": a.annotation_id }));
      } else if (sel && box) {
        svg.append(s("rect", { ...common, x: box[0], y: box[1], width: box[2], height: box[3], "stroke-dasharray": "2 2" }));
      }
      if (box) {
        const text = `${a.label}${a.confidence !== null && a.confidence !== undefined ? ` ${a.confidence.toFixed(2)}` : ""}`;
        svg.append(s("text", { class: "ls-ann-label", x: box[0] + 2 * k, y: box[1] - 4 * k, "font-size": 12 * k, "stroke-width": 3 * k }, text));
      }
      if (sel && a.type === "object_detection" && box) {
        const pts = handlePoints(box);
        for (const hname of HANDLES) {
          const [hx, hy] = pts[hname];
          svg.append(s("rect", { x: hx - 4 * k, y: hy - 4 * k, width: 8 * k, height: 8 * k, fill: "#fff", stroke: c, "stroke-width": 1, "vector-effect": "non-scaling-stroke", "data-handle": hname }));
        }
      }
      if (sel && rings) {
        rings.forEach((ring, ri) => {
          for (let i = 0; i < ring.length; i += 2) {
            svg.append(s("circle", { cx: ring[i], cy: ring[i + 1], r: 4 * k, fill: "#fff", stroke: c, "stroke-width": 1, "vector-effect": "non-scaling-stroke", "data-vertex": `${ri}:${i / 2}` }));
          }
        });
      }
    }
    if (d?.kind === "draw-box") {
      const b = boxFromPoints(d.x0, d.y0, d.x1, d.y1);
      svg.append(s("rect", { x: b[0], y: b[1], width: b[2], height: b[3], fill: "rgba(255,255,255,0.1)", stroke: "#fff", "stroke-width": 1.5, "stroke-dasharray": "4 3", "vector-effect": "non-scaling-stroke" }));
    }
    if (this.draft.length) {
      const c = "#fff";
      svg.append(s("polyline", { points: pairs(this.draft), fill: "rgba(255,255,255,0.1)", stroke: c, "stroke-width": 1.5, "vector-effect": "non-scaling-stroke", "data-testid": "ls-ann-draft" }));
      for (let i = 0; i < this.draft.length; i += 2) {
        svg.append(s("circle", { cx: this.draft[i], cy: this.draft[i + 1], r: (i === 0 ? 5 : 3) * k, fill: i === 0 ? "#ff0" : c }));
      }
    }
  }

  private cursorEl: SVGElement | null = null;

  private renderCursor(e: PointerEvent): void {
    const [x, y] = this.imagePoint(e);
    if (!this.cursorEl || !this.cursorEl.isConnected) {
      this.cursorEl = s("circle", { fill: "none", stroke: "#fff", "stroke-width": 1, "vector-effect": "non-scaling-stroke", "pointer-events": "none" });
      this.svg.append(this.cursorEl);
    }
    this.cursorEl.setAttribute("cx", String(x));
    this.cursorEl.setAttribute("cy", String(y));
    this.cursorEl.setAttribute("r", String(this.radius));
  }

  private renderSide(): void {
    const side = this.side;
    clear(side);
    clear(this.datalist);
    for (const l of this.labels) this.datalist.append(h("option", { value: l }));
    if (!this.data?.sample) return;
    const sources = [...new Set([...(this.data.sources ?? []), ...this.anns.map((a) => a.source)])];
    const classes = [...new Set([...this.anns.map((a) => a.label)])].sort();

    const toggles = (title: string, names: string[], hidden: Set<string>, color: (n: string) => string, testid: string) =>
      h("div", { class: "ls-section", "data-testid": testid }, h("h4", {}, title),
        names.map((n) => {
          const box = h("input", { type: "checkbox" });
          box.checked = !hidden.has(n);
          box.addEventListener("change", () => {
            if (box.checked) hidden.delete(n);
            else hidden.add(n);
            if (this.selected && !this.visible(this.ann(this.selected)!)) this.selected = null;
            this.renderAll();
          });
          return h("label", { class: "ls-check", "data-name": n }, box, h("span", { class: "ls-dot", style: `background:${color(n)}` }), h("span", { class: "ls-name" }, n));
        }));

    const shapes = this.anns.filter((a) => a.type !== "classification");
    const list = h("div", { class: "ls-section", "data-testid": "ls-ann-list" }, h("h4", {}, `Annotations (${shapes.length})`));
    for (const a of shapes) {
      const row = h("div", { class: `ls-ann-row${a.annotation_id === this.selected ? " ls-selected" : ""}`, "data-ann": a.annotation_id, "data-type": a.type, "data-source": a.source });
      if (!this.visible(a)) row.style.opacity = "0.45";
      const input = h("input", { type: "text", list: this.datalist.id, value: a.label, title: "Class (type a new name to create it)" });
      input.addEventListener("change", () => {
        const v = input.value.trim();
        if (v && v !== a.label) void this.update(a.annotation_id, { label: a.label }, { label: v }, "class");
      });
      appendAll(row,
        h("span", { class: "ls-dot", style: `background:${this.color(a)}` }),
        h("span", { class: "ls-kind", title: a.type }, kindLetter(a.type)),
        input,
        h("span", { class: "ls-src", title: a.source }, a.source === GT ? "" : a.source),
        a.confidence !== null && a.confidence !== undefined ? h("span", { class: "ls-conf", title: "confidence" }, a.confidence.toFixed(2)) : null,
        a.source !== GT ? h("button", { class: "ls-x", title: "Accept prediction into ground truth (Y)", "data-testid": "ls-ann-accept", onclick: (e: Event) => { e.stopPropagation(); void this.accept(a.annotation_id); } }, "✓") : null,
        h("button", { class: "ls-x", title: "Delete (Del)", onclick: (e: Event) => { e.stopPropagation(); void this.deleteAnn(a.annotation_id); } }, "×"));
      row.addEventListener("click", (e) => {
        if ((e.target as HTMLElement).tagName !== "INPUT") this.select(a.annotation_id);
      });
      list.append(row);
    }

    // Whole-image classes.
    const cls = this.anns.filter((a) => a.type === "classification");
    this.classInput = h("input", { type: "text", list: this.datalist.id, placeholder: "add class (C)", "data-testid": "ls-ann-class-input", style: "width:150px" });
    const addClass = () => {
      const v = this.classInput.value;
      this.classInput.value = "";
      void this.addClassification(v);
    };
    this.classInput.addEventListener("keydown", (e) => {
      if (e.key === "Enter") addClass();
    });
    const classSection = h("div", { class: "ls-section", "data-testid": "ls-ann-classes" }, h("h4", {}, "Image classes"),
      h("div", { class: "ls-chipline" }, cls.map((a) => h("span", { class: "ls-ann-chip", "data-label": a.label, "data-source": a.source, style: `border-color:${this.color(a)}` },
        a.label,
        a.confidence !== null && a.confidence !== undefined ? h("span", { class: "ls-conf" }, a.confidence.toFixed(2)) : null,
        a.source !== GT ? h("button", { class: "ls-x", title: `Accept (${a.source})`, onclick: () => void this.accept(a.annotation_id) }, "✓") : null,
        h("button", { class: "ls-x", title: "Remove", onclick: () => void this.deleteAnn(a.annotation_id) }, "×")))),
      h("div", { class: "ls-chipline" }, this.classInput, h("button", { "data-testid": "ls-ann-class-add", onclick: addClass }, "Add")));

    // Captions.
    this.captionInput = h("textarea", { placeholder: "new caption (T)", "data-testid": "ls-ann-caption-input" });
    const captions = h("div", { class: "ls-section", "data-testid": "ls-ann-captions" }, h("h4", {}, "Captions"),
      this.data.captions.map((c) => {
        const ta = h("textarea", { "data-caption": c.caption_id });
        ta.value = c.text;
        ta.addEventListener("change", () => void this.captionEdit(c.caption_id, c.text, ta.value));
        return h("div", { class: "ls-cap" }, ta, h("button", { class: "ls-x", title: "Delete caption", onclick: () => void this.captionDelete(c.caption_id) }, "×"));
      }),
      this.captionInput,
      h("button", { "data-testid": "ls-ann-caption-add", onclick: () => { const v = this.captionInput.value; this.captionInput.value = ""; void this.captionAdd(v); } }, "Add caption"));

    const help = h("div", { class: "ls-section ls-ann-help" }, h("h4", {}, "Keys"),
      SHORTCUTS.map(([key, , what]) => h("div", {}, h("kbd", {}, key), " ", what)));

    appendAll(side, list, classSection, captions,
      toggles("Sources", sources, this.hiddenSources, (n) => sourceColor(n, sources), "ls-ann-sources"),
      toggles("Classes", classes, this.hiddenClasses, (n) => labelColor(n), "ls-ann-class-toggles"),
      help);
  }

  private setStatus(text: string, error = false): void {
    this.status.textContent = text;
    this.status.classList.toggle("ls-error", error);
  }

  private error(e: unknown, prefix = ""): void {
    const msg = e instanceof Error ? e.message : String(e);
    this.setStatus(prefix ? `${prefix}: ${msg}` : msg, true);
  }
}

function pairs(flat: number[]): string {
  const out: string[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push(`${flat[i]},${flat[i + 1]}`);
  return out.join(" ");
}

function kindLetter(type: string): string {
  return type === "object_detection" ? "▭" : type === "instance_segmentation" ? "◆" : type === "semantic_segmentation" ? "▦" : "●";
}

function clampTo(v: number, max: number): number {
  return v < 0 ? 0 : v > max ? max : v;
}

/** Mount the annotator into `el` (notebook widget or full-page app). Returns a disposer. */
export function mountAnnotator(el: HTMLElement, model: ModelLike, rpc: RpcClient, info: AnnotatorInfo): () => void {
  const view = new Annotator(model, rpc, info);
  el.append(view.el);
  void view.start();
  return () => {
    view.dispose();
    view.el.remove();
  };
}
