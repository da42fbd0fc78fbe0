// Ad-hoc: screenshots of the import preview with N error rows (not part of the test suite).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { start, login, idNumber } from './harness.mjs';

const n = Number(process.argv[2] ?? 12);
const app = await start();
try {
  const lines = ['冠山街道农村留守儿童花名册', '序号,姓名,性别,民族,出生日期,身份证号,村,就学情况,监护类型,留守类型,外出务工地点,监护人,与儿童关系'];
  for (let i = 0; i < n; i++) {
    const kinds = [
      `${i},郎小${i},男,布依族,2012-11-20,5.22730E+17,冠山社区,初中,监护情况较好,父母双方外出,厦门,罗永福,爷爷`,
      `${i},郎大${i},男,火星族,2013-01-02,,冠山社区,小学,监护情况较好,父母双方外出,厦门,罗永福,爷爷`,
      `${i},郎中${i},女,汉族,2014-02-30,,冠山社区,小学,监护情况较好,父母双方外出,厦门,罗永福,爷爷`,
      `${i},郎西${i},女,汉族,2014-02-03,,不存在村,小学,监护情况较好,父母双方外出,厦门,罗永福,爷爷`,
    ];
    lines.push(kinds[i % kinds.length]);
  }
  lines.push(`99,郎小禾,女,布依族,2016-03-12,${idNumber('522730', '2016-03-12', 42)},冠山社区,小学,监护情况较好,父母双方外出,广东省广州市,郎国华,奶奶`);
  const csv = path.join(app.dir, '冠山街道花名册.csv');
  writeFileSync(csv, lines.join('\n'));
  for (const width of [1280, 360]) {
    const context = await app.browser.newContext({ viewport: { width, height: 900 }, locale: 'zh-CN' });
    const page = await context.newPage();
    await login(page, app.base, 'town');
    await page.goto(`${app.base}/import`);
    await page.setInputFiles('input[type=file]', csv);
    await page.click('form[action="/import"] button[type=submit]');
    await page.waitForURL(/\/import\/[0-9a-f]+$/);
    await page.locator('button[name=mode]').first().waitFor({ timeout: 60000 });
    await page.screenshot({ path: `/tmp/shots/import-${n}-${width}.png`, fullPage: width === 360 && n < 50 });
    await context.close();
  }
} finally {
  await app.stop();
}
