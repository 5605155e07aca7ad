// Virtualization math for the grid: which cells exist in the DOM for a scroll position.
// Browsers cap an element's height (~33.5 M px in Chromium), so a 1,000,000-sample grid
// cannot have a spacer of its true height: above MAX_SCROLL_PX the scroll range is scaled
// and rows are placed relative to the viewport.

export const MAX_SCROLL_PX = 10_000_000;

export interface Layout {
  columns: number;
  cellWidth: number; // px, image area width
  rowHeight: number; // px including gap
  gap: number;
  rows: number;
  count: number;
  /** True height of all rows. */
  contentHeight: number;
  /** Height of the scroll spacer (<= MAX_SCROLL_PX). */
  scrollHeight: number;
}

export function computeLayout(
  containerWidth: number,
  cellSize: number,
  count: number,
  gap = 8,
  captionHeight = 0,
): Layout {
  const usable = Math.max(0, containerWidth - gap);
  const columns = Math.max(1, Math.floor(usable / (cellSize + gap)));
  // Stretch cells to fill the width so there is no ragged gap on the right.
  const cellWidth = Math.max(1, Math.floor(usable / columns) - gap);
  const rowHeight = cellWidth + captionHeight + gap;
  const rows = Math.ceil(count / columns);
  const contentHeight = rows * rowHeight + gap;
  return {
    columns,
    cellWidth,
    rowHeight,
    gap,
    rows,
    count,
    contentHeight,
    scrollHeight: Math.min(contentHeight, MAX_SCROLL_PX),
  };
}

/** Map the scroller's scrollTop to an offset into the true content. */
export function contentOffset(layout: Layout, scrollTop: number, viewportHeight: number): number {
  if (layout.contentHeight <= layout.scrollHeight) return scrollTop;
  const scrollRange = Math.max(1, layout.scrollHeight - viewportHeight);
  const contentRange = Math.max(0, layout.contentHeight - viewportHeight);
  return (Math.min(scrollTop, scrollRange) / scrollRange) * contentRange;
}

/** Inverse of contentOffset: the scrollTop that shows content offset `y` at the top. */
export function scrollTopFor(layout: Layout, y: number, viewportHeight: number): number {
  if (layout.contentHeight <= layout.scrollHeight) return y;
  const scrollRange = Math.max(1, layout.scrollHeight - viewportHeight);
  const contentRange = Math.max(1, layout.contentHeight - viewportHeight);
  return (Math.max(0, Math.min(y, contentRange)) / contentRange) * scrollRange;
}

export interface VisibleRange {
  /** First and one-past-last sample index to render. */
  start: number;
  end: number;
  firstRow: number;
  lastRow: number;
  /** Content offset at the top of the viewport. */
  offset: number;
}

export function visibleRange(
  layout: Layout,
  scrollTop: number,
  viewportHeight: number,
  overscanRows = 2,
): VisibleRange {
  const offset = contentOffset(layout, scrollTop, viewportHeight);
  if (layout.count === 0) return { start: 0, end: 0, firstRow: 0, lastRow: -1, offset };
  const firstRow = Math.max(0, Math.floor(offset / layout.rowHeight) - overscanRows);
  const lastRow = Math.min(
    layout.rows - 1,
    Math.floor((offset + viewportHeight) / layout.rowHeight) + overscanRows,
  );
  return {
    start: firstRow * layout.columns,
    end: Math.min(layout.count, (lastRow + 1) * layout.columns),
    firstRow,
    lastRow,
    offset,
  };
}

/** Position of cell `index` relative to the scroller's content box (for absolute placement). */
export function cellPosition(
  layout: Layout,
  index: number,
  scrollTop: number,
  viewportHeight: number,
): { x: number; y: number } {
  const row = Math.floor(index / layout.columns);
  const col = index % layout.columns;
  const x = layout.gap + col * (layout.cellWidth + layout.gap);
  const contentY = layout.gap + row * layout.rowHeight;
  // With a scaled scroll range, place rows relative to the viewport top.
  const y = contentY - contentOffset(layout, scrollTop, viewportHeight) + scrollTop;
  return { x, y };
}

/** Scroll needed (new content offset) so that `index` is fully visible; null if it is. */
export function revealOffset(layout: Layout, index: number, offset: number, viewportHeight: number): number | null {
  const row = Math.floor(index / layout.columns);
  const top = row * layout.rowHeight;
  const bottom = top + layout.rowHeight + layout.gap;
  if (top < offset) return top;
  if (bottom > offset + viewportHeight) return bottom - viewportHeight;
  return null;
}

/** Keyboard navigation: the index reached from `index` by a key, clamped to the grid. */
export function navigate(index: number, key: string, columns: number, count: number, pageRows: number): number {
  if (count === 0) return -1;
  let next = index;
  switch (key) {
    case "ArrowRight": next = index + 1; break;
    case "ArrowLeft": next = index - 1; break;
    case "ArrowDown": next = index + columns; break;
    case "ArrowUp": next = index - columns; break;
    case "PageDown": next = index + columns * Math.max(1, pageRows); break;
    case "PageUp": next = index - columns * Math.max(1, pageRows); break;
    case "Home": next = 0; break;
    case "End": next = count - 1; break;
    default: return index;
  }
  return Math.max(0, Math.min(count - 1, next));
}

/** Page indices (of `pageSize` rows) that cover sample indices [start, end). */
export function pagesFor(start: number, end: number, pageSize: number): number[] {
  if (end <= start) return [];
  const out: number[] = [];
  for (let p = Math.floor(start / pageSize); p <= Math.floor((end - 1) / pageSize); p++) out.push(p);
  return out;
}
