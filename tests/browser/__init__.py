"""The web client in real headless Chromium, driven by Playwright."""
