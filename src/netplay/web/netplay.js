// netplay's JavaScript client: an ES module with no dependencies, for browsers (and any runtime
// with a global WebSocket). The same concepts as the Python client: connect, find a room, send
// moves, react to events. docs/javascript.md documents it; docs/protocol.md lists every message.
//
//   import { connect } from "http://localhost:7777/netplay.js";
//   const client = await connect({ name: "Ann" });
//   client.on("state", (state) => draw(state));
//   await client.quickMatch("tictactoe");
//   await client.move(4);

export const PROTOCOL = 1;

/** The server refused a request; `code` is a stable error code (docs/protocol.md). */
export class NetplayError extends Error {
  constructor(code, message, reply = {}) {
    super(message);
    this.name = "NetplayError";
    this.code = code;
    this.reply = reply;
  }
}

/** The connection ended: the server closed it (with a reason) or went away. */
export class ConnectionClosed extends NetplayError {
  constructor(code, message, reply = {}) {
    super(code, message, reply);
    this.name = "ConnectionClosed";
  }
}

// WebSocket close codes the server uses, as the error codes of the protocol.
const CLOSE_CODES = {
  1001: ["server_shutdown", "the server is shutting down"],
  1009: ["frame_too_large", "a message was larger than the server accepts"],
};

/** The WebSocket address of the server this module was loaded from (its /ws endpoint). */
export function defaultUrl() {
  const url = new URL("ws", import.meta.url);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.href;
}

/**
 * Open a connection and complete the handshake. Resolves to a Client; rejects with a
 * NetplayError if the server refuses, or a ConnectionClosed if it cannot be reached.
 */
export function connect({ url = defaultUrl(), name, token, timeout = 10000 } = {}) {
  return new Promise((resolve, reject) => {
    let socket;
    try {
      socket = new WebSocket(url);
    } catch (error) {
      reject(new ConnectionClosed("connection_failed", String(error.message || error)));
      return;
    }
    const client = new Client(socket);
    const hello = { type: "hello", protocol: PROTOCOL };
    if (name) hello.name = name;
    if (token) hello.token = token; // resume an earlier session: its seats, within the grace period
    // A server that accepts the connection but never answers (stopped, or a dead network) is as
    // unreachable as one that refuses it.
    const unanswered = setTimeout(() => {
      client.disconnect({ code: "connection_failed", message: `no answer from a netplay server at ${url}` });
      reject(new ConnectionClosed("connection_failed", `no answer from a netplay server at ${url}`));
    }, timeout);
    socket.addEventListener("open", () => {
      clearTimeout(unanswered);
      client.request(hello, { timeout }).then(
        (welcome) => {
          client.welcome = welcome;
          client._watch();
          resolve(client);
        },
        (error) => {
          client.disconnect({ code: error.code, message: error.message }); // no session: nothing to keep
          reject(error);
        },
      );
    });
    socket.addEventListener("close", () => {
      clearTimeout(unanswered);
      reject(new ConnectionClosed("connection_failed", `cannot reach a netplay server at ${url}`));
    });
  });
}

export class Client {
  constructor(socket) {
    this.socket = socket;
    this.welcome = {};
    this.closed = false;
    this.closeReason = null;
    /** The room most recently joined; room arguments default to it. */
    this.room = null;
    /** The latest `state` message of each room, by room id. */
    this.states = {};
    this._nextId = 1;
    this._waiters = new Map();
    this._handlers = new Map();
    this._queue = [];
    this._takers = [];
    this._heard = Date.now(); // when the server last said anything
    this._watchdog = null;
    socket.addEventListener("message", (event) => this._receive(event.data));
    socket.addEventListener("close", (event) => this._closedBy(event));
  }

  /** The id the server gave this connection (players are named by it in every state). */
  get id() {
    return String(this.welcome.player ?? this.welcome.id ?? "");
  }

  get name() {
    return String(this.welcome.name ?? "");
  }

  /** The session token: `connect({ token })` with it resumes this session after a dropped connection. */
  get token() {
    return this.welcome.token ?? null;
  }

  /** Whether `connect({ token })` resumed an earlier session (its rooms come back as "joined" events). */
  get resumed() {
    return Boolean(this.welcome.resumed);
  }

  /** This client's seat in the latest state of `room` (null for a spectator or before a game). */
  seat(room = this.room) {
    const state = this.states[room];
    const me = state?.players.find((player) => player && player.id === this.id);
    return me ? me.seat : null;
  }

  // -- events ----------------------------------------------------------------------------------

  /**
   * Call `handler(message)` for every event of this type ("state", "relay", "member_left"...),
   * "*" for every event, or "close" once the connection has ended (with the reason).
   * Returns a function that removes the handler.
   */
  on(type, handler) {
    if (!this._handlers.has(type)) this._handlers.set(type, new Set());
    this._handlers.get(type).add(handler);
    return () => this.off(type, handler);
  }

  off(type, handler) {
    this._handlers.get(type)?.delete(handler);
  }

  /** The next event (oldest first); rejects with ConnectionClosed once the connection has ended. */
  nextEvent(timeout = 0) {
    if (this._queue.length) return Promise.resolve(this._queue.shift());
    if (this.closed) return Promise.reject(this._closedError());
    return new Promise((resolve, reject) => {
      const taker = { resolve, reject };
      this._takers.push(taker);
      if (timeout > 0) {
        setTimeout(() => {
          const index = this._takers.indexOf(taker);
          if (index >= 0) {
            this._takers.splice(index, 1);
            reject(new NetplayError("timeout", `no event within ${timeout} ms`));
          }
        }, timeout);
      }
    });
  }

  /** Skip events until one of `type` whose fields equal `fields`; resolve to it. */
  async waitFor(type, fields = {}, timeout = 10000) {
    const deadline = Date.now() + timeout;
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) throw new NetplayError("timeout", `no ${type} event within ${timeout} ms`);
      const event = await this.nextEvent(left);
      if (event.type === type && Object.entries(fields).every(([k, v]) => event[k] === v)) {
        return event;
      }
    }
  }

  /** `for await (const event of client)`: every event until the connection ends. */
  async *[Symbol.asyncIterator]() {
    for (;;) {
      try {
        yield await this.nextEvent();
      } catch (error) {
        if (error instanceof ConnectionClosed) return;
        throw error;
      }
    }
  }

  // -- requests --------------------------------------------------------------------------------

  /** Send a message as it is, without waiting for anything; errors arrive as "error" events. */
  send(message) {
    if (this.closed) throw this._closedError();
    this.socket.send(JSON.stringify(message));
  }

  /** Send a request and resolve to the server's reply; reject with NetplayError if it refuses. */
  request(message, { timeout = 10000 } = {}) {
    if (this.closed) return Promise.reject(this._closedError());
    const id = this._nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this._waiters.delete(id);
        reject(new NetplayError("timeout", `no reply to ${message.type} within ${timeout} ms`));
      }, timeout);
      this._waiters.set(id, { resolve, reject, timer });
      this.socket.send(JSON.stringify({ ...message, id }));
    });
  }

  async listGames() {
    return (await this.request({ type: "list_games" })).games;
  }

  /** The lobby (of `game`), oldest room first: the server's pages one after another, up to `most`. */
  async listRooms(game, { most = 1000 } = {}) {
    const message = { type: "list_rooms" };
    if (game) message.game = game;
    const rooms = [];
    while (rooms.length < most) {
      const reply = await this.request({ ...message });
      rooms.push(...reply.rooms);
      if (reply.next == null) break;
      message.after = reply.next;
    }
    return rooms.slice(0, most);
  }

  /**
   * Create a room and join it; resolves to the `joined` reply (with `code` if private).
   * `clock` is a time control for its games: "300+5" (seconds each, plus seconds a move), "5m+3",
   * or "30/move".
   */
  createRoom(game, { kind = "match", private: isPrivate = false, options, maxMembers, spectate, clock } = {}) {
    const message = { type: "create_room", kind, private: isPrivate };
    if (game) message.game = game;
    if (options) message.options = options;
    if (clock) message.clock = clock;
    if (maxMembers) message.max_members = maxMembers;
    if (spectate) message.spectate = true;
    return this.request(message);
  }

  /** Join a room by id, or a private room by its code: `join(id)`, `join(null, { code })`. */
  join(room, { code, spectate = false } = {}) {
    const message = { type: "join_room", spectate };
    if (room) message.room = room;
    if (code) message.code = code;
    return this.request(message);
  }

  /** Join an open public room of `game` (with the same `clock`, if any), or open one and wait there. */
  quickMatch(game, { kind = "match", clock } = {}) {
    const message = { type: "quick_match", game, kind };
    if (clock) message.clock = clock;
    return this.request(message);
  }

  leave(room = this.room) {
    return this.request({ type: "leave_room", room: this._room(room) });
  }

  /**
   * Send a move; resolves once the server accepted it (the new state arrives as a "state"
   * event), rejects with the server's reason if it refused it. `version` defaults to the latest
   * state's, so a move made on stale information is refused.
   */
  move(move, { room = this.room, version } = {}) {
    const id = this._room(room);
    const message = { type: "move", room: id, move };
    const known = version ?? this.states[id]?.version;
    if (known !== undefined) message.version = known;
    return this.request(message);
  }

  rematch(room = this.room) {
    return this.request({ type: "rematch", room: this._room(room) });
  }

  /** Give up the game in progress: the others win (reason "resign"). */
  resign(room = this.room) {
    return this.request({ type: "resign", room: this._room(room) });
  }

  /**
   * Offer a draw, or accept the one on the table: once every player has offered, the game is a
   * draw (reason "agreed"). The others get a "draw_offered" event; a move by one of them declines.
   */
  offerDraw(room = this.room) {
    return this.request({ type: "offer_draw", room: this._room(room) });
  }

  /** Decline the draw on offer (everyone gets a "draw_declined" event). */
  declineDraw(room = this.room) {
    return this.request({ type: "decline_draw", room: this._room(room) });
  }

  /** Seat a server-side bot in a free seat (the game's first bot unless named). */
  addBot(bot, room = this.room) {
    const message = { type: "add_bot", room: this._room(room) };
    if (bot) message.bot = bot;
    return this.request(message);
  }

  /** Send `data` to every other member of a relay room (no reply: it is meant to be frequent). */
  relay(data, room = this.room) {
    this.send({ type: "relay", room: this._room(room), data });
  }

  /**
   * Leave for good: say "bye" (the server gives up this session's seats at once, without waiting
   * for it to come back), then close the connection.
   */
  close() {
    if (!this.closed && !this.closeReason) {
      this.closeReason = { type: "error", code: "closed", message: "closed by this client" };
    }
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify({ type: "bye" }));
    this.socket.close(1000);
  }

  /**
   * Drop the connection without saying "bye": the server keeps this session's seats for its
   * grace period (the others see "member_disconnected"), and `connect({ token })` resumes them.
   * What a page being reloaded does. The connection counts as ended at once: "close" handlers
   * run now, with `reason` (default code "disconnected"), and nothing more is received.
   */
  disconnect(reason = { code: "disconnected", message: "disconnected by this client" }) {
    if (this.closed) return;
    this.closeReason = { type: "error", ...reason };
    this._closedBy({ code: 1000 });
    try {
      this.socket.close(1000);
    } catch {
      // not open yet, or already closing: the server sees the connection drop either way
    }
  }

  // -- plumbing --------------------------------------------------------------------------------

  _room(room) {
    if (!room) throw new NetplayError("not_in_room", "join a room first");
    return room;
  }

  // Ping a quiet server every `heartbeat` seconds (from the welcome); give up on one silent for
  // `idle_timeout` (a dead network, a stopped server), as the server gives up on a silent client.
  _watch() {
    const heartbeat = Number(this.welcome.heartbeat) || 15;
    const idle = Number(this.welcome.idle_timeout) || 45;
    clearInterval(this._watchdog);
    this._watchdog = setInterval(() => {
      const silent = (Date.now() - this._heard) / 1000;
      if (silent > idle) {
        this.disconnect({ code: "connection_lost", message: "the server stopped answering" });
      } else if (silent >= heartbeat) {
        this.request({ type: "ping" }, { timeout: idle * 1000 }).catch(() => {});
      }
    }, heartbeat * 1000);
  }

  _receive(data) {
    if (this.closed) return; // disconnected: whatever was still on its way is not for us
    this._heard = Date.now();
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      return;
    }
    if (!message || typeof message.type !== "string") return;
    const type = message.type;
    if (type === "ping") {
      this.send({ type: "pong" });
      return;
    }
    if (type === "joined") this.room = message.room.id;
    else if ((type === "left" || type === "room_closed") && message.room === this.room) this.room = null;
    else if (type === "state") this.states[message.room] = message;
    else if (type === "error" && message.fatal) this.closeReason = message;
    const waiter = message.re !== undefined ? this._waiters.get(message.re) : undefined;
    if (waiter) {
      this._waiters.delete(message.re);
      clearTimeout(waiter.timer);
      if (type === "error") waiter.reject(new NetplayError(message.code, message.message, message));
      else waiter.resolve(message);
      return;
    }
    this._emit(type, message);
  }

  _emit(type, message) {
    if (this._takers.length) this._takers.shift().resolve(message);
    else if (this._queue.push(message) > 1000) this._queue.shift(); // nobody reads: keep the latest
    for (const key of [type, "*"]) {
      for (const handler of this._handlers.get(key) ?? []) {
        try {
          handler(message);
        } catch (error) {
          console.error("netplay: a handler failed", error);
        }
      }
    }
  }

  _closedBy(event) {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this._watchdog);
    if (!this.closeReason) {
      const [code, message] = CLOSE_CODES[event.code] ?? ["connection_lost", "the connection to the server was lost"];
      this.closeReason = { type: "error", code, message };
    }
    const error = this._closedError();
    for (const waiter of this._waiters.values()) {
      clearTimeout(waiter.timer);
      waiter.reject(error);
    }
    this._waiters.clear();
    for (const taker of this._takers.splice(0)) taker.reject(error);
    for (const handler of this._handlers.get("close") ?? []) handler(this.closeReason);
  }

  _closedError() {
    const reason = this.closeReason ?? { code: "closed", message: "the connection is closed" };
    return new ConnectionClosed(reason.code, reason.message, reason);
  }
}
