// A virtualised list, newest row on top: only the rows in view exist in the DOM, new rows are
// taken in once per animation frame, a key is shown once, and the rows the user looks at stay
// put: paused, new rows wait in a buffer (counted); scrolled down, they go in above the view
// and the scroll position moves with them.
//
// A frame costs what changed in it: a row node keeps its key while it stays in view (only
// rows new to the view are rendered), and rows sit at fixed places in a layer that moves down
// as rows arrive on top (one transform for the whole list, not one per row). Every list due in
// a frame reads its scroll position before any list writes, so no write forces a layout.

const REBASE_AT = 100000; // rows taken before the places restart (transforms stay exact)

const due = new Set();
let frameRequested = false;

function flush() {
  frameRequested = false;
  const lists = [...due];
  due.clear();
  for (const vlist of lists) vlist.measure();
  for (const vlist of lists) vlist.draw();
}

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
    this.layer = document.createElement("div");
    this.layer.className = "vlist-rows";
    viewport.append(this.spacer, this.layer);
    this.pool = [];          // every row node made
    this.drawn = new Map();  // key -> the node showing it
    this.free = [];          // nodes showing nothing (hidden)
    this.stale = new Set();  // keys whose node must be rendered again
    this.top = 0;            // place of items[0]; items[i] sits at place top - i
    this.layerTop = null;
    this.spacerHeight = null;
    this.height = 0;
    this.scrollTop = 0;
    this.countDue = false;
    viewport.addEventListener("scroll", () => this.schedule());
    new ResizeObserver(([entry]) => {
      this.height = entry.contentRect.height;
      this.schedule();
    }).observe(viewport);
  }

  /** Add rows (any order of arrival; each key once). */
  push(...rows) {
    for (const row of rows) {
      const k = this.key(row);
      if (this.keys.has(k) || !this.filter(row)) continue;
      this.keys.add(k);
      (this.paused ? this.held : this.incoming).push(row);
    }
    if (this.paused) this.countDue = true;
    this.schedule();
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
    this.countDue = true;
    this.schedule();
  }

  /** Replace every row (history loads); rows newest first. */
  reset(rows = []) {
    this.items = [];
    this.keys.clear();
    this.incoming = [];
    this.held = [];
    this.top = 0;
    this.viewport.scrollTop = 0;
    this.scrollTop = 0;
    this.push(...rows.slice().reverse());
    this.countDue = true;
  }

  pause() { this.paused = true; this.countDue = true; this.schedule(); }

  resume() {
    this.paused = false;
    this.incoming.push(...this.held);
    this.held = [];
    this.countDue = true;
    this.schedule();
  }

  /** Every row taken, drawn or not yet. */
  all() { return this.items.concat(this.incoming, this.held); }

  get heldCount() { return this.held.length; }
  get size() { return this.items.length + this.incoming.length; }

  /** Draw again the row of `key` (every row without one): its look depends on state outside
   * it (a severity that arrived later). */
  refresh(key) {
    if (key === undefined) for (const k of this.drawn.keys()) this.stale.add(k);
    else if (this.drawn.has(String(key))) this.stale.add(String(key));
    else return;
    this.schedule();
  }

  schedule() {
    due.add(this);
    if (!frameRequested) {
      frameRequested = true;
      requestAnimationFrame(flush);
    }
  }

  /** The reads of a frame (before any list writes). */
  measure() { this.scrollTop = this.viewport.scrollTop; }

  /** The writes of a frame. */
  draw() {
    const h = this.rowHeight;
    const added = this.incoming.length;
    if (added) {
      // incoming is oldest first; items is newest first
      this.items = this.incoming.reverse().concat(this.items);
      this.incoming = [];
      this.top += added;
      if (this.items.length > this.max) {
        for (const gone of this.items.splice(this.max)) this.keys.delete(this.key(gone));
      }
      this.countDue = true;
    }
    if (this.top > REBASE_AT) this.top = this.items.length;
    const height = this.items.length * h;
    if (height !== this.spacerHeight) {
      // the list grows first, so that the scroll position is not clamped to its old height
      this.spacer.style.height = `${height}px`;
      this.spacerHeight = height;
    }
    if (added && this.scrollTop > 0) {
      this.scrollTop += added * h;
      this.viewport.scrollTop = this.scrollTop;
    }
    if (this.countDue) {
      this.countDue = false;
      this.onCount(this);
    }
    this.place();
  }

  place() {
    const h = this.rowHeight;
    const first = Math.max(0, Math.floor(this.scrollTop / h) - 5);
    const last = Math.min(this.items.length, Math.ceil((this.scrollTop + this.height) / h) + 5);
    const wanted = new Map();
    for (let index = first; index < last; index += 1) {
      wanted.set(String(this.key(this.items[index])), index);
    }
    for (const [k, node] of this.drawn) {
      if (wanted.has(k)) continue;
      this.drawn.delete(k);
      node.hidden = true;
      node.dataset.key = "";
      node.item = null;
      this.free.push(node);
    }
    for (const [k, index] of wanted) {
      const item = this.items[index];
      let node = this.drawn.get(k);
      if (!node || node.item !== item || this.stale.has(k)) {
        node = node ?? this.free.pop() ?? this.newNode();
        node.item = item;
        this.render(item, node);
        node.dataset.key = k;
        node.hidden = false;
        this.drawn.set(k, node);
      }
      const y = (index - this.top) * h;
      if (node.placedAt !== y) {
        node.style.transform = `translateY(${y}px)`;
        node.placedAt = y;
      }
    }
    this.stale.clear();
    if (this.layerTop !== this.top) {
      this.layer.style.transform = `translateY(${this.top * h}px)`;
      this.layerTop = this.top;
    }
  }

  newNode() {
    const node = document.createElement("div");
    this.layer.append(node);
    this.pool.push(node);
    return node;
  }

  /** The rows drawn right now, top to bottom (what the user sees). */
  shown() {
    return this.pool.filter((n) => !n.hidden).sort((a, b) => a.placedAt - b.placedAt);
  }
}
