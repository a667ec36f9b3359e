// What the end-to-end scripts share: start an innograph server on a loopback port and wait for the
// address it prints, and launch Debian's Chromium through playwright-core with the flags this kind of
// machine needs.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../web/explorer/package.json', import.meta.url));
export const { chromium } = require('playwright-core');

export const innographBin = process.env.INNOGRAPH_BIN || 'target/debug/innograph';

// Starts `innograph serve --listen 127.0.0.1:0 --data-dir DIR [extra…]` and resolves to
// `{ server, base }` once the server has printed its GraphQL address (`base` is http://127.0.0.1:PORT).
export async function startServer(dataDir, extra = []) {
  const server = spawn(innographBin, ['serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir, ...extra],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  const base = await new Promise((resolve, reject) => {
    let buffer = '';
    server.stdout.on('data', (chunk) => {
      buffer += chunk;
      const match = buffer.match(/GraphQL:\s+(http:\/\/\S+)\/graphql/);
      if (match) resolve(match[1]);
    });
    server.on('exit', (code) => reject(new Error(`server exited with ${code} before listening`)));
  });
  return { server, base };
}

// Headless Chromium (CHROMIUM overrides /usr/bin/chromium). The network flags keep it from calling out
// (this machine's network is closed); `--disable-dev-shm-usage` keeps renderer memory out of /dev/shm,
// which is small in containers. (The "Target crashed" seen in earlier CI runs was not /dev/shm: a test
// returned a Cytoscape element from page.evaluate, whose serialisation ran the renderer out of memory.
// Return plain data, or nothing, from page.evaluate.)
export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
