// 三方比对 in a browser: the county uploads the school's student list (every child of the demo
// roster but one), says which column holds the names, finds the one child missing from it, assigns the finding to the school, and
// the school confirms it under 比对待办.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { start, login, root, today } from '../harness.mjs';

let app;
before(async () => { app = await start(); });
after(async () => { await app?.stop(); });

const age = (birth) => {
  const [y, m, d] = birth.split('-').map(Number);
  const [ty, tm, td] = today.split('-').map(Number);
  return ty - y - (tm < m || (tm === m && td < d) ? 1 : 0);
};

test('the county finds a child missing from the student list and the school confirms it', async () => {
  const context = await app.browser.newContext({ viewport: { width: 360, height: 740 }, locale: 'zh-CN' });
  const page = await context.newPage();
  await login(page, app.base, 'county');
  const children = [];
  for (let p = 1; p <= 2; p++) {
    const r = await page.request.get(`${app.base}/api/v1/children?per_page=200&page=${p}`);
    children.push(...(await r.json()).items);
  }
  const onRoster = (await (await page.request.get(`${app.base}/api/v1/children?per_page=1`)).json()).total;
  assert.equal(children.length, onRoster);
  const missing = children.find((c) => c.village_code.startsWith('522730001') && age(c.birth_date) >= 7 && age(c.birth_date) <= 14);
  const csv = path.join(app.dir, '学籍名单.csv');
  // The school's export calls the name column 学生, a title the reader does not know.
  writeFileSync(csv, ['学生,性别,出生日期,学校',
    ...children.filter((c) => c.id !== missing.id).map((c) => `${c.name},${c.sex},${c.birth_date},冠山街道中心小学`)].join('\n'));

  await page.goto(`${app.base}/reconcile`);
  await page.selectOption('select[name=kind]', 'education');
  await page.setInputFiles('input[type=file]', csv);
  await page.click('form[action="/reconcile"] button[type=submit]');
  // The columns page: the county says column A holds the names, then the comparison runs in
  // the background and the page moves on to its result.
  await page.waitForURL(/\/reconcile\/jobs\/[0-9a-f]+$/);
  assert.match(await page.textContent('main'), /表头在第 1 行/);
  await page.selectOption('select[name=col_A]', 'name');
  await page.click('form[action$="/start"] button[type=submit]');
  await page.waitForURL(/\/reconcile\/runs\/[0-9a-f-]+$/);
  const summary = await page.textContent('main');
  assert.match(summary, new RegExp(`花名册 ${onRoster} 人(（名单所及 \\d+ 人）)?，名单 ${onRoster - 1} 条`));
  await page.goto(`${page.url()}?kind=not_in_school_list&status=pending`);
  const item = page.locator('section.report', { hasText: missing.name });
  await item.waitFor();
  await page.screenshot({ path: path.join(root, 'e2e/test-results/reconcile-run-360.png'), fullPage: false });
  await item.locator('select[name=assignee]').selectOption({ label: '冠山街道中心小学（学校）' });
  await item.locator('button[value=assign]').click();
  await page.waitForURL(/#item-/);
  assert.match(await page.locator('section.report', { hasText: missing.name }).textContent(), /已交办/);
  await context.close();

  const school = await app.browser.newContext({ viewport: { width: 360, height: 740 }, locale: 'zh-CN' });
  const spage = await school.newPage();
  await login(spage, app.base, 'school');
  await spage.goto(`${app.base}/reconcile/tasks`);
  const task = spage.locator('section.report', { hasText: missing.name });
  await task.waitFor();
  await task.locator('input[name=note]').fill('已于11月起未到校，已开展劝返');
  await task.locator('button[value=accept]').click();
  await spage.waitForURL(/#item-/);
  await spage.goto(`${app.base}/reconcile/tasks?status=accepted`);
  assert.match(await spage.textContent('main'), /已开展劝返/);
  await school.close();
});
