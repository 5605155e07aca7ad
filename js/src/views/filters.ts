// The filter panel: builds the JSON query spec (see lightly_studio/api/_spec.py) from checkboxes,
// ranges and search boxes, and shows counts from the `facets` api method.

import { h, clear, formatCount } from "../lib/dom";
import { histogramBars } from "../lib/geometry";
import { labelColor } from "../lib/colors";
import type { RpcClient } from "../transport/rpc";
import type { Facets, Hist, IssueCount, Spec } from "../transport/methods";
import { withImageSearch } from "./imageSearch";
import { issueLabel } from "./issues";
import { reattachTagMenu, tagAssignBox, tagMenuButton, type TagActions } from "./tags";

export class FiltersView {
  readonly el: HTMLDivElement;
  private facets: Facets | null = null;
  private spec: Spec;
  private debounce: ReturnType<typeof setTimeout> | null = null;
  private requestId = 0;
  private tagActions: TagActions | null = null;

  constructor(
    private readonly rpc: RpcClient,
    spec: Spec,
    private readonly onChange: (spec: Spec) => void,
    private readonly hasEmbeddings: () => boolean,
  ) {
    this.spec = { ...spec };
    this.el = h("div", { class: "ls-filters", "data-testid": "ls-filters" });
    // The first facets take a few seconds on a large dataset: show the panel's shape at once
    // (replaced by the first render).
    this.el.append(skeleton());
  }

  /** The spec changed elsewhere (Python, plot): re-render and refresh counts. */
  setSpec(spec: Spec): void {
    this.spec = { ...spec };
    void this.refresh();
  }

  /** Enable tag management (tags.ts) in the tag section. */
  setTagActions(actions: TagActions): void {
    this.tagActions = actions;
    this.render();
  }

  /** A tag was renamed (or deleted: null): the filter keeps (or drops) it. */
  renameTag(old: string, name: string | null): void {
    const swap = (key: "tags" | "exclude_tags") =>
      this.list(key).flatMap((t) => (t === old ? (name === null ? [] : [name]) : [t]));
    this.update({ tags: swap("tags"), exclude_tags: swap("exclude_tags") });
  }

  async refresh(): Promise<void> {
    const id = ++this.requestId;
    try {
      const { result } = await this.rpc.call("facets", { spec: this.spec });
      if (id !== this.requestId) return;
      this.facets = result;
    } catch (e) {
      if (id !== this.requestId) return;
      this.renderError((e as Error).message);
      return;
    }
    this.render();
  }

  /** A filter the server refused (e.g. a search the dataset cannot answer): say why, and
   * offer the way back instead of leaving the panel empty. */
  private renderError(message: string): void {
    clear(this.el);
    this.el.append(h("div", { class: "ls-section", "data-testid": "ls-filters-error" },
      h("div", { class: "ls-error", style: "margin-bottom:8px" }, message),
      h("button", { "data-testid": "ls-clear-filters", onclick: () => this.update(this.cleared()) }, "Clear filters")));
  }

  /** An image search the server refused (too large, not an image): said under the box. */
  private renderSearchError(message: string): void {
    const box = this.el.querySelector("[data-testid=ls-image-search-status]");
    if (box) { box.textContent = message; box.classList.add("ls-error"); }
  }

  /** The change that drops every filter but keeps the sort. */
  private cleared(): Spec {
    return { tags: [], labels: [], exclude_tags: [], exclude_labels: [], query: "", width: null, height: null, fps: null, duration_s: null, metadata: null, evaluation: null, file_name: "", caption: "", member_tags: [], text: "", similar_to: "", similar_image: "", annotation_source: null, min_confidence: null, ids: null, sort: this.spec.sort as any };
  }

  private update(change: Spec, immediate = true): void {
    const next: Spec = { ...this.spec, ...change };
    for (const [k, v] of Object.entries(next)) {
      if (v === null || v === undefined || v === "" || (Array.isArray(v) && v.length === 0) ||
          (typeof v === "object" && !Array.isArray(v) && Object.keys(v as object).length === 0)) delete next[k];
    }
    this.spec = next;
    if (this.debounce) clearTimeout(this.debounce);
    const fire = () => {
      this.onChange(this.spec);
      void this.refresh();
    };
    if (immediate) fire();
    else this.debounce = setTimeout(fire, 350);
  }

  private list(key: "tags" | "labels" | "exclude_tags" | "exclude_labels"): string[] {
    return ((this.spec[key] as string[] | undefined) ?? []).slice();
  }

  /** Include (checkbox) or exclude (NOT button) a tag or label; one of the two at a time. */
  private toggleIn(key: "tags" | "labels", name: string, on: boolean, exclude = false): void {
    const include = new Set(this.list(key));
    const excluded = new Set(this.list(`exclude_${key}`));
    (exclude ? excluded : include)[on ? "add" : "delete"](name);
    if (on) (exclude ? include : excluded).delete(name);
    this.update({ [key]: [...include], [`exclude_${key}`]: [...excluded] });
  }

  private notButton(key: "tags" | "labels", name: string): HTMLElement {
    const on = this.list(`exclude_${key}`).includes(name);
    return h("button", { class: "ls-not-btn", "aria-pressed": on ? "true" : "false", "data-testid": "ls-not",
      title: on ? `Showing samples without “${name}”: click to stop excluding` : `Exclude samples with “${name}” (NOT)`,
      onclick: () => this.toggleIn(key, name, !on, true) }, "NOT");
  }

  private filterRow(key: "tags" | "labels", name: string, row: HTMLElement, menu: HTMLElement | null): HTMLElement {
    const excluded = this.list(`exclude_${key}`).includes(name);
    return h("div", { class: `ls-tag-row${excluded ? " ls-excluded" : ""}`, "data-name": name }, row, this.notButton(key, name), menu);
  }

  private render(): void {
    const f = this.facets;
    if (!f) return;
    const scrollTop = this.el.scrollTop;
    // A refresh (e.g. data changed in Python) rebuilds the panel: keep text the user is typing
    // but has not submitted yet, and the focus, in the rebuilt box.
    const typing = document.activeElement instanceof HTMLInputElement && this.el.contains(document.activeElement)
      ? { id: document.activeElement.dataset.testid, value: document.activeElement.value,
          at: document.activeElement.selectionStart }
      : null;
    clear(this.el);
    const hasFilter = Object.keys(this.spec).some((k) => k !== "dataset_id" && k !== "base");
    this.el.append(
      h("div", { class: "ls-section" },
        h("h4", {}, "Search",
          hasFilter ? h("button", { onclick: () => this.update(this.cleared()), "data-testid": "ls-clear-filters" }, "Clear") : null),
        this.hasEmbeddings()
          ? withImageSearch(
              h("input", { type: "search", placeholder: "AI search: describe or paste an image…", value: (this.spec.text as string) ?? "", "data-testid": "ls-text-search",
                onchange: (e: Event) => this.update({ text: (e.target as HTMLInputElement).value.trim(), similar_image: "", similar_to: "" }) }),
              { rpc: this.rpc, datasetId: String(this.spec.dataset_id ?? ""),
                onImage: (token) => this.update({ similar_image: token, text: "", similar_to: "" }),
                onSample: (id) => this.update({ similar_to: id, text: "", similar_image: "" }),
                onError: (message) => this.renderSearchError(message) })
          : null,
        h("input", { type: "search", placeholder: "File name contains…", value: (this.spec.file_name as string) ?? "", style: "margin-top:4px", "data-testid": "ls-file-name-search",
          oninput: (e: Event) => this.update({ file_name: (e.target as HTMLInputElement).value }, false) }),
        this.spec.similar_to ? h("div", { class: "ls-muted", style: "margin-top:4px", "data-testid": "ls-similar-chip" }, "Sorted by similarity to a sample ",
          h("button", { "data-testid": "ls-similar-clear", "aria-label": "clear the image search", onclick: () => this.update({ similar_to: "" }) }, "×")) : null,
        this.spec.similar_image ? h("div", { class: "ls-muted", style: "margin-top:4px", "data-testid": "ls-similar-chip" }, "Sorted by similarity to an image ",
          h("button", { "data-testid": "ls-similar-clear", "aria-label": "clear the image search", onclick: () => this.update({ similar_image: "" }) }, "×")) : null,
        typeof this.spec.query === "string" && this.spec.query ? h("div", { class: "ls-qchip", "data-testid": "ls-query-chip", title: this.spec.query },
          "Query ", h("code", {}, this.spec.query), h("button", { "aria-label": "remove the text query", onclick: () => this.update({ query: "" }) }, "×")) : null,
        this.spec.ids ? h("div", { class: "ls-muted", style: "margin-top:4px" }, "Restricted to a plot selection ",
          h("button", { onclick: () => this.update({ ids: null }) }, "×")) : null,
      ),
    );
    if (f.tags.length || this.tagActions) {
      const chosen = new Set(this.list("tags"));
      const actions = this.tagActions;
      this.el.append(h("div", { class: "ls-section", "data-testid": "ls-tag-filters" }, h("h4", {}, "Tags"),
        f.tags.map((t) => this.filterRow("tags", t.name,
          this.checkRow(t.name, chosen.has(t.name), `${formatCount(t.count)}`, null, (on) => this.toggleIn("tags", t.name, on)),
          actions ? tagMenuButton(actions, t.name, t.total) : null)),
        actions ? tagAssignBox(actions) : null));
    }
    // Group datasets: filter groups by their members' tags (spec.member_tags, any of them).
    if (f.member_tags?.length) {
      const chosen = new Set((this.spec.member_tags as string[] | undefined) ?? []);
      this.el.append(h("div", { class: "ls-section", "data-testid": "ls-member-tag-filters" },
        h("h4", { title: "Groups with a member carrying the tag" }, "Member tags"),
        f.member_tags.map((t) => this.checkRow(t.name, chosen.has(t.name), formatCount(t.count), null, (on) => {
          if (on) chosen.add(t.name); else chosen.delete(t.name);
          this.update({ member_tags: [...chosen] });
        }))));
    }
    // Classes without annotations (e.g. from a COCO category list) are not offered.
    const labels = f.labels.filter((l) => l.total > 0);
    if (labels.length) {
      const chosen = new Set(this.list("labels"));
      this.el.append(h("div", { class: "ls-section", "data-testid": "ls-label-filters" }, h("h4", {}, "Labels"),
        labels.map((l) => this.filterRow("labels", l.name,
          this.checkRow(l.name, chosen.has(l.name), `${formatCount(l.count)} of ${formatCount(l.total)}`,
            labelColor(l.name), (on) => this.toggleIn("labels", l.name, on)), null))));
    }
    if (f.issues?.length) this.el.append(this.qualitySection(f.issues));
    if (f.sources.length > 1 || f.sources.some((s) => s !== "ground_truth")) {
      const sel = h("select", { onchange: (e: Event) => this.update({ annotation_source: (e.target as HTMLSelectElement).value || null }) },
        h("option", { value: "" }, "any source"),
        f.sources.map((s) => h("option", { value: s, selected: this.spec.annotation_source === s }, s)));
      const conf = (this.spec.min_confidence as number | undefined) ?? 0;
      const label = h("span", { class: "ls-n" }, conf.toFixed(2));
      this.el.append(h("div", { class: "ls-section" }, h("h4", {}, "Annotation source"), sel,
        h("h4", {}, "Min confidence", label),
        h("input", { type: "range", min: 0, max: 1, step: 0.01, value: conf, style: "width:100%",
          oninput: (e: Event) => { label.textContent = Number((e.target as HTMLInputElement).value).toFixed(2); },
          onchange: (e: Event) => { const v = Number((e.target as HTMLInputElement).value); this.update({ min_confidence: v > 0 ? v : null }); } })));
    }
    for (const dim of ["width", "height", "fps", "duration_s"] as const) {
      const hist = f.numeric[dim];
      if (hist && hist.min !== null) this.el.append(this.rangeSection(dim, hist, this.spec[dim] as any, (r) => this.update({ [dim]: r }, false)));
    }
    for (const m of f.metadata) {
      const current = ((this.spec.metadata as Record<string, any>) ?? {})[m.key] ?? {};
      const setMeta = (cond: Record<string, unknown> | null) => {
        const md = { ...((this.spec.metadata as Record<string, any>) ?? {}) };
        if (cond && Object.keys(cond).length) md[m.key] = cond;
        else delete md[m.key];
        this.update({ metadata: md }, false);
      };
      if ((m.type === "int" || m.type === "float") && m.min !== null && m.min !== undefined) {
        this.el.append(this.rangeSection(m.key, m as Hist, current.range, (r) => setMeta(r ? { range: r } : null)));
      } else if (m.type === "str" && m.values?.length) {
        const chosen = new Set<string>(current.values ?? []);
        this.el.append(h("div", { class: "ls-section" }, h("h4", {}, m.key),
          m.values.map((v) => this.checkRow(String(v.value), chosen.has(v.value), formatCount(v.count), null, (on) => {
            if (on) chosen.add(v.value); else chosen.delete(v.value);
            const { values: _, ...rest } = current; // keep a "missing" filter beside the values
            setMeta(chosen.size ? { ...rest, values: [...chosen] } : rest);
          }))));
      }
    }
    if (this.tagActions) reattachTagMenu(this.el);
    this.el.scrollTop = scrollTop;
    if (typing?.id) {
      const box = this.el.querySelector<HTMLInputElement>(`input[data-testid="${typing.id}"]`);
      if (box) {
        box.value = typing.value;
        box.focus();
        if (typing.at !== null) box.setSelectionRange(typing.at, typing.at);
      }
    }
  }

  /** Issue counts from the quality checks: a click on an image check (or on "any label
   * issue") filters the grid to the flagged samples through the metadata filter. */
  private qualitySection(issues: IssueCount[]): HTMLElement {
    const metadata = (this.spec.metadata as Record<string, any> | undefined) ?? {};
    const setFilter = (key: string, cond: Record<string, unknown> | null) => {
      const md = { ...metadata };
      if (cond) md[key] = cond; else delete md[key];
      this.update({ metadata: md });
    };
    const clickable = issues.filter((i) => i.key !== null);
    const labels = issues.filter((i) => i.kind === "label");
    return h("div", { class: "ls-section", "data-testid": "ls-quality-filters" }, h("h4", {}, "Quality"),
      clickable.map((i) => {
        const row = this.checkRow(issueLabel(i.issue), i.key! in metadata, `${formatCount(i.count)} of ${formatCount(i.total)}`, null,
          (on) => setFilter(i.key!, on ? (i.kind === "samples" ? { range: [1, null] } : { values: [true] }) : null));
        row.dataset.issue = i.issue;
        if (i.total === 0) row.classList.add("ls-zero");
        return row;
      }),
      labels.length ? h("div", { class: "ls-muted", style: "margin:6px 0 2px" }, "Flagged annotations") : null,
      labels.map((i) => h("div", { class: `ls-check ls-static${i.total === 0 ? " ls-zero" : ""}`, "data-issue": i.issue, title: "annotations flagged (in the filter, of all)" },
        h("span", { class: "ls-name" }, issueLabel(i.issue)),
        h("span", { class: "ls-n" }, `${formatCount(i.count)} of ${formatCount(i.total)}`))));
  }

  private checkRow(name: string, checked: boolean, count: string, color: string | null, on: (v: boolean) => void): HTMLElement {
    return h("label", { class: "ls-check", "data-name": name },
      h("input", { type: "checkbox", checked, onchange: (e: Event) => on((e.target as HTMLInputElement).checked) }),
      color ? h("span", { class: "ls-dot", style: `background:${color}` }) : null,
      h("span", { class: "ls-name", title: name }, name),
      h("span", { class: "ls-n" }, count));
  }

  private rangeSection(name: string, hist: Hist, current: [number | null, number | null] | undefined,
                       set: (r: [number | null, number | null] | null) => void): HTMLElement {
    const lo = h("input", { type: "number", placeholder: String(round(hist.min!)), value: current?.[0] ?? "", "aria-label": `${name} min` });
    const hi = h("input", { type: "number", placeholder: String(round(hist.max!)), value: current?.[1] ?? "", "aria-label": `${name} max` });
    const fire = () => {
      const a = lo.value === "" ? null : Number(lo.value);
      const b = hi.value === "" ? null : Number(hi.value);
      set(a === null && b === null ? null : [a, b]);
    };
    lo.addEventListener("input", fire);
    hi.addEventListener("input", fire);
    const bars = histogramBars(hist.counts, 24);
    return h("div", { class: "ls-section" }, h("h4", {}, name),
      h("div", { class: "ls-hist", "aria-hidden": "true" }, bars.map((b) => h("div", { style: `height:${b}px` }))),
      h("div", { class: "ls-range" }, lo, h("span", { class: "ls-muted" }, "–"), hi));
  }
}

function round(v: number): number {
  return Math.abs(v) >= 100 ? Math.round(v) : Math.round(v * 1000) / 1000;
}

/** Grey placeholder sections in the panel's layout, shown until the first facets arrive. */
function skeleton(): HTMLElement {
  const bar = (width: string, height = 12) =>
    h("div", { style: `width:${width};height:${height}px;margin:6px 0;border-radius:3px;background:var(--ls-bg3);opacity:.7` });
  return h("div", { "data-testid": "ls-filters-skeleton", "aria-busy": "true", "aria-label": "Loading filters" },
    ...["Search", "Tags", "Labels", "Dimensions"].map((title) =>
      h("div", { class: "ls-section" }, h("h4", {}, title), bar("100%", 22), bar("80%"), bar("65%"), bar("72%"))));
}
