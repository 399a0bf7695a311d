"""Smoke test of the benchmark tool: its tiniest run works against both servers (no timing asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
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


@pytest.mark.timeout(90)
def test_smoke_run_reports_both_servers(tmp_path: Path) -> None:
    """``python -m bench --smoke`` relays messages through the raw relay and netplay and reports them."""
    out = tmp_path / "smoke.json"
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--output", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=80,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["mode"] == "smoke"
    assert report["machine"]["nproc"] >= 1
    fixed = report["results"]["relay-fixed"]
    for server in ("raw", "netplay"):
        result = fixed[server]
        assert "error" not in result, result
        for name in FIELDS:
            assert name in result, f"{server} lacks {name}"
        assert result["delivered"] > 0
        assert result["errors"] == 0
        assert result["server_exit"] == 0
    assert "relay-fixed" in proc.stdout and "netplay/raw" in proc.stdout
