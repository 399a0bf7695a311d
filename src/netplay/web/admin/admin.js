// The admin page: signs in with the admin token (kept in this tab's sessionStorage, sent as a
// Bearer header, never a cookie), polls /admin/api/overview every two seconds, draws the last ten
// minutes of the key figures, and sends the operator's actions. Everything shown that came from
// players (names, room labels, states) is set as text, never as HTML.

const POLL_MS = 2000;
const HISTORY = 300; // samples: ten minutes at one every two seconds
const KEY = "netplay-admin-token";

const $ = (id) => document.getElementById(id);
const history = [];
let token = sessionStorage.getItem(KEY);
let timer = null;
let shown = null; // the room whose detail is open

async function api(path, body) {
  const options = { headers: { Authorization: `Bearer ${token}` } };
  if (body !== undefined) {
    options.method = "POST";
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(`/admin/api/${path}`, options);
  const answer = await response.json().catch(() => ({ error: `HTTP ${response.status}` }));
  if (response.status === 401) {
    signOut("That token is not this server's admin token.");
    throw new Error(answer.error);
  }
  if (!response.ok) throw new Error(answer.error || `HTTP ${response.status}`);
  return answer;
}

// Two lines in the header: what came of the operator's last action (kept until the next one),
// and how the polling goes (updated, draining, or the server not answering).
function say(text, bad = false) {
  const status = $("status");
  status.textContent = text;
  status.className = bad ? "error" : "";
}

function polled(text, bad = false) {
  const updated = $("updated");
  updated.textContent = text;
  updated.className = bad ? "error" : "";
}

function cell(row, text, code = false) {
  const td = row.insertCell();
  if (code) {
    const c = document.createElement("code");
    c.textContent = text;
    td.append(c);
  } else {
    td.textContent = text;
  }
  return td;
}

function button(td, label, onClick, kind = "quiet") {
  const b = document.createElement("button");
  b.type = "button";
  b.className = kind;
  b.textContent = label;
  b.addEventListener("click", onClick);
  td.append(b);
  return b;
}

function figure(label, value) {
  const div = document.createElement("div");
  div.className = "figure";
  const b = document.createElement("b");
  b.textContent = value;
  const span = document.createElement("span");
  span.textContent = label;
  div.append(b, span);
  return div;
}

const ms = (seconds) => (seconds == null ? "-" : `${(seconds * 1000).toFixed(seconds < 0.01 ? 2 : 0)} ms`);

function drawFigures(server) {
  const connections = Object.values(server.connections).reduce((a, b) => a + b, 0);
  $("figures").replaceChildren(
    figure("connections", connections),
    figure("players connected", server.sessions.connected),
    figure("players away", server.sessions.away),
    figure("rooms", server.rooms),
    figure("matches in progress", server.matches),
    figure("moves", server.moves),
    figure("move to broadcast, p99", ms(server.move_broadcast_p99)),
    figure("event-loop lag, p99", ms(server.loop_lag_p99)),
    figure("up", `${Math.round(server.uptime / 60)} min`),
  );
}

const CHARTS = [
  ["connections", (s) => Object.values(s.connections).reduce((a, b) => a + b, 0), ""],
  ["matches in progress", (s) => s.matches, ""],
  ["moves per second", (s, p, dt) => (p ? (s.moves - p.moves) / dt : 0), "/s"],
  ["messages per second", (s, p, dt) => (p ? (s.messages_in + s.messages_out - p.messages_in - p.messages_out) / dt : 0), "/s"],
  ["move p99 (ms)", (s) => (s.move_broadcast_p99 ?? 0) * 1000, " ms"],
  ["event-loop lag p99 (ms)", (s) => (s.loop_lag_p99 ?? 0) * 1000, " ms"],
];

function drawCharts() {
  const box = $("charts");
  if (box.children.length !== CHARTS.length) {
    box.replaceChildren(
      ...CHARTS.map(([label]) => {
        const div = document.createElement("div");
        div.className = "chart";
        const span = document.createElement("span");
        span.textContent = label;
        div.append(span, document.createElement("canvas"));
        return div;
      }),
    );
  }
  CHARTS.forEach(([label, , unit], i) => {
    const values = history.map((h) => h.values[i]);
    const div = box.children[i];
    div.querySelector("span").textContent = `${label}: ${values.length ? Math.round(values.at(-1) * 10) / 10 : "-"}${unit}`;
    const canvas = div.querySelector("canvas");
    const width = (canvas.width = canvas.clientWidth * devicePixelRatio);
    const height = (canvas.height = canvas.clientHeight * devicePixelRatio);
    const g = canvas.getContext("2d");
    g.clearRect(0, 0, width, height);
    if (values.length < 2) return;
    const top = Math.max(...values, 1);
    g.strokeStyle = "#4f46e5";
    g.lineWidth = 2 * devicePixelRatio;
    g.beginPath();
    values.forEach((v, x) => {
      const px = (x / (HISTORY - 1)) * width;
      const py = height - (v / top) * (height - 4) - 2;
      x ? g.lineTo(px, py) : g.moveTo(px, py);
    });
    g.stroke();
  });
}

// The overview lists at most 200 of each; the server's figures count them all.
const counted = (listed, total) => (listed < total ? `(${listed} of ${total})` : `(${total})`);

function drawRooms(rooms, total) {
  $("room-count").textContent = counted(rooms.length, total);
  const body = $("rooms").tBodies[0];
  body.replaceChildren();
  for (const room of rooms) {
    const row = body.insertRow();
    row.dataset.room = room.id;
    cell(row, room.id, true);
    cell(row, `${room.kind === "relay" ? "relay: " : ""}${room.game}${room.private ? " (private)" : ""}`);
    cell(row, room.status ?? "open");
    cell(row, (room.players || []).map((p) => p.name).join(", "));
    cell(row, room.spectators ?? 0);
    const actions = row.insertCell();
    button(actions, "View", () => showRoom(room.id));
    button(actions, "Close", () => closeRoom(room.id), "danger");
  }
}

function drawPlayers(players, total) {
  $("player-count").textContent = counted(players.length, total);
  const body = $("players").tBodies[0];
  body.replaceChildren();
  for (const player of players) {
    const row = body.insertRow();
    row.dataset.player = player.id;
    cell(row, player.id, true);
    cell(row, player.name + (player.connected ? "" : " (away)"));
    cell(row, player.peer ?? "-");
    cell(row, player.rooms.join(", "));
    button(row.insertCell(), "Kick", () => kick(player.id, player.name), "danger");
  }
}

function drawErrors(errors) {
  $("errors").replaceChildren(
    ...errors
      .slice()
      .reverse()
      .map((e) => {
        const li = document.createElement("li");
        li.className = e.level;
        li.textContent = `${new Date(e.time * 1000).toLocaleTimeString()} ${e.level.toUpperCase()} ${e.message}`;
        return li;
      }),
  );
}

async function refresh() {
  let overview;
  try {
    overview = await api("overview");
  } catch (error) {
    if (token) polled(`The server does not answer: ${error.message}`, true);
    return;
  }
  // Shown once the token has proved right: a wrong one never gets past the sign-in form.
  $("login").hidden = true;
  $("console").hidden = false;
  const now = performance.now() / 1000;
  const previous = history.at(-1);
  const dt = previous ? Math.max(now - previous.at, 0.001) : 1;
  history.push({
    at: now,
    server: overview.server,
    values: CHARTS.map(([, f]) => f(overview.server, previous?.server, dt)),
  });
  if (history.length > HISTORY) history.shift();
  polled(
    overview.server.draining
      ? "Draining: no new match starts; the server exits when the last one ends."
      : `Updated ${new Date().toLocaleTimeString()}`,
  );
  drawFigures(overview.server);
  drawCharts();
  drawRooms(overview.rooms, overview.server.rooms);
  const sessions = overview.server.sessions;
  drawPlayers(overview.players, sessions.connected + sessions.away);
  drawErrors(overview.errors);
  if (shown) showRoom(shown, false);
}

async function showRoom(id, scroll = true) {
  let answer;
  try {
    answer = await api(`rooms/${encodeURIComponent(id)}`);
  } catch (error) {
    shown = null;
    $("room-detail").hidden = true;
    if (scroll) say(error.message, true);
    return;
  }
  shown = id;
  $("room-detail").hidden = false;
  $("detail-id").textContent = id;
  const match = answer.match;
  $("detail-state").textContent = match ? JSON.stringify(match.state, null, 1) : "no game has started";
  $("detail-moves").replaceChildren(
    ...(match ? match.moves : []).map((m) => {
      const li = document.createElement("li");
      li.textContent = `seat ${m.seat + 1}: ${m.kind === "move" ? JSON.stringify(m.move) : m.kind}`;
      return li;
    }),
  );
  if (scroll) $("room-detail").scrollIntoView({ behavior: "smooth" });
}

// Whether it was done (the page says either way).
async function act(what, path, body) {
  let done = false;
  try {
    await api(path, body);
    say(what);
    done = true;
  } catch (error) {
    say(error.message, true);
  }
  refresh();
  return done;
}

function closeRoom(id) {
  const reason = prompt(`Close room ${id}? Its players are told why:`, "closed by the server's operator");
  if (reason !== null) act(`Closed ${id}.`, `rooms/${encodeURIComponent(id)}/close`, { reason });
}

function kick(id, name) {
  const reason = prompt(`Remove ${name}? They are told why:`, "removed by the server's operator");
  if (reason !== null) act(`Removed ${name}.`, `players/${encodeURIComponent(id)}/kick`, { reason });
}

function signIn(given) {
  token = given;
  sessionStorage.setItem(KEY, token);
  clearInterval(timer); // signing in twice must not poll twice
  refresh();
  timer = setInterval(refresh, POLL_MS);
}

function signOut(why) {
  sessionStorage.removeItem(KEY);
  token = null;
  clearInterval(timer);
  timer = null;
  shown = null;
  $("console").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = why;
  say("");
  polled("");
}

$("login").addEventListener("submit", (event) => {
  event.preventDefault();
  $("login-error").textContent = "";
  signIn($("token").value.trim());
});

$("notice").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = $("notice-text").value.trim();
  const room = $("notice-room").value.trim();
  const what = room ? `Told room ${room}.` : "Told every player.";
  act(what, "notice", room ? { text, room } : { text }).then((done) => {
    if (done) $("notice-text").value = ""; // a refused notice is kept, to send again
  });
});

$("drain").addEventListener("submit", (event) => {
  event.preventDefault();
  const deadline = Number($("drain-deadline").value) || undefined;
  if (confirm("Drain the server? No new match will start, and it exits when the running ones are over.")) {
    act("Draining.", "drain", deadline ? { deadline } : {});
  }
});

if (token) {
  $("login").hidden = true; // signed in already in this tab (a reload): no form while it is checked
  signIn(token);
}
