// Colouring annotations by an evaluation run: each annotation the run judged is drawn in the
// colour of its outcome (TP green, FP red, FN amber), and a chosen confusion-matrix cell keeps
// its objects (the matched ground-truth / prediction pairs of that cell) bright and dims every
// other. One OutcomeColoring is shared by the grid, the detail view and the annotator; it
// fetches outcomes per page of samples (evaluation_outcomes) and caches them by sample id.

import { h } from "../lib/dom";
import type { AnnotationOutcome } from "../transport/methods";
import type { RpcClient } from "../transport/rpc";
import type { Annotation } from "./source";

export type Outcome = AnnotationOutcome["outcome"];

export const OUTCOME_COLORS: Record<Outcome, string> = {
  tp: "#16a34a", fp: "#dc2626", fn: "#f59e0b", ignored: "#94a3b8",
};
/** Annotations the run did not judge (other sources or types). */
export const UNJUDGED_COLOR = "#94a3b8";
const LEGEND: [Outcome, string][] = [
  ["tp", "TP · matched"], ["fp", "FP · wrong prediction"], ["fn", "FN · missed object"],
];

/** A confusion-matrix cell: ground-truth and predicted class (null: the background). */
export interface Cell { gt: string | null; pred: string | null }

/** How one annotation is drawn. `color` undefined: its class colour. */
export interface AnnotationStyle {
  color?: string;
  /** Drawn faint: outside the chosen cell, or not judged by the run. */
  dim: boolean;
  /** Drawn stronger: an object of the chosen cell. */
  strong: boolean;
  /** A prediction of the run (drawn dashed, so a TP pair's two boxes tell apart). */
  predicted: boolean;
  outcome?: Outcome;
}
export type StyleOf = (a: Annotation) => AnnotationStyle;

export type ColorBy = "class" | "outcome";

/** The style of one annotation given its outcome (undefined: not judged), the colouring
 * and the chosen cell. */
export function outcomeStyle(a: Annotation, o: AnnotationOutcome | undefined, colorBy: ColorBy,
                             cell: Cell | null, predSource: string | null): AnnotationStyle {
  const predicted = predSource !== null && a.source === predSource;
  if (!o) return { color: colorBy === "outcome" ? UNJUDGED_COLOR : undefined, dim: colorBy === "outcome" || cell !== null, strong: false, predicted };
  const inCell = cell !== null && o.outcome !== "ignored" && o.gt === cell.gt && o.pred === cell.pred;
  return {
    color: colorBy === "outcome" ? OUTCOME_COLORS[o.outcome] : undefined,
    dim: cell !== null ? !inCell : o.outcome === "ignored",
    strong: inCell,
    predicted,
    outcome: o.outcome,
  };
}

const BATCH = 240; // samples per evaluation_outcomes call (two grid pages)

export class OutcomeColoring {
  /** The run whose outcomes colour the views; null: colouring off. */
  run: string | null = null;
  predSource: string | null = null;
  colorBy: ColorBy = "outcome";
  cell: Cell | null = null;
  /** Bumped when the run, the colouring or the cell changes: every drawing is stale. */
  version = 0;
  private outcomes = new Map<string, Map<string, AnnotationOutcome>>();
  private queue = new Set<string>();
  private pending = new Map<string, Promise<void>>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private readonly listeners = new Set<() => void>();

  constructor(private readonly rpc: RpcClient, private readonly datasetId: string) {}

  onChange(cb: () => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  private changed(): void {
    this.version++;
    this.emit();
  }

  /** Outcomes arrived: only the samples they belong to draw differently (signature()). */
  private emit(): void {
    for (const cb of [...this.listeners]) cb();
  }

  /** Colour by this run (null: off). Forgets the cached outcomes of another run. */
  setRun(run: string | null, predSource: string | null = null): void {
    if (run === this.run && predSource === this.predSource) return;
    this.run = run;
    this.predSource = predSource;
    this.cell = null;
    this.outcomes.clear();
    this.queue.clear();
    this.pending.clear();
    this.changed();
  }

  setColorBy(colorBy: ColorBy): void {
    if (colorBy === this.colorBy) return;
    this.colorBy = colorBy;
    this.changed();
  }

  setCell(cell: Cell | null): void {
    this.cell = cell;
    this.changed();
  }

  /** Whether the views draw by the run at all (outcome colours or a highlighted cell). */
  get active(): boolean {
    return this.run !== null && (this.colorBy === "outcome" || this.cell !== null);
  }

  /** A key of what a sample's drawing depends on (grid cells repaint when it changes). */
  signature(sampleId: string): string {
    if (!this.active) return "";
    return `${this.version}:${this.outcomes.has(sampleId) ? 1 : 0}`;
  }

  /** The style function for a sample's annotations, or undefined when the views draw by
   * class as usual. Outcomes not loaded yet are asked for (batched); until they come, the
   * sample's annotations draw as not judged, and a change event follows. */
  styleFor(sampleId: string): StyleOf | undefined {
    if (!this.active) return undefined;
    const known = this.outcomes.get(sampleId);
    if (!known) this.request([sampleId]);
    const map = known ?? new Map<string, AnnotationOutcome>();
    const { colorBy, cell, predSource } = this;
    return (a) => outcomeStyle(a, map.get(a.annotation_id), colorBy, cell, predSource);
  }

  /** One annotation's outcome (undefined: not judged, or not loaded yet: then asked for). */
  outcomeOf(sampleId: string, annotationId: string): AnnotationOutcome | undefined {
    if (!this.run || !sampleId) return undefined;
    const known = this.outcomes.get(sampleId);
    if (!known) this.request([sampleId]);
    return known?.get(annotationId);
  }

  /** Resolves once the sample's outcomes are loaded (the detail view waits for them). */
  async load(sampleId: string): Promise<void> {
    if (!this.run || this.outcomes.has(sampleId)) return;
    this.request([sampleId]);
    this.flush();
    await this.pending.get(sampleId);
  }

  private request(ids: string[]): void {
    for (const id of ids) if (!this.pending.has(id)) this.queue.add(id);
    if (this.timer === null && this.queue.size) this.timer = setTimeout(() => this.flush(), 0);
  }

  private flush(): void {
    if (this.timer !== null) { clearTimeout(this.timer); this.timer = null; }
    const run = this.run;
    while (run && this.queue.size) {
      const ids = [...this.queue].slice(0, BATCH);
      for (const id of ids) this.queue.delete(id);
      const call = this.rpc.call("evaluation_outcomes", { dataset_id: this.datasetId, name: run, sample_ids: ids })
        .then(({ result }) => {
          if (run !== this.run) return; // another run was chosen meanwhile
          for (const [id, anns] of Object.entries(result.samples)) this.outcomes.set(id, new Map(Object.entries(anns)));
          this.emit();
        })
        .catch(() => {
          // e.g. the run was deleted: draw these samples as not judged rather than asking forever
          if (run !== this.run) return;
          for (const id of ids) if (!this.outcomes.has(id)) this.outcomes.set(id, new Map());
          this.emit();
        })
        .finally(() => { for (const id of ids) if (this.pending.get(id) === call) this.pending.delete(id); });
      for (const id of ids) this.pending.set(id, call);
    }
  }

  dispose(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.listeners.clear();
  }
}

/** The TP / FP / FN legend (the grid's toolbar, the detail view, the annotator). */
export function outcomeLegend(extra = ""): HTMLElement {
  return h("div", { class: `ls-outcome-legend ${extra}`.trim(), "data-testid": "ls-outcome-legend" },
    LEGEND.map(([k, text]) => h("span", { class: "ls-outcome-key" },
      h("span", { class: "ls-outcome-swatch", style: `background:${OUTCOME_COLORS[k]}` }), text)),
    h("span", { class: "ls-outcome-key", title: "dashed: a prediction; solid: ground truth" }, "- - prediction"));
}
