"""Smoke test of ``python -m bench --cluster``: netplay alone, one cluster node and two, side by side
(no timing asserted), and the projection's arithmetic."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.cluster import CLUSTER_SERVERS, cluster_scenarios, projection, remote_share

ROOT = Path(__file__).resolve().parents[2]

needs_redis = pytest.mark.skipif(
    shutil.which("redis-server") is None, reason="redis-server is not installed (apt-get install it)"
)
SCENARIOS = "cluster-relay-sat,cluster-tictactoe"


def check_cluster_layout(result: dict[str, Any], kind: str, clients: int, rooms: int) -> None:
    """Each kind ran cleanly on its own processes: (b) every client on n1; (c) the clients half on
    each node, every room split, both nodes' CPU and Redis's measured apart."""
    assert "error" not in result, result
    assert result["errors"] == 0
    assert result["server_exit"] == 0
    if kind == "netplay":
        assert "redis_cpu_s" not in result and "clients_by_node" not in result
        return
    nodes = 1 if kind == "cluster1" else 2
    expected = {"nodes": nodes, "node_exits": [0] * nodes, "redis_exit": 0, "redis_aof": "no"}
    assert result["cluster"] == expected
    assert result["redis_cpu_s"] >= 0
    assert len(result["node_cpu_s"]) == nodes
    if kind == "cluster1":
        assert result["clients_by_node"] == {"n1": clients}
        assert result["rooms_split"] == 0
    else:
        assert result["clients_by_node"] == {"n1": clients // 2, "n2": clients // 2}
        assert result["rooms_split"] == result["rooms_total"] == rooms


@needs_redis
@pytest.mark.timeout(150)
def test_cluster_smoke_relay_and_tictactoe(tmp_path: Path) -> None:
    """``--cluster --smoke``: relay rooms saturated and tic-tac-toe matches on (a), (b) and (c), with
    the ratios, the targets and the 4/16/64-node projection in the table and the JSON."""
    out = tmp_path / "cluster.json"
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--cluster", "--smoke", "--only", SCENARIOS, "--output", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=140,
    )
    assert proc.returncode == 0, proc.stderr[-3000:] + proc.stdout[-3000:]
    report = json.loads(out.read_text())
    results = report["results"]
    assert set(results) == {"cluster-relay-sat", "cluster-tictactoe"}
    sizes = {s.name: s.params for s in cluster_scenarios("smoke")}
    relay, ttt = sizes["cluster-relay-sat"], sizes["cluster-tictactoe"]
    for kind in CLUSTER_SERVERS:
        sat = results["cluster-relay-sat"][kind]
        check_cluster_layout(sat, kind, relay["rooms"] * relay["members"], relay["rooms"])
        assert sat["delivered"] > 0 and sat["server_cpu_us_per_msg"] > 0
        game = results["cluster-tictactoe"][kind]
        check_cluster_layout(game, kind, 2 * ttt["matches"], ttt["matches"])
        assert game["moves"] > 0 and game["server_cpu_us_per_move"] > 0
        assert game["pairing"] == "rooms"
    # Cross-node relay goes through Redis's pub/sub; every move is written to Redis.
    assert results["cluster-relay-sat"]["cluster2"]["redis_commands"]["publish"] > 0
    assert results["cluster-tictactoe"]["cluster1"]["redis_cpu_us_per_move"] > 0
    targets = [t["target"] for t in report["targets"]]
    for name in results:
        assert any(t.startswith(f"{name}: (b)") for t in targets)
        assert any(t.startswith(f"{name}: (c)") for t in targets)
    projected = report["cluster"]["projection"]
    assert [r["nodes"] for r in projected["cluster-tictactoe"]["rows"]] == [4, 16, 64]
    assert "(c) 2 nodes" in proc.stdout and "c/a" in proc.stdout and "projection" in proc.stdout


def test_projection_is_a_line_through_b_and_c() -> None:
    """One node + Redis at 2 us a message (Redis 0), two nodes split at 4 us (Redis 0.1): at 4 nodes,
    with 9/16 of a 4-member room's deliveries remote, a node spends 2 + 2 * (9/16) / (1/2) us."""
    assert remote_share(2, 4) == 0.375 and remote_share(64, 2) == pytest.approx(0.4921875)
    results = {
        "cluster-relay-sat": {
            "cluster1": {"server_cpu_us_per_msg": 2.0, "redis_cpu_us_per_msg": 0.0},
            "cluster2": {"server_cpu_us_per_msg": 4.0, "redis_cpu_us_per_msg": 0.1},
        }
    }
    scenarios = {s.name: s for s in cluster_scenarios("smoke")}
    rows = projection(results, scenarios)["cluster-relay-sat"]["rows"]
    four = rows[0]
    assert four["nodes"] == 4 and four["remote_share"] == 0.562
    assert four["node_cpu_us"] == pytest.approx(2 + 2 * 0.5625 / 0.5, abs=1e-3)
    assert four["nodes_capacity_per_s"] == round(4 * 1e6 / four["node_cpu_us"])
    assert four["redis_capacity_per_s"] == round(1e6 / 0.1125)
    assert four["bound_by"] == "nodes"
    assert rows[-1]["bound_by"] == "Redis"  # 64 nodes outrun one Redis core
