// BoardNim's own board (tests/browser/games/nim_game.py): the pile as stones, a button per legal
// move. It also tries to reach out of its sandbox, and shows what happened, for the test to read.

export default function createBoard(root, { move }) {
  root.innerHTML = `
    <style>
      .stones { font-size: 28px; letter-spacing: 4px; }
      .take button { font-size: 18px; margin: 4px; }
    </style>
    <p class="stones"></p>
    <p class="turn"></p>
    <div class="take"></div>
    <ul class="probes"></ul>`;
  const stones = root.querySelector(".stones");
  const turn = root.querySelector(".turn");
  const take = root.querySelector(".take");
  probe(root.querySelector(".probes"));

  return {
    render(state, seat) {
      const pile = state.state.pile;
      stones.textContent = "●".repeat(pile) || "no stones left";
      stones.dataset.pile = pile;
      const mover = state.players[state.turn];
      turn.textContent = state.outcome
        ? `${state.players[state.outcome.winner]?.name} took the last stone.`
        : state.turn === seat
          ? "Your move: take some stones."
          : `${mover?.name ?? "someone"} is thinking.`;
      const legal = state.turn === seat && Array.isArray(state.legal) ? state.legal : [];
      take.replaceChildren(
        ...legal.map((n) => {
          const button = document.createElement("button");
          button.textContent = `Take ${n}`;
          button.dataset.take = n;
          button.addEventListener("click", () => move(n));
          return button;
        }),
      );
    },
  };
}

// Each probe is something the sandbox must refuse; the result ("blocked: ..." or "reached: ...")
// is shown in a list item whose data-probe names it.
function probe(list) {
  const report = (name, result) => {
    const item = document.createElement("li");
    item.dataset.probe = name;
    item.textContent = result;
    list.append(item);
  };
  const attempt = (name, action) => {
    try {
      report(name, `reached: ${String(action())}`);
    } catch (error) {
      report(name, `blocked: ${error.name}`);
    }
  };
  attempt("parent.document", () => parent.document.title);
  attempt("parent.netplayPage", () => parent.netplayPage.client().token);
  attempt("top.location", () => top.location.href);
  attempt("localStorage", () => localStorage.getItem("netplay.name"));
  attempt("cookie", () => document.cookie);
  const server = new URL(import.meta.url);
  fetch(new URL("/netplay.js", server)).then(
    () => report("fetch", "reached: the server answered"),
    (error) => report("fetch", `blocked: ${error.name}`),
  );
  try {
    const socket = new WebSocket(`ws://${server.host}/ws`);
    socket.onopen = () => report("websocket", "reached: connected");
    socket.onerror = () => report("websocket", "blocked: error");
  } catch (error) {
    report("websocket", `blocked: ${error.name}`);
  }
}
