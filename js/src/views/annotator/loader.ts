// Loading a sample into the state and keeping it in step with the server: the first load and
// paging, the image bytes, reloads when Python changed the sample (revision poll, data_changed),
// and the rpc wrapper every edit goes through (it folds the answer into the state and reloads
// the sample when the edit hit a conflict).

import type { ModelLike } from "../../transport/model";
import { RpcError, type RpcClient } from "../../transport/rpc";
import type { History } from "./history";
import type { Elements } from "./panel";
import type { AnnotatorInfo, AnnotatorState, Loaded, Screen } from "./state";

export class Loader {
  private imageUrl = "";

  constructor(
    private readonly st: AnnotatorState,
    private readonly model: ModelLike,
    private readonly rpc: RpcClient,
    private readonly info: AnnotatorInfo,
    private readonly els: Elements,
    private readonly hist: History,
    private readonly screen: Screen,
  ) {}

  dispose(): void {
    if (this.imageUrl) URL.revokeObjectURL(this.imageUrl);
  }

  private spec(): Record<string, unknown> {
    const spec = this.model.get("spec");
    return spec && Object.keys(spec).length ? spec : { dataset_id: this.info.dataset_id };
  }

  async load(where: { index?: number; sample_id?: string }): Promise<void> {
    const st = this.st;
    const seq = ++st.loadSeq;
    st.loading = true;
    this.screen.setStatus("Loading…");
    await this.hist.idle();
    try {
      const { result } = await this.rpc.call<Loaded>("annotator_sample", { spec: this.spec(), ...where });
      if (seq !== st.loadSeq) return;
      if (!result.sample) {
        st.data = result;
        st.anns = [];
        this.els.position.textContent = "0 of 0";
        this.screen.setStatus("No samples in this query.");
        return;
      }
      const sameSample = st.data?.sample?.sample_id === result.sample.sample_id;
      this.apply(result);
      st.index = result.index ?? 0;
      this.hist.clear();
      st.selected = null;
      st.draft = [];
      this.model.set("sample_id", result.sample.sample_id);
      this.model.set("index", st.index);
      this.model.save_changes();
      if (!sameSample) await this.loadImage(seq);
      this.screen.setStatus(`${result.sample.file_name} — ${result.sample.width}×${result.sample.height}`);
    } catch (e) {
      this.screen.error(e);
    } finally {
      if (seq === st.loadSeq) st.loading = false;
    }
  }

  private async loadImage(seq: number): Promise<void> {
    const sample = this.st.data!.sample!;
    this.screen.setImageSize(sample.width, sample.height);
    this.screen.fit();
    this.screen.renderMasks();
    try {
      const { result, buffers } = await this.rpc.call("image", { dataset_id: sample.dataset_id, sample_id: sample.sample_id });
      if (seq !== this.st.loadSeq) return;
      if (this.imageUrl) URL.revokeObjectURL(this.imageUrl);
      this.imageUrl = URL.createObjectURL(new Blob([buffers[0] as BlobPart], { type: result.mime }));
      this.els.img.src = this.imageUrl;
      await this.els.img.decode().catch(() => undefined);
    } catch (e) {
      this.screen.error(e, "Image could not be loaded (you can still annotate)");
    }
  }

  /** Take a server answer about the whole sample. */
  private apply(r: Loaded): void {
    const st = this.st;
    const { el, position, labelInput } = this.els;
    st.data = r;
    st.anns = r.annotations;
    st.masks.clear();
    const known = new Set(st.labels);
    for (const l of r.labels) if (!known.has(l.name)) st.labels.push(l.name);
    el.dataset.sampleId = r.sample?.sample_id ?? "";
    el.dataset.index = String(r.index ?? "");
    position.textContent = r.frame ? `Frame ${r.frame.frame_number}`
      : r.total === null ? r.sample?.file_name ?? "" : `${(r.index ?? 0) + 1} of ${r.total}`;
    el.dataset.frameNumber = r.frame ? String(r.frame.frame_number) : "";
    if (!labelInput.value && st.labels.length) labelInput.value = st.labels[0];
    this.screen.renderAll();
  }

  /** The sample's annotations again, keeping the position in the query and the selection. */
  async reloadAnnotations(message: string): Promise<void> {
    const st = this.st;
    if (!st.data?.sample) return;
    await this.hist.idle();
    try {
      const { result } = await this.rpc.call<Loaded>("annotator_sample", { sample_id: st.data.sample.sample_id });
      result.index = st.data.index;
      result.total = st.data.total;
      const keep = st.selected;
      this.apply(result);
      st.selected = st.anns.some((a) => a.annotation_id === keep) ? keep : null;
      this.screen.renderAll();
      this.screen.setStatus(message);
    } catch (e) {
      this.screen.error(e);
    }
  }

  async poll(): Promise<void> {
    const st = this.st;
    if (!st.data?.sample || st.loading || st.drag || st.pending || document.hidden) return;
    try {
      const { result } = await this.rpc.call("annotator_revision", { sample_id: st.data.sample.sample_id });
      if (st.data && result.revision !== st.data.revision && !st.pending && !st.drag) {
        await this.reloadAnnotations("Updated from Python");
      }
    } catch {
      // The next poll tries again; a closed kernel shows up on the next edit.
    }
  }

  /** The database changed somewhere (the full page's data_changed event, which our own edits
   * also cause): reload only when the sample's revision is not the one our last edit got, so
   * the user's own edit is never reported as "Updated from Python". */
  async refreshIfChanged(): Promise<void> {
    const st = this.st;
    if (!st.data?.sample) return;
    await this.hist.idle();
    if (st.pending || st.drag) return; // that edit's answer brings the new revision
    try {
      const { result } = await this.rpc.call("annotator_revision", { sample_id: st.data.sample.sample_id });
      if (st.data && result.revision !== st.data.revision && !st.pending && !st.drag) {
        await this.reloadAnnotations("Updated from Python");
      }
    } catch {
      // As for poll(): the next event or edit tries again.
    }
  }

  async step(delta: number): Promise<void> {
    const st = this.st;
    if (!st.data) return;
    const total = st.data.total ?? 1;
    const next = Math.max(0, Math.min(total - 1, st.index + delta));
    if (next === st.index && st.data.sample) return;
    await this.load({ index: next });
  }

  /** The next (delta > 0) or previous frame of the same video, once every edit is saved
   * (load waits for the edit queue). */
  async stepFrame(delta: number): Promise<void> {
    const frame = this.st.data?.frame;
    if (!frame) {
      this.screen.setStatus("Not a video frame: the frame keys step through a video's frames.");
      return;
    }
    const target = delta > 0 ? frame.next_id : frame.previous_id;
    if (!target) {
      this.screen.setStatus(delta > 0 ? "The last frame of this video." : "The first frame of this video.");
      return;
    }
    await this.load({ sample_id: target });
  }

  /** One edit on the server; its answer (annotation, deletion, revision) updates the state. */
  async call<T = any>(method: string, params: Record<string, unknown>): Promise<T> {
    const st = this.st;
    const { el } = this.els;
    st.pending++;
    el.dataset.pending = String(st.pending);
    this.screen.setStatus("Saving…");
    try {
      const { result } = await this.rpc.call<any>(method, params);
      if (result.revision && st.data) st.data.revision = result.revision;
      if (result.annotation) st.upsert(result.annotation);
      if (result.deleted?.annotation_id) st.remove(result.deleted.annotation_id);
      this.screen.setStatus("Saved");
      return result as T;
    } catch (e) {
      if (e instanceof RpcError && (e.type === "AnnotationConflictError" || /was deleted/.test(e.message))) {
        await this.reloadAfterConflict(e.message);
      }
      throw e;
    } finally {
      st.pending--;
      el.dataset.pending = String(st.pending);
      this.screen.renderAll();
    }
  }

  private async reloadAfterConflict(message: string): Promise<void> {
    const st = this.st;
    if (!st.data?.sample) return;
    const { result } = await this.rpc.call<Loaded>("annotator_sample", { sample_id: st.data.sample.sample_id });
    result.index = st.data.index;
    result.total = st.data.total;
    this.apply(result);
    this.screen.setStatus(message, true);
  }
}
