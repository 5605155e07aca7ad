// The explorer: filters | grid (| plot), a toolbar, the sample detail and the export dialog,
// all bound to one model (anywidget's in a notebook, the app's shim on the full page).
//
// The plot (regl: two thirds of the bundle) and the annotator are imported when first opened:
// the full-page app's build splits them into chunks of their own, so the grid's first paint
// does not download and parse them. The widget build inlines them (anywidget loads one file).

import { h } from "../lib/dom";
import { icon, iconButton } from "../lib/icons";
import { keepInside } from "../lib/popover";
import type { ModelLike } from "../transport/model";
import type { RpcClient } from "../transport/rpc";
import { ClassifierPanel } from "./classifier";
import { CropsView } from "./crops";
import { DetailView } from "./detail";
import { OutcomeColoring } from "./evalColors";
import { DistributionPanel } from "./distributions";
import { EvaluationPanel } from "./evaluation";
import { openExportDialog } from "./export";
import { OperatorsView } from "./operators";
import { FiltersView } from "./filters";
import { GroupDetailView } from "./groupDetail";
import { GridView, type GridOverlays } from "./grid";
import type { PlotView } from "./plot";
import { SampleSource, type Spec } from "./source";
import { injectStyles } from "./styles";
import { videoCollectionControl } from "./videoCollection";
import { QueryBox } from "./queryBox";
import { openSettingsDialog } from "./settings";
import { setCustomBindings } from "./shortcuts";
import type { ViewOptions } from "../transport/methods";
import { injectPanelStyles } from "./panelStyles";

export interface ReadyInfo {
  dataset_id: string;
  dataset_name: string;
  total: number;
  has_embeddings: boolean;
  /** The dataset's kind ("image", "video", "group"): what the count calls its rows. */
  kind?: string;
}

const DEFAULT_OVERLAYS: GridOverlays = { boxes: true, masks: true, labels: false, captions: false, names: false, issues: true };
const DEFAULT_CELL_SIZE = 180;

const SORTS: [string, string][] = [
  ["", "file path"], ["file_name", "file name"], ["width", "width"], ["height", "height"], ["created_at", "added"],
];

export interface ExplorerHooks {
  /** The number of samples the filter shows (-1 while counting), e.g. for the page's footer. */
  onCount?: (shown: number, total: number) => void;
  /** Where a video's file is fetched from (the full-page app's media route); a notebook
   * has none, and its player loads the file over the RPC channel. */
  mediaUrl?: (sampleId: string) => string;
}

export function mountExplorer(el: HTMLElement, model: ModelLike, rpc: RpcClient, info: ReadyInfo,
                              hooks: ExplorerHooks = {}): () => void {
  injectStyles(el);
  injectPanelStyles(el);
  const datasetId = info.dataset_id;
  const withDataset = (spec: Spec): Spec => ({ ...spec, dataset_id: (spec.dataset_id as string) ?? datasetId });
  let spec: Spec = withDataset(model.get("spec") ?? {});
  const source = new SampleSource(rpc, datasetId);
  const overlays = (): GridOverlays => ({ ...DEFAULT_OVERLAYS, ...(model.get("overlays") ?? {}) });

  let disposed = false;
  const countEl = h("span", { class: "ls-count", "data-testid": "ls-count" }, "…");
  const selEl = h("span", { class: "ls-count", "data-testid": "ls-selected-count" });
  const progress = h("div", { class: "ls-progress", style: "width:0" });
  const detailHost = h("div", { style: "display:contents" });
  let detail: DetailView | null = null;
  let groupDetail: GroupDetailView | null = null; // group datasets: a group's members
  let detailIndex = -1;
  let classifier: ClassifierPanel | null = null;
  let queryBox: QueryBox | null = null; // the text query side panel, when open
  let distPanel: DistributionPanel | null = null; // the distribution side panel, when open
  let toolbarReady = false; // fitToolbar() needs the toolbar (built below) in the document

  // Boxes coloured TP / FP / FN while the Evaluation panel has a run chosen (evalColors.ts).
  const coloring = new OutcomeColoring(rpc, datasetId);
  const grid = new GridView({
    source, coloring,
    cellSize: model.get("cell_size") ?? 180,
    overlays: overlays(),
    onOpen: (index, row) => (row.kind === "group" ? openGroupDetail(index, row.sample_id) : openDetail(index, row.sample_id)),
    onSelectionChange: (ids) => {
      model.set("selected", ids);
      model.save_changes();
      renderSelected();
    },
  });
  grid.setSelected(model.get("selected") ?? []);
  source.firstScreen = () => grid.firstScreenCells();

  const filters = new FiltersView(rpc, spec, (next) => applySpec(withDataset(next), true), () => info.has_embeddings);

  /** The side plot greys the points outside the filter (set while the plot is open). */
  let plotFilter: ((next: Spec) => void) | null = null;
  function applySpec(next: Spec, fromView: boolean): void {
    spec = next;
    plotFilter?.(spec);
    // A highlighted confusion cell lasts as long as the grid is filtered to it.
    const ev = spec.evaluation as { gt?: string | null; pred?: string | null; outcome?: string } | undefined;
    const cell = coloring.cell;
    if (cell && (!ev || ev.outcome !== undefined || (ev.gt ?? null) !== cell.gt || (ev.pred ?? null) !== cell.pred)) coloring.setCell(null);
    showSort();
    queryBox?.setSpec(spec);
    distPanel?.setSpec();
    if (fromView) {
      model.set("spec", spec);
      model.save_changes();
    } else {
      filters.setSpec(spec);
    }
    grid.resetScroll();
    void source.setSpec(spec);
    classifier?.selectionChanged();
  }

  function renderCount(): void {
    const n = source.count;
    // A compact toolbar (a 600 px notebook cell) drops the unit: "12 of 128".
    countEl.replaceChildren(...(n < 0 ? ["Counting…"] : [`${n.toLocaleString("en-US")} of ${info.total.toLocaleString("en-US")}`,
      h("span", { class: "ls-count-unit" }, info.kind === "group" ? " groups" : " samples")]));
    hooks.onCount?.(n, info.total);
  }
  function renderSelected(): void {
    const n = grid.selection.length;
    selEl.textContent = n ? `${n.toLocaleString("en-US")} selected` : "";
    tagLabel.textContent = n ? `Tag ${n} selected` : "Tag all in filter";
    tagBtn.title = tagLabel.textContent;
    if (toolbarReady) fitToolbar();
    classifier?.selectionChanged();
  }
  source.onChange(renderCount);

  // -- toolbar -------------------------------------------------------------------------------
  const size = h("input", { type: "range", min: 80, max: 400, step: 10, value: model.get("cell_size") ?? 180, "aria-label": "cell size", "data-testid": "ls-cell-size", style: "width:100%" });
  size.addEventListener("input", () => setGridOptions({ cell_size: Number(size.value) }));
  const overlayToggles = (["boxes", "masks", "labels", "captions", "names", "issues"] as const).map((k) =>
    h("label", { class: "ls-check", title: `Show ${k}` },
      h("input", { type: "checkbox", checked: overlays()[k], "data-overlay": k, onchange: (e: Event) =>
        setGridOptions({ overlays: { ...overlays(), [k]: (e.target as HTMLInputElement).checked } }) }), k));
  // Sort: the fixed fields, every numeric metadata key (loaded with the dataset's keys) and,
  // while a text or "find similar" search is active, similarity (the search's own order; a
  // field chosen during a search re-sorts its matches).
  const similarityOption = h("option", { value: "similarity", "data-testid": "ls-sort-similarity" }, "similarity");
  const metadataSorts = h("optgroup", { label: "metadata" });
  const sort = h("select", { "aria-label": "sort", "data-testid": "ls-sort" },
    SORTS.map(([v, t]) => h("option", { value: v }, t)), similarityOption, metadataSorts);
  const desc = h("input", { type: "checkbox", title: "descending" });
  const searching = () => !!(spec.text || spec.similar_to);
  const showSort = () => {
    const cur = spec.sort as { field?: string; desc?: boolean } | undefined;
    similarityOption.disabled = !searching();
    similarityOption.hidden = !searching();
    const field = cur?.field === "file_path_abs" ? "" : cur?.field ?? (searching() ? "similarity" : "");
    // A metadata key not listed yet (the keys still loading): listed now, so the control shows it.
    if (field.startsWith("metadata:") && ![...sort.options].some((o) => o.value === field)) {
      metadataSorts.append(h("option", { value: field }, field.slice(9)));
    }
    sort.value = field;
    desc.checked = !!cur?.desc;
    desc.disabled = sort.value === "similarity";
  };
  void rpc.call("field_choices", { dataset_id: datasetId }).then(({ result }) => {
    const listed = new Set([...metadataSorts.children].map((o) => (o as HTMLOptionElement).value));
    for (const m of result.metadata) {
      if (m.numeric && !listed.has(`metadata:${m.key}`)) metadataSorts.append(h("option", { value: `metadata:${m.key}` }, m.key));
    }
    showSort();
  }).catch(() => undefined); // the fixed fields still sort
  showSort();
  const onSort = () => {
    if (sort.value === "similarity") { // the search's own order: not a stored option
      const next = { ...spec };
      delete next.sort;
      applySpec(next, true);
    } else if (!sort.value && searching()) { // file order, not the search's order
      applySpec({ ...spec, sort: { field: "file_path_abs", desc: desc.checked } }, true);
    } else {
      setGridOptions({ sort_field: sort.value, sort_desc: desc.checked });
    }
  };
  sort.addEventListener("change", onSort);
  desc.addEventListener("change", onSort);

  // -- grid options: one path for the View popover, the settings dialog and the restore of
  // the options saved for this dataset (store/view_settings.py) --------------------------------
  const gridOptions = (): ViewOptions => ({ cell_size: Number(size.value), overlays: { ...overlays() }, sort_field: sort.value, sort_desc: desc.checked });
  // The slider sends a change per step: store the last one (at once when the view closes).
  let saveTimer: ReturnType<typeof setTimeout> | null = null;
  let saveNow = () => {};
  const saveGridOptions = (options: ViewOptions | null) => {
    if (saveTimer) clearTimeout(saveTimer);
    saveNow = () => {
      if (saveTimer) clearTimeout(saveTimer);
      saveTimer = null;
      saveNow = () => {};
      rpc.call("set_view_options", { dataset_id: datasetId, options }).catch((e) => flash(`Grid options not saved: ${(e as Error).message}`, true));
    };
    saveTimer = setTimeout(saveNow, 400);
  };
  function setGridOptions(change: Partial<ViewOptions>, save = true): void {
    if (change.cell_size !== undefined) {
      size.value = String(change.cell_size);
      grid.setCellSize(change.cell_size);
      model.set("cell_size", change.cell_size);
    }
    if (change.overlays) {
      const next = { ...DEFAULT_OVERLAYS, ...change.overlays };
      for (const input of overlayToggles.map((l) => l.querySelector("input")!)) input.checked = next[input.dataset.overlay as keyof GridOverlays];
      model.set("overlays", next);
      grid.setOverlays(next);
    }
    if (change.sort_field !== undefined || change.sort_desc !== undefined) {
      // From the change itself: a stored metadata key may not be listed in the control yet.
      const field = change.sort_field ?? sort.value;
      const descending = change.sort_desc ?? desc.checked;
      const next = { ...spec };
      if (field && field !== "similarity") next.sort = { field, desc: descending }; else delete next.sort;
      if (JSON.stringify(next.sort) !== JSON.stringify(spec.sort)) applySpec(next, true);
    }
    model.save_changes();
    if (save) saveGridOptions(gridOptions());
  }
  const gridHandle = {
    get: gridOptions,
    set: (change: Partial<ViewOptions>) => setGridOptions(change),
    reset: () => {
      setGridOptions({ cell_size: DEFAULT_CELL_SIZE, overlays: { ...DEFAULT_OVERLAYS }, sort_field: "", sort_desc: false }, false);
      saveGridOptions(null);
    },
    sorts: SORTS,
  };
  // The user's shortcuts and this dataset's saved grid options. What the view was opened
  // with wins over the saved options: a sort (from Python, or a link), a cell size or
  // overlays other than the defaults (Explorer(..., cell_size=240) in Python).
  const openedWithSort = spec.sort !== undefined || spec.similar_to !== undefined;
  const openedWithSize = (model.get("cell_size") ?? DEFAULT_CELL_SIZE) !== DEFAULT_CELL_SIZE;
  const openedWithOverlays = JSON.stringify(overlays()) !== JSON.stringify(DEFAULT_OVERLAYS);
  rpc.call("view_settings", { dataset_id: datasetId }).then(({ result }) => {
    if (disposed) return;
    setCustomBindings(result.shortcuts);
    const saved = result.options;
    if (!saved) return;
    const change: Partial<ViewOptions> = {};
    if (!openedWithSize) change.cell_size = saved.cell_size;
    if (!openedWithOverlays) change.overlays = saved.overlays;
    if (!openedWithSort) Object.assign(change, { sort_field: saved.sort_field, sort_desc: saved.sort_desc });
    setGridOptions(change, false);
  }).catch(() => { /* an older server: defaults */ });

  const tagInput = h("input", { type: "text", placeholder: "tag name", "data-testid": "ls-tag-input", style: "width:110px" });
  // Icon and label; a compact toolbar keeps the icon (the title keeps the label).
  const tagLabel = h("span", { class: "ls-label" }, "Tag all in filter");
  const tagBtn = h("button", { "data-testid": "ls-tag-button", class: "ls-tag-button" }, icon("tag"), tagLabel);
  const doTag = async () => {
    const tag = tagInput.value.trim();
    if (!tag) { tagInput.focus(); return; }
    const ids = grid.selection;
    const params = ids.length ? { dataset_id: datasetId, sample_ids: ids, tag } : { spec, tag };
    try {
      const { result } = await rpc.call("tag_samples", params);
      flash(`Tagged ${result.changed} samples “${tag}”`);
      tagInput.value = "";
      source.refreshRows();
      void filters.refresh();
    } catch (e) { flash((e as Error).message, true); }
  };
  tagBtn.addEventListener("click", () => void doTag());
  tagInput.addEventListener("keydown", (e) => { if (e.key === "Enter") void doTag(); });

  // Tag management in the filter panel (tags.ts) acts on the grid's selection.
  filters.setTagActions({
    rpc, datasetId,
    selection: () => grid.selection,
    onChanged: () => { source.refreshRows(); void filters.refresh(); },
    onRenamed: (old, name) => filters.renameTag(old, name),
    flash: (text, error, undoable) => flash(text, error, undoable),
  });
  const selectAllBtn = h("button", { "data-testid": "ls-select-all", class: "ls-select-all", title: "Select every sample of the current filter", "aria-label": "Select all" },
    icon("selectAll"), h("span", { class: "ls-label" }, "Select all"));
  selectAllBtn.addEventListener("click", async () => {
    try {
      const { result } = await rpc.call("filtered_ids", { spec });
      grid.setSelected(result.sample_ids);
      model.set("selected", result.sample_ids);
      model.save_changes();
      renderSelected();
    } catch (e) { flash((e as Error).message, true); }
  });

  const filtersToggle = iconButton("filter", "Filters", { "data-testid": "ls-filters-toggle" });
  filtersToggle.addEventListener("click", () => filters.el.classList.toggle("ls-collapsed"));
  const queryToggle = iconButton("query", "Query", { "data-testid": "ls-query-toggle", title: "Text query" });
  const plotToggle = iconButton("plot", "Plot", { "data-testid": "ls-plot-toggle", title: "Embedding plot" });
  const distToggle = iconButton("distribution", "Charts", { "data-testid": "ls-dist-toggle", title: "Distributions: classes, sizes and metadata of the filter" });
  const evalToggle = iconButton("evaluation", "Eval", { "data-testid": "ls-eval-toggle", title: "Model evaluation" });
  const classifierToggle = iconButton("classifier", "Classifier", { "data-testid": "ls-classifier-toggle", title: "Few-shot classifier" });
  const exportBtn = iconButton("export", "Export", { "data-testid": "ls-export" });
  const settingsBtn = iconButton("settings", "Settings", { "data-testid": "ls-settings-button", title: "Settings: grid options and keyboard shortcuts" });
  settingsBtn.addEventListener("click", () => openSettingsDialog(root, rpc, gridHandle));
  // Overlays, cell size and sort live in one popover, so the toolbar fits on one line from a
  // 600 px notebook cell to a 2560 px screen.
  const viewPanel = h("div", { class: "ls-popover", "data-testid": "ls-view-options", hidden: true },
    h("div", { class: "ls-pop-title" }, "Show on thumbnails"),
    h("div", { class: "ls-pop-checks" }, overlayToggles),
    h("div", { class: "ls-pop-title" }, "Thumbnail size"), size,
    h("div", { class: "ls-pop-title" }, "Sort by"),
    h("div", { class: "ls-pop-row" }, sort, h("label", { class: "ls-check", title: "descending" }, desc, "descending")));
  const viewBtn = iconButton("view", "View", { "data-testid": "ls-view-button", "aria-expanded": "false" });
  viewBtn.addEventListener("click", () => {
    viewPanel.hidden = !viewPanel.hidden;
    viewBtn.setAttribute("aria-expanded", String(!viewPanel.hidden));
    if (!viewPanel.hidden) keepInside(viewPanel);
  });
  exportBtn.addEventListener("click", () => void openExportDialog(root, rpc, datasetId, spec, grid.selection, info.dataset_name).catch((e) => flash((e as Error).message, true)));

  // Plugins act on the selection when there is one, else on the current filter.
  const operators = new OperatorsView(
    rpc, () => datasetId,
    () => (grid.selection.length ? { kind: "selection", sample_ids: grid.selection } : { kind: "filter", spec }),
    () => { source.refreshRows(); void filters.refresh(); },
  );
  // Video datasets: videos or frames in the grid (views/videoCollection.ts).
  const applyCollection = (next: Spec) => {
    const kindChanged = (next.kind ?? "") !== (spec.kind ?? "");
    applySpec(withDataset(next), true);
    filters.setSpec(spec);
    // The plot shows the grid's collection: videos or frames.
    if (kindChanged && plot) { setPlot(false); setPlot(true); }
  };
  const collection = videoCollectionControl(rpc, datasetId, () => spec, applyCollection);
  // -- Samples | Annotations: the sample grid, or the crops of every box and mask (crops.ts) --
  // Icon and label; a tight toolbar keeps the icons only (fitToolbar below).
  const modeButton = (testid: string, iconName: "image" | "crop", label: string, pressed: boolean) =>
    h("button", { "data-testid": testid, "aria-pressed": String(pressed), "aria-label": label, title: label },
      icon(iconName), h("span", { class: "ls-label" }, label));
  const samplesModeBtn = modeButton("ls-mode-samples", "image", "Samples", true);
  const cropsModeBtn = modeButton("ls-mode-annotations", "crop", "Annotations", false);
  const modeSwitch = h("div", { class: "ls-mode-switch", role: "group", "aria-label": "view" }, samplesModeBtn, cropsModeBtn);
  let crops: CropsView | null = null;
  const sampleOnly: HTMLElement[] = [countEl, selEl, selectAllBtn]; // + the tag group, below
  const setMode = (annotations: boolean) => {
    samplesModeBtn.setAttribute("aria-pressed", String(!annotations));
    cropsModeBtn.setAttribute("aria-pressed", String(annotations));
    grid.el.hidden = annotations;
    grid.el.style.display = annotations ? "none" : "";
    filters.el.style.display = annotations ? "none" : "";
    for (const el of sampleOnly) el.style.display = annotations ? "none" : "";
    if (annotations && !crops) {
      crops = new CropsView({
        rpc, datasetId,
        onOpen: (row) => openAnnotatorOn(row.sample_id, row.annotation_id),
        onChanged: () => { source.refreshRows(); void filters.refresh(); },
        flash: (text, error) => flash(text, error),
      });
      body.insertBefore(crops.el, grid.el);
      void crops.load().catch((e) => flash((e as Error).message, true));
    }
    if (crops) crops.el.hidden = !annotations;
    if (annotations) crops?.focus(); else grid.focus();
  };
  samplesModeBtn.addEventListener("click", () => setMode(false));
  cropsModeBtn.addEventListener("click", () => setMode(true));

  // "Tag all in filter" tags samples of the sample grid: the crops have their own tag box.
  const tagGroup = h("div", { class: "ls-tag-group" }, tagInput, tagBtn);
  sampleOnly.push(tagGroup);
  const toolbar = h("div", { class: "ls-toolbar", "data-testid": "ls-toolbar" },
    filtersToggle, h("span", { class: "ls-title", title: info.dataset_name }, info.dataset_name), modeSwitch, collection.el, countEl, selEl, selectAllBtn,
    h("span", { class: "ls-spacer" }),
    h("div", { class: "ls-pop-anchor" }, viewBtn, viewPanel),
    tagGroup, queryToggle, distToggle, plotToggle, evalToggle, classifierToggle, exportBtn, operators.el, settingsBtn);

  const statusEl = h("div", { class: "ls-status", style: "display:none", role: "status" });
  let flashTimer: ReturnType<typeof setTimeout> | null = null;
  /** A toast; `undoable` adds an Undo button (the dataset's undo stack, core/undo.py). */
  function flash(text: string, error = false, undoable = false): void {
    statusEl.textContent = text;
    if (undoable) {
      statusEl.append(" ", h("button", { "data-testid": "ls-toast-undo", title: "Undo (Ctrl+Z)", onclick: () => void undoLast() }, "Undo"));
    }
    statusEl.classList.toggle("ls-error", error);
    statusEl.style.display = "";
    if (flashTimer) clearTimeout(flashTimer);
    flashTimer = setTimeout(() => (statusEl.style.display = "none"), error ? 8000 : undoable ? 8000 : 3000);
  }
  /** Revert the newest undoable change of the dataset (a tag rename or delete, a bulk edit of
   * annotations) and reload what shows it. */
  async function undoLast(): Promise<void> {
    try {
      const { result } = await rpc.call("undo", { dataset_id: datasetId });
      flash(`Undone: ${result.undone}`);
      source.refreshRows();
      void filters.refresh();
      void crops?.load();
    } catch (e) { flash((e as Error).message, true); }
  }

  // -- plot side panel ---------------------------------------------------------------------
  const body = h("div", { class: "ls-body" }, filters.el, grid.el);
  let plot: PlotView | null = null;
  let plotPanel: HTMLElement | null = null;
  const setPlot = (show: boolean) => {
    plotToggle.classList.toggle("ls-primary", show);
    if (show && !plot) {
      void import("./plot").then(({ PlotView }) => {
        // Hidden again, or opened by an earlier click, while the module loaded.
        if (disposed || plot || !model.get("show_plot")) return;
        plot = new PlotView({
          rpc, datasetId, colorBy: model.get("color_by") ?? "",
          kind: typeof spec.kind === "string" && spec.kind ? spec.kind : undefined,
          // The plot registered the selection server-side; the grid filters by its token.
          onSelection: (sel) => {
            if (!sel.ids) { const next = { ...spec }; delete next.ids; applySpec(next, true); return; }
            applySpec({ ...spec, ids: sel.ids }, true);
            filters.setSpec(spec);
          },
          onStatus: (t) => { flash(t); source.refreshRows(); void filters.refresh(); },
        });
        plotPanel = h("div", { class: "ls-side-plot" }, plot.el);
        body.append(plotPanel);
        const opened = plot;
        plotFilter = (next) => void opened.setFilter(next);
        void opened.setFilter(spec);
        void plot.load();
      }).catch((e) => flash(`Cannot load the plot: ${(e as Error).message}`, true));
    } else if (!show && plot) {
      plotFilter = null;
      plot.dispose();
      plotPanel?.remove();
      plot = null;
    }
  };
  // -- few-shot classifier side panel (views/classifier.ts) ---------------------------------
  classifierToggle.addEventListener("click", () => {
    if (classifier) { classifier.dispose(); classifier = null; classifierToggle.classList.remove("ls-primary"); return; }
    classifier = new ClassifierPanel({
      rpc, datasetId,
      selection: () => grid.selection,
      spec: () => spec,
      show: (ids) => {
        const next = { ...spec };
        if (ids) next.ids = ids; else delete next.ids;
        applySpec(next, true);
        filters.setSpec(spec);
      },
      changed: () => { source.refreshRows(); void filters.refresh(); },
    });
    classifierToggle.classList.add("ls-primary");
    body.append(classifier.el);
    void classifier.load();
  });

  // -- query box side panel (queryBox.ts): its text is the spec's `query` key ---------------
  const setQueryBox = (show: boolean) => {
    queryToggle.classList.toggle("ls-primary", show);
    if (show && !queryBox) {
      queryBox = new QueryBox({
        rpc, datasetId,
        onApply: (text) => {
          const next = { ...spec };
          if (text) next.query = text; else delete next.query;
          applySpec(withDataset(next), true);
          filters.setSpec(spec);
        },
        onClose: () => setQueryBox(false),
      });
      queryBox.setSpec(spec);
      body.insertBefore(queryBox.el, plotPanel);
      queryBox.focus();
    } else if (!show && queryBox) {
      queryBox.dispose();
      queryBox.el.remove();
      queryBox = null;
    }
  };
  queryToggle.addEventListener("click", () => setQueryBox(!queryBox));
  if (typeof spec.query === "string" && spec.query) setQueryBox(true);

  plotToggle.addEventListener("click", () => {
    const next = !model.get("show_plot");
    model.set("show_plot", next);
    model.save_changes();
    setPlot(next);
  });

  // -- distribution side panel (distributions.ts): bars and brushes set the spec ------------
  const setDistPanel = (show: boolean) => {
    distToggle.classList.toggle("ls-primary", show);
    if (show && !distPanel) {
      distPanel = new DistributionPanel({
        rpc,
        spec: () => spec,
        onSpec: (next) => { applySpec(withDataset(next), true); filters.setSpec(spec); },
        onClose: () => setDistPanel(false),
      });
      body.insertBefore(distPanel.el, plotPanel);
      void distPanel.load();
    } else if (!show && distPanel) {
      distPanel.dispose();
      distPanel.el.remove();
      distPanel = null;
    }
  };
  distToggle.addEventListener("click", () => setDistPanel(!distPanel));

  // -- evaluation side panel ---------------------------------------------------------------
  let evalPanel: EvaluationPanel | null = null;
  evalToggle.addEventListener("click", () => {
    if (evalPanel) { evalPanel.dispose(); evalPanel.el.remove(); evalPanel = null; evalToggle.classList.remove("ls-primary"); return; }
    evalPanel = new EvaluationPanel({
      rpc, datasetId, coloring,
      onFilter: (f) => { const next = { ...spec }; if (f) next.evaluation = f; else delete next.evaluation; applySpec(next, true); },
      onSort: (field, d) => applySpec({ ...spec, sort: { field, desc: d } }, true),
    });
    evalToggle.classList.add("ls-primary");
    body.append(evalPanel.el);
    void evalPanel.load().catch((e) => flash((e as Error).message, true));
  });

  const root = h("div", { class: "ls-root", "data-testid": "ls-explorer", style: `height:${model.get("height") ?? 640}px` },
    progress, toolbar, body, statusEl, detailHost);
  el.append(root);
  // Narrow views (a notebook cell, a split screen) keep icons and drop button labels.
  // Also when the toolbar's buttons do not fit at full width (a long selection count, the
  // Samples | Annotations switch): measured with labels shown, then decided.
  // Each step is taken only when the one before still overflows: labels of the icon buttons
  // go first (ls-narrow), then the Samples | Annotations labels (ls-tight), then the last
  // text labels and gaps (ls-compact, always below 760 px: a 600 px notebook cell).
  const fitToolbar = () => {
    const overflows = () => toolbar.scrollWidth > toolbar.clientWidth + 1;
    root.classList.remove("ls-narrow", "ls-tight", "ls-compact");
    const width = root.clientWidth;
    root.classList.toggle("ls-narrow", width < 1100 || overflows());
    root.classList.toggle("ls-tight", width < 760 || (root.classList.contains("ls-narrow") && overflows()));
    root.classList.toggle("ls-compact", width < 760 || (root.classList.contains("ls-tight") && overflows()));
  };
  toolbarReady = true;
  // The toolbar's items change width too (the count, the selection, a video's collection
  // picker), so they are watched as well as the view's own width.
  const narrow = new ResizeObserver(fitToolbar);
  narrow.observe(root);
  for (const item of toolbar.children) narrow.observe(item);
  const closePopovers = (e: Event) => {
    if (!viewPanel.hidden && !viewPanel.parentElement!.contains(e.target as Node)) {
      viewPanel.hidden = true;
      viewBtn.setAttribute("aria-expanded", "false");
    }
  };
  root.addEventListener("pointerdown", closePopovers);
  // Ctrl+Z outside text boxes undoes the newest tag / bulk change; the annotator and the
  // Annotations view handle their own Ctrl+Z.
  root.addEventListener("keydown", (e: KeyboardEvent) => {
    const target = e.target as HTMLElement;
    if (!(e.ctrlKey || e.metaKey) || e.shiftKey || (e.key !== "z" && e.key !== "Z")) return;
    if (target.closest(".ls-annotator-host, .ls-crops") || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName)) return;
    e.preventDefault();
    void undoLast();
  });

  // The annotator over the explorer, from the Annotations view: on the crop's sample with its
  // annotation selected; closing it reloads the crops (an edit there may change them).
  function openAnnotatorOn(sampleId: string, annotationId: string): void {
    void import("./annotator/embed").then(({ openAnnotator }) => {
      if (disposed) return;
      openAnnotator(root, rpc, {
        datasetId, spec: { dataset_id: datasetId }, sampleId, annotationId,
        onClose: () => { source.refreshRows(); void filters.refresh(); void crops?.load(); crops?.focus(); },
      });
    }).catch((e) => flash(`Cannot load the annotator: ${(e as Error).message}`, true));
  }

  // -- detail ------------------------------------------------------------------------------
  function openDetail(index: number, sampleId: string): void {
    detailIndex = index;
    if (!detail) {
      detail = new DetailView({
        rpc, datasetId, datasetName: info.dataset_name, coloring, mediaUrl: hooks.mediaUrl,
        onClose: closeDetail,
        onStep: (d) => {
          const next = Math.max(0, Math.min(source.count - 1, detailIndex + d));
          const row = source.row(next);
          grid.setFocus(next);
          if (row) openDetail(next, row.sample_id);
        },
        onTagsChanged: () => { source.refreshRows(); void filters.refresh(); },
        onFindSimilar: info.has_embeddings ? (id) => { closeDetail(); applySpec({ ...spec, similar_to: id }, true); filters.setSpec(spec); } : undefined,
        onShowFrames: (videoId) => {
          closeDetail();
          // The frames of this one video, without the videos' own filters (fps, duration…).
          applyCollection({ dataset_id: datasetId, kind: "frame", video_id: videoId });
          collection.refresh();
        },
        onEdit: (sampleId) => {
          void import("./annotator/embed").then(({ openAnnotator }) => {
            if (disposed) return;
            openAnnotator(root, rpc, {
              datasetId, spec, sampleId, coloring,
              onClose: () => { source.refreshRows(); void filters.refresh(); openDetail(detailIndex, sampleId); },
            });
          }).catch((e) => flash(`Cannot load the annotator: ${(e as Error).message}`, true));
        },
        position: () => `Sample ${(detailIndex + 1).toLocaleString("en-US")} of ${Math.max(0, source.count).toLocaleString("en-US")}`,
      });
      detailHost.append(detail.el);
    }
    model.set("detail_id", sampleId);
    model.save_changes();
    void detail.show(sampleId);
  }
  function openGroupDetail(index: number, groupId: string): void {
    detailIndex = index;
    if (!groupDetail) {
      groupDetail = new GroupDetailView({
        rpc, datasetId, datasetName: info.dataset_name,
        onClose: closeGroupDetail,
        onStep: (d) => {
          const next = Math.max(0, Math.min(source.count - 1, detailIndex + d));
          const row = source.row(next);
          grid.setFocus(next);
          if (row) openGroupDetail(next, row.sample_id);
        },
        onTagsChanged: () => { source.refreshRows(); void filters.refresh(); },
        onFindSimilar: info.has_embeddings ? (id) => { closeGroupDetail(); applySpec({ ...spec, similar_to: id }, true); filters.setSpec(spec); } : undefined,
        position: () => `Group ${(detailIndex + 1).toLocaleString("en-US")} of ${Math.max(0, source.count).toLocaleString("en-US")}`,
      });
      detailHost.append(groupDetail.el);
    }
    model.set("detail_id", groupId);
    model.save_changes();
    void groupDetail.show(groupId);
  }
  function closeGroupDetail(): void {
    groupDetail?.dispose();
    groupDetail?.el.remove();
    groupDetail = null;
    model.set("detail_id", "");
    model.save_changes();
    grid.focus();
  }
  function closeDetail(): void {
    detail?.dispose();
    detail?.el.remove();
    detail = null;
    model.set("detail_id", "");
    model.save_changes();
    grid.focus();
  }

  // -- Python -> view --------------------------------------------------------------------
  const onSpec = () => {
    const next = withDataset(model.get("spec") ?? {});
    if (JSON.stringify(next) !== JSON.stringify(spec)) applySpec(next, false);
  };
  const onSelected = () => { grid.setSelected(model.get("selected") ?? []); renderSelected(); };
  const onCell = () => { size.value = String(model.get("cell_size")); grid.setCellSize(model.get("cell_size")); };
  const onOverlays = () => grid.setOverlays(overlays());
  const onShowPlot = () => setPlot(!!model.get("show_plot"));
  const onRefresh = () => { source.refreshRows(); void filters.refresh(); distPanel?.setSpec(); };
  model.on("change:spec", onSpec);
  model.on("change:selected", onSelected);
  model.on("change:cell_size", onCell);
  model.on("change:overlays", onOverlays);
  model.on("change:show_plot", onShowPlot);
  const offRefresh = rpc.on("data_changed", onRefresh);

  void source.setSpec(spec);
  // The facets aggregate the whole dataset (~0.6 s of both cores at 1,000,000 samples): ask
  // for them once the first screen (rows and thumbnails) has loaded and its images are
  // decoded, so they do not compete with first paint (started as soon as the thumbnails
  // arrived, they delayed their decoding by ~0.4 s, measured). The timeout covers a grid that
  // never settles (e.g. a broken server).
  let facetsStarted = false;
  const startFacets = () => {
    if (facetsStarted) return;
    facetsStarted = true;
    offFirstPaint();
    clearTimeout(facetsTimer);
    void filters.refresh();
  };
  const offFirstPaint = source.onChange(() => {
    const painted = source.firstThumbnailsAt !== null || source.count === 0 || source.error !== null;
    if (painted && source.idle) void grid.imagesShown().then(startFacets);
  });
  const facetsTimer = setTimeout(startFacets, 2000);
  renderSelected();
  if (model.get("show_plot")) setPlot(true);
  (root as any).__lsGrid = grid; // for browser tests and benchmarks
  (root as any).__lsSource = source;
  (root as any).__lsColoring = coloring;

  return () => {
    disposed = true;
    model.off("change:spec", onSpec);
    model.off("change:selected", onSelected);
    model.off("change:cell_size", onCell);
    model.off("change:overlays", onOverlays);
    model.off("change:show_plot", onShowPlot);
    offRefresh();
    offFirstPaint();
    clearTimeout(facetsTimer);
    saveNow();
    narrow.disconnect();
    grid.dispose();
    plot?.dispose();
    classifier?.dispose();
    groupDetail?.dispose();
    crops?.dispose();
    queryBox?.dispose();
    distPanel?.dispose();
    detail?.dispose();
    coloring.dispose();
    source.dispose();
    root.remove();
  };
}
