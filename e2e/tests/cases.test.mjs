// A teacher finds a pupil living alone and files a mandatory report from her phone; the town's
// police station receives it, cannot reach the parents, escorts the child to an aunt and notifies
// the town; the town asks to close and the county approves. Another town and a hospital see
// nothing of it; only the police and the county see who reported.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { start, login, run, password, root, idNumber } from '../harness.mjs';

let app;
before(async () => {
  app = await start((db) => {
    run(['user', 'add', '--db', db, '--username', 'longshan', '--role', 'town', '--org', '522730100', '--password-stdin'], `${password}\n`);
    run(['user', 'add', '--db', db, '--username', 'hospital', '--role', 'agency', '--org', '522730001', '--agency', '冠山街道卫生院', '--password-stdin'], `${password}\n`);
  });
});
after(async () => { await app?.stop(); });

const shots = path.join(root, 'e2e/test-results');

async function phone(username) {
  const context = await app.browser.newContext({ viewport: { width: 360, height: 740 }, locale: 'zh-CN' });
  const page = await context.newPage();
  await login(page, app.base, username);
  return { context, page };
}

test('a report of a child living alone goes from the teacher to the police, the town and closed', async () => {
  // The teacher files.
  const teacher = await phone('school');
  let page = teacher.page;
  await page.goto(`${app.base}/reports/new`);
  await page.click('button.primary:has-text("立即报告")');
  await page.locator('.error-box').waitFor();
  assert.match(await page.textContent('main'), /请至少选择一种情形/);
  await page.fill('input[name="child.name"]', '王小花');
  await page.selectOption('select[name="child.sex"]', '女');
  await page.selectOption('select[name="child.village_code"]', '522730001001');
  await page.check('input[name=situations][value=living_alone]');
  await page.fill('textarea[name=description]', '连续三天独自在家，父母在外务工联系不上');
  await page.check('input[name=severity][value=urgent]');
  await page.fill('input[name=reporter_phone]', '13812345678');
  await page.screenshot({ path: path.join(shots, 'report-new-360.png'), fullPage: true });
  await page.click('button.primary:has-text("立即报告")');
  await page.waitForURL(/\/cases\/[0-9a-f-]+\?filed=1$/);
  const caseUrl = page.url().replace('?filed=1', '');
  // Back on the case after an action (with what was done said at the top: ?received=1, ?saved=1).
  const atCase = (u) => u.href.split('?')[0] === caseUrl;
  assert.match(await page.textContent('.ok-box'), /已报告/);

  // The police station receives it and sees the reporter.
  const police = await phone('police');
  page = police.page;
  await page.goto(`${app.base}/reports?status=unreceived`);
  const row = page.locator('tr', { hasText: '王小花' });
  assert.match(await row.textContent(), /中心小学/);
  await row.locator('button:has-text("受理")').click();
  await page.waitForURL(atCase);
  // What was done is said where the page comes back to.
  assert.match(await page.textContent('.ok-box'), /已受理/);
  const step = (code) => page.locator(`form.step-form:has(input[name=step][value=${code}])`);
  // A failed step without a reason is refused, with the reason it is recorded.
  await step('order_parents_back').locator('select[name=outcome]').selectOption('failed');
  await step('order_parents_back').locator('button').click();
  await page.locator('.error-box').waitFor();
  assert.match(await page.textContent('.error-box'), /说明原因/);
  await step('order_parents_back').locator('select[name=outcome]').selectOption('failed');
  await step('order_parents_back').locator('input[name=note]').fill('联系父母未果');
  await step('order_parents_back').locator('button').click();
  await page.waitForURL(atCase);
  await step('escort_to_temporary_care').locator('select[name=outcome]').selectOption('done');
  await step('escort_to_temporary_care').locator('input[name=note]').fill('护送至近亲属（姑姑）临时照料');
  await step('escort_to_temporary_care').locator('button').click();
  await page.waitForURL(atCase);
  // The police admonish the father (训诫) and say so on the case.
  await page.click('summary:has-text("记录监护干预")');
  await page.selectOption('form[action$="/interventions"] select[name=measure]', 'admonition');
  await page.selectOption('form[action$="/interventions"] select[name=stage]', 'done');
  await page.fill('form[action$="/interventions"] input[name=note]', '电话联系父亲并进行训诫');
  await page.click('form[action$="/interventions"] button');
  await page.waitForURL(atCase);
  assert.match(await page.textContent('main'), /训诫：已实施/);
  await page.fill('form[action$="/notify-town"] input[name=note]', '儿童已由姑姑临时照料，请乡镇评估帮扶');
  await page.click('form[action$="/notify-town"] button');
  await page.waitForURL(atCase);
  assert.match(await page.textContent('.standing'), /评估帮扶中/);
  await page.screenshot({ path: path.join(shots, 'case-police-360.png'), fullPage: true });

  // The town sees the notification, not the reporter, and asks to close.
  const town = await phone('town');
  page = town.page;
  await page.goto(`${app.base}/reports`);
  await page.click('a:has-text("王小花")');
  await page.waitForURL(atCase);
  const seen = await page.textContent('main');
  assert.match(seen, /报告人信息已保密/);
  assert.match(seen, /通报乡镇人民政府/);
  assert.doesNotMatch(seen, /中心小学|13812345678/);
  // It assesses: the areas, what was found, who took part, the child's own view.
  await page.click('form[action$="/assessments"] button');
  await page.locator('.error-box').waitFor();
  assert.match(await page.textContent('.error-box'), /请选择该项的评估结果/);
  for (const [area, concern] of [['safety', 'some'], ['guardianship', 'serious'], ['physical_health', 'none'], ['mental_health', 'some']]) {
    await page.selectOption(`form[action$="/assessments"] select[name=${area}]`, concern);
  }
  await page.fill('form[action$="/assessments"] textarea[name=findings]', '姑姑临时照料，父亲尚未返乡');
  await page.fill('form[action$="/assessments"] input[name=participants]', '镇儿童督导员、村儿童主任');
  await page.fill('form[action$="/assessments"] textarea[name=child_view]', '想和爸爸一起住');
  await page.click('form[action$="/assessments"] button');
  await page.waitForURL(atCase);
  assert.match(await page.textContent('main'), /风险等级：高，每 30 天至少走访一次/);
  await page.screenshot({ path: path.join(shots, 'case-assessed-360.png'), fullPage: true });
  // It plans help: guardianship guidance referred to the county women's federation, which
  // accepts and records a session.
  await page.click('summary:has-text("转介服务机构")');
  await page.selectOption('form[action$="/referrals"] select[name=kind]', 'guardianship_guidance');
  await page.selectOption('form[action$="/referrals"] select[name=agency_id]', { label: '县妇联' });
  await page.fill('form[action$="/referrals"] input[name=note]', '指导姑姑履行临时照料，督促父亲返乡');
  await page.click('form[action$="/referrals"] button');
  await page.waitForURL(atCase);
  assert.match(await page.textContent('ul.referrals'), /监护指导 → 县妇联：待接收/);
  const federation = await phone('agency');
  await federation.page.goto(`${app.base}/referrals`);
  assert.match(await federation.page.textContent('main'), /王小花/);
  // (The demo county has a referral of its own waiting: this one is 王小花's.)
  const hers = () => federation.page.locator('section.referral', { hasText: '王小花' });
  await hers().locator('button[value=accept]').click();
  await federation.page.waitForURL(`${app.base}/referrals`);
  await hers().locator('input[name=note]').fill('入户开展家庭监护指导一次');
  await hers().locator('button[value=deliver]').click();
  await federation.page.waitForURL(`${app.base}/referrals`);
  await federation.page.screenshot({ path: path.join(shots, 'referrals-provider-360.png'), fullPage: true });
  await federation.context.close();
  await page.reload();
  assert.match(await page.textContent('ul.referrals'), /已接收[\s\S]*入户开展家庭监护指导一次/);

  // She was not registered: the town registers her from the queue, and the case follows the file.
  await page.goto(`${app.base}/discoveries`);
  await page.locator('section.report', { hasText: '王小花' }).locator('a:has-text("登记该儿童")').click();
  await page.waitForURL(/\/children\/new\?discovery=/);
  assert.equal(await page.inputValue('#f-name'), '王小花');
  await page.fill('#f-birth_date', '2016-05-01');
  await page.fill('#f-id_number', idNumber('522730', '2016-05-01', 42));
  await page.check('input[name=hukou_registered][value=true]');
  await page.check('input[name=hukou_rural][value=true]');
  await page.selectOption('#f-schooling', 'primary');
  await page.selectOption('#f-father_status', 'alive');
  await page.selectOption('#f-father_situation', 'away_for_work');
  await page.selectOption('#f-father_work_place', '4403');
  await page.selectOption('#f-mother_status', 'alive');
  await page.selectOption('#f-mother_situation', 'away_for_work');
  await page.selectOption('#f-mother_work_place', '3301');
  await page.selectOption('#f-guardianship_type', 'unsupervised');
  await page.click('button.primary');
  await page.waitForURL(/\/children\/[0-9a-f-]+\?registered=1/);
  const childUrl = page.url().replace('?registered=1', '');
  await page.goto(`${app.base}/discoveries`);
  assert.doesNotMatch(await page.textContent('main'), /王小花/);
  await page.goto(caseUrl);
  assert.match(await page.locator('ol.timeline').last().textContent(), /儿童已登记建档/);
  // The follow-up visit (随访) from the case: the condition is required, then it is on the timeline.
  await page.click('summary:has-text("记录随访")');
  await page.check('form[action$="/visits"] input[name=seen][value=child]');
  await page.click('form[action$="/visits"] button');
  await page.locator('.error-box').waitFor();
  assert.match(await page.textContent('.error-box'), /请选择儿童状况/);
  // How the visit was made is never chosen for the visitor either.
  await page.selectOption('select[name=method]', 'home');
  await page.check('input[name=condition][value=fair]');
  await page.fill('textarea[name=note]', '父亲已返乡，孩子与父亲同住，按时上学');
  await page.click('button.primary:has-text("保存走访记录")');
  await page.waitForURL(atCase);
  assert.match(await page.locator('ol.timeline').last().textContent(), /随访：儿童状况一般[\s\S]*父亲已返乡/);
  // The village director keeps the parents' contact log on her phone.
  const director = await phone('village');
  await director.page.goto(`${childUrl}/visits`);
  assert.match(await director.page.textContent('main'), /个案随访/);
  await director.page.click('summary:has-text("记录一次联系")');
  await director.page.selectOption('select[name=parent]', 'father');
  await director.page.selectOption('select[name=contact_method]', 'home');
  await director.page.selectOption('select[name=reached]', 'yes');
  await director.page.click('button:has-text("保存联系记录")');
  await director.page.waitForURL(/saved=contact/);
  assert.match(await director.page.textContent('main'), /父亲 · 回家探望 · 已联系上/);
  await director.page.screenshot({ path: path.join(shots, 'visits-child-360.png'), fullPage: true });
  await director.page.goto(`${app.base}/visits`);
  await director.page.screenshot({ path: path.join(shots, 'visits-schedule-360.png'), fullPage: true });
  await director.context.close();

  await page.fill('form[action$="/close-request"] input[name=reason]', '父亲已返乡照料，监护落实');
  await page.click('form[action$="/close-request"] button');
  await page.waitForURL(atCase);
  assert.match(await page.textContent('.standing'), /待审批结案/);

  // The county approves.
  const county = await phone('county');
  page = county.page;
  await page.goto(caseUrl);
  assert.match(await page.textContent('main'), /中心小学/);
  await page.fill('form[action$="/close-decision"] input[name=note]', '同意结案');
  await page.click('form[action$="/close-decision"] button[value="1"]');
  await page.waitForURL(atCase);
  assert.match(await page.textContent('.standing'), /已结案/);
  await page.screenshot({ path: path.join(shots, 'case-closed-360.png'), fullPage: true });
  // The county's figures for the month count it, beside the demo county's own three reports (one
  // of a child living alone, two of guardians who neglect).
  await page.goto(`${app.base}/reports/figures?from=2026-11-01&to=2026-11-30`);
  assert.match(await page.textContent('.cards'), /4\s*强制报告/);
  assert.match(await page.textContent('main'), /脱离监护单独居住生活\s*2/);
  await page.screenshot({ path: path.join(shots, 'case-figures-360.png'), fullPage: true });

  // Another town and a hospital that did not file: nothing.
  for (const name of ['longshan', 'hospital']) {
    const other = await phone(name);
    const r = await other.page.goto(caseUrl);
    assert.equal(r.status(), 404, name);
    await other.page.goto(`${app.base}/reports`);
    assert.doesNotMatch(await other.page.textContent('main'), /王小花/, name);
    await other.context.close();
  }
  // The teacher follows it: closed.
  await teacher.page.goto(caseUrl);
  assert.match(await teacher.page.textContent('main'), /处理进展/);
  assert.match(await teacher.page.textContent('.standing'), /已结案/);
  for (const c of [teacher, police, town, county]) await c.context.close();
});
