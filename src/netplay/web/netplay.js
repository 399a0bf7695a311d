// netplay's JavaScript client: an ES module with no dependencies, for browsers (and any runtime
// with a global WebSocket). The same concepts as the Python client: connect, find a room, send
// moves, react to events. docs/javascript.md documents it; docs/protocol.md lists every message.
//
//   import { connect } from "http://localhost:7777/netplay.js";
//   const client = await connect({ name: "Ann" });
//   client.on("state", (state) => draw(state));
//   await client.quickMatch("tictactoe");
//   await client.move(4);
//
// Real-time rooms (pong, arena) send views instead of states: each room's RealtimeView (below)
// takes them, and the client asks for a keyframe when one does not fit, times the round trip, and
// stamps inputs: client.input({ dir: -1 }), then draw client.view().predicted().

import { PatchError, applyPatch, canonical, stateHash } from "./delta.js";

export const PROTOCOL = 1;

/** How often a client in a real-time room times a ping to know its round trip, in milliseconds. */
export const RTT_EVERY = 2000;

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
    /** This client's copy of each real-time room it is in (a RealtimeView), by room id. */
    this.views = {};
    this._rules = {}; // rules modules to predict with, by game name (predictWith)
    this._rttSent = null; // [ping id, sent at] of the round-trip ping on its way
    this._rttAt = -Infinity;
    this._rttCount = 0;
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

  /**
   * This client's seat in the latest state of `room` (null for a spectator or before a game); in a
   * real-time room, its seat there (null for a spectator).
   */
  seat(room = this.room) {
    const state = this.states[room];
    if (!state && this.views[room]) return this.views[room].seat;
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

  /**
   * Join an open public room of `game` with the same `clock`, made with each of the game
   * `options` named (none: any room), or open one with them and wait there.
   */
  quickMatch(game, { kind = "match", clock, options } = {}) {
    const message = { type: "quick_match", game, kind };
    if (clock) message.clock = clock;
    if (options && Object.keys(options).length) message.options = options;
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

  // -- real-time rooms ---------------------------------------------------------------------------

  /** This client's copy of a real-time room (a RealtimeView), or null if it is in no such room. */
  view(room = this.room) {
    return this.views[room] ?? null;
  }

  /**
   * Send an input to a real-time room, stamped with its sequence number and the tick it is meant
   * for (RealtimeView.input); returns the message sent. No reply: a refusal (an input the game does
   * not take, one far too late) comes back as an "error" event with the input's `seq`.
   */
  input(data, room = this.room) {
    const view = this.views[this._room(room)];
    if (!view) throw notRealtime(room);
    const message = view.input(data, performance.now());
    this.send(message);
    return message;
  }

  /**
   * Resolve to a real-time room's view once it is past tick `after` (default: the tick it has now):
   * a bot or a test steps once per view, with no clock of its own. Rejects after `timeout` ms.
   */
  nextView(room = this.room, { after, timeout = 10000 } = {}) {
    const id = this._room(room);
    const view = this.views[id];
    if (!view) return Promise.reject(notRealtime(id));
    const past = after ?? view.tick;
    if (view.tick > past) return Promise.resolve(view);
    if (this.closed) return Promise.reject(this._closedError());
    return new Promise((resolve, reject) => {
      const done = (settle, value) => {
        clearTimeout(timer);
        offView();
        offClose();
        settle(value);
      };
      const offView = this.on("view", (event) => event.room === id && event.tick > past && done(resolve, view));
      const offClose = this.on("close", () => done(reject, this._closedError()));
      const late = () => done(reject, new NetplayError("timeout", `no view within ${timeout} ms`));
      const timer = setTimeout(late, timeout);
    });
  }

  /**
   * Predict this client's own movement in rooms of the game `gameName` with `rules`, a module with
   * a pure `tick(state, inputs)` (and, optionally, `own(view, seat)` and `isOver(state)`), such as
   * boards/pong_rules.js.
   */
  predictWith(gameName, rules) {
    this._rules[gameName] = rules;
    for (const view of Object.values(this.views)) {
      if (view.gameName === gameName) view.rules = rules;
    }
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
    if (type === "joined") {
      this.room = message.room.id;
      this._track(message);
    } else if (type === "left" || type === "room_closed") {
      if (message.room === this.room) this.room = null;
      delete this.views[message.room];
    } else if (type === "state") this.states[message.room] = message;
    else if (type === "error" && message.fatal) this.closeReason = message;
    else if (type === "keyframe" || type === "patch") {
      if (this._realtime(message)) return;
    } else if (type === "pong" && this._rttSent && message.re === this._rttSent[0]) {
      this._timed();
      return;
    }
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

  // A real-time room just joined (or given back after a reconnect) gets its view.
  _track(joined) {
    const info = joined.room;
    if (info.kind !== "realtime") return;
    let view = this.views[info.id];
    if (!view) {
      view = new RealtimeView(info.id, this._rules[info.game] ?? null, { gameName: info.game });
      this.views[info.id] = view;
    }
    if (info.tick_rate) view.tickRate = info.tick_rate;
    if (info.patch_rate) view.patchRate = info.patch_rate;
    if (joined.seat !== undefined) view.seat = joined.role === "player" ? joined.seat : null;
  }

  // Take a keyframe or patch into its room's view, or ask for a keyframe if it does not fit; time a
  // ping now and then. True: handled (a patch is no event; a keyframe is one).
  _realtime(message) {
    const view = this.views[message.room];
    if (!view) return false;
    const now = performance.now();
    let tick;
    try {
      tick = view.receive(message, now);
    } catch (error) {
      if (!(error instanceof Diverged)) throw error;
      this.send({ type: "resync", room: message.room });
      return true;
    }
    // A keyframe says which input the server applied last: a page reloaded in a game goes on
    // numbering after it (its new view starts from nothing; the server refuses an old number).
    if (tick != null && message.type === "keyframe" && Number.isInteger(message.ack)) {
      view.resumeAfter(message.ack);
    }
    const waited = this._rttSent ? now - this._rttSent[1] : 0;
    if (now - this._rttAt >= RTT_EVERY && (!this._rttSent || waited > 5 * RTT_EVERY)) {
      this._rttCount += 1;
      this._rttSent = [`rtt-${this._rttCount}`, now];
      this._rttAt = now;
      this.send({ type: "ping", id: this._rttSent[0] });
    }
    if (tick != null) {
      const handlers = this._handlers.get("view");
      if (handlers?.size) {
        const event = { type: "view", room: message.room, tick, keyframe: message.type === "keyframe", view };
        for (const handler of handlers) {
          try {
            handler(event);
          } catch (error) {
            console.error("netplay: a handler failed", error);
          }
        }
      }
    }
    return message.type === "patch";
  }

  // The answer to a round-trip ping: every real-time view's rtt, as a moving average.
  _timed() {
    const rtt = performance.now() - this._rttSent[1];
    this._rttSent = null;
    for (const view of Object.values(this.views)) view.addRttSample(rtt);
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

// -- real-time rooms -------------------------------------------------------------------------------

function notRealtime(room) {
  return new NetplayError("not_in_room", `room ${room} is not a real-time room this client is in`);
}

/** A patch did not apply to the view it was made against, or gave the wrong hash: resync. */
export class Diverged extends Error {
  constructor(message) {
    super(message);
    this.name = "Diverged";
  }
}

const isPlainObject = (value) => value !== null && typeof value === "object" && !Array.isArray(value);

/** `old` and `next` mixed at `t` (0: old, 1: next): numbers in both linearly, the rest next's. */
export function blend(old, next, t) {
  if (typeof next === "number" && typeof old === "number") return old + (next - old) * t;
  if (Array.isArray(next)) {
    if (!Array.isArray(old) || old.length !== next.length) return next;
    return next.map((item, i) => blend(old[i], item, t));
  }
  if (isPlainObject(next) && isPlainObject(old)) {
    const out = {};
    for (const [key, value] of Object.entries(next)) {
      const mixed = Object.prototype.hasOwnProperty.call(old, key) ? blend(old[key], value, t) : value;
      // defineProperty: a view's key "__proto__" stays a key (it comes from the network)
      Object.defineProperty(out, key, { value: mixed, enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  return next;
}

/** Ticks per second the timeline drifts back when no view comes as early as the best one did. */
export const DRIFT = 0.5;
/** Seconds without a late input after which the margin a late one added is taken back, one tick. */
export const MARGIN_DECAY = 10;
const SNAPSHOTS = 32; // views kept for interpolation
const BASES = 64; // views kept for patches made against one of them

/**
 * One member's copy of a real-time match, sans I/O: the port of netplay.client.realtime (its
 * docstring has the whole model). It takes the server's keyframes and patches (`receive`), stamps
 * this player's inputs (`input`), and says what to draw (`predicted`, `interpolated`). Times are
 * milliseconds on the clock of performance.now(), passed in (`now`; that clock by default), so a
 * test can run it on a clock of its own.
 *
 * The timeline: each view received gives an offset, its tick less now * tick_rate; the timeline is
 * the largest one seen (the least delayed view), drifting back DRIFT ticks a second, and jumping
 * back at once if it is more than a second off. The client's tick, which inputs are stamped with,
 * is floor(timeline + now * tick_rate + rtt * tick_rate) + 1 + margin, and never goes back.
 *
 * Prediction: with the game's rules module (a pure `tick(state, inputs)`, the port of the
 * server's; optionally `validateInput`, `own` and `isOver`), `predicted(now)` is the newest view run
 * on, tick by tick, through this player's inputs the server has not acknowledged, up to the client's
 * tick. When the server's view of tick T arrives, the player's own part of it (`rules.own(view,
 * seat)`, else the whole view) is compared with the prediction of T from what was held before:
 * a difference counts in `corrections`.
 *
 * Interpolation: `interpolated(now)` is the view at the tick the timeline reached `delay` ms ago
 * (two patch intervals by default), blended between the two views around that tick (`blend`).
 */
export class RealtimeView {
  constructor(room, rules = null, { gameName = "", margin = 1, delay = null } = {}) {
    this.room = room;
    this.rules = rules;
    /** The game's name, as the room lists it. */
    this.gameName = gameName;
    /**
     * Ticks to spare: how much earlier than needed an input is meant to reach the server. It grows
     * by one each time the server applies an input late, up to a sixth of a second, and shrinks
     * back after MARGIN_DECAY seconds without one.
     */
    this.margin = margin;
    this._baseMargin = margin;
    this._lateAt = 0; // seconds
    /** Inputs this client saw the server apply after the tick they were meant for. */
    this.late = 0;
    /** The newest authoritative view, its tick, and this member's seat (null: spectating). */
    this.view = null;
    this.tick = -1;
    this.seat = null;
    this.tickRate = 30;
    this.patchRate = 20;
    this.status = "waiting";
    this.outcome = null;
    this.players = [];
    /** The number of the match in the room (a rematch is the next one). */
    this.game = 0;
    /** Round-trip time in milliseconds (the Client times it with pings: addRttSample); a slow link until then. */
    this.rtt = 250;
    this._rttSamples = 0;
    /** Predictions of this player's own part that the server's view of the same tick contradicted. */
    this.corrections = 0;
    /** Patches and keyframes taken, and patches refused (they did not fit: resync needed). */
    this.patches = 0;
    this.keyframes = 0;
    this.diverged = 0;
    /** How far back `interpolated` looks, in ms (null: two patch intervals). */
    this.delay = delay;
    this._seq = -1;
    this._pending = []; // [seq, tick, data] sent and not acknowledged
    this._chain = []; // predicted states of ticks this.tick + 1, + 2...
    this._snapshots = []; // [tick, view], oldest first
    this._bases = new Map(); // views by tick, for patches made against any of them
    this._timeline = null; // the largest (tick - now * tick_rate) seen, drifting back
    this._timelineAt = 0; // when it was last updated (seconds)
    this._clock = -1; // the highest client tick given out: the client's tick never goes back
    this._lateSeqs = new Set(); // pending inputs already counted late
    this._resyncing = false; // a patch did not fit: the ones until the next keyframe cannot either
  }

  // Count a patch that did not fit; the next ones are made against it too: skip them.
  _diverged(why) {
    this.diverged += 1;
    this._resyncing = true;
    return new Diverged(why);
  }

  // -- from the server ---------------------------------------------------------------------------

  /**
   * Take a `keyframe` or `patch` message; return the tick of the view taken (null: nothing). Throws
   * Diverged when a patch does not fit (send `resync`: a keyframe follows, and the patches before
   * it, made against the view that did not fit, are passed over).
   */
  receive(message, now = performance.now()) {
    const kind = message.type;
    const tick = message.tick;
    if (!Number.isInteger(tick)) return null;
    let view;
    if (kind === "keyframe") {
      view = message.state;
      const game = message.game ?? this.game;
      if (game !== this.game || tick < this.tick) this._reset(); // a new match, or one restored earlier
      this.game = game;
      this.tickRate = message.tick_rate ?? this.tickRate;
      this.patchRate = message.patch_rate ?? this.patchRate;
      this.players = message.players ?? this.players;
      this.keyframes += 1;
      this._resyncing = false;
    } else if (kind === "patch") {
      // Older than what it has, or on the way before the keyframe asked for.
      if (tick <= this.tick || this._resyncing) return null;
      const baseTick = message.base;
      let base;
      if (baseTick === this.tick) base = this.view;
      else if (Number.isInteger(baseTick) && this._bases.has(baseTick)) base = this._bases.get(baseTick);
      else throw this._diverged(`a patch against tick ${baseTick}, which this client does not have`);
      try {
        view = applyPatch(base, message.ops);
      } catch (error) {
        throw this._diverged(error instanceof PatchError ? error.message : `the patch does not apply: ${error}`);
      }
      if (stateHash(view) !== message.hash) {
        throw this._diverged(`the view of tick ${tick} does not match the server's hash`);
      }
      this.patches += 1;
    } else {
      return null;
    }
    if (message.seat !== undefined) this.seat = message.seat;
    if (tick > this.tick && this._predicting()) this._check(tick, view);
    this.view = view;
    this.tick = tick;
    if (kind === "keyframe") {
      this.status = message.status ?? this.status;
      this.outcome = message.outcome ?? null;
    }
    this._chain = []; // a new base: predictions start again from it
    this._bases.set(tick, view);
    while (this._bases.size > BASES) this._bases.delete(this._bases.keys().next().value);
    const snapshots = this._snapshots;
    if (snapshots.length && snapshots[snapshots.length - 1][0] >= tick) snapshots.pop(); // the newest wins
    snapshots.push([tick, view]);
    if (snapshots.length > SNAPSHOTS) snapshots.shift();
    this._observe(tick, now);
    // A patch of a view everyone shares carries every seat's latest applied input (`acks`: the same
    // message for all); other views their member's (`ack`).
    const ack = Array.isArray(message.acks) && this.seat != null ? message.acks[this.seat] : message.ack;
    if (Number.isInteger(ack) && this.seat != null) this._applied(ack, tick, now);
    return tick;
  }

  _reset() {
    this._pending = [];
    this._chain = [];
    this._snapshots = [];
    this._bases.clear();
    this._timeline = null;
    this._clock = -1;
    this._lateSeqs.clear();
    this.tick = -1;
    this.status = "waiting";
  }

  // Count a correction if the prediction of `tick` from what was held differs from `view`.
  _check(tick, view) {
    if (tick - this.tick > 2 * this.tickRate) return; // too long a gap to have predicted (a stall)
    const guess = this._predict(tick);
    if (canonical(this._own(guess)) !== canonical(this._own(view))) this.corrections += 1;
  }

  // The server has applied this member's inputs up to `ack` by `tick`: forget them, and those it
  // can no longer apply (it applies a late input at most tick_rate / 2 ticks late). One still
  // pending for a tick the view has passed came late: give the next ones more margin.
  _applied(ack, tick, nowMs) {
    const now = nowMs / 1000;
    const pending = this._pending;
    while (pending.length && pending[0][0] <= ack) pending.shift();
    if (pending.length && pending[0][1] <= tick && !this._lateSeqs.has(pending[0][0])) {
      this._lateSeqs.add(pending[0][0]);
      this.late += 1;
      this.margin = Math.min(this.margin + 1, Math.max(this._baseMargin, Math.floor(this.tickRate / 6)));
      this._lateAt = now;
    } else if (this.margin > this._baseMargin && now - this._lateAt >= MARGIN_DECAY) {
      this.margin -= 1;
      this._lateAt = now;
    }
    if (this._lateSeqs.size > 64) this._lateSeqs = new Set([...this._lateSeqs].filter((seq) => seq > ack));
    const lastChance = tick - Math.floor(this.tickRate / 2);
    if (this._pending.length && this._pending[0][1] <= lastChance) {
      this._pending = this._pending.filter((input) => input[1] > lastChance);
    }
  }

  // Move the timeline with a view of `tick` that arrived at `now` (ms). Inside, times are in seconds,
  // each formula as netplay.client.realtime writes it: both compute the very same numbers.
  _observe(tick, now) {
    const at = now / 1000;
    const offset = tick - at * this.tickRate;
    let line = this._timeline;
    if (line !== null && offset < line) {
      line -= DRIFT * Math.max(at - this._timelineAt, 0);
      if (offset < line - this.tickRate) line = offset; // more than a second behind: follow the server
    }
    this._timeline = line === null || offset > line ? offset : line;
    this._timelineAt = at;
  }

  // -- the clock ---------------------------------------------------------------------------------

  /**
   * Fold in one measured round trip (ms): the first replaces the assumed one, each later one moves
   * the estimate a fifth of the way to it (one slow answer moves it a little).
   */
  addRttSample(ms) {
    this.rtt = this._rttSamples === 0 ? ms : 0.8 * this.rtt + 0.2 * ms;
    this._rttSamples += 1;
  }

  // The tick whose view is arriving now, by the timeline (the newest tick if there is none).
  _arriving(now) {
    if (this._timeline === null) return this.tick;
    return this._timeline + (now / 1000) * this.tickRate;
  }

  /** The tick the server is at now, as well as this client can tell. */
  serverTick(now = performance.now()) {
    return Math.max(this.tick, Math.floor(this._arriving(now) + ((this.rtt / 1000) / 2) * this.tickRate));
  }

  /** The tick this client's inputs are meant for now: far enough ahead to arrive in time; never goes back. */
  clientTick(now = performance.now()) {
    const ahead = Math.floor(this._arriving(now) + (this.rtt / 1000) * this.tickRate) + 1 + this.margin;
    this._clock = Math.max(this._clock, ahead, this.tick + 1);
    return this._clock;
  }

  // -- to the server -----------------------------------------------------------------------------

  /** The `input` message for `data`, stamped; kept to predict with until the server applies it. */
  input(data, now = performance.now()) {
    this._seq += 1;
    let tick = this.clientTick(now);
    const last = this._pending[this._pending.length - 1];
    if (last && last[1] >= tick) tick = last[1] + 1; // one input per tick: the server keeps one per tick
    this._clock = Math.max(this._clock, tick);
    this._pending.push([this._seq, tick, data]);
    this._chain.length = Math.min(this._chain.length, Math.max(tick - this.tick - 1, 0)); // from its tick on
    return { type: "input", room: this.room, seq: this._seq, tick, data };
  }

  /** Go on numbering inputs after `seq` (the server's ack: a page reloaded in a game does). */
  resumeAfter(seq) {
    this._seq = Math.max(this._seq, seq);
  }

  /** Inputs sent and not yet applied by the server. */
  get pending() {
    return this._pending.length;
  }

  // -- what to draw ------------------------------------------------------------------------------

  /**
   * The view at the client's tick: the server's, run on through this player's own inputs. Without
   * rules (or for a spectator, or once the game is over) it is the server's view.
   */
  predicted(now = performance.now()) {
    if (!this._predicting()) return this.view;
    return this._predict(Math.min(this.clientTick(now), this.tick + 2 * this.tickRate));
  }

  _predicting() {
    return this.rules != null && this.view != null && this.seat != null && this.status === "playing";
  }

  // The predicted state of tick `target` (or of the tick the game ends, if before); the states are
  // kept until a view or an input changes them.
  _predict(target) {
    const { rules, seat } = this;
    const chain = this._chain;
    const first = this.tick + 1;
    if (target < first) return this.view;
    if (chain.length < target - first + 1) {
      let state = chain.length ? chain[chain.length - 1] : this.view;
      if (!chain.length || !rules.isOver?.(state)) {
        const inputs = this._inputs(first);
        for (let n = first + chain.length; n <= target; n++) {
          const data = inputs.get(n);
          state = rules.tick(state, data !== undefined ? { [seat]: data } : {});
          chain.push(state);
          if (rules.isOver?.(state)) break;
        }
      }
    }
    return chain.length ? chain[Math.min(target - first, chain.length - 1)] : this.view;
  }

  // This player's pending inputs by the tick the server will apply them at (a late one: `first`);
  // one the rules refuse never moves anything, there as here.
  _inputs(first) {
    const { rules, view, seat } = this;
    const inputs = new Map();
    for (const [, tick, data] of this._pending) {
      let refused = null;
      try {
        refused = rules.validateInput ? rules.validateInput(view, seat, data) : null;
      } catch {
        refused = "the rules failed on it";
      }
      if (refused == null) inputs.set(Math.max(tick, first), data); // a later one for the tick wins
    }
    return inputs;
  }

  /** The view at the tick the timeline reached `delay` ms ago, blended between the two views around it. */
  interpolated(now = performance.now()) {
    const snapshots = this._snapshots;
    if (!snapshots.length || this._timeline === null) return this.view;
    const delay = this.delay != null ? this.delay / 1000 : 2.0 / Math.max(this.patchRate, 1); // seconds
    const at = this._arriving(now) - delay * this.tickRate;
    if (at >= snapshots[snapshots.length - 1][0]) return snapshots[snapshots.length - 1][1];
    for (let i = snapshots.length - 1; i > 0; i--) {
      const [t0, older] = snapshots[i - 1];
      const [t1, newer] = snapshots[i];
      if (t0 <= at) return blend(older, newer, (at - t0) / (t1 - t0));
    }
    return snapshots[0][1];
  }

  _own(view) {
    const own = this.rules?.own;
    return own && this.seat != null ? own(view, this.seat) : view;
  }
}
