// A game's own board (its `web_board` module, served at /games/NAME/board.js), run in a sandboxed
// frame: <iframe sandbox="allow-scripts">, without allow-same-origin, so the board's origin is
// opaque. It cannot reach this page, its storage, its cookies or its connection, and a content
// security policy keeps it from fetching or connecting anywhere at all. It sees only what the page
// posts to it, and can only post moves back.
//
// The bridge, both ways by postMessage:
//   page -> frame  {type: "state", state, seat}  each state message, and the seat this page plays
//                                                (null: watching, or offline)
//   frame -> page  {type: "ready"}               the board module loaded: send the latest state
//                  {type: "move", move}          play this move (sent only while it is our turn)
//                  {type: "resize", height}      the board's height in pixels (the page clamps it)
//                  {type: "failed", message}     the board module could not be loaded or started
// The page takes messages only from its own frame's window; anything else is dropped.
//
// Same interface as the page's other boards: new SandboxBoard(container, onMove, url), render, focus.

import { mayAct } from "./boards.js";

const MIN_HEIGHT = 120;
const MAX_HEIGHT = 1600;

// The frame's whole document (its srcdoc): a policy that lets in only the board module (and this
// inline bootstrap), an empty root for the board, and the bridge's frame side.
function bootstrap(boardUrl, title) {
  const policy = [
    "default-src 'none'",
    `script-src 'unsafe-inline' ${boardUrl}`,
    "style-src 'unsafe-inline'",
    "img-src data: blob:",
    "font-src data:",
    "media-src data: blob:",
    "form-action 'none'",
    "base-uri 'none'",
  ].join("; ");
  const script = `
const root = document.getElementById("root");
const post = (message) => parent.postMessage(message, "*");
let board = null;
window.addEventListener("message", (event) => {
  if (event.source !== parent || !board) return;
  const data = event.data;
  if (data && data.type === "state") {
    try {
      board.render(data.state, data.seat);
    } catch (error) {
      console.error(error);
    }
  }
});
new ResizeObserver(() => post({ type: "resize", height: document.body.getBoundingClientRect().height }))
  .observe(document.body);
try {
  const module = await import(${JSON.stringify(boardUrl)});
  const create = module.default;
  if (typeof create !== "function") throw new Error("the board module has no default export createBoard");
  board = create(root, { move: (move) => post({ type: "move", move }) });
  if (!board || typeof board.render !== "function") throw new Error("createBoard returned no render");
  post({ type: "ready" });
} catch (error) {
  post({ type: "failed", message: String(error && error.message || error) });
}`;
  const escape = (text) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/"/g, "&quot;");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${escape(policy)}">
<title>${escape(title)}</title>
<style>html,body{margin:0;background:transparent;color:#1d2433;font:16px/1.4 system-ui,sans-serif}body{display:flow-root}</style>
</head><body><div id="root"></div>
<script type="module">${script.replace(/<\/script/gi, "<\\/script")}</script></body></html>`;
}

export class SandboxBoard {
  static hint = "";

  constructor(container, onMove, url, { title = "Game board", onFailure = () => {} } = {}) {
    this.onMove = onMove;
    this.onFailure = onFailure;
    this.url = new URL(url, location.href).href;
    this.frame = document.createElement("iframe");
    this.frame.className = "sandbox-board";
    this.frame.title = title;
    this.frame.setAttribute("sandbox", "allow-scripts");
    this.frame.setAttribute("referrerpolicy", "no-referrer");
    this.frame.srcdoc = bootstrap(this.url, title);
    this.frame.style.height = `${MIN_HEIGHT * 3}px`;
    this.ready = false;
    this.latest = null; // the last state posted to (or waiting for) the frame: [state, seat]
    this.moving = false; // a move the board sent is on its way: another waits for the answer
    this.onMessage = (event) => this.receive(event);
    window.addEventListener("message", this.onMessage);
    container.replaceChildren(this.frame);
  }

  receive(event) {
    if (!this.frame.isConnected) {
      window.removeEventListener("message", this.onMessage); // the room was left
      return;
    }
    // Only our frame's window, and only while it holds the opaque-origin document we gave it.
    if (event.source !== this.frame.contentWindow || event.origin !== "null") return;
    const data = event.data;
    if (!data || typeof data !== "object") return;
    switch (data.type) {
      case "ready":
        this.ready = true;
        if (this.latest) this.post(...this.latest);
        break;
      case "move":
        this.play(data.move);
        break;
      case "resize":
        if (Number.isFinite(data.height)) {
          const height = Math.min(MAX_HEIGHT, Math.max(MIN_HEIGHT, Math.ceil(data.height)));
          this.frame.style.height = `${height}px`;
        }
        break;
      case "failed":
        this.onFailure(String(data.message ?? "").slice(0, 300));
        break;
    }
  }

  async play(move) {
    const [state, seat] = this.latest ?? [null, null];
    if (this.moving || !mayAct(state, seat)) return; // not now: the board only asked out of turn
    let copy;
    try {
      copy = JSON.parse(JSON.stringify(move)); // plain JSON only, as the server takes it
    } catch {
      return;
    }
    if (copy === undefined) return;
    this.moving = true;
    try {
      await this.onMove(copy);
    } finally {
      this.moving = false;
    }
  }

  post(state, seat) {
    this.frame.contentWindow?.postMessage({ type: "state", state, seat }, "*");
  }

  render(message, mySeat) {
    if (!message) return; // the board is first drawn with the first state of a game
    this.latest = [message, mySeat ?? null];
    if (this.ready) this.post(message, mySeat ?? null);
  }

  focus() {
    this.frame.focus();
  }
}
