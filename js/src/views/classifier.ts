// The few-shot classifier panel beside the grid: name a classifier and its classes, mark the
// samples selected in the grid (or lassoed in the plot, then selected) as examples of a class,
// train on the stored embeddings, show the least sure samples or a class's predicted members
// in the grid, correct them, retrain, and write the predictions as an annotation source.
// The classifiers live in Python (api/classifier.py): one made in a notebook shows here too.

import { h } from "../lib/dom";
import type { ClassifierState } from "../transport/methods";
import type { RpcClient } from "../transport/rpc";
import type { Spec } from "./source";

export interface ClassifierHost {
  rpc: RpcClient;
  datasetId: string;
  /** The sample ids selected in the grid. */
  selection: () => string[];
  /** The grid's filter: with "ids" (a plot lasso, or samples shown from here) its samples
   * can be marked at once. */
  spec: () => Spec;
  /** Put the samples of an ids token in the grid (null: drop that filter). */
  show: (ids: string | null) => void;
  /** The data changed (annotations written): refresh rows and facets. */
  changed: () => void;
}

export class ClassifierPanel {
  readonly el: HTMLElement;
  private state: ClassifierState | null = null;
  private all: ClassifierState[] = [];
  private readonly picker = h("select", { "aria-label": "classifier", "data-testid": "ls-clf-picker" });
  private readonly name = h("input", { type: "text", placeholder: "classifier name", "data-testid": "ls-clf-name" });
  private readonly classes = h("input", { type: "text", placeholder: "classes, comma-separated", "data-testid": "ls-clf-classes" });
  private readonly body = h("div", { style: "display:flex; flex-direction:column; gap:8px" });
  private readonly status = h("div", { class: "ls-muted", role: "status", "data-testid": "ls-clf-status", style: "overflow-wrap:anywhere" });
  private showing = false;

  constructor(private readonly host: ClassifierHost) {
    const create = h("button", { "data-testid": "ls-clf-create" }, "Create");
    create.addEventListener("click", () => void this.create());
    this.classes.addEventListener("keydown", (e) => { if (e.key === "Enter") void this.create(); });
    this.picker.addEventListener("change", () => {
      this.state = this.all.find((c) => c.name === this.picker.value) ?? null;
      this.render();
    });
    this.el = h("div", { class: "ls-side-classifier", "data-testid": "ls-classifier",
                         style: "width:300px; flex:none; border-left:1px solid var(--ls-border); padding:10px; overflow:auto; display:flex; flex-direction:column; gap:10px" },
      h("div", { class: "ls-title" }, "Few-shot classifier"),
      this.picker,
      h("div", { style: "display:flex; flex-direction:column; gap:4px" }, this.name, this.classes, create),
      this.body, this.status);
  }

  async load(): Promise<void> {
    try {
      const { result } = await this.host.rpc.call("classifier_list", { dataset_id: this.host.datasetId });
      this.all = result.classifiers;
      this.state = this.all.find((c) => c.name === this.state?.name) ?? this.all[0] ?? null;
      this.render();
    } catch (e) { this.fail(e); }
  }

  /** The grid selection changed: the "mark" buttons say how many they mark. */
  selectionChanged(): void { this.render(); }

  /** Remove the panel; samples it put in the grid stay there (the filters can clear them). */
  dispose(): void { this.el.remove(); }

  private async create(): Promise<void> {
    const name = this.name.value.trim();
    const classes = this.classes.value.split(",").map((c) => c.trim()).filter(Boolean);
    if (!name) { this.name.focus(); return; }
    if (classes.length < 2) { this.say("Give two or more classes, e.g. “indoor, outdoor”.", true); this.classes.focus(); return; }
    await this.run(async () => {
      const { result } = await this.host.rpc.call("classifier_create", { dataset_id: this.host.datasetId, name, classes });
      this.name.value = "";
      this.classes.value = "";
      this.update(result);
      this.say(`Created “${result.name}”. Select samples in the grid and mark them as examples.`);
    });
  }

  private update(next: ClassifierState): void {
    this.state = next;
    this.all = [...this.all.filter((c) => c.name !== next.name), next].sort((a, b) => a.name.localeCompare(b.name));
    this.render();
  }

  private render(): void {
    this.picker.replaceChildren(...(this.all.length
      ? this.all.map((c) => h("option", { value: c.name, selected: c.name === this.state?.name }, c.name))
      : [h("option", { value: "" }, "No classifier yet")]));
    this.picker.disabled = !this.all.length;
    const state = this.state;
    if (!state) { this.body.replaceChildren(); return; }
    const selected = this.host.selection();
    const spec = this.host.spec();
    // Nothing selected but the grid shows a lasso (or samples shown from here): mark those.
    const inFilter = !selected.length && typeof spec.ids === "string";
    const rows = state.classes.map((cls, i) => {
      const mark = h("button", { "data-testid": `ls-clf-mark-${i}`, disabled: !selected.length && !inFilter,
                                 title: inFilter ? `Mark every sample in the grid as an example of ${cls}`
                                                 : `Mark the selected samples as examples of ${cls}` },
        selected.length ? `+ ${selected.length}` : inFilter ? "+ all shown" : "+");
      mark.addEventListener("click", () => void (inFilter ? this.markFilter(cls, spec) : this.mark(cls, this.host.selection())));
      const members = h("button", { "data-testid": `ls-clf-members-${i}`, disabled: !state.trained,
                                    title: `Show the samples predicted as ${cls}` }, "Show");
      members.addEventListener("click", () => void this.showSamples("class", cls));
      return h("div", { class: "ls-clf-class", style: "display:flex; align-items:center; gap:6px" },
        h("span", { style: "flex:1; overflow:hidden; text-overflow:ellipsis" }, cls),
        h("span", { class: "ls-muted", "data-testid": `ls-clf-count-${i}` }, `${state.examples[cls] ?? 0} ex.`),
        mark, members);
    });
    const unmark = h("button", { "data-testid": "ls-clf-unmark", disabled: !selected.length }, "Unmark selected");
    unmark.addEventListener("click", () => void this.mark(null, this.host.selection()));
    const train = h("button", { class: "ls-primary", "data-testid": "ls-clf-train" }, state.trained ? "Retrain" : "Train");
    train.addEventListener("click", () => void this.train());
    const unsure = h("button", { "data-testid": "ls-clf-uncertain", disabled: !state.trained,
                                 title: "The samples it is least sure of: mark them to refine" }, "Refine: least sure");
    unsure.addEventListener("click", () => void this.showSamples("uncertain"));
    const all = h("button", { "data-testid": "ls-clf-show-all", disabled: !this.showing }, "Show all");
    all.addEventListener("click", () => { this.showing = false; this.host.show(null); this.render(); });
    const apply = h("button", { "data-testid": "ls-clf-apply", disabled: !state.trained,
                                title: `Write one classification per sample into the annotation source “${state.name}”` },
      "Apply as annotations");
    apply.addEventListener("click", () => void this.apply());
    this.body.replaceChildren(
      h("div", { class: "ls-muted", style: "font-size:12px" }, `On ${state.embedding_model}`),
      ...rows,
      h("div", { style: "display:flex; gap:6px; flex-wrap:wrap" }, unmark, train),
      h("div", { style: "display:flex; gap:6px; flex-wrap:wrap" }, unsure, all),
      apply);
  }

  private async mark(cls: string | null, ids: string[]): Promise<void> {
    const state = this.state;
    if (!state || !ids.length) return;
    await this.run(async () => {
      const { result } = await this.host.rpc.call("classifier_add_examples", {
        dataset_id: this.host.datasetId, name: state.name, class_name: cls, sample_ids: ids });
      this.update(result);
      this.say(cls === null ? `Unmarked ${ids.length} samples.` : `Marked ${ids.length} samples as “${cls}”.`);
    });
  }

  private async markFilter(cls: string, spec: Spec): Promise<void> {
    const state = this.state;
    if (!state) return;
    await this.run(async () => {
      const { result } = await this.host.rpc.call("classifier_add_examples", {
        dataset_id: this.host.datasetId, name: state.name, class_name: cls, spec });
      this.update(result);
      this.say(`Marked the samples shown as “${cls}”.`);
    });
  }

  private async train(): Promise<void> {
    const state = this.state;
    if (!state) return;
    await this.run(async () => {
      const { result } = await this.host.rpc.call("classifier_train", { dataset_id: this.host.datasetId, name: state.name });
      const n = Object.values(result.examples).reduce((a, b) => a + b, 0);
      const { seconds, ...next } = result;
      this.update(next);
      this.say(`Trained on ${n} examples in ${Math.max(1, Math.round(seconds * 1000))} ms.`);
    });
  }

  private async showSamples(which: "uncertain" | "class", cls?: string): Promise<void> {
    const state = this.state;
    if (!state) return;
    await this.run(async () => {
      const { result } = await this.host.rpc.call("classifier_show", {
        dataset_id: this.host.datasetId, name: state.name, which, ...(cls === undefined ? { n: 50 } : { class_name: cls }) });
      this.showing = result.ids !== null;
      this.host.show(result.ids);
      this.render();
      this.say(which === "uncertain" ? `The ${result.count} samples it is least sure of.`
                                     : `${result.count} samples predicted as “${cls}”.`);
    });
  }

  private async apply(): Promise<void> {
    const state = this.state;
    if (!state) return;
    await this.run(async () => {
      const { result } = await this.host.rpc.call("classifier_apply", { dataset_id: this.host.datasetId, name: state.name });
      this.host.changed();
      this.say(`Wrote ${result.count} classifications into the source “${result.source}”.`);
    });
  }

  private async run(action: () => Promise<void>): Promise<void> {
    const buttons = [...this.el.querySelectorAll("button")];
    const enabled = buttons.filter((b) => !b.disabled);
    enabled.forEach((b) => (b.disabled = true));
    try {
      await action();
    } catch (e) {
      this.fail(e);
    } finally {
      enabled.filter((b) => b.isConnected).forEach((b) => (b.disabled = false));
    }
  }

  private fail(e: unknown): void { this.say((e as Error).message, true); }

  private say(text: string, error = false): void {
    this.status.textContent = text;
    this.status.className = error ? "ls-error" : "ls-muted";
  }
}
