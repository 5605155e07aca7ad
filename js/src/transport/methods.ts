// What each method the views call takes and answers: the TypeScript side of
// lightly_studio/api/_contracts.py (the TypedDicts each Python handler declares with @method).
// RpcClient.call is typed over `Methods`, so a call site gets its params checked and its result
// typed. tests/api/test_contracts.py reads this file: `ApiMethods` must list exactly the
// Python api.METHODS, `WidgetMethods` exactly widgets/_rpc.py WIDGET_METHODS; keep one method
// per line in the form `  name: { params: ...; result: ... };`.

export type Spec = Record<string, unknown>;

// --- shapes shared by several methods -------------------------------------------------------

export interface Annotation {
  annotation_id: string;
  label: string;
  type: string;
  source: string;
  confidence: number | null;
  box?: [number, number, number, number];
  rle?: number[];
}

export interface Row {
  sample_id: string;
  file_name: string;
  width: number;
  height: number;
  kind: string;
  tags: string[];
  annotations: Annotation[];
  captions: string[];
  similarity?: number;
  /** Frames only: the video the frame belongs to, and its number in it. */
  video_id?: string;
  frame_number?: number;
  /** Group datasets: one entry per view, in view order (api/groups.py). */
  members?: GroupMember[];
  /** Quality checks that flagged the sample (lightly_studio.quality): grid chips. */
  issues?: string[];
}

/** A group's member in one view; `sample_id` null where the group has none in that view. */
export interface GroupMember {
  view: string;
  sample_id: string | null;
  kind?: string;
  file_name?: string;
  width?: number;
  height?: number;
  tags?: string[];
  /** samples_page only: drawn over the member's thumbnail, as in the image grid. */
  annotations?: Annotation[];
}

export interface GroupDetail {
  sample_id: string;
  name: string;
  tags: string[];
  metadata: Record<string, unknown>;
  members: GroupMember[];
}

export interface DatasetRow {
  dataset_id: string;
  name: string;
  kind: string;
  count: number;
  has_embeddings: boolean;
}

export interface PageReply {
  offset: number;
  rows: Row[];
  /** With `thumbnails: n`: one entry per thumbnail sent, buffers[i] being rows[i]'s. */
  thumbnail_errors?: (string | null)[];
  mime?: string;
}

/** The video player's data (api/video.py): frame samples as columns, their annotations. */
export interface VideoFrames {
  video: { sample_id: string; file_name: string; width: number; height: number; fps: number; duration_s: number; frame_count: number; codec: string | null };
  frames: { sample_id: string[]; frame_number: number[]; timestamp_s: number[]; tags: boolean[]; captions: boolean[] };
  annotations: (Annotation & { frame_number: number; track_id?: number })[];
  spans: { annotation_id: string; label: string; source: string; confidence: number | null; start_s: number; end_s: number }[];
}

export interface Detail {
  sample_id: string;
  dataset_id: string;
  fields: Record<string, unknown>;
  tags: string[];
  metadata: Record<string, unknown>;
  annotations: Annotation[];
  captions: string[];
}

export interface Hist { min: number | null; max: number | null; counts: number[] }
/** One row of the filter panel's Quality section (api/facets.py _issue_counts). */
export interface IssueCount {
  issue: string;
  /** "image": samples flagged; "samples": samples with any label issue; "label": annotations flagged */
  kind: "image" | "samples" | "label";
  /** The metadata key a click filters on; null for label issues (counts only). */
  key: string | null;
  count: number;
  total: number;
}

export interface Facets {
  issues: IssueCount[];
  count: number;
  total: number;
  tags: { name: string; count: number; total: number }[];
  labels: { name: string; count: number; total: number }[];
  sources: string[];
  numeric: Record<string, Hist>;
  metadata: ({ key: string; type: string; values?: { value: string; count: number }[] } & Partial<Hist>)[];
  /** Group datasets: groups with a member carrying each tag (spec.member_tags filters them). */
  member_tags?: { name: string; count: number; total: number }[];
}

/** The distribution panel's charts (api/distributions.py), over the current filter. */
export interface DistHist extends Hist { key: string; field: string; type: string; edges: number[]; missing: number }
export interface DistCategorical { key: string; field: string; type: string; values: { value: string; count: number }[]; other: number; missing: number }
export interface Distributions {
  count: number;
  bins: number;
  /** images: null unless asked for (class_count "images"). */
  classes: { name: string; objects: number; images: number | null }[];
  numeric: DistHist[];
  categorical: DistCategorical[];
}

export interface ClassifierState {
  name: string;
  classes: string[];
  /** class -> how many samples are marked as its examples */
  examples: Record<string, number>;
  trained: boolean;
  embedding_model: string;
}
export interface QueryCheck {
  python: string | null;
  error: { message: string; offset: number; line: number; column: number } | null;
  count: number | null;
}
export interface QueryCompletion { label: string; insert: string; kind: string; detail: string }
export interface QueryCompletions { start: number; end: number; candidates: QueryCompletion[] }

export interface PlotSelection {
  ids: string | null;
  count: number;
}

export interface ParamSchema {
  name: string;
  type: "string" | "integer" | "number" | "boolean";
  param_type: string; // string | int | float | bool | enum | tag | label
  widget: "text" | "number" | "checkbox" | "select" | "tag" | "label";
  title: string;
  description: string;
  required: boolean;
  default?: unknown;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
}

export interface OperatorInfo {
  name: string;
  description: string;
  parameters: ParamSchema[];
  error?: string;
}

export interface RunStatus {
  run_id?: string;
  status: "pending" | "running" | "succeeded" | "failed" | "cancelled" | "invalid";
  finished: boolean;
  success: boolean | null;
  message: string;
  progress?: number | null;
  progress_message?: string;
  errors?: Record<string, string>;
  result?: { success: boolean; message: string; data_changed: boolean | null } | null;
}

/** What the operator acts on: whole dataset, the selected samples, or the active filter. */
export type Scope =
  | { kind: "dataset" }
  | { kind: "selection"; sample_ids: string[] }
  | { kind: "filter"; spec: Record<string, unknown> };

/** A stored evaluation run (lightly_studio/api/evaluation.py). */
export interface EvaluationRun {
  run_id: string;
  name: string;
  task: string;
  gt_source: string;
  pred_source: string;
  sample_count: number;
  gt_annotation_count: number;
  pred_annotation_count: number;
  config: Record<string, unknown>;
  summary: Record<string, number | null>;
}

export interface EvaluationCurve { recall: number[]; precision: number[]; confidence: number[] }

export interface EvaluationDetail {
  run: EvaluationRun;
  /** Classes most confused first; counts rows = classes + row_background, columns = classes + column_background. */
  confusion: { classes: string[]; row_background: string; column_background: string; counts: number[][] };
  per_class: ({ name: string } & Record<string, number | null | string>)[];
  pr_curve?: EvaluationCurve;
}

/** One judged annotation: its outcome and its confusion-matrix cell (null: background). */
export interface AnnotationOutcome { outcome: "tp" | "fp" | "fn" | "ignored"; gt: string | null; pred: string | null }

export interface EvaluationCreate {
  dataset_id?: string; task?: string; name?: string; gt_source?: string; pred_source?: string;
  iou_threshold?: number; classwise?: boolean;
}

// The annotator's replies are loose here: its view declares the shapes it reads (Loaded, Ann)
// and calls with an explicit result type.
type AnnotatorReply = Record<string, any>;

interface SampleRef { dataset_id?: string; sample_id?: string }
interface Labels { labels: { name: string; count: number }[]; sources: string[] }
interface Tagged { tag: string; changed: number }
interface Mime { mime: string }
type Empty = Record<string, never>;

// --- the method table -----------------------------------------------------------------------

/** lightly_studio.api.METHODS: name -> params and result (binary buffers travel beside). */
export interface ExportFormatInfo {
  name: string;
  label: string;
  writes: "file" | "folder";
  extension: string | null;
  description: string;
}

/** The Annotations view's filters (api/crops.py). */
export interface CropQuery {
  labels?: string[];
  sources?: string[];
  tags?: string[];
  confidence_min?: number | null;
  confidence_max?: number | null;
  size_min?: number | null;
  size_max?: number | null;
  sort?: string;
  descending?: boolean;
}

export interface CropRow {
  annotation_id: string;
  sample_id: string;
  label: string;
  type: string;
  source: string;
  confidence: number | null;
  box: [number, number, number, number];
  box_in_crop: [number, number, number, number];
  crop_size: [number, number];
  score: number | null;
  version: number;
}

/** A bulk edit's answer: how many changed, and what Undo would now revert. */
export interface EditReply {
  changed: number;
  undo: string | null;
}

/** Customised keyboard shortcuts: action id -> key names (views/shortcuts.ts). */
export type Bindings = Record<string, string[]>;

/** A dataset's saved grid options (store/view_settings.py). */
export interface ViewOptions {
  cell_size: number;
  overlays: Record<string, boolean>;
  sort_field: string;
  sort_desc: boolean;
}

export interface ApiMethods {
  list_datasets: { params: Empty; result: { datasets: DatasetRow[] } };
  count: { params: { spec?: Spec }; result: { count: number } };
  samples_page: { params: { spec?: Spec; offset?: number; limit?: number; thumbnails?: number; annotations?: boolean; masks?: boolean }; result: PageReply };
  thumbnails: { params: { dataset_id?: string; sample_ids?: string[] }; result: { sample_ids: string[]; errors: (string | null)[]; mime: string } };
  image: { params: SampleRef; result: Mime & { size: number } };
  sample_detail: { params: SampleRef; result: Detail };
  group_detail: { params: SampleRef; result: GroupDetail };
  tag_samples: { params: { tag?: string; remove?: boolean; spec?: Spec; dataset_id?: string; sample_ids?: string[] }; result: Tagged };
  tag_create: { params: { dataset_id: string; name: string }; result: { name: string; count: number } };
  tag_rename: { params: { dataset_id: string; old: string; new: string }; result: { name: string; count: number } };
  tag_delete: { params: { dataset_id: string; name: string }; result: { name: string; count: number } };
  filtered_ids: { params: { spec?: Spec }; result: { sample_ids: string[] } };
  select_ids: { params: { sample_ids?: string[] }; result: PlotSelection };
  facets: { params: { spec?: Spec; bins?: number }; result: Facets };
  distributions: { params: { spec?: Spec; bins?: number; limit?: number; class_count?: "objects" | "images" }; result: Distributions };
  query_check: { params: { dataset_id: string; text: string }; result: QueryCheck };
  query_completions: { params: { dataset_id: string; text: string; offset: number }; result: QueryCompletions };
  plot_points: { params: { dataset_id?: string; embedding_model?: string | null; kind?: string | null }; result: { token: string; count: number } };
  plot_ids: { params: { token?: string; indices?: number[]; names?: boolean }; result: { sample_ids: string[]; file_names?: (string | null)[] } };
  plot_select: { params: { token?: string; indices?: number[] }; result: PlotSelection };
  plot_indices: { params: { token?: string; spec?: Spec }; result: { count: number } };
  plot_colors: { params: { token?: string; by?: string }; result: { legend: string[]; continuous?: boolean; colors?: string[] } };
  field_choices: { params: { dataset_id: string }; result: { tags: string[]; evaluations: string[]; metadata: { key: string; type: string; numeric: boolean }[] } };
  export_formats: { params: Empty; result: { formats: string[]; details: ExportFormatInfo[]; export_dir: string } };
  export: { params: { dataset_id?: string; format?: string; scope?: string; spec?: Spec; sample_ids?: string[]; output?: string | null; annotation_source?: string | null }; result: { path: string; format: string; scope: string; count: number; download: string; writes: string } };
  export_download: { params: { path: string }; result: { name: string; mime: string; size: number } };
  classifier_list: { params: { dataset_id: string }; result: { classifiers: ClassifierState[] } };
  classifier_create: { params: { dataset_id: string; name: string; classes: string[] }; result: ClassifierState };
  classifier_add_examples: { params: { dataset_id: string; name: string; class_name: string | null; sample_ids?: string[] | null; spec?: Spec }; result: ClassifierState };
  classifier_train: { params: { dataset_id: string; name: string }; result: ClassifierState & { seconds: number } };
  classifier_show: { params: { dataset_id: string; name: string; which: "uncertain" | "class"; class_name?: string; n?: number }; result: { ids: string | null; count: number } };
  classifier_apply: { params: { dataset_id: string; name: string }; result: { count: number; source: string } };
  annotator_sample: { params: SampleRef & { spec?: Spec; index?: number; image?: boolean }; result: AnnotatorReply };
  annotator_revision: { params: { sample_id?: string }; result: { sample_id: string; revision: string } };
  labels_list: { params: { dataset_id?: string }; result: Labels };
  label_create: { params: { dataset_id?: string; name?: string }; result: Labels & { label_id: string; name: string } };
  annotation_create: { params: { sample_id?: string; annotation?: Record<string, unknown> }; result: AnnotatorReply };
  annotation_update: { params: { annotation_id?: string; version?: number; changes?: Record<string, unknown> }; result: AnnotatorReply };
  annotation_delete: { params: { annotation_id?: string; version?: number }; result: AnnotatorReply };
  annotation_accept: { params: { annotation_id?: string; version?: number }; result: AnnotatorReply };
  classification_add: { params: { sample_id?: string; label?: string }; result: AnnotatorReply };
  caption_add: { params: { sample_id?: string; text?: string; caption_id?: string | null; created_at?: string | null }; result: AnnotatorReply };
  caption_update: { params: { caption_id?: string; text?: string }; result: AnnotatorReply };
  caption_delete: { params: { caption_id?: string }; result: AnnotatorReply };
  operators_list: { params: { dataset_id?: string }; result: { operators: OperatorInfo[]; entry_point_errors: unknown[] } };
  operator_run: { params: { dataset_id?: string; operator?: string; parameters?: Record<string, unknown>; scope?: Scope; wait?: boolean; timeout_s?: number | null }; result: RunStatus };
  operator_status: { params: { run_id?: string }; result: RunStatus };
  operator_cancel: { params: { run_id?: string }; result: RunStatus };
  evaluation_runs: { params: { dataset_id?: string }; result: { runs: EvaluationRun[] } };
  evaluation_detail: { params: { dataset_id?: string; name?: string }; result: EvaluationDetail };
  evaluation_pr_curve: { params: { dataset_id?: string; name?: string; class_name?: string | null }; result: EvaluationCurve };
  evaluation_sample_outcomes: { params: { dataset_id?: string; name?: string; sample_id?: string }; result: { outcomes: Record<string, string>; matches: Record<string, unknown>[] } };
  evaluation_outcomes: { params: { dataset_id?: string; name?: string; sample_ids?: string[] }; result: { samples: Record<string, Record<string, AnnotationOutcome>> } };
  evaluation_sources: { params: { dataset_id?: string }; result: { sources: { name: string; types: Record<string, number> }[]; tasks: Record<string, string[]> } };
  evaluation_create: { params: EvaluationCreate; result: { run: EvaluationRun } };
  video_frames: { params: SampleRef; result: VideoFrames };
  crops_page: { params: CropQuery & { dataset_id: string; offset?: number; limit?: number; ids_only?: boolean }; result: { total: number; offset: number; rows: CropRow[]; ids?: string[] } };
  crop_images: { params: { dataset_id: string; annotation_ids: string[] }; result: { annotation_ids: string[]; errors: (string | null)[]; mime: string } };
  crop_options: { params: { dataset_id: string }; result: { labels: string[]; sources: string[]; issues: string[]; tags: string[]; undo: string | null } };
  annotations_relabel: { params: { dataset_id: string; annotation_ids: string[]; label: string }; result: EditReply };
  annotations_delete: { params: { dataset_id: string; annotation_ids: string[] }; result: EditReply };
  annotations_tag: { params: { dataset_id: string; annotation_ids: string[]; tag: string }; result: EditReply };
  image_search: { params: { dataset_id: string; embedding_model?: string | null }; result: { token: string; model: string } };
  undo: { params: { dataset_id: string }; result: { undone: string; restored: number; undo: string | null } };
  view_settings: { params: { dataset_id?: string }; result: { shortcuts: Bindings; options: ViewOptions | null } };
  set_shortcuts: { params: { shortcuts: Bindings }; result: { shortcuts: Bindings } };
  set_view_options: { params: { dataset_id: string; options: ViewOptions | null }; result: { options: ViewOptions | null } };
  video_media: { params: SampleRef & { offset?: number; length?: number }; result: Mime & { size: number; offset: number; etag: string } };
  video_poster: { params: SampleRef & { frame_number?: number; quick?: boolean }; result: Mime & { size: number; frame_number: number; low_res: boolean } };
}

/** Methods a notebook widget answers itself (lightly_studio/widgets/_rpc.py WIDGET_METHODS). */
export interface WidgetMethods {
  ready: { params: { view?: string }; result: Record<string, unknown> };
}

export interface Methods extends ApiMethods, WidgetMethods {}

export type MethodName = keyof Methods;
export type Params<M extends MethodName> = Methods[M]["params"];
export type Result<M extends MethodName> = Methods[M]["result"];
