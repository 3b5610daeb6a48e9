// Two staff in two browsers work one conversation of the demo: reception gives it to the nurse
// (and, while both have it open, the nurse is told reception is typing)
// (the nurse's open inbox shows it without a reload), leaves a note mentioning her (her
// メンション badge rises live), answers with a canned response picked by typing "/", schedules
// a message, snoozes and resolves; the nurse sees the note, the reply and the resolution live.
// Env: TSUNAGU_URL, RECEPTION_EMAIL, NURSE_EMAIL, STAFF_PASSWORD, SCREENSHOT_DIR.
import { chromium } from 'playwright-core';
import { totp } from './totp.mjs';

const base = process.env.TSUNAGU_URL;
const shots = process.env.SCREENSHOT_DIR || '.';
// The patient's conversation by her name: the greeting (and, outside hours, the away message)
// answers her first line, so the list's preview is not her words.
const patientName = '山田 花子';
const noteText = `午後の枠を確認してください #${Date.now() % 100000}`;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const step = (s) => console.log(`step: ${s}`);

async function signIn(email) {
  const page = await (await browser.newContext({ locale: 'ja-JP', viewport: { width: 1366, height: 900 } })).newPage();
  page.setDefaultTimeout(15000);
  await page.goto(`${base}/login`);
  await page.fill('#email', email);
  await page.fill('#password', process.env.STAFF_PASSWORD);
  await page.click('[data-testid=login-submit]');
  const secret = (await page.textContent('[data-testid=totp-secret]')).trim();
  await page.fill('#code', totp(secret));
  await page.click('form button[type=submit]');
  await page.waitForSelector('[data-testid=recovery-codes]');
  await page.click('a.button[href="/app"]');
  await page.waitForURL(/\/app\/inbox/);
  return page;
}

try {
  step('reception and the nurse sign in, each in a browser of her own');
  const desk = await signIn(process.env.RECEPTION_EMAIL);
  const nurse = await signIn(process.env.NURSE_EMAIL);
  await nurse.goto(`${base}/app/inbox?view=all`);

  step('reception opens the patient\'s conversation');
  await desk.goto(`${base}/app/inbox?view=all`);
  await desk.locator('[data-testid=inbox-item]', { hasText: patientName }).click();
  await desk.waitForSelector('[data-testid=conversation-view]');
  const convUrl = desk.url();

  step('reception gives it to the nurse; the nurse\'s open inbox shows it live');
  const nurseOption = desk.locator('[data-testid=assignee-select] option', { hasText: '高橋' });
  await desk.selectOption('[data-testid=assignee-select]', await nurseOption.getAttribute('value'));
  await desk.click('[data-testid=assign-give]');
  await desk.locator('[data-testid=assignee-name]', { hasText: '高橋' }).waitFor();
  await nurse.locator('[data-testid=inbox-item]', { hasText: '担当: 看護師 高橋 美和' })
    .filter({ hasText: patientName }).waitFor();

  step('a note mentioning the nurse: her badge rises without a reload');
  await desk.click('[data-testid=note-box] summary');
  await desk.click('[data-mention="看護師 高橋 美和"]');
  await desk.locator('#note-text').press('End');
  await desk.type('#note-text', noteText);
  await desk.click('[data-testid=note-submit]');
  await desk.locator('[data-testid=note]', { hasText: noteText }).waitFor();
  await nurse.locator('[data-mentions-badge]:not([hidden])', { hasText: '1' }).waitFor();
  await nurse.screenshot({ path: `${shots}/teamwork-1-nurse-mentioned.png` });

  step('the nurse opens it from her mentions and reads the note; the badge clears');
  await nurse.goto(`${base}/app/mentions`);
  await nurse.click('[data-testid=mention-open]');
  await nurse.locator('[data-testid=note]', { hasText: noteText }).waitFor();
  await nurse.locator('[data-mentions-badge][hidden]').waitFor({ state: 'attached' });

  step('reception answers with a canned response picked by typing "/"');
  await desk.goto(convUrl);
  await desk.click('[data-testid=reply-text]');
  await desk.type('[data-testid=reply-text]', '/駐車');
  step('the nurse, on the same conversation, is told reception is typing');
  await nurse.locator('[data-testid=presence-banner]:not([hidden])', { hasText: '受付 小林 さくらさんが返信を入力中です' }).waitFor();
  await desk.locator('[data-testid=canned-picker]:not([hidden]) [role=option]').first().waitFor();
  await desk.keyboard.press('Enter');
  const filled = await desk.inputValue('[data-testid=reply-text]');
  if (!filled.includes('駐車場は建物の裏')) throw new Error(`the canned response was not inserted: ${filled}`);
  if (filled.includes('{{')) throw new Error(`variables were not filled: ${filled}`);
  await desk.click('[data-testid=reply-send]');
  await desk.locator('[data-testid=message][data-direction=out]', { hasText: '駐車場は建物の裏' }).waitFor();
  await nurse.locator('[data-testid=message][data-direction=out]', { hasText: '駐車場は建物の裏' }).waitFor();

  step('reception schedules a message for tomorrow 09:00');
  await desk.click('[data-testid=scheduled] > summary');
  const tomorrow = new Date(Date.now() + 36 * 3600 * 1000).toISOString().slice(0, 10);
  await desk.fill('#sched-new-text', '明日の受付は9時からです。');
  await desk.fill('#sched-new-date', tomorrow);
  await desk.fill('#sched-new-time', '09:00');
  await desk.click('[data-testid=scheduled-submit]');
  await desk.locator('[data-testid=scheduled-item][data-state=scheduled]', { hasText: '明日の受付は9時からです。' }).waitFor({ state: 'attached' });

  step('snooze for an hour, then reopen and resolve; the nurse sees the resolution live');
  await desk.click('[data-testid=snooze-picker] > summary');
  await desk.click('[data-testid=snooze-hour]');
  await desk.locator('[data-testid=conv-state][data-status=snoozed]').waitFor();
  await desk.click('[data-testid=state-reopen]');
  await desk.locator('[data-testid=conv-state][data-status=open]').waitFor();
  await desk.click('[data-testid=state-resolve]');
  await desk.locator('[data-testid=conv-state][data-status=resolved]').waitFor();
  await nurse.locator('[data-testid=message][data-kind=system]', { hasText: '解決済み' }).last().waitFor();
  await nurse.locator('[data-testid=conv-state][data-status=resolved]').waitFor();
  await desk.screenshot({ path: `${shots}/teamwork-2-desk-resolved.png` });
  await nurse.screenshot({ path: `${shots}/teamwork-3-nurse-live.png` });

  console.log('inbox teamwork: ok');
} catch (e) {
  console.error(e);
  process.exitCode = 1;
} finally {
  await browser.close();
}
