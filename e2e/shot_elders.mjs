import { start, login } from './harness.mjs';
const app = await start();
try {
  for (const width of [1280, 360]) {
    const context = await app.browser.newContext({ viewport: { width, height: 900 }, locale: 'zh-CN' });
    const page = await context.newPage();
    page.setDefaultTimeout(15000);
    await login(page, app.base, 'village');
    await page.goto(`${app.base}/elders`);
    await page.screenshot({ path: `/tmp/shots/elders-list-${width}.png`, fullPage: width === 360 });
    await page.goto(`${app.base}/elders/new`);
    await page.fill('input[name=name]', '李秀英');
    await page.selectOption('select[name=sex]', '女');
    await page.fill('input[name=birth_date]', '1970-01-01');
    await page.locator('input[name=away_name]').first().fill('王建国');
    await page.locator('input[name=away_phone]').nth(1).fill('1380013');
    await page.click('button[type=submit].primary');
    await page.screenshot({ path: `/tmp/shots/elders-form-errors-${width}.png`, fullPage: true });
    await page.fill('input[name=birth_date]', '1950-03-02');
    await page.locator('input[name=away_phone]').nth(1).fill('');
    await page.locator('input[name=away_place]').first().fill('广东省深圳市');
    await page.selectOption('select[name=living_with]', 'alone');
    await page.click('button[type=submit].primary');
    await page.waitForURL(/\/elders\/[0-9a-f-]+\?saved=1$/);
    await page.screenshot({ path: `/tmp/shots/elders-view-${width}.png`, fullPage: true });
    await page.goto(`${app.base}/children?population=in_difficulty`);
    await page.screenshot({ path: `/tmp/shots/pop-list-${width}.png`, fullPage: width === 360 });
    await login(page, app.base, 'county');
    await page.screenshot({ path: `/tmp/shots/home-county-${width}.png`, fullPage: true });
    await context.close();
  }
} finally {
  await app.stop();
}
