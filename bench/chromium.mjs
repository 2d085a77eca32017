// Debian's chromium, headless, with nothing that reaches beyond loopback on its own: the browser
// tests and the widget benchmark launch it the same way.
export const CHROMIUM = "/usr/bin/chromium";

/** @param {import("playwright-core").BrowserType} chromium */
export const launchHeadless = (chromium) =>
  chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
