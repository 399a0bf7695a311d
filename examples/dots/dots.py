"""Dots: every player moves a dot with the arrow keys (or jumps with a click) and sees the others move.

The classic 15-112 sockets demo, on netplay's ThreadedClient and pygame. It speaks the 15-112 line
vocabulary (``playerMoved DX DY``, ``playerTeleported X Y``) as relay data, so it shares a room with
unmodified starter-code clients on the server's text port (docs/15-112.md):

    pip install pygame
    netplay serve --text-port 50003
    python examples/dots/dots.py            # one window per player; run it twice or more

Options for running it headless (SDL_VIDEODRIVER=dummy), as tests/e2e/test_dots_example.py does:
``--press right,right,down`` presses keys by itself once another player is there, ``--trace``
prints what it sees, ``--seconds`` ends it.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from typing import Any

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
import pygame  # after the environment variable that silences its banner

from netplay.client import NetplayError, ThreadedClient

WIDTH, HEIGHT, RADIUS, STEP, FPS = 640, 480, 10, 10, 60
PAPER, MINE, OTHERS, INK = (250, 248, 240), (40, 90, 200), (210, 60, 50), (60, 60, 60)
ARROWS = {
    pygame.K_LEFT: (-STEP, 0),
    pygame.K_RIGHT: (STEP, 0),
    pygame.K_UP: (0, -STEP),
    pygame.K_DOWN: (0, STEP),
}
KEY_NAMES = {"left": pygame.K_LEFT, "right": pygame.K_RIGHT, "up": pygame.K_UP, "down": pygame.K_DOWN}


class Dots:
    """The game without the screen or the network: every player's dot, and the messages to send.

    Local actions return the relay data to send; ``handle`` applies a netplay event and returns the
    data to send in answer (our position, for someone who has just arrived).
    """

    def __init__(self, start: tuple[int, int]) -> None:
        self.me = ""
        self.dots: dict[str, tuple[int, int]] = {}
        self.start = start
        self.joined = False
        self.closed = False

    def position(self) -> tuple[int, int]:
        return self.dots[self.me]

    def move(self, dx: int, dy: int) -> dict[str, str]:
        x, y = self.position()
        nx, ny = min(max(x + dx, 0), WIDTH), min(max(y + dy, 0), HEIGHT)
        self.dots[self.me] = (nx, ny)
        return {"instr": "playerMoved", "details": f"{nx - x} {ny - y}"}

    def teleport(self, x: int, y: int) -> dict[str, str]:
        self.dots[self.me] = (x, y)
        return {"instr": "playerTeleported", "details": f"{x} {y}"}

    def handle(self, event: dict[str, Any]) -> list[dict[str, str]]:
        kind = event["type"]
        if kind == "joined":
            self.joined = True
            for member in event["room"]["members"]:
                if member["id"] != self.me:
                    self.dots.setdefault(member["id"], (WIDTH // 2, HEIGHT // 2))
            return [self.teleport(*self.position())]  # tell everyone already here where we are
        if kind == "member_joined":
            self.dots[event["member"]["id"]] = (WIDTH // 2, HEIGHT // 2)
            return [self.teleport(*self.position())]  # and tell the newcomer
        if kind == "member_left":
            self.dots.pop(event["member"]["id"], None)
        elif kind == "relay":
            self._apply(event["from"], event["data"])
        elif kind in ("closed", "error") and (kind == "closed" or event.get("fatal")):
            self.closed = True
        return []

    def _apply(self, sender: str, data: Any) -> None:
        if isinstance(data, dict):  # from netplay clients and, bridged, from text clients
            instr, details = data.get("instr"), data.get("details")
        elif isinstance(data, str):
            instr, _, details = data.partition(" ")
        else:
            return
        try:
            a, b = (int(n) for n in str(details).split())
        except ValueError:
            return  # not ours: other games' lines share the vocabulary, not the arguments
        x, y = self.dots.get(sender, (WIDTH // 2, HEIGHT // 2))
        if instr == "playerMoved":
            self.dots[sender] = (x + a, y + b)
        elif instr == "playerTeleported":
            self.dots[sender] = (a, b)


def draw(screen: pygame.Surface, font: pygame.font.Font, game: Dots) -> None:
    screen.fill(PAPER)
    for player, (x, y) in game.dots.items():
        pygame.draw.circle(screen, MINE if player == game.me else OTHERS, (x, y), RADIUS)
        label = font.render(player, True, INK)
        screen.blit(label, label.get_rect(midbottom=(x, y - RADIUS - 4)))
    pygame.display.flip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="move a dot with the arrow keys; see the others move")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7777, help="the server's netplay port")
    parser.add_argument("--game", default="15-112", help="relay room label (15-112: with text clients)")
    parser.add_argument("--room", help="join this room id instead of quick-matching")
    parser.add_argument("--start", help="starting position X,Y (default: random)")
    parser.add_argument("--press", default="", help="keys to press once someone else is here: right,up,...")
    parser.add_argument("--trace", action="store_true", help="print what happens, one line per change")
    parser.add_argument("--seconds", type=float, help="quit after this long")
    args = parser.parse_args(argv)
    presses = [KEY_NAMES[k] for k in args.press.split(",") if k]
    if args.start:
        x, y = (int(n) for n in args.start.split(","))
    else:
        x, y = random.randrange(RADIUS, WIDTH - RADIUS), random.randrange(RADIUS, HEIGHT - RADIUS)

    net = ThreadedClient(args.host, args.port)
    try:
        net.connect()  # the only call that blocks: the handshake
    except (OSError, TimeoutError, NetplayError) as exc:
        print(f"cannot connect to {args.host}:{args.port} ({exc})", file=sys.stderr)
        return 1
    game = Dots((x, y))
    game.me = net.id
    game.dots[game.me] = (x, y)
    if args.room:
        net.join(args.room)
    else:
        net.quick_match(args.game, kind="relay")

    pygame.init()
    screen = pygame.display.set_mode((WIDTH, HEIGHT))
    pygame.display.set_caption(f"dots: {game.me}")
    font = pygame.font.Font(None, 20)
    clock = pygame.time.Clock()
    deadline = None if args.seconds is None else time.monotonic() + args.seconds
    shown: dict[str, tuple[int, int]] = {}
    try:
        while not game.closed and (deadline is None or time.monotonic() < deadline):
            if presses and game.joined and len(game.dots) > 1:
                pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=presses.pop(0)))
            for event in pygame.event.get():
                if event.type == pygame.QUIT:
                    return 0
                if not game.joined:
                    continue  # nowhere to send moves yet
                if event.type == pygame.KEYDOWN and event.key in ARROWS:
                    net.relay(game.move(*ARROWS[event.key]))
                elif event.type == pygame.MOUSEBUTTONDOWN:
                    net.relay(game.teleport(*event.pos))
            for event in net.poll():
                if event["type"] == "joined" and args.trace:
                    print(f"me {game.me} room {event['room']['id']}", flush=True)
                for reply in game.handle(event):
                    net.relay(reply)
            draw(screen, font, game)
            if args.trace:
                for player, (px, py) in game.dots.items():
                    if shown.get(player) != (px, py) and 0 <= px < WIDTH and 0 <= py < HEIGHT:
                        r, g, b, _ = screen.get_at((px, py))
                        print(f"dot {player} {px} {py} {r} {g} {b}", flush=True)
                shown = dict(game.dots)
            clock.tick(FPS)
    finally:
        net.close()
        pygame.quit()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
