// A virtualised list, newest row on top: only the rows in view exist in the DOM, new rows are
// taken in once per animation frame, a key is shown once, and the rows the user looks at stay
// put: paused, new rows wait in a buffer (counted); scrolled down, they go in above the view
// and the scroll position moves with them.

export class VirtualList {
  constructor(viewport, { rowHeight, key, render, max = 20000, onCount = () => {} }) {
    this.viewport = viewport;
    this.rowHeight = rowHeight;
    this.key = key;
    this.render = render;
    this.max = max;
    this.onCount = onCount;
    this.items = [];
    this.keys = new Set();
    this.incoming = [];
    this.held = [];
    this.paused = false;
    this.filter = () => true;
    this.spacer = document.createElement("div");
    this.spacer.className = "vlist-spacer";
    viewport.append(this.spacer);
    this.pool = [];
    this.scheduled = false;
    viewport.addEventListener("scroll", () => this.schedule());
    new ResizeObserver(() => this.schedule()).observe(viewport);
  }

  /** Add rows (any order of arrival; each key once). */
  push(...rows) {
    for (const row of rows) {
      const k = this.key(row);
      if (this.keys.has(k) || !this.filter(row)) continue;
      this.keys.add(k);
      (this.paused ? this.held : this.incoming).push(row);
    }
    if (this.paused) this.onCount(this);
    else this.schedule();
  }

  /** Add rows older than every row taken (history), newest first, below the others. */
  appendOlder(rows) {
    const older = rows.filter((row) => {
      const k = this.key(row);
      if (this.keys.has(k) || !this.filter(row)) return false;
      this.keys.add(k);
      return true;
    });
    this.items = this.items.concat(older);
    this.onCount(this);
    this.schedule();
  }

  /** Replace every row (history loads); rows newest first. */
  reset(rows = []) {
    this.items = [];
    this.keys.clear();
    this.incoming = [];
    this.held = [];
    this.viewport.scrollTop = 0;
    this.push(...rows.slice().reverse());
    this.onCount(this);
  }

  pause() { this.paused = true; this.onCount(this); }

  resume() {
    this.paused = false;
    this.incoming.push(...this.held);
    this.held = [];
    this.schedule();
  }

  /** Every row taken, drawn or not yet. */
  all() { return this.items.concat(this.incoming, this.held); }

  get heldCount() { return this.held.length; }
  get size() { return this.items.length + this.incoming.length; }

  /** Redraw rows whose look depends on state outside them (a severity that arrived later). */
  refresh() { for (const node of this.pool) node.dataset.key = ""; this.schedule(); }

  schedule() {
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => { this.scheduled = false; this.draw(); });
  }

  draw() {
    const added = this.incoming.length;
    if (added) {
      // incoming is oldest first; items is newest first
      this.items = this.incoming.reverse().concat(this.items);
      this.incoming = [];
      if (this.items.length > this.max) {
        for (const gone of this.items.splice(this.max)) this.keys.delete(this.key(gone));
      }
      // the list grows first, so that the scroll position is not clamped to its old height
      this.spacer.style.height = `${this.items.length * this.rowHeight}px`;
      if (this.viewport.scrollTop > 0) this.viewport.scrollTop += added * this.rowHeight;
      this.onCount(this);
    }
    this.spacer.style.height = `${this.items.length * this.rowHeight}px`;
    const first = Math.max(0, Math.floor(this.viewport.scrollTop / this.rowHeight) - 5);
    const visible = Math.ceil(this.viewport.clientHeight / this.rowHeight) + 10;
    const last = Math.min(this.items.length, first + visible);
    while (this.pool.length < last - first) {
      const node = document.createElement("div");
      this.viewport.append(node);
      this.pool.push(node);
    }
    this.pool.forEach((node, slot) => {
      const index = first + slot;
      if (index >= last) { node.hidden = true; node.dataset.key = ""; return; }
      const item = this.items[index];
      const k = String(this.key(item));
      node.hidden = false;
      node.style.transform = `translateY(${index * this.rowHeight}px)`;
      if (node.dataset.key !== k) {
        node.item = item;
        this.render(item, node);
        node.dataset.key = k;
      }
    });
  }

  /** The rows drawn right now, top to bottom (what the user sees). */
  shown() {
    return this.pool.filter((n) => !n.hidden).sort((a, b) =>
      parseFloat(a.style.transform.slice(11)) - parseFloat(b.style.transform.slice(11)));
  }
}
