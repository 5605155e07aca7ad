import { describe, expect, it } from "vitest";
import { cellColor } from "../src/views/evaluation";

describe("confusion matrix cell colour", () => {
  it("is empty for zero, green on the diagonal, red off it", () => {
    expect(cellColor(0, 10, true)).toBe("transparent");
    expect(cellColor(3, 10, true)).toMatch(/^rgba\(34,197,94,/);
    expect(cellColor(3, 10, false)).toMatch(/^rgba\(239,68,68,/);
  });
  it("grows on a log scale up to full intensity at the maximum", () => {
    const alpha = (c: string) => Number(c.slice(c.lastIndexOf(",") + 1, -1));
    expect(alpha(cellColor(394, 394, true))).toBeCloseTo(1);
    expect(alpha(cellColor(1, 394, true))).toBeLessThan(alpha(cellColor(20, 394, true)));
    expect(alpha(cellColor(20, 394, true))).toBeGreaterThan(20 / 394); // log, not linear
  });
});
