// The demo in a real browser: sign-in with 2FA enrolment, a patient writes on "LINE" in the
// simulator, the message appears live in the inbox, the receptionist replies, the patient sees it;
// then the same on WhatsApp, Messenger and SMS through their simulators.
// Env: TSUNAGU_URL, SIMULATOR_URL, STAFF_EMAIL, STAFF_PASSWORD, SCREENSHOT_DIR.
import { chromium } from 'playwright-core';
import { totp } from './totp.mjs';

const base = process.env.TSUNAGU_URL;
const sim = process.env.SIMULATOR_URL;
const shots = process.env.SCREENSHOT_DIR || '.';
const marker = `駐車場はありますか？ #${Date.now() % 100000}`;
const replyText = 'はい、10台分ございます。お気をつけてお越しください。';

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const step = (s) => console.log(`step: ${s}`);
try {
  const staff = await (await browser.newContext({ locale: 'ja-JP' })).newPage();
  staff.setDefaultTimeout(15000);

  step('sign in with password');
  await staff.goto(`${base}/login`);
  await staff.fill('#email', process.env.STAFF_EMAIL);
  await staff.fill('#password', process.env.STAFF_PASSWORD);
  await staff.click('[data-testid=login-submit]');

  step('enrol TOTP (required by the clinic)');
  const secret = (await staff.textContent('[data-testid=totp-secret]')).trim();
  await staff.fill('#code', totp(secret));
  await staff.click('form button[type=submit]');
  await staff.waitForSelector('[data-testid=recovery-codes]');
  const codes = await staff.locator('[data-testid=recovery-codes] li').count();
  if (codes !== 10) throw new Error(`expected 10 recovery codes, saw ${codes}`);
  await staff.click('a.button[href="/app"]');
  await staff.waitForURL(/\/app\/inbox/);
  await staff.screenshot({ path: `${shots}/1-inbox.png`, fullPage: true });

  step('the patient writes in the LINE simulator');
  const patient = await (await browser.newContext()).newPage();
  patient.setDefaultTimeout(15000);
  await patient.goto(`${sim}/simulator`);
  await patient.waitForSelector('#user option', { state: 'attached' });
  await patient.fill('#text', marker);
  await patient.click('#composer button[type=submit]');

  step('the message appears in the open inbox without a reload');
  // The greeting (first contact) or the away message may answer at once and become the
  // list's preview: then the patient's conversation is the one with her name.
  const who = (await patient.locator('#user option:checked').textContent()).split(' (')[0].trim();
  const item = staff.locator('[data-testid=inbox-item]', { hasText: marker })
    .or(staff.locator('[data-testid=inbox-item]', { hasText: who })).first();
  await item.waitFor();
  await staff.screenshot({ path: `${shots}/2-live.png`, fullPage: true });

  step('open it and reply');
  await item.click();
  await staff.waitForSelector('[data-testid=conversation-view]');
  await staff.locator('[data-testid=message][data-direction=in]', { hasText: marker }).waitFor();
  await staff.fill('[data-testid=reply-text]', replyText);
  await staff.click('[data-testid=reply-send]');
  await staff.locator('[data-testid=message][data-direction=out]', { hasText: replyText }).waitFor();

  step('the patient sees the reply');
  await patient.locator('#chat li.clinic', { hasText: replyText }).waitFor();
  await patient.screenshot({ path: `${shots}/3-simulator.png`, fullPage: true });
  await staff.screenshot({ path: `${shots}/4-conversation.png`, fullPage: true });

  for (const [name, path] of [['WhatsApp', 'whatsapp'], ['Messenger', 'messenger'], ['SMS', 'twilio']]) {
    step(`the patient writes on ${name}`);
    await staff.goto(`${base}/app/inbox`);
    const p = await (await browser.newContext()).newPage();
    p.setDefaultTimeout(15000);
    await p.goto(`${sim}/${path}/simulator`);
    if (path === 'twilio') {
      await p.waitForSelector('#number option', { state: 'attached' });
      if (!(await p.inputValue('#phone')).trim()) await p.fill('#phone', '+819012345678');
    } else {
      await p.waitForSelector('#user option', { state: 'attached' });
    }
    const said = `${name}: 予約を確認したいです #${Date.now() % 100000}`;
    const answer = `${name} でのお問い合わせありがとうございます。`;
    await p.fill('#text', said);
    await p.click('#composer button[type=submit]');

    step(`${name}: it appears live, staff reply, the patient sees the reply`);
    // Outside opening hours the away message answers at once and becomes the list's preview:
    // then the newest conversation showing it is this one (the thread is checked below).
    const it = staff.locator('[data-testid=inbox-item]', { hasText: said })
      .or(staff.locator('[data-testid=inbox-item]', { hasText: '次の診療開始は' })).first();
    await it.waitFor();
    await it.click();
    await staff.locator('[data-testid=message][data-direction=in]', { hasText: said }).waitFor();
    await staff.fill('[data-testid=reply-text]', answer);
    await staff.click('[data-testid=reply-send]');
    await staff.locator('[data-testid=message][data-direction=out]', { hasText: answer }).waitFor();
    await p.locator('#chat li.clinic', { hasText: answer }).waitFor();
    await p.screenshot({ path: `${shots}/5-${path}.png`, fullPage: true });
  }

  step('sign out, then sign in again with a TOTP code');
  await staff.goto(`${base}/app/account`);
  await staff.click('[data-testid=sign-out]');
  await staff.goto(`${base}/login`);
  await staff.fill('#email', process.env.STAFF_EMAIL);
  await staff.fill('#password', process.env.STAFF_PASSWORD);
  await staff.click('[data-testid=login-submit]');
  // The enrolment code's time step is spent; the next step's code is accepted (±1 step).
  await staff.fill('#code', totp(secret, Date.now() + 30000));
  await staff.click('form button[type=submit]');
  await staff.waitForURL(/\/app\/inbox/);
  console.log('browser round trip: ok');
} finally {
  await browser.close();
}
