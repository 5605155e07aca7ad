import { describe, expect, it } from "vitest";
import { luminance } from "../src/host/theme";

describe("host theme", () => {
  it("reads the luminance of computed background colours", () => {
    expect(luminance("rgb(255, 255, 255)")).toBeCloseTo(1);
    expect(luminance("rgb(24, 28, 26)")).toBeLessThan(0.2); // marimo's dark background
    expect(luminance("rgba(30, 30, 30, 1)")).toBeLessThan(0.5);
  });

  it("skips transparent backgrounds so the search goes on to the parent", () => {
    expect(luminance("rgba(0, 0, 0, 0)")).toBeNull();
    expect(luminance("transparent")).toBeNull();
  });
});
