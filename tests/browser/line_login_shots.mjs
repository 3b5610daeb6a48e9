// Screenshots of the LINE Login add-friend path in the demo (Japanese): the sources page with
// the linked Login channel, the sandbox's consent page, the patient's thank-you page and a
// refused callback. Env: TSUNAGU_URL, STAFF_EMAIL, STAFF_PASSWORD, SCREENSHOT_DIR.
import { chromium } from 'playwright-core';

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
  await staff.fill('#email', process.env.STAFF_EMAIL);
  await staff.fill('#password', process.env.STAFF_PASSWORD);
  await staff.click('[data-testid=login-submit]');
  await staff.waitForURL(/\/app/);
  await staff.goto(`${base}/app/settings/sources`);
  await staff.screenshot({ path: `${shots}/1-sources.png`, fullPage: true });
  const print = await staff.getAttribute('[data-testid=source-print]', 'href');
  await staff.goto(`${base}${print}`);
  await staff.screenshot({ path: `${shots}/2-poster.png`, fullPage: true });
  const sourceId = print.split('/')[4];

  const phone = await (await browser.newContext({ locale: 'ja-JP', viewport: { width: 390, height: 760 } })).newPage();
  phone.setDefaultTimeout(15000);
  await phone.goto(`${base}/s/${sourceId}`);
  await phone.screenshot({ path: `${shots}/3-consent.png`, fullPage: true });
  await phone.click('[data-testid=sandbox-login-allow]');
  await phone.waitForSelector('[data-testid=line-login-page]');
  await phone.screenshot({ path: `${shots}/4-thanks.png`, fullPage: true });
  await phone.reload();
  await phone.screenshot({ path: `${shots}/5-reload.png`, fullPage: true });
  await phone.goto(`${base}/line-login/callback?code=x&state=forged`);
  await phone.screenshot({ path: `${shots}/6-refused.png`, fullPage: true });
  await phone.goto(`${base}/s/${sourceId}`);
  await phone.click('[data-testid=sandbox-login-cancel]');
  await phone.waitForSelector('[data-testid=line-login-page]');
  await phone.screenshot({ path: `${shots}/7-cancelled.png`, fullPage: true });

  await staff.goto(`${base}/app/settings/sources`);
  await staff.screenshot({ path: `${shots}/8-sources-after.png`, fullPage: true });
  await staff.goto(`${base}/app/inbox`);
  await staff.screenshot({ path: `${shots}/9-inbox.png`, fullPage: true });
  console.log('ok');
} finally {
  await browser.close();
}
