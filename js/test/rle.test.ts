import { describe, expect, it } from "vitest";
import { decodeRle, maskBounds, paintMask, paintMaskOutlined, scaleMask } from "../src/lib/rle";

describe("row-wise RLE", () => {
  it("decodes alternating runs starting with background, row-major", () => {
    // 4x3 image, foreground = row 1 columns 1..2 -> flat indices 5, 6.
    const mask = decodeRle([5, 2, 5], 4, 3);
    expect(Array.from(mask)).toEqual([0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0]);
    expect(maskBounds(mask, 4, 3)).toEqual([1, 1, 2, 1]);
  });

  it("handles a mask starting with foreground (zero-length background run)", () => {
    expect(Array.from(decodeRle([0, 3, 1], 2, 2))).toEqual([1, 1, 1, 0]);
  });

  it("ignores runs that would overflow the image instead of writing past it", () => {
    expect(Array.from(decodeRle([1, 100], 2, 2))).toEqual([0, 1, 1, 1]);
  });

  it("has no bounds when empty", () => {
    expect(maskBounds(decodeRle([4], 2, 2), 2, 2)).toBeNull();
  });

  it("downscales with nearest sampling", () => {
    // 4x4 with the left half set -> 2x2 with the left column set.
    const m = decodeRle([0, 2, 2, 2, 2, 2, 2, 2, 2], 4, 4);
    expect(Array.from(scaleMask(m, 4, 4, 2, 2))).toEqual([1, 0, 1, 0]);
  });

  it("paints foreground pixels only", () => {
    const rgba = new Uint8ClampedArray(2 * 4);
    paintMask(rgba, Uint8Array.from([0, 1]), [10, 20, 30], 99);
    expect(Array.from(rgba)).toEqual([0, 0, 0, 0, 10, 20, 30, 99]);
  });
});

describe("paintMaskOutlined", () => {
  it("draws a strong outline and a faint inside, never the pixels outside", () => {
    // 5x5 image, a 3x3 square in the middle: 8 outline pixels, 1 inside pixel.
    const mask = new Uint8Array(25);
    for (let y = 1; y <= 3; y++) for (let x = 1; x <= 3; x++) mask[y * 5 + x] = 1;
    const rgba = new Uint8ClampedArray(25 * 4);
    paintMaskOutlined(rgba, mask, 5, 5, [10, 20, 30], 40, 220);
    const alpha = (x: number, y: number) => rgba[(y * 5 + x) * 4 + 3];
    expect(alpha(2, 2)).toBe(40);
    for (const [x, y] of [[1, 1], [2, 1], [3, 1], [1, 2], [3, 2], [1, 3], [2, 3], [3, 3]]) expect(alpha(x, y)).toBe(220);
    expect(alpha(0, 0)).toBe(0);
    expect(alpha(4, 2)).toBe(0);
    expect([...rgba.slice((2 * 5 + 2) * 4, (2 * 5 + 2) * 4 + 3)]).toEqual([10, 20, 30]);
  });
});
