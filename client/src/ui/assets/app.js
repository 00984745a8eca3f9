// alur — the officials' local web app. Plain JavaScript, no libraries, nothing from the
// internet. Every call goes to this PC's `alur ui` (relative URLs under the launch's secret
// path); the page is in Bahasa Indonesia with an English switch.
'use strict';

// --- language ---------------------------------------------------------------------------
// Indonesian text is the key; EN holds its English. A missing entry stays Indonesian.
const EN = {
  'Lewati ke isi': 'Skip to content', 'Kotak Masuk': 'Inbox', 'Kasus': 'Cases', 'Konflik': 'Conflicts',
  'Sinkronisasi': 'Sync', 'Terhubung': 'Online', 'Tanpa koneksi': 'Offline',
  'menunggu sinkronisasi': 'waiting to sync', 'ditolak': 'rejected',
  'Tidak ada tugas yang siap untuk Anda.': 'No tasks are ready for you.',
  'Tugas': 'Task', 'Kelengkapan': 'Required inputs', 'Tenggat': 'Due', 'Sisa waktu': 'Time left',
  'Kerjakan': 'Do it', 'Lihat kasus': 'View case', 'Langkah': 'Step',
  'hari kerja lagi': 'working days left', 'Terlambat': 'Overdue', 'hari kerja': 'working days',
  'hari ini batasnya': 'due today', 'belum pasti': 'not certain', 'Periode': 'Period',
  'Buka kasus baru': 'Open a new case', 'Kode SOP': 'SOP code', 'Buka': 'Open',
  'Belum ada kasus.': 'No cases yet.', 'Judul': 'Title', 'Keadaan': 'State',
  'berjalan': 'open', 'selesai': 'completed', 'siap': 'ready', 'menunggu': 'pending',
  'No': 'No', 'Kegiatan': 'Activity', 'Mutu baku': 'Quality standard', 'Waktu': 'Time', 'Output': 'Output',
  'Status': 'Status', 'oleh': 'by', 'Draft': 'Drafts', 'Nama': 'Name', 'Revisi': 'Revisions',
  'Versi terakhir': 'Heads', 'Koreksi': 'Corrections', 'Riwayat': 'Timeline', 'Cetak': 'Print',
  'terbuka': 'open', 'Tandai selesai': 'Mark resolved', 'Buka kembali': 'Reopen',
  'Disposisi': 'Disposition', 'Paraf': 'Initial (paraf)', 'Tanda tangan': 'Signature',
  'Dikembalikan ke langkah': 'Returned to step', 'Alasan': 'Reason', 'Keputusan': 'Decision',
  'Isi disposisi': 'Disposition text', 'Diteruskan kepada': 'Goes on to', 'Notulen rapat': 'Meeting minutes',
  'Catatan': 'Note', 'Koreksi (catatan pada revisi terakhir)': 'Correction (remark on the latest revision)',
  'Unggah berkas': 'Upload a file', 'atau tulis/ubah isi draft': 'or write/edit the draft text',
  'Simpan dan selesaikan tugas': 'Save and complete the task', 'Frasa sandi': 'Passphrase',
  'Frasa sandi diminta setiap kali membubuhkan paraf atau tanda tangan.': 'The passphrase is asked each time you initial or sign.',
  'Dokumen yang diparaf/ditandatangani': 'Document being initialled/signed',
  'Belum ada yang tersimpan. Ketik lagi frasa sandi Anda.': 'Nothing was saved. Type your passphrase again.',
  'Kembalikan untuk perbaikan': 'Return for revision', 'Ke langkah': 'To step', 'Kembalikan': 'Return',
  'Tersimpan di komputer ini — menunggu sinkronisasi.': 'Saved on this PC — waiting to sync.',
  'Tugas ini tidak siap untuk Anda.': 'This task is not ready for you.',
  'Riwayat revisi': 'Revision history', 'Oleh': 'By', 'Berkas': 'File', 'Unduh': 'Download',
  'Bandingkan': 'Compare', 'Kiri': 'Left', 'Kanan': 'Right', 'Isi biner: tidak dapat dibandingkan.': 'Binary content: cannot be compared.',
  'Tambah koreksi': 'Add a correction', 'Tambah revisi': 'Add a revision', 'Simpan': 'Save',
  'Tidak ada konflik.': 'No conflicts.', 'Pakai versi ini': 'Use this version', 'Gabung otomatis': 'Merge automatically',
  'Simpan gabungan': 'Save the merged text', 'Dua versi terakhir draft': 'Two heads of the draft',
  'Dua isi disposisi': 'Two disposition texts', 'Gabungan (boleh diubah)': 'Merged (you may edit)',
  'Koneksi': 'Connection', 'Server': 'Server', 'Sinkron terakhir': 'Last sync', 'belum pernah': 'never',
  'Perubahan menunggu sinkronisasi': 'Changes waiting to sync', 'Perubahan yang ditolak server': 'Changes the server rejected',
  'Tidak ada.': 'None.', 'Sinkronkan sekarang': 'Sync now', 'Yang dapat Anda lakukan': 'What you can do',
  'Sinkronisasi terakhir gagal': 'The last sync failed', 'Peristiwa terakhir': 'Last event',
  'Laporan akhir': 'Final report', 'Lembar pengesahan': 'Approval sheet', 'Dicetak': 'Printed',
  'Peran': 'Role', 'Tanggal': 'Date', 'Revisi dokumen': 'Document revision',
  'Ada perubahan baru dari server.': 'New changes arrived from the server.', 'Muat ulang': 'Reload',
  'Halaman tidak ditemukan.': 'Page not found.', 'Memuat…': 'Loading…', 'Kasus dibuka': 'Case opened',
  'Perubahan yang bertabrakan': 'Conflicting changes', 'Masuk sebagai': 'Signed in as',
  'Pilih keputusan.': 'Choose a decision.', 'Tulis alasannya: keputusan ini mengembalikan kasus.': 'Write the reason: this decision returns the case.', 'Tugas saya di kasus ini': 'My tasks in this case',
  'Draft terkait': 'Related draft', 'Cetak laporan dan lembar pengesahan': 'Print the report and approval sheet',
  'Diselesaikan': 'Completed', 'Hari kerja': 'Working days',
  'Daftarkan komputer ini': 'Enrol this PC', 'Alamat server': 'Server address', 'Sidik jari sertifikat (SHA-256)': 'Certificate fingerprint (SHA-256)',
  'Komputer ini belum terdaftar di server alur kantor. Isi alamat server dan sidik jari sertifikatnya (dari admin), lalu nama pengguna dan kata sandi Anda.':
    "This PC is not enrolled with the office's alur server yet. Enter the server address and its certificate fingerprint (from the admin), then your username and password.",
  'Nama pengguna': 'Username', 'Kata sandi': 'Password', 'Daftarkan': 'Enrol', 'Terdaftar sebagai': 'Enrolled as',
  'Data lokal rusak': 'The local data is damaged', 'Perbaiki sekarang': 'Repair now', 'Perbaikan selesai': 'Repair done',
  'Perbaikan menyelamatkan pengaturan dan perubahan yang belum terkirim, menyisihkan berkas yang rusak (tidak dihapus), lalu membangun ulang data dari server. Komputer ini harus terhubung ke server.':
    'The repair saves the settings and the unsent changes, puts the damaged file aside (it is not deleted) and rebuilds the data from the server. This PC must be connected to the server.',
  'perubahan diselamatkan': 'changes saved', 'tidak dapat diselamatkan': 'could not be saved', 'Berkas rusak disimpan sebagai': 'Damaged file kept as',
  'Pemeriksaan data lokal': 'Local data check', 'Periksa data lokal': 'Check the local data', 'Data lokal utuh': 'The local data is intact',
  'perubahan tercatat diperiksa': 'committed changes checked', 'Data lokal bermasalah': 'The local data has problems', 'Belum siap': 'Not ready',
  'Tutup alur ui, jalankan alur repair (atau buka alur ui lagi: layar perbaikan muncul bila data rusak).':
    'Close alur ui and run alur repair (or open alur ui again: the repair screen appears when the data is damaged).',
  'Ada isian yang belum disimpan di halaman ini. Tinggalkan halaman? Isian itu akan hilang.':
    'This page has input that is not saved. Leave the page? That input will be lost.',
  'Terlalu panjang untuk dibandingkan di sini; unduh kedua revisinya.': 'Too long to compare here; download both revisions.',
};
let lang = localStorage.getItem('alur.lang') === 'en' ? 'en' : 'id';
const T = (s) => (lang === 'en' && EN[s]) || s;

// What a rejection means and what to do next, in plain words (sync/PROTOCOL.md codes).
const NEXT = {
  stale_round: 'Kasus sudah dikembalikan untuk perbaikan setelah Anda bertindak. Buka kasusnya dan kerjakan lagi tugas yang sekarang siap.',
  stale_revision: 'Draft berubah sebelum paraf/tanda tangan Anda sampai. Periksa revisi terbaru, lalu bubuhkan lagi.',
  already_done: 'Tugas ini sudah diselesaikan orang lain lebih dulu. Tidak perlu diulang; periksa hasilnya di kasus.',
  not_ready: 'Langkah sebelumnya belum selesai di server. Tunggu sampai selesai, lalu kerjakan lagi.',
  wrong_role: 'Anda tidak memegang peran untuk langkah ini. Hubungi admin bila peran Anda perlu diubah.',
  delegation_ended: 'Masa Plt./Plh. Anda sudah berakhir. Serahkan kepada pejabat yang berwenang.',
  case_closed: 'Kasus sudah selesai; tidak ada lagi yang dapat diubah.',
  bad_action: 'Isian tindakan tidak lengkap atau tidak sesuai langkahnya. Buka tugasnya dan isi lagi.',
  bad_return: 'Langkah tujuan pengembalian tidak sesuai. Pilih langkah sebelumnya yang benar.',
};
const NEXT_DEFAULT = 'Buka kasusnya, periksa keadaan terakhir, lalu ulangi bila masih perlu. Bila ragu, hubungi admin.';

// --- helpers ----------------------------------------------------------------------------
const $ = (sel, root = document) => root.querySelector(sel);
const main = $('#main');
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
// A revision is a change id "REPLICA:COUNTER": revisions of one PC share the replica, so the
// counter stays whole ("136e5d:14").
const short = (id) => {
  const s = String(id || ''), colon = s.indexOf(':');
  return colon < 0 ? s.slice(0, 8) : s.slice(0, Math.min(colon, 6)) + ':' + s.slice(colon + 1);
};
const enc = encodeURIComponent;

function when(at) {
  if (!at) return '';
  const d = new Date(at);
  if (isNaN(d)) return esc(at);
  return esc(d.toLocaleString(lang === 'en' ? 'en-GB' : 'id-ID', { dateStyle: 'medium', timeStyle: 'short' }));
}

async function api(path, body) {
  const opt = body === undefined ? {} : {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  };
  const res = await fetch('api/' + path, opt);
  let j;
  try { j = await res.json(); } catch (e) { j = { error: { code: 'bad_reply', message: res.statusText } }; }
  if (!res.ok || (j && j.error)) {
    const e = new Error((j.error && j.error.message) || res.statusText);
    e.code = j.error && j.error.code;
    throw e;
  }
  return j;
}

function toast(text) {
  const t = $('#toast');
  t.textContent = text;
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.hidden = true; }, 6000);
}

const stateLabel = (s) => T({ done: 'selesai', ready: 'siap', pending: 'menunggu', open: 'berjalan', completed: 'selesai' }[s] || s);
function stateTag(t) {
  if (t.tentative) return `<span class="tag st-wait">${esc(T('menunggu sinkronisasi'))}</span>`;
  return `<span class="tag st-${esc(t.state)}">${esc(stateLabel(t.state))}</span>`;
}

function remaining(it) {
  if (it.remaining_days == null) return '';
  if (it.overdue) return `${T('Terlambat')} ${Math.max(-it.remaining_days, 0) || ''} ${T('hari kerja')}`.replace('  ', ' ');
  if (it.remaining_days === 0) return T('hari ini batasnya');
  return `${it.remaining_days} ${T('hari kerja lagi')}`;
}

function dueText(it) {
  return esc(it.due || '') + (it.due_certain === false ? ` <span class="small">(${esc(T('belum pasti'))})</span>` : '');
}

function readFileBase64(file) {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(String(r.result).replace(/^data:[^,]*,/, ''));
    r.onerror = () => reject(r.error);
    r.readAsDataURL(file);
  });
}
function textBase64(text) { return bytesBase64(new TextEncoder().encode(text)); }
function bytesBase64(bytes) {
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

// Submits a form's action, shows its error inside the form, and marks the page clean after.
async function submit(form, action) {
  const button = form.querySelector('button[type=submit]');
  const err = form.querySelector('.error');
  if (err) err.textContent = '';
  if (button) button.disabled = true;
  try {
    await action();
    state.dirty = false;
  } catch (e) {
    if (err) {
      err.textContent = e.message + (e.code ? ` [${e.code}]` : '');
      (e.retry || err).focus();
    } else toast(e.message);
  } finally {
    if (button) button.disabled = false;
  }
}

// Typed input not yet saved: live refreshes wait for it (a note offers to reload), and
// leaving the page asks first, so that a stray click never loses a morning's drafting.
const TYPED = 'textarea, input[type=text], input[type=file]';
const LEAVE = 'Ada isian yang belum disimpan di halaman ini. Tinggalkan halaman? Isian itu akan hilang.';
const mayLeave = () => !state.dirty || confirm(T(LEAVE));
// Navigation by the app itself, once what was typed is saved.
function go(hash) {
  state.dirty = false;
  location.hash = hash;
}

// --- live status ------------------------------------------------------------------------
const state = { status: null, dirty: false, typed: 0, me: '' };

// Shows the newest status and returns it. A request's answer and the live events come on
// two connections and may arrive out of order: an older status of the same `alur ui` run
// (lower seq) is ignored, so that an answer made before "terhubung" cannot show the PC as
// offline after it.
function showStatus(s) {
  if (!s) return state.status;
  const old = state.status;
  if (old && s.run === old.run && s.seq < old.seq) return old;
  state.status = s;
  if (s.setup) {
    $('#syncbadge').textContent = T('Belum siap');
    $('#who').textContent = '';
    return s;
  }
  state.me = s.username;
  const b = $('#syncbadge');
  let text = s.online ? T('Terhubung') : T('Tanpa koneksi');
  if (s.tentative > 0) text += ` · ${s.tentative} ${T('menunggu sinkronisasi')}`;
  if (s.rejected && s.rejected.length) text += ` · ${s.rejected.length} ${T('ditolak')}`;
  b.textContent = text;
  b.className = 'badge ' + (s.online ? 'online' : 'offline');
  b.dataset.pending = s.tentative;
  $('#who').textContent = s.name ? `${T('Masuk sebagai')} ${s.name}` : '';
  return s;
}

function listen() {
  const es = new EventSource('events');
  es.onmessage = (ev) => {
    let m;
    try { m = JSON.parse(ev.data); } catch (e) { return; }
    showStatus(m.status);
    if (m.type === 'sync') render(false, true);
  };
}

// --- views ------------------------------------------------------------------------------
async function viewInbox() {
  const items = await api('inbox');
  const rows = items.map((it) => `
    <tr class="${it.overdue ? 'overdue' : ''}" data-task="${esc(it.task)}">
      <td><strong>${esc(T('Langkah'))} ${esc(it.step)}. ${esc(it.what || '')}</strong>
        ${it.as ? `<div class="small">${esc(it.as)}</div>` : ''}</td>
      <td>${esc(it.title || '')}</td>
      <td>${esc((it.inputs || []).join(', '))}</td>
      <td class="due">${dueText(it)}</td>
      <td class="left">${esc(remaining(it))}</td>
      <td><div class="actions"><a class="button" href="#/task/${esc(it.task)}">${esc(T('Kerjakan'))}</a>
        <a href="#/case/${esc(it.case)}">${esc(T('Lihat kasus'))}</a></div></td>
    </tr>`).join('');
  paint(`<h1 tabindex="-1">${esc(T('Kotak Masuk'))} <span class="muted">(${items.length})</span></h1>
    ${items.length ? `<table id="inbox"><thead><tr><th>${esc(T('Tugas'))}</th><th>${esc(T('Kasus'))}</th>
      <th>${esc(T('Kelengkapan'))}</th><th>${esc(T('Tenggat'))}</th><th>${esc(T('Sisa waktu'))}</th><th></th></tr></thead>
      <tbody>${rows}</tbody></table>` : `<p class="card" id="inbox-empty">${esc(T('Tidak ada tugas yang siap untuk Anda.'))}</p>`}`);
}

async function viewCases() {
  const cases = await api('cases');
  paint(`<h1 tabindex="-1">${esc(T('Kasus'))}</h1>
    ${cases.length ? `<table><thead><tr><th>${esc(T('Judul'))}</th><th>SOP</th><th>${esc(T('Periode'))}</th><th>${esc(T('Keadaan'))}</th></tr></thead><tbody>
      ${cases.map((c) => `<tr><td><a href="#/case/${esc(c.case)}">${esc(c.title)}</a></td><td>${esc(c.sop)}</td>
        <td>${esc(c.period)}</td><td>${esc(stateLabel(c.state))}</td></tr>`).join('')}</tbody></table>`
      : `<p class="card">${esc(T('Belum ada kasus.'))}</p>`}
    <form class="card" id="open-case"><h2>${esc(T('Buka kasus baru'))}</h2>
      <div class="grid2"><div class="row"><label for="sop">${esc(T('Kode SOP'))}</label><input type="text" id="sop" value="LAKIP" required></div>
      <div class="row"><label for="period">${esc(T('Periode'))}</label><input type="text" id="period" placeholder="2026-Q3" required pattern="[0-9]{4}(-Q[1-4])?"></div></div>
      <p class="error" tabindex="-1" role="alert"></p>
      <button type="submit">${esc(T('Buka'))}</button></form>`);
  const form = $('#open-case');
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    submit(form, async () => {
      const r = await api('case/open', { sop: $('#sop').value.trim(), period: $('#period').value.trim() });
      toast(`${T('Kasus dibuka')}: ${r.title}`);
      go('#/case/' + r.case);
    });
  });
}

// The SOP's procedure table: rows are steps, columns are roles, the acting cell marked.
function sopTable(c, sop, mine) {
  const roles = sop.roles || [];
  const people = c.people || {};
  const body = c.steps.map((s) => {
    const stepRoles = (s.roles && s.roles.length) ? s.roles : [s.role];
    const acting = s.tasks.some((t) => t.state === 'ready');
    const cells = roles.map((r) => {
      if (!stepRoles.includes(r.role)) return '<td class="role"></td>';
      // Done here but not yet confirmed by the server: marked apart from done.
      const marks = s.tasks.map((t) => `<span class="cell ${t.tentative ? 'wait' : esc(t.state)}" title="${esc(t.actor)}: ${
        esc(t.tentative ? T('menunggu sinkronisasi') : stateLabel(t.state))}">${
        t.tentative ? '⧗' : t.state === 'done' ? '✓' : t.state === 'ready' ? '●' : '○'}${t.bidang ? `<span class="small"> ${esc(t.bidang.slice(0, 3))}</span>` : ''}</span>`).join(' ');
      return `<td class="role">${marks}</td>`;
    }).join('');
    const status = s.tasks.map((t) => `<div>${stateTag(t)}${s.tasks.length > 1 ? ` <span class="small">${esc(t.actor)}</span>` : ''}
      ${t.by ? `<div class="small">${esc(people[t.by] || t.by)}${t.as ? ` (${esc(t.as)})` : ''}<br>${when(t.at)}</div>` : ''}
      ${t.state === 'ready' && !t.by ? `<div class="small">${esc(T('Tenggat'))} ${esc(t.due || '')}</div>` : ''}
      ${mine.has(t.task) ? `<a class="button" href="#/task/${esc(t.task)}">${esc(T('Kerjakan'))}</a>` : ''}</div>`).join('');
    return `<tr class="${acting ? 'acting' : ''}" data-step="${s.step}"><td class="no">${s.step}</td>
      <td>${esc(s.title)}</td>${cells}
      <td>${esc((s.inputs || []).join(', '))}</td><td>${s.days} ${esc(T('hari kerja'))}</td><td>${esc(s.output || '')}</td><td>${status}</td></tr>`;
  }).join('');
  return `<table class="sop" id="sop-table"><colgroup><col class="no"><col class="act">${roles.map(() => '<col>').join('')}
    <col class="c-inputs"><col class="c-days"><col class="c-output"><col class="c-status"></colgroup>
    <thead><tr><th rowspan="2" class="no">${esc(T('No'))}</th><th rowspan="2">${esc(T('Kegiatan'))}</th>
    ${roles.map((r) => `<th rowspan="2" class="role" title="${esc(r.label)}">${esc(r.short || r.label)}</th>`).join('')}
    <th colspan="3">${esc(T('Mutu baku'))}</th><th rowspan="2">${esc(T('Status'))}</th></tr>
    <tr><th>${esc(T('Kelengkapan'))}</th><th>${esc(T('Waktu'))}</th><th>${esc(T('Output'))}</th></tr></thead>
    <tbody>${body}</tbody></table>`;
}

const outcomeLabel = (step, code) => ((step.outcomes || []).find((o) => o.code === code) || {}).label || code;

// Dispositions, minutes, decisions, corrections, paraf/signatures and returns, by time.
function timeline(c) {
  const people = c.people || {};
  const who = (u) => esc(people[u] || u || '');
  const items = [];
  for (const s of c.steps) {
    for (const t of s.tasks) {
      if (t.state !== 'done') continue;
      let what = `${esc(T('Langkah'))} ${s.step} (${esc(s.title)}) ${esc(T('selesai'))}`;
      if (s.kind === 'disposition') what = `${esc(T('Disposisi'))}: “${esc(t.text)}”`;
      else if (t.outcome) what = `${esc(T('Keputusan'))}: ${esc(outcomeLabel(s, t.outcome))}${t.text ? ` — “${esc(t.text)}”` : ''}`;
      else if (t.text) what += `: “${esc(t.text)}”`;
      items.push([t.at, `${who(t.by)} <span class="muted">(${esc(t.as || t.actor)})</span> — ${what}`]);
    }
  }
  for (const k of c.corrections || [])
    items.push([k.at, `${who(k.by)} — ${esc(T('Koreksi'))} ${esc(k.draft)} rev ${esc(short(k.revision))}: “${esc(k.text)}” (${esc(k.state)})`]);
  for (const a of c.approvals || [])
    items.push([a.at, `${who(a.by)} <span class="muted">(${esc(a.role)})</span> — ${esc(T(a.kind === 'tanda_tangan' ? 'Tanda tangan' : 'Paraf'))} ${esc(a.draft)} rev ${esc(short(a.revision))}${a.superseded ? ' ✗' : ''}`]);
  for (const r of c.returns || []) {
    const from = c.steps.find((s) => s.step === Number(String(r.from_task).split('.')[1]));
    const decided = r.outcome && from ? ` (${esc(T('Keputusan'))}: ${esc(outcomeLabel(from, r.outcome))})` : '';
    items.push([r.at, `${who(r.by)}${r.acting ? ` <span class="muted">(${esc(r.acting)})</span>` : ''} — ${esc(T('Dikembalikan ke langkah'))} ${r.to_step}${decided}: “${esc(r.reason)}”`]);
  }
  items.sort((a, b) => String(a[0] || '~').localeCompare(String(b[0] || '~')));  // not yet timed: last
  return `<ol class="timeline" id="timeline">${items.map(([at, text]) => `<li><div class="when">${when(at)}</div>${text}</li>`).join('')}</ol>`;
}

function correctionsTable(c, only) {
  const people = c.people || {};
  const list = (c.corrections || []).filter((k) => !only || k.draft === only);
  if (!list.length) return `<p class="muted">${esc(T('Tidak ada.'))}</p>`;
  return `<table><thead><tr><th>${esc(T('Draft'))}</th><th>rev</th><th>${esc(T('Koreksi'))}</th><th>${esc(T('Oleh'))}</th><th>${esc(T('Status'))}</th><th></th></tr></thead><tbody>
    ${list.map((k) => `<tr><td>${esc(k.draft)}</td><td><code>${esc(short(k.revision))}</code></td><td>${esc(k.text)}</td>
      <td>${esc(people[k.by] || k.by)}<div class="small">${when(k.at)}</div></td><td>${esc(T(k.state === 'resolved' ? 'selesai' : 'terbuka'))}</td>
      <td><button type="button" class="secondary" data-action="correction" data-case="${esc(c.case)}" data-id="${esc(k.id)}"
        data-status="${k.state === 'resolved' ? 'reopened' : 'resolved'}">${esc(T(k.state === 'resolved' ? 'Buka kembali' : 'Tandai selesai'))}</button></td></tr>`).join('')}
    </tbody></table>`;
}

async function myTasks() {
  try { return new Set((await api('inbox')).map((i) => i.task)); } catch (e) { return new Set(); }
}

async function viewCase(id) {
  const c = await api('case?case=' + enc(id));
  const [sop, mine] = await Promise.all([api('sop?sop=' + enc(c.sop)), myTasks()]);
  paint(`<h1 tabindex="-1">${esc(c.title)}</h1>
    <p class="actions"><span class="tag st-${c.state === 'completed' ? 'done' : 'ready'}">${esc(stateLabel(c.state))}</span>
      <span>${esc(T('Periode'))} ${esc(c.period)}</span> <span class="muted">SOP ${esc(c.sop)} v${c.version}</span>
      <a class="button secondary" href="#/print/${esc(c.case)}">${esc(T('Cetak'))}</a>
      ${c.conflicts.length ? `<a class="button danger" href="#/conflicts">${esc(T('Konflik'))} (${c.conflicts.length})</a>` : ''}</p>
    ${sopTable(c, sop, mine)}
    <div class="grid2"><section><h2>${esc(T('Draft'))}</h2>
      ${c.drafts.length ? `<table><thead><tr><th>${esc(T('Nama'))}</th><th>${esc(T('Revisi'))}</th><th>${esc(T('Versi terakhir'))}</th></tr></thead><tbody>
        ${c.drafts.map((d) => `<tr><td><a href="#/draft/${esc(c.case)}/${esc(d.name)}">${esc(d.name)}</a></td><td>${d.revisions}</td>
          <td>${d.heads.length}${d.heads.length > 1 ? ` <span class="tag st-bad">${esc(T('Konflik'))}</span>` : ''}</td></tr>`).join('')}</tbody></table>`
        : `<p class="muted">${esc(T('Tidak ada.'))}</p>`}
      <h2>${esc(T('Koreksi'))}</h2>${correctionsTable(c)}</section>
      <section><h2>${esc(T('Riwayat'))}</h2>${timeline(c)}</section></div>`);
}

// The form of a step, by its kind (sync/PROTOCOL.md §6.3).
function actionFields(step, task, head) {
  const k = step.kind;
  const text = (label, required) => `<div class="row"><label for="text">${esc(T(label))}</label>
    <textarea id="text" name="text" ${required ? 'required' : ''}></textarea></div>`;
  const doc = () => {
    if (!step.draft) return '';
    const editable = head && head.text != null;
    return `<fieldset><legend>${esc(T('Draft terkait'))}: ${esc(step.draft)}${head ? ` (rev <code>${esc(short(head.rev))}</code>)` : ''}</legend>
      <div class="row"><label for="file">${esc(T('Unggah berkas'))}</label><input type="file" id="file"></div>
      ${!head || editable ? `<div class="row"><label for="doc">${esc(T('atau tulis/ubah isi draft'))}</label>
        <textarea id="doc" class="doc">${esc(head ? head.text : '')}</textarea></div>` : ''}</fieldset>`;
  };
  if (k === 'disposition') return text('Isi disposisi', true);
  if (k === 'meeting') return text('Notulen rapat', true) + doc();
  if (k === 'prepare' || k === 'review') return text('Catatan', false) + doc();
  if (k === 'draft') return doc();
  if (k === 'correct') return text('Koreksi (catatan pada revisi terakhir)', true) + doc();
  if (k === 'initial' || k === 'sign') {
    return `<div class="card"><strong>${esc(T('Dokumen yang diparaf/ditandatangani'))}:</strong>
        ${head ? `${esc(step.draft)} — ${esc(head.filename)} (rev <code>${esc(short(head.rev))}</code>, sha256 <code>${esc(String(head.sha256).slice(0, 16))}</code>)` : '—'}</div>
      <div class="row"><label for="passphrase">${esc(T('Frasa sandi'))}</label>
        <input type="password" id="passphrase" autocomplete="off" required></div>
      <p class="small muted">${esc(T('Frasa sandi diminta setiap kali membubuhkan paraf atau tanda tangan.'))}</p>`;
  }
  if (k === 'decision') {
    return `<fieldset><legend>${esc(T('Keputusan'))}</legend>${(step.outcomes || []).map((o, i) => `
      <div><input type="radio" name="outcome" id="o${i}" value="${esc(o.code)}" data-return="${o.return_to ?? ''}" ${i ? '' : 'required'}>
      <label for="o${i}">${esc(o.label || o.code)}${o.return_to ? ` (→ ${esc(T('Langkah'))} ${o.return_to})` : ''}</label></div>`).join('')}</fieldset>
      ${text('Alasan', false)}`;
  }
  return text('Catatan', false);
}

async function viewTask(taskId) {
  const caseId = taskId.split('.')[0];
  const c = await api('case?case=' + enc(caseId));
  const [sop, mine] = await Promise.all([api('sop?sop=' + enc(c.sop)), myTasks()]);
  let step, task;
  for (const s of c.steps) for (const t of s.tasks) if (t.task === taskId) { step = s; task = t; }
  if (!task) throw Object.assign(new Error(T('Halaman tidak ditemukan.')), { code: 'unknown_task' });
  const draft = step.draft && c.drafts.find((d) => d.name === step.draft);
  const head = draft ? await api(`draft/content?case=${enc(c.case)}&name=${enc(step.draft)}`).catch(() => null) : null;
  // Who a disposition goes on to: the roles of the steps that follow this one in the SOP.
  const after = new Set(sop.steps.filter((s) => (s.after || []).includes(step.step)).map((s) => s.no));
  const next = [...new Set(c.steps.filter((s) => after.has(s.step)).flatMap((s) => s.tasks.map((t) => t.actor)))];
  const ready = mine.has(taskId);
  paint(`<p><a href="#/case/${esc(c.case)}">← ${esc(c.title)}</a></p>
    <h1 tabindex="-1">${esc(T('Langkah'))} ${step.step}. ${esc(step.title)}</h1>
    <p>${esc(task.actor)} · ${esc(T('Kelengkapan'))}: ${esc((step.inputs || []).join(', '))} · ${esc(T('Tenggat'))} ${dueText(task)}
      ${task.overdue ? `<strong class="st-bad"> · ${esc(remaining(task))}</strong>` : ''}</p>
    ${step.kind === 'disposition' && next.length ? `<p>${esc(T('Diteruskan kepada'))}: <strong>${esc(next.join(', '))}</strong></p>` : ''}
    ${ready ? `<form class="card" id="act-form" data-kind="${esc(step.kind)}">${actionFields(step, task, head)}
        <p class="error" tabindex="-1" role="alert"></p>
        <button type="submit">${esc(T(step.kind === 'sign' ? 'Tanda tangan' : step.kind === 'initial' ? 'Paraf' : 'Simpan dan selesaikan tugas'))}</button></form>
      ${step.step > 1 ? `<form class="card" id="return-form"><h2>${esc(T('Kembalikan untuk perbaikan'))}</h2>
        <div class="row"><label for="to-step">${esc(T('Ke langkah'))}</label><select id="to-step">${c.steps.filter((s) => s.step < step.step)
          .map((s) => `<option value="${s.step}">${s.step}. ${esc(s.title)}</option>`).join('')}</select></div>
        <div class="row"><label for="reason">${esc(T('Alasan'))}</label><textarea id="reason" required></textarea></div>
        <p class="error" tabindex="-1" role="alert"></p><button type="submit" class="secondary">${esc(T('Kembalikan'))}</button></form>` : ''}`
      : `<p class="notice">${esc(T('Tugas ini tidak siap untuk Anda.'))} ${stateTag(task)}</p>`}`);
  const form = $('#act-form');
  if (form) {
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      submit(form, async () => {
        const body = { task: taskId };
        const text = $('#text', form);
        if (text) body.text = text.value;
        const outcome = form.querySelector('input[name=outcome]:checked');
        if (outcome) {
          body.outcome = outcome.value;
          if (outcome.dataset.return && !body.text.trim()) throw new Error(T('Tulis alasannya: keputusan ini mengembalikan kasus.'));
        }
        const pass = $('#passphrase', form);
        if (pass) body.passphrase = pass.value;
        const file = $('#file', form);
        const doc = $('#doc', form);
        if (file && file.files.length) {
          body.file = { filename: file.files[0].name, content_base64: await readFileBase64(file.files[0]) };
        } else if (doc && doc.value !== (head ? head.text : '') && doc.value.trim()) {
          body.file = { filename: head ? head.filename : step.draft + '.txt', content_base64: textBase64(doc.value) };
        }
        const r = await api('act', body).catch((e) => {
          // Nothing was written: the passphrase is asked again, in an empty field.
          if (pass && e.code === 'wrong_passphrase') {
            pass.value = '';
            e.message += ' ' + T('Belum ada yang tersimpan. Ketik lagi frasa sandi Anda.');
            e.retry = pass;
          }
          throw e;
        });
        if (pass) pass.value = '';
        toast(`${r.message || ''}. ${T('Tersimpan di komputer ini — menunggu sinkronisasi.')}`);
        go('#/case/' + c.case);
      });
    });
  }
  const ret = $('#return-form');
  if (ret) {
    ret.addEventListener('submit', (ev) => {
      ev.preventDefault();
      submit(ret, async () => {
        const r = await api('return', { task: taskId, to_step: Number($('#to-step').value), reason: $('#reason').value });
        toast(`${r.message || ''}. ${T('Tersimpan di komputer ini — menunggu sinkronisasi.')}`);
        go('#/case/' + c.case);
      });
    });
  }
}

// Side-by-side line diff (longest common subsequence), for text revisions.
function diffTable(a, b) {
  const x = a.split('\n'), y = b.split('\n');
  if (x.length * y.length > 4e6) return `<p class="notice">${esc(T('Terlalu panjang untuk dibandingkan di sini; unduh kedua revisinya.'))}</p>`;
  const n = x.length, m = y.length;
  const L = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--)
    L[i][j] = x[i] === y[j] ? L[i + 1][j + 1] + 1 : Math.max(L[i + 1][j], L[i][j + 1]);
  const rows = [];
  let i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && x[i] === y[j]) { rows.push([i + 1, x[i], j + 1, y[j], '']); i++; j++; }
    else if (j < m && (i === n || L[i][j + 1] >= L[i + 1][j])) { rows.push(['', '', j + 1, y[j], 'add']); j++; }
    else { rows.push([i + 1, x[i], '', '', 'del']); i++; }
  }
  return `<table class="diff" id="diff"><colgroup><col class="ln"><col><col class="ln"><col></colgroup><tbody>${rows.map(([li, lt, ri, rt, k]) =>
    `<tr><td class="ln">${li}</td><td class="${k === 'del' ? 'del' : ''}">${esc(lt)}</td><td class="ln">${ri}</td><td class="${k === 'add' ? 'add' : ''}">${esc(rt)}</td></tr>`).join('')}</tbody></table>`;
}

async function viewDraft(caseId, name) {
  const [c, d] = await Promise.all([api('case?case=' + enc(caseId)), api(`draft?case=${enc(caseId)}&name=${enc(name)}`)]);
  const people = c.people || {};
  const revs = d.revisions;
  const opts = (sel) => revs.map((r, i) => `<option value="${esc(r.rev)}" ${i === sel ? 'selected' : ''}>${i + 1}. ${esc(short(r.rev))} — ${esc(people[r.by] || r.by)}</option>`).join('');
  paint(`<p><a href="#/case/${esc(c.case)}">← ${esc(c.title)}</a></p>
    <h1 tabindex="-1">${esc(T('Draft'))}: ${esc(name)}</h1>
    ${d.heads.length > 1 ? `<p class="notice bad">${esc(T('Dua versi terakhir draft'))} — <a href="#/conflicts">${esc(T('Konflik'))}</a></p>` : ''}
    <h2>${esc(T('Riwayat revisi'))}</h2>
    <table id="revisions"><thead><tr><th>#</th><th>rev</th><th>${esc(T('Oleh'))}</th><th>${esc(T('Berkas'))}</th><th>${esc(T('Langkah'))}</th><th></th></tr></thead><tbody>
      ${revs.map((r, i) => `<tr><td>${i + 1}</td><td><code>${esc(short(r.rev))}</code>${d.heads.includes(r.rev) ? ' ★' : ''}</td>
        <td>${esc(people[r.by] || r.by)}<div class="small">${when(r.at)}</div></td><td>${esc(r.filename)} <span class="small">(${r.size} B, ${esc(r.media)})</span></td>
        <td>${esc(r.step ?? '')}</td><td>${r.downloaded ? `<a href="api/draft/file?case=${enc(caseId)}&name=${enc(name)}&rev=${enc(r.rev)}" download="${esc(r.filename)}">${esc(T('Unduh'))}</a>` : ''}</td></tr>`).join('')}
    </tbody></table>
    ${revs.length > 1 ? `<form class="card" id="compare"><div class="actions">
      <label for="left">${esc(T('Kiri'))}</label><select id="left">${opts(revs.length - 2)}</select>
      <label for="right">${esc(T('Kanan'))}</label><select id="right">${opts(revs.length - 1)}</select>
      <button type="submit">${esc(T('Bandingkan'))}</button></div><div id="diff-out"></div></form>` : ''}
    <h2>${esc(T('Koreksi'))}</h2>${correctionsTable(c, name)}
    <form class="card" id="add-correction"><div class="row"><label for="corr-text">${esc(T('Tambah koreksi'))}</label>
      <textarea id="corr-text" required></textarea></div><p class="error" tabindex="-1" role="alert"></p><button type="submit">${esc(T('Simpan'))}</button></form>`);
  const cmp = $('#compare');
  if (cmp) {
    cmp.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const get = (rev) => api(`draft/content?case=${enc(caseId)}&name=${enc(name)}&rev=${enc(rev)}`);
      const [a, b] = await Promise.all([get($('#left').value), get($('#right').value)]);
      $('#diff-out').innerHTML = a.text == null || b.text == null
        ? `<p class="notice">${esc(T('Isi biner: tidak dapat dibandingkan.'))}</p>` : diffTable(a.text, b.text);
    });
    cmp.dispatchEvent(new Event('submit', { cancelable: true }));
  }
  const add = $('#add-correction');
  add.addEventListener('submit', (ev) => {
    ev.preventDefault();
    submit(add, async () => {
      const r = await api('correction', { case: caseId, name, text: $('#corr-text').value });
      toast(`${r.message} — ${T('menunggu sinkronisasi')}`);
      render(false);
    });
  });
}

async function viewConflicts() {
  const cases = await api('cases');
  const shows = await Promise.all(cases.map((c) => api('case?case=' + enc(c.case))));
  const parts = [];
  for (const c of shows) {
    const people = c.people || {};
    for (const k of c.conflicts) {
      if (k.kind === 'draft') {
        const heads = await Promise.all(k.heads.slice(0, 2).map((rev) =>
          api(`draft/content?case=${enc(c.case)}&name=${enc(k.name)}&rev=${enc(rev)}`)));
        parts.push(`<section class="card conflict" data-case="${esc(c.case)}" data-name="${esc(k.name)}">
          <h2>${esc(c.title)} — ${esc(T('Dua versi terakhir draft'))} “${esc(k.name)}”</h2>
          <div class="grid2">${heads.map((h) => `<div><h3>rev <code>${esc(short(h.rev))}</code> ${esc(h.filename)}</h3>
            ${h.text != null ? `<pre class="text">${esc(h.text)}</pre>` : `<p class="muted">${esc(T('Isi biner: tidak dapat dibandingkan.'))}</p>`}
            <button type="button" data-action="use-head" data-rev="${esc(h.rev)}">${esc(T('Pakai versi ini'))}</button></div>`).join('')}</div>
          <p class="actions"><button type="button" class="secondary" data-action="auto-merge">${esc(T('Gabung otomatis'))}</button></p>
          ${heads.every((h) => h.text != null) ? `<div class="row"><label for="m-${esc(k.name)}">${esc(T('Gabungan (boleh diubah)'))}</label>
            <textarea class="doc merged" id="m-${esc(k.name)}">${esc(heads[0].text)}</textarea></div>
            <button type="button" data-action="save-merged" data-filename="${esc(heads[0].filename)}">${esc(T('Simpan gabungan'))}</button>` : ''}
          <p class="error" tabindex="-1" role="alert"></p></section>`);
      } else {
        parts.push(`<section class="card conflict" data-task="${esc(k.task)}">
          <h2>${esc(c.title)} — ${esc(T('Dua isi disposisi'))} (${esc(k.task)})</h2>
          <div class="grid2">${k.values.map((v) => `<div><h3>${esc(people[v.by] || v.by)}</h3><pre class="text">${esc(v.text)}</pre>
            <button type="button" data-action="use-disposition" data-text="${esc(v.text)}">${esc(T('Pakai versi ini'))}</button></div>`).join('')}</div>
          <div class="row"><label for="d-${esc(k.task)}">${esc(T('Gabungan (boleh diubah)'))}</label>
            <textarea class="merged" id="d-${esc(k.task)}">${esc(k.values.map((v) => v.text).join('\n'))}</textarea></div>
          <button type="button" data-action="save-disposition">${esc(T('Simpan gabungan'))}</button>
          <p class="error" tabindex="-1" role="alert"></p></section>`);
      }
    }
  }
  paint(`<h1 tabindex="-1">${esc(T('Konflik'))}</h1>${parts.join('') || `<p class="card" id="no-conflicts">${esc(T('Tidak ada konflik.'))}</p>`}`);
}

// A change in plain words: what was done, on which step of which case (a link to it).
const OPS = {
  'task.complete': 'Menyelesaikan tugas', 'case.return': 'Mengembalikan kasus', 'case.open': 'Membuka kasus',
  'draft.revise': 'Revisi draft', 'disposition.set': 'Mengubah disposisi', 'correction.add': 'Menambah koreksi',
  'correction.status': 'Mengubah status koreksi',
};
function changeLabel(r) {
  const [kind, caseId, key] = String(r.record || '').split('/');
  const what = esc(T(OPS[r.op] || r.op));
  if (!caseId) return what;
  const where = kind === 'task' && key ? ` ${esc(T('Langkah'))} ${esc(key.replace('.', ' — '))}` : '';
  return `${what}${where}<div class="small"><a href="#/case/${esc(caseId)}">${esc(T('Lihat kasus'))}</a></div>`;
}

async function viewSync() {
  const s = showStatus(await api('status'));
  const pending = s.pending || [], rejected = s.rejected || [];
  paint(`<h1 tabindex="-1">${esc(T('Sinkronisasi'))}</h1>
    <div class="card"><dl class="grid2">
      <div><dt>${esc(T('Koneksi'))}</dt><dd id="conn" class="${s.online ? 'st-done' : 'st-bad'}">${esc(s.online ? T('Terhubung') : T('Tanpa koneksi'))}</dd></div>
      <div><dt>${esc(T('Server'))}</dt><dd>${esc(s.server)}</dd></div>
      <div><dt>${esc(T('Sinkron terakhir'))}</dt><dd>${s.last_sync ? when(s.last_sync) : esc(T('belum pernah'))}</dd></div>
      <div><dt>${esc(T('Peristiwa terakhir'))}</dt><dd>${esc(s.last_event || '')} <span class="small muted">${when(s.last_event_at)}</span></dd></div>
    </dl>
    ${s.fatal ? `<p class="notice bad">${esc(s.fatal)}</p>` : ''}
    ${s.last_sync_error ? `<p class="notice">${esc(T('Sinkronisasi terakhir gagal'))} (${when(s.last_sync_error.at)}): ${esc(s.last_sync_error.message)}</p>` : ''}
    ${s.clock_warning ? `<p class="notice">${esc(s.clock_warning)}</p>` : ''}
    <form id="sync-now" class="actions"><button type="submit">${esc(T('Sinkronkan sekarang'))}</button>
      <a class="button secondary" href="#/check">${esc(T('Periksa data lokal'))}</a><p class="error" tabindex="-1" role="alert"></p></form></div>
    <h2>${esc(T('Perubahan menunggu sinkronisasi'))}: <span id="pending-count">${s.tentative}</span></h2>
    ${pending.length ? `<table id="pending"><tbody>${pending.map((p) => `<tr><td><code>${esc(p.change)}</code></td><td>${esc(p.op)}</td><td>${esc(p.record)}</td><td>${when(p.at)}</td></tr>`).join('')}</tbody></table>`
      : `<p class="muted">${esc(T('Tidak ada.'))}</p>`}
    <h2>${esc(T('Perubahan yang ditolak server'))}</h2>
    ${rejected.length ? `<table id="rejected"><thead><tr><th>${esc(T('Tugas'))}</th><th>${esc(T('Alasan'))}</th><th>${esc(T('Yang dapat Anda lakukan'))}</th></tr></thead><tbody>
      ${rejected.map((r) => `<tr><td>${changeLabel(r)}</td>
        <td class="st-bad">${esc(r.message)} <span class="small">[${esc(r.code)}]</span></td><td>${esc(NEXT[r.code] || NEXT_DEFAULT)}</td></tr>`).join('')}</tbody></table>`
      : `<p class="muted">${esc(T('Tidak ada.'))}</p>`}
    ${(s.conflicting || []).length ? `<h2>${esc(T('Perubahan yang bertabrakan'))}</h2><ul>${s.conflicting.map((x) => `<li>${esc(x.message)} [${esc(x.code)}]</li>`).join('')}</ul>` : ''}`);
  const f = $('#sync-now');
  f.addEventListener('submit', (ev) => {
    ev.preventDefault();
    submit(f, async () => { await api('sync', {}); render(false); });
  });
}

async function viewPrint(caseId) {
  const [c, rep] = await Promise.all([api('case?case=' + enc(caseId)), api('report?case=' + enc(caseId))]);
  const people = c.people || {};
  const k = (rep.cases || [])[0] || { tasks: [] };
  paint(`<p class="no-print actions"><a href="#/case/${esc(c.case)}">← ${esc(c.title)}</a>
      <button type="button" data-action="print">${esc(T('Cetak laporan dan lembar pengesahan'))}</button></p>
    <section id="report"><p class="small">${esc(rep.unit)}</p><h1 tabindex="-1">${esc(T('Laporan akhir'))}: ${esc(c.title)}</h1>
      <p>${esc(T('Periode'))} ${esc(c.period)} · SOP ${esc(c.sop)} · ${esc(T('Keadaan'))}: ${esc(stateLabel(c.state))} · ${esc(T('Dicetak'))} ${when(new Date().toISOString())}</p>
      <table><thead><tr><th>${esc(T('Langkah'))}</th><th>${esc(T('Kegiatan'))}</th><th>${esc(T('Oleh'))}</th><th>${esc(T('Tenggat'))}</th>
        <th>${esc(T('Diselesaikan'))}</th><th>${esc(T('Hari kerja'))}</th><th>${esc(T('Status'))}</th></tr></thead><tbody>
      ${k.tasks.map((t) => `<tr><td>${esc(t.step)}</td><td>${esc(t.title)}</td><td>${esc(t.by_name || t.actor || '')}</td><td>${esc(t.due || '')}</td>
        <td>${esc(t.done_date || '')}</td><td>${t.working_days ?? ''}${t.late_days ? ` (+${t.late_days})` : ''}</td><td>${esc(String(t.status || '').replace(/_/g, ' '))}</td></tr>`).join('')}
      </tbody></table>
      <h2>${esc(T('Riwayat'))}</h2>${timeline(c)}</section>
    <section id="approval" class="sheet"><p class="small">${esc(rep.unit)}</p><h1>${esc(T('Lembar pengesahan'))}</h1><p>${esc(c.title)}</p>
      <table><thead><tr><th>${esc(T('Peran'))}</th><th>${esc(T('Nama'))}</th><th></th><th>${esc(T('Tanggal'))}</th><th>${esc(T('Revisi dokumen'))}</th></tr></thead><tbody>
      ${(c.approvals || []).filter((a) => !a.superseded).map((a) => `<tr><td>${esc(a.role)}</td><td>${esc(people[a.by] || a.by)}</td>
        <td class="sign-box">${esc(T(a.kind === 'tanda_tangan' ? 'Tanda tangan' : 'Paraf'))} ✓</td><td>${when(a.at)}</td>
        <td>${esc(a.draft)}<div class="small"><code>sha256 ${esc(String(a.sha256).slice(0, 16))}</code></div></td></tr>`).join('')}
      </tbody></table></section>`);
}

// --- enrolment, repair and the local check -------------------------------------------------
const ENROL_CODES = ['not_enrolled', 'replica_deleted'];

// Shown instead of every screen while this PC is not enrolled or its replica is damaged.
async function viewSetup(setup) {
  document.body.classList.add('setup');
  if (ENROL_CODES.includes(setup.code)) {
    paint(`<h1 tabindex="-1">${esc(T('Daftarkan komputer ini'))}</h1>
      <p>${esc(T('Komputer ini belum terdaftar di server alur kantor. Isi alamat server dan sidik jari sertifikatnya (dari admin), lalu nama pengguna dan kata sandi Anda.'))}</p>
      ${setup.code === 'replica_deleted' ? `<p class="notice">${esc(setup.message)}</p>` : ''}
      <form class="card" id="enroll-form">
        <div class="row"><label for="e-server">${esc(T('Alamat server'))}</label>
          <input type="text" id="e-server" placeholder="wss://server-kantor:8443" required pattern="wss://.+" autocomplete="off"></div>
        <div class="row"><label for="e-fingerprint">${esc(T('Sidik jari sertifikat (SHA-256)'))}</label>
          <input type="text" id="e-fingerprint" required autocomplete="off" spellcheck="false"></div>
        <div class="grid2"><div class="row"><label for="e-username">${esc(T('Nama pengguna'))}</label>
          <input type="text" id="e-username" required autocomplete="username"></div>
        <div class="row"><label for="e-password">${esc(T('Kata sandi'))}</label>
          <input type="password" id="e-password" required autocomplete="current-password"></div></div>
        <p class="error" tabindex="-1" role="alert"></p>
        <button type="submit">${esc(T('Daftarkan'))}</button></form>`);
    const f = $('#enroll-form');
    f.addEventListener('submit', (ev) => {
      ev.preventDefault();
      submit(f, async () => {
        const r = await api('enroll', { server: $('#e-server').value.trim(), fingerprint: $('#e-fingerprint').value.trim(),
          username: $('#e-username').value.trim(), password: $('#e-password').value });
        $('#e-password').value = '';
        toast(`${T('Terdaftar sebagai')} ${r.name} (${r.unit})`);
        await leaveSetup();
      });
    });
    return;
  }
  paint(`<h1 tabindex="-1">${esc(T('Data lokal rusak'))}</h1>
    <p class="notice bad">${esc(setup.message)} [${esc(setup.code)}]</p>
    <p>${esc(T('Perbaikan menyelamatkan pengaturan dan perubahan yang belum terkirim, menyisihkan berkas yang rusak (tidak dihapus), lalu membangun ulang data dari server. Komputer ini harus terhubung ke server.'))}</p>
    <form class="card" id="repair-form"><p class="error" tabindex="-1" role="alert"></p>
      <button type="submit">${esc(T('Perbaiki sekarang'))}</button></form>`);
  const f = $('#repair-form');
  f.addEventListener('submit', (ev) => {
    ev.preventDefault();
    submit(f, async () => {
      let r;
      try {
        r = await api('repair', {});
      } catch (e) {
        await api('status').then(showStatus).catch(() => {});
        throw e;
      }
      state.repair = r;  // shown on the local check's screen, which a live refresh keeps
      await leaveSetup('#/check');
    });
  });
}

function repairReport(r) {
  const lost = r.lost || [], saved = r.saved || [];
  return `<div class="card" id="repair-report"><p class="notice ${lost.length ? 'bad' : 'ok'}">${esc(T('Perbaikan selesai'))}:
      ${saved.length} ${esc(T('perubahan diselamatkan'))}, ${lost.length} ${esc(T('tidak dapat diselamatkan'))}.</p>
    ${r.damaged_file ? `<p class="small">${esc(T('Berkas rusak disimpan sebagai'))} <code>${esc(r.damaged_file)}</code></p>` : ''}
    ${lost.length ? `<ul>${lost.map((x) => `<li>${esc(T(OPS[x.op] || x.op))} — ${esc(x.record)}</li>`).join('')}</ul>` : ''}
    <p><a class="button" href="#/inbox">${esc(T('Kotak Masuk'))}</a></p></div>`;
}

// Back to the app once enrolment or repair succeeded, on the screen `to`.
async function leaveSetup(to = '#/inbox') {
  document.body.classList.remove('setup');
  showStatus(await api('status'));
  if (location.hash === to) render(true); else go(to);
}

// The local check (alur verify): read-only, any time.
async function viewCheck() {
  paint(`<h1 tabindex="-1">${esc(T('Pemeriksaan data lokal'))}</h1><p>${esc(T('Memuat…'))}</p>`);
  const v = await api('verify');
  paint(`<h1 tabindex="-1">${esc(T('Pemeriksaan data lokal'))}</h1>${state.repair ? repairReport(state.repair) : ''}
    ${v.ok ? `<p class="notice ok" id="check-result">${esc(T('Data lokal utuh'))}: ${v.entries} ${esc(T('perubahan tercatat diperiksa'))}.</p>`
      : `<div class="notice bad" id="check-result"><p>${esc(T('Data lokal bermasalah'))}:</p><ul>${v.problems.map((p) => `<li>${esc(p)}</li>`).join('')}</ul>
        <p>${esc(T('Tutup alur ui, jalankan alur repair (atau buka alur ui lagi: layar perbaikan muncul bila data rusak).'))}</p></div>`}
    <p><a href="#/sync">← ${esc(T('Sinkronisasi'))}</a></p>`);
}

// --- routing ----------------------------------------------------------------------------
const ROUTES = [
  [/^#\/inbox$/, viewInbox, 'inbox'], [/^#\/cases$/, viewCases, 'cases'], [/^#\/case\/([^/]+)$/, viewCase, 'cases'],
  [/^#\/task\/([^/]+)$/, viewTask, 'inbox'], [/^#\/draft\/([^/]+)\/([^/]+)$/, viewDraft, 'cases'],
  [/^#\/conflicts$/, viewConflicts, 'conflicts'], [/^#\/sync$/, viewSync, 'sync'], [/^#\/print\/([^/]+)$/, viewPrint, 'cases'],
  [/^#\/check$/, viewCheck, 'sync'],
];

let rendering = Promise.resolve();
let shownHash = location.hash || '#/inbox';  // the screen on show, to stay on when leaving is refused
let liveQueued = false;  // a live refresh waits its turn: one is enough
let painting = null;     // the render in progress: { live, typed }
const STALE = Symbol('stale');

// What a view shows. A live refresh (the server sent something) never paints over what the
// official began to type, even while its request was on the way: it shows the note that
// offers to reload instead.
function paint(html) {
  if (painting && painting.live && (state.dirty || state.typed !== painting.typed)) throw STALE;
  main.innerHTML = html;
}

// navigated: a new page (focus its heading); otherwise a refresh (keep the place). live: the
// refresh comes from the server, not from the official.
function render(navigated, live = false) {
  if (live && liveQueued) return rendering;
  if (live) liveQueued = true;
  rendering = rendering.then(async () => {
    if (live) liveQueued = false;
    const hash = location.hash || '#/inbox';
    // The official went to another screen and its render waits behind this one: that render
    // paints the new screen fresh. Painting it here first would show its form, let the
    // official type into it, and then the navigation's render would paint over the text.
    if (live && hash !== shownHash) return;
    if (live && state.dirty) return showRefreshNote();
    shownHash = hash;
    const route = ROUTES.find(([re]) => re.test(hash));
    document.querySelectorAll('#nav a').forEach((a) => {
      if (route && a.dataset.nav === route[2]) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
    });
    const y = window.scrollY;
    if (!live) state.dirty = false;
    painting = { live, typed: state.typed };
    try {
      if (state.status && state.status.setup) await viewSetup(state.status.setup);
      else if (!route) throw new Error(T('Halaman tidak ditemukan.'));
      else await route[1](...hash.match(route[0]).slice(1).map(decodeURIComponent));
    } catch (e) {
      if (e === STALE) return showRefreshNote();
      try {
        paint(`<h1 tabindex="-1">alur</h1><p class="notice bad" role="alert">${esc(e.message)}${e.code ? ` [${esc(e.code)}]` : ''}</p>`);
      } catch (stale) {
        return showRefreshNote();
      }
    } finally {
      painting = null;
    }
    main.insertAdjacentHTML('afterbegin', `<p class="notice no-print" id="refresh-note" hidden>${esc(T('Ada perubahan baru dari server.'))}
      <button type="button" data-action="reload">${esc(T('Muat ulang'))}</button></p>`);
    if (navigated) { const h1 = $('h1', main); if (h1) h1.focus(); } else window.scrollTo(0, y);
  });
  return rendering;
}

// For the browser tests: resolves once every rendering queued so far has finished.
window.alurSettled = () => rendering.then(() => true);

function showRefreshNote() {
  const n = $('#refresh-note');
  if (n) n.hidden = false;
}

function applyLanguage() {
  document.documentElement.lang = lang;
  document.querySelectorAll('[data-t]').forEach((el) => {
    el.dataset.id = el.dataset.id || el.textContent.trim();
    el.textContent = T(el.dataset.id);
  });
  const b = $('#lang');
  b.textContent = lang === 'en' ? 'Bahasa Indonesia' : 'English';
  b.lang = lang === 'en' ? 'id' : 'en';
  showStatus(state.status);
}

// Buttons inside views, by their data-action.
main.addEventListener('click', async (ev) => {
  const b = ev.target.closest('button[data-action]');
  if (!b) return;
  const a = b.dataset.action;
  if (a === 'reload') return render(false);
  if (a === 'print') return window.print();
  const sec = b.closest('section.conflict');
  const err = sec ? $('.error', sec) : null;
  b.disabled = true;
  try {
    let r;
    if (a === 'correction') r = await api('correction/status', { case: b.dataset.case, id: b.dataset.id, status: b.dataset.status });
    if (a === 'auto-merge') r = await api('draft/merge', { case: sec.dataset.case, name: sec.dataset.name });
    if (a === 'use-head' || a === 'save-merged') {
      let file;
      if (a === 'use-head') {
        // The chosen head's bytes, as they are (text or not), become the new revision.
        const q = `case=${enc(sec.dataset.case)}&name=${enc(sec.dataset.name)}&rev=${enc(b.dataset.rev)}`;
        const meta = await api('draft/content?' + q);
        const res = await fetch('api/draft/file?' + q);
        if (!res.ok) throw new Error(res.statusText);
        file = { filename: meta.filename, content_base64: bytesBase64(new Uint8Array(await res.arrayBuffer())) };
      } else {
        file = { filename: b.dataset.filename, content_base64: textBase64($('textarea.merged', sec).value) };
      }
      r = await api('draft/put', { case: sec.dataset.case, name: sec.dataset.name, file });
    }
    if (a === 'use-disposition') r = await api('disposition', { task: sec.dataset.task, text: b.dataset.text });
    if (a === 'save-disposition') r = await api('disposition', { task: sec.dataset.task, text: $('textarea.merged', sec).value });
    if (r) toast(`${r.message || ''} — ${T('menunggu sinkronisasi')}`);
    state.dirty = false;
    await render(false);
  } catch (e) {
    if (err) { err.textContent = e.message; err.focus(); } else toast(e.message);
  } finally {
    b.disabled = false;
  }
});
// Any input counts for a live refresh in progress (typed is compared by paint); typed text
// also asks before leaving.
main.addEventListener('input', (ev) => {
  state.typed += 1;
  if (ev.target.matches(TYPED)) state.dirty = true;
});
main.addEventListener('change', () => { state.typed += 1; });
$('#lang').addEventListener('click', () => {
  if (!mayLeave()) return;
  lang = lang === 'en' ? 'id' : 'en';
  localStorage.setItem('alur.lang', lang);
  applyLanguage();
  render(false);
});
window.addEventListener('hashchange', () => {
  if (!mayLeave()) {
    history.replaceState(null, '', shownHash);  // back to the form, its input untouched
    return;
  }
  render(true);
});
window.addEventListener('beforeunload', (ev) => {
  if (!state.dirty) return;
  ev.preventDefault();  // the browser asks before closing or reloading
  ev.returnValue = '';
});

applyLanguage();
api('status').then(showStatus).catch(() => {}).then(() => render(false));
listen();
