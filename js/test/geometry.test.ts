import { describe, expect, it } from "vitest";
import { fitContain, histogramBars, imageToBox, normalizePoints, pointInPolygon } from "../src/lib/geometry";
import { hashString, labelColor } from "../src/lib/colors";

describe("geometry", () => {
  it("fits a wide image into a square box, centred vertically", () => {
    const f = fitContain(400, 200, 100, 100);
    expect(f).toEqual({ x: 0, y: 25, width: 100, height: 50, scale: 0.25 });
    expect(imageToBox({ x: 40, y: 20, width: 80, height: 40 }, f)).toEqual({ x: 10, y: 30, width: 20, height: 10 });
  });

  it("tests points against a polygon", () => {
    const square = [0, 0, 10, 0, 10, 10, 0, 10];
    expect(pointInPolygon(5, 5, square)).toBe(true);
    expect(pointInPolygon(15, 5, square)).toBe(false);
  });

  it("normalises plot coordinates into [-1, 1]", () => {
    const { points } = normalizePoints(Float32Array.from([0, 10, 5, 20, 10, 30]));
    expect(Array.from(points)).toEqual([-1, -1, 0, 0, 1, 1]);
    expect(Array.from(normalizePoints(Float32Array.from([3, 3, 3, 3])).points)).toEqual([0, 0, 0, 0]);
  });

  it("scales histogram bars, keeping non-zero bins visible", () => {
    expect(histogramBars([0, 1, 100], 20)).toEqual([0, 1, 20]);
  });

  it("gives a label the same colour every time", () => {
    expect(labelColor("person")).toBe(labelColor("person"));
    expect(hashString("a")).not.toBe(hashString("b"));
  });
});
