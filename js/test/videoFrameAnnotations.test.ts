import { describe, expect, it } from "vitest";
import { countByLabel } from "../src/views/videoFrameAnnotations";

const ann = (label: string, frame_number: number) => ({
  annotation_id: `${label}-${frame_number}`, label, frame_number, type: "classification",
  source: "ground_truth", confidence: null, box: null,
}) as unknown as Parameters<typeof countByLabel>[0][number];

describe("countByLabel", () => {
  it("counts annotations and distinct frames per class, most annotations first", () => {
    const counts = countByLabel([ann("car", 1), ann("car", 1), ann("car", 4), ann("dog", 2), ann("bus", 9)]);
    expect(counts).toEqual([
      { label: "car", annotations: 3, frames: 2 },
      { label: "bus", annotations: 1, frames: 1 },
      { label: "dog", annotations: 1, frames: 1 },
    ]);
  });

  it("is empty for a video with no frame annotations", () => {
    expect(countByLabel([])).toEqual([]);
  });
});
