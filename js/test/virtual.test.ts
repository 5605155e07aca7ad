import { describe, expect, it } from "vitest";
import {
  MAX_SCROLL_PX, cellPosition, computeLayout, contentOffset, navigate, pagesFor, revealOffset,
  scrollTopFor, visibleRange,
} from "../src/lib/virtual";

describe("grid layout", () => {
  it("fits as many columns as the cell size allows and stretches cells to the width", () => {
    const l = computeLayout(1000, 180, 100, 8);
    expect(l.columns).toBe(5); // 5 * 188 = 940 <= 992, 6 * 188 > 992
    expect(l.cellWidth).toBe(Math.floor(992 / 5) - 8);
    expect(l.rows).toBe(20);
  });

  it("always has at least one column", () => {
    expect(computeLayout(50, 300, 3).columns).toBe(1);
  });

  it("renders only the rows in view plus overscan", () => {
    const l = computeLayout(1000, 180, 1000, 8);
    const r = visibleRange(l, 0, 600, 1);
    expect(r.firstRow).toBe(0);
    expect(r.start).toBe(0);
    const rowsInView = Math.floor(600 / l.rowHeight) + 1;
    expect(r.lastRow).toBe(rowsInView);
    expect(r.end - r.start).toBe((rowsInView + 1) * l.columns);
  });

  it("keeps the DOM small for a million samples and caps the scroll height", () => {
    const l = computeLayout(1200, 160, 1_000_000, 8);
    expect(l.contentHeight).toBeGreaterThan(MAX_SCROLL_PX);
    expect(l.scrollHeight).toBe(MAX_SCROLL_PX);
    const bottom = visibleRange(l, l.scrollHeight - 800, 800, 2);
    expect(bottom.end).toBe(1_000_000);
    expect(bottom.end - bottom.start).toBeLessThan(100);
  });

  it("maps scrollTop to content offsets and back when the range is scaled", () => {
    const l = computeLayout(1200, 160, 1_000_000, 8);
    const vh = 800;
    const mid = (l.scrollHeight - vh) / 2;
    const off = contentOffset(l, mid, vh);
    expect(off).toBeCloseTo((l.contentHeight - vh) / 2, 0);
    expect(scrollTopFor(l, off, vh)).toBeCloseTo(mid, 3);
  });

  it("places cells relative to the viewport so the visible first row starts at the top", () => {
    const l = computeLayout(1200, 160, 1_000_000, 8);
    const vh = 800;
    const st = 5_000_000;
    const r = visibleRange(l, st, vh, 0);
    const pos = cellPosition(l, r.start, st, vh);
    expect(pos.y).toBeLessThanOrEqual(st + l.gap);
    expect(pos.y).toBeGreaterThan(st - l.rowHeight);
    expect(cellPosition(l, r.start + 1, st, vh).x).toBe(l.gap + l.cellWidth + l.gap);
  });

  it("uses the true height when it fits", () => {
    const l = computeLayout(1000, 180, 128, 8);
    expect(l.scrollHeight).toBe(l.contentHeight);
    expect(contentOffset(l, 123, 600)).toBe(123);
  });

  it("reveals a cell above or below the viewport, and nothing when visible", () => {
    const l = computeLayout(1000, 180, 1000, 8);
    expect(revealOffset(l, 0, 0, 600)).toBeNull();
    expect(revealOffset(l, 0, 500, 600)).toBe(0);
    const below = revealOffset(l, l.columns * 10, 0, 600)!;
    expect(below).toBe(11 * l.rowHeight + l.gap - 600);
  });

  it("lists the pages covering a range", () => {
    expect(pagesFor(0, 0, 100)).toEqual([]);
    expect(pagesFor(95, 205, 100)).toEqual([0, 1, 2]);
  });
});

describe("keyboard navigation", () => {
  it("moves by cell, row and page and clamps to the grid", () => {
    expect(navigate(0, "ArrowRight", 5, 12, 3)).toBe(1);
    expect(navigate(0, "ArrowLeft", 5, 12, 3)).toBe(0);
    expect(navigate(2, "ArrowDown", 5, 12, 3)).toBe(7);
    expect(navigate(9, "ArrowDown", 5, 12, 3)).toBe(11);
    expect(navigate(7, "ArrowUp", 5, 12, 3)).toBe(2);
    expect(navigate(0, "PageDown", 5, 100, 3)).toBe(15);
    expect(navigate(4, "End", 5, 12, 3)).toBe(11);
    expect(navigate(4, "Home", 5, 12, 3)).toBe(0);
    expect(navigate(4, "x", 5, 12, 3)).toBe(4);
    expect(navigate(0, "ArrowRight", 5, 0, 3)).toBe(-1);
  });
});
