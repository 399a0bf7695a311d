"""The server process's own settings: connections kept under the open-files limit."""

from __future__ import annotations

import logging

import pytest

from netplay.server.app import fit_connections_to_files
from netplay.server.config import ServerConfig


def test_max_connections_is_lowered_to_fit_the_open_files_limit(caplog: pytest.LogCaptureFixture) -> None:
    config = ServerConfig()
    with caplog.at_level(logging.WARNING):
        fit_connections_to_files(config, 1024)
    assert config.max_connections == 924  # room left for listeners, the database and logs
    assert "max_connections lowered from 20000 to 924" in caplog.text


@pytest.mark.parametrize("limit", [None, 2**63 - 1, 1_000_000])
def test_a_limit_that_leaves_room_changes_nothing(limit: int | None) -> None:
    config = ServerConfig()
    fit_connections_to_files(config, limit)
    assert config.max_connections == 20_000
