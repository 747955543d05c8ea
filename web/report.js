// The report view: summary, ranked diagnosis, timeline, offsets, the chain
// as served, Certificate Transparency, trust and revocation facts.
import {h, nextId} from './dom.js';
import {ttext, duration, intervalText} from './format.js';
import {generic, humanKey} from './generic.js';
import {Timeline} from './timeline.js';

const SEVERITY_TEXT = {error: 'Error', warning: 'Warning', info: 'Info', none: 'None'};

export function severityBadge(sev) {
  const v = sev || 'none';
  return h('span', {class: `badge sev-${v}`}, SEVERITY_TEXT[v] || v);
}

export function verdictBadge(v) {
  if (v === 'pass') return h('span', {class: 'badge verdict-pass'}, 'pass');
  if (v === 'fail') return h('span', {class: 'badge verdict-fail'}, 'FAIL');
  return h('span', {class: 'badge verdict-none'}, v || '—');
}

function section(title, ...body) {
  const id = nextId('sec');
  return h('section', {class: 'card', 'aria-labelledby': id}, h('h3', {id}, title), ...body);
}

function dl(pairs) {
  return h('dl', {class: 'facts'}, pairs.filter((p) => p).map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

function summary(r) {
  const iss = r.issuance || {};
  const clocks = (r.input && r.input.clocks) || [];
  return dl([
    ['Source', r.input ? r.input.source : '—'],
    ['Judged at', r.input && r.input.at ? ttext(r.input.at) : 'no instant'],
    ['Verdict at that instant', verdictBadge(r.verdict && r.verdict.at)],
    ['Worst finding', [severityBadge(r.verdict && r.verdict.worst_severity), ' ',
      h('code', {}, (r.verdict && r.verdict.top_code) || '—')]],
    ['Issuance estimate', [ttext(iss.estimate), iss.basis ? ` (${iss.basis})` : '']],
    iss.age_at_ms !== null && iss.age_at_ms !== undefined ? ['Age at the judged instant', duration(iss.age_at_ms)] : null,
    iss.notbefore_backdating_ms !== undefined ? ['notBefore backdated by', duration(iss.notbefore_backdating_ms)] : null,
    ['Clock models', h('ul', {class: 'inline'}, clocks.map((c) =>
      h('li', {}, h('code', {}, c.name), c.model !== c.name ? ` = ${c.model}` : '')))],
    ['Generator', `${r.generator || '?'} (schema v${r.schema_version ?? '?'})`],
  ]);
}

// The per-client table (report.clients) and the top cause with its fix:
// what the text report prints first.
function clients(r) {
  const rows = r.clients || [];
  if (rows.length === 0) return h('p', {}, 'No client profiles in this report (schema v1).');
  const windows = (ws) => (ws && ws.length ? ws.map(intervalText).join('; ') : 'never');
  const causes = r.causes || [];
  const top = causes[0];
  return [
    h('div', {class: 'table-scroll'}, h('table', {class: 'clients'},
      h('caption', {}, `Which clients fail at ${rows[0].judged_at ? ttext(rows[0].judged_at) : 'the judged instant'}, when, and why`),
      h('thead', {}, h('tr', {}, ['Client', 'Verdict', 'Fails for true times', 'Root cause', 'Fix']
        .map((c) => h('th', {scope: 'col'}, c)))),
      h('tbody', {}, rows.map((c) => h('tr', {'data-client': c.name},
        h('th', {scope: 'row'}, c.name),
        h('td', {}, verdictBadge(c.verdict_at_instant)),
        h('td', {class: 'mono'}, windows(c.fails_for_true_times)),
        h('td', {}, c.root_cause ? [h('code', {}, c.root_cause),
          c.consequence ? [' → ', h('code', {}, c.consequence)] : null,
          c.detail ? h('div', {class: 'small'}, c.detail) : null] : '—'),
        h('td', {}, c.fix || '—')))))),
    top ? h('p', {class: 'top-cause'}, h('strong', {}, 'Top cause: '), h('code', {}, top.code),
      ` (fails ${top.clients}). `, top.fix ? [h('strong', {}, 'Fix: '), top.fix] : null) :
      h('p', {}, 'Every client passes at this instant.'),
  ];
}

function findings(r) {
  const list = r.findings || [];
  if (list.length === 0) return h('p', {}, 'No findings.');
  return h('ol', {class: 'findings'}, list.map((f) => {
    const ev = Object.entries(f.evidence || {});
    return h('li', {class: `finding sev-${f.severity}${f.caused_by ? ' consequence' : ''}`, 'data-code': f.code},
      h('p', {class: 'finding-head'}, severityBadge(f.severity), ' ', h('code', {class: 'code'}, f.code),
        f.caused_by ? [' caused by ', h('code', {}, f.caused_by)] : null),
      h('p', {class: 'finding-summary'}, f.summary),
      f.explanation ? h('p', {}, h('strong', {}, 'Why: '), f.explanation) : null,
      f.fix ? h('p', {}, h('strong', {}, 'Fix: '), f.fix) : null,
      ev.length ? h('details', {}, h('summary', {}, `Evidence (${ev.length})`),
        h('dl', {class: 'facts mono'}, ev.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]))) : null);
  }));
}

function offsets(r) {
  const clocks = r.clocks || [];
  if (clocks.length === 0) return h('p', {}, 'No clock results.');
  const off = (v) => (v === null || v === undefined ? 'unbounded' : duration(v));
  return h('div', {class: 'table-scroll'}, h('table', {class: 'offsets'},
    h('caption', {}, 'Per clock model: what it believes at the judged instant, and the extra offsets (skew:o) with which it would still pass'),
    h('thead', {}, h('tr', {}, ['Clock', 'Believes', 'Verdict', 'Failing checks', 'Passes with offsets', 'Passes for true times']
      .map((c) => h('th', {scope: 'col'}, c)))),
    h('tbody', {}, clocks.map((c) => {
      const po = c.passing_offsets_at;
      const checks = (c.failing_checks_at || []).map((id) => {
        const ck = (r.checks || []).find((x) => x.id === id);
        return ck ? ck.label : `#${id}`;
      });
      return h('tr', {'data-clock': c.clock},
        h('th', {scope: 'row'}, c.clock),
        h('td', {class: 'mono'}, typeof c.believed_at === 'string' ? c.believed_at : ttext(c.believed_at)),
        h('td', {}, verdictBadge(c.verdict_at)),
        h('td', {}, checks.length ? checks.join(', ') : '—'),
        h('td', {}, po ? `${off(po.from_ms)} … ${off(po.to_ms)}` : 'none'),
        h('td', {class: 'mono'}, intervalText(c.passes_for_true_times)));
    }))));
}

const SAN_KEYS = ['sans', 'subject_alt_names', 'subject_alt_name', 'san', 'dns_names', 'names'];
const CERT_SHOWN = new Set(['index', 'role', 'subject', 'issuer', 'serial', 'sha256', 'not_before',
  'not_after', 'valid_until', 'lifetime_ms', 'is_ca', 'self_issued', 'is_precertificate', 'scts',
  'sct_error', ...SAN_KEYS]);

function certificate(c) {
  const sanKey = SAN_KEYS.find((k) => k in c);
  const extra = Object.entries(c).filter(([k]) => !CERT_SHOWN.has(k));
  const scts = c.scts || [];
  return h('li', {class: 'cert'},
    h('h4', {}, `#${c.index} ${c.role}: `, h('span', {class: 'wrap'}, c.subject)),
    dl([
      ['Issuer', h('span', {class: 'wrap'}, c.issuer)],
      ['Serial', h('code', {}, c.serial)],
      ['Not before', ttext(c.not_before)],
      ['Not after', [ttext(c.not_after), ' (valid through ', ttext(c.valid_until), ')']],
      ['Lifetime', duration(c.lifetime_ms)],
      sanKey ? ['Subject alternative names', generic(c[sanKey])] : null,
      ['CA', c.is_ca ? 'yes' : 'no'],
      c.self_issued ? ['Self-issued', 'yes'] : null,
      c.is_precertificate ? ['Precertificate', 'yes'] : null,
      ['SHA-256', h('code', {class: 'fp'}, c.sha256)],
      c.sct_error ? ['SCT list error', `${c.sct_error.code}: ${c.sct_error.message}`] : null,
      ...extra.map(([k, v]) => [humanKey(k), generic(v)]),
    ]),
    scts.length ? h('div', {class: 'table-scroll'}, h('table', {},
      h('caption', {}, `Embedded and delivered SCTs of #${c.index}`),
      h('thead', {}, h('tr', {}, ['#', 'Source', 'Log id', 'Timestamp', 'Signature', 'Supported']
        .map((x) => h('th', {scope: 'col'}, x)))),
      h('tbody', {}, scts.map((t) => h('tr', {},
        h('td', {}, t.index), h('td', {}, t.source), h('td', {class: 'mono wrap'}, t.log_id_hex),
        h('td', {class: 'mono'}, ttext(t.timestamp)), h('td', {}, t.signature_alg),
        h('td', {}, t.supported ? 'yes' : 'no')))))) : null);
}

function chain(r) {
  const ch = r.chain || {};
  return [
    dl([['Certificates served', ch.count], ['Chain SHA-256', h('code', {class: 'fp'}, ch.fingerprint_sha256 || '—')]]),
    h('ol', {class: 'certs'}, (ch.certificates || []).map(certificate)),
  ];
}

function ct(r) {
  const c = r.ct;
  const scts = c.scts || [];
  const logText = (l) => {
    if (!l) return 'not in the log list';
    const name = l.description || l.name || l.url || 'log';
    return [name, l.operator ? ` (${l.operator})` : '', l.state ? ` · ${l.state}` : ''].join('');
  };
  const fut = (m) => Object.entries(m || {}).map(([k, v]) => `${k}: ${v ? 'in the future' : 'ok'}`).join('; ');
  const rest = Object.fromEntries(Object.entries(c).filter(([k]) => k !== 'scts'));
  return [
    scts.length ? h('div', {class: 'table-scroll'}, h('table', {class: 'ct'},
      h('caption', {}, 'Every SCT, its log and verdict'),
      h('thead', {}, h('tr', {}, ['#', 'Source', 'Log', 'Timestamp', 'Signature', 'In the future per clock', 'Acceptable']
        .map((x) => h('th', {scope: 'col'}, x)))),
      h('tbody', {}, scts.map((t) => h('tr', {'data-sct': t.index},
        h('td', {}, t.index), h('td', {}, t.source),
        h('td', {}, h('span', {}, logText(t.log)), h('br'), h('code', {class: 'wrap small'}, t.log_id)),
        h('td', {class: 'mono'}, ttext(t.timestamp)), h('td', {}, t.signature),
        h('td', {}, fut(t.in_future_by_clock)), h('td', {}, t.acceptable ? 'yes' : 'no')))))) :
      h('p', {}, 'No SCTs were served.'),
    generic(rest),
  ];
}

/**
 * Renders a report. opts: {title, replayForm (element or null), downloads
 * (element or null), banner (element or null)}. Returns {el, timeline}.
 */
export function renderReport(r, opts) {
  const tl = new Timeline(r);
  const parts = [
    h('h2', {id: 'report-heading', tabindex: '-1'}, opts.title),
    opts.banner || null,
    section('Clients', clients(r)),
    section('Summary', summary(r), opts.downloads || null),
    section('Diagnosis', findings(r)),
    section('Timeline', tl.el),
    section('Offsets', offsets(r)),
    opts.replayForm ? section('Replay at other clocks', opts.replayForm) : null,
    section('Chain as served', chain(r)),
    r.ct ? section('Certificate Transparency', ct(r)) : null,
    r.trust ? section('Trust paths', generic(r.trust)) : null,
    r.not_judged && Object.keys(r.not_judged).length ? section('Not judged', generic(r.not_judged)) : null,
    r.revocation ? section('Revocation (OCSP and CRL)', generic(r.revocation)) : null,
    r.enrichment ? section('Enrichment: stapling probe and fetches', generic(r.enrichment)) : null,
    r.capture ? section('How it was captured (and what the client did)', generic(r.capture)) : null,
  ];
  return {el: h('article', {class: 'report', 'aria-labelledby': 'report-heading'}, parts), timeline: tl};
}
