// A village director logs in, registers a child with a wrong ID number (sees the error), fixes it,
// finds the child on the roster; a user of another town cannot find them. Runs the real binary
// (`shouwang demo` on a fresh SQLite file) and Debian's Chromium through playwright-core.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { start, run, idNumber, login as loginAt, password, root } from '../harness.mjs';

let app, browser, base;

before(async () => {
  // A supervisor of another town (龙山镇).
  app = await start((db) => run(['user', 'add', '--db', db, '--username', 'longshan', '--role', 'town', '--org', '522730100', '--password-stdin'], `${password}\n`));
  ({ browser, base } = app);
});

after(async () => { await app?.stop(); });

const login = (page, username) => loginAt(page, base, username);

const name = '石小花';
const birth = '2015-03-08';
const goodId = idNumber('522730', birth, 24);
const badId = goodId.slice(0, 17) + (goodId.endsWith('1') ? '2' : '1');

test('a village director registers a child, fixing a wrong ID number, and finds her on the roster', async () => {
  const context = await browser.newContext({ viewport: { width: 360, height: 740 }, locale: 'zh-CN' });
  const page = await context.newPage();
  await login(page, 'village');
  await page.goto(`${base}/children/new`);
  await page.fill('#f-name', name);
  await page.fill('#f-id_number', badId);
  // Validated as typed.
  await page.locator('#idcheck .bad').waitFor();
  assert.match(await page.textContent('#idcheck'), /校验位错误/);
  assert.doesNotMatch(await page.textContent('#idcheck'), /应为/, 'the right check digit is not handed out');
  await page.check('input[name=hukou_registered][value=true]');
  await page.check('input[name=hukou_rural][value=true]');
  await page.selectOption('#f-schooling', 'primary');
  await page.selectOption('#f-father_status', 'alive');
  await page.fill('#f-father_name', '石建军');
  await page.selectOption('#f-father_situation', 'away_for_work');
  await page.selectOption('#f-father_work_place', '4403');
  await page.selectOption('#f-mother_status', 'alive');
  await page.selectOption('#f-mother_situation', 'away_for_work');
  await page.selectOption('#f-mother_work_place', '3301');
  await page.check('input[name=entrusted][value=true]');
  await page.fill('#f-guardian_name', '石奶奶');
  await page.selectOption('#f-guardian_relation', 'grandparent');
  await page.selectOption('#f-guardianship_type', 'good');
  await page.screenshot({ path: path.join(root, 'e2e/test-results/register-form-360.png'), fullPage: false });
  await page.click('button.primary');
  // Refused: the error stands next to the field and the other values are kept.
  await page.locator('#err-id_number').waitFor();
  assert.match(await page.textContent('#err-id_number'), /校验位错误/);
  assert.equal(await page.inputValue('#f-name'), name);
  await page.fill('#f-id_number', goodId);
  await page.locator('#idcheck .ok').waitFor();
  // The valid number holds her sex and birth date: the form fills them in.
  assert.equal(await page.inputValue('#f-sex'), '女');
  assert.equal(await page.inputValue('#f-birth_date'), birth);
  await page.click('button.primary');
  await page.waitForURL(/\/children\/[0-9a-f-]+\?registered=1/);
  const file = await page.textContent('main');
  assert.match(file, /登记成功/);
  assert.match(file, /符合农村留守儿童认定条件/);
  assert.ok(!file.includes(goodId), 'the full ID number is not shown to a village director');

  await page.goto(`${base}/children`);
  await page.fill('input[name=q]', name);
  await page.waitForFunction(() => document.querySelector('#roster .total')?.textContent.includes('共 1 人'));
  await page.locator(`#roster a:has-text("${name}")`).waitFor();
  await page.screenshot({ path: path.join(root, 'e2e/test-results/roster-360.png'), fullPage: true });
  await context.close();
});

test('a supervisor of another town cannot find or open the child', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'zh-CN' });
  const page = await context.newPage();
  await login(page, 'town');
  await page.goto(`${base}/children?q=${encodeURIComponent(name)}`);
  const link = page.locator(`#roster a:has-text("${name}")`);
  await link.waitFor();
  const href = await link.getAttribute('href');
  await context.close();

  const other = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'zh-CN' });
  const p2 = await other.newPage();
  await login(p2, 'longshan');
  await p2.goto(`${base}/children?q=${encodeURIComponent(name)}`);
  assert.match(await p2.textContent('#roster'), /没有符合条件的儿童/);
  await p2.goto(`${base}/children?q=${goodId}`);
  assert.match(await p2.textContent('#roster'), /没有符合条件的儿童/);
  const response = await p2.goto(`${base}${href}`);
  assert.equal(response.status(), 404);
  assert.match(await p2.textContent('main'), /不存在或不在您的管辖范围内/);
  await other.close();
});
