// Popovers (menus, plugin forms, the view options) open next to their button but must stay
// inside the view: at any width a Run or Close button off-screen cannot be reached.

/** Shift `pop` sideways (and cap its height) so it lies inside the closest .ls-root, or the
 * window when there is none. Call after it is shown. */
export function keepInside(pop: HTMLElement, margin = 8): void {
  pop.style.transform = "";
  pop.style.maxHeight = "";
  const host = pop.closest(".ls-root");
  const b = host ? host.getBoundingClientRect() : { left: 0, top: 0, right: window.innerWidth, bottom: window.innerHeight };
  const r = pop.getBoundingClientRect();
  let dx = 0;
  if (r.right > b.right - margin) dx = b.right - margin - r.right;
  if (r.left + dx < b.left + margin) dx = b.left + margin - r.left;
  if (dx) pop.style.transform = `translateX(${Math.round(dx)}px)`;
  const room = b.bottom - margin - r.top;
  if (r.height > room) {
    pop.style.maxHeight = `${Math.max(120, Math.floor(room))}px`;
    pop.style.overflowY = "auto";
  }
}
