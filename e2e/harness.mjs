// Shared by the browser tests: a demo county served by the real binary on a free port, Debian's
// Chromium through playwright-core, and the login form.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { chromium } from 'playwright-core';

export const root = path.resolve(import.meta.dirname, '..');
export const bin = process.env.SHOUWANG_BIN ?? path.join(root, 'target/debug/shouwang');
export const today = '2026-11-24';
export const password = 'shouwang-demo';

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

export function run(args, input) {
  const r = spawnSync(bin, args, { input, encoding: 'utf8', env: { ...process.env, SHOUWANG_TODAY: today } });
  assert.equal(r.status, 0, `${args.join(' ')}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** A valid GB 11643 number: address + birth date + sequence + MOD 11-2 check character. */
export function idNumber(area, birth, seq) {
  const body = `${area}${birth.replaceAll('-', '')}${String(seq).padStart(3, '0')}`;
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...body].reduce((s, d, i) => s + Number(d) * w[i], 0);
  return body + '10X98765432'[sum % 11];
}

/** Starts a demo county (522730, 300 children); `prepare(db)` runs CLI set-up before serving. */
export async function start(prepare = () => {}, serveArgs = ['--second-factor-roles', 'none']) {
  const dir = mkdtempSync(path.join(tmpdir(), 'shouwang-e2e-'));
  const db = path.join(dir, 'e2e.db');
  // The key file goes to its default place apart from the data: here, inside this run's folder.
  process.env.XDG_CONFIG_HOME = path.join(dir, 'config');
  run(['demo', '--db', db, '--region', '522730', '--children', '300', '--seed', '3']);
  prepare(db);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const server = spawn(bin, ['serve', '--db', db, '--bind', `127.0.0.1:${port}`, ...serveArgs], { env: { ...process.env, SHOUWANG_TODAY: today }, stdio: ['ignore', 'ignore', 'inherit'] });
  for (let i = 0; i < 100; i++) {
    try { if ((await fetch(`${base}/login`)).ok) break; } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  return {
    dir, db, base, browser,
    async stop() {
      await browser.close();
      server.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function login(page, base, username) {
  await page.goto(`${base}/login`);
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', password);
  await page.click('button[type=submit]');
  await page.waitForURL(`${base}/`);
}
