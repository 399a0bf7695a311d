// Colyseus side of netplay's benchmark: one relay room type on Colyseus 0.18 over its WebSocket transport.
// Every message a member sends is broadcast to every other member (Colyseus encodes a broadcast once).
// Usage: node server.js PORT    (prints "colyseus listening on 127.0.0.1:PORT" when ready)
"use strict";
const { Server, Room } = require("@colyseus/core");
const { WebSocketTransport } = require("@colyseus/ws-transport");

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
  await server.listen(port, "127.0.0.1");
  console.log(`colyseus listening on 127.0.0.1:${port}`); // Colyseus itself shuts down on SIGINT/SIGTERM
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
