"""The state folder of ``netplay play``: where sessions are kept, who may take them, when they go."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from netplay.client.state_file import MAX_AGE, KeptSession, SessionStore, state_dir

SERVER, GAME = "127.0.0.1:7777", "tictactoe"


def kept(room: str = "r-1", how: str = "quick", token: str = "SECRET-TOKEN") -> KeptSession:
    return KeptSession(SERVER, GAME, room, how, token)


def anything(_: KeptSession) -> bool:
    return True


def test_the_folder_follows_xdg(tmp_path: Path) -> None:
    assert state_dir({"XDG_STATE_HOME": str(tmp_path), "HOME": "/nowhere"}) == tmp_path / "netplay"
    home = {"HOME": str(tmp_path)}
    assert state_dir(home) == tmp_path / ".local" / "state" / "netplay"
    # XDG: a relative XDG_STATE_HOME is not a valid value, and is ignored.
    assert state_dir({**home, "XDG_STATE_HOME": "state"}) == tmp_path / ".local" / "state" / "netplay"


def test_a_saved_session_is_private_and_comes_back_to_the_next_run(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "netplay")
    slot, found = store.claim(SERVER, GAME, anything)
    assert found is None
    slot.save(kept())
    assert stat.S_IMODE(store.directory.stat().st_mode) == 0o700
    assert stat.S_IMODE(slot.path.stat().st_mode) == 0o600
    data = json.loads(slot.path.read_text())
    assert data["version"] == 1 and data["server"] == SERVER and data["token"] == "SECRET-TOKEN"
    slot.release()  # the process ends without saying bye (as if killed): the session stays
    again, found = store.claim(SERVER, GAME, anything)
    assert found is not None and found.token == "SECRET-TOKEN" and found.room == "r-1"
    assert again.path == slot.path
    again.forget()
    assert list(store.files()) == []


def test_a_session_held_by_a_running_play_is_never_taken(tmp_path: Path) -> None:
    store = SessionStore(tmp_path)
    first, _ = store.claim(SERVER, GAME, anything)
    first.save(kept(token="FIRST"))  # still held: that netplay play is running
    second, found = store.claim(SERVER, GAME, anything)
    assert found is None and second.path != first.path
    second.save(kept(token="SECOND"))
    first.release()
    third, found = store.claim(SERVER, GAME, anything)
    assert found is not None and found.token == "FIRST"
    for slot in (second, third):
        slot.forget()


def test_only_the_same_server_game_and_command_resume(tmp_path: Path) -> None:
    store = SessionStore(tmp_path)
    slot, _ = store.claim(SERVER, GAME, anything)
    slot.save(kept(room="r-7", how="private"))
    slot.release()
    for server, game in [("127.0.0.1:7778", GAME), (SERVER, "connect4")]:
        other, found = store.claim(server, game, anything)
        assert found is None
        other.release()
    other, found = store.claim(SERVER, GAME, lambda k: k.how == "quick")
    assert found is None
    other.release()
    assert len(list(store.files())) == 1  # refused, not deleted
    mine, found = store.claim(SERVER, GAME, lambda k: k.room == "r-7")
    assert found is not None
    mine.release()


def test_new_deletes_the_kept_sessions_of_that_server_and_game(tmp_path: Path) -> None:
    store = SessionStore(tmp_path)
    for server in (SERVER, "example.org:7777"):
        slot, _ = store.claim(server, GAME, anything)
        slot.save(KeptSession(server, GAME, "r-1", "quick", "T"))
        slot.release()
    fresh, found = store.claim(SERVER, GAME, None)
    assert found is None
    fresh.release()  # never saved: an empty file is not left behind
    (left,) = store.files()
    assert json.loads(left.read_text())["server"] == "example.org:7777"


def test_damaged_and_old_files_are_deleted(tmp_path: Path) -> None:
    store = SessionStore(tmp_path)
    slot, _ = store.claim(SERVER, GAME, anything)
    slot.save(kept())
    saved = json.loads(slot.path.read_text())["saved"]
    slot.release()
    (tmp_path / "play-damaged.json").write_text("{not json")
    (tmp_path / "play-other.json").write_text(json.dumps({"version": 99}))
    later, found = store.claim(SERVER, GAME, anything, now=saved + MAX_AGE + 1)
    assert found is None
    later.release()
    assert list(store.files()) == []


def test_the_token_is_never_in_a_repr() -> None:
    assert "SECRET-TOKEN" not in repr(kept()) and "SECRET-TOKEN" not in str(kept())


def test_a_folder_made_too_open_is_closed_again(tmp_path: Path) -> None:
    folder = tmp_path / "netplay"
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)
    slot, _ = SessionStore(folder).claim(SERVER, GAME, anything)
    slot.release()
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
