// A whole quarter (2026Q3, reported late on 24 November): the village director's visit verifies a
// child; the town's table fails its check (a child without 就学情况), the town completes the file
// and makes the report again, signs and submits; the county returns it with a comment on column 26;
// it is corrected and submitted again; the education bureau and the police check their sections;
// the county approves; the county's own report waits for every town, then is their sum; the
// 定期通报 ranks the towns as late. On a phone and on a desktop.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { start, login, run, password, root, idNumber } from '../harness.mjs';

let app;
before(async () => {
  app = await start((db) => {
    run(['user', 'add', '--db', db, '--username', 'edu', '--role', 'education', '--org', '522730', '--name', '县教育局', '--password-stdin'], `${password}\n`);
  });
});
after(async () => { await app?.stop(); });

const shots = path.join(root, 'e2e/test-results');
const Q = '2026Q3';

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

async function api(page, method, url, data) {
  const r = await page.request.fetch(`${app.base}${url}`, { method, data, headers: { origin: app.base } });
  return { status: r.status(), body: await r.json().catch(() => null) };
}

test('a quarter is verified, checked, returned per item, approved, summed and ranked', async () => {
  // The village director types in a visit made on 20 September: the child is verified for Q3.
  const village = await open('village');
  const roster = await api(village.page, 'GET', '/api/v1/children?per_page=1');
  const child = roster.body.items[0];
  await village.page.goto(`${app.base}/children/${child.id}/visits`);
  await village.page.fill('input[name=visited_on]', '2026-09-20');
  await village.page.selectOption('select[name=method]', 'home');
  await village.page.selectOption('select[name=visitor_role]', 'child_director');
  await village.page.check('input[name=seen][value=child]');
  await village.page.check('input[name=condition][value=good]');
  await village.page.check('input[name=no_change]');
  await village.page.click('button:has-text("保存走访记录")');
  await village.page.locator('.ok-box').waitFor();

  // The town registers a child whose 就学情况 is not known yet: the table cannot place her.
  const town = await open('town');
  let page = town.page;
  const villageCode = child.village_code;
  const reg = await api(page, 'POST', '/api/v1/children', {
    name: '罗小雨', sex: '女', ethnicity: '布依族', birth_date: '2016-04-02',
    id_number: idNumber(villageCode.slice(0, 6), '2016-04-02', 508), hukou_registered: '是',
    hukou_rural: '是', hukou_place: '贵州省龙里县', village_code: villageCode,
    residence_address: '某组3号', health: '健康', boarding: '否', school_name: '', living_alone: '否',
    father_status: '健在', father_name: '罗强', father_birth_date: '1987-02-01', father_situation: '外出务工',
    father_work_place: '4401', father_phone: '13800138002', mother_status: '健在', mother_name: '陈梅',
    mother_situation: '外出务工', mother_work_place: '4401', entrusted: '是', guardian_name: '罗奶奶',
    guardian_phone: '13900139002', guardian_relation: '祖父母', guardian_address: '某组3号',
    guardianship_type: '监护情况一般', income_sources: ['打工收入'], assistance: [],
  });
  assert.equal(reg.status, 201, JSON.stringify(reg.body));
  await page.goto(`${app.base}/quarterly?quarter=${Q}`);
  await page.click('button.primary:has-text("生成2026年第三季度报表")');
  await page.waitForURL(/\/quarterly\/[0-9a-f-]+$/);
  const reportUrl = page.url();
  assert.match(await page.textContent('.standing'), /截至 2026-09-30/);
  assert.match(await page.textContent('.error-box'), /表间勾稽关系校验未通过/);
  await page.fill('input[name=reviewer]', '李复核');
  await page.fill('input[name=head]', '王镇长');
  await page.click('button.primary:has-text("提交，请复核人、单位负责人确认")');
  await page.locator('.error-box[role=alert]').first().waitFor();
  assert.match(await page.textContent('main'), /就学情况/);
  await page.screenshot({ path: path.join(shots, 'quarter-check-failed-360.png'), fullPage: true });
  // The file completed, the report made again: the check passes and it goes up.
  const file = await api(page, 'GET', `/api/v1/children/${reg.body.id}`);
  const patched = await api(page, 'PATCH', `/api/v1/children/${reg.body.id}`, { version: file.body.version, schooling: '小学', school_name: '龙里县冠山小学' });
  assert.equal(patched.status, 200, JSON.stringify(patched.body));
  await page.goto(reportUrl);
  await page.click('button:has-text("按最新档案重新生成")');
  await page.waitForURL(reportUrl);
  assert.match(await page.textContent('.ok-box'), /表间勾稽关系校验通过/);
  await page.fill('input[name=reviewer]', '李复核');
  await page.fill('input[name=head]', '王镇长');
  await page.click('button.primary:has-text("提交，请复核人、单位负责人确认")');
  await page.waitForURL(reportUrl);
  // Named, not signed: it waits for them; the page they signed and stamped goes up with it.
  assert.match(await page.textContent('.standing'), /待签字确认/);
  await page.screenshot({ path: path.join(shots, 'quarter-signing-360.png'), fullPage: true });
  await uploadSignedPage(page);
  assert.match(await page.textContent('.standing'), /已提交待审核/);

  // The county returns it with a comment on column 26.
  const county = await open('county', 1280);
  await county.page.goto(reportUrl);
  await county.page.locator('select[name=item]').first().selectOption('26');
  await county.page.locator('input[name=item_comment]').first().fill('祖父母监护人数与花名册不一致，请核实');
  await county.page.click('button[value=return]');
  await county.page.waitForURL(reportUrl);
  assert.match(await county.page.textContent('.standing'), /已退回待修改/);
  await page.reload();
  assert.match(await page.textContent('.return-items'), /第26栏（委托监护 · （外）祖父母监护）：祖父母监护人数与花名册不一致/);
  assert.match(await page.textContent('tr.returned'), /退回意见/);
  await page.screenshot({ path: path.join(shots, 'quarter-returned-per-item-360.png'), fullPage: true });
  await page.click('button:has-text("按最新档案重新生成")');
  await page.waitForURL(reportUrl);
  await page.fill('input[name=reviewer]', '李复核');
  await page.fill('input[name=head]', '王镇长');
  await page.click('button.primary:has-text("提交，请复核人、单位负责人确认")');
  await page.waitForURL(reportUrl);
  await uploadSignedPage(page);

  // Education and the police check their sections; then the county approves.
  for (const who of ['edu', 'police']) {
    const d = await open(who);
    await d.page.goto(reportUrl);
    await d.page.fill('textarea[name=comment]', '与本部门数据一致');
    await d.page.click('button:has-text("确认核实")');
    await d.page.waitForURL(reportUrl);
    await d.context.close();
  }
  await county.page.goto(reportUrl);
  await county.page.click('button[value=approve]');
  await county.page.waitForURL(reportUrl);
  assert.match(await county.page.textContent('.standing'), /已审核通过/);

  // The county's own report waits for every town, naming those missing.
  const early = await api(county.page, 'POST', '/api/v1/quarterly-reports', { region: '522730', quarter: Q });
  assert.equal(early.status, 409);
  assert.match(early.body.message, /龙山镇/);
  // The other towns (no town user yet: the county prepares them), checked by education, approved.
  const region = await api(county.page, 'GET', '/api/v1/regions/522730');
  const edu = await open('edu');
  let sum = 0;
  for (const t of region.body.children) {
    let id;
    if (t.code === '522730001') {
      id = reportUrl.split('/').pop();
    } else {
      const made = await api(county.page, 'POST', '/api/v1/quarterly-reports', { region: t.code, quarter: Q });
      assert.equal(made.status, 201, JSON.stringify(made.body));
      id = made.body.id;
      const sub = await api(county.page, 'POST', `/api/v1/quarterly-reports/${id}/submit`, { reviewer: '县复核', head: `${t.name}负责人` });
      assert.equal(sub.status, 200, JSON.stringify(sub.body));
      assert.equal(sub.body.status, 'signing');
      const signed = await county.page.request.post(`${app.base}/api/v1/quarterly-reports/${id}/signed-page`, {
        headers: { origin: app.base },
        multipart: { file: { name: '签字盖章页.pdf', mimeType: 'application/pdf', buffer: SIGNED_PAGE } },
      });
      assert.equal(signed.status(), 200, await signed.text());
      const checked = await api(edu.page, 'POST', `/api/v1/quarterly-reports/${id}/verify`, { section: 'education' });
      assert.equal(checked.status, 200, JSON.stringify(checked.body));
      const ok = await api(county.page, 'POST', `/api/v1/quarterly-reports/${id}/approve`, {});
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
    }
    const r = await api(county.page, 'GET', `/api/v1/quarterly-reports/${id}`);
    sum += r.body.summary.columns[0].value;
  }
  const made = await api(county.page, 'POST', '/api/v1/quarterly-reports', { region: '522730', quarter: Q });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  assert.equal(made.body.summary.columns[0].value, sum, 'the county is the sum of its towns');

  // The 定期通报: every town reported after its deadline (10 October), 冠山街道 verified a child.
  await county.page.goto(`${app.base}/quarterly/ranking?quarter=${Q}`);
  const rows = county.page.locator('table.roster tbody tr');
  assert.equal(await rows.count(), region.body.children.length);
  assert.match(await county.page.textContent('table.roster'), /逾期报送/);
  // 冠山街道: late, returned once, the one child visited in September verified.
  assert.match(await rows.filter({ hasText: '冠山街道' }).textContent(), /逾期报送[\s\S]*已审核通过\s*1\s*[\s\S]*（1\/\d+）/);
  await county.page.screenshot({ path: path.join(shots, 'quarter-ranking-late-desktop.png'), fullPage: true });
  await edu.context.close();
  await village.context.close();
  await town.context.close();
  await county.context.close();
});
