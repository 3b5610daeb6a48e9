// The satisfaction survey (満足度アンケート) as the owner sees it in Japanese: the settings page
// under 設定 (its tab marked, no raw codes), saved with a notice; then the results page 満足度 from
// the header, with the demo's past figures (average, distribution, per staff member and team),
// filtered by month and back.
// Env: TSUNAGU_URL, OWNER_EMAIL, STAFF_PASSWORD, SCREENSHOT_DIR.
import { chromium } from 'playwright-core';
import { totp } from './totp.mjs';

const base = process.env.TSUNAGU_URL;
const shots = process.env.SCREENSHOT_DIR || '.';
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const step = (s) => console.log(`step: ${s}`);
const rawCode = /\b[a-z]+(?:_[a-z]+)+\b/;

async function looksJapanese(page, name) {
  await page.screenshot({ path: `${shots}/satisfaction-${name}.png`, fullPage: true });
  const text = await page.locator('main').innerText();
  const raw = text.match(rawCode);
  if (raw) throw new Error(`${name}: a raw code on the page: ${raw[0]}`);
  if (!/[ぁ-んァ-ン一-龯]/.test(text)) throw new Error(`${name}: no Japanese on the page`);
  return text;
}

try {
  const page = await (await browser.newContext({ locale: 'ja-JP', viewport: { width: 1366, height: 900 } })).newPage();
  page.setDefaultTimeout(15000);
  step('the owner signs in');
  await page.goto(`${base}/login`);
  await page.fill('#email', process.env.OWNER_EMAIL);
  await page.fill('#password', process.env.STAFF_PASSWORD);
  await page.click('[data-testid=login-submit]');
  const secret = (await page.textContent('[data-testid=totp-secret]')).trim();
  await page.fill('#code', totp(secret));
  await page.click('form button[type=submit]');
  await page.waitForSelector('[data-testid=recovery-codes]');
  await page.click('a.button[href="/app"]');
  await page.waitForURL(/\/app\/inbox/);

  step('settings › 満足度アンケート');
  await page.goto(`${base}/app/settings/satisfaction`);
  await page.waitForSelector('[data-testid=settings-nav-satisfaction][aria-current=page]');
  await looksJapanese(page, 'settings');
  if (!(await page.isChecked('[data-testid=satisfaction-enabled]'))) throw new Error('the demo has the survey on');
  await page.fill('[data-testid=satisfaction-delay]', '三十');
  await page.click('[data-testid=satisfaction-save]');
  const error = await page.textContent('[data-testid=satisfaction-error]');
  if (!error.includes('分')) throw new Error(`the error says what to type: ${error}`);
  await page.screenshot({ path: `${shots}/satisfaction-settings-error.png`, fullPage: true });
  await page.fill('[data-testid=satisfaction-delay]', '30');
  await page.click('[data-testid=satisfaction-save]');
  await page.waitForSelector('[data-testid=satisfaction-notice]');

  step('the results page from the header');
  await page.click('[data-testid=nav-satisfaction]');
  await page.waitForURL(/\/app\/satisfaction$/);
  const text = await looksJapanese(page, 'results');
  const avg = (await page.textContent('[data-testid=satisfaction-average]')).trim();
  if (!/^[1-5]\.\d$/.test(avg)) throw new Error(`an average out of 5: ${avg}`);
  for (const t of ['月別', 'スタッフ別', 'チーム別', '最近のコメント']) {
    if (!text.includes(t)) throw new Error(`${t} on the results page`);
  }
  const staffRows = await page.locator('[data-testid=satisfaction-by-staff] tbody tr').count();
  if (staffRows < 2) throw new Error(`figures per staff member: ${staffRows} rows`);

  step('one month');
  const month = await page.locator('#csat-month option').nth(1).getAttribute('value');
  await page.selectOption('#csat-month', month);
  await page.click('[data-testid=satisfaction-filter] button[type=submit]');
  await page.waitForSelector('[data-testid=satisfaction-clear]');
  await looksJapanese(page, 'results-month');
  const months = await page.locator('[data-testid=satisfaction-by-month] tbody tr').count();
  if (months !== 1) throw new Error(`one month shown: ${months}`);
  await page.click('[data-testid=satisfaction-settings-link]');
  await page.waitForURL(/\/app\/settings\/satisfaction$/);
  console.log('satisfaction: ok');
} finally {
  await browser.close();
}
