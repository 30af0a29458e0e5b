// The paid alpha stream as the API sells it (`GET /skills`): the network the server settled
// on (MPP_TESTNET decides it there, in one place), its escrow and currency, the price and
// the symbols. An API without the stream has no /skills route (its OpenAPI document says so,
// without a failed request on the console); one that cannot start it answers 503 with why.

/** 0x1234…abcd, the whole address on hover. */
function address(value) {
  const span = document.createElement("span");
  span.className = "addr";
  span.textContent = value.length > 12 ? `${value.slice(0, 6)}…${value.slice(-4)}` : value;
  span.title = value;
  return span;
}

function fact(term, ...values) {
  const dt = document.createElement("dt");
  dt.textContent = term;
  const dd = document.createElement("dd");
  dd.append(...values);
  return [dt, dd];
}

/** Fill `body` with the stream's terms, or say why there is none; returns the catalog or null. */
export async function showAlphaStream(body) {
  let catalog = null;
  let why;
  try {
    const routes = (await (await fetch("/openapi.json")).json()).paths ?? {};
    if (!("/skills" in routes)) {
      why = "no paid alpha stream on this API (MPP_* escrow and currency not set)";
    } else {
      const response = await fetch("/skills");
      const answer = await response.json().catch(() => ({}));
      if (response.ok) catalog = answer;
      else why = `paid alpha stream unavailable: ${answer.detail || response.status}`;
    }
  } catch (error) {
    why = `paid alpha stream unreachable: ${error.message}`;
  }
  if (!catalog) {
    const note = document.createElement("p");
    note.className = "hint";
    note.dataset.alpha = "unavailable";
    note.textContent = why;
    body.replaceChildren(note);
    return null;
  }
  const { network } = catalog;
  const facts = document.createElement("dl");
  facts.className = "facts";
  facts.dataset.alpha = network.name;
  facts.append(
    ...fact("network", `${network.name} · chain ${network.chainId}`),
    ...fact("escrow", address(network.escrowContract)),
    ...fact("currency", address(network.currency)),
    ...fact("price", `$${catalog.pricePerMinute} per minute · ${catalog.minutesPerPayment} min per payment`),
    ...fact("symbols", catalog.symbols.join(", ")),
  );
  body.replaceChildren(facts);
  return catalog;
}
