// Colyseus side of netplay's benchmark: the load generator, on the official client (@colyseus/sdk).
// Same scenarios, message format and JSON fields as bench/loadgen.py; server figures come from /proc.
// Usage: node loadgen.js '<config json>'   (prints one JSON line)
"use strict";
const fs = require("fs");
const { Client } = require("@colyseus/sdk");
const { mulberry32, simpleBot } = require("./bot.js");

const CLK_TCK = 100; // Linux's USER_HZ for /proc/<pid>/stat
const TS_LEN = 19;
const PAD = "x".repeat(16);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const nowUs = () => Math.round(performance.now() * 1000);
const monotonic = () => Number(process.hrtime.bigint()) / 1e9; // time.monotonic() in Python

function procCpu(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // utime + stime, seconds
}

function procRss(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)[1]) * 1024;
}

function cores() {
  return fs
    .readFileSync("/proc/stat", "utf8")
    .split("\n")
    .filter((line) => /^cpu\d/.test(line))
    .map((line) => line.split(/\s+/).slice(1, 9).map(Number)); // user nice system idle iowait irq softirq steal
}

function snap(pid) {
  const own = process.cpuUsage();
  return {
    wall: performance.now() / 1000,
    serverCpu: procCpu(pid),
    serverRss: procRss(pid),
    ownCpu: (own.user + own.system) / 1e6,
    cores: cores(),
  };
}

function windowFigures(a, b) {
  const wall = b.wall - a.wall;
  const own = (b.ownCpu - a.ownCpu) / wall;
  const busy = a.cores.map((x, i) => {
    const y = b.cores[i];
    const total = y.reduce((s, v) => s + v, 0) - x.reduce((s, v) => s + v, 0);
    const idle = y[3] + y[4] - (x[3] + x[4]);
    return total > 0 ? Math.round(1000 * (1 - idle / total)) / 10 : 0;
  });
  return {
    window_s: Math.round(wall * 1000) / 1000,
    server_cpu_s: Math.round((b.serverCpu - a.serverCpu) * 1e4) / 1e4,
    server_cpu_pct: Math.round((1000 * (b.serverCpu - a.serverCpu)) / wall) / 10,
    server_rss_mib: Math.round((10 * b.serverRss) / 2 ** 20) / 10,
    gen_cpu_pct: Math.round(1000 * own) / 10,
    generator_bound: own >= 0.9,
    core_busy_pct: busy,
    unaccounted_cpu_pct:
      Math.round(10 * (busy.reduce((s, v) => s + v, 0) - (100 * (b.serverCpu - a.serverCpu + b.ownCpu - a.ownCpu)) / wall)) / 10,
  };
}

function latencySummary(samples, prefix) {
  const sorted = Float64Array.from(samples).sort();
  const pick = (q) => (sorted.length ? Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] * 1000) / 1000 : null);
  return { [`${prefix}_samples`]: sorted.length, [`${prefix}_p50_ms`]: pick(0.5), [`${prefix}_p99_ms`]: pick(0.99), [`${prefix}_max_ms`]: pick(1) };
}

async function bounded(count, limit, make) {
  const out = new Array(count);
  let next = 0;
  async function worker() {
    while (next < count) {
      const i = next++;
      out[i] = await make(i);
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
  return out;
}

async function relay(cfg) {
  const url = `ws://${cfg.host}:${cfg.port}`;
  const nRooms = cfg.rooms, nMembers = cfg.members, saturate = cfg.mode === "saturate";
  const gen = { running: false, measuring: false, samples: [], received: 0 };
  const rooms = [];
  for (let r = 0; r < nRooms; r++) {
    const first = await new Client(url).create("relay", { max: nMembers });
    const members = [first];
    members.push(...(await Promise.all(Array.from({ length: nMembers - 1 }, () => new Client(url).joinById(first.roomId)))));
    const room = { members, sent: 0, received: 0, cap: (cfg.window || 0) * nMembers };
    room.refill = Math.max(nMembers, Math.floor(room.cap / 2));
    members.forEach((member, k) => {
      const sender = String(r * nMembers + k).padStart(6, "0");
      member.stamp = (ts) => `S${sender}|T${String(ts).padStart(TS_LEN, "0")}|${PAD}`;
      member.onMessage("r", (data) => {
        room.received++;
        gen.received++;
        if (gen.measuring) gen.samples.push((nowUs() - Number(data.slice(9, 9 + TS_LEN))) / 1000);
        if (saturate) pump(room);
      });
    });
    rooms.push(room);
  }
  function pump(room) {
    const free = room.cap - (room.sent - Math.floor(room.received / (nMembers - 1)));
    if (free < room.refill || !gen.running) return;
    const per = Math.floor(free / nMembers);
    const ts = nowUs();
    for (const member of room.members) {
      const message = member.stamp(ts);
      for (let i = 0; i < per; i++) member.send("r", message);
    }
    room.sent += per * nMembers;
  }
  gen.running = true;
  let ticker = null;
  if (saturate) rooms.forEach(pump);
  else {
    const ordered = [];
    for (let k = 0; k < nMembers; k++) for (const room of rooms) ordered.push([room, room.members[k]]);
    const total = cfg.rate * ordered.length;
    const t0 = performance.now();
    let sent = 0;
    ticker = setInterval(() => {
      const due = Math.floor(((performance.now() - t0) / 1000) * total) - sent;
      for (let i = 0; i < due; i++) {
        const [room, member] = ordered[sent % ordered.length];
        member.send("r", member.stamp(nowUs()));
        room.sent++;
        sent++;
      }
    }, 1);
  }
  await sleep(cfg.warmup * 1000);
  gen.samples = [];
  const start = snap(cfg.server_pid);
  const received0 = gen.received;
  gen.measuring = true;
  await sleep(cfg.duration * 1000);
  gen.measuring = false;
  const delivered = gen.received - received0;
  const end = snap(cfg.server_pid);
  gen.running = false;
  if (ticker) clearInterval(ticker);
  const wall = end.wall - start.wall;
  const result = windowFigures(start, end);
  Object.assign(result, {
    clients: nRooms * nMembers,
    sent_total: rooms.reduce((s, room) => s + room.sent, 0),
    delivered,
    delivered_per_s: Math.round(delivered / wall),
    server_cpu_us_per_msg: delivered ? Math.round(((end.serverCpu - start.serverCpu) / delivered) * 1e9) / 1e3 : null,
    errors: 0,
  }, latencySummary(gen.samples, "lat"));
  return result; // the connections close when the process exits
}

async function settledRss(pid, limitS = 10) {
  const deadline = performance.now() + limitS * 1000;
  let previous = procRss(pid);
  while (performance.now() < deadline) {
    await sleep(500);
    const current = procRss(pid);
    if (Math.abs(current - previous) <= 0.005 * previous) return current;
    previous = current;
  }
  return procRss(pid);
}

async function idle(cfg) {
  const url = `ws://${cfg.host}:${cfg.port}`;
  const baseline = await settledRss(cfg.server_pid);
  const conns = [];
  const steps = [];
  let room = null;
  for (const count of cfg.counts) {
    const t0 = performance.now();
    while (conns.length < count) {
      // Rooms of 64 (the server's cap): the first member creates one, the others join it.
      if (!room || conns.length % 64 === 0) {
        room = await new Client(url).create("relay", { max: 64 });
        conns.push(room);
        continue;
      }
      const batch = Math.min(count - conns.length, 64 - (conns.length % 64));
      const roomId = room.roomId;
      conns.push(...(await bounded(batch, 64, () => new Client(url).joinById(roomId))));
    }
    const took = (performance.now() - t0) / 1000;
    const rss = await settledRss(cfg.server_pid);
    steps.push({
      connections: count,
      connect_s: Math.round(took * 100) / 100,
      server_rss_mib: Math.round((10 * rss) / 2 ** 20) / 10,
      kib_per_conn: Math.round((100 * (rss - baseline)) / count / 1024) / 100,
    });
  }
  const start = snap(cfg.server_pid);
  await sleep((cfg.duration || 2) * 1000);
  const end = snap(cfg.server_pid);
  const result = Object.assign(windowFigures(start, end), { baseline_rss_mib: Math.round((10 * baseline) / 2 ** 20) / 10, steps, errors: 0 });
  return result;
}

// Colyseus's protocol codes (Protocol in @colyseus/shared-types): the low 5 bits of a frame's first byte.
const ROOM_STATE = 14, ROOM_STATE_PATCH = 15, PROTOCOL_CODE_MASK = 31;

/** WebSocket bytes of one server message: its payload and the frame header (servers never mask). */
const wsBytes = (n) => n + (n < 126 ? 2 : n < 65536 ? 4 : 10);

/** Lateness of this process's own event loop: a 5 ms timer's delay, sampled. */
function loopLag() {
  const samples = [];
  let due = performance.now() + 5;
  const timer = setInterval(() => {
    const now = performance.now();
    samples.push(Math.max(0, now - due));
    due = now + 5;
  }, 5);
  return { samples, stop: () => clearInterval(timer) };
}

async function arena(cfg) {
  // Real-time rooms of `players` bots (one creates, the others join by id), each running the simple
  // bot of bot.js on every state it receives and timing its inputs until the state's ack has them.
  const url = `ws://${cfg.host}:${cfg.port}`;
  const nRooms = cfg.rooms, nPlayers = cfg.players || 4;
  const gen = {
    measuring: false, samples: [], inputs: 0, views: 0, games: 0, unanswered: 0,
    bytes: { patch: 0, state: 0, other: 0 },
  };
  const seed = cfg.seed || 1;
  const bots = [];
  function watch(room, index) {
    const bot = { room, index, seat: -1, rng: mulberry32(seed * 7919 + index), seq: -1, pending: [], last: null, game: 0, voted: 0 };
    const events = room.connection.events;
    const deliver = events.onmessage;
    events.onmessage = (event) => {
      if (gen.measuring) {
        const data = event.data;
        const n = wsBytes(data.byteLength);
        const code = new Uint8Array(data, 0, 1)[0] & PROTOCOL_CODE_MASK;
        if (code === ROOM_STATE_PATCH) gen.bytes.patch += n;
        else if (code === ROOM_STATE) gen.bytes.state += n;
        else gen.bytes.other += n;
      }
      deliver(event);
    };
    room.onStateChange((state) => onState(bot, state));
    bots.push(bot);
    return bot;
  }
  function onState(bot, state) {
    const now = performance.now();
    if (gen.measuring) gen.views++;
    if (bot.seat < 0) {
      const seat = state.seats.get(bot.room.sessionId);
      if (seat === undefined) return;
      bot.seat = seat;
    }
    if (state.game !== bot.game) { // a new match: inputs of the last one will never be acknowledged
      gen.unanswered += bot.pending.length;
      bot.pending = [];
      bot.last = null;
      bot.game = state.game;
    }
    const me = state.cycles.at(bot.seat);
    if (me === undefined) return;
    const ack = me.ack;
    while (bot.pending.length && bot.pending[0][0] <= ack) {
      const [, sentAt] = bot.pending.shift();
      if (gen.measuring) gen.samples.push(now - sentAt);
    }
    if (state.status === "finished") {
      if (bot.voted !== state.game) {
        bot.voted = state.game;
        if (bot.seat === 0 && gen.measuring) gen.games++;
        bot.room.send("rematch");
      }
      return;
    }
    if (state.status !== "playing") return;
    const data = simpleBot(state, bot.seat, bot.rng);
    if (data === null || data.dir === bot.last) return;
    bot.seq++;
    bot.last = data.dir;
    bot.pending.push([bot.seq, now]);
    bot.room.send("input", { dir: data.dir, seq: bot.seq });
    if (gen.measuring) gen.inputs++;
  }
  // Rooms are filled a few at a time; each starts its match when its last player joins.
  await bounded(nRooms, 8, async (r) => {
    const first = await new Client(url).create("arena", { players: nPlayers });
    watch(first, r * nPlayers);
    const others = await Promise.all(Array.from({ length: nPlayers - 1 }, () => new Client(url).joinById(first.roomId)));
    others.forEach((room, k) => watch(room, r * nPlayers + k + 1));
  });
  const lag = loopLag();
  await sleep(cfg.warmup * 1000);
  const monoStart = monotonic();
  const start = snap(cfg.server_pid);
  gen.measuring = true;
  lag.samples.length = 0;
  await sleep(cfg.duration * 1000);
  gen.measuring = false;
  const end = snap(cfg.server_pid);
  const monoEnd = monotonic();
  lag.stop();
  const wall = end.wall - start.wall;
  const clients = bots.length;
  const perClient = (n) => Math.round(n / clients / wall);
  const received = gen.bytes.patch + gen.bytes.state + gen.bytes.other;
  const result = windowFigures(start, end);
  Object.assign(result, {
    transport: "websocket",
    window_mono: [monoStart, monoEnd],
    clients,
    rooms: nRooms,
    views: gen.views,
    views_per_client_s: Math.round((10 * gen.views) / clients / wall) / 10,
    inputs: gen.inputs,
    inputs_per_client_s: Math.round((100 * gen.inputs) / clients / wall) / 100,
    games_finished: gen.games,
    bytes_per_client_s: perClient(received),
    patch_bytes_per_client_s: perClient(gen.bytes.patch),
    keyframe_bytes_per_client_s: perClient(gen.bytes.state),
    other_bytes_per_client_s: perClient(gen.bytes.other),
    inputs_unanswered: gen.unanswered,
    errors: 0,
  }, latencySummary(gen.samples, "input"), latencySummary(lag.samples, "gen_loop_lag"));
  return result;
}

async function main() {
  const cfg = JSON.parse(process.argv[2]);
  const run = { relay, idle, realtime: arena }[cfg.kind];
  if (!run) throw new Error(`no ${cfg.kind} scenario for Colyseus`);
  const budget = setTimeout(() => {
    console.error("time budget exceeded");
    process.exit(2);
  }, (cfg.budget || 300) * 1000);
  const result = await run(cfg);
  clearTimeout(budget);
  console.log(JSON.stringify(result));
  await sleep(100);
  process.exit(0);
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : err);
  process.exit(1);
});
