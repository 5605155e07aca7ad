// Where the grid's rows and thumbnails come from: pages of a query (by offset), thumbnails
// in batches, both cached; requests for pages scrolled past are cancelled.

import type { RpcClient } from "../transport/rpc";
import type { Row, Spec } from "../transport/methods";
import { pagesFor } from "../lib/virtual";

export type { Annotation, Row, Spec } from "../transport/methods";

export const PAGE_SIZE = 120;
const THUMB_BATCH = 48;
const THUMB_MIN_BATCH = 8;
const THUMB_SLOTS = 2; // calls in flight: the server's thumbnail pool has two threads
const THUMB_CACHE = 4000;

export class SampleSource {
  count = -1;
  error: string | null = null;
  private spec: Spec = {};
  private generation = 0;
  // Counts are stale only when the spec changes (refreshRows keeps the count it is waiting for).
  private specGeneration = 0;
  private readonly pages = new Map<number, Row[]>();
  // Pages from before refreshRows(), shown until their reload arrives: a refresh (every tag
  // edit, and the server's data_changed a poll later) must not leave the grid without rows
  // meanwhile, or a click or Ctrl+A in that window finds no row and does nothing.
  private readonly stale = new Map<number, Row[]>();
  private readonly loading = new Map<number, AbortController>();
  private readonly thumbs = new Map<string, string>(); // id -> object URL ("" = failed)
  private readonly thumbErrors = new Map<string, string>();
  private readonly thumbQueue = new Set<string>();
  private readonly thumbPending = new Set<string>();
  private thumbTimer: ReturnType<typeof setTimeout> | null = null;
  private thumbInFlight = 0;
  private readonly listeners = new Set<() => void>();
  firstThumbnailsAt: number | null = null;
  /** How many cells the grid shows at the top (the explorer hands in the grid's answer): the
   * first page of a new query brings their thumbnails along, so the first screen takes one
   * call instead of a page and then thumbnail calls. */
  firstScreen: () => number = () => 0;

  constructor(private readonly rpc: RpcClient, readonly datasetId: string) {}

  onChange(cb: () => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  private emit(): void {
    for (const cb of this.listeners) cb();
  }

  get currentSpec(): Spec {
    return this.spec;
  }

  /** Switch to another query; rows are refetched, thumbnails stay cached (keyed by id). */
  async setSpec(spec: Spec): Promise<void> {
    this.spec = spec;
    ++this.generation;
    const gen = ++this.specGeneration;
    for (const ctl of this.loading.values()) ctl.abort();
    this.loading.clear();
    this.pages.clear();
    this.stale.clear(); // another query: its rows are not these
    this.count = -1;
    this.error = null;
    this.emit();
    // The first page does not need the count: ask for both at once, so first paint waits for
    // the slower of the two rather than their sum.
    this.loadPage(0, this.firstScreen());
    try {
      const { result } = await this.rpc.call("count", { spec });
      if (gen !== this.specGeneration) return;
      this.count = result.count;
    } catch (e) {
      if (gen !== this.specGeneration) return;
      this.error = (e as Error).message;
      this.count = 0;
    }
    this.emit();
  }

  /** Reload rows (e.g. after tags changed) without forgetting the count. */
  refreshRows(): void {
    this.generation++;
    for (const ctl of this.loading.values()) ctl.abort();
    this.loading.clear();
    for (const [page, rows] of this.pages) this.stale.set(page, rows);
    this.pages.clear();
    this.emit();
  }

  row(index: number): Row | undefined {
    const page = Math.floor(index / PAGE_SIZE);
    return (this.pages.get(page) ?? this.stale.get(page))?.[index % PAGE_SIZE];
  }

  /** Make sure rows [start, end) are loaded or loading; cancel pages far outside. */
  ensure(start: number, end: number): void {
    if (this.count <= 0) return;
    const wanted = new Set(pagesFor(start, Math.min(end, this.count), PAGE_SIZE));
    for (const [page, ctl] of this.loading) {
      if (!wanted.has(page)) {
        ctl.abort();
        this.loading.delete(page);
      }
    }
    for (const page of wanted) {
      if (this.pages.has(page) || this.loading.has(page)) continue;
      this.loadPage(page);
    }
    // A stale page scrolled away is loaded afresh when it comes back.
    for (const page of this.stale.keys()) if (!wanted.has(page)) this.stale.delete(page);
    // Keep memory bounded on long scrolls.
    if (this.pages.size > 60) {
      const keep = new Set(wanted);
      for (const p of this.pages.keys()) if (!keep.has(p) && this.pages.size > 40) this.pages.delete(p);
    }
  }

  private async loadPage(page: number, thumbnails = 0): Promise<void> {
    const ctl = new AbortController();
    this.loading.set(page, ctl);
    const gen = this.generation;
    try {
      const { result, buffers } = await this.rpc.call(
        "samples_page",
        { spec: this.spec, offset: page * PAGE_SIZE, limit: PAGE_SIZE, ...(thumbnails > 0 ? { thumbnails } : {}) },
        { signal: ctl.signal },
      );
      if (gen !== this.generation) return;
      // Thumbnails first, so the grid's paint of these rows finds them and asks for no more.
      if (result.thumbnail_errors) {
        const ids = result.rows.slice(0, result.thumbnail_errors.length).map((r) => r.sample_id);
        this.storeThumbs(ids, result.thumbnail_errors, buffers, result.mime ?? "image/jpeg");
      }
      this.pages.set(page, result.rows);
      this.stale.delete(page);
      this.emit();
    } catch (e) {
      if ((e as Error).name === "AbortError" || gen !== this.generation) return;
      this.error = (e as Error).message;
      this.emit();
    } finally {
      if (this.loading.get(page) === ctl) this.loading.delete(page);
    }
  }

  /** Nothing is loading: no page, no thumbnail in flight or queued, and the count is known. */
  get idle(): boolean {
    return this.count >= 0 && this.loading.size === 0 && this.thumbInFlight === 0 && this.thumbQueue.size === 0;
  }

  /** Object URL of a thumbnail; undefined while loading, "" when the file failed. */
  thumbnail(id: string): string | undefined {
    const url = this.thumbs.get(id);
    if (url !== undefined) {
      // LRU touch
      this.thumbs.delete(id);
      this.thumbs.set(id, url);
      return url;
    }
    if (!this.thumbPending.has(id)) this.thumbQueue.add(id);
    this.scheduleThumbs();
    return undefined;
  }

  thumbnailError(id: string): string | undefined {
    return this.thumbErrors.get(id);
  }

  /** Forget queued thumbnails no longer visible (the grid calls this with what is visible). */
  retainQueued(visible: Set<string>): void {
    for (const id of this.thumbQueue) if (!visible.has(id)) this.thumbQueue.delete(id);
  }

  private scheduleThumbs(): void {
    if (this.thumbTimer !== null) return;
    this.thumbTimer = setTimeout(() => {
      this.thumbTimer = null;
      this.flushThumbs();
    }, 0);
  }

  private flushThumbs(): void {
    // Two calls in flight keep the kernel busy without queueing work for cells scrolled away.
    while (this.thumbQueue.size && this.thumbInFlight < THUMB_SLOTS) {
      // Split what is queued over the free slots: the server decodes each call on its own
      // thread, so the first screen's ~40 thumbnails come back in two halves in parallel
      // instead of one call decoding all of them in turn.
      const free = THUMB_SLOTS - this.thumbInFlight;
      const size = Math.min(THUMB_BATCH, Math.max(THUMB_MIN_BATCH, Math.ceil(this.thumbQueue.size / free)));
      const ids = [...this.thumbQueue].slice(0, size);
      for (const id of ids) {
        this.thumbQueue.delete(id);
        this.thumbPending.add(id);
      }
      this.thumbInFlight++;
      this.rpc
        .call("thumbnails", {
          dataset_id: this.datasetId,
          sample_ids: ids,
        })
        .then(({ result, buffers }) => this.storeThumbs(result.sample_ids, result.errors, buffers, result.mime))
        .catch((e: Error) => {
          for (const id of ids) {
            this.thumbs.set(id, "");
            this.thumbErrors.set(id, e.message);
          }
        })
        .finally(() => {
          for (const id of ids) this.thumbPending.delete(id);
          this.thumbInFlight--;
          this.emit();
          this.flushThumbs();
        });
    }
  }

  /** Keep thumbnails as object URLs (buffers[i] is ids[i]'s; failed ones as ""). */
  private storeThumbs(ids: string[], errors: (string | null)[], buffers: Uint8Array[], mime: string): void {
    ids.forEach((id, i) => {
      const buf = buffers[i];
      const err = errors[i];
      if (this.thumbs.get(id)) return; // cells may show this URL: keep it
      if (err || !buf || buf.byteLength === 0) {
        this.thumbs.set(id, "");
        this.thumbErrors.set(id, err ?? "empty thumbnail");
      } else {
        this.thumbs.set(id, URL.createObjectURL(new Blob([buf as BlobPart], { type: mime })));
      }
    });
    if (this.firstThumbnailsAt === null && ids.length) this.firstThumbnailsAt = performance.now();
    this.evictThumbs();
  }

  private evictThumbs(): void {
    while (this.thumbs.size > THUMB_CACHE) {
      const [id, url] = this.thumbs.entries().next().value as [string, string];
      if (url) URL.revokeObjectURL(url);
      this.thumbs.delete(id);
    }
  }

  dispose(): void {
    for (const ctl of this.loading.values()) ctl.abort();
    for (const url of this.thumbs.values()) if (url) URL.revokeObjectURL(url);
    this.thumbs.clear();
    this.listeners.clear();
  }
}
