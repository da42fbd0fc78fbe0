// A quarter's report in the browser: the town generates its 2026Q4 汇总表 (frozen as of 31
// December), signs and submits it; the county returns it with a comment; the town makes it again
// and resubmits; the police station checks its section; the county approves it and it is locked.
// On a phone and on a desktop.

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

// A page signed and stamped, as a scanner makes it.
const SIGNED_PAGE = Buffer.from('%PDF-1.4\n% signed and stamped\n%%EOF\n');

async function uploadSignedPage(page) {
  const url = page.url();
  await page.setInputFiles('input[name=file]', { name: '签字盖章页.pdf', mimeType: 'application/pdf', buffer: SIGNED_PAGE });
  await page.click('button:has-text("上传签字盖章页并报送")');
  await page.waitForURL(url);
}

test('a town submits its quarter, the county returns it, then approves it and it is locked', async () => {
  const town = await open('town');
  let page = town.page;
  await page.goto(`${app.base}/quarterly?quarter=2026Q4`);
  await page.click('button.primary:has-text("生成2026年第四季度报表")');
  await page.waitForURL(/\/quarterly\/[0-9a-f-]+$/);
  const reportUrl = page.url();
  assert.match(await page.textContent('.standing'), /已冻结待提交 · 截至 2026-12-31/);
  assert.match(await page.textContent('table.figures'), /农村留守儿童总数/);
  await page.screenshot({ path: path.join(shots, 'quarterly-report-360.png'), fullPage: true });
  await page.fill('input[name=reviewer]', '李复核');
  await page.fill('input[name=head]', '王镇长');
  await page.click('button.primary:has-text("提交，请复核人、单位负责人确认")');
  await page.waitForURL(reportUrl);
  // Not submitted until its 复核人 and 单位负责人 have signed: here the page they signed and
  // stamped is uploaded.
  assert.match(await page.textContent('.standing'), /待签字确认/);
  assert.match(await page.textContent('main'), /王镇长：尚未确认/);
  await uploadSignedPage(page);
  assert.match(await page.textContent('.standing'), /已提交待审核/);
  assert.match(await page.textContent('dl.facts'), /王镇长/);

  // The county returns it: a return without a comment is refused, with one it goes back.
  const county = await open('county', 1280);
  await county.page.goto(`${app.base}/quarterly?quarter=2026Q4`);
  await county.page.screenshot({ path: path.join(shots, 'quarterly-overview-desktop.png'), fullPage: true });
  await county.page.goto(reportUrl);
  await county.page.click('button[value=return]');
  await county.page.locator('.error-box').waitFor();
  assert.match(await county.page.textContent('.error-box'), /退回时请写明需要修改的内容/);
  await county.page.fill('textarea[name=comment]', '请核实第26栏祖父母监护人数');
  await county.page.click('button[value=return]');
  await county.page.waitForURL(reportUrl);
  assert.match(await county.page.textContent('.standing'), /已退回待修改/);

  // The town sees the comment, makes it again and resubmits.
  await page.reload();
  assert.match(await page.textContent('.notice-box'), /请核实第26栏/);
  await page.click('button:has-text("按最新档案重新生成")');
  await page.waitForURL(reportUrl);
  // Nobody's name is written for them: left blank, the form says so.
  await page.click('button.primary:has-text("提交，请复核人、单位负责人确认")');
  await page.locator('.error-box').waitFor();
  assert.match(await page.textContent('.error-box'), /请填写复核人姓名/);
  await page.fill('input[name=reviewer]', '李复核');
  await page.fill('input[name=head]', '王镇长');
  await page.click('button.primary:has-text("提交，请复核人、单位负责人确认")');
  await page.waitForURL(reportUrl);
  await uploadSignedPage(page);

  // The county cannot approve before the town's police station has checked its section.
  await county.page.reload();
  await county.page.click('button[value=approve]');
  await county.page.locator('.error-box').waitFor();
  assert.match(await county.page.textContent('.error-box'), /尚待核实：户籍登记和应急处置/);
  const police = await open('police');
  await police.page.goto(reportUrl);
  await police.page.fill('textarea[name=comment]', '无户籍人数与户籍系统一致');
  await police.page.click('button:has-text("确认核实")');
  await police.page.waitForURL(reportUrl);
  assert.match(await police.page.textContent('main'), /已由演示公安核实/);
  assert.equal(await police.page.locator('button:has-text("确认核实")').count(), 0, 'checked once');
  await police.page.screenshot({ path: path.join(shots, 'quarterly-police-check-360.png'), fullPage: true });
  await police.context.close();
  await county.page.goto(reportUrl);
  await county.page.click('button[value=approve]');
  await county.page.waitForURL(reportUrl);
  assert.match(await county.page.textContent('.standing'), /已审核通过/);
  assert.equal(await county.page.locator('button[value=approve]').count(), 0, 'locked');
  await county.page.screenshot({ path: path.join(shots, 'quarterly-approved-desktop.png'), fullPage: true });
  await page.reload();
  assert.equal(await page.locator('button:has-text("按最新档案重新生成")').count(), 0, 'locked');
  assert.match(await page.textContent('ol.timeline'), /生成并冻结[\s\S]*提交[\s\S]*退回[\s\S]*重新生成[\s\S]*审核通过/);
  // The county's 定期通报: the town that reported first, the others not yet due.
  await county.page.goto(`${app.base}/quarterly/ranking?quarter=2026Q4`);
  const first = county.page.locator('table.roster tbody tr').first();
  assert.match(await first.textContent(), /冠山街道[\s\S]*按时报送|冠山街道[\s\S]*未到报送期限/);
  await county.page.screenshot({ path: path.join(shots, 'quarterly-ranking-desktop.png'), fullPage: true });
  await page.goto(`${app.base}/quarterly/ranking?quarter=2026Q4`);
  await page.screenshot({ path: path.join(shots, 'quarterly-ranking-360.png'), fullPage: true });
  // The dashboards: charts drawn on the server, every bar a link to its list.
  await county.page.goto(`${app.base}/?rank=17`);
  assert.ok(await county.page.locator('svg.chart').count() >= 5);
  await county.page.screenshot({ path: path.join(shots, 'home-county-desktop.png'), fullPage: true });
  await page.goto(`${app.base}/`);
  await page.screenshot({ path: path.join(shots, 'home-town-360.png'), fullPage: true });
  await page.click('svg.chart a[href="/children?age_band=0-5"]');
  await page.waitForURL(/age_band=0-5/);
  await town.context.close();
  await county.context.close();
});
