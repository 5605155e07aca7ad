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
// Seeking: a seek decodes from the key frame before the target (about a second on 1080p with
// long key-frame intervals), and a new seek cancels the running one — so holding → used to
// show nothing at all. Now the frame number ("target") advances at once; at most one seek runs
// and, when it ends, the latest target is sought next (key repeats coalesce). Meanwhile the
// server's decode of the target frame (video_poster: cached windows of frames, see
// api/video.py) is shown as a poster over the video, with that frame's overlay, until the
// video itself presents the target. When the video has a seek strip (every frame decoded at
// ingest at a small size), the poster requests are "quick": the server answers a frame it has
// not cached at poster size from the strip at once — the exact frame at low resolution — and
// decodes nothing, leaving the CPU to the browser's own seek, which then replaces it.
// The overlay always belongs to the picture on screen (el.dataset.presented, and presentedBy:
// "video", "poster" or "strip"), the label to the target.
// Holding → (key repeats) plays the video forward at about 30 frames/s instead of seeking
// frame by frame — sequential decoding keeps up where seeks cannot — and pauses on the frame
// on screen when the key is released.
//
// When the browser cannot play the file (codec, corrupt data), the player says so and shows
// the server's decode of each frame instead (the same posters), so stepping still works.

import { clear, h } from "../lib/dom";
import { labelColor } from "../lib/colors";
import { CHUNK_BYTES } from "../transport/constants";
import type { Annotation, VideoFrames } from "../transport/methods";
import type { RpcClient } from "../transport/rpc";
import { maskCanvas, overlaySvg } from "./overlays";
import { actionIn, displayKey, keysOf } from "./shortcuts";

/** "(←)" or "(. / Alt+→)": an action's keys for a button's title. */
const keys = (id: string) => `(${keysOf(id).map(displayKey).join(" / ")})`;

export interface VideoViewOptions {
  rpc: RpcClient;
  datasetId: string;
  /** The video sample. */
  sampleId: string;
  /** Open the annotator on a frame sample (the frame shown, when it is one). */
  onEditFrame?: (frameSampleId: string) => void;
  /** Switch the grid to this video's frames (the explorer's Frames collection). */
  onShowFrames?: () => void;
  /** The video file's URL (the full-page app's media route). Without one (a notebook has
   * no route next to its page) the file is loaded over the RPC channel into a Blob. */
  mediaUrl?: (sampleId: string) => string;
  /** The video's frames and frame annotations are in. */
  onLoaded?: (data: VideoFrames) => void;
  /** Frame n's picture is on screen (video, poster or strip) with these annotations. */
  onFrameShown?: (n: number, annotations: FrameAnnotation[]) => void;
}

/** A notebook loads a video whole into the browser's memory: beyond this it says so and
 * shows the server's frames instead (the full-page app streams any size). */
export const NOTEBOOK_VIDEO_MAX_BYTES = 1024 * 1024 * 1024;

export type FrameAnnotation = VideoFrames["annotations"][number];

const SPEEDS = [0.25, 0.5, 1, 1.5, 2];
const THUMBNAILS = 12;
const STRIP_HEIGHT = 36; // px, the timeline's thumbnail row
const FILL = "position:absolute;inset:0;width:100%;height:100%";

export class VideoView {
  readonly el: HTMLDivElement;
  private readonly stage: HTMLDivElement;
  private readonly video: HTMLVideoElement;
  private readonly poster: HTMLImageElement;
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
  private frame = -1; // the target: the frame the user asked for (label, timeline cursor)
  private shown = -1; // the frame whose picture is on screen (overlay)
  private videoFrame = -1; // the frame the <video> element last presented
  private seekingTo: number | null = null; // the frame of the one seek in flight
  private posterFrame = -1; // the frame the poster shows, -1 when hidden
  private posterBusy = false;
  private posterNext: number | null = null; // the latest target asked for while one was busy
  private posterUrl = "";
  private warmed = false;
  private holding = false; // → held down: playing forward until the repeats stop
  private holdTimer = 0;
  private holdKey = ""; // the key held down (its keyup ends the hold)
  private speed = 1; // the playback speed chosen in the menu
  private fallback = false;
  private blobUrl = ""; // the file loaded over RPC (notebook), revoked on dispose
  private thumbs: { frame: number; url: string }[] = []; // the timeline's, in frame order; URLs revoked on dispose
  private callback = 0;
  private disposed = false;

  constructor(private readonly o: VideoViewOptions) {
    this.video = h("video", { preload: "auto", muted: true, playsinline: true, "data-testid": "ls-video-element",
      style: `${FILL};object-fit:contain;background:#000` });
    this.video.muted = true;
    this.poster = h("img", { "data-testid": "ls-video-poster", alt: "",
      style: `${FILL};object-fit:contain;display:none;background:#000` });
    this.overlay = h("div", { style: `${FILL};pointer-events:none` });
    this.chips = h("div", { "data-testid": "ls-video-classes",
      style: "position:absolute;left:8px;top:8px;display:flex;flex-wrap:wrap;gap:4px;pointer-events:none" });
    this.stage = h("div", { style: "position:relative;flex:1;min-height:0;background:#000" },
      this.video, this.poster, this.overlay, this.chips);
    this.playButton = h("button", { "data-testid": "ls-video-play", title: `Play / pause ${keys("video.play")}`,
      onclick: () => this.togglePlay() }, "▶");
    this.frameLabel = h("span", { class: "ls-muted", "data-testid": "ls-video-frame", style: "font-variant-numeric:tabular-nums" });
    const speed = h("select", { title: "Playback speed", "data-testid": "ls-video-speed" },
      SPEEDS.map((v) => h("option", { value: String(v), selected: v === 1 }, `${v}×`)));
    speed.addEventListener("change", () => { this.speed = Number(speed.value); this.video.playbackRate = this.speed; });
    this.editButton = h("button", { "data-testid": "ls-video-edit-frame", title: `Edit this frame's labels in the annotator ${keys("video.annotate-frame")}`,
      style: "display:none", onclick: () => this.editFrame() }, "Annotate frame");
    const step = (d: number, title: string, text: string) => h("button", { title, onclick: () => this.step(d) }, text);
    const controls = h("div", { class: "ls-toolbar", style: "display:flex;flex-wrap:wrap;gap:6px;align-items:center;flex:none" },
      step(-10, `Back 10 frames ${keys("video.back-10")}`, "«"), step(-1, `Previous frame ${keys("video.previous-frame")}`, "‹"), this.playButton,
      step(1, `Next frame ${keys("video.next-frame")}`, "›"), step(10, `Forward 10 frames ${keys("video.forward-10")}`, "»"),
      this.frameLabel, h("span", { style: "flex:1" }), speed, this.editButton);
    if (o.onShowFrames) {
      const show = o.onShowFrames;
      controls.append(h("button", { "data-testid": "ls-video-show-frames", title: "Show this video's frames in the grid",
        onclick: () => show() }, "Frames of this video"));
    }
    this.strip = h("div", { "data-testid": "ls-video-strip", style: `position:relative;height:${STRIP_HEIGHT}px;overflow:hidden;background:var(--ls-bg2, #222)` });
    this.marks = h("canvas", { "data-testid": "ls-video-timeline", style: "display:block;width:100%;height:40px;cursor:pointer" });
    const timeline = h("div", { style: "flex:none;position:relative;cursor:pointer", title: "Click or drag to seek" },
      this.strip, this.marks);
    this.message = h("div", { class: "ls-error", "data-testid": "ls-video-message", style: "display:none;flex:none;padding:4px 8px" });
    this.el = h("div", { "data-testid": "ls-video", tabindex: 0,
      style: `${FILL};display:flex;flex-direction:column;outline:none` },
      this.stage, this.message, controls, timeline);

    this.el.addEventListener("keydown", (e) => this.onKey(e));
    this.el.addEventListener("keyup", (e) => { if (e.key === this.holdKey) this.releaseHold(); });
    this.bindTimeline(timeline);
    this.video.addEventListener("play", () => { this.playButton.textContent = "❚❚"; });
    this.video.addEventListener("pause", () => { this.playButton.textContent = "▶"; });
    // Without requestVideoFrameCallback (older browsers), the overlay follows seeked and timeupdate.
    const frameCallbacks = typeof (this.video as { requestVideoFrameCallback?: unknown }).requestVideoFrameCallback === "function";
    this.video.addEventListener("seeked", () => this.onSeeked(frameCallbacks));
    if (!frameCallbacks) this.video.addEventListener("timeupdate", () => this.onVideoFrame(this.frameAt(this.video.currentTime)));
    this.video.addEventListener("error", () => this.useFallback());
    this.resize = new ResizeObserver(() => { this.paintOverlay(); this.paintTimeline(); this.placeThumbnails(); });
    this.resize.observe(this.el);
    void this.load();
  }

  /** The frame number shown in the label: the frame asked for (its picture may still be coming). */
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
    this.o.onLoaded?.(data);
    this.startFrameCallbacks();
    this.setTarget(0);
    this.paintTimeline();
    void this.loadThumbnails();
    if (this.o.mediaUrl) {
      this.video.src = this.o.mediaUrl(this.o.sampleId);
      return;
    }
    // Until the file is in, the server's frames answer (quick: from the seek strip if any).
    void this.requestPoster(0);
    try {
      const blob = await this.loadOverRpc();
      if (this.disposed) return;
      if (blob === null) return; // too large: said so, and the server's frames stay
      this.blobUrl = URL.createObjectURL(blob);
      this.message.style.display = "none";
      // Seeks made while loading set no position on an element without a source: go to the
      // frame shown once the file's metadata is in.
      this.video.addEventListener("loadedmetadata", () => { if (this.frame > 0) this.startSeek(this.frame); }, { once: true });
      this.video.src = this.blobUrl;
    } catch (e) {
      if (!this.disposed) this.say(`Cannot load the video: ${(e as Error).message}`);
    }
  }

  /** The whole file in parts of CHUNK_BYTES (two requests in flight), or null when it is
   * larger than NOTEBOOK_VIDEO_MAX_BYTES; the player shows the server's frames meanwhile. */
  private async loadOverRpc(): Promise<Blob | null> {
    const part = (offset: number) => this.o.rpc.call("video_media", { dataset_id: this.o.datasetId, sample_id: this.o.sampleId, offset, length: CHUNK_BYTES });
    const first = await part(0);
    const { size, etag, mime } = first.result;
    if (size > NOTEBOOK_VIDEO_MAX_BYTES) {
      this.fallback = true;
      this.video.style.display = "none";
      this.playButton.disabled = true;
      this.say(`This video (${(size / 2 ** 30).toFixed(1)} GB) is too large to load into the notebook: showing its frames decoded on the server; playing is not available. ls.start_gui() plays it in the full app.`);
      this.seek(Math.max(0, this.frame));
      return null;
    }
    const parts: BlobPart[] = [first.buffers[0] as BlobPart];
    const offsets: number[] = [];
    for (let o = CHUNK_BYTES; o < size; o += CHUNK_BYTES) offsets.push(o);
    for (let i = 0; i < offsets.length && !this.disposed; i += 2) {
      if (offsets.length > 2) this.say(`Loading the video into the notebook… ${Math.round((offsets[i] / size) * 100)} %`);
      const replies = await Promise.all(offsets.slice(i, i + 2).map(part));
      for (const r of replies) {
        if (r.result.etag !== etag) throw new Error("the file changed while it was loaded; open it again");
        parts.push(r.buffers[0] as BlobPart);
      }
    }
    return new Blob(parts, { type: mime });
  }

  // -- frames and time -------------------------------------------------------------------------

  private timeOf(n: number): number {
    const i = this.sampleOfFrame.get(n);
    return i !== undefined && this.data ? this.data.frames.timestamp_s[i] : n / this.fps;
  }

  private frameAt(t: number): number {
    return Math.max(0, Math.min(this.frameCount - 1, Math.floor(t * this.fps + 1e-3)));
  }

  /** Show frame n: the label at once, then the server's poster and the video's own frame. */
  seek(n: number): void {
    n = Math.max(0, Math.min(this.frameCount - 1, Math.round(n)));
    if (!this.fallback && !this.video.paused) this.video.pause();
    this.setTarget(n);
    if (this.fallback) {
      void this.requestPoster(n);
      return;
    }
    if (this.videoFrame === n && this.seekingTo === null) {
      this.hidePoster();
      this.present(n, "video");
      return;
    }
    if (this.seekingTo === null) this.startSeek(n);
    void this.requestPoster(n);
  }

  step(delta: number): void {
    this.seek(this.frame + delta);
  }

  /** Seek to the next frame after the one asked for (wrapping around) with an annotation of
   * this class; false when no frame has one. */
  seekToNextWith(label: string): boolean {
    let first = -1, next = -1;
    for (const [n, anns] of this.byFrame) {
      if (!anns.some((a) => a.label === label)) continue;
      if (first < 0 || n < first) first = n;
      if (n > this.frame && (next < 0 || n < next)) next = n;
    }
    const target = next >= 0 ? next : first;
    if (target < 0) return false;
    this.seek(target);
    this.el.focus();
    return true;
  }

  private startSeek(n: number): void {
    // Before the metadata, currentTime only sets where loading starts and no seeked follows.
    if (this.video.readyState >= 1) this.seekingTo = n;
    this.video.currentTime = this.timeOf(n) + 0.5 / this.fps;
  }

  private onSeeked(frameCallbacks: boolean): void {
    const done = this.seekingTo;
    this.seekingTo = null;
    if (!frameCallbacks) this.onVideoFrame(this.frameAt(this.video.currentTime));
    // Keys pressed during the seek moved the target on: seek to the latest one only.
    if (this.video.paused && done !== null && done !== this.frame) this.startSeek(this.frame);
  }

  /** The <video> element composited frame n. */
  private onVideoFrame(n: number): void {
    this.videoFrame = n;
    this.el.dataset.videoFrame = String(n);
    if (!this.warmed) {
      // Once the video shows its first frame, let the server decode the first window of
      // posters, so the first steps are answered from its cache.
      this.warmed = true;
      // (Quick: with a seek strip there is nothing to decode ahead.)
      void this.o.rpc.call("video_poster", { dataset_id: this.o.datasetId, sample_id: this.o.sampleId, frame_number: 0, quick: true }).catch(() => undefined);
    }
    if (!this.video.paused) {
      this.hidePoster();
      this.setTarget(n);
      this.present(n, "video");
    } else if (n === this.frame || this.posterFrame < 0) {
      // The target itself, or (mid-queue) an older frame while no poster covers the video.
      this.hidePoster();
      // With no seek running the video moved by itself (the last frame after a pause): the
      // label follows the picture.
      if (this.seekingTo === null) this.setTarget(n);
      this.present(n, "video");
    }
  }

  /** A repeat of →: play forward while the repeats come (sequential decoding keeps up). */
  private holdForward(): void {
    clearTimeout(this.holdTimer);
    // Auto-repeat sends about 30 keys/s; without one for 200 ms the key is up.
    this.holdTimer = window.setTimeout(() => this.releaseHold(), 200);
    if (this.holding) return;
    this.holding = true;
    this.posterNext = null;
    this.video.playbackRate = Math.min(2, 30 / this.fps); // one frame per key repeat
    void this.video.play().catch(() => { this.holding = false; });
  }

  private releaseHold(): void {
    if (!this.holding) return;
    this.holding = false;
    clearTimeout(this.holdTimer);
    this.video.pause();
    this.video.playbackRate = this.speed;
    // Stay on the frame on screen; a frame presented after the pause moves the label along.
    if (this.videoFrame >= 0) this.setTarget(this.videoFrame);
  }

  /** Ask the server for frame n's picture; one request at a time, the latest target next. */
  private async requestPoster(n: number): Promise<void> {
    if (this.posterBusy) {
      this.posterNext = n;
      return;
    }
    this.posterBusy = true;
    this.posterNext = null;
    try {
      // Quick (a seek strip's low-resolution frame is fine) unless the poster is all there
      // is: a browser that cannot play the file shows the server's frames only.
      const reply = await this.o.rpc.call("video_poster", { dataset_id: this.o.datasetId, sample_id: this.o.sampleId, frame_number: n, quick: !this.fallback });
      if (this.disposed) return;
      const url = URL.createObjectURL(new Blob([reply.buffers[0] as BlobPart], { type: reply.result.mime }));
      const decoded = new Image();
      decoded.src = url;
      await decoded.decode();
      const videoHasIt = !this.fallback && this.videoFrame === this.frame && this.seekingTo === null;
      if (this.disposed || videoHasIt || (!this.fallback && !this.video.paused)) {
        URL.revokeObjectURL(url);
        return;
      }
      this.poster.src = url;
      if (this.posterUrl) URL.revokeObjectURL(this.posterUrl);
      this.posterUrl = url;
      this.poster.style.display = "";
      this.posterFrame = n;
      this.present(n, reply.result.low_res ? "strip" : "poster");
    } catch (e) {
      // Normally the video's own seek still comes; without it (fallback) say why.
      if (this.fallback && !this.disposed) this.say(`Cannot decode frame ${n} on the server either: ${(e as Error).message}`);
    } finally {
      this.posterBusy = false;
      const next = this.posterNext;
      this.posterNext = null;
      if (next !== null && next !== this.posterFrame && !this.disposed) void this.requestPoster(next);
    }
  }

  private hidePoster(): void {
    if (this.posterFrame < 0 || this.fallback) return;
    this.posterFrame = -1;
    this.poster.style.display = "none";
  }

  togglePlay(): void {
    if (this.fallback) return;
    this.posterNext = null;
    if (this.video.paused) void this.video.play().catch((e) => this.say(`Cannot play: ${(e as Error).message}`));
    else this.video.pause();
  }

  private startFrameCallbacks(): void {
    const v = this.video as HTMLVideoElement & { requestVideoFrameCallback?: (cb: (now: number, meta: { mediaTime: number }) => void) => number };
    if (!v.requestVideoFrameCallback) return;
    const tick = (_now: number, meta: { mediaTime: number }) => {
      if (this.disposed) return;
      this.onVideoFrame(this.frameAt(meta.mediaTime));
      this.callback = v.requestVideoFrameCallback!(tick);
    };
    this.callback = v.requestVideoFrameCallback(tick);
  }

  /** The frame asked for: label, timeline cursor, "Annotate frame". */
  private setTarget(n: number): void {
    if (n === this.frame) return;
    this.frame = n;
    const t = this.timeOf(n);
    this.frameLabel.textContent = `Frame ${n} / ${this.frameCount - 1} · ${t.toFixed(3)} s`;
    this.el.dataset.frame = String(n);
    const sample = this.sampleOfFrame.get(n);
    this.editButton.style.display = sample !== undefined && this.o.onEditFrame ? "" : "none";
    this.paintTimeline();
  }

  /** Frame n's picture is on screen (from the video or a poster): draw its overlay. */
  private present(n: number, by: "video" | "poster" | "strip"): void {
    this.el.dataset.presented = String(n); // tests and benchmarks wait on these
    this.el.dataset.presentedBy = by;
    if (n === this.shown) return;
    this.shown = n;
    this.paintOverlay();
    this.o.onFrameShown?.(n, this.byFrame.get(n) ?? []);
  }

  // -- overlays --------------------------------------------------------------------------------

  private paintOverlay(): void {
    clear(this.overlay);
    clear(this.chips);
    const d = this.data;
    if (!d || this.shown < 0) return;
    const w = d.video.width, hgt = d.video.height;
    // A track gets its own colour and its id next to the class name.
    const anns: Annotation[] = (this.byFrame.get(this.shown) ?? []).map((a) =>
      a.track_id !== undefined && a.track_id !== null ? { ...a, label: `${a.label} #${a.track_id}` } : a);
    const opts = { boxes: true, masks: true, labels: true, displayWidth: this.stage.clientWidth || 600,
      displayHeight: this.stage.clientHeight || 400, maskResolution: 1024 };
    const mask = maskCanvas(w, hgt, anns, opts);
    if (mask) { mask.setAttribute("style", `${FILL};object-fit:contain`); this.overlay.append(mask); }
    const svg = overlaySvg(w, hgt, anns, opts);
    if (svg) { svg.setAttribute("style", FILL); svg.setAttribute("data-testid", "ls-video-overlay"); this.overlay.append(svg); }
    const t = this.timeOf(this.shown);
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

  /** The frame (fractional) at ``x`` px along a timeline ``width`` px wide: xOf's inverse. */
  private frameAtX(x: number, width: number): number {
    return width > 0 ? (Math.min(Math.max(x, 0), width) / width) * (this.frameCount - 1) : 0;
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
      this.seek(this.frameAtX(e.clientX - r.left, r.width));
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
      reply.buffers.forEach((buf, k) => {
        if (!buf.byteLength) return;
        const url = URL.createObjectURL(new Blob([buf as BlobPart], { type: reply.result.mime }));
        this.thumbs.push({ frame: d.frames.frame_number[picks[k]], url });
      });
      this.placeThumbnails();
    } catch {
      // Thumbnails are a convenience; the marks and seeking work without them.
    }
  }

  /** A film strip: the strip's width in tiles of the video's aspect, edge to edge, each
   * showing the fetched thumbnail nearest to the time under its middle (a wide strip repeats
   * them rather than leaving gaps). Laid out again when the strip's width changes. */
  private placeThumbnails(): void {
    const d = this.data;
    if (!d || !this.thumbs.length) return;
    const w = this.strip.clientWidth || 600;
    const aspect = d.video.width && d.video.height ? Number(d.video.width) / Number(d.video.height) : 16 / 9;
    const tile = Math.min(96, Math.max(24, Math.round(STRIP_HEIGHT * aspect)));
    const tiles = Math.max(1, Math.ceil(w / tile));
    clear(this.strip);
    for (let k = 0; k < tiles; k++) {
      const at = this.frameAtX((k + 0.5) * tile, w);
      let best = this.thumbs[0];
      for (const t of this.thumbs) if (Math.abs(t.frame - at) < Math.abs(best.frame - at)) best = t;
      const img = h("img", { src: best.url, alt: "",
        style: `position:absolute;top:0;left:${k * tile}px;width:${tile}px;height:${STRIP_HEIGHT}px;object-fit:cover;pointer-events:none;border-right:1px solid #000;box-sizing:border-box` });
      img.dataset.frame = String(best.frame);
      this.strip.append(img);
    }
  }

  // -- keys, editing, fallback ------------------------------------------------------------------

  private onKey(e: KeyboardEvent): void {
    const tag = (e.target as HTMLElement).tagName;
    if (tag === "INPUT" || tag === "SELECT") return;
    const action = actionIn("video", e);
    if (action === "video.play") this.togglePlay();
    else if (action === "video.previous-frame") this.step(-1);
    else if (action === "video.back-10") this.step(-10);
    else if (action === "video.forward-10") this.step(10);
    else if (action === "video.next-frame" && e.repeat && !this.fallback) { this.holdKey = e.key; this.holdForward(); }
    else if (action === "video.next-frame") this.step(1);
    else if (action === "video.annotate-frame") this.editFrame();
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
    this.say(`The browser cannot play this video (${codec}: ${why}). Showing its frames decoded on the server; playing is not available.`);
    this.video.style.display = "none";
    this.playButton.disabled = true;
    this.seekingTo = null;
    const target = Math.max(0, this.frame);
    this.frame = -1;
    this.seek(target);
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
    if (this.posterUrl) URL.revokeObjectURL(this.posterUrl);
    if (this.blobUrl) URL.revokeObjectURL(this.blobUrl);
    for (const t of this.thumbs) URL.revokeObjectURL(t.url);
    this.el.remove();
  }
}
