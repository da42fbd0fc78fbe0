// The village's 儿童主任 registers a left-behind grandmother on a phone, mistyping her birth year
// first; the record says what is still to complete; the police read the register (龙里 003
// 五(一)1); the county opens the list of 困境儿童 from its home.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { start, login, root } from '../harness.mjs';

let app;
before(async () => { app = await start(); });
after(async () => { await app?.stop(); });

const shots = path.join(root, 'e2e/test-results');

async function phone(username) {
  const context = await app.browser.newContext({ viewport: { width: 360, height: 740 }, locale: 'zh-CN' });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  await login(page, app.base, username);
  return { context, page };
}

const fitsThePhone = async (page) =>
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 360), 'no sideways scrolling');

test('a village registers an elder on a phone and the police read the register', async () => {
  const village = await phone('village');
  let page = village.page;
  await page.goto(`${app.base}/elders/new`);
  await page.fill('input[name=name]', '李秀英');
  await page.selectOption('select[name=sex]', '女');
  await page.fill('input[name=birth_date]', '1970-03-02');
  await page.selectOption('select[name=living_with]', 'alone');
  await page.locator('input[name=away_name]').first().fill('王建国');
  await page.locator('input[name=away_place]').first().fill('广东省深圳市');
  await page.locator('input[name=away_phone]').first().fill('1380013800');
  await page.click('button.primary:has-text("保存")');
  await page.locator('.error-box').waitFor();
  const text = await page.textContent('main');
  assert.match(text, /未满60周岁/);
  assert.match(text, /电话号码/);
  // What was typed is still there.
  assert.equal(await page.inputValue('input[name=name]'), '李秀英');
  await fitsThePhone(page);
  await page.fill('input[name=birth_date]', '1950-03-02');
  await page.locator('input[name=away_phone]').first().fill('13800138000');
  await page.click('button.primary:has-text("保存")');
  await page.waitForURL(/\/elders\/[0-9a-f-]+\?saved=1$/);
  const record = await page.textContent('main');
  assert.match(record, /重点关注/);
  assert.match(record, /待补充：身体状况、生活自理能力/);
  assert.match(record, /广东省深圳市/);
  await fitsThePhone(page);
  await page.screenshot({ path: path.join(shots, 'elder-360.png'), fullPage: true });
  await village.context.close();

  const police = await phone('police');
  page = police.page;
  await page.goto(`${app.base}/elders?q=李秀英`);
  assert.match(await page.textContent('main'), /李秀英/);
  // The police read; they do not register.
  assert.equal(await page.locator('a:has-text("登记留守老人")').count(), 0);
  await police.context.close();
});

test('the county opens the list of children in difficulty from its home', async () => {
  const context = await app.browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN' });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  await login(page, app.base, 'county');
  await page.click('a.card:has-text("困境儿童")');
  await page.waitForURL(/population=in_difficulty/);
  const main = await page.textContent('main');
  assert.match(main, /困境儿童：共 \d+ 人/);
  assert.ok(await page.locator('table.roster tbody tr').count() > 0, 'the demo has children in difficulty');
  await context.close();
});
