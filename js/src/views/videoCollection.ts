// The explorer's choice of collection in a video dataset: its videos, or the frames of all
// videos (spec.kind = "frame") — the frames grid has the same tag, label and metadata filters
// and selection as images. With spec.video_id (frames of one video: from Python, or a video's
// "Frames of this video" in the detail view) a chip says so and clears it. Shows nothing for
// image datasets.

import { h } from "../lib/dom";
import type { RpcClient } from "../transport/rpc";
import type { Spec } from "../transport/methods";

export function videoCollectionControl(rpc: RpcClient, datasetId: string, spec: () => Spec,
  apply: (next: Spec) => void): { el: HTMLElement; refresh: () => void } {
  const select = h("select", { "aria-label": "collection", "data-testid": "ls-collection", title: "Show the videos or their frames" },
    h("option", { value: "" }, "Videos"), h("option", { value: "frame" }, "Frames"));
  const chip = h("span", { class: "ls-tagchip", style: "display:none" });
  const el = h("span", { style: "display:none;align-items:center;gap:4px" }, select, chip);
  const render = () => {
    const s = spec();
    select.value = s.kind === "frame" ? "frame" : "";
    chip.replaceChildren();
    if (s.video_id) {
      chip.append("frames of one video", h("button", { title: "Show the frames of every video", onclick: () => {
        const next = { ...spec() };
        delete next.video_id;
        apply(next);
        render();
      } }, "×"));
    }
    chip.style.display = s.video_id ? "" : "none";
  };
  select.addEventListener("change", () => {
    const next: Spec = { ...spec() };
    // Filters of one collection do not carry over to the other (fps is a video's, video_id a frame's).
    for (const key of ["kind", "video_id", "fps", "duration_s", "ids", "similar_to"]) delete next[key];
    if (select.value) next.kind = select.value;
    apply(next);
    render();
  });
  void rpc.call("list_datasets", {}).then(({ result }) => {
    const row = result.datasets.find((d) => d.dataset_id === datasetId);
    if (row?.kind === "video") { el.style.display = "inline-flex"; render(); }
  }).catch(() => { /* the control stays hidden */ });
  // refresh: the spec changed elsewhere (a video's "Frames of this video").
  return { el, refresh: render };
}
