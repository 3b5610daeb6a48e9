import { chromium } from 'playwright-core';
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
const page = await (await browser.newContext({ locale: 'ja-JP', viewport: { width: 500, height: 900 } })).newPage();
try {
  await page.goto('http://127.0.0.1:18481/simulator');
  await page.waitForSelector('#richmenu:not([hidden])', { timeout: 8000 });
  await page.screenshot({ path: '/tmp/richmenu-shots/7-simulator.png', fullPage: true });
  await page.click('#richmenu-areas button >> nth=0');
  await page.waitForTimeout(2500);
  await page.screenshot({ path: '/tmp/richmenu-shots/8-tapped.png', fullPage: true });
} catch (e) { console.log('FAILED', e); await page.screenshot({ path: '/tmp/richmenu-shots/error.png' }); }
await browser.close();
