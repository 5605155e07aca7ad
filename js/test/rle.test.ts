import { describe, expect, it } from "vitest";
import { decodeRle, maskBounds, paintMask, scaleMask } from "../src/lib/rle";

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
