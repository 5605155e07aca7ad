// Every edit as one undoable command: one api call (one transaction) to apply it, one to revert
// it. Annotations recreated by an undo get new ids; commands hold a shared `Ref` (see history.ts)
// so later commands still find them.

import type { Command, History, Ref } from "./history";
import type { Loader } from "./loader";
import { GT, type AnnotatorState, type Screen, type Spec } from "./state";

function createSpec(a: Spec): Record<string, unknown> {
  return { type: a.type, label: a.label, source: a.source ?? GT, confidence: a.confidence ?? null, box: a.box ?? null, rle: a.rle ?? null, polygon: a.polygon ?? null, iscrowd: a.iscrowd ?? false };
}

export class Commands {
  constructor(
    private readonly st: AnnotatorState,
    private readonly loader: Loader,
    private readonly hist: History,
    private readonly screen: Screen,
  ) {}

  private call<T = any>(method: string, params: Record<string, unknown>): Promise<T> {
    return this.loader.call<T>(method, params);
  }

  /** The sample's captions changed: the answer arrives after the edit's own re-render
   * (loader.call renders when the call returns), so the list is drawn again here. */
  private setCaptions(captions: NonNullable<AnnotatorState["data"]>["captions"]): void {
    this.st.data!.captions = captions;
    this.screen.renderSide();
  }

  /** Run `cmd` as a new undo step; a failure is shown, not thrown. */
  private async run(cmd: Command): Promise<boolean> {
    try {
      await this.hist.run(cmd);
      return true;
    } catch (e) {
      this.screen.error(e);
      return false;
    }
  }

  /** Create an annotation as one undoable step; resolves with its ref. */
  async create(spec: Spec, name = "create"): Promise<Ref | null> {
    const st = this.st;
    const sampleId = st.data!.sample!.sample_id;
    const ref: Ref = { id: "" };
    let snapshot: Spec = spec;
    const cmd: Command = {
      name,
      apply: async () => {
        const r = await this.call("annotation_create", { sample_id: sampleId, annotation: createSpec(snapshot) });
        snapshot = r.annotation;
        if (ref.id) st.rebind(ref, r.annotation.annotation_id);
        else {
          ref.id = r.annotation.annotation_id;
          st.refs.set(ref.id, ref);
        }
        st.selected = ref.id;
      },
      revert: async () => {
        await this.call("annotation_delete", { annotation_id: ref.id, version: st.version(ref) });
      },
    };
    return (await this.run(cmd)) ? ref : null;
  }

  async update(id: string, before: Record<string, unknown>, after: Record<string, unknown>, name = "edit"): Promise<void> {
    const st = this.st;
    const ref = st.refFor(id);
    await this.run({
      name,
      apply: async () => void (await this.call("annotation_update", { annotation_id: ref.id, version: st.version(ref), changes: after })),
      revert: async () => void (await this.call("annotation_update", { annotation_id: ref.id, version: st.version(ref), changes: before })),
    });
  }

  async deleteAnn(id: string): Promise<void> {
    const st = this.st;
    const ref = st.refFor(id);
    let snapshot: Spec = { ...st.ann(id)! };
    await this.run({
      name: "delete",
      apply: async () => {
        const r = await this.call("annotation_delete", { annotation_id: ref.id, version: st.version(ref) });
        snapshot = r.deleted;
      },
      revert: async () => {
        const r = await this.call("annotation_create", { sample_id: st.data!.sample!.sample_id, annotation: createSpec(snapshot) });
        st.rebind(ref, r.annotation.annotation_id);
      },
    });
  }

  /** Copy a prediction into ground truth. */
  async accept(id: string): Promise<void> {
    const st = this.st;
    const a = st.ann(id);
    if (!a || a.source === GT) {
      this.screen.setStatus("Select a prediction to accept it.", true);
      return;
    }
    const ref: Ref = { id: "" };
    await this.run({
      name: "accept",
      apply: async () => {
        const r = await this.call("annotation_accept", { annotation_id: id });
        if (ref.id) st.rebind(ref, r.annotation.annotation_id);
        else st.refs.set((ref.id = r.annotation.annotation_id), ref);
        st.selected = ref.id;
      },
      revert: async () => void (await this.call("annotation_delete", { annotation_id: ref.id, version: st.version(ref) })),
    });
  }

  async addClassification(label: string): Promise<void> {
    const st = this.st;
    label = label.trim();
    if (!label || !st.data?.sample) return;
    const sampleId = st.data.sample.sample_id;
    const ref: Ref = { id: "" };
    const cmd: Command = {
      name: "classification",
      apply: async () => {
        const r = await this.call("classification_add", { sample_id: sampleId, label });
        if (ref.id) st.rebind(ref, r.annotation.annotation_id);
        else st.refs.set((ref.id = r.annotation.annotation_id), ref);
      },
      revert: async () => void (await this.call("annotation_delete", { annotation_id: ref.id, version: st.version(ref) })),
    };
    if (st.anns.some((a) => a.type === "classification" && a.source === GT && a.label === label)) {
      this.screen.setStatus(`The image has class ${label} already.`);
      return;
    }
    await this.run(cmd);
  }

  async captionAdd(text: string): Promise<void> {
    const st = this.st;
    if (!text.trim() || !st.data?.sample) return;
    const sampleId = st.data.sample.sample_id;
    const ref: Ref = { id: "" };
    let createdAt: string | null = null;
    await this.run({
      name: "caption",
      apply: async () => {
        const r = await this.call("caption_add", { sample_id: sampleId, text, caption_id: ref.id || null, created_at: createdAt });
        ref.id = r.caption.caption_id;
        st.captionRefs.set(ref.id, ref);
        this.setCaptions([...st.data!.captions.filter((c) => c.caption_id !== ref.id), r.caption]);
      },
      revert: async () => {
        const r = await this.call("caption_delete", { caption_id: ref.id });
        createdAt = r.deleted.created_at;
        this.setCaptions(st.data!.captions.filter((c) => c.caption_id !== ref.id));
      },
    });
  }

  async captionEdit(id: string, before: string, after: string): Promise<void> {
    if (before === after) return;
    const st = this.st;
    const ref = st.captionRef(id);
    const set = async (text: string) => {
      const r = await this.call("caption_update", { caption_id: ref.id, text });
      this.setCaptions(st.data!.captions.map((c) => (c.caption_id === ref.id ? r.caption : c)));
    };
    await this.run({ name: "caption", apply: () => set(after), revert: () => set(before) });
  }

  async captionDelete(id: string): Promise<void> {
    const st = this.st;
    const ref = st.captionRef(id);
    let old: { text: string; created_at: string } | null = null;
    await this.run({
      name: "caption",
      apply: async () => {
        const r = await this.call("caption_delete", { caption_id: ref.id });
        old = r.deleted;
        this.setCaptions(st.data!.captions.filter((c) => c.caption_id !== ref.id));
      },
      revert: async () => {
        const r = await this.call("caption_add", { sample_id: st.data!.sample!.sample_id, caption_id: ref.id, text: old!.text, created_at: old!.created_at });
        const all = [...st.data!.captions, r.caption];
        this.setCaptions(all); // order is fixed by the next reload (created_at kept)
      },
    });
  }

  async undo(): Promise<void> {
    try {
      const name = await this.hist.undo();
      this.screen.setStatus(name ? `Undid ${name}` : "Nothing to undo");
    } catch (e) {
      this.screen.error(e);
    }
  }

  async redo(): Promise<void> {
    try {
      const name = await this.hist.redo();
      this.screen.setStatus(name ? `Redid ${name}` : "Nothing to redo");
    } catch (e) {
      this.screen.error(e);
    }
  }
}
