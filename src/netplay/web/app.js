// The netplay web page: a lobby of rooms per game, and a board for the room you are in.
// Plain DOM and the netplay.js client; no framework, no build step.

import { connect } from "./netplay.js";
import { BOARDS, GAMES, MARKS, activeSeats, mayAct } from "./boards.js";
import { ClockDisplay, TIME_CONTROLS, controlLabel, startingClock } from "./clocks.js";
import { GenericBoard } from "./generic.js";
import { GenericRealtimeBoard } from "./boards/realtime_generic.js";
import { SandboxBoard } from "./sandbox.js";

const $ = (id) => document.getElementById(id);
const LOBBY_REFRESH_MS = 3000;
const DOTS_GAME = "15-112"; // the relay rooms of dots.html (shared with examples/dots and text clients)

let client = null;
let games = []; // from list_games: every game of the server (each one drawn by some board)
let lobbyTimer = null;
let lastRooms = "";
// This tab's session, kept in sessionStorage (per tab: two tabs are two players; never
// localStorage, which every tab of the browser shares): its token, with which a reconnect or a
// reload resumes the session and its seat, and the room it is in, which a reload shows again.
const KEPT_TOKEN = "netplay.session.token";
const KEPT_ROOM = "netplay.session.room";
let token = kept(KEPT_TOKEN);
let keptRoom = kept(KEPT_ROOM); // the room this tab is in (its id), or null in the lobby
// The rooms a resumed session gets back come as "joined" events right after the welcome: they are
// held here until the page knows the games, then the kept one is shown and any other is left.
let resumedRooms = new Map();
// The room on screen: its id, game, private code, my role, its players until a state arrives.
let room = null;
// The browser said it went offline: until the server answers a ping, the link is in doubt.
let linkInDoubt = false;
const clocks = new ClockDisplay(); // the room's clocks, counting down between states

// -- start ---------------------------------------------------------------------------------------

function start() {
  $("name").value = localStorage.getItem("netplay.name") || randomName();
  $("name-form").addEventListener("submit", (event) => {
    event.preventDefault();
    $("name").blur();
  });
  $("name").addEventListener("change", renameAndReconnect);
  $("code-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const code = $("code").value.trim().toUpperCase();
    const spectate = event.submitter?.name === "watch";
    if (code) enterRoom(() => client.join(null, { code, spectate }));
  });
  $("back").addEventListener("click", backToLobby);
  $("rematch").addEventListener("click", askRematch);
  $("add-bot").addEventListener("click", () => addBot());
  $("copy").addEventListener("click", copyShareLink);
  $("offer-draw").addEventListener("click", offerDraw);
  $("accept-draw").addEventListener("click", offerDraw); // accepting is offering back
  $("decline-draw").addEventListener("click", declineDraw);
  $("resign").addEventListener("click", () => askResign(true));
  $("resign-no").addEventListener("click", () => askResign(false));
  $("resign-yes").addEventListener("click", resign);
  $("resign-confirm").addEventListener("keydown", (event) => {
    if (event.key === "Escape") askResign(false);
  });
  $("banner-close").addEventListener("click", hideBanner);
  // Beside the room's title: who is watching ("You are watching", "2 watching").
  const watching = document.createElement("span");
  watching.id = "watching";
  watching.className = "badge watching";
  watching.hidden = true;
  $("game-clock").after(watching);
  window.addEventListener("hashchange", () => client && joinFromLink());
  // A page being closed or reloaded says no "bye" (that is leaving, and forfeits a game): it just
  // drops the connection. The server keeps the seat for its grace period and the opponent sees
  // "lost the connection"; the reloaded page resumes the session with the kept token. Leaving on
  // purpose is the "Leave game" (or "Lobby") button, which leaves the room at once.
  window.addEventListener("pagehide", () => {
    clearTimeout(retryTimer);
    if (client && !client.closed) {
      client.off("close", onClosed);
      client.disconnect();
    }
  });
  window.addEventListener("pageshow", (event) => {
    if (event.persisted && (!client || client.closed)) openConnection(); // back from the history cache
  });
  window.addEventListener("offline", checkLink);
  window.addEventListener("online", () => (client && !client.closed ? checkLink() : retryNow()));
  if (keptRoom && token) $("lobby").hidden = true; // a reload in a room: the room comes back, not the lobby
  // For the browser console (and the tests): the client, and rooms the lobby has no button for,
  // shown like the lobby's: netplayPage.createRoom("tictactoe", { private: true, clock: "30/move" }).
  window.netplayPage = {
    client: () => client,
    board: () => room?.board ?? null,
    createRoom: (game, options) => enterRoom(() => client.createRoom(game, options)),
    quickMatch: (game, options) => enterRoom(() => client.quickMatch(game, options)),
  };
  openConnection();
}

function randomName() {
  const first = ["Swift", "Clever", "Lucky", "Brave", "Sunny", "Quiet", "Bold", "Merry"];
  const second = ["Otter", "Fox", "Heron", "Lynx", "Panda", "Robin", "Badger", "Koala"];
  const pick = (list) => list[Math.floor(Math.random() * list.length)];
  return `${pick(first)} ${pick(second)}`;
}

function myName() {
  return $("name").value.trim().slice(0, 32) || randomName();
}

// sessionStorage can be missing or refuse (a sandboxed frame, storage turned off): the page then
// keeps its session in memory only, as if every reload were a new visit.
function kept(key) {
  try {
    return sessionStorage.getItem(key);
  } catch {
    return null;
  }
}

function keep(key, value) {
  try {
    if (value) sessionStorage.setItem(key, value);
    else sessionStorage.removeItem(key);
  } catch {
    // nothing kept: see kept()
  }
}

function keepRoom(id) {
  keptRoom = id ?? null;
  keep(KEPT_ROOM, keptRoom);
}

let connecting = null; // the connection being opened: one at a time (two would take the seat from each other)

// Returns whether it connected. `quiet`: an automatic retry, which keeps its own banner on failure.
async function openConnection(options) {
  if (!connecting) connecting = connectOnce(options).finally(() => (connecting = null));
  return connecting;
}

async function connectOnce({ quiet = false } = {}) {
  clearTimeout(retryTimer);
  setLinkState("connecting");
  if (!quiet) hideBanner();
  let opened;
  try {
    opened = await connect({ name: myName(), token });
  } catch (error) {
    setLinkState("offline");
    if (quiet) return false;
    if (keptRoom && token) {
      // A reload while the server restarts: keep trying for as long as it would keep the seat.
      retryUntil("Cannot reach the game server.", Date.now() + 60_000, 250);
    } else {
      showBanner("Cannot reach the game server.", "Try again", openConnection);
    }
    return false;
  }
  client = opened;
  linkInDoubt = false;
  hideBanner();
  setLinkState("online");
  token = client.token;
  keep(KEPT_TOKEN, token);
  if (client.resumed) $("name").value = client.name; // a resumed session keeps the name it had
  $("server-name").textContent = client.welcome.server ?? "netplay";
  resumedRooms = new Map();
  client.on("*", onEvent);
  client.on("close", onClosed);
  try {
    games = await client.listGames();
  } catch {
    return false; // the connection ended already: onClosed says so, and retries
  }
  renderGameCards();
  // Every "joined" of a resumed session came before the games did (the server sends them with its
  // welcome): show the room this tab is in, and leave any other (one left while offline).
  const back = client.resumed ? (client.welcome.rooms ?? []) : [];
  for (const id of back) if (id !== keptRoom) client.leave(id).catch(() => {});
  const joined = resumedRooms.get(keptRoom);
  resumedRooms = null; // from now on a "joined" is an answer to this page's own request
  if (joined && back.includes(keptRoom)) {
    showRoom(joined);
    return true;
  }
  if (keptRoom || room) {
    showBanner("Your game is no longer on the server: you were away too long, or it ended.");
  }
  if (!(await joinFromLink())) showLobby();
  return true;
}

function renameAndReconnect() {
  localStorage.setItem("netplay.name", myName());
  if (client && !client.closed && !room) {
    client.off("close", onClosed);
    client.close();
    token = null;
    keep(KEPT_TOKEN, null);
    openConnection();
  }
}

function setLinkState(state) {
  const element = $("link-state");
  element.dataset.state = state;
  const words = { connecting: "connecting…", checking: "checking…", online: "online", offline: "offline" };
  element.textContent = words[state];
}

// Whether the page cannot count on its connection: closed, or in doubt since the browser went
// offline. Then the page never says "Your turn" and the game's buttons wait.
function linkDown() {
  return !client || client.closed || linkInDoubt;
}

// The browser says it went offline (or back online with the old connection still open): a
// connection may survive that (a server on this machine), so ask the server. No answer within
// 3 s: the connection is given up, and the page reconnects (resuming its seat) as for any drop.
async function checkLink() {
  const checked = client;
  if (!checked || checked.closed) return;
  linkInDoubt = true;
  setLinkState("checking");
  if (room) renderRoom();
  try {
    await checked.request({ type: "ping" }, { timeout: 3000 });
  } catch {
    if (client === checked && !checked.closed) {
      checked.disconnect({ code: "connection_lost", message: "this device went offline" });
    }
    return;
  }
  if (client !== checked || checked.closed) return;
  linkInDoubt = false;
  setLinkState("online");
  if (room) renderRoom();
}

// A share link ends in #join=CODE (or #watch=CODE): opening it joins that private room.
async function joinFromLink() {
  const match = location.hash.match(/^#(join|watch)=([A-Za-z0-9]+)$/);
  if (!match) return false;
  history.replaceState(null, "", location.pathname + location.search);
  const [, how, code] = match;
  return enterRoom(() => client.join(null, { code: code.toUpperCase(), spectate: how === "watch" }));
}

// -- the connection ------------------------------------------------------------------------------

function onEvent(message) {
  const here = room && message.room === room.id;
  switch (message.type) {
    case "joined": // a room given back after a reconnect (or a reload)
      if (message.resumed && resumedRooms) resumedRooms.set(message.room.id, message);
      else if (message.resumed && message.room.id === keptRoom) showRoom(message);
      break;
    case "state":
      if (here) {
        if (message.game !== room.gameNumber) room.rematchAsked = room.rematchOffered = false;
        room.gameNumber = message.game;
        room.drawOffers = message.draw_offers ?? [];
        if (message.outcome) room.confirmResign = false;
        clocks.update(message.clock, flaggedSeats(message));
        // The seats as the state has them, still marked away if they were.
        room.players = message.players.map(
          (p) => p && { ...p, away: room.players.find((q) => q?.id === p.id)?.away },
        );
        renderRoom();
      }
      break;
    case "keyframe": // a real-time room's whole view: a new game, its end, who plays
      if (here) {
        if (message.game !== room.gameNumber) room.rematchAsked = room.rematchOffered = false;
        room.gameNumber = message.game;
        room.players = (message.players ?? room.players).map(
          (p) => p && { ...p, away: room.players.find((q) => q?.id === p.id)?.away },
        );
        renderRoom();
      }
      break;
    case "member_joined":
      if (here && message.member.role === "spectator" && message.member.id !== client.id) {
        room.spectators += 1;
        renderRoom();
      }
      if (here && message.member.role === "player") {
        room.players[message.member.seat] = message.member;
        if (message.member.id !== client.id) notify(`${message.member.name} joined.`, "info");
        renderRoom();
      }
      break;
    case "member_left":
      if (here && message.member.role === "spectator") {
        room.spectators = Math.max(0, room.spectators - 1);
        renderRoom();
      }
      if (here && message.member.role === "player") {
        room.players[message.member.seat] = null;
        notify(`${message.member.name} left the game.`, "warn");
        renderRoom();
      }
      break;
    case "member_disconnected":
      if (here && message.member.role === "player") {
        const grace = client.welcome.reconnect_grace;
        const wait = grace ? ` up to ${Math.round(grace)} s` : "";
        notify(`${message.member.name} lost the connection: waiting${wait} for them.`, "warn");
        setAway(message.member.seat, true);
      }
      break;
    case "member_reconnected":
      if (here && message.member.role === "player") {
        notify(`${message.member.name} is back.`, "info");
        setAway(message.member.seat, false);
      }
      break;
    case "rematch_requested":
      if (here && message.seat !== client.seat(room.id)) {
        room.rematchOffered = true;
        notify(`${playerName(message.seat)} wants a rematch.`, "info");
        renderRoom();
      }
      break;
    case "draw_offered":
      if (here) {
        room.drawOffers = message.offers ?? [message.seat];
        if (room.role !== "player") notify(`${playerName(message.seat)} offers a draw.`, "info");
        renderRoom();
      }
      break;
    case "draw_declined":
      if (here) {
        const mine = room.drawOffers.includes(mySeat()) && message.seat !== mySeat();
        room.drawOffers = [];
        if (mine) notify(`${playerName(message.seat)} declined the draw.`, "info");
        renderRoom();
      }
      break;
    case "error":
      // An input the real-time game took no more (late, or after the end) is nothing to tell.
      if (!message.fatal && !(message.seq !== undefined && QUIET_INPUT_ERRORS.has(message.code))) {
        notify(message.message, "error");
      }
      break;
    case "notice": // from the server's operator, to everyone or to this room
      showBanner(`Notice from the server: ${message.text}`, "OK", hideBanner);
      break;
    case "room_closed":
      if (here) {
        showLobby();
        showBanner(`The server closed the room: ${message.reason.replace(/[.!?]+$/, "")}.`, "OK", hideBanner);
      }
      break;
  }
}

// Refused inputs of a real-time game that are part of playing it: a key pressed as the game ended.
const QUIET_INPUT_ERRORS = new Set(["input_too_late", "game_over", "game_not_started", "stale_input"]);

// Ways a connection ends after which trying again makes sense (as in the Python client).
const RETRYABLE = new Set(["connection_lost", "server_shutdown", "idle_timeout", "server_full"]);
let retryTimer = null;

function onClosed(reason) {
  if (client && !client.closed) return; // an older connection, already replaced by this one
  stopLobbyRefresh();
  setLinkState("offline");
  linkInDoubt = false;
  if (room) renderRoom(); // no "Your turn" while offline
  const why = closedWords(reason);
  if (token && RETRYABLE.has(reason.code)) {
    // Keep trying, with growing pauses, for as long as the server keeps our seat.
    const grace = (client?.welcome?.reconnect_grace ?? 60) * 1000;
    retryUntil(why, Date.now() + grace, 250);
  } else if (reason.code === "session_replaced") {
    showBanner(why, "Play here", openConnection); // takes the seat back from the other page
  } else {
    showBanner(why, "Reconnect", openConnection);
  }
}

// Why the connection ended, for people: the server's own words are for its log (a shutdown's
// reason names the signal that stopped it), never shown as they are.
function closedWords(reason) {
  switch (reason.code) {
    case "server_shutdown":
      return "The server shut down (it may be restarting).";
    case "session_replaced":
      return "This game is open in another tab or window now.";
    case "idle_timeout":
      return "Connection lost: the server heard nothing from this page for too long.";
    case "server_full":
      return "The server is full.";
    case "frame_too_large":
      return "Connection lost: the page sent the server more than it accepts.";
    case "rate_limited":
      return "Connection lost: the page sent the server too much, too fast.";
    case "kicked": // the operator's words, meant for the player
      return `The server's operator removed you: ${reason.message}`;
    default:
      return navigator.onLine === false ? "Connection lost: this device is offline." : "Connection lost.";
  }
}

let retrying = null; // while reconnecting on its own: { why, deadline }

function retryUntil(why, deadline, pause) {
  retrying = { why, deadline };
  showBanner(`${why} Reconnecting…`, "Reconnect now", openConnection);
  clearTimeout(retryTimer);
  retryTimer = setTimeout(async () => {
    if (await openConnection({ quiet: true })) {
      retrying = null;
      return;
    }
    if (Date.now() < deadline) retryUntil(why, deadline, Math.min(Math.max(pause * 2, 250), 4000));
    else {
      retrying = null;
      showBanner(`${why} The server did not come back.`, "Try again", openConnection);
    }
  }, pause);
}

// The browser is back online: the next try is now, not after the pause.
function retryNow() {
  if (retrying) retryUntil(retrying.why, retrying.deadline, 0);
}

// -- the lobby -----------------------------------------------------------------------------------

function showLobby() {
  room = null;
  keepRoom(null);
  clocks.stop();
  $("game").hidden = true;
  $("lobby").hidden = false;
  document.title = "netplay — play with friends";
  refreshRooms();
  stopLobbyRefresh();
  lobbyTimer = setInterval(refreshRooms, LOBBY_REFRESH_MS);
}

function stopLobbyRefresh() {
  clearInterval(lobbyTimer);
  lobbyTimer = null;
}

function renderGameCards() {
  const cards = [];
  for (const game of games) {
    const about = GAMES[game.name] ?? { title: game.name, blurb: game.description };
    const card = document.createElement("article");
    // The server names every game, and describes the ones a user wrote: text, never markup.
    card.className = `card game-card game-${game.name.replace(/[^A-Za-z0-9_-]/g, "-")}`;
    card.dataset.game = game.name;
    card.dataset.board = boardKind(game.name);
    const realtime = Boolean(game.realtime);
    const radioGroup = `clock-${cards.length}`;
    const remembered = localStorage.getItem(`netplay.clock.${game.name}`);
    const chosen = TIME_CONTROLS.some((c) => c.value === remembered) ? remembered : "";
    const clockOptions = TIME_CONTROLS.map(
      ({ value, label, title }) => `
          <label title="${title}">
            <input type="radio" name="${radioGroup}" value="${value}" aria-label="${title}"
                   ${value === chosen ? "checked" : ""}>
            <span>${label}</span>
          </label>`,
    ).join("");
    card.innerHTML = `
      <div class="card-head">
        <span class="game-art" aria-hidden="true"></span>
        <div><h2></h2><p class="muted"></p></div>
      </div>
      <fieldset class="clock-pick" ${realtime ? "hidden" : ""}>
        <legend>Clock</legend>
        <span class="segments">${clockOptions}</span>
      </fieldset>
      <fieldset class="option-pick" hidden>
        <legend></legend>
        <span class="segments"></span>
      </fieldset>
      <div class="card-actions">
        <button type="button" data-action="quick">Quick match</button>
        <button type="button" class="secondary" data-action="private">Private room</button>
        <span class="bot-pick" ${game.bots.length ? "" : "hidden"}>
          <button type="button" class="secondary" data-action="bot">vs Computer</button>
          <select aria-label="How strong the computer plays"></select>
        </span>
      </div>
      <h3>Rooms</h3>
      <ul class="rooms"><li class="muted">Looking for rooms…</li></ul>`;
    card.querySelector(".card-head h2").textContent = about.title;
    card.querySelector(".card-head p").textContent = about.blurb ?? "";
    card.querySelector(".rooms").dataset.rooms = game.name;
    card.querySelector(".bot-pick select").append(
      ...game.bots.map((bot) => new Option(botLabel(bot), bot)),
    );
    // The time control picked for this game's rooms (remembered in the browser); "" is none. A
    // real-time game has no clock: its card offers the one option its board names instead.
    const clock = () =>
      realtime ? undefined : card.querySelector(".clock-pick input:checked")?.value || undefined;
    card.querySelector(".clock-pick").addEventListener("change", () =>
      localStorage.setItem(`netplay.clock.${game.name}`, clock() ?? ""),
    );
    const options = realtime ? optionPick(card, game.name, about.option, cards.length) : () => undefined;
    card.querySelector("[data-action=quick]").addEventListener("click", () =>
      enterRoom(() => client.quickMatch(game.name, { clock: clock() })),
    );
    card.querySelector("[data-action=private]").addEventListener("click", () =>
      enterRoom(() => client.createRoom(game.name, { private: true, clock: clock(), options: options() })),
    );
    card.querySelector("[data-action=bot]").addEventListener("click", async () => {
      const bot = card.querySelector(".bot-pick select").value || undefined;
      if (await enterRoom(() => client.createRoom(game.name, { clock: clock(), options: options() }))) {
        addBot(bot);
      }
    });
    cards.push(card);
  }
  $("games").replaceChildren(...cards);
}

// A real-time game's one option for new rooms (its board's `about.option`: pong's points, arena's
// players), as segments like the clock's, remembered in the browser. Returns a function that gives
// the options picked (undefined: the game's defaults). Quick match joins any open room, whatever
// its option.
function optionPick(card, gameName, option, index) {
  if (!option) return () => undefined;
  const field = card.querySelector(".option-pick");
  const key = `netplay.option.${gameName}`;
  const remembered = Number(localStorage.getItem(key));
  const chosen = option.choices.includes(remembered) ? remembered : option.default;
  field.querySelector("legend").textContent = option.label;
  field.querySelector(".segments").replaceChildren(
    ...option.choices.map((value) => {
      const label = document.createElement("label");
      const input = document.createElement("input");
      input.type = "radio";
      input.name = `option-${index}`;
      input.value = String(value);
      input.checked = value === chosen;
      input.setAttribute("aria-label", `${option.label} ${value}`);
      const text = document.createElement("span");
      text.textContent = String(value);
      label.append(input, text);
      return label;
    }),
  );
  field.hidden = false;
  const picked = () => Number(field.querySelector("input:checked")?.value ?? option.default);
  field.addEventListener("change", () => localStorage.setItem(key, String(picked())));
  return () => ({ [option.name]: picked() });
}

async function refreshRooms() {
  if (!client || client.closed || room) return;
  let rooms;
  try {
    rooms = await client.listRooms();
  } catch {
    return;
  }
  const key = JSON.stringify(rooms);
  if (key === lastRooms) return; // unchanged: keep the list (and the keyboard focus in it)
  lastRooms = key;
  for (const game of games) {
    const list = [...document.querySelectorAll("[data-rooms]")].find((ul) => ul.dataset.rooms === game.name);
    if (!list) continue;
    const mine = rooms.filter((r) => (r.kind === "match" || r.kind === "realtime") && r.game === game.name);
    list.replaceChildren(...(mine.length ? mine.map(roomRow) : [emptyRow()]));
  }
  const dotsPeople = rooms
    .filter((r) => r.kind === "relay" && r.game === DOTS_GAME)
    .reduce((sum, r) => sum + r.members.length, 0);
  $("dots-count").textContent = dotsPeople ? `${dotsPeople} there now` : "";
}

// The server's bots by how hard they are to beat; any other bot by its own name.
function botLabel(bot) {
  const known = { random: "Easy", negamax: "Hard", minimax: "Unbeatable" };
  return known[bot] ?? bot;
}

function emptyRow() {
  const item = document.createElement("li");
  item.className = "muted";
  item.textContent = "No rooms yet: start one above.";
  return item;
}

function roomRow(info) {
  const item = document.createElement("li");
  item.className = "room-row";
  const names = [];
  for (let seat = 0; seat < info.seats; seat++) {
    const player = info.players.find((p) => p.seat === seat);
    names.push(player ? (player.name ?? "a player") : "…"); // a private room's are not named
  }
  const who = document.createElement("span");
  who.className = "who";
  who.textContent = names.join(" vs ");
  const badge = document.createElement("span");
  badge.className = `badge ${info.status}`;
  badge.textContent = info.private ? "private" : info.status;
  item.append(who);
  if (info.clock) {
    const clock = document.createElement("span");
    clock.className = "badge clock-badge";
    clock.title = "Time control";
    clock.textContent = controlLabel(info.clock);
    item.append(clock);
  }
  item.append(badge);
  if (info.spectators) {
    const watchers = document.createElement("span");
    watchers.className = "muted";
    watchers.textContent = `${info.spectators} watching`;
    item.append(watchers);
  }
  if (!info.private) {
    const actions = document.createElement("span");
    actions.className = "row-actions";
    if (info.free_seats > 0 && info.status === "waiting") {
      actions.append(rowButton("Join", () => client.join(info.id)));
    }
    actions.append(rowButton("Watch", () => client.join(info.id, { spectate: true }), "secondary"));
    item.append(actions);
  }
  return item;
}

function rowButton(label, request, className = "") {
  const element = document.createElement("button");
  element.type = "button";
  element.className = `small ${className}`;
  element.textContent = label;
  element.addEventListener("click", () => enterRoom(request));
  return element;
}

// -- a room --------------------------------------------------------------------------------------

// Run a request that joins a room (create, quick-match, join) and show the room; report a refusal.
async function enterRoom(request) {
  let joined;
  try {
    joined = await request();
  } catch (error) {
    showBanner(`Could not join: ${error.message}.`);
    return false;
  }
  hideBanner();
  showRoom(joined);
  return true;
}

// Show a room just joined (or given back after a reconnect): its board, players and share link.
function showRoom(joined) {
  stopLobbyRefresh();
  lastRooms = "";
  const info = joined.room;
  const again = room?.id === info.id; // this room given back after a reconnect
  const code = joined.code ?? (again ? room.code : null); // a resumed join has no code
  room = {
    id: info.id,
    game: info.game,
    realtime: info.kind === "realtime", // drawn from its view (client.view), not from states
    code,
    role: joined.role,
    seat: joined.seat,
    seats: info.seats,
    players: Array.from({ length: info.seats }, (_, seat) => info.players.find((p) => p.seat === seat) ?? null),
    rematchAsked: false,
    rematchOffered: false,
    gameNumber: 0,
    clock: info.clock ?? null, // the time control, as the server writes it ("180+2"), or null
    drawOffers: [], // the seats offering a draw now
    confirmResign: false, // "Resign this game?" is on screen
    resuming: Boolean(joined.resumed), // its state is on the way
    spectators: info.spectators ?? 0, // how many watch (a spectator counts itself)
  };
  keepRoom(info.id); // a reload of this tab comes back to this room
  const known = client.states[info.id]; // a state that came before this reply was handled
  room.drawOffers = known?.draw_offers ?? [];
  if (known) clocks.update(known.clock, flaggedSeats(known));
  else if (!again) clocks.update(startingClock(room.clock, room.seats)); // full time, until a state
  // (given back after a reconnect, the clocks go on from the last state until the next one comes)
  const about = GAMES[info.game] ?? { title: info.game };
  $("game-title").textContent = about.title;
  document.title = `${about.title} — netplay`;
  $("lobby").hidden = true;
  $("game").hidden = false;
  $("notice").hidden = true;
  $("game").dataset.game = info.game;
  $("game-clock").hidden = !room.clock;
  $("game-clock").textContent = controlLabel(room.clock);
  $("game-clock").title = room.clock ? `Time control: ${room.clock}` : "";
  room.boardKind = boardKind(info.game);
  $("game").dataset.board = room.boardKind;
  room.board = makeBoard(info.game, room.boardKind);
  $("hint").textContent = joined.role === "player" ? room.board.constructor.hint : "";
  $("share").hidden = !shareShown(); // and once the game is under way, see renderRoom
  if (room.code) {
    $("share-code").textContent = room.code;
    $("share-link").value = `${location.origin}${location.pathname}#join=${room.code}`;
  }
  renderRoom();
  room.board?.focus();
}

// Which board draws a game: the page's own (BOARDS) first; then what the server says of it
// (`web_board`): the game's own module ("own", in a sandboxed frame), else the generic board, which
// also stands in for a built-in game whose board this page does not have.
function boardKind(name) {
  if (BOARDS[name]) return "builtin";
  const web = games.find((game) => game.name === name)?.web_board;
  return typeof web === "string" && web.startsWith("/games/") ? "own" : "generic";
}

function makeBoard(name, kind) {
  const container = $("board");
  if (kind === "builtin") {
    // (a real-time game's board draws the room's view itself, and sends its inputs with playInput)
    return new BOARDS[name](container, playMove, { client, room: room.id, input: playInput });
  }
  if (kind === "own") {
    const url = games.find((game) => game.name === name).web_board;
    const title = `${GAMES[name]?.title ?? name} board`;
    return new SandboxBoard(container, playMove, url, { title, onFailure: (why) => boardFailed(name, why) });
  }
  if (room.realtime) {
    // A real-time game of the server's own: its view as text, its inputs from the keys it names.
    const { keys, idle } = games.find((game) => game.name === name) ?? {};
    return new GenericRealtimeBoard(container, playMove, { client, room: room.id, input: playInput, keys, idle });
  }
  return new GenericBoard(container, playMove);
}

// A game's own board that would not load: the page goes on with its generic board.
function boardFailed(name, why) {
  if (!room || room.game !== name || room.boardKind !== "own") return;
  room.boardKind = "generic";
  $("game").dataset.board = "generic";
  room.board = new GenericBoard($("board"), playMove);
  $("hint").textContent = room.role === "player" ? GenericBoard.hint : "";
  notify(`This game's own board did not load (${why}): here is the plain one.`, "error");
  renderRoom();
}

// The games whose two seats are X and O.
const XO_GAMES = new Set(["tictactoe", "connect4"]);

// A built-in board's name for a seat's side: its class's (or its `about`'s) `sides` if it has them
// (chess: White, Black), X and O for tic-tac-toe and Connect Four, else none (then "player 2").
function builtinSide(seat) {
  const sides = BOARDS[room.game]?.sides ?? GAMES[room.game]?.sides;
  if (sides) return sides[seat];
  return XO_GAMES.has(room.game) && room.seats === 2 ? MARKS[seat] : undefined;
}

// A seat's side as people read it: a built-in board's (X and O), else the side as the game names it
// (the state's `sides`, from its seat_label), else "player 2": seats count from 1.
function sideName(seat) {
  const side = room.boardKind === "builtin" ? builtinSide(seat) : roomState()?.sides?.[seat];
  return side ?? `player ${seat + 1}`;
}

// What a seat's chip shows in its round mark: X or O on a built-in board, else the seat's number.
function seatMark(seat) {
  const mark = room.boardKind === "builtin" ? builtinSide(seat) : null;
  return mark && mark.length <= 2 ? mark : String(seat + 1);
}

function setAway(seat, away) {
  const player = room.players[seat];
  if (player) player.away = away;
  renderRoom();
}

// Leaving on purpose: the room is left at once (a game in progress is forfeited, and the opponent
// told). Offline, the room is forgotten here, and left as soon as the session is resumed.
function backToLobby() {
  if (room && client && !client.closed) client.leave(room.id).catch(() => {});
  showLobby();
}

// The share box is for the players of a private room, until every seat is taken: never for spectators.
function shareShown() {
  if (!room.code || room.role !== "player") return false;
  const playing = roomState()?.status === "playing";
  return !(playing && room.players.every(Boolean));
}

// Who watches, said beside the title: "You are watching" to a spectator, "2 watching" to the players.
function watchingLabel() {
  if (room.role !== "player") {
    const others = Math.max(0, room.spectators - 1);
    return others ? `You and ${others} other${others === 1 ? "" : "s"} are watching` : "You are watching";
  }
  return room.spectators ? `${room.spectators} watching` : "";
}

function mySeat() {
  const seat = client.seat(room.id);
  return seat ?? (roomState() ? null : room.seat);
}

// The room's latest `state` message; for a real-time room, a summary of its view in the same shape
// ({ status, players, outcome, game, state }): what the chips, the status line and the buttons need.
function roomState() {
  const state = client.states[room.id];
  if (state || !room.realtime) return state ?? null;
  const view = client.view(room.id);
  if (!view || view.view == null) return null;
  const { status, players, outcome, game } = view;
  return { realtime: true, status, players, outcome, game, state: view.view };
}

function playerName(seat) {
  const player = room.players[seat] ?? roomState()?.players[seat];
  if (player?.bot) return "The computer";
  return player?.name ?? `Player ${seatMark(seat)}`;
}

function renderRoom() {
  const state = roomState();
  const seat = mySeat();
  const players = room.players; // the seats now: a state's list, then who joined or left since
  const finished = state?.status === "finished";
  const playing = state?.status === "playing";
  const offline = linkDown();
  const active = activeSeats(state);
  // Who is who, whose turn it is, and each one's clock.
  $("players").classList.toggle("with-clocks", clocks.shown);
  $("players").replaceChildren(...players.map((player, index) => playerChip(player, index, seat, active)));
  clocks.attach([...$("players").querySelectorAll(".clock")]);
  $("share").hidden = !shareShown();
  $("watching").textContent = watchingLabel();
  $("watching").hidden = !$("watching").textContent;
  $("watching").classList.toggle("me", room.role !== "player");
  $("status").textContent = statusLine(state, seat, players);
  $("status").dataset.result = finished ? resultKind(state.outcome, seat) : "";
  room.board?.render(state, offline ? null : seat);
  $("board").classList.toggle("offline", offline);
  // Between games: a rematch, a computer player when a seat is free.
  const isPlayer = seat !== null && seat !== undefined && room.role === "player";
  $("rematch").hidden = !(finished && isPlayer);
  $("rematch").disabled = room.rematchAsked;
  $("rematch").textContent = room.rematchAsked
    ? "Waiting for your opponent…"
    : room.rematchOffered
      ? "Accept rematch"
      : "Rematch";
  const freeSeat = players.some((player) => !player);
  $("add-bot").hidden = !(isPlayer && freeSeat && (!state || finished));
  // During a game: resign (once confirmed), offer a draw, or answer an offer (not in real time).
  const inGame = isPlayer && playing;
  const turnBased = inGame && !room.realtime;
  // During a game the way back is leaving it (at once: the opponent wins), and it says so.
  $("back").textContent = inGame ? "← Leave game" : "← Lobby";
  $("back").title = inGame ? "Leave this game: your opponent wins at once" : "";
  const asking = inGame && room.confirmResign;
  const offers = turnBased ? room.drawOffers : [];
  const offered = offers.includes(seat);
  const offerer = offers.find((s) => s !== seat);
  const incoming = offerer !== undefined && !offered && !asking;
  const botInGame = players.some((player) => player?.bot); // a computer never agrees to a draw
  $("resign").hidden = !turnBased || asking;
  $("resign").disabled = offline;
  $("resign-confirm").hidden = !asking;
  $("resign-yes").disabled = offline;
  $("offer-draw").hidden = !turnBased || asking || incoming || botInGame;
  $("offer-draw").disabled = offline;
  $("offer-draw").setAttribute("aria-disabled", String(offered)); // still focusable: keeps the focus
  $("offer-draw").textContent = offered ? "Draw offered" : "Offer draw";
  $("draw-offer").hidden = !incoming;
  $("draw-offer-text").textContent = incoming ? `${playerName(offerer)} offers a draw.` : "";
  $("accept-draw").disabled = $("decline-draw").disabled = offline;
  if (!inGame) room.confirmResign = false;
}

// A seat's chip: its mark, who sits there, and (with a time control) its clock.
function playerChip(player, index, seat, active) {
  const chip = document.createElement("div");
  chip.className = "chip";
  const mark = seatMark(index);
  chip.dataset.mark = mark;
  chip.dataset.number = index + 1; // the seat as people count it, from 1
  chip.classList.toggle("active", active.includes(index));
  chip.classList.toggle("empty", !player);
  chip.classList.toggle("away", Boolean(player?.away));
  const badge = document.createElement("span");
  badge.className = "mark";
  badge.textContent = mark;
  const label = document.createElement("span");
  label.className = "name";
  // A side the round mark does not show is said after the name: "Ann (white)".
  const named = room.boardKind === "builtin" ? builtinSide(index) : roomState()?.sides?.[index];
  const side = named && named !== mark ? named : null;
  label.textContent = !player
    ? "waiting…"
    : (player.bot ? `Computer (${botLabel(player.bot)})` : player.name) +
      (side ? ` (${side})` : "") +
      (player.bot ? "" : index === seat ? " (you)" : player.away ? " (away)" : "");
  chip.append(badge, label);
  if (clocks.shown) {
    const clock = document.createElement("span");
    clock.className = "clock";
    clock.dataset.seat = index;
    clock.setAttribute("role", "timer"); // read with the chip: "X Ann (you) 2:59"
    chip.append(clock);
  }
  return chip;
}

function statusLine(state, seat, players) {
  if (!state) {
    if (room.resuming) return "Back online: catching up with the game…";
    const missing = players.filter((player) => !player).length;
    if (room.role !== "player") return "Waiting for the players…";
    return room.code
      ? `Waiting for a friend to join: send them the link above.`
      : `Waiting for ${missing === 1 ? "an opponent" : "players"}… or play the computer.`;
  }
  if (state.outcome) return outcomeLine(state.outcome, seat);
  if (linkDown()) {
    if (client?.closeReason?.code === "session_replaced") return "You are playing this game in another tab.";
    return "You are offline: reconnecting to the game…";
  }
  if (state.realtime) {
    if (seat === null || seat === undefined) return `Watching ${players.map((_, s) => playerName(s)).join(" vs ")}.`;
    const side = builtinSide(seat);
    return side ? `Game on: you are ${side}.` : "Game on.";
  }
  if (mayAct(state, seat)) {
    if (room.boardKind === "builtin" && builtinSide(seat)) return `Your turn: you play ${builtinSide(seat)}.`;
    return `Your turn (you are ${sideName(seat)}).`;
  }
  const active = activeSeats(state);
  const playing = seat !== null && seat !== undefined;
  if (active.length !== 1) return `Waiting for ${active.map(playerName).join(" and ") || "the players"}…`;
  const name = playerName(active[0]);
  return playing ? `${name}'s turn…` : `${name} (${sideName(active[0])}) to move.`;
}

// How a game ended, said to `seat` (null: a spectator, who is told the marks too).
function outcomeLine(outcome, seat) {
  if (outcome.draw) {
    if (outcome.reason === "agreed") return "Draw agreed.";
    if (outcome.reason === "abandoned") return "Game abandoned.";
    if (outcome.reason === "time") return "It's a draw: time ran out.";
    return "It's a draw.";
  }
  const playing = seat !== null && seat !== undefined;
  const who = (s) => (playing ? playerName(s) : `${playerName(s)} (${sideName(s)})`);
  const winner = outcome.winner;
  if (winner === null || winner === undefined) return "Game over.";
  const losers = losingSeats(outcome);
  const loser = losers.length === 1 ? losers[0] : null;
  if (loser !== null && outcome.reason === "time") {
    if (loser === seat) return "You lost on time.";
    return winner === seat ? `${who(loser)} lost on time. You win!` : `${who(loser)} lost on time: ${who(winner)} wins.`;
  }
  if (loser !== null && outcome.reason === "resign") {
    if (loser === seat) return `You resigned: ${who(winner)} wins.`;
    return winner === seat ? `${who(loser)} resigned. You win!` : `${who(loser)} resigned: ${who(winner)} wins.`;
  }
  if (outcome.reason === "forfeit") {
    return winner === seat ? "You win: your opponent left." : `${who(winner)} wins: the other player left.`;
  }
  return winner === seat ? "You win!" : `${who(winner)} wins.`;
}

// The seats that came last (the one out of time, the one who resigned): by `places`, else `ranking`.
function losingSeats(outcome) {
  if (Array.isArray(outcome.places) && outcome.places.length) {
    const worst = Math.max(...outcome.places);
    return worst > 1 ? outcome.places.flatMap((place, s) => (place === worst ? [s] : [])) : [];
  }
  if (Array.isArray(outcome.ranking) && outcome.ranking.length > 1) return outcome.ranking.at(-1);
  return room.players.map((_, s) => s).filter((s) => s !== outcome.winner);
}

// The seats whose flag fell: a state's clock shows them at zero, whatever the control.
function flaggedSeats(state) {
  const outcome = state?.outcome;
  return outcome?.reason === "time" && !outcome.draw ? losingSeats(outcome) : [];
}

function resultKind(outcome, seat) {
  if (outcome.draw) return "draw";
  if (seat === null || seat === undefined) return "over";
  return outcome.winner === seat ? "won" : "lost";
}

async function playMove(move) {
  if (!room || room.role !== "player") {
    notify("You are watching: spectators cannot move.", "error");
    return;
  }
  if (linkDown()) {
    notify("You are offline: play again once the page is back online.", "warn");
    return;
  }
  try {
    await client.move(move, { room: room.id });
    $("notice").hidden = true;
  } catch (error) {
    notify(refusal(error), "error");
  }
}

// An input to a real-time room, from its board: sent only by a player online (returns the message
// sent, or null).
function playInput(data) {
  if (!room || room.role !== "player" || linkDown()) return null;
  return client.input(data, room.id);
}

// The server's reason for refusing a move, said for a person.
function refusal(error) {
  switch (error.code) {
    case "not_your_turn": {
      const state = client.states[room.id];
      const waiting = activeSeats(state).map(playerName).join(" and ");
      return waiting ? `Not your turn: wait for ${waiting}.` : "Not your turn.";
    }
    case "invalid_move":
      return `Illegal move: ${error.message}.`;
    case "game_over":
      return "The game is over: ask for a rematch.";
    case "game_not_started":
      return "The game starts when an opponent joins.";
    case "stale_version":
      return "The board just changed: have another look.";
    default:
      return error.message;
  }
}

async function askRematch() {
  room.rematchAsked = true;
  renderRoom();
  try {
    await client.rematch(room.id);
  } catch (error) {
    room.rematchAsked = false;
    notify(error.message, "error");
    renderRoom();
  }
}

function askResign(asking) {
  room.confirmResign = asking;
  renderRoom();
  (asking ? $("resign-no") : $("resign"))?.focus(); // the safe answer first
}

async function resign() {
  room.confirmResign = false;
  room.board?.focus();
  try {
    await client.resign(room.id); // the result arrives as a state
  } catch (error) {
    notify(`Could not resign: ${error.message}.`, "error");
  }
  renderRoom();
}

async function offerDraw(event) {
  const seat = mySeat();
  if (room.drawOffers.includes(seat)) return; // already on the table
  const accepting = event?.currentTarget === $("accept-draw");
  room.drawOffers = [...room.drawOffers, seat];
  renderRoom();
  if (accepting) room.board?.focus();
  try {
    await client.offerDraw(room.id); // accepted by the last player to offer: a state, "agreed"
  } catch (error) {
    room.drawOffers = room.drawOffers.filter((s) => s !== seat);
    notify(`No draw offer: ${error.message}.`, "error");
    renderRoom();
  }
}

async function declineDraw() {
  room.drawOffers = [];
  renderRoom();
  room.board?.focus();
  try {
    await client.declineDraw(room.id);
  } catch (error) {
    notify(error.message, "error");
  }
}

// A real-time room (arena: up to 8 seats) gets a computer player in every free seat.
async function addBot(bot) {
  const free = room.realtime ? Math.max(1, room.players.filter((player) => !player).length) : 1;
  try {
    for (let i = 0; i < free; i++) await client.addBot(bot, room.id);
  } catch (error) {
    notify(`No computer player: ${error.message}.`, "error");
  }
}

async function copyShareLink() {
  const input = $("share-link");
  input.select();
  try {
    await navigator.clipboard.writeText(input.value);
    notify("Link copied.", "info");
  } catch {
    document.execCommand?.("copy");
  }
}

// -- messages ------------------------------------------------------------------------------------

let noticeTimer = null;

function notify(text, kind) {
  const notice = $("notice");
  notice.textContent = text;
  notice.dataset.kind = kind;
  notice.hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => (notice.hidden = true), 6000);
}

function showBanner(text, actionLabel, action) {
  $("banner-text").textContent = text;
  const button = $("banner-action");
  button.hidden = !actionLabel;
  button.textContent = actionLabel ?? "";
  button.onclick = action ?? null;
  $("banner").hidden = false;
}

function hideBanner() {
  $("banner").hidden = true;
}

start();
