// A virtualised list, newest row on top: only the rows in view exist in the DOM, a key is
// shown once, and the rows the user looks at stay put: paused, new rows wait in a buffer
// (counted); scrolled down, they go in above the view and the scroll position moves with them.
//
// New rows are taken in at most every TAKE_EVERY_MS per list, and by one list per frame: a
// tape flooded with hundreds of rows a second replaces every row in view each time it takes
// rows, faster than anyone reads, and that repaint is what a frame costs. Every row is kept
// and counted; a list that has waited long enough takes its rows at once (a quiet tape shows a
// row in the next frame), and what the user does (scroll, pause, resume, a reload) and the
// count of rows held while paused are drawn in the next frame. A list with rows waiting out
// its pace asks for no frame until a timer says its next take is due.
//
// A frame costs what changed in it: a row node keeps its key while it stays in view (only
// rows new to the view are rendered), and rows sit at fixed places in a layer that moves down
// as rows arrive on top (one transform for the whole list, not one per row). Every list due in
// a frame reads its scroll position before any list writes, so no write forces a layout.

const REBASE_AT = 100000; // rows taken before the places restart (transforms stay exact)
const TAKE_EVERY_MS = 250;

const due = new Set();
let frameRequested = false;

function requestFrame() {
  if (!frameRequested) {
    frameRequested = true;
    requestAnimationFrame(flush);
  }
}

function flush(now) {
  frameRequested = false;
  const lists = [...due];
  due.clear();
  let taker = null; // the one list that takes rows on its own pace in this frame
  const takes = new Map();
  for (const vlist of lists) {
    const waiting = vlist.incoming.length > 0;
    let take = vlist.takeNow;
    if (!take && waiting && taker === null && now - vlist.takenAt >= TAKE_EVERY_MS) {
      taker = vlist;
      take = true;
    }
    takes.set(vlist, take);
    if (!take && waiting) {
      const wait = TAKE_EVERY_MS - (now - vlist.takenAt);
      if (wait > 0) vlist.wakeIn(wait);
      else due.add(vlist); // its turn went to another list: the next frame
    }
  }
  const drawing = lists.filter((vlist) => takes.get(vlist) || vlist.dirty);
  for (const vlist of drawing) vlist.measure();
  for (const vlist of drawing) vlist.draw(takes.get(vlist), now);
  if (due.size) requestFrame();
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
    this.dirty = false;      // something other than new rows needs drawing
    this.takeNow = false;    // take the incoming rows in the next frame, whatever the pace
    this.takenAt = -Infinity;
    this.wake = null;        // the timer of the next take while rows wait out the pace
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
    if (this.paused) {
      // the count of held rows is what a paused user watches: shown in the next frame
      this.countDue = true;
      this.schedule();
      return;
    }
    if (this.wake === null) {
      due.add(this);
      requestFrame();
    }
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
    this.takeNow = true;
    this.schedule();
  }

  /** Hold the rows in view: rows not drawn yet wait with the new ones. */
  pause() {
    this.paused = true;
    this.held = this.incoming.concat(this.held);
    this.incoming = [];
    this.countDue = true;
    this.schedule();
  }

  resume() {
    this.paused = false;
    this.incoming.push(...this.held);
    this.held = [];
    this.countDue = true;
    this.takeNow = true;
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

  /** Come back for the waiting rows in `ms` (one timer at a time). */
  wakeIn(ms) {
    if (this.wake !== null) return;
    this.wake = setTimeout(() => {
      this.wake = null;
      due.add(this);
      requestFrame();
    }, ms);
  }

  /** Draw in the next frame. */
  schedule() {
    this.dirty = true;
    due.add(this);
    requestFrame();
  }

  /** The reads of a frame (before any list writes). */
  measure() { this.scrollTop = this.viewport.scrollTop; }

  /** The writes of a frame; `take`: the incoming rows go in. */
  draw(take, now) {
    const h = this.rowHeight;
    this.dirty = false;
    const added = take ? this.incoming.length : 0;
    if (take) {
      this.takeNow = false;
      this.takenAt = now;
    }
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
