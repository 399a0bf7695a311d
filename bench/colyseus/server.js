// Colyseus side of netplay's benchmark: Colyseus 0.18 over its WebSocket transport, with two room
// types. "relay": every message a member sends is broadcast to every other member (Colyseus encodes
// a broadcast once). "arena": the light-cycles game of arena.js, for the real-time scenario.
// Usage: node server.js PORT [TICK_LOG]   (prints "colyseus listening on 127.0.0.1:PORT" when ready;
// at exit, writes every arena tick's timing to TICK_LOG as JSON, the format of netplay_server.py's)
"use strict";
const fs = require("fs");
const { Server, Room } = require("@colyseus/core");
const { WebSocketTransport } = require("@colyseus/ws-transport");
const { ArenaRoom, TICKS } = require("./arena.js");

class RelayRoom extends Room {
  onCreate(options) {
    this.maxClients = Math.min(Number(options.max) || 20, 64);
    this.autoDispose = true;
    this.onMessage("*", (client, type, message) => {
      this.broadcast(type, message, { except: client });
    });
  }
}

async function main() {
  const port = Number(process.argv[2] || 2567);
  const server = new Server({ transport: new WebSocketTransport() });
  server.define("relay", RelayRoom);
  server.define("arena", ArenaRoom);
  const tickLog = process.argv[3];
  if (tickLog) {
    process.on("exit", () => {
      const wakes = TICKS.at.map((at, i) => [at, TICKS.late[i], TICKS.ran[i]]);
      fs.writeFileSync(tickLog, JSON.stringify({ server: "colyseus", wakes }));
    });
  }
  await server.listen(port, "127.0.0.1");
  console.log(`colyseus listening on 127.0.0.1:${port}`); // Colyseus itself shuts down on SIGINT/SIGTERM
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
