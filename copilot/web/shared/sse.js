/* Support Copilot: Server-Sent Events over fetch (EventSource cannot send Authorization), resumed with
   Last-Event-ID after a dropped connection. widget.js keeps a verbatim copy of sseParser (it must stay one
   classic script on third-party pages); change both together. */

const REFUSED = [401, 403, 404];
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Incremental SSE parser: feed text chunks; onFrame({id, event, data}) runs for each complete frame that has
    an id (`event` defaults to "message"; `data` is the joined data lines). A CRLF split across chunks is held. */
export function sseParser(onFrame) {
  let buffer = "";
  return (chunk) => {
    buffer += chunk;
    const held = buffer.endsWith("\r") ? "\r" : "";
    buffer = buffer.slice(0, buffer.length - held.length).replace(/\r\n?/g, "\n");
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const frame = { id: null, event: "message", data: [] };
      for (const line of block.split("\n")) {
        if (!line || line.startsWith(":")) continue; // comment / ping
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "id") frame.id = value;
        else if (field === "event") frame.event = value;
        else if (field === "data") frame.data.push(value);
      }
      if (frame.id !== null) onFrame({ ...frame, data: frame.data.join("\n") });
    }
    buffer += held;
  };
}

/** Follow the SSE stream at `url` until `signal` aborts or `active()` turns false, reconnecting with backoff
    (0.5 s doubling to 8 s) and `Last-Event-ID: lastId()` once lastId() > 0. A 401/403/404 ends it with
    `onRefused(response)`; each frame goes to `onFrame` while active(). */
export async function followEvents(url, { token, lastId, signal, active, onFrame, onRefused }) {
  let delay = 500;
  while (!signal.aborted && active()) {
    try {
      const headers = { Authorization: `Bearer ${token()}`, Accept: "text/event-stream" };
      if (lastId() > 0) headers["Last-Event-ID"] = String(lastId());
      const res = await fetch(url, { headers, signal, cache: "no-store" });
      if (REFUSED.includes(res.status)) { await onRefused(res); return; }
      if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
      delay = 500;
      await readFrames(res.body, onFrame, active);
    } catch (err) {
      if (signal.aborted) return;
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 8000);
  }
}

async function readFrames(body, onFrame, active) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  const feed = sseParser((frame) => { if (active()) onFrame(frame); });
  for (;;) {
    const { value, done } = await reader.read();
    if (done || !active()) return;
    feed(value);
  }
}
