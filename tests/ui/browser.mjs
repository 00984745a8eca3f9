// The browser half of tests/ui/ui_test.py: Debian's Chromium, headless, through
// playwright-core, on three officials' `alur ui` pages. "CMD ..." lines ask the Python
// harness to act (server down/up, cut the Kasubag's network, the Kasubag's other PC);
// it answers "ok". Any failed expectation exits 1 with the reason.
import http from 'node:http';
import { ask, check, fits as fitsScreen, launch, run, shot, urls } from './lib.mjs';

// A raw request, so that Host, Origin and Content-Type are exactly what an attacker sends.
function raw(url, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method, headers }, (res) => {
      let data = '';
      res.on('data', (c) => { data += c; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: data }));
    });
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

async function security(base) {
  const u = new URL(base);
  const origin = `${u.protocol}//${u.host}`;
  check((await raw(origin + '/')).status === 403, 'a request without the secret is refused (403)');
  check((await raw(origin + '/s/' + '0'.repeat(48) + '/api/inbox')).status === 403, 'a wrong secret is refused');
  check((await raw(base + 'api/inbox', { headers: { Host: 'attacker.example:' + u.port } })).status === 403,
    'another Host (DNS rebinding) is refused');
  const good = await raw(base + 'api/status');
  check(good.status === 200 && !good.headers['access-control-allow-origin'], 'the secret URL answers, without CORS headers');
  const body = JSON.stringify({ task: 'x', text: 'y' });
  check((await raw(base + 'api/act', { method: 'POST', body, headers: { 'Content-Type': 'text/plain', Origin: origin } })).status === 415,
    'a POST that is not JSON is refused');
  check((await raw(base + 'api/act', { method: 'POST', body, headers: { 'Content-Type': 'application/json', Origin: 'http://attacker.example' } })).status === 403,
    'a POST from another origin is refused');
  check((await raw(base + 'api/act', { method: 'POST', body, headers: { 'Content-Type': 'application/json' } })).status === 403,
    'a POST without Origin is refused');
  check((await raw(base + 'events', { headers: { Origin: 'http://attacker.example' } })).status === 403,
    'the live channel refuses another origin');
}

const badge = (page) => page.locator('#syncbadge');

async function main() {
  await security(urls.sekretaris);
  const context = await launch();
  const sek = await context.newPage();
  const kabid = await context.newPage();
  const kasubag = await context.newPage();

  // The Kabid's inbox is open and empty; a marker shows later that it was never reloaded.
  await kabid.goto(urls.kabid + '#/inbox');
  await kabid.locator('#inbox-empty').waitFor();
  await kabid.evaluate(() => { window.notReloaded = true; });
  await kasubag.goto(urls.kasubag + '#/inbox');
  await kasubag.evaluate(() => { window.notReloaded = true; });

  // Keyboard: the first Tab reaches the skip link, and it is visibly focused.
  await sek.goto(urls.sekretaris + '#/cases');
  await sek.keyboard.press('Tab');
  check(await sek.evaluate(() => document.activeElement.classList.contains('skip')), 'Tab reaches the skip link first');
  check(await sek.evaluate(() => getComputedStyle(document.activeElement).outlineStyle !== 'none'), 'the focused element has a visible outline');

  // The Sekretaris opens the quarter's case and writes the disposition in the browser.
  await sek.fill('#period', '2026-Q3');
  await sek.click('#open-case button[type=submit]');
  await sek.locator('#sop-table').waitFor();
  const caseId = decodeURIComponent(new URL(sek.url()).hash.split('/')[2]);
  check(/^[0-9a-f]{16}$/.test(caseId), 'the new case opens on its page: ' + caseId);
  await sek.goto(urls.sekretaris + '#/inbox');
  const row = sek.locator(`#inbox tr[data-task="${caseId}.1"]`);
  await row.waitFor();
  check((await row.innerText()).includes('Disposisi rapat koordinasi') || (await row.innerText()).includes('Langkah 1'), 'the inbox lists step 1');
  await fitsScreen(sek, 'the inbox');
  await shot(sek, 'inbox');
  await row.getByRole('link', { name: 'Kerjakan' }).click();
  await sek.locator('#act-form textarea#text').waitFor();
  await sek.fill('#text', 'Mohon Kabid dan Kasubag KPE menyiapkan bahan rapat koordinasi LAKIP Triwulan III.');
  await shot(sek, 'task-disposition');
  await sek.click('#act-form button[type=submit]');
  await sek.locator('#sop-table').waitFor();
  await sek.locator('#timeline', { hasText: 'menyiapkan bahan rapat' }).waitFor();
  await fitsScreen(sek, 'the case table');

  // The Kabid's page shows the new task once the background sync brings it: no reload.
  const kabidRow = kabid.locator(`#inbox tr[data-task="${caseId}.2.koperasi"]`);
  await kabidRow.waitFor({ timeout: 30000 });
  check(await kabid.evaluate(() => window.notReloaded === true), "the Kabid's inbox updated live, without a reload");
  await shot(kabid, 'inbox-kabid-live');
  // The Sekretaris's disposition is committed: the case table shows it done, not waiting.
  await sek.locator(`#sop-table tr[data-step="1"] .tag.st-done`).waitFor({ timeout: 30000 });
  await shot(sek, 'case');

  // English switch.
  await sek.click('#lang');
  check((await sek.locator('#nav a[data-nav=inbox]').innerText()) === 'Inbox', 'the English switch translates the menu');
  await sek.click('#lang');
  check((await sek.locator('#nav a[data-nav=inbox]').innerText()) === 'Kotak Masuk', 'and back to Bahasa Indonesia');

  // A conflict: the Sekretaris's laptop and office PC rewrote the disposition at the same
  // time. The Konflik screen shows both side by side; choosing one resolves it.
  await ask(`disposition_conflict ${caseId}.1`);
  await sek.goto(urls.sekretaris + '#/conflicts');
  const conflict = sek.locator(`section.conflict[data-task="${caseId}.1"]`);
  await conflict.waitFor({ timeout: 30000 });
  check((await conflict.innerText()).includes('Versi laptop') && (await conflict.innerText()).includes('Versi kantor'),
    'both dispositions are shown side by side');
  await shot(sek, 'conflicts');
  await conflict.getByRole('button', { name: 'Pakai versi ini' }).first().click();
  await sek.locator('#no-conflicts').waitFor({ timeout: 30000 });
  check(true, 'choosing one version resolves the conflict');

  // A rejected action: the Kasubag's PC is cut off, the other PC completes step 3 first.
  await kasubag.locator(`#inbox tr[data-task="${caseId}.3"]`).waitFor({ timeout: 30000 });
  await ask('cut_kasubag');
  await badge(kasubag).filter({ hasText: 'Tanpa koneksi' }).waitFor({ timeout: 30000 });
  await ask(`laptop_act ${caseId}.3`);
  await kasubag.goto(urls.kasubag + `#/task/${caseId}.3`);
  await kasubag.fill('#text', 'Bahan rapat disiapkan');
  await kasubag.click('#act-form button[type=submit]');
  await kasubag.locator('#sop-table').waitFor();
  await badge(kasubag).filter({ hasText: '1 menunggu sinkronisasi' }).waitFor();
  await kasubag.goto(urls.kasubag + '#/sync');
  await kasubag.locator('#pending-count', { hasText: '1' }).waitFor();
  await ask('heal_kasubag');
  const rejected = kasubag.locator('#rejected tr', { hasText: 'already_done' });
  await rejected.waitFor({ timeout: 60000 });
  check((await rejected.innerText()).includes('sudah diselesaikan orang lain'), 'the rejection says why and what to do, in plain words');
  await shot(kasubag, 'sync-rejected');
  // The draft the other PC wrote: its revision history.
  await kasubag.goto(urls.kasubag + `#/draft/${caseId}/laporan-persiapan-rapat`);
  await kasubag.locator('#revisions tbody tr').first().waitFor();
  await shot(kasubag, 'draft');

  // Offline: the server is down; the Kabid acts; it waits, then is done when the server is back.
  await ask('stop_server');
  await badge(kabid).filter({ hasText: 'Tanpa koneksi' }).waitFor({ timeout: 30000 });
  // While the server is down the background sync says so every few seconds (after 1, 2,
  // 4 ... s), and each message refreshes the page. The task page's answers are slowed by
  // 4 s here, so that one such refresh is queued behind the page's own rendering and runs
  // while the Kabid types: what they type must stay, and the page offers to reload instead.
  const typed = 'Kasubid Koperasi menyiapkan capaian IKU triwulan III.';
  let slowed = 0;  // answers still held back
  const slow = async (route) => {
    slowed += 1;
    await new Promise((r) => setTimeout(r, 4000));
    await route.continue().catch(() => {});
    slowed -= 1;
  };
  await kabid.route('**/api/case?*', slow);
  await kabidRow.getByRole('link', { name: 'Kerjakan' }).click();
  await kabid.fill('#text', typed, { timeout: 30000 });
  await kabid.locator('#refresh-note').waitFor({ timeout: 30000 });
  await kabid.evaluate(() => window.alurSettled());  // every refresh queued so far has run
  check(await kabid.inputValue('#text') === typed, 'a live refresh while the Kabid types keeps the text, and offers to reload');
  while (slowed) await new Promise((r) => setTimeout(r, 100));
  await kabid.unroute('**/api/case?*', slow);
  await kabid.click('#act-form button[type=submit]');
  const kabidCell = kabid.locator(`#sop-table tr[data-step="2"]`);
  await kabidCell.locator('.tag.st-wait').waitFor();
  await kabidCell.locator('.cell.wait').waitFor();  // the acting cell too, not as done
  await badge(kabid).filter({ hasText: '1 menunggu sinkronisasi' }).waitFor();
  check(true, 'the offline action shows as waiting to sync');
  await shot(kabid, 'case-waiting');
  await kabid.evaluate(() => { window.notReloaded = true; });
  await ask('start_server');
  await kabidCell.locator('.tag.st-done').waitFor({ timeout: 90000 });
  await badge(kabid).filter({ hasNotText: 'menunggu' }).waitFor({ timeout: 30000 });
  check(await kabid.evaluate(() => window.notReloaded === true), 'after the server returns it shows as done, without a reload');
  await shot(kabid, 'case-synced');

  // Print: the final report and the approval sheet, with print CSS.
  await sek.goto(urls.sekretaris + `#/print/${caseId}`);
  await sek.locator('#approval').waitFor();
  await sek.emulateMedia({ media: 'print' });
  check(!(await sek.locator('header.top').isVisible()), 'the print view hides the menu');
  await shot(sek, 'print');
  await sek.emulateMedia({ media: 'screen' });
  await sek.goto(urls.sekretaris + '#/sync');
  await sek.locator('#conn').waitFor();
  await shot(sek, 'sync');

  await context.close();
}

run(main);
