import { describe, expect, it } from "vitest";
import { joinParts, splitBuffers } from "../src/transport/chunking";

const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 255);

describe("chunking", () => {
  it("splits buffers into parts no larger than the limit and joins them back", () => {
    const bufs = [bytes(10, 1), bytes(0, 2), bytes(25, 3), bytes(7, 4)];
    const parts = splitBuffers(bufs, 8);
    expect(parts.every((p) => p.byteLength <= 8)).toBe(true);
    expect(parts.reduce((n, p) => n + p.byteLength, 0)).toBe(42);
    const back = joinParts(parts, bufs.map((b) => b.byteLength));
    expect(back.map((b) => Array.from(b))).toEqual(bufs.map((b) => Array.from(b)));
  });

  it("rejects parts that do not add up", () => {
    expect(() => joinParts([bytes(3, 0)], [4])).toThrow(/expected 4/);
  });

  it("yields no parts for an empty payload", () => {
    expect(splitBuffers([], 8)).toEqual([]);
  });
});
