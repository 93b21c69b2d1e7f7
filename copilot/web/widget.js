/* Support Copilot customer widget.
 *
 * One tag on the host page:
 *   <script src="https://copilot.example.com/widget.js" data-token="<customer token>" data-tenant="demo" defer></script>
 * inserts a floating <support-copilot> element (or place <support-copilot token="..."></support-copilot> yourself).
 * Without a token the visitor is a guest (POST /v1/sessions/guest). Vanilla JS in a shadow DOM, no build step,
 * and no requests anywhere but the copilot server this script was loaded from (or `api=` / `data-api`).
 */
(() => {
  "use strict";
  if (window.customElements.get("support-copilot")) return;

  const script = document.currentScript;
  const SCRIPT_API = script && script.src ? new URL(script.src, location.href).origin : location.origin;
  const STORE = "support-copilot:";

  const STYLE = `
:host { all: initial; position: fixed; right: 20px; bottom: 20px; z-index: 2147483000;
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2933; }
*, *::before, *::after { box-sizing: border-box; }
[hidden] { display: none !important; }
button, textarea { font: inherit; }
:focus-visible { outline: 3px solid #f59e0b; outline-offset: 2px; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.launcher { display: flex; align-items: center; gap: 8px; border: 0; border-radius: 999px; padding: 12px 18px;
  background: #1d4ed8; color: #fff; font-weight: 600; cursor: pointer; box-shadow: 0 6px 20px rgba(15,23,42,.25); }
.launcher:hover { background: #1e40af; }
.launcher svg { width: 20px; height: 20px; }
.panel { position: absolute; right: 0; bottom: 0; width: 380px; height: min(600px, calc(100vh - 40px));
  display: flex; flex-direction: column; background: #fff; border-radius: 14px; overflow: hidden;
  box-shadow: 0 12px 40px rgba(15,23,42,.3); border: 1px solid #d9e2ec; }
.panel[hidden] { display: none; }
header { display: flex; align-items: center; gap: 8px; padding: 12px 14px; background: #1d4ed8; color: #fff; }
header h2 { margin: 0; font-size: 16px; flex: 1; }
header p { margin: 0; font-size: 12px; opacity: .9; }
.icon { border: 0; background: transparent; color: inherit; cursor: pointer; border-radius: 6px; padding: 4px 8px;
  font-size: 20px; line-height: 1; }
.icon:hover { background: rgba(255,255,255,.15); }
.status { margin: 0; padding: 8px 14px; background: #fff7d6; border-bottom: 1px solid #f0d98a; font-size: 13px; }
.status[hidden] { display: none; }
.status.agent { background: #e3f8ec; border-color: #9fdcb8; }
.log { flex: 1; overflow-y: auto; padding: 14px; display: flex; flex-direction: column; gap: 10px;
  background: #f5f7fa; }
.empty { color: #52606d; font-size: 14px; margin: auto 0; text-align: center; }
.msg { max-width: 88%; padding: 9px 12px; border-radius: 12px; white-space: pre-wrap; overflow-wrap: anywhere; }
.msg.user { align-self: flex-end; background: #1d4ed8; color: #fff; border-bottom-right-radius: 4px; }
.msg.bot, .msg.agent { align-self: flex-start; background: #fff; border: 1px solid #d9e2ec; border-bottom-left-radius: 4px; }
.msg.agent { border-color: #9fdcb8; background: #f0fbf4; }
.who { display: block; font-size: 12px; font-weight: 600; color: #3e4c59; margin-bottom: 2px; }
.msg a { color: #1d4ed8; }
.cite { font-size: 11px; vertical-align: super; text-decoration: none; padding: 0 2px; font-weight: 600; }
.sources { margin: 6px 0 0; padding: 6px 0 0 18px; border-top: 1px solid #e4e7eb; font-size: 13px; white-space: normal; }
.note { align-self: center; font-size: 12.5px; color: #52606d; text-align: center; max-width: 92%; }
.note.warn { color: #8a4b00; }
.msg.error { align-self: stretch; max-width: none; background: #fdecec; border: 1px solid #f5b5b5; color: #8a1c1c; }
.rate { align-self: flex-start; display: flex; flex-wrap: wrap; align-items: center; gap: 6px; margin-top: -4px;
  max-width: 88%; font-size: 12.5px; color: #52606d; }
.thumb { display: inline-flex; align-items: center; gap: 4px; border: 1px solid #cbd2d9; background: #fff;
  color: #3e4c59; border-radius: 999px; padding: 2px 9px; cursor: pointer; font-size: 12.5px; line-height: 1.4; }
.thumb svg { width: 14px; height: 14px; }
.thumb.down svg { transform: rotate(180deg); }
.thumb:hover { border-color: #1d4ed8; }
.thumb[aria-pressed="true"] { background: #1d4ed8; border-color: #1d4ed8; color: #fff; }
.rate form { flex-basis: 100%; }
.rate textarea { min-height: 34px; font-size: 13px; }
.rate .btn { padding: 5px 10px; font-size: 13px; }
.typing { align-self: flex-start; font-size: 13px; color: #52606d; font-style: italic; }
.card { align-self: stretch; background: #fff; border: 1px solid #b6c8f5; border-left: 4px solid #1d4ed8;
  border-radius: 10px; padding: 10px 12px; }
.card h3 { margin: 0 0 6px; font-size: 14.5px; }
.card ul { margin: 0 0 8px; padding-left: 18px; font-size: 13.5px; }
.card .meta { font-size: 12px; color: #52606d; margin: 0 0 8px; }
.card .row { display: flex; gap: 8px; }
.card .outcome { margin: 8px 0 0; font-size: 13px; font-weight: 600; }
.btn { border: 1px solid #1d4ed8; background: #fff; color: #1d4ed8; border-radius: 8px; padding: 7px 14px;
  cursor: pointer; font-weight: 600; }
.btn.primary { background: #1d4ed8; color: #fff; }
.btn:disabled { opacity: .5; cursor: not-allowed; }
.old { color: #8a1c1c; text-decoration: line-through; }
.new { color: #0b6b3a; font-weight: 600; }
footer { border-top: 1px solid #d9e2ec; padding: 10px; display: flex; flex-direction: column; gap: 8px; background: #fff; }
.human { align-self: flex-start; border: 0; background: transparent; color: #1d4ed8; cursor: pointer; font-weight: 600;
  padding: 2px 4px; border-radius: 6px; text-decoration: underline; }
.human:disabled { color: #52606d; text-decoration: none; cursor: default; }
form { display: flex; gap: 8px; align-items: flex-end; }
textarea { flex: 1; resize: none; min-height: 40px; max-height: 120px; padding: 9px 10px; border: 1px solid #9aa5b1;
  border-radius: 8px; color: inherit; }
@media (max-width: 480px) {
  :host { right: 12px; bottom: 12px; }
  .panel { position: fixed; inset: 0; width: 100%; height: 100%; border-radius: 0; border: 0; }
}`;

  const THUMB = '<svg viewBox="0 0 24 24" aria-hidden="true" fill="currentColor"><path d="M1 21h4V9H1v12zm22-11c0-1.1-.9-2-2-2h-6.31l.95-4.57.03-.32c0-.41-.17-.79-.44-1.06L14.17 1 7.59 7.59C7.22 7.95 7 8.45 7 9v10c0 1.1.9 2 2 2h9c.83 0 1.54-.5 1.84-1.22l3.02-7.05c.09-.23.14-.47.14-.73v-2z"/></svg>';
  const ICON = '<svg viewBox="0 0 24 24" aria-hidden="true" fill="currentColor"><path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z"/></svg>';

  const TEMPLATE = `
<button class="launcher" part="launcher" aria-expanded="false" aria-controls="panel">${ICON}<span>Help</span></button>
<section class="panel" id="panel" role="dialog" aria-modal="false" aria-labelledby="title" hidden>
  <header>
    <div style="flex:1"><h2 id="title">Support</h2><p id="subtitle">Virtual assistant · answers cite our help center</p></div>
    <button class="icon close" aria-label="Close support chat">&times;</button>
  </header>
  <p class="status" role="status" hidden></p>
  <div class="log" role="log" aria-live="polite" aria-label="Conversation" tabindex="0">
    <p class="empty">Ask about orders, returns, refunds or your account.</p>
  </div>
  <footer>
    <button class="human" type="button">Talk to a human</button>
    <form>
      <label class="sr-only" for="input">Message</label>
      <textarea id="input" rows="1" placeholder="Type your question…" autocomplete="off"></textarea>
      <button class="btn primary send" type="submit">Send</button>
      <button class="btn stop" type="button" hidden>Stop</button>
    </form>
  </footer>
</section>`;

  // ---------- small helpers ----------
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const words = (name) => { const s = String(name || "").replace(/[_-]+/g, " ").trim(); return s.charAt(0).toUpperCase() + s.slice(1); };

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /** The (unverified) claims of a JWT, only to key sessionStorage per user. */
  function claims(token) {
    try {
      const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      return JSON.parse(atob(part));
    } catch (_err) {
      return {};
    }
  }

  const MAX_MESSAGE_CHARS = 4000; // the API's limit on a message (copilot/api/models.py)

  /** A preview's plain sentences (older events without them: the one-line summary). */
  function previewSentences(d) {
    const sentences = Array.isArray(d.sentences) ? d.sentences.filter((s) => typeof s === "string" && s) : [];
    return sentences.length ? sentences : [d.summary || "A change to your account."];
  }

  // A verbatim copy (minus `export`) of sseParser in shared/sse.js: this file must stay one classic script
  // (no import on third-party pages). Change both together.
  /** Incremental SSE parser: feed text chunks; onFrame({id, event, data}) runs for each complete frame that has
      an id (`event` defaults to "message"; `data` is the joined data lines). A CRLF split across chunks is held. */
  function sseParser(onFrame) {
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

  /** A conversation event from an SSE frame: {seq, type, data} (data {} when it is not JSON). */
  function toEvent(frame) {
    let data = {};
    try { data = JSON.parse(frame.data || "{}"); } catch (_err) { /* keep {} */ }
    return { seq: Number(frame.id), type: frame.event, data };
  }

  class SupportCopilot extends HTMLElement {
    connectedCallback() {
      if (this.shadowRoot) return;
      this.api = (this.getAttribute("api") || SCRIPT_API).replace(/\/$/, "");
      this.tenant = this.getAttribute("tenant") || "";
      this.token = this.getAttribute("token") || "";
      const who = this.token ? claims(this.token) : {};
      this.key = `${STORE}${this.api}:${who.tenant || this.tenant || "default"}:${who.sub || "guest"}`;
      this.reset();
      this.build();
      if (this.getAttribute("open") !== null || sessionStorage.getItem(`${this.key}:open`) === "1") this.open(false);
    }

    disconnectedCallback() {
      this.stopped = true;
      if (this.abort) this.abort.abort();
    }

    /** Per-conversation view state (also used when a conversation has to be started afresh). */
    reset() {
      this.lastSeq = 0;
      this.live = null; // {turn, messageId, node, body}: the assistant bubble being streamed
      this.userTurns = new Set(); // turns whose user bubble is shown (turn.started and message.user dedupe)
      this.cards = new Map(); // preview_id -> card controls
      this.callCards = new Map(); // call_id -> preview_id
      this.resumeTurns = new Map(); // turn_id of a confirmation's resume -> preview_id
      this.ratings = new Map(); // answer seq -> its rating controls
      this.busy = false;
      this.handoff = "none"; // none | waiting | agent
    }

    build() {
      const root = this.attachShadow({ mode: "open" });
      root.innerHTML = `<style>${STYLE}</style>${TEMPLATE}`;
      const $ = (selector) => root.querySelector(selector);
      Object.assign(this, {
        launcher: $(".launcher"), panel: $(".panel"), log: $(".log"), statusBar: $(".status"),
        input: $("textarea"), sendButton: $(".send"), stopButton: $(".stop"), humanButton: $(".human"),
        form: $("form"),
      });
      this.launcher.addEventListener("click", () => this.open(true));
      $(".close").addEventListener("click", () => this.close());
      this.panel.addEventListener("keydown", (event) => { if (event.key === "Escape") this.close(); });
      this.form.addEventListener("submit", (event) => { event.preventDefault(); this.send(); });
      this.input.addEventListener("keydown", (event) => {
        if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); this.send(); }
      });
      this.humanButton.addEventListener("click", () => this.askHuman());
      this.stopButton.addEventListener("click", () => this.stopTurn());
    }

    // ---------- panel ----------
    open(focus) {
      this.panel.hidden = false;
      this.launcher.hidden = true;
      this.launcher.setAttribute("aria-expanded", "true");
      sessionStorage.setItem(`${this.key}:open`, "1");
      if (focus) this.input.focus();
      if (!this.started) { this.started = true; this.start(); }
    }

    close() {
      this.panel.hidden = true;
      this.launcher.hidden = false;
      this.launcher.setAttribute("aria-expanded", "false");
      sessionStorage.setItem(`${this.key}:open`, "0");
      this.launcher.focus();
    }

    // ---------- HTTP ----------
    async call(method, path, body) {
      const headers = { Authorization: `Bearer ${this.token}` };
      if (body !== undefined) headers["Content-Type"] = "application/json";
      try {
        const response = await fetch(this.api + path, {
          method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: "no-store",
        });
        const json = await response.json().catch(() => ({}));
        return { ok: response.ok, status: response.status, json };
      } catch (err) {
        return { ok: false, status: 0, json: { error: { message: `Network error: ${err.message}` } } };
      }
    }

    async guestToken() {
      const stored = sessionStorage.getItem(`${this.key}:guest-token`);
      if (stored) return stored;
      const response = await fetch(`${this.api}/v1/sessions/guest`, {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify(this.tenant ? { tenant: this.tenant } : {}),
      });
      const json = await response.json();
      if (!response.ok) throw new Error((json.error && json.error.message) || "Could not start a guest session.");
      sessionStorage.setItem(`${this.key}:guest-token`, json.token);
      return json.token;
    }

    /** Identity, then the remembered conversation (a reload continues it) or a new one, then the stream. */
    async start() {
      try {
        if (!this.token) { this.guest = true; this.token = await this.guestToken(); }
        this.cid = sessionStorage.getItem(`${this.key}:conversation`);
        if (!this.cid) await this.createConversation();
        this.stream();
        if (this.queued) { this.queued = false; this.send(); }
      } catch (err) {
        this.error(err.message || "The support chat could not start. Reload the page to try again.");
      }
    }

    async createConversation() {
      const created = await this.call("POST", "/v1/conversations");
      if (!created.ok) throw new Error(this.message(created, "Could not start a conversation."));
      this.cid = created.json.id;
      sessionStorage.setItem(`${this.key}:conversation`, this.cid);
    }

    message(response, fallback) {
      return (response.json && response.json.error && response.json.error.message) || fallback;
    }

    // ---------- events stream ----------
    /** Follow the conversation's SSE log with fetch (EventSource cannot send Authorization); after a network
     * error reconnect with Last-Event-ID = the last seq applied, and ignore any seq already applied. */
    async stream() {
      let delay = 500;
      while (!this.stopped) {
        const controller = new AbortController();
        this.abort = controller;
        try {
          const response = await fetch(`${this.api}/v1/conversations/${encodeURIComponent(this.cid)}/events`, {
            headers: { Authorization: `Bearer ${this.token}`, Accept: "text/event-stream", "Last-Event-ID": String(this.lastSeq) },
            cache: "no-store", signal: controller.signal,
          });
          if (response.status === 404 || response.status === 401) { await this.restart(response.status); return; }
          if (!response.ok || !response.body) throw new Error(`events: HTTP ${response.status}`);
          delay = 500;
          const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
          const feed = sseParser((frame) => this.apply(toEvent(frame)));
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            feed(value);
          }
        } catch (_err) {
          if (this.stopped) return;
        }
        await sleep(delay);
        delay = Math.min(delay * 2, 8000);
      }
    }

    /** The remembered conversation is gone or the token expired: a guest starts afresh, a customer reloads. */
    async restart(status) {
      sessionStorage.removeItem(`${this.key}:conversation`);
      if (status === 401 && !this.guest) { this.error("Your session has expired. Reload the page to continue."); return; }
      if (status === 401) { sessionStorage.removeItem(`${this.key}:guest-token`); this.token = ""; }
      this.log.replaceChildren();
      this.reset();
      this.started = false;
      this.open(false);
    }

    apply(event) {
      if (!(event.seq > this.lastSeq)) return; // already applied (replay after a reconnect)
      this.lastSeq = event.seq;
      const d = event.data || {};
      const turn = d.turn_id || null;
      switch (event.type) {
        case "turn.started": return this.turnStarted(d, turn);
        case "message.user": return this.userMessage(d.text, turn);
        case "message.delta": return this.delta(d, turn);
        case "message.completed": return this.completed(d, turn, event.seq);
        case "feedback.recorded": return this.feedbackRecorded(d);
        case "tool.requested": return this.typing(`Working on it: ${words(d.tool).toLowerCase()}…`);
        case "tool.preview": return this.preview(d);
        case "tool.executed": return this.executed(d);
        case "approval.status": return this.approvalStatus(d);
        case "tool.denied": this.notDone(d); return this.note(`${words(d.tool)} is not available to you here — a human agent can help.`, "warn");
        case "tool.invalid": case "tool.error": this.notDone(d); return this.note(`${words(d.tool)}: not done.`, "warn");
        case "handoff.requested": case "handoff.queued": return this.setHandoff("waiting");
        case "handoff.claimed": return this.setHandoff("agent", d.agent);
        case "handoff.released": return this.setHandoff("none");
        case "agent.message": return this.agentMessage(d);
        case "error": return this.error(d.message || "Something went wrong; please try again.");
        case "turn.recovered": return this.recovered(turn);
        case "turn.completed": return this.turnCompleted(d, turn);
        default: return undefined; // events for staff views only
      }
    }

    // ---------- rendering ----------
    append(node) {
      const empty = this.log.querySelector(".empty");
      if (empty) empty.remove();
      const typing = this.log.querySelector(".typing");
      this.log.insertBefore(node, typing && typing !== node ? typing : null);
      this.log.scrollTop = this.log.scrollHeight;
      return node;
    }

    note(text, kind) { return this.append(el("p", `note ${kind || ""}`.trim(), text)); }

    error(text) {
      const node = this.append(el("p", "msg error", text));
      this.setBusy(false);
      return node;
    }

    typing(text) {
      let node = this.log.querySelector(".typing");
      if (!node) node = this.append(el("p", "typing"));
      node.textContent = text;
      this.log.scrollTop = this.log.scrollHeight;
    }

    setBusy(busy) {
      this.busy = busy;
      this.sendButton.disabled = busy;
      this.stopButton.hidden = !busy; // the bot's running turn can be stopped (POST …/cancel)
      this.stopButton.disabled = false;
      this.stopButton.textContent = "Stop";
      if (busy) { this.typing("Assistant is typing…"); return; }
      const node = this.log.querySelector(".typing");
      if (node) node.remove();
      if (this.queued) { this.queued = false; this.send(); } // a message typed while the answer streamed
    }

    turnStarted(d, turn) {
      if (typeof d.text === "string") {
        this.userMessage(d.text, turn);
        for (const card of this.cards.values()) if (!card.decided) card.finish("Not confirmed — ask again if you still want this.");
      }
      const resume = d.resume;
      if (resume && this.cards.has(resume.preview_id)) {
        const card = this.cards.get(resume.preview_id);
        if (!card.approval) { // an approval's status (committed with the confirmation) says more
          card.finish(resume.approved ? "Confirmed — working on it…" : "Cancelled. Nothing was changed.");
          card.working = resume.approved;
        }
        this.resumeTurns.set(turn, resume.preview_id);
      }
      this.setBusy(true);
    }

    /** The server that ran this turn stopped; another picked it up and streams the answer again. */
    recovered(turn) {
      if (this.live && !this.live.done && this.live.turn === turn) { this.live.node.remove(); this.live = null; }
      this.setBusy(true);
      this.typing("Still working on it…");
    }

    turnCompleted(d, turn) {
      const previewId = this.resumeTurns.get(turn);
      const card = previewId && this.cards.get(previewId);
      if (card && card.working && d.status === "failed") card.finish("Not done — nothing was changed by this step. You can ask again.");
      if (d.status === "cancelled") this.stoppedTurn(turn, card);
      this.setBusy(false);
    }

    /** The turn ended because it was stopped: drop its unfinished answer and say so. */
    stoppedTurn(turn, card) {
      if (this.live && !this.live.done && this.live.turn === turn) { this.live.node.remove(); this.live = null; }
      if (card && card.working) card.finish("Stopped before it reported back — ask me whether it went through.");
      this.note("Stopped. The assistant will not answer that message; send a new one whenever you like.");
    }

    /** A confirmed write that the server refused or could not run: say so on its card. */
    notDone(d) {
      const previewId = this.callCards.get(d.call_id);
      const card = previewId && this.cards.get(previewId);
      if (card && card.working) card.finish(`Not done: ${d.message || "it could not be completed"}`);
    }

    userMessage(text, turn) {
      if (turn && this.userTurns.has(turn)) return;
      if (turn) this.userTurns.add(turn);
      this.append(el("p", "msg user", text));
    }

    delta(d, turn) {
      const live = this.live;
      if (!live || live.done || live.turn !== turn) {
        this.live = { turn, messageId: d.message_id, done: false, text: "", node: this.append(el("div", "msg bot")) };
        this.live.node.setAttribute("aria-busy", "true");
      } else if (d.message_id && live.messageId !== d.message_id) {
        Object.assign(live, { messageId: d.message_id, text: "" }); // a repaired answer restarts the bubble
      }
      this.live.text += d.text || "";
      this.live.node.textContent = this.live.text;
      this.log.scrollTop = this.log.scrollHeight;
    }

    completed(d, turn, seq) {
      let live = this.live;
      if (!live || live.done || live.turn !== turn) live = { turn, node: this.append(el("div", "msg bot")) };
      live.done = true;
      this.live = live;
      live.node.removeAttribute("aria-busy");
      this.renderAnswer(live.node, String(d.text || ""), Array.isArray(d.citations) ? d.citations : []);
      if (seq && !this.ratings.has(seq)) live.node.after(this.rateBar(seq));
    }

    /** Thumbs up / down under an answer, then an optional comment (PUT …/answers/{seq}/feedback; a new rating replaces). */
    rateBar(seq) {
      const bar = el("div", "rate");
      bar.setAttribute("role", "group");
      bar.setAttribute("aria-label", "Rate this answer");
      const thumb = (rating, word, label) => {
        const button = el("button", `thumb ${rating}`);
        button.innerHTML = THUMB; // a constant icon, never server data
        button.append(word);
        Object.assign(button, { type: "button", title: label });
        button.setAttribute("aria-label", label);
        button.setAttribute("aria-pressed", "false");
        button.addEventListener("click", () => this.rate(seq, rating));
        return button;
      };
      const state = {
        rating: null, comment: null, status: el("span", "rate-status"), form: el("form"), box: el("textarea"),
        up: thumb("up", "Yes", "Thumbs up: this answer was useful"),
        down: thumb("down", "No", "Thumbs down: this answer was not useful"),
      };
      state.status.setAttribute("role", "status");
      Object.assign(state.box, { rows: 1, maxLength: 1000, placeholder: "Tell us more (optional)" });
      state.box.setAttribute("aria-label", "Comment on this answer");
      const submit = el("button", "btn", "Add comment");
      submit.type = "submit";
      state.form.append(state.box, submit);
      state.form.hidden = true;
      state.form.addEventListener("submit", (event) => { event.preventDefault(); this.rate(seq, state.rating, state.box.value); });
      bar.append(el("span", "", "Was this useful?"), state.up, state.down, state.status, state.form);
      this.ratings.set(seq, state);
      return bar;
    }

    /** Record the rating (and comment): the server's feedback.recorded event then shows it everywhere. */
    async rate(seq, rating, comment) {
      const state = this.ratings.get(seq);
      if (!state || !rating) return;
      const text = comment === undefined ? state.comment : comment.trim() || null;
      const body = text ? { rating, comment: text } : { rating };
      const path = `/v1/conversations/${encodeURIComponent(this.cid)}/answers/${seq}/feedback`;
      const response = await this.call("PUT", path, body);
      if (!response.ok) { state.status.textContent = this.message(response, "Your rating was not saved; try again."); return; }
      this.showRating(state, response.json.rating, response.json.comment);
      if (comment === undefined && !state.comment) { state.form.hidden = false; state.box.focus({ preventScroll: true }); }
    }

    feedbackRecorded(d) {
      const state = this.ratings.get(d.message_seq);
      if (state) this.showRating(state, d.rating, d.comment || null);
    }

    showRating(state, rating, comment) {
      Object.assign(state, { rating, comment });
      state.up.setAttribute("aria-pressed", String(rating === "up"));
      state.down.setAttribute("aria-pressed", String(rating === "down"));
      state.status.textContent = comment ? `Thanks for your feedback: “${comment}”` : "Thanks for your feedback.";
      if (comment) { state.form.hidden = true; state.box.value = comment; }
    }

    helpUrl(id) {
      const [doc, n] = String(id).split("#");
      return `${this.api}/help/${encodeURIComponent(doc)}${n ? `#s${n}` : ""}`;
    }

    /** The final answer: inline [doc#n] markers become numbered links, then a list of the sources. */
    renderAnswer(node, text, citations) {
      node.replaceChildren();
      const numbers = new Map();
      citations.forEach((c) => { const id = typeof c === "string" ? c : c.id; if (id && !numbers.has(id)) numbers.set(id, { n: numbers.size + 1, title: c.title || id }); });
      let at = 0;
      for (const match of text.matchAll(/\s?\[([^\s\[\]#"<>]+#\d+)\]/g)) {
        const cite = numbers.get(match[1]);
        if (!cite) continue;
        node.append(text.slice(at, match.index));
        const link = el("a", "cite", `[${cite.n}]`);
        Object.assign(link, { href: this.helpUrl(match[1]), target: "_blank", rel: "noopener" });
        link.setAttribute("aria-label", `Source ${cite.n}: ${cite.title}`);
        node.append(" ", link);
        at = match.index + match[0].length;
      }
      node.append(text.slice(at));
      if (!numbers.size) return;
      const list = el("ol", "sources");
      list.setAttribute("aria-label", "Sources");
      for (const [id, cite] of numbers) {
        const link = el("a", "", cite.title);
        Object.assign(link, { href: this.helpUrl(id), target: "_blank", rel: "noopener" });
        const item = el("li");
        item.append(link);
        list.append(item);
      }
      node.append(list);
    }

    /** A write waiting for the customer: what will change (before → after), Confirm / Cancel. */
    preview(d) {
      const typing = this.log.querySelector(".typing");
      if (typing) typing.remove(); // the turn ends (turn.completed) right after its preview
      const card = el("div", "card");
      card.setAttribute("role", "group");
      const title = el("h3", "", `Please confirm: ${words(d.tool)}`);
      title.id = `preview-${this.cards.size + 1}`;
      card.setAttribute("aria-labelledby", title.id);
      // The server renders every preview as plain sentences from the tool's spec (the same text the agent
      // console and the approvals inbox show).
      const list = el("ul");
      for (const sentence of previewSentences(d)) list.append(el("li", "", sentence));
      const meta = el("p", "meta", d.expires_at ? `Valid until ${new Date(d.expires_at).toLocaleTimeString([], { hour: "numeric", minute: "2-digit" })}` : "");
      const confirm = el("button", "btn primary", "Confirm");
      const cancel = el("button", "btn", "Cancel");
      const outcome = el("p", "outcome");
      outcome.setAttribute("role", "status");
      const row = el("div", "row");
      row.append(confirm, cancel);
      card.append(title, list, meta, row, outcome);
      const state = {
        decided: false,
        working: false, // confirmed, the write not reported yet
        finish: (text) => { state.decided = true; state.working = false; row.hidden = true; outcome.textContent = text; },
      };
      confirm.addEventListener("click", () => this.decide(d.preview_id, true, state));
      cancel.addEventListener("click", () => this.decide(d.preview_id, false, state));
      this.cards.set(d.preview_id, state);
      if (d.call_id) this.callCards.set(d.call_id, d.preview_id);
      this.append(card);
      confirm.focus({ preventScroll: true });
    }

    async decide(previewId, approve, state) {
      if (state.decided) return; // one decision per preview; the server refuses a second one anyway
      state.finish(approve ? "Confirmed — working on it…" : "Cancelled. Nothing was changed.");
      state.working = approve;
      for (let i = 0; this.busy && i < 100; i++) await sleep(100); // the API takes a decision once the turn ended
      const response = await this.call("POST", `/v1/conversations/${encodeURIComponent(this.cid)}/confirmations`,
        { preview_id: previewId, approve });
      if (!response.ok) state.finish(this.message(response, "This confirmation could not be recorded."));
      this.input.focus();
    }

    /** An over-limit write the customer confirmed: where the supervisor's approval stands, on its card. */
    approvalStatus(d) {
      const card = this.cards.get(d.preview_id);
      const text = {
        waiting: "Confirmed — waiting for a supervisor's approval. You can keep chatting; the result will appear here.",
        approved: "Approved by a supervisor — making the change…",
        rejected: "A supervisor declined this change. Nothing was changed.",
        executed: "Done ✓ (approved by a supervisor)",
        failed: `Not done: ${d.message || "it could not be completed"}`,
      }[d.status];
      if (!card || !text) return;
      card.finish(text);
      card.working = d.status === "approved";
      card.approval = d.status;
    }

    executed(d) {
      const previewId = this.callCards.get(d.call_id);
      if (previewId) this.cards.get(previewId).finish("Done ✓");
      this.note(`✓ ${words(d.tool)}`);
    }

    setHandoff(state, agent) {
      const previous = this.handoff;
      this.handoff = state;
      const bar = this.statusBar;
      bar.hidden = state === "none";
      bar.classList.toggle("agent", state === "agent");
      if (state === "waiting") bar.textContent = "Waiting for a human agent… You can keep writing here.";
      if (state === "agent") {
        bar.textContent = `You are chatting with ${agent || "a support agent"}.`;
        this.note(`${agent || "A support agent"} joined the conversation.`);
      }
      if (state === "none" && previous !== "none") this.note("You are back with the virtual assistant.");
      this.humanButton.disabled = state !== "none";
      this.humanButton.textContent = state === "none" ? "Talk to a human" : "A human agent is on the way";
      if (state === "agent") this.humanButton.textContent = "You are talking to a human";
    }

    agentMessage(d) {
      const node = el("div", "msg agent");
      const body = el("span");
      this.renderAnswer(body, String(d.text || ""), Array.isArray(d.citations) ? d.citations : []);
      node.append(el("span", "who", d.agent || "Support agent"), body);
      this.append(node);
    }

    // ---------- actions ----------
    async send() {
      const text = this.input.value.trim();
      if (!text) return;
      if (text.length > MAX_MESSAGE_CHARS) { // refused whole, never cut: the customer shortens it
        this.error(`Your message is ${text.length.toLocaleString("en-US")} characters; the limit is ${MAX_MESSAGE_CHARS.toLocaleString("en-US")}. Please shorten it to the key question or order details and send it again.`);
        return;
      }
      if (this.busy || !this.cid) { this.queued = true; return; } // sent once the turn ends / the chat started
      this.input.value = "";
      this.setBusy(this.handoff !== "agent");
      const response = await this.call("POST", `/v1/conversations/${encodeURIComponent(this.cid)}/messages`, { text });
      if (response.ok && response.json.turn_id === null) this.setBusy(false); // a human owns the conversation
      if (!response.ok) { this.input.value = text; this.error(this.message(response, "Your message was not sent; try again.")); }
    }

    /** Ask the server to stop the bot's running turn; it ends with turn.completed {cancelled} — unless it makes a
     *  change the customer confirmed (the answer's `kept`): that one runs to its end. */
    async stopTurn() {
      if (!this.cid || !this.busy) return;
      this.queued = false; // a message typed meanwhile is not sent after a stop; it stays in the box
      this.stopButton.disabled = true;
      this.stopButton.textContent = "Stopping…";
      const response = await this.call("POST", `/v1/conversations/${encodeURIComponent(this.cid)}/cancel`);
      if (!response.ok) {
        this.stopButton.disabled = false;
        this.stopButton.textContent = "Stop";
        this.note(this.message(response, "The assistant could not be stopped; please try again."), "warn");
        return;
      }
      const kept = response.json.kept || [];
      if (kept.length) { // a change the customer confirmed is a commitment: it is made, then the turn ends
        this.stopButton.textContent = "Making your change…";
        this.note("Your confirmed change is still being made; it can't be stopped now.", "warn");
      } else if (!response.json.cancelled || !response.json.cancelled.length) this.setBusy(false); // it had just ended
      this.input.focus();
    }

    async askHuman() {
      if (!this.cid) return;
      this.humanButton.disabled = true;
      const path = `/v1/conversations/${encodeURIComponent(this.cid)}/handoff`;
      const response = await this.call("POST", path, { reason: "customer_request" });
      if (response.ok) { this.setHandoff(this.handoff === "agent" ? "agent" : "waiting"); return; }
      this.humanButton.disabled = false;
      this.error(this.message(response, "We could not reach a human right now; please try again."));
    }
  }

  window.customElements.define("support-copilot", SupportCopilot);

  // The one-tag embed: <script src=".../widget.js" data-token data-tenant data-api data-open defer>.
  if (script && script.dataset.auto !== "false" && !document.querySelector("support-copilot")) {
    const widget = document.createElement("support-copilot");
    for (const name of ["token", "tenant", "api", "open"]) {
      if (script.dataset[name] !== undefined) widget.setAttribute(name, script.dataset[name]);
    }
    (document.body || document.documentElement).append(widget);
  }
})();
