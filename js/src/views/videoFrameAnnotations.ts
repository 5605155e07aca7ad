// The detail panel's "Frame annotations" section for a video: a video's labels mostly live on
// its frames, not on the video sample, so the panel counts them per class (a click jumps to
// the next frame with that class) and lists the annotations of the frame on screen, which
// follows the player while it plays or steps. Updated in place: the rest of the panel (the
// tag input) is not redrawn on every frame.

import { clear, formatCount, h } from "../lib/dom";
import { labelColor } from "../lib/colors";
import type { VideoFrames } from "../transport/methods";

type FrameAnnotation = VideoFrames["annotations"][number];

interface LabelCount {
  label: string;
  annotations: number;
  frames: number;
}

/** Per class: how many frame annotations, on how many frames; most annotations first. */
export function countByLabel(annotations: FrameAnnotation[]): LabelCount[] {
  const counts = new Map<string, { annotations: number; frames: Set<number> }>();
  for (const a of annotations) {
    let c = counts.get(a.label);
    if (!c) counts.set(a.label, (c = { annotations: 0, frames: new Set() }));
    c.annotations += 1;
    c.frames.add(a.frame_number);
  }
  return [...counts].map(([label, c]) => ({ label, annotations: c.annotations, frames: c.frames.size }))
    .sort((a, b) => b.annotations - a.annotations || a.label.localeCompare(b.label));
}

function plural(n: number, one: string, many: string): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}

export class FrameAnnotationsSection {
  readonly el: HTMLDivElement;
  private readonly heading: HTMLHeadingElement;
  private readonly summary: HTMLDivElement;
  private readonly current: HTMLDivElement;
  private frame = -1;

  /** onJump: go to the next frame (after the one shown, wrapping) with an annotation of this class. */
  constructor(private readonly onJump: (label: string) => void) {
    this.heading = h("h4", {}, "Frame annotations");
    this.summary = h("div", { "data-testid": "ls-frame-ann-summary" }, h("div", { class: "ls-muted" }, "Loading…"));
    this.current = h("div", { "data-testid": "ls-frame-ann-current" });
    this.el = h("div", { class: "ls-section", "data-testid": "ls-detail-frame-annotations" },
      this.heading, this.summary, this.current);
  }

  /** The video's frames and their annotations are in (VideoView's video_frames answer). */
  setData(data: VideoFrames): void {
    const anns = data.annotations;
    this.heading.textContent = `Frame annotations (${formatCount(anns.length)})`;
    clear(this.summary);
    if (!anns.length) {
      this.summary.append(h("div", { class: "ls-muted" }, "No frame of this video is annotated."));
      return;
    }
    const frames = new Set(anns.map((a) => a.frame_number)).size;
    const tracks = new Set(anns.filter((a) => a.track_id !== undefined && a.track_id !== null).map((a) => a.track_id)).size;
    this.summary.append(h("div", { class: "ls-muted", style: "margin-bottom:4px" },
      `On ${formatCount(frames)} of ${plural(Math.max(frames, data.video.frame_count), "frame", "frames")}` +
      (tracks ? ` · ${plural(tracks, "track", "tracks")}` : "")));
    for (const c of countByLabel(anns)) {
      this.summary.append(h("button", { class: "ls-ann ls-frame-ann-class", "data-label": c.label,
        title: `Go to the next frame with “${c.label}”`, "aria-label": `Go to the next frame with ${c.label}`,
        onclick: () => this.onJump(c.label) },
        h("span", { class: "ls-dot", style: `background:${labelColor(c.label)}` }),
        h("span", { class: "ls-name" }, h("span", { class: "ls-ann-label" }, c.label),
          h("span", { class: "ls-sub" }, ` · ${plural(c.annotations, "annotation", "annotations")} on ${plural(c.frames, "frame", "frames")}`)),
        h("span", { class: "ls-sub" }, "next ›")));
    }
  }

  /** Frame n's picture is on screen with these annotations. */
  setFrame(n: number, anns: FrameAnnotation[]): void {
    this.frame = n;
    clear(this.current);
    this.current.dataset.frame = String(n);
    this.current.append(h("h4", { style: "margin-top:8px" }, `On frame ${formatCount(n)} (${anns.length})`));
    for (const a of anns) {
      const name = a.track_id !== undefined && a.track_id !== null ? `${a.label} #${a.track_id}` : a.label;
      const size = a.box ? ` ${Math.round(a.box[2])}×${Math.round(a.box[3])} px` : "";
      this.current.append(h("div", { class: "ls-ann", "data-annotation-id": a.annotation_id },
        // The overlay's colour: a track gets its own (video.ts paintOverlay).
        h("span", { class: "ls-dot", style: `background:${labelColor(name)}` }),
        h("div", { class: "ls-name" }, h("div", { class: "ls-ann-label", title: name }, name),
          h("div", { class: "ls-sub" }, `${a.type.replace(/_/g, " ")}${size}` +
            (a.confidence !== null && a.confidence !== undefined ? ` · ${a.confidence.toFixed(2)}` : "") +
            (a.source !== "ground_truth" ? ` · ${a.source}` : "")))));
    }
  }

  get shownFrame(): number {
    return this.frame;
  }
}
