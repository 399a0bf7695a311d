"""Pong in a pygame window, played in real time through netplay's ThreadedClient.

Your paddle is drawn from ``predicted()``: the server's newest view run on through your own inputs,
so it moves the moment you press a key, however long the round trip. The ball and the other paddle
come from ``interpolated()``: a moment in the past, smooth between the views the server sends.
W/S or the arrow keys move; R asks for a rematch once a game is over; Esc quits.

    pip install pygame
    netplay serve --port 7890
    python examples/pong_pygame.py --port 7890              # twice, for two players
    python examples/pong_pygame.py --port 7890 --vs         # against the server's bot
    SDL_VIDEODRIVER=dummy python examples/pong_pygame.py --port 7890 --vs --bot --games 1 --json
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from typing import Any

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
import pygame  # after the environment variable that silences its banner

from netplay.client import NetplayError, ThreadedClient
from netplay.games.pong import BALL_R, HEIGHT, PADDLE_X, WIDTH, Pong, paddle_half

FPS, SCALE = 60, 0.8  # the field is 1000 x 600 units; the window 800 x 480 pixels
INK, PAPER, MINE = (235, 235, 225), (20, 30, 40), (250, 200, 80)


def direction() -> int:
    """The direction the keys held say: -1 up, 1 down, 0 still."""
    keys = pygame.key.get_pressed()
    up = keys[pygame.K_w] or keys[pygame.K_UP]
    down = keys[pygame.K_s] or keys[pygame.K_DOWN]
    return int(down) - int(up)


def box(x: float, y: float, half_w: float, half_h: float) -> pygame.Rect:
    """A rectangle centred on field point (x, y), in window pixels."""
    return pygame.Rect(
        round((x - half_w) * SCALE),
        round((y - half_h) * SCALE),
        round(2 * half_w * SCALE),
        round(2 * half_h * SCALE),
    )


def draw(
    screen: pygame.Surface, font: pygame.font.Font, mine: Any, theirs: Any, seat: int, text: str
) -> None:
    """Own paddle from the prediction, the rest from the interpolated view; a status line on top."""
    screen.fill(PAPER)
    pygame.draw.line(screen, INK, (WIDTH * SCALE / 2, 0), (WIDTH * SCALE / 2, HEIGHT * SCALE), 1)
    for side, view, colour in ((seat, mine, MINE), (1 - seat, theirs, INK)):
        x = PADDLE_X - 5 if side == 0 else WIDTH - PADDLE_X + 5  # each paddle is 10 units thick
        half = paddle_half(round(view["hits"]))
        if half > 0:
            pygame.draw.rect(screen, colour, box(x, view["paddles"][side], 5, half))
    # While the ball waits to be served it is at the centre: no sliding there from the last point.
    bx, by = theirs["ball"][:2] if theirs["serve"] == 0 else (WIDTH / 2, HEIGHT / 2)
    pygame.draw.rect(screen, INK, box(bx, by, BALL_R, BALL_R))
    screen.blit(font.render(text, True, INK), (12, 8))
    pygame.display.flip()


def main() -> int:
    parser = argparse.ArgumentParser(description="Pong in real time, in a pygame window")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7777)
    parser.add_argument("--name", default="pygame")
    parser.add_argument("--vs", nargs="?", const="simple", metavar="BOT", help="play the server's bot")
    parser.add_argument("--room", help="join this room instead of quick-matching")
    parser.add_argument("--points", type=int, default=5, help="points to win (a room --vs opens)")
    parser.add_argument("--bot", action="store_true", help="Pong's simple bot plays instead of you")
    parser.add_argument("--games", type=int, default=0, help="stop after this many games (0: never)")
    parser.add_argument("--json", action="store_true", help='end with {"games", "won", "lost", "drawn"}')
    parser.add_argument("--seed", type=int, help="seed for --bot")
    args = parser.parse_args()

    rules = Pong()
    net = ThreadedClient(args.host, args.port, name=args.name)
    try:
        net.connect()  # the only call that blocks: the handshake
    except (OSError, TimeoutError, NetplayError) as exc:
        print(f"cannot connect to {args.host}:{args.port} ({exc})")
        return 1
    net.predict_with(rules)  # so that predicted() runs the game's own tick on our inputs
    if args.vs:
        net.create_room("pong", private=True, options={"points": args.points})
        net.add_bot(args.vs, room=net.wait("joined")["room"]["id"])
    elif args.room:
        net.join(args.room)
    else:
        net.quick_match("pong")

    pygame.display.init()  # only what we use: no sound
    pygame.font.init()
    screen = pygame.display.set_mode((round(WIDTH * SCALE), round(HEIGHT * SCALE)))
    pygame.display.set_caption("netplay pong")
    font, clock, rng = pygame.font.Font(None, 28), pygame.time.Clock(), random.Random(args.seed)
    tally = {"games": 0, "won": 0, "lost": 0, "drawn": 0, "inputs": 0}  # inputs: how many were sent
    counted = 0  # the number of the last game counted
    game, sent = 0, None  # the game being played, and the direction last sent in it
    status = "Waiting for an opponent..."
    while True:
        for event in net.poll():  # once per frame: everything that arrived since the last one
            if event["type"] == "error":
                status = f"Refused: {event['message']}"
            elif event["type"] == "closed":
                print(f"connection closed ({event.get('message')})")
                return 1
        keys = [ev.key for ev in pygame.event.get(pygame.KEYDOWN)]
        if pygame.event.get(pygame.QUIT) or pygame.K_ESCAPE in keys:
            break
        view = net.view()  # this client's copy of the room (None until it has joined one)
        if view is None or view.view is None or view.seat is None:
            clock.tick(FPS)
            continue
        seat, (left, right) = view.seat, view.view["score"]
        if view.status == "finished" and view.outcome and view.game != counted:
            counted, outcome = view.game, view.outcome
            result = "drawn" if outcome["draw"] else "won" if outcome["winner"] == seat else "lost"
            tally["games"] += 1
            tally[result] += 1
            print(f"Game {counted}: you {result.replace('drawn', 'drew')}, {left}:{right}.", flush=True)
            status = f"You {result.replace('drawn', 'drew')}, {left}:{right}. R: rematch, Esc: quit"
            if args.games and tally["games"] >= args.games:
                break
            if args.bot:
                keys.append(pygame.K_r)
        if view.status == "finished" and pygame.K_r in keys:
            net.rematch()  # the next game starts once every seat has asked (a bot always has)
            status = "Rematch asked: waiting for the other side..."
        if view.status == "playing":
            if view.game != game:
                game, sent = view.game, None
            mine = net.predicted()  # the server's view plus our own inputs: no lag on our paddle
            if args.bot:
                choice = rules.bots["simple"](rules, mine, seat, rng)
                want = sent if choice is None else choice["dir"]
            else:
                want = direction()
            if want is not None and want != sent:
                net.send_input({"dir": want})  # stamped with its tick now: the next frame shows it
                sent = want
                tally["inputs"] += 1
            status = f"{left}:{right}   you are {rules.seat_label(seat)}   first to {view.view['points']}"
            status += f"   round trip {view.rtt * 1000:.0f} ms"
        draw(screen, font, net.predicted(), net.interpolated(), seat, status)
        clock.tick(FPS)
    net.close()
    pygame.quit()
    if args.json:
        print(json.dumps(tally))
    return 0


if __name__ == "__main__":
    sys.exit(main())
