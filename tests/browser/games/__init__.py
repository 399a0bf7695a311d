"""Games written for the browser tests, served with ``netplay serve --game tests.browser.games...``."""
