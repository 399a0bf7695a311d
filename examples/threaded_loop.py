"""Tic-tac-toe in a pygame window against a server-side bot, with the ThreadedClient.

The network never blocks a frame: sends return at once and ``poll()`` is called once per frame.
Click a cell to play, or pass ``--auto`` to let the program pick random moves. The program exits by
itself when the game ends, printing one ``result: ...`` line (status 0).

    pip install pygame
    netplay serve --port 7890
    python examples/threaded_loop.py --port 7890
    SDL_VIDEODRIVER=dummy python examples/threaded_loop.py --port 7890 --auto   # no window
"""

from __future__ import annotations

import argparse
import os
import random
import sys
from typing import Any

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
import pygame  # after the environment variable that silences its banner

from netplay.client import NetplayError, ThreadedClient

CELL, FPS = 120, 30
INK, PAPER, GRID = (30, 30, 30), (245, 240, 225), (160, 150, 130)


def draw(screen: pygame.Surface, fonts: tuple[pygame.font.Font, ...], board: list[Any], status: str) -> None:
    screen.fill(PAPER)
    for i in (1, 2):
        pygame.draw.line(screen, GRID, (i * CELL, 0), (i * CELL, 3 * CELL), 3)
        pygame.draw.line(screen, GRID, (0, i * CELL), (3 * CELL, i * CELL), 3)
    for cell, mark in enumerate(board):
        if mark is not None:
            text = fonts[0].render(mark, True, INK)
            x, y = (cell % 3) * CELL + CELL // 2, (cell // 3) * CELL + CELL // 2
            screen.blit(text, text.get_rect(center=(x, y)))
    line = fonts[1].render(status, True, INK)
    screen.blit(line, (10, 3 * CELL + 12))
    pygame.display.flip()


def main() -> int:
    parser = argparse.ArgumentParser(description="tic-tac-toe against a server-side bot")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7777)
    parser.add_argument("--bot", default="random", help="the server-side bot: random or minimax")
    parser.add_argument("--auto", action="store_true", help="pick random moves instead of clicks")
    parser.add_argument("--seed", type=int, help="seed for --auto")
    parser.add_argument("--frames-max", type=int, default=30 * 60 * FPS, help="give up after this")
    parser.add_argument("--linger", type=float, default=2.0, help="seconds to show the final board")
    args = parser.parse_args()

    net = ThreadedClient(args.host, args.port, name="pygame")
    try:
        net.connect()  # the only call that blocks: the handshake
    except (OSError, TimeoutError, NetplayError) as exc:
        print(f"result: cannot connect to {args.host}:{args.port} ({exc})")
        return 1
    net.create_room("tictactoe")  # returns at once; the reply arrives through poll()

    pygame.display.init()  # only what we use: no sound
    pygame.font.init()
    screen = pygame.display.set_mode((3 * CELL, 3 * CELL + 50))
    pygame.display.set_caption("netplay tic-tac-toe")
    fonts = pygame.font.Font(None, CELL), pygame.font.Font(None, 28)
    clock, rng = pygame.time.Clock(), random.Random(args.seed)
    board: list[Any] = [None] * 9
    state: dict[str, Any] | None = None  # the latest state message
    moved_in: int | None = None  # the version of the state we last sent a move against
    status, result, frames_left = "Connecting...", None, None
    for _frame in range(args.frames_max):
        for event in net.poll():  # once per frame: everything that arrived since the last one
            if event["type"] == "joined":
                status = f"Room {event['room']['id']}: seating the {args.bot} bot..."
                net.add_bot(args.bot, room=event["room"]["id"])
            elif event["type"] == "state":
                state, board = event, event["state"]["board"]
                seat = net.seat()
                if event["outcome"] is not None and result is None:
                    winner = event["outcome"]["winner"]
                    result = "draw" if winner is None else "win" if winner == seat else "loss"
                    status, frames_left = f"Game over: {result}.", int(args.linger * FPS) + 1
                elif event["turn"] is not None:
                    status = "Your move." if event["turn"] == seat else "The bot is thinking..."
            elif event["type"] == "error":
                status, moved_in = f"Refused: {event['message']}", None  # we may move again
            elif event["type"] == "closed":
                print(f"result: connection closed ({event.get('message')})")
                return 1

        my_turn = (
            state is not None
            and state["turn"] is not None
            and state["turn"] == net.seat()
            and state["version"] != moved_in
        )
        for ev in pygame.event.get():
            if ev.type == pygame.QUIT:
                net.close()
                print("result: quit")
                return 1
            if ev.type == pygame.MOUSEBUTTONDOWN and my_turn and not args.auto:
                x, y = ev.pos
                if y < 3 * CELL:
                    net.move(y // CELL * 3 + x // CELL)  # the server checks it; an error comes back
                    moved_in, my_turn = state["version"], False
        if my_turn and args.auto:
            net.move(rng.choice([i for i, mark in enumerate(board) if mark is None]))
            moved_in = state["version"]

        draw(screen, fonts, board, status)
        clock.tick(FPS)
        if frames_left is not None:
            frames_left -= 1
            if frames_left <= 0:
                net.close()
                pygame.quit()
                print(f"result: {result}")
                return 0
    net.close()
    print(f"result: gave up after {args.frames_max} frames")
    return 2


if __name__ == "__main__":
    sys.exit(main())
