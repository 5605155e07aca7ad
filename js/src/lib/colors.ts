// Stable label colours: the same class name gets the same colour in every view.

const PALETTE: [number, number, number][] = [
  [230, 25, 140], [31, 119, 230], [44, 182, 90], [245, 130, 32], [145, 70, 220],
  [0, 180, 190], [220, 50, 50], [190, 170, 0], [120, 160, 255], [255, 105, 180],
  [70, 200, 150], [160, 110, 60], [100, 110, 240], [250, 190, 60], [0, 130, 120],
];

export function hashString(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}

export function labelRgb(name: string): [number, number, number] {
  return PALETTE[hashString(name) % PALETTE.length];
}

export function labelColor(name: string): string {
  const [r, g, b] = labelRgb(name);
  return `rgb(${r}, ${g}, ${b})`;
}

export function paletteHex(n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const [r, g, b] = PALETTE[i % PALETTE.length];
    out.push("#" + [r, g, b].map((v) => v.toString(16).padStart(2, "0")).join(""));
  }
  return out;
}
