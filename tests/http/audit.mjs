// The graphql-http server audit (serverAudits) against the real server: every MUST and SHOULD audit
// must pass. Run from the repository root after `cargo build`: node tests/http/audit.mjs
// Environment: INNOGRAPH_BIN (default target/debug/innograph).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../web/explorer/package.json', import.meta.url));
const { serverAudits } = require('graphql-http');

const dataDir = mkdtempSync(join(tmpdir(), 'innograph-audit-'));
const server = spawn(process.env.INNOGRAPH_BIN || 'target/debug/innograph',
  ['serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'ignore'] });
const url = await new Promise((resolve, reject) => {
  let buffer = '';
  server.stdout.on('data', (chunk) => {
    buffer += chunk;
    const match = buffer.match(/GraphQL:\s+(http:\/\/\S+\/graphql)/);
    if (match) resolve(match[1]);
  });
  server.on('exit', (code) => reject(new Error(`server exited with ${code} before listening`)));
});

let ok = 0;
const failures = [];
try {
  for (const audit of serverAudits({ url })) {
    const result = await audit.fn();
    if (result.status === 'ok') {
      ok++;
    } else {
      failures.push(`${result.status.toUpperCase()} ${audit.name}: ${result.reason}`);
    }
  }
} finally {
  server.kill('SIGTERM');
  rmSync(dataDir, { recursive: true, force: true });
}
for (const failure of failures) console.error(failure);
const must = failures.filter((f) => f.startsWith('ERROR')).length;
const should = failures.filter((f) => f.startsWith('WARN')).length;
console.log(`graphql-http audit: ${ok} ok, ${must} MUST failures, ${should} SHOULD failures`);
console.log(`${ok} passed, ${failures.length} failed`);
process.exit(failures.length ? 1 : 0);
