// Field work without a signal, on a 360-px phone: the village 儿童主任 opens the visit list online
// (it is kept on the phone), loses the signal, records three visits — one finding the child alone
// at home, one with the guardian's new phone — and comes back online: each visit arrives once;
// the town's change to the same phone meanwhile is shown as a conflict, never overwritten, and
// resolved by the person; the report of the child alone is filed.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { start, login, root, idNumber } from '../harness.mjs';

let app;
before(async () => { app = await start(); });
after(async () => { await app?.stop(); });

const shots = path.join(root, 'e2e/test-results');

async function open(username) {
  const context = await app.browser.newContext({ viewport: { width: 360, height: 740 }, locale: 'zh-CN' });
  // The server's clock is the demo's day; the phone's agrees.
  await context.clock.setFixedTime(new Date('2026-11-24T10:00:00+08:00'));
  const page = await context.newPage();
  await login(page, app.base, username);
  return { context, page };
}

async function api(page, method, url, data) {
  const r = await page.request.fetch(`${app.base}${url}`, { method, data, headers: { origin: app.base } });
  return { status: r.status(), body: await r.json().catch(() => null) };
}

test('visits recorded offline arrive once each, a conflicting change is resolved, the report is filed', async () => {
  const village = await open('village');
  const page = village.page;
  await page.goto(`${app.base}/visits`);
  await page.waitForFunction(() => localStorage.getItem('shouwang.pack'));
  // A child registered today, so that the village has three due a visit.
  const villageCode = (await page.evaluate(() => JSON.parse(localStorage.getItem('shouwang.pack')))).items[0].village_code;
  const registered = await api(page, 'POST', '/api/v1/children', {
    name: '杨小兰', sex: '女', ethnicity: '汉族', birth_date: '2017-05-09',
    id_number: idNumber(villageCode.slice(0, 6), '2017-05-09', 402), hukou_registered: '是',
    hukou_rural: '是', hukou_place: '贵州省龙里县', village_code: villageCode,
    residence_address: '某组8号', health: '健康', boarding: '否', schooling: '小学',
    school_name: '龙里县中心小学', living_alone: '否', father_status: '健在', father_name: '杨建',
    father_birth_date: '1986-02-01', father_situation: '外出务工', father_work_place: '4401',
    father_phone: '13800138001', mother_status: '健在', mother_name: '吴芳',
    mother_situation: '外出务工', mother_work_place: '4401', entrusted: '是', guardian_name: '杨奶奶',
    guardian_phone: '13900139001', guardian_relation: '祖父母', guardian_address: '某组8号',
    guardianship_type: '监护情况一般', income_sources: ['打工收入'], assistance: [],
  });
  assert.equal(registered.status, 201, JSON.stringify(registered.body));
  await page.goto(`${app.base}/visits`);
  await page.evaluate(() => navigator.serviceWorker.ready.then(() => true));
  await page.waitForFunction(() => JSON.parse(localStorage.getItem('shouwang.pack')).items.length >= 3);
  const pack = await page.evaluate(() => JSON.parse(localStorage.getItem('shouwang.pack')));
  assert.ok(pack.items.length >= 3, `children due in the village: ${pack.items.length}`);
  const [alone, phone, called] = pack.items;

  // No signal.
  await village.context.setOffline(true);
  await page.goto(`${app.base}/children/${alone.child_id}/visits`);
  await page.locator('h1:has-text("离线走访")').waitFor();
  const form = (c) => page.locator(`form.offline-visit[data-child="${c.child_id}"]`);
  // The list is a line a child (a page at a time, found by name); a child's form opens under
  // their line.
  assert.equal(await page.locator('form.offline-visit').count(), 0);
  for (const c of [alone, phone, called]) {
    await page.locator(`details.offline-child[data-child="${c.child_id}"] > summary`).click();
  }
  // Nothing is chosen for the person: saving without saying how and what was seen is refused.
  await form(alone).locator('textarea[name=note]').fill('孩子独自在家，无人照料');
  await form(alone).locator('button').click();
  assert.match(await form(alone).locator('.err').textContent(), /请选择走访方式和儿童状况/);
  await form(alone).locator('select[name=kind]').selectOption('home');
  await form(alone).locator('select[name=condition]').selectOption('danger');
  await form(alone).locator('input[name=reportable]').check();
  await form(alone).locator('button').click();
  await form(phone).locator('select[name=kind]').selectOption('home');
  await form(phone).locator('select[name=condition]').selectOption('fair');
  await form(phone).locator('textarea[name=note]').fill('奶奶照看，换了新手机号');
  await form(phone).locator('input[name="field.guardian_phone"]').fill('13600136000');
  await form(phone).locator('button').click();
  await form(called).locator('select[name=kind]').selectOption('call');
  await form(called).locator('select[name=condition]').selectOption('good');
  await form(called).locator('textarea[name=note]').fill('电话了解，情况良好');
  await form(called).locator('button').click();
  assert.match(await page.textContent('main'), /已保存在手机上，联网后自动发送/);
  assert.match(await page.textContent('#offline-queue'), /手机上待发送的记录（4）/);
  // Found again by name, a child whose visit waits on the phone is not offered a second form.
  await page.fill('.offline-find input', alone.name);
  assert.match(await page.textContent('.offline-list'), /走访已保存在手机上/);
  assert.equal(await page.locator(`details.offline-child[data-child="${alone.child_id}"]`).count(), 0);
  await page.fill('.offline-find input', '');
  await page.screenshot({ path: path.join(shots, 'offline-visits-360.png'), fullPage: true });

  // Meanwhile the town changes the same guardian's phone; nothing has reached the server yet.
  const town = await open('town');
  const before = await api(town.page, 'GET', `/api/v1/children/${phone.child_id}`);
  const patched = await api(town.page, 'PATCH', `/api/v1/children/${phone.child_id}`,
    { version: before.body.version, guardian_phone: '13700137000' });
  assert.equal(patched.status, 200, JSON.stringify(patched.body));
  for (const c of [alone, phone, called]) {
    const v = await api(town.page, 'GET', `/api/v1/children/${c.child_id}/visits`);
    assert.equal(v.body.items.length, 0);
  }

  // Back online: the queue is sent; the conflict waits for the person.
  await village.context.setOffline(false);
  await page.locator('#sync-status:has-text("已发送 3 条离线记录")').waitFor();
  await page.locator('.conflict-field').waitFor();
  assert.match(await page.textContent('.conflict-field'), /他人已改为“13700137000”，您改为“13600136000”/);
  await page.screenshot({ path: path.join(shots, 'offline-conflict-360.png'), fullPage: true });
  // Opened again (the phone sends its queue again on every page): still one visit each.
  await page.reload();
  await page.locator('.conflict-field').waitFor();
  for (const c of [alone, phone, called]) {
    const v = await api(town.page, 'GET', `/api/v1/children/${c.child_id}/visits`);
    assert.equal(v.body.items.length, 1, c.name);
  }
  let file = await api(town.page, 'GET', `/api/v1/children/${phone.child_id}`);
  assert.ok(JSON.stringify(file.body).includes('13700137000'), 'not overwritten');
  await page.click('button.use-mine');
  await page.waitForFunction(() => JSON.parse(localStorage.getItem('shouwang.queue') || '[]').length === 0);
  file = await api(town.page, 'GET', `/api/v1/children/${phone.child_id}`);
  assert.ok(JSON.stringify(file.body).includes('13600136000'), 'the value the person chose');

  // The child found alone: the report, prefilled from the visit.
  await page.goto(`${app.base}/children/${alone.child_id}/visits`);
  await page.click('a:has-text("填写强制报告")');
  await page.waitForURL(/\/reports\/new\?child_id=/);
  assert.match(await page.inputValue('textarea[name=description]'), /孩子独自在家.无人照料/);
  await page.check('input[name=situations][value=living_alone]');
  await page.check('input[name=severity][value=urgent]');
  await page.click('button.primary:has-text("立即报告")');
  await page.waitForURL(/\/cases\/[0-9a-f-]+\?filed=1$/);
  assert.match(await page.textContent('.ok-box'), /已报告/);
  await town.context.close();
  await village.context.close();
});
