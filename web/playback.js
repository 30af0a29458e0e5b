// Playback of a stored run from /v1/playback/{run} (server-sent events read with fetch, so a
// refused request's reason is read from its JSON body): play/pause, validated speed, seek,
// a position clock and completion over the run's span (/v1/runs/{run}/span).

export const MAX_SPEED = 1000;

/** The speed typed, or an error saying what is accepted ("fast" is not 0 = flat out). */
export function parseSpeed(text) {
  const speed = Number(String(text).trim().replace(/x$/i, ""));
  if (String(text).trim() === "" || !Number.isFinite(speed) || speed <= 0 || speed > MAX_SPEED) {
    return { error: `speed: expected a number above 0 and up to ${MAX_SPEED} (times real time), got ${JSON.stringify(String(text))}` };
  }
  return { speed };
}

export class Playback {
  /** onEvent(channel, data) per event; onState({state, clock, reason}) on every change. */
  constructor({ onEvent, onState }) {
    this.onEvent = onEvent;
    this.onState = onState;
    this.controller = null;
    this.runId = null;
    this.clock = null;       // event time of the last event played
    this.state = "idle";     // idle | playing | paused | finished | failed
  }

  async play(runId, speed, channels, symbols, fromNs) {
    this.stop();
    const controller = new AbortController();
    this.controller = controller;
    this.runId = runId;
    const query = new URLSearchParams({ speed: String(speed), channels: channels.join(",") });
    if (symbols.length) query.set("underlying", symbols.join(","));
    if (fromNs !== null && fromNs !== undefined) query.set("from", String(fromNs));
    this.set("playing");
    let response;
    try {
      response = await fetch(`/v1/playback/${encodeURIComponent(runId)}?${query}`, { signal: controller.signal });
    } catch (error) {
      if (this.controller === controller) this.set("failed", error.message);
      return;
    }
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      if (this.controller === controller) this.set("failed", `${response.status}: ${body.detail || response.statusText}`);
      return;
    }
    await this.read(response.body, controller);
  }

  async read(stream, controller) {
    const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        // one pass over a chunk (it can hold hundreds of events due together)
        const blocks = (buffer + value).split("\n\n");
        buffer = blocks.pop();
        for (const block of blocks) {
          if (this.controller !== controller) return;
          this.dispatch(block);
        }
      }
      if (this.controller === controller && this.state === "playing") this.set("failed", "the stream ended before its end event");
    } catch (error) {
      if (this.controller === controller && error.name !== "AbortError") this.set("failed", error.message);
    }
  }

  dispatch(block) {
    let event = "message", data = "";
    for (const line of block.split("\n")) {
      if (line.startsWith("event: ")) event = line.slice(7);
      else if (line.startsWith("data: ")) data += line.slice(6);
    }
    if (event === "end") {
      this.controller = null;
      this.set("finished");
      return;
    }
    const frame = JSON.parse(data);
    const ts = frame.data.ts_start ?? frame.data.ts_event;
    if (ts !== undefined && (this.clock === null || ts > this.clock)) this.clock = ts;
    this.onEvent(frame.channel, frame.data);
  }

  pause() {
    if (this.state !== "playing") return;
    this.abort();
    this.set("paused");
  }

  stop() {
    this.abort();
    this.clock = null;
    this.set("idle");
  }

  abort() {
    if (this.controller) this.controller.abort();
    this.controller = null;
  }

  set(state, reason = "") {
    this.state = state;
    this.onState({ state, clock: this.clock, reason });
  }
}
