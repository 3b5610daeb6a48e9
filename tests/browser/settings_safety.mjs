// The pages issue 12 and 13 added, as the owner sees them in Japanese: each settings page
// (自動応答, 自動ルール and its form, よくある質問 — saved, then opened and answered on the LINE simulator —, フロー and its editor, ステップ配信, 流入経路 with a welcoming source and its poster, 緊急対応, オンコール当番) has
// the settings tabs as its way back and shows no raw codes; then a patient writes a red flag
// on "LINE" and the conversation is first in the inbox, 緊急, with the words marked.
// Env: TSUNAGU_URL, SIMULATOR_URL, OWNER_EMAIL, STAFF_PASSWORD, SCREENSHOT_DIR.
import { chromium } from 'playwright-core';
import { totp } from './totp.mjs';

const base = process.env.TSUNAGU_URL;
const sim = process.env.SIMULATOR_URL;
const shots = process.env.SCREENSHOT_DIR || '.';
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const step = (s) => console.log(`step: ${s}`);
// snake_case words (purpose codes, categories, event names) have no place on a Japanese page.
const rawCode = /\b[a-z]+(?:_[a-z]+)+\b/;

async function looksJapanese(page, name) {
  await page.screenshot({ path: `${shots}/settings-${name}.png`, fullPage: true });
  const text = await page.locator('main').innerText();
  const raw = text.match(rawCode);
  if (raw) throw new Error(`${name}: a raw code on the page: ${raw[0]}`);
  if (!/[ぁ-んァ-ン一-龯]/.test(text)) throw new Error(`${name}: no Japanese on the page`);
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

  for (const [name, path] of [['automation', 'automation'], ['event-rules', 'event-rules'], ['faq-menu', 'faq-menu'], ['flows', 'flows'], ['rich-menus', 'rich-menus'],
    ['sequences', 'sequences'], ['sources', 'sources'], ['safety', 'safety'], ['on-call', 'on-call']]) {
    step(`settings page ${name}`);
    await page.goto(`${base}/app/settings/${path}`);
    // The way back: the settings tabs, this one marked current, and the header's 受信箱.
    await page.waitForSelector(`[data-testid=settings-nav-${name}][aria-current=page]`);
    await page.waitForSelector('header a[href="/app/inbox"], nav a[href="/app/inbox"], a[href="/app/inbox"]');
    await looksJapanese(page, name);
    // Every tab on screen (sixteen of them wrap rather than run off the right edge).
    const overflow = await page.locator('[data-testid=settings-nav] a').evaluateAll(
      (tabs) => tabs.filter((a) => a.getBoundingClientRect().right > window.innerWidth).length);
    if (overflow) throw new Error(`${name}: ${overflow} settings tabs off the screen`);
  }

  step('an event rule (自動ルール) in its form');
  await page.goto(`${base}/app/settings/event-rules`);
  await page.click('[data-testid=event-rule-item] a >> nth=0');
  await page.waitForSelector('[data-testid=event-rule-form]');
  await page.waitForSelector('[data-testid=event-rule-back]');
  await looksJapanese(page, 'event-rule-edit');

  step('the FAQ menu: the four demo questions, one more added');
  await page.goto(`${base}/app/settings/faq-menu`);
  const questions = page.locator('[data-testid=faq-question]');
  if ((await questions.nth(0).inputValue()) !== '駐車場') throw new Error('the demo FAQ is not listed');
  await questions.nth(4).fill('アクセス');
  await page.locator('[data-testid=faq-answer]').nth(4).fill('最寄り駅から徒歩5分です。');
  await page.click('[data-testid=faq-save]');
  await page.waitForSelector('[data-testid=faq-notice]');
  if ((await questions.nth(4).inputValue()) !== 'アクセス') throw new Error('the new question was not kept');
  await looksJapanese(page, 'faq-menu-saved');

  step('a patient on "LINE" opens the menu and taps a question');
  const asker = await (await browser.newContext()).newPage();
  asker.setDefaultTimeout(15000);
  await asker.goto(`${sim}/simulator`);
  await asker.waitForSelector('#user option', { state: 'attached' });
  await asker.fill('#text', 'メニュー');
  await asker.click('#composer button[type=submit]');
  await asker.locator('#quick button', { hasText: 'アクセス' }).waitFor();
  await asker.screenshot({ path: `${shots}/faq-menu-line.png`, fullPage: true });
  await asker.locator('#quick button', { hasText: '駐車場' }).click();
  await asker.waitForSelector('text=建物の裏に5台分');
  await asker.screenshot({ path: `${shots}/faq-answer-line.png`, fullPage: false });
  await asker.context().close();

  step('the sample flow in its editor');
  await page.goto(`${base}/app/settings/flows`);
  await page.locator('main a[href^="/app/settings/flows/"]').first().click();
  await page.waitForURL(/\/app\/settings\/flows\/.+/);
  await looksJapanese(page, 'flow-edit');

  step('a source that welcomes every scan with a greeting and a flow');
  await page.goto(`${base}/app/settings/sources`);
  const form = page.locator('[data-testid=source-create]');
  await form.locator('#source-name').fill('受付カウンター');
  await form.locator('#source-welcome').fill('受付からのご登録ありがとうございます。');
  if (await form.locator('#source-flow option').count() > 1) {
    await form.locator('#source-flow').selectOption({ index: 1 });
  }
  await form.locator('input[name=welcome_every][value="1"]').check();
  await form.locator('button[type=submit]').click();
  await page.waitForURL(/saved=created/);
  const said = await page.locator('[data-testid=source-welcome]').last().innerText();
  if (!said.includes('あいさつ') || !said.includes('読み取るたび')) {
    throw new Error(`the source's welcome is not said on its row: ${said}`);
  }
  await looksJapanese(page, 'sources-welcome');

  step('the waiting-room poster');
  await page.goto(`${base}/app/settings/sources`);
  await page.locator('main a[href$="/print"]').first().click();
  await page.locator('[data-testid=source-qr]').waitFor();
  // The image arrives after the page: wait for it to load (a broken one never gets a width).
  const loaded = await page.waitForFunction(() => {
    const img = document.querySelector('[data-testid=source-qr]');
    return img && img.complete && img.naturalWidth > 0;
  }, null, { timeout: 10000 }).then(() => true, () => false);
  if (!loaded) throw new Error('the poster has no QR code');
  await page.screenshot({ path: `${shots}/settings-poster.png`, fullPage: true });
  if (await page.locator('a[href="/app/settings/sources"]').count() === 0) {
    throw new Error('the poster page has no way back to 流入経路');
  }

  step('a patient writes a red flag on "LINE"');
  const patient = await (await browser.newContext()).newPage();
  patient.setDefaultTimeout(15000);
  await patient.goto(`${sim}/simulator`);
  await patient.waitForSelector('#user option', { state: 'attached' });
  await patient.fill('#text', '胸が痛くて息が苦しい');
  await patient.click('#composer button[type=submit]');
  await patient.waitForSelector('text=119');

  step('first in the inbox, 緊急, the words marked');
  await page.goto(`${base}/app/inbox`);
  const first = page.locator('[data-testid=inbox-item]').first();
  await first.waitFor();
  if (!(await first.innerText()).includes('緊急')) throw new Error('the red flag is not first and 緊急');
  await first.click();
  await page.waitForSelector('[data-testid=triage-flag]');
  await page.waitForSelector('[data-testid=triage-hit]');
  await page.screenshot({ path: `${shots}/urgent-conversation.png`, fullPage: false });
  console.log('settings and safety: ok');
} finally {
  await browser.close();
}
