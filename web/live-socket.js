// The live tape's WebSocket, held in a worker: the tape sends a frame per micro-batch and
// channel (tens a second on a busy market), and each would be a task of the page's main thread,
// between and inside its frames. Here they are gathered and handed to the page as one message
// every BATCH_MS, in the order they came.
//
// page -> worker: {connect: url} | {send: text}
// worker -> page: {open: true} | {texts: [...]} | {closed: true}

const BATCH_MS = 20;

let socket = null;
let texts = [];
let timer = null;

function handOver() {
  timer = null;
  postMessage({ texts });
  texts = [];
}

function connect(url) {
  const ws = new WebSocket(url);
  socket = ws;
  ws.onopen = () => postMessage({ open: true });
  ws.onmessage = (message) => {
    texts.push(message.data);
    if (timer === null) timer = setTimeout(handOver, BATCH_MS);
  };
  ws.onclose = () => {
    if (socket !== ws) return;
    socket = null;
    if (timer !== null) { clearTimeout(timer); handOver(); }
    postMessage({ closed: true });
  };
}

onmessage = ({ data }) => {
  if (data.connect) connect(data.connect);
  else if (data.send !== undefined && socket?.readyState === WebSocket.OPEN) socket.send(data.send);
};
