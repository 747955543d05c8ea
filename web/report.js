// The report view: summary, ranked diagnosis, timeline, offsets, the chain
// as served, Certificate Transparency, trust and revocation facts.
import {h, nextId} from './dom.js';
import {tms, ttext, duration, intervalText} from './format.js';
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

// Every section below the answer: closed by default, so a report is its
// answer first and the details on demand. hint: what is inside, in a few words.
function fold(title, hint, ...body) {
  const id = nextId('sec');
  return h('details', {class: 'card fold', 'data-section': title},
    h('summary', {}, h('h3', {id}, title), hint ? h('span', {class: 'fold-hint'}, hint) : null),
    h('div', {class: 'fold-body', role: 'region', 'aria-labelledby': id}, ...body));
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
    top ? h('p', {class: 'top-cause'}, h('strong', {}, 'Top cause: '), h('code', {}, top.code),
      ` (fails ${top.clients}). `, top.fix ? [h('strong', {}, 'Fix: '), top.fix] : null) :
      h('p', {}, 'Every client passes at this instant.'),
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
        h('td', {class: 'mono'}, intervalText(c.passes_for_true_times), untilNote(r, c.passes_for_true_times)));
    }))));
}

// "Passes until" an OCSP nextUpdate or a CRL's is not the certificate's
// expiry: say which bound ends the span.
function untilNote(r, iv) {
  const to = iv && iv.to ? tms(iv.to) : null;
  if (to === null) return null;
  const ck = (r.checks || []).find((x) => tms(x.bound) === to && /^(ocsp|crl)_/.test(x.kind));
  return ck ? h('div', {class: 'small'}, `ends at ${ck.label} (revocation data, not the certificate's expiry)`) : null;
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

// Trust paths as chains of certificate boxes, the leaf on the left and the
// anchor on the right; each hop says how its signature checked out.
function shortName(dn) {
  const m = /(?:^|,\s*)CN\s*=\s*([^,]+)/.exec(dn || '');
  return m ? m[1] : (dn || '—');
}

function hopBox(hop, i, last) {
  const probs = hop.problems || [];
  const bad = probs.length > 0 || (hop.signature && !/^(ok|valid|anchor|self|not_checked)/.test(hop.signature));
  return h('li', {class: `hop${bad ? ' hop-bad' : ''}${last ? ' hop-anchor' : ''}`, 'data-hop': i},
    h('span', {class: 'hop-subject', title: hop.subject}, shortName(hop.subject)),
    h('span', {class: 'hop-line small'}, `${hop.source}${hop.in_store ? ' · in store' : ''}${hop.cross_sign ? ' · cross-sign' : ''}`),
    h('span', {class: 'hop-line small'}, `signature: ${hop.signature || '—'}`),
    h('span', {class: 'hop-line small mono', title: `${ttext(hop.not_before)} … ${ttext(hop.not_after)}`},
      `${ttext(hop.not_before).slice(0, 10)} … ${ttext(hop.not_after).slice(0, 10)}`),
    probs.length ? h('span', {class: 'hop-line small hop-problems'}, probs.join(', ')) : null);
}

function trust(r) {
  const t = r.trust;
  const paths = t.paths || [];
  const verdicts = t.verdicts || [];
  const stores = (t.stores || []).map((x) => `${x.name} (${x.certificates})`).join(', ');
  return [
    dl([['Stores', stores || '—'],
      ['Host name', t.hostname === null || t.hostname === undefined ? 'not checked' :
        [t.hostname, ' · ', t.hostname_match ? `matches${t.hostname_matched_by ? ` (${t.hostname_matched_by})` : ''}` : h('strong', {}, 'does not match')]],
      verdicts.length ? ['Per clock', h('ul', {class: 'inline'}, verdicts.map((v) =>
        h('li', {}, h('code', {}, v.clock), ' ', verdictBadge(v.pass ? 'pass' : 'fail'),
          v.path !== null && v.path !== undefined ? ` via path #${v.path}` : '',
          v.pass !== v.pass_openssl ? ` (OpenSSL: ${v.pass_openssl ? 'pass' : 'fail'})` : '')))] : null]),
    paths.length === 0 ? h('p', {}, 'No path was built.') :
      h('ol', {class: 'paths'}, paths.map((p) => h('li', {class: 'path', 'data-path': p.index},
        h('p', {class: 'path-head'}, h('strong', {}, `Path #${p.index}: `), p.end,
          p.anchor_store ? ` (anchor in ${p.anchor_store})` : '', ' · ', verdictBadge(p.usable ? 'pass' : 'fail'),
          (p.problems || []).length ? [' ', h('code', {}, p.problems.join(', '))] : null),
        h('ol', {class: 'hops', 'aria-label': `Path #${p.index}, leaf first, anchor last`},
          (p.hops || []).map((hop, i) => hopBox(hop, i, i === p.hops.length - 1))),
        (p.hops || []).some((x) => (x.windows || []).length) ? h('details', {}, h('summary', {}, 'Validity windows per hop and clock'),
          generic(p.hops.map((x) => ({hop: shortName(x.subject), windows: x.windows || []})))) : null))),
    t.truncated ? h('p', {class: 'muted'}, 'More paths exist; the search was cut short.') : null,
  ];
}

/** The page heading of a report: host:port and the leaf's subject. */
export function reportTitle(r) {
  const leaf = ((r.chain || {}).certificates || [])[0];
  const src = (r.input && r.input.source) || '';
  return `${src}${leaf ? ` — ${shortName(leaf.subject)}` : ''}`;
}

function sightings(list) {
  if (!list || list.length === 0) return h('p', {}, 'No connection recorded yet.');
  return connectionsTable(list, false);
}

/** A table of sightings (newest first). withHost: show the host column. */
export function connectionsTable(list, withHost) {
  const cols = ['Time (UTC)', ...(withHost ? ['Server'] : []), 'Client', 'Mode', 'Judged as', 'Verdict', 'What the client did', 'User-Agent'];
  return h('div', {class: 'table-scroll'}, h('table', {class: 'sightings'},
    h('caption', {}, 'Each connection: when, who, the verdict for that client at that instant, and what it did'),
    h('thead', {}, h('tr', {}, cols.map((c) => h('th', {scope: 'col'}, c)))),
    h('tbody', {}, list.map((x) => h('tr', {'data-verdict': x.verdict, 'data-action': x.action, 'data-at-ms': x.at_ms},
      h('td', {class: 'mono'}, h('time', {datetime: x.at, title: x.at}, (x.at || '').replace('T', ' ').replace('Z', ''))),
      withHost ? h('td', {}, x.capture ? h('a', {href: `#/capture/${encodeURIComponent(x.capture)}`}, `${x.host}:${x.port}`) : `${x.host}:${x.port}`) : null,
      h('td', {class: 'mono'}, x.client_addr || '—'),
      h('td', {}, x.mode),
      h('td', {}, x.profile),
      h('td', {}, verdictBadge(x.verdict)),
      h('td', {}, x.action),
      h('td', {class: 'small', title: x.user_agent || null}, x.user_agent ? (x.user_agent.length > 40 ? `${x.user_agent.slice(0, 39)}…` : x.user_agent) : '—'))))));
}

/**
 * Renders a report. opts: {title, subtitle (text or null), replayForm
 * (element or null), downloads (element or null), banner (element or
 * null), sightings (array or undefined)}. Returns {el, timeline}.
 */
export function renderReport(r, opts) {
  const tl = new Timeline(r);
  const nf = (r.findings || []).length;
  const ncerts = ((r.chain || {}).certificates || []).length;
  const toggle = (open) => (e) => {
    for (const d of e.target.closest('article').querySelectorAll('details.fold')) d.open = open;
  };
  const parts = [
    h('h2', {id: 'report-heading', tabindex: '-1'}, opts.title),
    opts.subtitle ? h('p', {class: 'muted small subtitle'}, opts.subtitle) : null,
    opts.banner || null,
    section('Clients', clients(r)),
    h('div', {class: 'toolbar'}, h('button', {type: 'button', id: 'open-all', onclick: toggle(true)}, 'Open every section'),
      h('button', {type: 'button', id: 'close-all', onclick: toggle(false)}, 'Close every section'),
      opts.downloads || null),
    opts.sightings ? fold('Connections', `${opts.sightings.length} recorded, newest first`, sightings(opts.sightings)) : null,
    fold('Summary', 'instant, issuance, clock models', summary(r)),
    fold('Diagnosis', `${nf} finding${nf === 1 ? '' : 's'}, causes first`, findings(r)),
    fold('Timeline', 'failure windows per client over true time', tl.el),
    fold('Offsets', 'per clock model', offsets(r)),
    opts.replayForm ? fold('Replay at other clocks', 'another instant or clock model', opts.replayForm) : null,
    fold('Chain as served', `${ncerts} certificate${ncerts === 1 ? '' : 's'}`, chain(r)),
    r.ct ? fold('Certificate Transparency', `${(r.ct.scts || []).length} SCTs, log list and policy`, ct(r)) : null,
    r.trust ? fold('Trust paths', `${(r.trust.paths || []).length} path(s) to the anchors`, trust(r)) : null,
    r.not_judged && Object.keys(r.not_judged).length ? fold('Not judged', Object.keys(r.not_judged).join(', '), generic(r.not_judged)) : null,
    r.revocation ? fold('Revocation (OCSP and CRL)', 'stapled and fetched', generic(r.revocation)) : null,
    r.enrichment ? fold('Enrichment: stapling probe and fetches', null, generic(r.enrichment)) : null,
    r.capture ? fold('How it was captured (and what the client did)', null, generic(r.capture)) : null,
  ];
  return {el: h('article', {class: 'report', 'aria-labelledby': 'report-heading'}, parts), timeline: tl};
}
