// The video player of the detail view: an HTML5 <video> fed by the byte-range media route
// (a seek fetches only the bytes it needs), frame-accurate stepping, and the current frame's
// annotations drawn over the picture in sync — also while playing — plus a timeline with
// frame thumbnails, marks where frames have annotations, tags or captions, and time-span
// classifications as bars. Click or drag on the timeline to seek.
//
// Frames: frame n is shown from n / fps to (n + 1) / fps; a step seeks to the middle of that
// interval, so rounding in the decoder never lands on the neighbour. While playing, the frame
// on screen comes from requestVideoFrameCallback (its mediaTime is the presented frame's
// timestamp), so the overlay changes with the picture, not with a timer.
//
// When the browser cannot play the file (codec, corrupt data), the player says so and shows the
// video's frame samples decoded on the server instead, stepping from one sampled frame to the next.

import { clear, h } from "../lib/dom";
import { labelColor } from "../lib/colors";
import { MEDIA_ROUTE } from "../transport/constants";
import type { Annotation, VideoFrames } from "../transport/methods";
import type { RpcClient } from "../transport/rpc";
import { maskCanvas, overlaySvg } from "./overlays";

export interface VideoViewOptions {
  rpc: RpcClient;
  datasetId: string;
  /** The video sample. */
  sampleId: string;
  /** Open the annotator on a frame sample (the frame shown, when it is one). */
  onEditFrame?: (frameSampleId: string) => void;
  /** The media route's URL for a sample (default: "media/<id>" next to the page). */
  mediaUrl?: (sampleId: string) => string;
}

type FrameAnnotation = VideoFrames["annotations"][number];

const SPEEDS = [0.25, 0.5, 1, 1.5, 2];
const THUMBNAILS = 12;
const FILL = "position:absolute;inset:0;width:100%;height:100%";

export class VideoView {
  readonly el: HTMLDivElement;
  private readonly stage: HTMLDivElement;
  private readonly video: HTMLVideoElement;
  private readonly still: HTMLImageElement;
  private readonly overlay: HTMLDivElement;
  private readonly chips: HTMLDivElement;
  private readonly frameLabel: HTMLSpanElement;
  private readonly playButton: HTMLButtonElement;
  private readonly editButton: HTMLButtonElement;
  private readonly message: HTMLDivElement;
  private readonly strip: HTMLDivElement;
  private readonly marks: HTMLCanvasElement;
  private readonly resize: ResizeObserver;
  private data: VideoFrames | null = null;
  private fps = 30;
  private frameCount = 1;
  private byFrame = new Map<number, FrameAnnotation[]>();
  private sampleOfFrame = new Map<number, number>(); // frame number -> index in data.frames
  private frame = -1;
  private fallback = false;
  private stillUrl = "";
  private thumbUrls: string[] = [];
  private callback = 0;
  private disposed = false;

  constructor(private readonly o: VideoViewOptions) {
    this.video = h("video", { preload: "auto", muted: true, playsinline: true, "data-testid": "ls-video-element",
      style: `${FILL};object-fit:contain;background:#000` });
    this.video.muted = true;
    this.still = h("img", { style: `${FILL};object-fit:contain;display:none`, alt: "" });
    this.overlay = h("div", { style: `${FILL};pointer-events:none` });
    this.chips = h("div", { "data-testid": "ls-video-classes",
      style: "position:absolute;left:8px;top:8px;display:flex;flex-wrap:wrap;gap:4px;pointer-events:none" });
    this.stage = h("div", { style: "position:relative;flex:1;min-height:0;background:#000" },
      this.video, this.still, this.overlay, this.chips);
    this.playButton = h("button", { "data-testid": "ls-video-play", title: "Play / pause (Space)",
      onclick: () => this.togglePlay() }, "▶");
    this.frameLabel = h("span", { class: "ls-muted", "data-testid": "ls-video-frame", style: "font-variant-numeric:tabular-nums" });
    const speed = h("select", { title: "Playback speed", "data-testid": "ls-video-speed" },
      SPEEDS.map((v) => h("option", { value: String(v), selected: v === 1 }, `${v}×`)));
    speed.addEventListener("change", () => { this.video.playbackRate = Number(speed.value); });
    this.editButton = h("button", { "data-testid": "ls-video-edit-frame", title: "Edit this frame's labels in the annotator",
      style: "display:none", onclick: () => this.editFrame() }, "Annotate frame");
    const step = (d: number, title: string, text: string) => h("button", { title, onclick: () => this.step(d) }, text);
    const controls = h("div", { class: "ls-toolbar", style: "display:flex;gap:6px;align-items:center;flex:none" },
      step(-10, "Back 10 frames (Shift+←)", "«"), step(-1, "Previous frame (←)", "‹"), this.playButton,
      step(1, "Next frame (→)", "›"), step(10, "Forward 10 frames (Shift+→)", "»"),
      this.frameLabel, h("span", { style: "flex:1" }), speed, this.editButton);
    this.strip = h("div", { style: "position:relative;height:36px;overflow:hidden;background:var(--ls-bg2, #222)" });
    this.marks = h("canvas", { "data-testid": "ls-video-timeline", style: "display:block;width:100%;height:40px;cursor:pointer" });
    const timeline = h("div", { style: "flex:none;position:relative;cursor:pointer", title: "Click or drag to seek" },
      this.strip, this.marks);
    this.message = h("div", { class: "ls-error", "data-testid": "ls-video-message", style: "display:none;flex:none;padding:4px 8px" });
    this.el = h("div", { "data-testid": "ls-video", tabindex: 0,
      style: `${FILL};display:flex;flex-direction:column;outline:none` },
      this.stage, this.message, controls, timeline);

    this.el.addEventListener("keydown", (e) => this.onKey(e));
    this.bindTimeline(timeline);
    this.video.addEventListener("play", () => { this.playButton.textContent = "❚❚"; });
    this.video.addEventListener("pause", () => { this.playButton.textContent = "▶"; });
    this.video.addEventListener("seeked", () => { if (this.video.paused) this.showFrame(this.frameAt(this.video.currentTime)); });
    // Without requestVideoFrameCallback (older browsers), the overlay follows timeupdate.
    const frameCallbacks = typeof (this.video as { requestVideoFrameCallback?: unknown }).requestVideoFrameCallback === "function";
    if (!frameCallbacks) this.video.addEventListener("timeupdate", () => this.showFrame(this.frameAt(this.video.currentTime)));
    this.video.addEventListener("error", () => this.useFallback());
    this.resize = new ResizeObserver(() => { this.paintOverlay(); this.paintTimeline(); this.placeThumbnails(); });
    this.resize.observe(this.el);
    void this.load();
  }

  /** The frame number on screen. */
  get currentFrame(): number {
    return this.frame;
  }

  focus(): void {
    this.el.focus();
  }

  private async load(): Promise<void> {
    let data: VideoFrames;
    try {
      ({ result: data } = await this.o.rpc.call("video_frames", { dataset_id: this.o.datasetId, sample_id: this.o.sampleId }));
    } catch (e) {
      this.say(`Cannot load the video's frames: ${(e as Error).message}`);
      return;
    }
    if (this.disposed) return;
    this.data = data;
    this.fps = data.video.fps > 0 ? data.video.fps : 30;
    this.frameCount = Math.max(1, data.video.frame_count || Math.round(data.video.duration_s * this.fps) || 1);
    data.frames.frame_number.forEach((n, i) => this.sampleOfFrame.set(n, i));
    for (const a of data.annotations) {
      const list = this.byFrame.get(a.frame_number);
      if (list) list.push(a); else this.byFrame.set(a.frame_number, [a]);
    }
    const url = this.o.mediaUrl ? this.o.mediaUrl(this.o.sampleId) : new URL(MEDIA_ROUTE + this.o.sampleId, document.baseURI).toString();
    this.video.src = url;
    this.startFrameCallbacks();
    this.showFrame(0);
    this.paintTimeline();
    void this.loadThumbnails();
  }

  // -- frames and time -------------------------------------------------------------------------

  private timeOf(n: number): number {
    const i = this.sampleOfFrame.get(n);
    return i !== undefined && this.data ? this.data.frames.timestamp_s[i] : n / this.fps;
  }

  private frameAt(t: number): number {
    return Math.max(0, Math.min(this.frameCount - 1, Math.floor(t * this.fps + 1e-3)));
  }

  /** Show frame n: seek the video there (or the sampled frame at or before it, in fallback). */
  seek(n: number): void {
    n = Math.max(0, Math.min(this.frameCount - 1, Math.round(n)));
    if (this.fallback) {
      void this.showStill(n);
      return;
    }
    if (!this.video.paused) this.video.pause();
    this.video.currentTime = this.timeOf(n) + 0.5 / this.fps;
    this.showFrame(n);
  }

  step(delta: number): void {
    if (this.fallback && this.data) {
      // Only sampled frames can be shown: move by sampled frames.
      const numbers = this.data.frames.frame_number;
      const i = Math.max(0, numbers.indexOf(this.frame));
      const next = numbers[Math.max(0, Math.min(numbers.length - 1, i + Math.sign(delta) * Math.min(10, Math.abs(delta))))];
      if (next !== undefined) this.seek(next);
      return;
    }
    this.seek(this.frame + delta);
  }

  togglePlay(): void {
    if (this.fallback) return;
    if (this.video.paused) void this.video.play().catch((e) => this.say(`Cannot play: ${(e as Error).message}`));
    else this.video.pause();
  }

  private startFrameCallbacks(): void {
    const v = this.video as HTMLVideoElement & { requestVideoFrameCallback?: (cb: (now: number, meta: { mediaTime: number }) => void) => number };
    if (!v.requestVideoFrameCallback) return;
    const tick = (_now: number, meta: { mediaTime: number }) => {
      if (this.disposed) return;
      const n = this.frameAt(meta.mediaTime);
      this.showFrame(n);
      this.el.dataset.presented = String(n); // the frame composited on screen (tests, benchmarks)
      this.callback = v.requestVideoFrameCallback!(tick);
    };
    this.callback = v.requestVideoFrameCallback(tick);
  }

  private showFrame(n: number): void {
    if (n === this.frame) return;
    this.frame = n;
    const t = this.timeOf(n);
    this.frameLabel.textContent = `Frame ${n} / ${this.frameCount - 1} · ${t.toFixed(3)} s`;
    this.el.dataset.frame = String(n);
    const sample = this.sampleOfFrame.get(n);
    this.editButton.style.display = sample !== undefined && this.o.onEditFrame ? "" : "none";
    this.paintOverlay();
    this.paintTimeline();
  }

  // -- overlays --------------------------------------------------------------------------------

  private paintOverlay(): void {
    clear(this.overlay);
    clear(this.chips);
    const d = this.data;
    if (!d || this.frame < 0) return;
    const w = d.video.width, hgt = d.video.height;
    // A track gets its own colour and its id next to the class name.
    const anns: Annotation[] = (this.byFrame.get(this.frame) ?? []).map((a) =>
      a.track_id !== undefined && a.track_id !== null ? { ...a, label: `${a.label} #${a.track_id}` } : a);
    const opts = { boxes: true, masks: true, labels: true, displayWidth: this.stage.clientWidth || 600,
      displayHeight: this.stage.clientHeight || 400, maskResolution: 1024 };
    const mask = maskCanvas(w, hgt, anns, opts);
    if (mask) { mask.setAttribute("style", `${FILL};object-fit:contain`); this.overlay.append(mask); }
    const svg = overlaySvg(w, hgt, anns, opts);
    if (svg) { svg.setAttribute("style", FILL); svg.setAttribute("data-testid", "ls-video-overlay"); this.overlay.append(svg); }
    const t = this.timeOf(this.frame);
    const classes = anns.filter((a) => !a.box).map((a) => a.label)
      .concat(d.spans.filter((s) => s.start_s <= t && t < s.end_s).map((s) => s.label));
    for (const name of classes) {
      this.chips.append(h("span", { style: `background:${labelColor(name)};color:#fff;border-radius:3px;padding:1px 6px;font-size:12px` }, name));
    }
  }

  // -- timeline --------------------------------------------------------------------------------

  private xOf(frame: number, width: number): number {
    return this.frameCount <= 1 ? 0 : (frame / (this.frameCount - 1)) * width;
  }

  private paintTimeline(): void {
    const d = this.data;
    const c = this.marks;
    const ratio = window.devicePixelRatio || 1;
    const cssW = c.clientWidth || 600, cssH = c.clientHeight || 40;
    if (c.width !== Math.round(cssW * ratio)) c.width = Math.round(cssW * ratio);
    if (c.height !== Math.round(cssH * ratio)) c.height = Math.round(cssH * ratio);
    const ctx = c.getContext("2d");
    if (!ctx || !d) return;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, cssW, cssH);
    ctx.fillStyle = "rgba(128,128,128,0.18)";
    ctx.fillRect(0, 0, cssW, cssH);
    // Row 1: frames with annotations (label colour); row 2: tags (grey) and captions (blue).
    for (const [n, anns] of this.byFrame) {
      ctx.fillStyle = labelColor(anns[0].label);
      ctx.fillRect(this.xOf(n, cssW) - 0.5, 0, 1.5, 10);
    }
    d.frames.frame_number.forEach((n, i) => {
      if (d.frames.tags[i]) { ctx.fillStyle = "#888"; ctx.fillRect(this.xOf(n, cssW) - 0.5, 11, 1.5, 5); }
      if (d.frames.captions[i]) { ctx.fillStyle = "#3a7bd5"; ctx.fillRect(this.xOf(n, cssW) - 0.5, 16, 1.5, 5); }
    });
    // Rows 3+: time-span classifications as bars with their class name.
    const duration = this.frameCount / this.fps;
    d.spans.forEach((s, i) => {
      const y = 22 + (i % 3) * 6;
      const x0 = (s.start_s / duration) * cssW, x1 = (s.end_s / duration) * cssW;
      ctx.fillStyle = labelColor(s.label);
      ctx.fillRect(x0, y, Math.max(2, x1 - x0), 5);
    });
    const x = this.xOf(Math.max(0, this.frame), cssW);
    ctx.fillStyle = "#ff3b30";
    ctx.fillRect(x - 1, 0, 2, cssH);
    c.title = d.spans.map((s) => `${s.label}: ${s.start_s.toFixed(2)}–${s.end_s.toFixed(2)} s`).join("\n");
  }

  private bindTimeline(timeline: HTMLElement): void {
    const seekTo = (e: PointerEvent) => {
      const r = timeline.getBoundingClientRect();
      const f = r.width > 0 ? ((e.clientX - r.left) / r.width) * (this.frameCount - 1) : 0;
      this.seek(f);
    };
    timeline.addEventListener("pointerdown", (e) => {
      timeline.setPointerCapture(e.pointerId);
      seekTo(e);
      const move = (m: PointerEvent) => seekTo(m);
      const up = () => { timeline.removeEventListener("pointermove", move); timeline.removeEventListener("pointerup", up); };
      timeline.addEventListener("pointermove", move);
      timeline.addEventListener("pointerup", up);
    });
  }

  private async loadThumbnails(): Promise<void> {
    const d = this.data;
    if (!d || !d.frames.sample_id.length) return;
    const n = d.frames.sample_id.length;
    const picks = [...new Set(Array.from({ length: Math.min(THUMBNAILS, n) }, (_, k) => Math.round((k * (n - 1)) / Math.max(1, Math.min(THUMBNAILS, n) - 1))))];
    try {
      const reply = await this.o.rpc.call("thumbnails", { dataset_id: this.o.datasetId, sample_ids: picks.map((i) => d.frames.sample_id[i]) });
      if (this.disposed) return;
      clear(this.strip);
      reply.buffers.forEach((buf, k) => {
        if (!buf.byteLength) return;
        const url = URL.createObjectURL(new Blob([buf as BlobPart], { type: reply.result.mime }));
        this.thumbUrls.push(url);
        const img = h("img", { src: url, alt: "", style: "position:absolute;top:0;height:36px;pointer-events:none" });
        img.dataset.frame = String(d.frames.frame_number[picks[k]]);
        this.strip.append(img);
      });
      this.placeThumbnails();
    } catch {
      // Thumbnails are a convenience; the marks and seeking work without them.
    }
  }

  private placeThumbnails(): void {
    const w = this.strip.clientWidth || 600;
    for (const img of this.strip.querySelectorAll("img")) {
      img.style.left = `${Math.min(w - 48, this.xOf(Number(img.dataset.frame), w))}px`;
    }
  }

  // -- keys, editing, fallback ------------------------------------------------------------------

  private onKey(e: KeyboardEvent): void {
    const tag = (e.target as HTMLElement).tagName;
    if (tag === "INPUT" || tag === "SELECT") return;
    if (e.key === " ") this.togglePlay();
    else if (e.key === "ArrowLeft") this.step(e.shiftKey ? -10 : -1);
    else if (e.key === "ArrowRight") this.step(e.shiftKey ? 10 : 1);
    else return; // Escape and the rest reach the detail view
    e.preventDefault();
    e.stopPropagation();
  }

  private editFrame(): void {
    const i = this.sampleOfFrame.get(this.frame);
    if (i !== undefined && this.data && this.o.onEditFrame) this.o.onEditFrame(this.data.frames.sample_id[i]);
  }

  private useFallback(): void {
    if (this.fallback || this.disposed || !this.video.getAttribute("src")) return;
    this.fallback = true;
    const codec = this.data?.video.codec ?? "unknown codec";
    const why = this.video.error?.message || "the file cannot be decoded";
    this.say(`The browser cannot play this video (${codec}: ${why}). Showing its sampled frames, decoded on the server.`);
    this.video.style.display = "none";
    this.still.style.display = "";
    this.playButton.disabled = true;
    const target = this.frame;
    this.frame = -1;
    void this.showStill(Math.max(0, target));
  }

  private async showStill(n: number): Promise<void> {
    const d = this.data;
    if (!d || !d.frames.sample_id.length) return;
    // The sampled frame at or before n.
    let i = 0;
    d.frames.frame_number.forEach((f, k) => { if (f <= n) i = k; });
    const sampleId = d.frames.sample_id[i];
    try {
      const img = await this.o.rpc.call("image", { dataset_id: this.o.datasetId, sample_id: sampleId });
      if (this.disposed) return;
      if (this.stillUrl) URL.revokeObjectURL(this.stillUrl);
      this.stillUrl = URL.createObjectURL(new Blob([img.buffers[0] as BlobPart], { type: img.result.mime }));
      this.still.src = this.stillUrl;
      this.showFrame(d.frames.frame_number[i]);
    } catch (e) {
      this.say(`Cannot decode frame ${d.frames.frame_number[i]}: ${(e as Error).message}`);
    }
  }

  private say(text: string): void {
    this.message.textContent = text;
    this.message.style.display = "";
  }

  dispose(): void {
    this.disposed = true;
    this.resize.disconnect();
    const v = this.video as HTMLVideoElement & { cancelVideoFrameCallback?: (h: number) => void };
    if (this.callback && v.cancelVideoFrameCallback) v.cancelVideoFrameCallback(this.callback);
    this.video.pause();
    this.video.removeAttribute("src");
    this.video.load(); // drops the connection and the buffered data
    if (this.stillUrl) URL.revokeObjectURL(this.stillUrl);
    for (const u of this.thumbUrls) URL.revokeObjectURL(u);
    this.el.remove();
  }
}
