// The explorer: filters | grid (| plot), a toolbar, the sample detail and the export dialog,
// all bound to one model (anywidget's in a notebook, the app's shim on the full page).
//
// The plot (regl: two thirds of the bundle) and the annotator are imported when first opened:
// the full-page app's build splits them into chunks of their own, so the grid's first paint
// does not download and parse them. The widget build inlines them (anywidget loads one file).

import { h } from "../lib/dom";
import { iconButton } from "../lib/icons";
import { keepInside } from "../lib/popover";
import type { ModelLike } from "../transport/model";
import type { RpcClient } from "../transport/rpc";
import { ClassifierPanel } from "./classifier";
import { DetailView } from "./detail";
import { EvaluationPanel } from "./evaluation";
import { openExportDialog } from "./export";
import { OperatorsView } from "./operators";
import { FiltersView } from "./filters";
import { GridView, type GridOverlays } from "./grid";
import type { PlotView } from "./plot";
import { SampleSource, type Spec } from "./source";
import { injectStyles } from "./styles";
import { videoCollectionControl } from "./videoCollection";
import { QueryBox } from "./queryBox";
import { injectPanelStyles } from "./panelStyles";

export interface ReadyInfo {
  dataset_id: string;
  dataset_name: string;
  total: number;
  has_embeddings: boolean;
}

const SORTS: [string, string][] = [
  ["", "file path"], ["file_name", "file name"], ["width", "width"], ["height", "height"], ["created_at", "added"],
];

export interface ExplorerHooks {
  /** The number of samples the filter shows (-1 while counting), e.g. for the page's footer. */
  onCount?: (shown: number, total: number) => void;
}

export function mountExplorer(el: HTMLElement, model: ModelLike, rpc: RpcClient, info: ReadyInfo,
                              hooks: ExplorerHooks = {}): () => void {
  injectStyles(el);
  injectPanelStyles(el);
  const datasetId = info.dataset_id;
  const withDataset = (spec: Spec): Spec => ({ ...spec, dataset_id: (spec.dataset_id as string) ?? datasetId });
  let spec: Spec = withDataset(model.get("spec") ?? {});
  const source = new SampleSource(rpc, datasetId);
  const overlays = (): GridOverlays => ({ boxes: true, masks: true, labels: false, captions: false, names: false, issues: true, ...(model.get("overlays") ?? {}) });

  const countEl = h("span", { class: "ls-count", "data-testid": "ls-count" }, "…");
  const selEl = h("span", { class: "ls-count", "data-testid": "ls-selected-count" });
  const progress = h("div", { class: "ls-progress", style: "width:0" });
  const detailHost = h("div", { style: "display:contents" });
  let detail: DetailView | null = null;
  let detailIndex = -1;
  let classifier: ClassifierPanel | null = null;
  let queryBox: QueryBox | null = null; // the text query side panel, when open

  const grid = new GridView({
    source,
    cellSize: model.get("cell_size") ?? 180,
    overlays: overlays(),
    onOpen: (index, row) => openDetail(index, row.sample_id),
    onSelectionChange: (ids) => {
      model.set("selected", ids);
      model.save_changes();
      renderSelected();
    },
  });
  grid.setSelected(model.get("selected") ?? []);
  source.firstScreen = () => grid.firstScreenCells();

  const filters = new FiltersView(rpc, spec, (next) => applySpec(withDataset(next), true), () => info.has_embeddings);

  function applySpec(next: Spec, fromView: boolean): void {
    spec = next;
    queryBox?.setSpec(spec);
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
    countEl.textContent = n < 0 ? "Counting…" : `${n.toLocaleString("en-US")} of ${info.total.toLocaleString("en-US")} samples`;
    hooks.onCount?.(n, info.total);
  }
  function renderSelected(): void {
    const n = grid.selection.length;
    selEl.textContent = n ? `${n.toLocaleString("en-US")} selected` : "";
    tagBtn.textContent = n ? `Tag ${n} selected` : "Tag all in filter";
    classifier?.selectionChanged();
  }
  source.onChange(renderCount);

  // -- toolbar -------------------------------------------------------------------------------
  const size = h("input", { type: "range", min: 80, max: 400, step: 10, value: model.get("cell_size") ?? 180, "aria-label": "cell size", "data-testid": "ls-cell-size", style: "width:100%" });
  size.addEventListener("input", () => {
    grid.setCellSize(Number(size.value));
    model.set("cell_size", Number(size.value));
    model.save_changes();
  });
  const overlayToggles = (["boxes", "masks", "labels", "captions", "names", "issues"] as const).map((k) =>
    h("label", { class: "ls-check", title: `Show ${k}` },
      h("input", { type: "checkbox", checked: overlays()[k], "data-overlay": k, onchange: (e: Event) => {
        const next = { ...overlays(), [k]: (e.target as HTMLInputElement).checked };
        model.set("overlays", next);
        model.save_changes();
        grid.setOverlays(next);
      } }), k));
  const sort = h("select", { "aria-label": "sort", "data-testid": "ls-sort" }, SORTS.map(([v, t]) => h("option", { value: v }, t)));
  const desc = h("input", { type: "checkbox", title: "descending" });
  const curSort = spec.sort as { field?: string; desc?: boolean } | undefined;
  if (curSort) { sort.value = curSort.field ?? ""; desc.checked = !!curSort.desc; }
  const onSort = () => {
    const next = { ...spec };
    if (sort.value) next.sort = { field: sort.value, desc: desc.checked }; else delete next.sort;
    applySpec(next, true);
  };
  sort.addEventListener("change", onSort);
  desc.addEventListener("change", onSort);
  const tagInput = h("input", { type: "text", placeholder: "tag name", "data-testid": "ls-tag-input", style: "width:110px" });
  const tagBtn = h("button", { "data-testid": "ls-tag-button" }, "Tag all in filter");
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
    flash: (text, error) => flash(text, error),
  });
  const selectAllBtn = h("button", { "data-testid": "ls-select-all", title: "Select every sample of the current filter" }, "Select all");
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
  const evalToggle = iconButton("evaluation", "Eval", { "data-testid": "ls-eval-toggle", title: "Model evaluation" });
  const classifierToggle = iconButton("classifier", "Classifier", { "data-testid": "ls-classifier-toggle", title: "Few-shot classifier" });
  const exportBtn = iconButton("export", "Export", { "data-testid": "ls-export" });
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
  const collection = videoCollectionControl(rpc, datasetId, () => spec, (next) => { applySpec(withDataset(next), true); filters.setSpec(spec); });
  const toolbar = h("div", { class: "ls-toolbar", "data-testid": "ls-toolbar" },
    filtersToggle, h("span", { class: "ls-title", title: info.dataset_name }, info.dataset_name), collection, countEl, selEl, selectAllBtn,
    h("span", { class: "ls-spacer" }),
    h("div", { class: "ls-pop-anchor" }, viewBtn, viewPanel),
    h("div", { class: "ls-tag-group" }, tagInput, tagBtn), queryToggle, plotToggle, evalToggle, classifierToggle, exportBtn, operators.el);

  const statusEl = h("div", { class: "ls-status", style: "display:none", role: "status" });
  let flashTimer: ReturnType<typeof setTimeout> | null = null;
  function flash(text: string, error = false): void {
    statusEl.textContent = text;
    statusEl.classList.toggle("ls-error", error);
    statusEl.style.display = "";
    if (flashTimer) clearTimeout(flashTimer);
    flashTimer = setTimeout(() => (statusEl.style.display = "none"), error ? 8000 : 3000);
  }

  // -- plot side panel ---------------------------------------------------------------------
  const body = h("div", { class: "ls-body" }, filters.el, grid.el);
  let plot: PlotView | null = null;
  let plotPanel: HTMLElement | null = null;
  let disposed = false;
  const setPlot = (show: boolean) => {
    plotToggle.classList.toggle("ls-primary", show);
    if (show && !plot) {
      void import("./plot").then(({ PlotView }) => {
        // Hidden again, or opened by an earlier click, while the module loaded.
        if (disposed || plot || !model.get("show_plot")) return;
        plot = new PlotView({
          rpc, datasetId, colorBy: model.get("color_by") ?? "",
          tags: async () => (await rpc.call("facets", { spec: { dataset_id: datasetId } })).result.tags.map((t) => t.name),
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
        void plot.load();
      }).catch((e) => flash(`Cannot load the plot: ${(e as Error).message}`, true));
    } else if (!show && plot) {
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

  // -- evaluation side panel ---------------------------------------------------------------
  let evalPanel: EvaluationPanel | null = null;
  evalToggle.addEventListener("click", () => {
    if (evalPanel) { evalPanel.el.remove(); evalPanel = null; evalToggle.classList.remove("ls-primary"); return; }
    evalPanel = new EvaluationPanel({
      rpc, datasetId,
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
  const narrow = new ResizeObserver(() => root.classList.toggle("ls-narrow", root.clientWidth < 1100));
  narrow.observe(root);
  const closePopovers = (e: Event) => {
    if (!viewPanel.hidden && !viewPanel.parentElement!.contains(e.target as Node)) {
      viewPanel.hidden = true;
      viewBtn.setAttribute("aria-expanded", "false");
    }
  };
  root.addEventListener("pointerdown", closePopovers);

  // -- detail ------------------------------------------------------------------------------
  function openDetail(index: number, sampleId: string): void {
    detailIndex = index;
    if (!detail) {
      detail = new DetailView({
        rpc, datasetId, datasetName: info.dataset_name,
        onClose: closeDetail,
        onStep: (d) => {
          const next = Math.max(0, Math.min(source.count - 1, detailIndex + d));
          const row = source.row(next);
          grid.setFocus(next);
          if (row) openDetail(next, row.sample_id);
        },
        onTagsChanged: () => { source.refreshRows(); void filters.refresh(); },
        onFindSimilar: info.has_embeddings ? (id) => { closeDetail(); applySpec({ ...spec, similar_to: id }, true); filters.setSpec(spec); } : undefined,
        onEdit: (sampleId) => {
          void import("./annotator/embed").then(({ openAnnotator }) => {
            if (disposed) return;
            openAnnotator(root, rpc, {
              datasetId, spec, sampleId,
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
  const onRefresh = () => { source.refreshRows(); void filters.refresh(); };
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
    narrow.disconnect();
    grid.dispose();
    plot?.dispose();
    classifier?.dispose();
    queryBox?.dispose();
    detail?.dispose();
    source.dispose();
    root.remove();
  };
}
