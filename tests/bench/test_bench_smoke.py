"""Smoke test of the benchmark tool: its tiniest runs work against every server (no timing asserted)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
COLYSEUS = ROOT / "bench" / "colyseus"
FIELDS = (
    "delivered",
    "delivered_per_s",
    "lat_p50_ms",
    "lat_p99_ms",
    "server_cpu_pct",
    "server_rss_mib",
    "server_cpu_us_per_msg",
    "gen_cpu_pct",
    "generator_bound",
)


RELAY_SERVERS = ("raw", "netplay", "text")


def smoke(tmp_path: Path, *args: str, timeout: float = 80) -> tuple[subprocess.CompletedProcess[str], Any]:
    """``python -m bench --smoke *args``, which must exit 0: what it printed, and its JSON report."""
    out = tmp_path / "report.json"
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", *args, "--output", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert proc.returncode == 0, proc.stderr[-3000:] + proc.stdout[-3000:]
    return proc, json.loads(out.read_text())


def check_relay(by_server: dict[str, Any]) -> None:
    """Every relay server kind ran cleanly, delivered messages and has every figure; the 15-112 text
    port's lines (``relay SENDER PAYLOAD``) are delivered at the raw relay's size."""
    assert set(by_server) == set(RELAY_SERVERS)
    for server in RELAY_SERVERS:
        result = by_server[server]
        assert "error" not in result, result
        for name in FIELDS:
            assert name in result, f"{server} lacks {name}"
        assert result["delivered"] > 0
        assert result["delivered_per_s"] > 0
        assert result["server_cpu_us_per_msg"] > 0
        assert result["lat_p50_ms"] is not None
        assert result["errors"] == 0
        assert result["server_exit"] == 0
    assert by_server["text"]["message_bytes"]["delivered"] == by_server["raw"]["message_bytes"]["delivered"]


@pytest.mark.timeout(90)
def test_smoke_run_reports_both_servers(tmp_path: Path) -> None:
    """``python -m bench --smoke`` relays messages through the raw relay, netplay and netplay's 15-112
    text port, and reports them side by side."""
    proc, report = smoke(tmp_path)
    assert report["mode"] == "smoke"
    assert report["machine"]["nproc"] >= 1
    check_relay(report["results"]["relay-fixed"])
    assert report["scenarios"]["relay-fixed"]["text_settings"]["text_room_size"] == 4
    assert "relay-fixed" in proc.stdout and "netplay/raw" in proc.stdout and "text/raw" in proc.stdout


@pytest.mark.timeout(90)
def test_smoke_saturation_with_text_port(tmp_path: Path) -> None:
    """``--smoke --only relay-sat-100x4``: 100 rooms of 4 saturated on every relay server kind, the
    text port's rooms filled in connection order (the generator checks every member's newPlayer lines)."""
    proc, report = smoke(tmp_path, "--only", "relay-sat-100x4")
    assert set(report["results"]) == {"relay-sat-100x4"}
    check_relay(report["results"]["relay-sat-100x4"])
    assert report["scenarios"]["relay-sat-100x4"]["text_settings"] == {"rate_limit": 0, "text_room_size": 4}
    assert "text/raw" in proc.stdout


def test_smoke_tictactoe_at_a_fixed_rate_with_and_without_fsyncs(tmp_path: Path) -> None:
    """``--smoke --only tictactoe-fixed-400,tictactoe-durable-400``: 20 matches kept in SQLite, moves
    paced at 400 a second, once as ``netplay serve`` keeps them and once with ``--db-sync full``
    (the disk's fsync time measured beside it); the round trips and the targets are reported."""
    names = "tictactoe-fixed-400,tictactoe-durable-400"
    proc, report = smoke(tmp_path, "--only", names)
    assert set(report["results"]) == set(names.split(","))
    for name in names.split(","):
        net = report["results"][name]["netplay"]
        assert net["errors"] == 0 and net["server_exit"] == 0, net
        assert net["rate"] == 400 and 0 < net["moves_per_s"] <= 440, net  # paced, not saturated
        assert 0 < net["rtt_p50_ms"] <= net["rtt_p99_ms"], net
        assert report["scenarios"][name]["netplay_settings"]["db"] != "", report["scenarios"][name]
    durable = report["results"]["tictactoe-durable-400"]["netplay"]
    assert 0 < durable["disk_fsync_p50_ms"] <= durable["disk_fsync_p99_ms"], durable
    assert "disk_fsync_p50_ms" not in report["results"]["tictactoe-fixed-400"]["netplay"]
    assert "tictactoe-durable-400 at 400 moves/s: move round trip p99 < 20 ms" in proc.stdout


# -- the real-time scenario: 2 arena rooms of 4 bots, 3 s measured ---------------------------------
REALTIME_FIELDS = (
    "cpu_us_per_room_tick",
    "room_ticks",
    "ticks_per_room_s",
    "tick_late_p50_ms",
    "tick_late_p99_ms",
    "tick_late_max_ms",
    "ticks_late_pct",
    "bytes_per_client_s",
    "patch_bytes_per_client_s",
    "keyframe_bytes_per_client_s",
    "input_p50_ms",
    "input_p99_ms",
    "views_per_client_s",
    "window_mono",
    "gen_cpu_pct",
    "generator_bound",
)


def colyseus_installed() -> bool:
    """Node is there and bench/colyseus/node_modules holds every dependency (tests never npm install)."""
    if shutil.which("node") is None or not (COLYSEUS / "package.json").is_file():
        return False
    wanted = json.loads((COLYSEUS / "package.json").read_text())["dependencies"]
    return all((COLYSEUS / "node_modules" / name).is_dir() for name in wanted)


def run_realtime_smoke(tmp_path: Path, *extra: str) -> tuple[subprocess.CompletedProcess[str], Any]:
    proc, report = smoke(tmp_path, "--only", "arena-2x4", *extra, timeout=100)
    return proc, report["results"]["arena-2x4"]


def check_realtime(result: dict[str, Any]) -> None:
    assert "error" not in result, result
    for name in REALTIME_FIELDS:
        assert name in result, f"lacks {name}"
    assert result["room_ticks"] > 0
    assert result["views"] > 0
    assert result["bytes_per_client_s"] > 0
    assert result["errors"] == 0
    assert result["server_exit"] == 0


@pytest.mark.timeout(120)
def test_smoke_realtime_netplay(tmp_path: Path) -> None:
    """``--smoke --only arena-2x4`` plays arena rooms on netplay: ticks timed, deltas applied and checked."""
    proc, by_server = run_realtime_smoke(tmp_path, "--no-colyseus")
    assert set(by_server) == {"netplay"}
    result = by_server["netplay"]
    check_realtime(result)
    assert result["transport"] == "tcp"
    assert result["patches"] > 0 and result["keyframes"] > 0
    assert result["diverged"] == 0  # every patch applied to its base and matched the server's hash
    assert result["delta_ratio"] > 1
    assert result["server_stats"]["matches_started"] == 2
    assert "arena-2x4" in proc.stdout and "netplay/colyseus" in proc.stdout


@pytest.mark.timeout(150)
@pytest.mark.skipif(
    not colyseus_installed(), reason="Colyseus is not installed (npm install in bench/colyseus)"
)
def test_smoke_realtime_colyseus(tmp_path: Path) -> None:
    """The same tiny run on both servers, and the Colyseus room's rules checked against arena_rules.js."""
    rules = subprocess.run(
        ["node", "rules_check.mjs", "5"], cwd=COLYSEUS, capture_output=True, text=True, timeout=60
    )
    assert rules.returncode == 0, rules.stderr + rules.stdout
    _proc, by_server = run_realtime_smoke(tmp_path)
    assert set(by_server) == {"netplay", "colyseus"}
    for result in by_server.values():
        check_realtime(result)
    assert by_server["colyseus"]["transport"] == "websocket"
