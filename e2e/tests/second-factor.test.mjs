// A county officer signs in for the first time on a server that requires a second factor of
// county roles: she is taken to the set-up, scans the QR code (here: reads the secret), confirms
// with a code, keeps her recovery codes, and is asked for a code at her next sign-in.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import path from 'node:path';
import { start, password, root, today } from '../harness.mjs';

let app;
// The server's default: county and county_admin must use a second factor.
before(async () => { app = await start(() => {}, []); });
after(async () => { await app?.stop(); });

/** RFC 6238 (SHA-1, 6 digits, 30 s) for a base32 secret, at `unixSeconds`. */
function totp(secret, unixSeconds) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of secret.replace(/=+$/, '')) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(unixSeconds / 30)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const o = mac[mac.length - 1] & 0xf;
  const n = ((mac[o] & 0x7f) << 24) | (mac[o + 1] << 16) | (mac[o + 2] << 8) | mac[o + 3];
  return String(n % 1_000_000).padStart(6, '0');
}

// The server's clock is fixed at 04:00 UTC of the test day (SHOUWANG_TODAY).
const serverNow = Date.parse(`${today}T04:00:00Z`) / 1000;

async function signIn(page) {
  await page.goto(`${app.base}/login`);
  await page.fill('input[name=username]', 'county');
  await page.fill('input[name=password]', password);
  await page.click('button[type=submit]');
}

test('a county officer sets up her authenticator and is asked for its code at the next sign-in', async () => {
  const shots = path.join(root, 'e2e/test-results');
  const context = await app.browser.newContext({ viewport: { width: 360, height: 740 }, locale: 'zh-CN' });
  const page = await context.newPage();
  await signIn(page);
  // Nothing opens before the set-up: the roster sends her back to it.
  await page.waitForURL(`${app.base}/second-factor`);
  await page.goto(`${app.base}/children`);
  await page.waitForURL(`${app.base}/second-factor`);
  assert.match(await page.textContent('main'), /须在密码之外使用手机验证器应用/);
  await page.click('form[action="/second-factor/setup"] button');
  await page.locator('.qr svg').waitFor();
  const secret = (await page.textContent('code.secret')).trim();
  assert.match(secret, /^[A-Z2-7]{32}$/);
  await page.screenshot({ path: path.join(shots, 'second-factor-setup-360.png'), fullPage: true });
  // A mistyped code: said so, and the same QR code stays.
  await page.fill('input[name=code]', '123456');
  await page.click('form[action="/second-factor/confirm"] button');
  await page.locator('.error-box').waitFor();
  assert.match(await page.textContent('.error-box'), /验证码不正确/);
  assert.equal((await page.textContent('code.secret')).trim(), secret);
  await page.fill('input[name=code]', totp(secret, serverNow));
  await page.click('form[action="/second-factor/confirm"] button');
  await page.locator('ol.codes').waitFor();
  assert.equal(await page.locator('ol.codes li').count(), 10);
  await page.screenshot({ path: path.join(shots, 'second-factor-codes-360.png'), fullPage: true });
  await page.click('text=我已保存，进入系统');
  await page.waitForURL(`${app.base}/`);
  // On the phone the header is one line; the menu holds the rest, each a finger-sized target.
  const header = await page.locator('header.top').boundingBox();
  assert.ok(header.height <= 60, `header ${header.height}px`);
  assert.equal(await page.isVisible('header nav'), false);
  await page.click('header a.menu-open');
  const out = page.locator('header button:has-text("退出登录")');
  assert.ok((await out.boundingBox()).height >= 44);
  await page.screenshot({ path: path.join(shots, 'menu-open-360.png'), fullPage: false });
  await out.click();
  await page.waitForURL(`${app.base}/login`);

  // The next sign-in asks for the code; the one already used is refused, the next one opens.
  await signIn(page);
  await page.waitForURL(`${app.base}/login/second-factor`);
  await page.fill('input[name=code]', totp(secret, serverNow));
  await page.click('form[action="/login/second-factor"] button');
  await page.locator('.error-box').waitFor();
  await page.screenshot({ path: path.join(shots, 'second-factor-code-360.png'), fullPage: true });
  await page.fill('input[name=code]', totp(secret, serverNow + 30));
  await page.click('form[action="/login/second-factor"] button');
  await page.waitForURL(`${app.base}/`);
  await page.goto(`${app.base}/second-factor`);
  assert.match(await page.textContent('main'), /两步验证已开启，剩余恢复码 10 个/);
  await context.close();
});
