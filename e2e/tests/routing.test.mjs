// 部门转办 and 委托监护 on a 360-px phone: the village sends a child without hukou to the police
// (a mistake first: no reason chosen); the town's police accept and close it with the day and the
// number; the village sees it done. The village assesses the carer, records the signed 确认书 with
// a photo of the signed page taken on the phone, and the list asks to renew it before it lapses.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { start, login, root } from '../harness.mjs';

let app;
before(async () => { app = await start(); });
after(async () => { await app?.stop(); });

const shots = path.join(root, 'e2e/test-results');

async function open(username, width = 360) {
  const context = await app.browser.newContext({ viewport: { width, height: 740 }, locale: 'zh-CN' });
  const page = await context.newPage();
  await login(page, app.base, username);
  return { context, page };
}

async function firstChild(page) {
  const list = await (await page.request.get(`${app.base}/api/v1/children?per_page=1`)).json();
  assert.ok(list.total >= 1);
  return list.items[0];
}

test('a child without hukou goes to the police and comes back registered', async () => {
  const village = await open('village');
  const page = village.page;
  const child = await firstChild(page);
  await page.goto(`${app.base}/children/${child.id}`);
  await page.click('nav.tabs a:has-text("部门转办")');
  await page.click('button:has-text("转办")');
  await page.locator('.error-box').waitFor();
  assert.match(await page.textContent('.error-box'), /请选择转办事由/);
  await page.selectOption('select[name=need]', 'no_hukou');
  await page.fill('textarea[name=note]', '出生后一直未登记户口');
  await page.click('button:has-text("转办")');
  await page.waitForURL(/\/routings\/[0-9a-f-]+$/);
  assert.match(await page.textContent('.standing'), /待受理/);
  await page.screenshot({ path: path.join(shots, 'routing-sent-360.png'), fullPage: true });
  const url = page.url();

  const police = await open('police');
  await police.page.goto(`${app.base}/routings`);
  await police.page.click(`table.roster a:has-text("${child.name}")`);
  await police.page.click('button:has-text("受理")');
  await police.page.waitForURL(url);
  // Closing without the day and the number is refused, each named.
  await police.page.click('button[value=finish]');
  await police.page.locator('.error-box').waitFor();
  assert.match(await police.page.textContent('.error-box'), /户口登记日期/);
  await police.page.fill('input[name=registered_on]', '2026-11-20');
  await police.page.fill('input[name=hukou_number]', '522730201611200018');
  await police.page.fill('textarea[name=note]', '监护人已到派出所办理');
  await police.page.click('button[value=finish]');
  await police.page.waitForURL(url);
  assert.match(await police.page.textContent('.standing'), /已办结/);
  await police.page.screenshot({ path: path.join(shots, 'routing-done-police-360.png'), fullPage: true });
  await police.context.close();

  await page.goto(`${app.base}/routings?all=true`);
  assert.match(await page.textContent('table.roster'), /已办结/);
  await village.context.close();
});

test('the carer is assessed, the signed 确认书 is kept with its photo and asked to renew', async () => {
  const village = await open('village');
  const page = village.page;
  const child = await firstChild(page);
  await page.goto(`${app.base}/children/${child.id}/guardianship`);
  await page.click('summary:has-text("记录一次评估")');
  await page.fill('#k-n', '李秀英');
  await page.fill('input[name=checked_how]', '询问本人和邻居，查询派出所记录');
  // Nothing is rated for the person: saved with a rating left out, the form names it and keeps
  // what was typed.
  await page.check('input[name=rating_time][value=fair]');
  await page.click('button:has-text("保存评估")');
  await page.locator('.error-box').waitFor();
  assert.match(await page.textContent('.rating.has-error'), /请评估/);
  assert.equal(await page.inputValue('input[name=checked_how]'), '询问本人和邻居，查询派出所记录');
  assert.ok(await page.isChecked('input[name=rating_time][value=fair]'));
  for (const item of ['health', 'means', 'schooling', 'safety']) {
    await page.check(`input[name=rating_${item}][value=good]`);
  }
  await page.click('button:has-text("保存评估")');
  await page.locator('.ok-box').waitFor();
  assert.match(await page.textContent('.ok-box'), /基本具备，需帮扶指导/);
  await page.click('summary:has-text("登记签订")');
  await page.fill('#g-n', '李秀英');
  await page.fill('input[name=signed_on]', '2025-12-10');
  await page.check('input[name=school_notified]');
  // The photo of the signed page: a PNG from the phone's camera.
  const png = Buffer.from(
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
    'base64',
  );
  await page.setInputFiles('input[name=file]', { name: '签字页.png', mimeType: 'image/png', buffer: png });
  await page.click('button:has-text("登记协议")');
  await page.waitForURL(/guardianship#agreements$/);
  assert.match(await page.textContent('#agreements'), /即将到期，请续签/);
  const scan = await page.request.get(await page.getAttribute('a:has-text("查看扫描件")', 'href').then((h) => `${app.base}${h}`));
  assert.equal(scan.headers()['content-type'], 'image/png');
  await page.screenshot({ path: path.join(shots, 'guardianship-360.png'), fullPage: true });
  await page.goto(`${app.base}/guardianship`);
  assert.match(await page.textContent('main'), new RegExp(`待续签（1）[\\s\\S]*${child.name}`));
  await page.screenshot({ path: path.join(shots, 'guardianship-due-360.png'), fullPage: true });
  await village.context.close();
});
