// What the browser scenarios of tests/ui share (uitest.py runs them): the harness's CMD
// protocol, checks, screenshots, the 1366×768 fit, and Debian's Chromium.
import { chromium } from 'playwright-core';
import path from 'node:path';
import readline from 'node:readline';

export const urls = JSON.parse(process.env.ALUR_UI_URLS);
const shots = process.env.ALUR_UI_ARTIFACTS;
const lines = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();

// Asks the harness to act; returns what it answered ("ok" or "ok JSON").
export async function ask(cmd) {
  console.log('CMD ' + cmd);
  const { value } = await lines.next();
  if (value === 'ok') return undefined;
  if (value && value.startsWith('ok ')) return JSON.parse(value.slice(3));
  throw new Error(`harness did not do ${cmd}: ${value}`);
}
export function check(cond, what) {
  if (!cond) throw new Error('expected: ' + what);
  console.log('ok - ' + what);
}
export const artifact = (name) => path.join(shots, name);
export const shot = (page, name) => page.screenshot({ path: artifact(name + '.png'), fullPage: true });

// No horizontal scrolling at 1366×768: nothing wider than the window.
export async function fits(page, what) {
  const [w, inner] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  check(w <= inner, `${what} fits ${inner} px without horizontal scrolling (${w})`);
}

let opened = null;  // the browser context, for what a failure shows

// One browser for every official's page; script errors on any page fail the run.
export async function launch() {
  const context = await chromium.launchPersistentContext(process.env.ALUR_UI_PROFILE, {
    executablePath: process.env.ALUR_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1366, height: 768 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  context.setDefaultTimeout(20000);
  opened = context;
  context.on('page', (p) => p.on('pageerror', (e) => { console.log('page error: ' + e.message); process.exitCode = 1; }));
  return context;
}

// What each page showed when the scenario failed: its address, the text of its screen
// (an error message in a form is there) and a screenshot FAIL-<n>.png.
async function showPages() {
  if (!opened) return;
  const pages = opened.pages();
  for (let i = 0; i < pages.length; ++i) {
    const p = pages[i];
    try {
      const text = await p.locator('body').innerText({ timeout: 2000 });
      console.log(`page ${i}: ${p.url().replace(/\/s\/[0-9a-f]+\//, '/s/…/')}`);
      for (const line of text.split('\n').filter((l) => l.trim()).slice(0, 40)) console.log(`page ${i}|   ${line}`);
      await p.screenshot({ path: artifact(`FAIL-${i}.png`), fullPage: true, timeout: 5000 });
    } catch (e) {
      console.log(`page ${i}: not shown (${e.message.split('\n')[0]})`);
    }
  }
}

export function run(main) {
  main().then(() => {
    if (process.exitCode) throw new Error('a page reported a script error');
    console.log('PASS');
    process.exit(0);
  }).catch(async (e) => {
    console.log('FAIL: ' + (e.stack || e));
    await showPages();
    process.exit(1);
  });
}
