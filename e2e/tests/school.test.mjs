// 控辍保学 on a 360-px phone: the school records seven school days of unexplained absence of a
// pupil; the 劝返 opens; a failure is refused until a step is recorded; it fails with the day of
// the 学籍 mark; the written report prints as a PDF; the town sees the pupil flagged 失学辍学.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { start, login, root } from '../harness.mjs';

let app;
before(async () => { app = await start(); });
after(async () => { await app?.stop(); });

const shots = path.join(root, 'e2e/test-results');

async function open(username) {
  const context = await app.browser.newContext({ viewport: { width: 360, height: 740 }, locale: 'zh-CN' });
  const page = await context.newPage();
  await login(page, app.base, username);
  return { context, page };
}

test('a week away opens a 劝返 that fails into a written report and a 失学辍学 flag', async () => {
  const school = await open('school');
  const page = school.page;
  const pupils = await (await page.request.get(`${app.base}/api/v1/children?per_page=1`)).json();
  assert.ok(pupils.total >= 1, 'the school has pupils');
  const pupil = pupils.items[0];
  await page.goto(`${app.base}/children/${pupil.id}`);
  await page.click('nav.tabs a:has-text("缺勤登记")');
  // A mistake first: the end before the start.
  await page.fill('input[name=from]', '2026-11-24');
  await page.fill('input[name=to]', '2026-11-16');
  await page.click('button:has-text("登记缺勤")');
  await page.locator('.error-box').waitFor();
  assert.match(await page.textContent('main'), /结束日期不能早于开始日期/);
  await page.fill('input[name=from]', '2026-11-16');
  await page.fill('input[name=to]', '2026-11-24');
  await page.fill('input[name=note]', '电话联系不上家长');
  await page.click('button:has-text("登记缺勤")');
  await page.locator('.ok-box').waitFor();
  assert.match(await page.textContent('.ok-box'), /已登记7天缺勤。该生已超过一周未到校，已启动劝返/);
  await page.screenshot({ path: path.join(shots, 'school-absences-360.png'), fullPage: true });
  await page.click('a:has-text("查看劝返")');
  await page.waitForURL(/\/returns\/[0-9a-f-]+$/);
  const taskUrl = page.url();
  // 劝返无效 before anything was tried is refused.
  await page.fill('input[name=marked_on]', '2026-11-24');
  await page.click('button[value=failed]');
  await page.locator('.error-box').waitFor();
  assert.match(await page.textContent('.error-box'), /请先记录已采取的劝返措施/);
  await page.selectOption('select[name=step]', 'home_visit');
  await page.fill('input[name=note]', '会同村委入户，家长不同意返校');
  await page.click('button:has-text("记录劝返措施")');
  await page.waitForURL(taskUrl);
  await page.fill('input[name=marked_on]', '2026-11-24');
  await page.click('button[value=failed]');
  await page.waitForURL(taskUrl);
  assert.match(await page.textContent('.standing'), /劝返无效/);
  assert.match(await page.textContent('.notice-box'), /已于 2026-11-24 在学籍系统中标识/);
  await page.screenshot({ path: path.join(shots, 'school-return-failed-360.png'), fullPage: true });
  const pdf = await page.request.get(`${taskUrl}/report.pdf`);
  assert.equal(pdf.status(), 200);
  assert.equal(pdf.headers()['content-type'], 'application/pdf');
  assert.ok((await pdf.body()).length > 5000);

  // The town sees the pupil flagged and the 劝返 in its list.
  const town = await open('town');
  await town.page.goto(`${app.base}/children?flag=dropped_out`);
  assert.match(await town.page.textContent('main'), new RegExp(pupil.name));
  await town.page.goto(`${app.base}/returns`);
  assert.match(await town.page.textContent('table.roster'), /劝返无效/);
  await town.page.screenshot({ path: path.join(shots, 'town-returns-360.png'), fullPage: true });
  await town.context.close();
  await school.context.close();
});
