// Dots: everyone in a relay room moves a dot, and sees everyone else's move.
// It speaks the vocabulary of examples/dots/dots.py and of the 15-112 text clients (relay data
// {"instr": "playerMoved", "details": "DX DY"} and {"instr": "playerTeleported", "details": "X Y"}),
// in the same rooms, so a browser, a pygame window and a 15-112 starter client meet here.

import { connect } from "./netplay.js";

const WIDTH = 640;
const HEIGHT = 480;
const STEP = 10;
const ROOM = new URLSearchParams(location.search).get("room") || "15-112";
const MOVES = { up: [0, -STEP], down: [0, STEP], left: [-STEP, 0], right: [STEP, 0] };
const KEYS = {
  ArrowUp: "up", ArrowDown: "down", ArrowLeft: "left", ArrowRight: "right",
  w: "up", s: "down", a: "left", d: "right",
};
const COLOURS = ["#ee5a47", "#14a08e", "#e9a800", "#d0459b", "#2f8fd8", "#7a5cd6", "#3f9b3a", "#e4782a"];

const $ = (id) => document.getElementById(id);
const arena = $("arena");
let client = null;
const dots = new Map(); // id -> { name, x, y, element }

function colourOf(id) {
  let hash = 0;
  for (const char of id) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return COLOURS[hash % COLOURS.length];
}

function place(id, x, y, name) {
  let dot = dots.get(id);
  if (!dot) {
    const element = document.createElement("div");
    element.className = "dot";
    element.dataset.id = id;
    element.style.setProperty("--dot", colourOf(id));
    element.append(document.createElement("span"));
    arena.append(element);
    dot = { name: id, x, y, element };
    dots.set(id, dot);
  }
  if (name) dot.name = name;
  dot.x = x;
  dot.y = y;
  const { element } = dot;
  element.classList.toggle("me", id === client.id);
  element.dataset.x = x;
  element.dataset.y = y;
  element.style.left = `${(x / WIDTH) * 100}%`;
  element.style.top = `${(y / HEIGHT) * 100}%`;
  element.firstChild.textContent = id === client.id ? `${dot.name} (you)` : dot.name;
  updateStatus();
}

function remove(id) {
  dots.get(id)?.element.remove();
  dots.delete(id);
  updateStatus();
}

function updateStatus() {
  const others = dots.size - 1;
  $("dots-status").textContent =
    others > 0
      ? `${others} other${others === 1 ? "" : "s"} here. Move around!`
      : "Nobody else here yet: open this page in another window.";
}

// -- my moves ------------------------------------------------------------------------------------

function move(direction) {
  const me = dots.get(client?.id);
  if (!me || client.closed) return;
  const [dx, dy] = MOVES[direction];
  const x = Math.min(Math.max(me.x + dx, 0), WIDTH);
  const y = Math.min(Math.max(me.y + dy, 0), HEIGHT);
  if (x === me.x && y === me.y) return;
  client.relay({ instr: "playerMoved", details: `${x - me.x} ${y - me.y}` });
  place(client.id, x, y);
}

function teleport(x, y) {
  place(client.id, x, y);
  client.relay({ instr: "playerTeleported", details: `${x} ${y}` });
}

document.addEventListener("keydown", (event) => {
  const direction = KEYS[event.key];
  if (!direction || event.target.closest?.("input, select, textarea")) return;
  event.preventDefault();
  move(direction);
});

for (const button of document.querySelectorAll("[data-move]")) {
  button.addEventListener("click", () => move(button.dataset.move));
}

arena.addEventListener("click", (event) => {
  const me = dots.get(client?.id);
  if (!me || client.closed) return;
  const box = arena.getBoundingClientRect();
  const x = Math.round(((event.clientX - box.left) / box.width) * WIDTH);
  const y = Math.round(((event.clientY - box.top) / box.height) * HEIGHT);
  teleport(x, y);
});

// -- everyone else's -----------------------------------------------------------------------------

function onRelay(message) {
  let { instr, details } = typeof message.data === "object" && message.data ? message.data : {};
  if (typeof message.data === "string") [instr, details] = message.data.split(/ (.*)/s);
  const numbers = String(details ?? "").trim().split(/\s+/).map(Number);
  if (numbers.length !== 2 || numbers.some((n) => !Number.isInteger(n))) return; // not a dots message
  const [a, b] = numbers;
  const dot = dots.get(message.from) ?? { x: WIDTH / 2, y: HEIGHT / 2 };
  if (instr === "playerMoved") place(message.from, dot.x + a, dot.y + b);
  else if (instr === "playerTeleported") place(message.from, a, b);
}

async function join() {
  $("banner").hidden = true;
  $("link-state").dataset.state = "connecting";
  $("link-state").textContent = "connecting…";
  for (const id of [...dots.keys()]) remove(id);
  try {
    client = await connect({ name: localStorage.getItem("netplay.name") || undefined });
  } catch (error) {
    lost(error);
    return;
  }
  client.on("relay", onRelay);
  client.on("member_joined", (message) => {
    place(message.member.id, WIDTH / 2, HEIGHT / 2, message.member.name);
    const me = dots.get(client.id);
    teleport(me.x, me.y); // tell the newcomer where I am
  });
  client.on("member_left", (message) => remove(message.member.id));
  // A dropped connection may come back (the server keeps its place for a while): fade its dot.
  client.on("member_disconnected", (message) => dots.get(message.member.id)?.element.classList.add("away"));
  client.on("member_reconnected", (message) => dots.get(message.member.id)?.element.classList.remove("away"));
  client.on("close", lost);
  const joined = await client.quickMatch(ROOM, { kind: "relay" });
  const start = [80 + Math.floor(Math.random() * 480), 80 + Math.floor(Math.random() * 320)];
  place(client.id, ...start, client.name);
  for (const member of joined.room.members) {
    if (member.id !== client.id) place(member.id, WIDTH / 2, HEIGHT / 2, member.name);
  }
  teleport(...start); // tell everyone already here where I am
  $("link-state").dataset.state = "online";
  $("link-state").textContent = "online";
  arena.focus();
}

function lost(reason) {
  $("link-state").dataset.state = "offline";
  $("link-state").textContent = "offline";
  $("banner-text").textContent = `Connection lost: ${reason.message}.`;
  $("banner").hidden = false;
}

$("banner-action").addEventListener("click", join);
window.addEventListener("pagehide", () => client?.close()); // leaving: the others see the dot go at once
join();
