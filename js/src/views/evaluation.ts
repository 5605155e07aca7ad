// The Evaluation panel: pick a stored run; its summary (TP / FP / FN counts filter the grid),
// a confusion-matrix heat map (cells filter the grid to those images), the per-class table and
// the PR curve. Data comes from the evaluation_* api methods; filtering goes through the
// spec's `evaluation` key, sorting through `sort.field = "evaluation:<run>:<metric>"`.
// While the panel is open its run colours the boxes TP / FP / FN in the grid, detail view and
// annotator (the shared OutcomeColoring, evalColors.ts), and a clicked matrix cell keeps its
// objects bright and dims the others.

import { h, s } from "../lib/dom";
import type { EvaluationDetail, EvaluationRun } from "../transport/methods";
import type { RpcClient } from "../transport/rpc";
import { outcomeLegend, type ColorBy, type OutcomeColoring } from "./evalColors";
import { openEvaluationDialog } from "./evalDialog";

export interface EvaluationFilter { run: string; gt?: string | null; pred?: string | null; outcome?: string }

export interface EvaluationPanelOptions {
  rpc: RpcClient;
  datasetId: string;
  /** Filter the grid (null: clear the evaluation filter). */
  onFilter: (filter: EvaluationFilter | null) => void;
  /** Sort the grid by a per-sample metric of the run. */
  onSort: (field: string, desc: boolean) => void;
  /** The views' evaluation colouring, set to the chosen run. */
  coloring: OutcomeColoring;
}

const CELL = 18; // px per matrix cell: 80 classes stay readable in a scrolling box

function fmt(v: unknown): string {
  if (v === null || v === undefined) return "–";
  if (typeof v === "number") return Number.isInteger(v) ? v.toLocaleString("en-US") : v.toFixed(3);
  return String(v);
}

/** Cell colour: green on the diagonal (TP), red elsewhere (FP / FN), log-scaled intensity. */
export function cellColor(count: number, max: number, diagonal: boolean): string {
  if (count <= 0) return "transparent";
  const t = Math.log1p(count) / Math.log1p(Math.max(max, 1));
  const alpha = (0.15 + 0.85 * t).toFixed(3);
  return diagonal ? `rgba(34,197,94,${alpha})` : `rgba(239,68,68,${alpha})`;
}

export class EvaluationPanel {
  readonly el: HTMLElement;
  private body: HTMLElement;
  private select: HTMLSelectElement;
  private runs: EvaluationRun[] = [];
  private readonly colorBy: HTMLSelectElement;
  private readonly legend = outcomeLegend();
  private showing = 0;
  private disposed = false;

  constructor(private opts: EvaluationPanelOptions) {
    this.select = h("select", { "aria-label": "evaluation run", "data-testid": "ls-eval-run" });
    this.select.addEventListener("change", () => void this.show(this.select.value));
    this.body = h("div", { class: "ls-eval-body" });
    this.colorBy = h("select", { "aria-label": "colour boxes by", "data-testid": "ls-eval-color-by" },
      h("option", { value: "outcome" }, "evaluation outcome"), h("option", { value: "class" }, "class"));
    this.colorBy.value = opts.coloring.colorBy;
    this.colorBy.addEventListener("change", () => {
      opts.coloring.setColorBy(this.colorBy.value as ColorBy);
      this.legend.hidden = this.colorBy.value !== "outcome";
    });
    this.legend.hidden = this.colorBy.value !== "outcome";
    this.el = h("div", { class: "ls-eval", "data-testid": "ls-eval-panel" },
      h("div", { class: "ls-eval-head" }, h("strong", {}, "Evaluation"), this.select,
        h("button", { "data-testid": "ls-eval-new", title: "Evaluate predictions against ground truth",
          onclick: () => this.openDialog() }, "New evaluation…")),
      h("div", { class: "ls-eval-colors" }, h("label", { class: "ls-muted" }, "Colour boxes by ", this.colorBy), this.legend),
      this.body);
  }

  private openDialog(): void {
    const host = (this.el.closest(".ls-root") as HTMLElement | null) ?? this.el;
    void openEvaluationDialog(host, this.opts.rpc, this.opts.datasetId, (run) => {
      // The new run is listed and chosen (its colours, matrix and figures show).
      void this.load(run.name);
    }).catch((e) => this.body.prepend(h("p", { class: "ls-error" }, (e as Error).message)));
  }

  /** The panel closes: the views draw by class again. */
  dispose(): void {
    this.disposed = true;
    this.opts.coloring.setRun(null);
  }

  /** Filter the grid to a cell (null: clear) and highlight that cell's objects. */
  private chooseCell(run: string, gt: string | null, pred: string | null, cellEl: HTMLElement): void {
    for (const el of this.body.querySelectorAll(".ls-eval-cell-on")) el.classList.remove("ls-eval-cell-on");
    cellEl.classList.add("ls-eval-cell-on");
    this.opts.coloring.setCell({ gt, pred });
    this.opts.onFilter({ run, gt, pred });
  }

  private filterOutcome(filter: EvaluationFilter | null): void {
    for (const el of this.body.querySelectorAll(".ls-eval-cell-on")) el.classList.remove("ls-eval-cell-on");
    this.opts.coloring.setCell(null);
    this.opts.onFilter(filter);
  }

  /** List the stored runs and show `name` (default: the newest). */
  async load(name?: string): Promise<void> {
    const { result } = await this.opts.rpc.call("evaluation_runs", { dataset_id: this.opts.datasetId });
    this.runs = result.runs;
    this.select.replaceChildren(...this.runs.map((r) => h("option", { value: r.name }, `${r.name} (${r.task})`)));
    if (!this.runs.length) {
      this.body.replaceChildren(h("p", { class: "ls-muted" }, "No evaluation runs yet: start one with “New evaluation…” or dataset.evaluate() in Python."));
      return;
    }
    await this.show(name && this.runs.some((r) => r.name === name) ? name : this.runs[0].name);
  }

  async show(name: string): Promise<void> {
    this.select.value = name;
    const seq = ++this.showing;
    const { result } = await this.opts.rpc.call("evaluation_detail", { dataset_id: this.opts.datasetId, name });
    // Another run was picked meanwhile, or the panel closed (its colouring must stay off).
    if (seq !== this.showing || this.disposed) return;
    this.opts.coloring.setRun(name, result.run.pred_source);
    this.body.replaceChildren(this.summary(result), this.matrix(result), this.table(result), this.curve(result));
  }

  private summary(d: EvaluationDetail): HTMLElement {
    const run = d.run.name;
    const m = d.run.summary;
    const keys = ["mAP", "mAP50", "precision", "recall", "f1", "accuracy", "mIoU"].filter((k) => k in m);
    const counts = (["tp", "fp", "fn"] as const).filter((k) => k in m).map((k) =>
      h("button", { class: "ls-eval-count", "data-testid": `ls-eval-${k}`, title: `Show images with a ${k.toUpperCase()}`,
        onclick: () => this.filterOutcome({ run, outcome: k }) }, `${k.toUpperCase()} ${fmt(m[k])}`));
    const sort = h("select", { "aria-label": "sort by run metric", "data-testid": "ls-eval-sort" },
      h("option", { value: "" }, "sort grid by…"),
      ["fn", "fp", "tp", "recall", "precision", "disagreement", "miou"].map((k) => h("option", { value: k }, k)));
    sort.addEventListener("change", () => { if (sort.value) this.opts.onSort(`evaluation:${run}:${sort.value}`, !["recall", "precision", "miou"].includes(sort.value)); });
    return h("div", { class: "ls-eval-summary" },
      h("div", {}, keys.map((k) => h("span", { class: "ls-eval-metric" }, `${k} `, h("b", {}, fmt(m[k]))))),
      h("div", {}, counts, h("button", { onclick: () => this.filterOutcome(null), title: "Clear the evaluation filter", "data-testid": "ls-eval-clear" }, "clear"), sort));
  }

  private matrix(d: EvaluationDetail): HTMLElement {
    const { classes, counts, row_background, column_background } = d.confusion;
    const rows = [...classes, row_background];
    const cols = [...classes, column_background];
    const max = Math.max(0, ...counts.flat());
    const tip = h("div", { class: "ls-eval-tip", "data-testid": "ls-eval-tip" });
    const grid = h("div", { class: "ls-eval-grid", style: `grid-template-columns: 9em repeat(${cols.length}, ${CELL}px)` });
    grid.append(h("div", {}), ...cols.map((c) => h("div", { class: "ls-eval-col", title: c }, c)));
    rows.forEach((gt, i) => {
      grid.append(h("div", { class: "ls-eval-row", title: gt }, gt));
      cols.forEach((pred, j) => {
        const n = counts[i][j];
        const isBackground = i === classes.length || j === classes.length;
        const cell = h("div", {
          class: "ls-eval-cell", "data-gt": gt, "data-pred": pred, "data-count": n,
          style: `background:${cellColor(n, max, i === j && !isBackground)}`,
        });
        cell.addEventListener("mouseenter", () => { tip.textContent = `GT: ${gt} · Pred: ${pred} · Count: ${n}`; });
        if (n > 0 && !(i === classes.length && j === classes.length)) {
          cell.addEventListener("click", () => this.chooseCell(
            d.run.name, i === classes.length ? null : gt, j === classes.length ? null : pred, cell));
        }
        grid.append(cell);
      });
    });
    return h("div", { class: "ls-eval-section" },
      h("div", { class: "ls-muted" }, `Confusion matrix · ${classes.length} classes, most confused first · rows ground truth, columns prediction`),
      tip, h("div", { class: "ls-eval-scroll", "data-testid": "ls-eval-matrix" }, grid));
  }

  private table(d: EvaluationDetail): HTMLElement {
    const columns = d.run.task === "semantic_segmentation" ? ["iou", "gt_pixels", "pred_pixels"]
      : d.run.task === "classification" ? ["precision", "recall", "f1", "tp", "fp", "fn"]
        : ["AP", "AP50", "precision", "recall", "f1", "tp", "fp", "fn"];
    return h("div", { class: "ls-eval-section ls-eval-scroll", style: "max-height:240px" },
      h("table", { class: "ls-eval-table", "data-testid": "ls-eval-table" },
        h("thead", {}, h("tr", {}, h("th", {}, "class"), columns.map((c) => h("th", {}, c)))),
        h("tbody", {}, d.per_class.map((row) => h("tr", {}, h("td", {}, String(row.name)), columns.map((c) => h("td", {}, fmt(row[c]))))))));
  }

  private curve(d: EvaluationDetail): HTMLElement {
    if (!d.pr_curve || !d.pr_curve.recall.length) return h("div");
    const W = 220, H = 160;
    const pts = d.pr_curve.recall.map((r, i) => `${(r * W).toFixed(1)},${((1 - d.pr_curve!.precision[i]) * H).toFixed(1)}`).join(" ");
    return h("div", { class: "ls-eval-section" }, h("div", { class: "ls-muted" }, "PR curve (all classes, at the run's IoU)"),
      s("svg", { width: W + 2, height: H + 2, viewBox: `-1 -1 ${W + 2} ${H + 2}`, "data-testid": "ls-eval-pr" },
        s("rect", { x: 0, y: 0, width: W, height: H, fill: "none", stroke: "currentColor", "stroke-opacity": 0.3 }),
        s("polyline", { points: pts, fill: "none", stroke: "rgb(34,197,94)", "stroke-width": 1.5 })));
  }
}
