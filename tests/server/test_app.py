"""The server process's own settings: connections kept under the open-files limit."""

from __future__ import annotations

import logging

import pytest

from netplay.server.app import fit_connections_to_files
from netplay.server.config import ServerConfig


def test_max_connections_is_lowered_to_fit_the_open_files_limit(caplog: pytest.LogCaptureFixture) -> None:
    config = ServerConfig()
    with caplog.at_level(logging.INFO):
        fit_connections_to_files(config, 1024)
    assert config.max_connections == 924  # room left for listeners, the database and logs
    assert caplog.text == ""  # the default adapts without alarming anyone


def test_asking_for_more_than_the_machine_allows_is_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    config = ServerConfig(max_connections=50_000)
    with caplog.at_level(logging.WARNING):
        fit_connections_to_files(config, 1024)
    assert config.max_connections == 924
    assert "max_connections lowered from 50000 to 924" in caplog.text


@pytest.mark.parametrize("limit", [None, 2**63 - 1, 1_000_000])
def test_a_limit_that_leaves_room_changes_nothing(limit: int | None) -> None:
    config = ServerConfig()
    fit_connections_to_files(config, limit)
    assert config.max_connections == 20_000
