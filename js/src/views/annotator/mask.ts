// A binary mask the brush and eraser paint into, at the image's native resolution, and its
// row-wise RLE (lightly_studio.core.rle: runs alternate background/foreground, starting with
// background, row-major over the whole image).

export interface Dirty {
  x0: number;
  y0: number;
  x1: number; // exclusive
  y1: number; // exclusive
}

export class MaskBitmap {
  readonly data: Uint8Array;

  constructor(readonly width: number, readonly height: number, data?: Uint8Array) {
    this.data = data ?? new Uint8Array(width * height);
  }

  static fromRle(counts: ArrayLike<number>, width: number, height: number): MaskBitmap {
    const m = new MaskBitmap(width, height);
    let at = 0;
    const n = width * height;
    for (let i = 0; i < counts.length && at < n; i++) {
      const run = Math.min(counts[i], n - at);
      if (i % 2 === 1) m.data.fill(1, at, at + run);
      at += run;
    }
    return m;
  }

  clone(): MaskBitmap {
    return new MaskBitmap(this.width, this.height, this.data.slice());
  }

  /**
   * Paint (value 1, brush) or erase (value 0) every pixel whose centre lies within `radius`
   * of the segment (x0, y0)-(x1, y1): a stroke is the union of its segments' capsules, so
   * the result does not depend on how many mouse events a drag produced.
   */
  stroke(x0: number, y0: number, x1: number, y1: number, radius: number, value: 0 | 1): Dirty | null {
    const r = Math.max(0.5, radius);
    const bx0 = Math.max(0, Math.floor(Math.min(x0, x1) - r));
    const by0 = Math.max(0, Math.floor(Math.min(y0, y1) - r));
    const bx1 = Math.min(this.width, Math.ceil(Math.max(x0, x1) + r) + 1);
    const by1 = Math.min(this.height, Math.ceil(Math.max(y0, y1) + r) + 1);
    if (bx0 >= bx1 || by0 >= by1) return null;
    const dx = x1 - x0, dy = y1 - y0;
    const len2 = dx * dx + dy * dy;
    const r2 = r * r;
    for (let py = by0; py < by1; py++) {
      const cy = py + 0.5;
      const row = py * this.width;
      for (let px = bx0; px < bx1; px++) {
        const cx = px + 0.5;
        let t = len2 > 0 ? ((cx - x0) * dx + (cy - y0) * dy) / len2 : 0;
        t = t < 0 ? 0 : t > 1 ? 1 : t;
        const ex = x0 + t * dx - cx, ey = y0 + t * dy - cy;
        if (ex * ex + ey * ey <= r2) this.data[row + px] = value;
      }
    }
    return { x0: bx0, y0: by0, x1: bx1, y1: by1 };
  }

  count(): number {
    let n = 0;
    for (let i = 0; i < this.data.length; i++) n += this.data[i];
    return n;
  }

  toRle(): number[] {
    return encodeRle(this.data);
  }

  /** Tight [x, y, w, h] of the foreground, or null when empty. */
  bounds(): [number, number, number, number] | null {
    let x0 = this.width, y0 = this.height, x1 = -1, y1 = -1;
    for (let y = 0; y < this.height; y++) {
      const row = y * this.width;
      for (let x = 0; x < this.width; x++) {
        if (this.data[row + x]) {
          if (x < x0) x0 = x;
          if (x > x1) x1 = x;
          if (y < y0) y0 = y;
          y1 = y;
        }
      }
    }
    return x1 < 0 ? null : [x0, y0, x1 - x0 + 1, y1 - y0 + 1];
  }
}

/** Row-wise RLE of a flat 0/1 mask, starting with a (possibly empty) background run. */
export function encodeRle(flat: ArrayLike<number>): number[] {
  const runs: number[] = [];
  let current = 0;
  let run = 0;
  for (let i = 0; i < flat.length; i++) {
    const v = flat[i] ? 1 : 0;
    if (v === current) run++;
    else {
      runs.push(run);
      current = v;
      run = 1;
    }
  }
  runs.push(run);
  return runs;
}

/** Union of two dirty rectangles (either may be null). */
export function unionDirty(a: Dirty | null, b: Dirty | null): Dirty | null {
  if (!a) return b;
  if (!b) return a;
  return { x0: Math.min(a.x0, b.x0), y0: Math.min(a.y0, b.y0), x1: Math.max(a.x1, b.x1), y1: Math.max(a.y1, b.y1) };
}
