// The distribution panel's spec edits: a brush snaps to whole bins (integer fields end below
// the next edge), ranges and values go to the keys the filter panel uses, toggles undo.
import { describe, expect, it } from "vitest";
import { binRange, rangeOf, toggleLabel, toggleMissing, toggleValue, withRange } from "../src/views/distributions";

describe("binRange", () => {
  const edges = [100, 200, 300, 400, 500];
  it("covers the brushed bins, in either drag direction", () => {
    expect(binRange(edges, 0, 2)).toEqual([100, 400]);
    expect(binRange(edges, 2, 0)).toEqual([100, 400]);
  });
  it("ends integer ranges below the next bin's edge, except the last bin", () => {
    expect(binRange(edges, 0, 2, true)).toEqual([100, 399]);
    expect(binRange(edges, 1, 3, true)).toEqual([200, 500]);
    expect(binRange([0, 2.5, 5], 0, 0, true)).toEqual([0, 2]);
    expect(binRange([0, 2.5, 5], 1, 1, true)).toEqual([3, 5]);
  });
});

describe("spec edits", () => {
  it("sets and clears a width range and a metadata range, keeping other filters", () => {
    const spec = { dataset_id: "d", metadata: { city: { values: ["oslo"] } } };
    const ranged = withRange(withRange(spec, "width", [1, 2]), "metadata:score", [0.5, 1]);
    expect(ranged).toEqual({ dataset_id: "d", width: [1, 2], metadata: { city: { values: ["oslo"] }, score: { range: [0.5, 1] } } });
    expect(rangeOf(ranged, "metadata:score")).toEqual([0.5, 1]);
    expect(withRange(withRange(ranged, "width", null), "metadata:score", null)).toEqual(spec);
  });
  it("toggles a value and a label on and off", () => {
    const on = toggleValue({}, "flag", true);
    expect(on).toEqual({ metadata: { flag: { values: [true] } } });
    expect(toggleValue(on, "flag", true)).toEqual({});
    const labelled = toggleLabel({ exclude_labels: ["cat"] }, "cat");
    expect(labelled).toEqual({ labels: ["cat"] }); // no longer excluded
    expect(toggleLabel(labelled, "cat")).toEqual({});
  });
  it("toggles a key's missing filter beside its values", () => {
    const missing = toggleMissing({ metadata: { city: { values: ["oslo"] } } }, "city");
    expect(missing).toEqual({ metadata: { city: { values: ["oslo"], missing: true } } });
    expect(toggleValue(missing, "city", "oslo")).toEqual({ metadata: { city: { missing: true } } });
    expect(toggleMissing(toggleMissing({}, "city"), "city")).toEqual({});
  });
});
