// verifikasi.html: the export's self-contained verification page (export.h). Everything is
// inline; it reads only the manifest embedded in it and the files the reader picks.
#include <string>

#include "alur/client/export.h"

namespace alur::client {

namespace {

constexpr const char* kPage = R"HTML(<!DOCTYPE html>
<html lang="id"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'">
<title>Verifikasi ekspor alur</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse;width:100%}
td,th{border:1px solid #999;padding:.3em;vertical-align:top;font-size:.9em}.ok{color:#060;font-weight:bold}
.bad{color:#b00;font-weight:bold}.warn{background:#fff3cd;padding:.6em;border:1px solid #d39e00}
code{word-break:break-all;font-size:.8em}</style></head><body>
<h1>Verifikasi ekspor alur</h1>
<p id="case"></p>
<p id="support"></p>
<h2>Paraf dan tanda tangan</h2>
<table><thead><tr><th>Jenis</th><th>Langkah</th><th>Nama</th><th>Peran</th><th>Waktu (UTC)</th><th>Revisi / sha256</th><th>Kunci publik</th><th>Hasil</th></tr></thead><tbody id="rows"></tbody></table>
<h2>Dokumen</h2>
<p>Pilih berkas di folder <code>dokumen/</code> untuk mencocokkan hash SHA-256-nya:
<input type="file" id="files" multiple></p>
<table><thead><tr><th>Berkas</th><th>sha256 tercatat</th><th>Hasil</th></tr></thead><tbody id="docs"></tbody></table>
<p>Periksa juga tanpa peramban: <code>alur export verify FOLDER</code>. Kunci publik membuktikan
siapa penandatangan hanya bila sidik kuncinya sama dengan yang tercatat di server (alur-server verify).</p>
<script type="application/json" id="manifest">@MANIFEST@</script>
<script>
'use strict';
const m = JSON.parse(document.getElementById('manifest').textContent);
const $ = (id) => document.getElementById(id);
const b64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
const hex = (buf) => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');
const cell = (tr, text, cls) => { const td = document.createElement('td'); td.textContent = text; if (cls) td.className = cls; tr.appendChild(td); return td; };
$('case').textContent = m.unit + ' — ' + m.case.title + ' (kasus ' + m.case.id + '), diekspor ' + m.exported_at;
function field(statement, name) {
  for (const line of statement.split('\n')) if (line.startsWith(name + ': ')) return line.slice(name.length + 2);
  return '';
}
async function ed25519Supported() {
  try {
    await crypto.subtle.importKey('raw', new Uint8Array(32), { name: 'Ed25519' }, false, ['verify']);
    return true;
  } catch (e) { return false; }
}
async function check(a) {
  const fields = [['sha256', 'sha256'], ['revisi', 'revision'], ['pengguna', 'by'], ['peran', 'role'], ['jenis', 'kind'], ['tugas', 'task']];
  for (const [f, k] of fields) if (field(a.statement, f) !== a[k]) return 'manifest berbeda dari pernyataan (' + k + ')';
  const key = await crypto.subtle.importKey('raw', b64(a.public_key), { name: 'Ed25519' }, false, ['verify']);
  const ok = await crypto.subtle.verify({ name: 'Ed25519' }, key, b64(a.signature), new TextEncoder().encode(a.statement));
  return ok ? '' : 'tanda tangan TIDAK SAH';
}
(async () => {
  const supported = window.crypto && crypto.subtle && await ed25519Supported();
  $('support').innerHTML = supported
    ? '<span class="ok">Peramban ini memeriksa tanda tangan Ed25519 (WebCrypto).</span>'
    : '<div class="warn">Peramban ini TIDAK mendukung Ed25519 di WebCrypto: tanda tangan di bawah BELUM diperiksa. Gunakan peramban yang lebih baru atau jalankan <code>alur export verify FOLDER</code>.</div>';
  for (const a of m.approvals) {
    const tr = document.createElement('tr');
    cell(tr, a.kind === 'paraf' ? 'Paraf' : 'Tanda tangan');
    cell(tr, String(a.step));
    cell(tr, a.name + ' (' + a.by + ')');
    cell(tr, a.role);
    cell(tr, a.at);
    cell(tr, a.revision + ' / ' + a.sha256);
    cell(tr, a.key_id + ' ' + a.public_key);
    if (!supported) cell(tr, 'belum diperiksa', 'bad');
    else { const err = await check(a).catch((e) => 'tidak dapat diperiksa: ' + e); cell(tr, err || 'sah' + (a.superseded ? ' (dibatalkan: kasus dikembalikan)' : ''), err ? 'bad' : 'ok'); }
    $('rows').appendChild(tr);
  }
  const docRows = {};
  for (const d of m.documents) {
    const tr = document.createElement('tr');
    cell(tr, d.file); cell(tr, d.sha256); docRows[d.file.split('/').pop()] = [cell(tr, 'belum dipilih'), d];
    $('docs').appendChild(tr);
  }
  $('files').addEventListener('change', async (ev) => {
    for (const f of ev.target.files) {
      const row = docRows[f.name];
      if (!row) continue;
      const sum = hex(await crypto.subtle.digest('SHA-256', await f.arrayBuffer()));
      row[0].textContent = sum === row[1].sha256 ? 'cocok' : 'TIDAK COCOK (' + sum + ')';
      row[0].className = sum === row[1].sha256 ? 'ok' : 'bad';
    }
  });
})();
</script></body></html>
)HTML";

}  // namespace

std::string export_html(const nlohmann::json& manifest) {
  std::string data = manifest.dump();
  // Inside <script>: "</" could end the element early; JSON allows "<\/" for it.
  std::string safe;
  for (std::size_t i = 0; i < data.size(); ++i) {
    if (data[i] == '<' && i + 1 < data.size() && data[i + 1] == '/') {
      safe += "<\\/";
      ++i;
    } else {
      safe += data[i];
    }
  }
  std::string page = kPage;
  page.replace(page.find("@MANIFEST@"), 10, safe);
  return page;
}

}  // namespace alur::client
