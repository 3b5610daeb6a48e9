// The LINE Login add-friend path in the demo, in Japanese: the sources page with the linked
// Login channel, the poster, the (sandbox's) consent page, the patient's thank-you page, a
// reload and a forged callback that change nothing, a cancelled login; the source counts the
// patient once. Env: TSUNAGU_URL, OWNER_EMAIL, STAFF_PASSWORD, SCREENSHOT_DIR.
import { chromium } from 'playwright-core';
import { totp } from './totp.mjs';

const rawCode = /\b[a-z]+(?:_[a-z]+)+\b/;
async function looksJapanese(page, name) {
  const text = await page.locator('body').innerText();
  const raw = text.match(rawCode);
  if (raw) throw new Error(`${name}: a raw code on the page: ${raw[0]}`);
  if (!/[ぁ-んァ-ン一-龯]/.test(text)) throw new Error(`${name}: no Japanese on the page`);
  return text;
}
async function added(staff) {
  await staff.goto(`${base}/app/settings/sources`);
  return (await staff.locator('[data-testid=source-added]').first().textContent()).trim();
}

const base = process.env.TSUNAGU_URL;
const shots = process.env.SCREENSHOT_DIR || '.';
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run'],
});
try {
  const staff = await (await browser.newContext({ locale: 'ja-JP' })).newPage();
  staff.setDefaultTimeout(15000);
  await staff.goto(`${base}/login`);
  await staff.fill('#email', process.env.OWNER_EMAIL);
  await staff.fill('#password', process.env.STAFF_PASSWORD);
  await staff.click('[data-testid=login-submit]');
  const secret = (await staff.textContent('[data-testid=totp-secret]')).trim();
  await staff.fill('#code', totp(secret));
  await staff.click('form button[type=submit]');
  await staff.waitForSelector('[data-testid=recovery-codes]');
  await staff.click('a.button[href="/app"]');
  await staff.waitForURL(/\/app\/inbox/);
  const before = await added(staff);
  await staff.goto(`${base}/app/settings/sources`);
  await looksJapanese(staff, 'sources');
  await staff.screenshot({ path: `${shots}/line-login-1-sources.png`, fullPage: true });
  const print = await staff.getAttribute('[data-testid=source-print]', 'href');
  await staff.goto(`${base}${print}`);
  await staff.screenshot({ path: `${shots}/line-login-2-poster.png`, fullPage: true });
  const sourceId = print.split('/')[4];

  const phone = await (await browser.newContext({ locale: 'ja-JP', viewport: { width: 390, height: 760 } })).newPage();
  phone.setDefaultTimeout(15000);
  await phone.goto(`${base}/s/${sourceId}`);
  await phone.screenshot({ path: `${shots}/line-login-3-consent.png`, fullPage: true });
  await phone.click('[data-testid=sandbox-login-allow]');
  await phone.waitForSelector('[data-testid=line-login-page]');
  await looksJapanese(phone, 'thanks');
  await phone.screenshot({ path: `${shots}/line-login-4-thanks.png`, fullPage: true });
  await phone.reload();
  await phone.screenshot({ path: `${shots}/line-login-5-reload.png`, fullPage: true });
  await phone.goto(`${base}/line-login/callback?code=x&state=forged`);
  await phone.screenshot({ path: `${shots}/line-login-6-refused.png`, fullPage: true });
  await phone.goto(`${base}/s/${sourceId}`);
  await phone.click('[data-testid=sandbox-login-cancel]');
  await phone.waitForSelector('[data-testid=line-login-page]');
  await phone.screenshot({ path: `${shots}/line-login-7-cancelled.png`, fullPage: true });

  const after = await added(staff);
  if (Number(after) !== Number(before) + 1) throw new Error(`counted ${before} → ${after}, not once more`);
  await staff.screenshot({ path: `${shots}/line-login-8-sources-after.png`, fullPage: true });
  await staff.goto(`${base}/app/inbox`);
  await staff.screenshot({ path: `${shots}/line-login-9-inbox.png`, fullPage: true });
  console.log('line login: ok');
} finally {
  await browser.close();
}
