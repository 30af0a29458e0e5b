// Frame times as the page lives them: for each animation frame, the time from the start of
// its requestAnimationFrame callbacks to the first task after the frame (script, style,
// layout and paint of that frame). bench/bench_web_frames.py reads them.

export function measureFrames(keep = 10000) {
  const times = [];
  const channel = new MessageChannel();
  let started = 0;
  channel.port1.onmessage = () => {
    times.push(performance.now() - started);
    if (times.length > keep) times.shift();
  };
  (function frame() {
    requestAnimationFrame((now) => {
      started = now;
      channel.port2.postMessage(0);
      frame();
    });
  })();
  return {
    clear: () => { times.length = 0; },
    all: () => times.slice(),
  };
}
