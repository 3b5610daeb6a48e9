import { chromium } from 'playwright-core';
import { totp } from './totp.mjs';
const base = 'http://127.0.0.1:18480';
const shots = '/tmp/richmenu-shots';
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
const ctx = await browser.newContext({ locale: 'ja-JP', viewport: { width: 1280, height: 900 } });
const page = await ctx.newPage();
page.setDefaultTimeout(15000);
page.on('console', (m) => console.log('console:', m.text()));
try {
  await page.goto(`${base}/login`);
  await page.fill('#email', 'owner@sakura-clinic.example');
  await page.fill('#password', 'tsunagu-demo-2026');
  await page.click('[data-testid=login-submit]');
  await page.waitForLoadState('networkidle');
  if (await page.locator('[data-testid=totp-secret]').count()) {
    const secret = (await page.textContent('[data-testid=totp-secret]')).trim();
    await page.fill('#code', totp(secret));
    await page.click('form button[type=submit]');
    await page.waitForSelector('[data-testid=recovery-codes]');
  }
  await page.goto(`${base}/app/settings/rich-menus`);
  await page.screenshot({ path: `${shots}/1-empty.png`, fullPage: true });
  await page.fill('#rm-name', '初診の方向け');
  await page.selectOption('#rm-size', '2500x843');
  await page.fill('#rm-alias', 'first-visit');
  await page.click('[data-testid=richmenu-create] button[type=submit]');
  await page.waitForURL(/rich-menus\/[0-9a-f-]+\?saved=created/);
  await page.screenshot({ path: `${shots}/2-created.png`, fullPage: true });
  await page.setInputFiles('[data-testid=richmenu-upload] input[type=file]', '/tmp/rm-2500x1686.png');
  await page.click('[data-testid=richmenu-upload] button');
  await page.waitForURL(/error=/);
  await page.screenshot({ path: `${shots}/3-bad-image.png`, fullPage: true });
  await page.setInputFiles('[data-testid=richmenu-upload] input[type=file]', '/tmp/rm-2500x843.png');
  await page.click('[data-testid=richmenu-upload] button');
  await page.waitForURL(/saved=image/);
  const box = await page.locator('#rm-canvas').boundingBox();
  const drag = async (x1, y1, x2, y2) => {
    await page.mouse.move(box.x + x1, box.y + y1);
    await page.mouse.down();
    await page.mouse.move(box.x + x2, box.y + y2, { steps: 5 });
    await page.mouse.up();
  };
  await drag(5, 5, box.width / 2 - 5, box.height - 5);
  await drag(box.width / 2 + 5, 5, box.width - 5, box.height - 5);
  const items = page.locator('.rm-area');
  await items.nth(0).locator('input').first().fill('予約');
  await items.nth(0).locator('input').nth(1).fill('予約したい');
  await items.nth(1).locator('input').first().fill('アクセス');
  await items.nth(1).locator('select').selectOption('uri');
  await items.nth(1).locator('input').nth(1).fill('https://sakura-clinic.example/access');
  await page.screenshot({ path: `${shots}/4-areas.png`, fullPage: true });
  await page.click('#rm-areas-form button[type=submit]');
  await page.waitForURL(/saved=areas/);
  await page.click('[data-testid=richmenu-publish] button');
  await page.waitForURL(/saved=publishing/);
  await page.waitForTimeout(4000);
  await page.reload();
  await page.screenshot({ path: `${shots}/5-published.png`, fullPage: true });
  await page.click('[data-testid=richmenu-default] button');
  await page.waitForURL(/saved=default|error=/);
  await page.click('[data-testid=richmenu-back]');
  await page.fill('#rule-tag', '初診');
  await page.click('[data-testid=richmenu-rule-create] button');
  await page.waitForURL(/saved=rule/);
  await page.screenshot({ path: `${shots}/6-list.png`, fullPage: true });
  const sim = await ctx.newPage();
  await sim.goto('http://127.0.0.1:18481/line/simulator');
  await sim.waitForTimeout(2500);
  await sim.screenshot({ path: `${shots}/7-simulator.png`, fullPage: true });
  console.log('sim url', sim.url());
} catch (e) {
  console.log('FAILED', e);
  await page.screenshot({ path: `${shots}/error.png`, fullPage: true });
} finally {
  await browser.close();
}
