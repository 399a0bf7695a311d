"""A netplay client in plain Python sockets (no netplay import): a reference for porters."""

import json
import socket
import struct
import sys


def send(sock, message):
    payload = json.dumps(message).encode("utf-8")
    sock.sendall(struct.pack(">I", len(payload)) + payload)  # 4-byte big-endian length, then JSON


def receive(sock):
    def exactly(n):
        data = b""
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("the server closed the connection")
            data += chunk
        return data

    (size,) = struct.unpack(">I", exactly(4))
    return json.loads(exactly(size))


sock = socket.create_connection((sys.argv[1], int(sys.argv[2])))
send(sock, {"type": "hello", "protocol": 1, "name": "porter", "id": 1})
welcome = receive(sock)
if welcome["type"] != "welcome":
    sys.exit(f"refused: {welcome['code']}: {welcome['message']}")
send(sock, {"type": "quick_match", "game": "tictactoe", "id": 2})
while True:
    msg = receive(sock)
    if msg["type"] == "ping":
        send(sock, {"type": "pong"})  # answer heartbeats, or the server closes the connection
    elif msg["type"] == "error":
        print(f"error: {msg['code']}: {msg['message']}")
        if msg.get("fatal"):
            sys.exit(1)
    elif msg["type"] == "state":
        seat = next((p["seat"] for p in msg["players"] if p and p["id"] == welcome["player"]), None)
        if msg["outcome"] is not None:
            print(f"result: {msg['outcome']} (we were seat {seat})")
            break
        if msg["turn"] == seat:  # our turn: take the first free cell, against this state's version
            move = msg["state"]["board"].index(None)
            send(sock, {"type": "move", "room": msg["room"], "move": move, "version": msg["version"]})
sock.close()
