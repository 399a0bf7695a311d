"""Tic-tac-toe in a tkinter window on netplay's ThreadedClient: the shape of a 15-112 game.

The window never waits for the network: clicks send moves at once, and ``root.after`` polls for
events every 30 ms, like a timer-fired redraw. Quick-matches another player, or ``--vs-bot`` plays a
server-side bot. ``--auto`` clicks random free cells by itself (for tests and demos). The program
ends when the game does, printing one ``result: ...`` line.

    netplay serve
    python examples/tk_tictactoe.py                    # twice, for two players
    python examples/tk_tictactoe.py --vs-bot minimax   # against the server
"""

from __future__ import annotations

import argparse
import random
import tkinter as tk
from typing import Any

from netplay.client import ThreadedClient

POLL_MS = 30


class TicTacToeWindow:
    """Nine buttons, a status line, and a ThreadedClient polled from Tk's own event loop."""

    def __init__(self, root: tk.Tk, net: ThreadedClient, auto: bool) -> None:
        self.root, self.net, self.auto = root, net, auto
        self.state: dict[str, Any] | None = None
        self.result: str | None = None
        self.status = tk.Label(root, text="Waiting for an opponent...", font=("Helvetica", 14))
        self.status.grid(row=3, column=0, columnspan=3, pady=8)
        self.cells = []
        for i in range(9):
            button = tk.Button(root, text=" ", width=4, height=2, font=("Helvetica", 28),
                               command=lambda i=i: self.click(i))  # fmt: skip
            button.grid(row=i // 3, column=i % 3, padx=2, pady=2)
            self.cells.append(button)
        root.after(POLL_MS, self.poll)

    def my_turn(self) -> bool:
        return (
            self.state is not None
            and self.state["turn"] is not None
            and self.state["turn"] == self.net.seat()
        )

    def click(self, cell: int) -> None:
        """A click sends the move and returns at once; the server answers with the new state."""
        if self.my_turn() and self.state is not None and self.state["state"]["board"][cell] is None:
            self.net.move(cell)

    def poll(self) -> None:
        """Called every POLL_MS by Tk: handle whatever arrived, never wait."""
        for event in self.net.poll():
            if event["type"] == "state":
                self.show(event)
            elif event["type"] == "error" and not event.get("fatal"):
                self.status.config(text=f"Refused: {event['message']}")
            elif event["type"] == "closed":
                self.finish(f"connection closed ({event.get('message')})")
        if self.result is None:
            self.root.after(POLL_MS, self.poll)

    def show(self, state: dict[str, Any]) -> None:
        self.state = state
        for button, mark in zip(self.cells, state["state"]["board"], strict=True):
            button.config(text=mark or " ")
        outcome = state["outcome"]
        if outcome is not None:
            seat = self.net.seat()
            won = "draw" if outcome["draw"] else ("win" if outcome["winner"] == seat else "loss")
            self.finish(won)
        elif self.my_turn():
            self.status.config(text="Your move")
            if self.auto:
                free = [i for i, m in enumerate(state["state"]["board"]) if m is None]
                self.root.after(1, self.cells[random.choice(free)].invoke)  # a real button press
        else:
            self.status.config(text="Their move...")

    def finish(self, result: str) -> None:
        self.result = result
        self.status.config(text=f"Game over: {result}")
        print(f"result: {result}", flush=True)
        self.root.after(200, self.root.destroy)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7777)
    parser.add_argument("--name", default="Tk player")
    parser.add_argument("--vs-bot", metavar="BOT", help="play a server-side bot (minimax, random)")
    parser.add_argument("--auto", action="store_true", help="click random free cells by itself")
    args = parser.parse_args()
    net = ThreadedClient(args.host, args.port, name=args.name).connect()
    if args.vs_bot:
        net.create_room("tictactoe")
        joined = net.wait("joined")
        net.add_bot(args.vs_bot, room=joined["room"]["id"])
    else:
        net.quick_match("tictactoe")
    root = tk.Tk()
    root.title("netplay tic-tac-toe")
    window = TicTacToeWindow(root, net, args.auto)
    root.mainloop()
    net.close()
    raise SystemExit(0 if window.result in ("win", "loss", "draw") else 1)


if __name__ == "__main__":
    main()
