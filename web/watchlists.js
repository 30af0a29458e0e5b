// Watchlists: named symbol lists kept in this browser's localStorage; picking one puts its
// symbols in the symbol filter and applies it.

const KEY = "flowtape.watchlists";

function load() {
  try {
    const saved = JSON.parse(localStorage.getItem(KEY));
    return saved && typeof saved === "object" && !Array.isArray(saved) ? saved : {};
  } catch { return {}; }
}

/** Wire the picker, name and save controls; `apply(symbols)` runs when a list is picked. */
export function setUpWatchlists({ pick, name, save, symbols, apply }) {
  const fillPicker = (selected) => {
    const lists = load();
    pick.replaceChildren(new Option("watchlist…", ""), ...Object.keys(lists).sort()
      .map((list) => new Option(`${list} (${lists[list].length})`, list)));
    pick.value = selected in lists ? selected : "";
  };
  save.addEventListener("click", () => {
    const listName = name.value.trim();
    if (!listName) return;
    const lists = load();
    const chosen = symbols.value.split(/[\s,]+/).map((s) => s.toUpperCase()).filter(Boolean);
    if (chosen.length) lists[listName] = chosen; else delete lists[listName];
    localStorage.setItem(KEY, JSON.stringify(lists));
    fillPicker(listName);
  });
  pick.addEventListener("change", () => {
    const chosen = load()[pick.value];
    if (!chosen) return;
    name.value = pick.value;
    symbols.value = chosen.join(",");
    apply();
  });
  fillPicker("");
}
