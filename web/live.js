// The live tape over /v1/ws: subscribe to channels and symbols, resume after the last
// sequence on reconnect, and unsubscribe everything while a stored run is in view. The socket
// lives in a worker (live-socket.js) that hands its messages over in batches.

export class LiveFeed {
  constructor({ onFrame, onStatus }) {
    this.onFrame = onFrame;
    this.onStatus = onStatus;
    this.channels = [];
    this.symbols = [];
    this.lastSeq = null;
    this.worker = null;
    this.open = false;
    this.retryMs = 500;
    this.active = true;
  }

  connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    if (this.worker === null) {
      this.worker = new Worker(new URL("./live-socket.js", import.meta.url));
      this.worker.onmessage = ({ data }) => this.receive(data);
    }
    this.worker.postMessage({ connect: `${scheme}://${location.host}/v1/ws` });
  }

  receive({ open, texts, closed }) {
    if (open) {
      this.open = true;
      this.retryMs = 500;
      this.send(true);
    } else if (texts) {
      for (const text of texts) this.take(JSON.parse(text));
    } else if (closed) {
      this.open = false;
      this.onStatus("disconnected — retrying", "off");
      setTimeout(() => this.connect(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 10000);
    }
  }

  take(frame) {
    if (frame.channel === "control") return this.control(frame);
    if (!this.active) return;
    if (frame.seq > (this.lastSeq ?? 0)) this.lastSeq = frame.seq;
    this.onFrame(frame);
  }

  /** Follow these channels and symbols (none: follow nothing, e.g. a stored run's view). */
  follow(channels, symbols) {
    this.channels = channels;
    this.symbols = symbols;
    this.active = channels.length > 0;
    this.send(false);
  }

  send(resume) {
    if (!this.open) return;
    if (!this.active) {
      this.worker.postMessage({ send: JSON.stringify({ action: "unsubscribe" }) });
      return;
    }
    const message = { action: "subscribe", channels: this.channels, symbols: this.symbols };
    if (resume && this.lastSeq !== null) message.since_seq = this.lastSeq + 1;
    this.worker.postMessage({ send: JSON.stringify(message) });
  }

  control(frame) {
    if (frame.event === "subscribed") {
      if (this.lastSeq === null) this.lastSeq = frame.seq;
      if (this.active) this.onStatus(`live · after seq ${frame.seq}`, "on");
    } else if (frame.event === "dropped") {
      this.onStatus(`live · ${frame.dropped_total} messages dropped (too slow)`, "on");
    } else if (frame.event === "error") {
      this.onStatus(frame.detail, "off");
    }
  }
}
