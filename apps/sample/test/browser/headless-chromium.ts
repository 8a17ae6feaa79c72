import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

/**
 * The one CHROMIUM_PATH names, or Debian's headless shell (`apt-get install -y --no-install-recommends
 * chromium-headless-shell`: what `.ci/run` installs, without the desktop libraries), or Debian's Chromium.
 */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || ['/usr/bin/chromium-headless-shell', '/usr/bin/chromium'].find((path) => existsSync(path)) || '/usr/bin/chromium-headless-shell';

/**
 * A real Chromium, headless. playwright-core drives it and downloads no browser of its own. The
 * flags keep it to the page under test: no sandbox (CI runs as root), no GPU, no background traffic
 * (updates, safe browsing, sync), no first-run screens.
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `No Chromium at ${CHROMIUM_PATH}: the browser check needs one. Install Debian's (apt-get install -y --no-install-recommends chromium-headless-shell fonts-liberation), ` +
        'or set CHROMIUM_PATH to a Chromium or Chrome binary.',
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    timeout: 30_000,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-default-apps',
      '--disable-sync',
      '--no-first-run',
      '--metrics-recording-only',
      '--mute-audio',
      // The page asks for web fonts from the internet: no name but the loopback's resolves.
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1',
    ],
  });
}

/**
 * Lets the page load only from this machine's loopback: the dashboard links web fonts from the
 * internet, which a test must not reach (the page renders with the system's fonts instead).
 */
export async function loopbackOnly(page: Page): Promise<void> {
  await page.route(
    (url) => !['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname),
    (route) => route.abort('blockedbyclient'),
  );
}
