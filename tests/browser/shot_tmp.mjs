import { chromium } from 'playwright-core';
import { totp } from './totp.mjs';
const base = 'http://127.0.0.1:18080';
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
const ctx = await browser.newContext({ locale: 'ja-JP', viewport: { width: 1366, height: 900 } });
const page = await ctx.newPage();
await page.goto(`${base}/login`);
await page.fill('input[name=email]', 'owner@sakura-clinic.example');
await page.fill('input[name=password]', 'tsunagu-demo-2026');
await page.click('button[type=submit]');
await page.waitForLoadState();
const secretEl = await page.$('[data-testid=totp-secret]');
if (secretEl) { const secret = (await secretEl.textContent()).trim().replace(/\s+/g, ''); await page.fill('#code', totp(secret)); await page.click('button[type=submit]'); await page.waitForLoadState(); }
else if (await page.$('#code')) { console.log('needs code'); }
for (const [name, path] of [['inbox', '/app/inbox'], ['settings-auto', '/app/settings/automation'], ['settings-rich', '/app/settings/rich-menus'], ['settings-sla', '/app/settings/service-levels'], ['search', '/app/search?q=%E4%BA%88%E7%B4%84']]) {
  await page.goto(base + path); await page.waitForLoadState();
  await page.screenshot({ path: `/tmp/shot-${name}.png`, fullPage: false });
}
await browser.close();
