// certskew web UI: the captures list (polled live) and the report view,
// routed by the URL fragment: #/ and #/capture/<id>.
import {h, clear} from './dom.js';
import {ago, iso} from './format.js';
import {listCaptures, getReport, getCapture, listSightings, clearStore, captureUrl, ApiError} from './api.js';
import {renderReport, reportTitle, connectionsTable, verdictBadge} from './report.js';
import {ReplayForm} from './replay.js';

const params = new URLSearchParams(location.search);
// Poll period: ?poll=MS (bounded) for tests and slow machines.
const POLL_MS = Math.min(Math.max(Number(params.get('poll')) || 2000, 250), 60000);
const SUMMARY_FETCHES = 4;

const state = {
  captures: [],
  errors: [],
  summaries: new Map(), // id -> {verdict, top, failing, version} | {error}; refetched when report_ms changes
  pending: new Set(),
  selected: null,
  lastCount: -1,
};

const $ = (id) => document.getElementById(id);

// ---- captures list ----

function captureItem(c, now) {
  const sum = state.summaries.get(c.id);
  const current = state.selected === c.id;
  const name = `${c.host}:${c.port}`;
  let verdictLine;
  if (!sum) verdictLine = h('span', {class: 'muted'}, 'loading verdict…');
  else if (sum.error) verdictLine = h('span', {class: 'muted'}, `no report: ${sum.error}`);
  else if (sum.verdict === 'fail') verdictLine = [verdictBadge('fail'), ' ', h('code', {}, sum.top || '—'),
    sum.failing ? h('span', {class: 'muted'}, ` · ${sum.failing}`) : null];
  else verdictLine = [verdictBadge(sum.verdict), sum.verdict === 'pass' ? h('span', {class: 'muted'}, ' every client') : null];
  return h('li', {class: `capture${current ? ' current' : ''}`, 'data-id': c.id},
    h('a', {href: `#/capture/${encodeURIComponent(c.id)}`, 'aria-current': current ? 'page' : null,
      class: 'capture-link'}, name),
    c.sni && c.sni !== c.host ? h('span', {class: 'muted'}, ` (SNI ${c.sni})`) : null,
    h('p', {class: 'capture-verdict'}, verdictLine),
    h('p', {class: 'capture-times'},
      h('time', {datetime: c.last_seen, title: `first ${c.first_seen}, last ${c.last_seen}`, class: 'ago', 'data-ms': c.last_seen_ms},
        ago(c.last_seen_ms, now)),
      ` · seen ${c.seen_count}× · chain ${String(c.chain_sha256 || '').slice(0, 8)} · first `,
      h('time', {datetime: c.first_seen}, c.first_seen)));
}

// The list's search, filter and grouping (state of the form fields).
function listFilter() {
  const q = $('cap-search').value.trim().toLowerCase();
  const verdict = $('cap-verdict').value;
  const code = $('cap-code').value;
  return (c) => {
    if (q && !`${c.host}:${c.port} ${c.sni || ''}`.toLowerCase().includes(q)) return false;
    const sum = state.summaries.get(c.id);
    if (verdict && (!sum || sum.verdict !== verdict)) return false;
    if (code && (!sum || sum.top !== code)) return false;
    return true;
  };
}

function fillCodes() {
  const sel = $('cap-code');
  const codes = [...new Set([...state.summaries.values()].map((x) => x.top).filter((x) => x))].sort();
  const have = [...sel.options].slice(1).map((o) => o.value);
  if (JSON.stringify(codes) === JSON.stringify(have)) return;
  const keep = sel.value;
  while (sel.options.length > 1) sel.remove(1);
  for (const c of codes) sel.append(h('option', {value: c}, c));
  sel.value = codes.includes(keep) ? keep : '';
}

let listSignature = '';

// Rebuilds the list only when something in it changed (so a screen reader
// is not fed a new list every poll), keeping keyboard focus on the same
// capture; otherwise just refreshes the "3 s ago" texts in place.
function renderList() {
  const body = $('captures-body');
  const now = Date.now();
  fillCodes();
  const all = [...state.captures].sort((a, b) => b.last_seen_ms - a.last_seen_ms);
  const caps = all.filter(listFilter());
  const grouped = $('cap-group').checked;
  const sig = JSON.stringify([caps, state.errors.slice(0, 10), state.selected, grouped,
    caps.map((c) => state.summaries.get(c.id) || null)]);
  const nfail = all.filter((c) => (state.summaries.get(c.id) || {}).verdict === 'fail').length;
  const head = `Captures (${caps.length === all.length ? all.length : `${caps.length} of ${all.length}`}${nfail ? `, ${nfail} failing` : ''})`;
  if ($('captures-heading').textContent !== head) $('captures-heading').textContent = head;
  if (sig === listSignature) {
    for (const el of body.querySelectorAll('time.ago')) el.textContent = ago(Number(el.dataset.ms), now);
    return;
  }
  listSignature = sig;
  const active = document.activeElement;
  const focusedId = active && body.contains(active) && active.closest('li.capture') ?
    active.closest('li.capture').dataset.id : null;
  clear(body);
  if (all.length === 0) {
    body.append(h('p', {}, 'No captures yet. Point a browser or ', h('code', {}, 'curl -x'),
      ' at this proxy and open an HTTPS site.'));
  } else if (caps.length === 0) {
    body.append(h('p', {}, 'No capture matches the search and filters.'));
  } else if (grouped) {
    // Per host: the chains it served over time (rotation), newest first.
    const hosts = new Map();
    for (const c of caps) {
      const k = `${c.host}:${c.port}`;
      if (!hosts.has(k)) hosts.set(k, []);
      hosts.get(k).push(c);
    }
    for (const [k, list] of hosts) {
      const id = `grp-${k.replace(/[^A-Za-z0-9]/g, '_')}`;
      body.append(h('section', {class: 'host-group', 'aria-labelledby': id},
        h('h3', {id}, `${k} · ${list.length} chain${list.length === 1 ? '' : 's'}`),
        h('ol', {class: 'captures', 'aria-label': `Chains served by ${k}, most recently seen first`},
          list.map((c) => captureItem(c, now)))));
    }
  } else {
    body.append(h('ol', {class: 'captures', 'aria-label': 'Captured chains, most recently seen first'},
      caps.map((c) => captureItem(c, now))));
  }
  if (focusedId !== null) {
    const again = [...body.querySelectorAll('li.capture')].find((li) => li.dataset.id === focusedId);
    if (again) again.querySelector('a').focus();
  }
  const errs = state.errors.slice(0, 10);
  $('upstream-errors').hidden = errs.length === 0;
  clear($('errors-list')).append(...errs.map((e) => h('li', {},
    h('strong', {}, `${e.host}:${e.port}`), ' ', h('code', {}, e.code), h('br'),
    h('span', {}, e.message), ' ', h('time', {datetime: e.at, class: 'muted'}, e.at))));
}

// A capture's answer: whether some client fails at the judged instant
// (verdict.clients_at; a pass is a pass, whatever facts the report notes),
// its top cause and the failing clients.
function summaryOf(r, version) {
  const v = r.verdict || {};
  const verdict = v.clients_at || v.at || null;
  const failing = (r.clients || []).filter((c) => c.verdict_at_instant === 'fail').map((c) => c.name);
  return {verdict, top: verdict === 'fail' ? (v.top_cause || v.top_code || null) : null,
    failing: failing.join(', '), version};
}

async function fetchSummary(c) {
  const id = c.id;
  state.pending.add(id);
  try {
    const r = await getReport(id);
    state.summaries.set(id, summaryOf(r, c.report_ms));
  } catch (e) {
    state.summaries.set(id, {error: e.message, version: c.report_ms});
  } finally {
    state.pending.delete(id);
  }
  renderList();
  fillSummaries();
}

function fillSummaries() {
  for (const c of state.captures) {
    if (state.pending.size >= SUMMARY_FETCHES) return;
    const sum = state.summaries.get(c.id);
    if ((!sum || sum.version !== c.report_ms) && !state.pending.has(c.id)) fetchSummary(c);
  }
}

async function poll() {
  try {
    const data = await listCaptures();
    state.captures = Array.isArray(data.captures) ? data.captures : [];
    state.errors = Array.isArray(data.errors) ? data.errors : [];
    renderList();
    fillSummaries();
    // Announce only changes, so screen readers are not told every 2 s.
    if (state.captures.length !== state.lastCount) {
      state.lastCount = state.captures.length;
      $('poll-status').textContent = `${state.lastCount} capture${state.lastCount === 1 ? '' : 's'}` +
        (data.store_error ? ` · store problem: ${data.store_error}` : '');
    }
    showStoreError(data);
    refreshView();
    document.body.dataset.lastPoll = iso(Date.now());
  } catch (e) {
    $('poll-status').textContent = `Cannot reach the proxy API: ${e.message}`;
  }
  setTimeout(poll, document.hidden ? POLL_MS * 5 : POLL_MS);
}

// ---- report view ----

function downloads(id) {
  const safe = id.replace(/[^A-Za-z0-9._-]/g, '_');
  return h('p', {class: 'downloads'},
    h('a', {href: captureUrl(id, 'report'), download: `${safe}.report.json`, class: 'button', id: 'dl-report'},
      'Download the JSON report'), ' ',
    h('a', {href: captureUrl(id, 'chain.pem'), download: `${safe}.chain.pem`, class: 'button', id: 'dl-chain'},
      'Download the chain (PEM)'));
}

function showError(title, message) {
  const view = clear($('view'));
  view.append(h('h2', {id: 'report-heading', tabindex: '-1'}, title),
    h('p', {class: 'error-box', role: 'alert'}, message),
    h('p', {}, h('a', {href: '#/'}, 'Back to the captures')));
}

let current = null; // {id, report, form}
const intro = $('view').cloneNode(true);

let replayBlob = null; // object URL of the shown replay's JSON, revoked on the next view

function show(id, report, replayed) {
  // The sections the reader opened stay open across a replay and a rewrite.
  const open = new Set([...$('view').querySelectorAll('details.fold[open]')].map((d) => d.dataset.section));
  const view = clear($('view'));
  let banner = null;
  if (replayBlob) URL.revokeObjectURL(replayBlob);
  replayBlob = null;
  if (replayed) {
    const blob = replayBlob = URL.createObjectURL(new Blob([JSON.stringify(replayed, null, 2)], {type: 'application/json'}));
    const inp = replayed.input || {};
    banner = h('div', {class: 'banner', role: 'status'},
      h('p', {}, 'This is a replay: ', h('strong', {}, `at ${inp.at ? inp.at.rfc3339 : 'now'}`),
        ` with ${(inp.clocks || []).map((c) => c.name).join(', ')}.`),
      h('p', {},
        h('button', {type: 'button', onclick: () => show(id, current.report, false)}, 'Back to the captured report'), ' ',
        h('a', {href: blob, download: 'replay.report.json', class: 'button', id: 'dl-replay'}, 'Download this replay (JSON)')));
  }
  const {el} = renderReport(replayed || report, {
    title: `${replayed ? 'Replay: ' : ''}${reportTitle(replayed || report) || id}`,
    subtitle: `Capture ${id}${current.meta ? ` · seen ${current.meta.seen_count}× since ${current.meta.first_seen}` : ''}` +
      (report.input && report.input.at ? ` · report judged at ${report.input.at.rfc3339}` : ''),
    sightings: replayed ? undefined : (current.meta && current.meta.sightings) || [],
    banner,
    downloads: downloads(id),
    replayForm: current.form.el,
  });
  view.append(el);
  for (const d of view.querySelectorAll('details.fold')) if (open.has(d.dataset.section)) d.open = true;
  view.dataset.captureId = id;
  view.dataset.replayed = replayed ? 'true' : 'false';
  if (replayed) $('report-heading').focus();
}

async function openCapture(id) {
  state.selected = id;
  renderList();
  const view = clear($('view'));
  view.append(h('h2', {id: 'report-heading', tabindex: '-1'}, `Capture ${id}`), h('p', {role: 'status'}, 'Loading the report…'));
  try {
    const [report, meta] = await Promise.all([getReport(id), getCapture(id).catch(() => null)]);
    if (state.selected !== id) return;
    const form = new ReplayForm(id, report, (rep) => show(id, report, rep));
    current = {id, report, form, meta};
    show(id, report, null);
  } catch (e) {
    if (state.selected !== id) return;
    showError(`Capture: ${id}`, e instanceof ApiError && e.status === 404 ? 'No such capture (it may have been rotated out of the store).' : `Could not load the report: ${e.message}`);
  }
  const head = $('report-heading');
  if (head && document.activeElement && document.activeElement.closest('#captures')) head.focus();
}

// ---- connections view: every sighting, newest first ----

let connectionsSig = '';

async function showConnections(first) {
  try {
    const data = await listSightings(300);
    if (location.hash !== '#/connections') return;
    const list = Array.isArray(data.sightings) ? data.sightings : [];
    const sig = JSON.stringify(list.length ? [list.length, list[0].at_ms, list[0].capture] : []);
    if (!first && sig === connectionsSig) return;
    connectionsSig = sig;
    const view = clear($('view'));
    view.append(h('h2', {id: 'report-heading', tabindex: '-1'}, 'Connections'),
      h('p', {class: 'hint'}, 'Each connection through the proxy, newest first: the verdict for the client profile judged at that instant, and what the client did. ',
        'A chain that fails in its first second and passes after shows as a FAIL row under pass rows.'),
      list.length ? connectionsTable(list, true) : h('p', {}, 'No connection recorded yet.'));
    view.dataset.captureId = '';
    view.dataset.view = 'connections';
  } catch (e) {
    if (first) showError('Connections', `Could not load the connections: ${e.message}`);
  }
}

// Called every poll: the connections view follows new sightings; an open
// capture follows its report when the proxy rewrote it (its verdict
// changed on a later sighting), keeping the sections that were open.
async function refreshView() {
  if (location.hash === '#/connections') {
    showConnections(false);
    return;
  }
  if (!current || !current.meta || $('view').dataset.replayed === 'true') return;
  const c = state.captures.find((x) => x.id === current.id);
  if (!c || (c.report_ms === current.meta.report_ms && c.seen_count === current.meta.seen_count)) return;
  const id = current.id;
  try {
    const [report, meta] = await Promise.all([getReport(id), getCapture(id)]);
    if (!current || current.id !== id || $('view').dataset.replayed === 'true') return;
    current.report = report;
    current.meta = meta;
    show(id, report, null);
  } catch (e) {
    // The next poll tries again.
  }
}

function route() {
  const m = location.hash.match(/^#\/capture\/(.+)$/);
  $('view').dataset.view = m ? 'capture' : '';
  if (location.hash === '#/connections') {
    state.selected = null;
    current = null;
    renderList();
    showConnections(true);
  } else if (m) {
    openCapture(decodeURIComponent(m[1]));
  } else if (location.hash === '#/file' && $('view').querySelector('article.report')) {
    // Back/forward onto the opened file: it is still shown.
  } else {
    state.selected = null;
    current = null;
    clear($('view')).append(...[...intro.childNodes].map((n) => n.cloneNode(true)));
    renderList();
  }
}

// A report file from `certskew replay --json`: shown like a capture, without
// the capture-only parts (downloads, replay through the proxy).
async function openFile(file) {
  const err = $('file-error');
  err.textContent = '';
  let report;
  try {
    report = JSON.parse(await file.text());
    if (!report || typeof report !== 'object' || !Array.isArray(report.checks) || !report.chain)
      throw new Error('not a certskew report (no "checks" and "chain")');
    if (report.schema_version !== 1 && report.schema_version !== 2)
      throw new Error(`schema version ${report.schema_version} is not supported (this page reads versions 1 and 2)`);
  } catch (e) {
    err.textContent = `Cannot open ${file.name}: ${e.message}`;
    return;
  }
  if (location.hash !== '#/file') history.pushState(null, '', '#/file');
  state.selected = null;
  current = null;
  renderList();
  const view = clear($('view'));
  view.append(renderReport(report, {title: `Report file: ${file.name}`}).el);
  view.dataset.captureId = '';
  view.dataset.replayed = 'false';
  $('report-heading').focus();
}

for (const id of ['cap-search', 'cap-verdict', 'cap-code', 'cap-group'])
  $(id).addEventListener(id === 'cap-search' ? 'input' : 'change', () => renderList());
$('cap-clear').addEventListener('click', async () => {
  const n = state.captures.length;
  if (!window.confirm(`Delete all ${n} capture${n === 1 ? '' : 's'} (chains, reports and connection history) from the store?`)) return;
  try {
    await clearStore();
    state.captures = [];
    state.summaries.clear();
    $('poll-status').textContent = 'The capture store was cleared.';
    if (location.hash.startsWith('#/capture/')) location.hash = '#/';
    renderList();
  } catch (e) {
    $('poll-status').textContent = `Could not clear the store: ${e.message}`;
  }
});

$('report-file').addEventListener('change', (e) => {
  const f = e.target.files && e.target.files[0];
  if (f) openFile(f);
});

window.addEventListener('hashchange', route);
route();
poll();

// The capture store's write failures (full disk, read-only store): shown
// while they last, and afterwards how many captures were not stored.
function showStoreError(data) {
  const el = $('store-error');
  const last = data.store_last_error;
  const failed = Number(data.store_failed_writes) || 0;
  let text = '';
  if (data.store_error) {
    text = `Capture store error: ${data.store_error}. Traffic is still relayed, but new captures are not saved.`;
  } else if (last && failed > 0) {
    text = `The capture store failed at ${last.at} (${last.message}); ${failed} capture${failed === 1 ? ' was' : 's were'} not saved.`;
  }
  el.hidden = text === '';
  if (el.textContent !== text) el.textContent = text;
}
