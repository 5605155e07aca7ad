// The "New evaluation" dialog of the Evaluation panel: task, run name, ground-truth and
// prediction sources, IoU threshold and classwise matching. A task is offered only where two
// sources have its annotation type (api `evaluation_sources`); the run goes through
// `evaluation_create`, whose errors (e.g. a name taken by a run of another task) show here.

import { h } from "../lib/dom";
import { icon } from "../lib/icons";
import type { EvaluationRun } from "../transport/methods";
import type { RpcClient } from "../transport/rpc";

const TASKS: [string, string][] = [
  ["object_detection", "Object detection"],
  ["instance_segmentation", "Instance segmentation"],
  ["classification", "Classification"],
  ["semantic_segmentation", "Semantic segmentation"],
];
/** Tasks that match objects by IoU (and may match across classes). */
const MATCHED = new Set(["object_detection", "instance_segmentation"]);
const GT = "ground_truth";

/** The tasks the dialog offers: those with at least two sources of their annotation type. */
export function offeredTasks(tasks: Record<string, string[]>): [string, string][] {
  return TASKS.filter(([task]) => (tasks[task] ?? []).length >= 2);
}

export async function openEvaluationDialog(host: HTMLElement, rpc: RpcClient, datasetId: string,
                                           onCreated: (run: EvaluationRun) => void): Promise<void> {
  const { result } = await rpc.call("evaluation_sources", { dataset_id: datasetId });
  const offered = offeredTasks(result.tasks);
  const task = h("select", { "data-testid": "ls-eval-new-task" }, offered.map(([v, t]) => h("option", { value: v }, t)));
  const name = h("input", { type: "text", "data-testid": "ls-eval-new-name", spellcheck: false, placeholder: "run name" });
  const gt = h("select", { "data-testid": "ls-eval-new-gt" });
  const pred = h("select", { "data-testid": "ls-eval-new-pred" });
  const iou = h("input", { type: "number", min: 0.05, max: 1, step: 0.05, value: 0.5, "data-testid": "ls-eval-new-iou" });
  const classwise = h("input", { type: "checkbox", checked: true, "data-testid": "ls-eval-new-classwise" });
  const matchedRows = h("div", { style: "display:contents" },
    h("label", {}, "IoU threshold (a match needs at least this overlap)", iou),
    h("label", { class: "ls-check", style: "flex-direction:row;align-items:center",
      title: "Match only objects of the same class; off, a box may match one of another class (an FP and an FN, off the matrix's diagonal)" },
    classwise, "classwise matching"));
  const message = h("div", { class: "ls-muted", "data-testid": "ls-eval-new-message", role: "status", style: "overflow-wrap:anywhere" });
  const go = h("button", { class: "ls-primary", "data-testid": "ls-eval-new-run" }, "Run evaluation");
  const cancel = h("button", { "data-testid": "ls-eval-new-cancel" }, "Cancel");
  let typedName = false;
  name.addEventListener("input", () => (typedName = name.value.trim() !== ""));

  const fillSources = () => {
    const sources = result.tasks[task.value] ?? [];
    const keepGt = sources.includes(gt.value) ? gt.value : sources.includes(GT) ? GT : sources[0];
    gt.replaceChildren(...sources.map((s) => h("option", { value: s }, s)));
    gt.value = keepGt ?? "";
    const others = sources.filter((s) => s !== gt.value);
    const keepPred = others.includes(pred.value) ? pred.value : others[0];
    pred.replaceChildren(...others.map((s) => h("option", { value: s }, s)));
    pred.value = keepPred ?? "";
    matchedRows.style.display = MATCHED.has(task.value) ? "contents" : "none";
    if (!typedName) name.value = pred.value ? `${pred.value}-${task.value.replace(/_/g, "-")}` : "";
  };
  task.addEventListener("change", fillSources);
  gt.addEventListener("change", fillSources);
  pred.addEventListener("change", () => { if (!typedName) fillSources(); });

  const before = document.activeElement as HTMLElement | null;
  const close = () => { dialog.remove(); before?.focus?.(); };
  cancel.addEventListener("click", close);
  const form = offered.length
    ? [h("label", {}, "Task", task), h("label", {}, "Run name", name), h("label", {}, "Ground truth", gt),
      h("label", {}, "Predictions", pred), matchedRows, message, h("div", { class: "ls-row" }, cancel, go)]
    : [h("p", { class: "ls-muted", "data-testid": "ls-eval-new-message" },
      "An evaluation compares two annotation sources of one type (e.g. ground_truth and a model's boxes). " +
      "Load predictions as another source first, e.g. add_annotations_from_coco(..., annotation_source=\"model\")."),
    h("div", { class: "ls-row" }, cancel)];
  const box = h("div", { class: "ls-dialog-box", "data-testid": "ls-eval-new-dialog" },
    h("div", { class: "ls-dialog-head" }, h("span", { class: "ls-title", id: "ls-eval-new-title" }, "New evaluation"),
      h("button", { class: "ls-icon-only", title: "Close (Esc)", "aria-label": "Close", onclick: close }, icon("close"))),
    ...form);
  const dialog = h("div", { class: "ls-dialog", role: "dialog", "aria-modal": "true", "aria-labelledby": "ls-eval-new-title", tabindex: -1 }, box);
  dialog.addEventListener("pointerdown", (e) => { if (e.target === dialog) close(); });
  dialog.addEventListener("keydown", (e) => { if (e.key === "Escape") { e.stopPropagation(); close(); } });

  go.addEventListener("click", async () => {
    const runName = name.value.trim();
    if (!runName) { message.className = "ls-error"; message.textContent = "Give the run a name."; name.focus(); return; }
    go.disabled = true;
    message.className = "ls-muted";
    // The run is one call (seconds even at 10,000 images): show that it is working.
    const started = performance.now();
    const tick = () => { message.textContent = `Evaluating… ${((performance.now() - started) / 1000).toFixed(0)} s`; };
    tick();
    const timer = setInterval(tick, 500);
    try {
      const r = await rpc.call("evaluation_create", {
        dataset_id: datasetId, task: task.value, name: runName, gt_source: gt.value, pred_source: pred.value,
        ...(MATCHED.has(task.value) ? { iou_threshold: Number(iou.value), classwise: classwise.checked } : {}),
      });
      close();
      onCreated(r.result.run);
    } catch (e) {
      message.className = "ls-error";
      message.textContent = (e as Error).message;
    } finally {
      clearInterval(timer);
      go.disabled = false;
    }
  });
  name.addEventListener("keydown", (e) => { if (e.key === "Enter" && !go.disabled) go.click(); });
  fillSources();
  host.append(dialog);
  (offered.length ? task : cancel).focus();
}
