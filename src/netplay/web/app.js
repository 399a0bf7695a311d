// The netplay web page: a lobby of rooms per game, and a board for the room you are in.
// Plain DOM and the netplay.js client; no framework, no build step.

import { connect } from "./netplay.js";
import { BOARDS, GAMES, MARKS, activeSeats, mayAct } from "./boards.js";
import { ClockDisplay, TIME_CONTROLS, controlLabel, startingClock } from "./clocks.js";

const $ = (id) => document.getElementById(id);
const LOBBY_REFRESH_MS = 3000;
const DOTS_GAME = "15-112"; // the relay rooms of dots.html (shared with examples/dots and text clients)

let client = null;
let games = []; // from list_games: the games this page can draw
let lobbyTimer = null;
let lastRooms = "";
let token = null; // this visit's session token: Reconnect resumes the session (and its seat) with it
// The room on screen: its id, game, private code, my role, its players until a state arrives.
let room = null;
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
  window.addEventListener("hashchange", () => client && joinFromLink());
  // Closing the page is leaving: say so, and the opponent is told at once (not after a grace period).
  window.addEventListener("pagehide", () => client?.close());
  // For the browser console (and the tests): the client, and rooms the lobby has no button for,
  // shown like the lobby's: netplayPage.createRoom("tictactoe", { private: true, clock: "30/move" }).
  window.netplayPage = {
    client: () => client,
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

// Returns whether it connected. `quiet`: an automatic retry, which keeps its own banner on failure.
async function openConnection({ quiet = false } = {}) {
  clearTimeout(retryTimer);
  setLinkState("connecting");
  if (!quiet) hideBanner();
  try {
    client = await connect({ name: myName(), token });
  } catch (error) {
    setLinkState("offline");
    if (!quiet) showBanner(`Cannot reach the game server (${error.message}).`, "Try again", openConnection);
    return false;
  }
  hideBanner();
  setLinkState("online");
  token = client.token;
  $("server-name").textContent = client.welcome.server ?? "netplay";
  client.on("*", onEvent);
  client.on("close", onClosed);
  const offered = await client.listGames();
  games = offered.filter((game) => BOARDS[game.name]);
  const others = offered.filter((game) => !BOARDS[game.name]).map((game) => game.name);
  $("other-games").hidden = !others.length;
  $("other-games").textContent = `Also on this server, playable from a terminal: ${others.join(", ")}.`;
  renderGameCards();
  if (client.resumed && client.welcome.rooms?.length) return true; // its rooms come back as "joined" events
  if (room) notify("Your game is no longer on the server (away too long, or it restarted).", "warn");
  if (!(await joinFromLink())) showLobby();
  return true;
}

function renameAndReconnect() {
  localStorage.setItem("netplay.name", myName());
  if (client && !client.closed && !room) {
    client.off("close", onClosed);
    client.close();
    token = null;
    openConnection();
  }
}

function setLinkState(state) {
  const element = $("link-state");
  element.dataset.state = state;
  element.textContent = { connecting: "connecting…", online: "online", offline: "offline" }[state];
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
    case "joined": // a room given back after a reconnect
      if (message.resumed) showRoom(message);
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
    case "member_joined":
      if (here && message.member.role === "player") {
        room.players[message.member.seat] = message.member;
        if (message.member.id !== client.id) notify(`${message.member.name} joined.`, "info");
        renderRoom();
      }
      break;
    case "member_left":
      if (here && message.member.role === "player") {
        room.players[message.member.seat] = null;
        notify(`${message.member.name} left the game.`, "warn");
        renderRoom();
      }
      break;
    case "member_disconnected":
      if (here && message.member.role === "player") {
        const grace = client.welcome.reconnect_grace;
        const wait = grace ? ` for up to ${Math.round(grace)} s` : "";
        notify(`${message.member.name} lost the connection: waiting${wait} for them to come back.`, "warn");
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
      if (!message.fatal) notify(message.message, "error");
      break;
  }
}

// Ways a connection ends after which trying again makes sense (as in the Python client).
const RETRYABLE = new Set(["connection_lost", "server_shutdown", "idle_timeout", "server_full"]);
let retryTimer = null;

function onClosed(reason) {
  stopLobbyRefresh();
  setLinkState("offline");
  if (room) renderRoom(); // no "Your turn" while offline
  const why =
    reason.code === "server_shutdown"
      ? `The server shut down: ${reason.message}.`
      : `Connection lost: ${reason.message}.`;
  if (token && RETRYABLE.has(reason.code)) {
    // Keep trying, with growing pauses, for as long as the server keeps our seat.
    const grace = (client?.welcome?.reconnect_grace ?? 60) * 1000;
    retryUntil(why, Date.now() + grace, 250);
  } else {
    showBanner(why, "Reconnect", openConnection);
  }
}

function retryUntil(why, deadline, pause) {
  showBanner(`${why} Reconnecting…`, "Reconnect now", openConnection);
  retryTimer = setTimeout(async () => {
    if (await openConnection({ quiet: true })) return;
    if (Date.now() < deadline) retryUntil(why, deadline, Math.min(pause * 2, 4000));
    else showBanner(`${why} The server did not come back.`, "Try again", openConnection);
  }, pause);
}

// -- the lobby -----------------------------------------------------------------------------------

function showLobby() {
  room = null;
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
  const cards = games.map((game) => {
    const about = GAMES[game.name] ?? { title: game.name, blurb: game.description };
    const card = document.createElement("article");
    card.className = `card game-card game-${game.name}`;
    card.dataset.game = game.name;
    const botOptions = game.bots.map((bot) => `<option value="${bot}">${botLabel(bot)}</option>`).join("");
    const remembered = localStorage.getItem(`netplay.clock.${game.name}`);
    const chosen = TIME_CONTROLS.some((c) => c.value === remembered) ? remembered : "";
    const clockOptions = TIME_CONTROLS.map(
      ({ value, label, title }) => `
          <label title="${title}">
            <input type="radio" name="clock-${game.name}" value="${value}" aria-label="${title}"
                   ${value === chosen ? "checked" : ""}>
            <span>${label}</span>
          </label>`,
    ).join("");
    card.innerHTML = `
      <div class="card-head">
        <span class="game-art" aria-hidden="true"></span>
        <div><h2>${about.title}</h2><p class="muted">${about.blurb}</p></div>
      </div>
      <fieldset class="clock-pick">
        <legend>Clock</legend>
        <span class="segments">${clockOptions}</span>
      </fieldset>
      <div class="card-actions">
        <button type="button" data-action="quick">Quick match</button>
        <button type="button" class="secondary" data-action="private">Private room</button>
        <span class="bot-pick">
          <button type="button" class="secondary" data-action="bot">vs Computer</button>
          <select aria-label="How strong the computer plays" ${game.bots.length ? "" : "hidden"}>
            ${botOptions}
          </select>
        </span>
      </div>
      <h3>Rooms</h3>
      <ul class="rooms" data-rooms="${game.name}"><li class="muted">Looking for rooms…</li></ul>`;
    // The time control picked for this game's rooms (remembered in the browser); "" is none.
    const clock = () => card.querySelector(".clock-pick input:checked")?.value || undefined;
    card.querySelector(".clock-pick").addEventListener("change", () =>
      localStorage.setItem(`netplay.clock.${game.name}`, clock() ?? ""),
    );
    card.querySelector("[data-action=quick]").addEventListener("click", () =>
      enterRoom(() => client.quickMatch(game.name, { clock: clock() })),
    );
    card.querySelector("[data-action=private]").addEventListener("click", () =>
      enterRoom(() => client.createRoom(game.name, { private: true, clock: clock() })),
    );
    card.querySelector("[data-action=bot]").addEventListener("click", async () => {
      const bot = card.querySelector(".bot-pick select").value || undefined;
      if (await enterRoom(() => client.createRoom(game.name, { clock: clock() }))) addBot(bot);
    });
    return card;
  });
  $("games").replaceChildren(...cards);
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
    const list = document.querySelector(`[data-rooms="${game.name}"]`);
    const mine = rooms.filter((r) => r.kind === "match" && r.game === game.name);
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
    names.push(player ? player.name : "…");
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
  const Board = BOARDS[info.game];
  room = {
    id: info.id,
    game: info.game,
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
  };
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
  room.board = Board ? new Board($("board"), playMove) : null;
  $("hint").textContent = Board && joined.role === "player" ? Board.hint : "";
  $("share").hidden = !room.code; // and once the game is under way, see renderRoom
  if (room.code) {
    $("share-code").textContent = room.code;
    $("share-link").value = `${location.origin}${location.pathname}#join=${room.code}`;
  }
  renderRoom();
  room.board?.focus();
}

function setAway(seat, away) {
  const player = room.players[seat];
  if (player) player.away = away;
  renderRoom();
}

function backToLobby() {
  if (room && client && !client.closed) client.leave(room.id).catch(() => {});
  showLobby();
}

function mySeat() {
  const seat = client.seat(room.id);
  return seat ?? (client.states[room.id] ? null : room.seat);
}

function playerName(seat) {
  const player = room.players[seat] ?? client.states[room.id]?.players[seat];
  if (player?.bot) return "The computer";
  return player?.name ?? `Player ${MARKS[seat]}`;
}

function renderRoom() {
  const state = client.states[room.id] ?? null;
  const seat = mySeat();
  const players = room.players; // the seats now: a state's list, then who joined or left since
  const finished = state?.status === "finished";
  const playing = state?.status === "playing";
  const offline = client.closed;
  const active = activeSeats(state);
  // Who is who, whose turn it is, and each one's clock.
  $("players").classList.toggle("with-clocks", clocks.shown);
  $("players").replaceChildren(...players.map((player, index) => playerChip(player, index, seat, active)));
  clocks.attach([...$("players").querySelectorAll(".clock")]);
  $("share").hidden = !room.code || (playing && players.every(Boolean));
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
  // During a game: resign (once confirmed), offer a draw, or answer an offer.
  const inGame = isPlayer && playing;
  const asking = inGame && room.confirmResign;
  const offers = inGame ? room.drawOffers : [];
  const offered = offers.includes(seat);
  const offerer = offers.find((s) => s !== seat);
  const incoming = offerer !== undefined && !offered && !asking;
  const botInGame = players.some((player) => player?.bot); // a computer never agrees to a draw
  $("resign").hidden = !inGame || asking;
  $("resign").disabled = offline;
  $("resign-confirm").hidden = !asking;
  $("resign-yes").disabled = offline;
  $("offer-draw").hidden = !inGame || asking || incoming || botInGame;
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
  chip.dataset.mark = MARKS[index];
  chip.classList.toggle("active", active.includes(index));
  chip.classList.toggle("empty", !player);
  chip.classList.toggle("away", Boolean(player?.away));
  const mark = document.createElement("span");
  mark.className = "mark";
  mark.textContent = MARKS[index];
  const label = document.createElement("span");
  label.className = "name";
  label.textContent = !player
    ? "waiting…"
    : player.bot
      ? `Computer (${botLabel(player.bot)})`
      : player.name + (index === seat ? " (you)" : player.away ? " (away)" : "");
  chip.append(mark, label);
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
  if (client.closed) return "You are offline: reconnecting to the game…";
  if (mayAct(state, seat)) return `Your turn: you play ${MARKS[seat]}.`;
  const active = activeSeats(state);
  const playing = seat !== null && seat !== undefined;
  if (active.length !== 1) return `Waiting for ${active.map(playerName).join(" and ") || "the players"}…`;
  const name = playerName(active[0]);
  return playing ? `${name}'s turn…` : `${name} (${MARKS[active[0]]}) to move.`;
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
  const who = (s) => (playing ? playerName(s) : `${playerName(s)} (${MARKS[s]})`);
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
  try {
    await client.move(move, { room: room.id });
    $("notice").hidden = true;
  } catch (error) {
    notify(refusal(error), "error");
  }
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

async function addBot(bot) {
  try {
    await client.addBot(bot, room.id);
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
