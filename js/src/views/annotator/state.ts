// What the annotator knows about the open sample (the server's answer, its annotations, decoded
// masks, undo refs) and about the interaction in progress (tool, drag, polygon draft, view
// transform). One plain object shared by the loader, the commands, the tools and the renderers;
// none of them keeps a copy.

import type { Ref } from "./history";
import { MaskBitmap, type Dirty } from "./mask";
import type { Box, Handle, ViewTransform } from "./shapes";
import type { OutcomeColoring } from "../evalColors";

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

export interface Caption {
  caption_id: string;
  text: string;
}

export interface Loaded {
  sample: { sample_id: string; dataset_id: string; file_name: string; width: number; height: number } | null;
  index: number | null;
  total: number | null;
  annotations: Ann[];
  captions: Caption[];
  labels: { name: string; count: number }[];
  sources: string[];
  revision: string;
  /** A video frame: its video and the neighbouring frame samples (the frame keys). */
  frame?: { video_id: string; frame_number: number; previous_id: string | null; next_id: string | null } | null;
}

export interface AnnotatorInfo {
  dataset_id: string;
  dataset_name?: string;
  /** The explorer's evaluation colouring: with a run chosen, "colour: evaluation outcome". */
  coloring?: OutcomeColoring;
}

export type Tool = "select" | "box" | "polygon" | "brush" | "eraser" | "pan";
export type MaskKind = "instance_segmentation" | "semantic_segmentation";
export type ColorBy = "source" | "class" | "outcome";
export type Spec = Partial<Ann>;

export const GT = "ground_truth";
export const MASKED = new Set(["instance_segmentation", "semantic_segmentation"]);
/** The key under which a brush stroke that creates a new mask is kept while it saves. */
export const DRAFT_MASK = "__draft__";

export type Drag =
  | { kind: "pan"; x: number; y: number; t: ViewTransform }
  | { kind: "draw-box"; x0: number; y0: number; x1: number; y1: number }
  | { kind: "move"; id: string; x: number; y: number; start: Box; box: Box }
  | { kind: "resize"; id: string; handle: Handle; start: Box; box: Box }
  | { kind: "vertex"; id: string; ring: number; vertex: number; start: number[][]; rings: number[][] }
  | { kind: "paint"; id: string | null; mask: MaskBitmap; before: MaskBitmap | null; x: number; y: number; value: 0 | 1; dirty: Dirty | null };

export type PaintDrag = Extract<Drag, { kind: "paint" }>;

/** What the modules ask of the coordinator: repaint, report, select. */
export interface Screen {
  renderAll(): void;
  renderMasks(dirty?: Dirty | null): void;
  renderVectors(): void;
  renderSide(): void;
  /** Size the image, canvas and SVG layers for a new sample. */
  setImageSize(width: number, height: number): void;
  fit(): void;
  select(id: string | null): void;
  setStatus(text: string, error?: boolean): void;
  error(e: unknown, prefix?: string): void;
}

export class AnnotatorState {
  // The sample as the server last described it.
  data: Loaded | null = null;
  anns: Ann[] = [];
  masks = new Map<string, MaskBitmap>();
  refs = new Map<string, Ref>();
  captionRefs = new Map<string, Ref>();
  labels: string[] = [];
  selected: string | null = null;
  index = 0;
  pending = 0;
  loading = false;
  loadSeq = 0;

  // What is shown and how new shapes are made.
  tool: Tool = "select";
  maskKind: MaskKind = "instance_segmentation";
  colorBy: ColorBy = "class";
  /** Outcomes of the explorer's chosen evaluation run (colorBy "outcome"). */
  coloring: OutcomeColoring | null = null;
  hiddenSources = new Set<string>();
  hiddenClasses = new Set<string>();

  // The interaction in progress.
  t: ViewTransform = { scale: 1, tx: 0, ty: 0 };
  fitScale = 1;
  drag: Drag | null = null;
  draft: number[] = []; // polygon being drawn
  spaceDown = false;

  ann(id: string): Ann | undefined {
    return this.anns.find((a) => a.annotation_id === id);
  }

  upsert(a: Ann): void {
    const i = this.anns.findIndex((x) => x.annotation_id === a.annotation_id);
    if (i >= 0) this.anns[i] = a;
    else this.anns.push(a);
    this.masks.delete(a.annotation_id);
    if (!this.labels.includes(a.label)) this.labels.push(a.label);
  }

  remove(id: string): void {
    this.anns = this.anns.filter((a) => a.annotation_id !== id);
    this.masks.delete(id);
    if (this.selected === id) this.selected = null;
  }

  refFor(id: string): Ref {
    let ref = this.refs.get(id);
    if (!ref) this.refs.set(id, (ref = { id }));
    return ref;
  }

  rebind(ref: Ref, id: string): void {
    this.refs.delete(ref.id);
    ref.id = id;
    this.refs.set(id, ref);
  }

  version(ref: Ref): number | undefined {
    return this.ann(ref.id)?.version;
  }

  captionRef(id: string): Ref {
    let ref = this.captionRefs.get(id);
    if (!ref) this.captionRefs.set(id, (ref = { id }));
    return ref;
  }

  /** The class for new shapes: what the class box says, else the first known class. */
  currentLabel(typed: string): string {
    const v = typed.trim();
    if (v) return v;
    return this.labels[0] ?? "object";
  }

  visible(a: Ann): boolean {
    return !this.hiddenSources.has(a.source) && !this.hiddenClasses.has(a.label);
  }

  /** The decoded mask of `a` (decoded once, kept until the annotation changes). */
  maskOf(a: Ann): MaskBitmap {
    let m = this.masks.get(a.annotation_id);
    if (!m) {
      const { width: W, height: H } = this.data!.sample!;
      m = MaskBitmap.fromRle(a.rle ?? [W * H], W, H);
      this.masks.set(a.annotation_id, m);
    }
    return m;
  }
}
