// The timeline: true time on the x axis; one row per check and clock model
// with the check's failure window (fails_for_true_times) shaded, plus one
// "all checks" row per clock (the complement of passes_for_true_times).
// The issuance estimate and the judged instant are marked. Zoom runs from
// decades down to a few milliseconds; tick labels show ms below 1 s steps.
import {h, s, clear, nextId} from './dom.js';
import {tms, ttext, tickLabel, iso, duration, intervalText, MS, SEC, MIN, HOUR, DAY} from './format.js';

const W = 1000;            // viewBox width
const LABEL_W = 250;       // label column
const PLOT_X0 = LABEL_W + 10;
const PLOT_X1 = W - 14;
const PLOT_W = PLOT_X1 - PLOT_X0;
const ROW_H = 18;
const TOP = 48;            // room for the top axis and the marker labels
const AXIS_H = 40;
const MIN_SPAN = 4 * MS;
const MAX_SPAN = 400 * 365 * DAY;

const STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500,
  SEC, 2 * SEC, 5 * SEC, 10 * SEC, 15 * SEC, 30 * SEC,
  MIN, 2 * MIN, 5 * MIN, 10 * MIN, 15 * MIN, 30 * MIN,
  HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR,
  DAY, 2 * DAY, 7 * DAY, 14 * DAY, 30 * DAY, 91 * DAY, 182 * DAY,
  365 * DAY, 2 * 365 * DAY, 5 * 365 * DAY, 10 * 365 * DAY, 25 * 365 * DAY, 50 * 365 * DAY,
  100 * 365 * DAY];

const PRESETS = [
  ['1 year', 365 * DAY], ['1 month', 30 * DAY], ['1 day', DAY], ['1 hour', HOUR],
  ['1 minute', MIN], ['10 s', 10 * SEC], ['1 s', SEC], ['100 ms', 100], ['10 ms', 10],
];

// Widest tick label for a step, in viewBox units (10.5px monospace):
// ticks are spaced so that labels never touch.
function labelWidth(step) {
  const chars = step < SEC ? 12 : step < MIN ? 8 : step < DAY ? 5 : 10;
  return chars * 6.4 + 12;
}

function tickStep(span) {
  for (const st of STEPS) if (span / st <= 8 && PLOT_W / Math.max(span / st, 1) >= labelWidth(st)) return st;
  return STEPS[STEPS.length - 1];
}

/** Edge text for data attributes: the ms, or -inf/+inf for unbounded ends. */
function edgeAttr(t, lower) {
  const v = tms(t);
  if (v === null) return lower ? '-inf' : '+inf';
  return typeof t === 'object' && typeof t.ms === 'string' ? t.ms : String(v);
}

const REVOCATION = /^(ocsp|crl)_/;

/**
 * The rows to draw, from the report: one per client profile (its failure
 * windows, from clients[]), then with checks on: one per check and clock,
 * the certificate's checks first and the OCSP/CRL validity apart. Rows
 * without a failure window are left out unless all is set.
 */
function rowsOf(report, withChecks, all) {
  const rows = [];
  const clients = report.clients || [];
  for (const c of clients) {
    const wins = c.fails_for_true_times || [];
    if (!all && wins.length === 0 && c.verdict_at_instant !== 'fail') continue;
    rows.push({type: 'client', label: `${c.name} · ${c.verdict_at_instant === 'fail' ? 'FAIL' : 'pass'} at the instant`,
      clock: c.name, windows: wins, failsAt: c.verdict_at_instant === 'fail'});
  }
  // Reports without client profiles (schema v1): one row per clock.
  if (clients.length === 0) {
    for (const c of report.clocks || []) {
      const iv = c.passes_for_true_times;
      const wins = [];
      if (iv === null) wins.push({from: null, to: null});
      else {
        if (iv.from !== null) wins.push({from: null, to: iv.from});
        if (iv.to !== null) wins.push({from: iv.to, to: null});
      }
      if (!all && wins.length === 0) continue;
      rows.push({type: 'chain', label: `all checks · ${c.clock}`, clock: c.clock, windows: wins,
        failsAt: c.verdict_at === 'fail'});
    }
  }
  if (!withChecks) return rows;
  const checks = report.checks || [];
  const groups = [checks.filter((c) => !REVOCATION.test(c.kind)), checks.filter((c) => REVOCATION.test(c.kind))];
  groups.forEach((group, gi) => {
    const shown = [];
    for (const ck of group) {
      const sub = (ck.per_clock || []).filter((pc) => all || pc.fails_for_true_times)
        .map((pc) => ({type: 'clock', label: pc.clock, clock: pc.clock, check: ck, revocation: gi === 1,
          windows: pc.fails_for_true_times ? [pc.fails_for_true_times] : [], failsAt: pc.fails_at}));
      if (sub.length === 0) continue;
      shown.push({type: 'check', label: ck.label, check: ck}, ...sub);
    }
    if (shown.length === 0) return;
    rows.push({type: 'group', label: gi === 0 ? 'Certificate checks' : 'OCSP / CRL validity (not the certificate’s)'}, ...shown);
  });
  return rows;
}

/** Every finite instant worth fitting in the view. */
function instantsOf(report) {
  const out = [];
  const add = (t) => { const v = tms(t); if (v !== null && Number.isFinite(v)) out.push(v); };
  add(report.issuance && report.issuance.estimate);
  add(report.input && report.input.at);
  for (const ck of report.checks || []) add(ck.bound);
  return out;
}

export class Timeline {
  constructor(report) {
    this.report = report;
    this.withChecks = false;
    this.all = false;
    this.rows = rowsOf(report, this.withChecks, this.all);
    this.issuance = tms(report.issuance && report.issuance.estimate);
    this.at = tms(report.input && report.input.at);
    const center = this.issuance ?? this.at ?? Date.now();
    let span = MIN;
    if (this.issuance !== null && this.at !== null)
      span = Math.min(Math.max(3 * Math.abs(this.at - this.issuance), 10 * SEC), 2 * DAY);
    this.setView(center - span / 2, center + span / 2);
    this.el = this.build();
    this.draw();
  }

  setView(from, to) {
    let span = to - from;
    const mid = from + span / 2;
    span = Math.min(Math.max(span, MIN_SPAN), MAX_SPAN);
    this.from = mid - span / 2;
    this.to = mid + span / 2;
  }

  x(t) {
    return PLOT_X0 + ((t - this.from) / (this.to - this.from)) * PLOT_W;
  }

  zoom(factor, anchor) {
    const a = anchor ?? (this.from + this.to) / 2;
    this.setView(a - (a - this.from) * factor, a + (this.to - a) * factor);
    this.draw();
  }

  pan(fraction) {
    const d = (this.to - this.from) * fraction;
    this.setView(this.from + d, this.to + d);
    this.draw();
  }

  centerOn(t, span) {
    const sp = span ?? this.to - this.from;
    this.setView(t - sp / 2, t + sp / 2);
    this.draw();
  }

  fit() {
    const xs = instantsOf(this.report);
    if (xs.length === 0) return;
    const lo = Math.min(...xs), hi = Math.max(...xs);
    const pad = Math.max((hi - lo) * 0.05, SEC);
    this.setView(lo - pad, hi + pad);
    this.draw();
  }

  build() {
    const titleId = nextId('tl-title'), descId = nextId('tl-desc'), helpId = nextId('tl-help');
    this.svg = s('svg', {
      class: 'timeline', viewBox: `0 0 ${W} 100`, role: 'img', tabindex: '0',
      'aria-labelledby': titleId, 'aria-describedby': `${descId} ${helpId}`,
    });
    this.svgTitle = s('title', {id: titleId}, 'Failure windows by check and clock model');
    this.svgDesc = s('desc', {id: descId});
    this.layer = s('g', {});
    this.svg.append(this.svgTitle, this.svgDesc, this.layer);

    this.caption = h('p', {class: 'tl-caption', 'aria-live': 'polite'});
    const btn = (label, fn, extra) => h('button', {type: 'button', onclick: fn, ...extra}, label);
    const zoomBar = h('div', {class: 'toolbar', role: 'group', 'aria-label': 'Zoom and pan'},
      btn('Zoom in', () => this.zoom(0.25), {'aria-keyshortcuts': '+'}),
      btn('Zoom out', () => this.zoom(4), {'aria-keyshortcuts': '-'}),
      btn('← Earlier', () => this.pan(-0.5), {'aria-keyshortcuts': 'ArrowLeft'}),
      btn('Later →', () => this.pan(0.5), {'aria-keyshortcuts': 'ArrowRight'}),
      btn('Fit all', () => this.fit(), {'aria-keyshortcuts': '0'}),
      this.issuance !== null ? btn('Center on issuance', () => this.centerOn(this.issuance)) : null,
      this.at !== null ? btn('Center on judged instant', () => this.centerOn(this.at)) : null);
    const spanBar = h('div', {class: 'toolbar', role: 'group', 'aria-label': 'Visible span'},
      h('span', {class: 'group-label', 'aria-hidden': 'true'}, 'Span:'),
      PRESETS.map(([label, span]) => btn(label, () => this.centerOn((this.from + this.to) / 2, span),
        {'data-span-ms': span, 'aria-label': `Show ${label} around the center`})));
    this.checksBtn = btn('Show checks', () => this.toggle('withChecks'), {'aria-pressed': 'false', id: 'tl-checks'});
    this.allBtn = btn('Show all rows', () => this.toggle('all'), {'aria-pressed': 'false', id: 'tl-all'});
    this.hiddenNote = h('span', {class: 'muted small'});
    const rowBar = h('div', {class: 'toolbar', role: 'group', 'aria-label': 'Rows'},
      h('span', {class: 'group-label', 'aria-hidden': 'true'}, 'Rows:'), this.checksBtn, this.allBtn, this.hiddenNote);
    const goId = nextId('tl-go');
    this.goInput = h('input', {id: goId, type: 'text', size: 28, spellcheck: 'false',
      placeholder: '2026-11-23T21:03:03.157Z', autocomplete: 'off'});
    this.goError = h('span', {class: 'field-error', role: 'alert'});
    const goForm = h('form', {class: 'toolbar go', onsubmit: (e) => { e.preventDefault(); this.goTo(); }},
      h('label', {for: goId}, 'Center on time (RFC 3339)'), this.goInput,
      h('button', {type: 'submit'}, 'Go'), this.goError);
    const help = h('p', {id: helpId, class: 'hint'},
      'Shaded bars are the true times at which a check fails for a clock model. ',
      'With the plot focused: + and − zoom, ← and → pan, 0 fits everything; the mouse wheel zooms at the pointer and dragging pans.');

    this.svg.addEventListener('keydown', (e) => {
      const k = e.key;
      if (k === '+' || k === '=') this.zoom(0.5);
      else if (k === '-' || k === '_') this.zoom(2);
      else if (k === 'ArrowLeft') this.pan(-0.2);
      else if (k === 'ArrowRight') this.pan(0.2);
      else if (k === '0') this.fit();
      else return;
      e.preventDefault();
    });
    this.svg.addEventListener('wheel', (e) => {
      const t = this.timeAtClientX(e.clientX);
      if (t === null) return;
      e.preventDefault();
      this.zoom(e.deltaY > 0 ? 1.25 : 0.8, t);
    }, {passive: false});
    let drag = null;
    this.svg.addEventListener('pointerdown', (e) => {
      if (this.timeAtClientX(e.clientX) === null) return;
      drag = {x: e.clientX, from: this.from, to: this.to};
      this.svg.setPointerCapture(e.pointerId);
    });
    this.svg.addEventListener('pointermove', (e) => {
      if (!drag) return;
      const r = this.svg.getBoundingClientRect();
      const dt = ((e.clientX - drag.x) / r.width) * W / PLOT_W * (drag.to - drag.from);
      this.setView(drag.from - dt, drag.to - dt);
      this.draw();
    });
    const end = () => { drag = null; };
    this.svg.addEventListener('pointerup', end);
    this.svg.addEventListener('pointercancel', end);

    this.table = h('div', {class: 'tl-table'});
    return h('div', {class: 'timeline-wrap'}, rowBar, zoomBar, spanBar, goForm, help, this.caption,
      h('div', {class: 'svg-box'}, this.svg),
      h('details', {}, h('summary', {}, 'The same failure windows as a table'), this.table));
  }

  toggle(which) {
    this[which] = !this[which];
    this.checksBtn.setAttribute('aria-pressed', String(this.withChecks));
    this.checksBtn.textContent = this.withChecks ? 'Hide checks' : 'Show checks';
    this.allBtn.setAttribute('aria-pressed', String(this.all));
    this.allBtn.textContent = this.all ? 'Only rows that fail' : 'Show all rows';
    this.rows = rowsOf(this.report, this.withChecks, this.all);
    this.draw();
  }

  timeAtClientX(cx) {
    const r = this.svg.getBoundingClientRect();
    if (r.width === 0) return null;
    const vx = ((cx - r.left) / r.width) * W;
    if (vx < PLOT_X0 || vx > PLOT_X1) return null;
    return this.from + ((vx - PLOT_X0) / PLOT_W) * (this.to - this.from);
  }

  goTo() {
    const v = Date.parse(this.goInput.value.trim());
    if (Number.isNaN(v)) {
      this.goInput.setAttribute('aria-invalid', 'true');
      this.goError.textContent = 'Not an RFC 3339 time, e.g. 2026-11-23T21:03:03.157Z';
      return;
    }
    this.goInput.removeAttribute('aria-invalid');
    this.goError.textContent = '';
    this.centerOn(v);
  }

  draw() {
    if (!this.layer) return;
    const g = clear(this.layer);
    const rows = this.rows.length ? this.rows : [{type: 'empty', label: 'no failure in any row'}];
    const plotH = rows.length * ROW_H;
    const H = TOP + plotH + AXIS_H;
    this.svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
    this.svg.dataset.viewFromMs = String(this.from);
    this.svg.dataset.viewToMs = String(this.to);
    const span = this.to - this.from;
    const clampX = (x) => Math.min(Math.max(x, PLOT_X0), PLOT_X1);

    g.append(s('rect', {class: 'plot-bg', x: PLOT_X0, y: TOP, width: PLOT_W, height: plotH}));
    // Ticks and grid.
    const step = tickStep(span);
    const ticks = s('g', {class: 'axis', 'aria-hidden': 'true'});
    const first = Math.ceil(this.from / step) * step;
    for (let t = first, n = 0; t <= this.to && n < 20; t += step, n++) {
      const x = this.x(t);
      ticks.append(s('line', {class: 'grid', x1: x, x2: x, y1: TOP, y2: TOP + plotH}));
      // The axis at the bottom and again at the top: a tall plot shows
      // its times wherever it is scrolled.
      for (const [y, where] of [[TOP + plotH + 14, 'bottom'], [12, 'top']])
        ticks.append(s('text', {class: `tick tick-${where}`, x, y, 'text-anchor': 'middle', 'data-ms': t},
          tickLabel(t, step)));
    }
    ticks.append(s('text', {class: 'axis-note', x: PLOT_X0, y: TOP + plotH + 32},
      `UTC from ${iso(Math.round(this.from))} · span ${duration(Math.round(span))} · tick ${duration(step)}`));
    g.append(ticks);

    // Rows.
    rows.forEach((row, i) => {
      const y = TOP + i * ROW_H;
      const rg = s('g', {class: `row row-${row.type}`});
      if (i % 2 === 1) rg.append(s('rect', {class: 'stripe', x: 0, y, width: W, height: ROW_H}));
      const indent = row.type === 'clock' ? 18 : 4;
      if (row.type === 'group' || row.type === 'empty') {
        rg.append(s('text', {class: 'row-label row-group', x: 4, y: y + ROW_H - 5}, row.label));
        g.append(rg);
        return;
      }
      const label = row.label.length > 34 ? `${row.label.slice(0, 33)}…` : row.label;
      rg.append(s('text', {class: 'row-label', x: indent, y: y + ROW_H - 5}, label,
        s('title', {}, row.label)));
      if (row.type === 'check') {
        const b = tms(row.check.bound);
        if (b !== null && b >= this.from && b <= this.to) {
          const x = this.x(b);
          rg.append(s('path', {class: 'bound', d: `M${x} ${y + 3} l5 6 l-5 6 l-5 -6 z`},
            s('title', {}, `${row.check.label}: bound ${ttext(row.check.bound)} (${row.check.requires})`)));
        }
      }
      for (const w of row.windows || []) {
        const f = tms(w.from), t = tms(w.to);
        const x0 = clampX(f === null ? -Infinity : this.x(f));
        const x1 = clampX(t === null ? Infinity : this.x(t));
        const width = Math.max(x1 - x0, 0);
        const attrs = {
          class: `fail ${row.type === 'chain' || row.type === 'client' ? 'fail-chain' : ''}${row.revocation ? ' fail-rev' : ''}${width === 0 ? ' offscreen' : ''}`,
          x: x0, y: y + 2, width, height: ROW_H - 4,
          'data-clock': row.clock, 'data-from-ms': edgeAttr(w.from, true), 'data-to-ms': edgeAttr(w.to, false),
          'data-kind': row.type === 'chain' || row.type === 'client' ? row.type : 'check',
        };
        if (row.check) {
          attrs['data-check-id'] = row.check.id;
          attrs['data-check-label'] = row.check.label;
          attrs['data-failure-code'] = row.check.failure_code;
        }
        const what = row.check ? `${row.check.label} (${row.check.failure_code})` : 'some check';
        const title = row.type === 'client' ? `client ${row.clock} fails at true times ${intervalText(w)}` :
          `${what} fails for clock ${row.clock} at true times ${intervalText(w)}`;
        rg.append(s('rect', attrs, s('title', {}, title)));
      }
      g.append(rg);
    });
    g.append(s('line', {class: 'plot-edge', x1: PLOT_X0, x2: PLOT_X0, y1: TOP, y2: TOP + plotH}));

    // Markers across every row; labels side by side when close, never on
    // top of each other.
    const marks = [[this.issuance, 'issuance', 'issued'], [this.at, 'at', 'judged at']]
      .filter(([t]) => t !== null && t >= this.from && t <= this.to).sort((a, b) => a[0] - b[0]);
    const close = marks.length === 2 && this.x(marks[1][0]) - this.x(marks[0][0]) < 80;
    marks.forEach(([t, cls, text], i) => {
      const x = this.x(t);
      let anchor = x > PLOT_X1 - 80 ? 'end' : x < PLOT_X0 + 40 ? 'start' : 'middle';
      let tx = x;
      if (close) { anchor = i === 0 ? 'end' : 'start'; tx = i === 0 ? x - 3 : x + 3; }
      g.append(s('g', {class: `marker ${cls}`, 'data-ms': t},
        s('line', {x1: x, x2: x, y1: TOP - 12, y2: TOP + plotH}),
        s('text', {x: tx, y: TOP - 16, 'text-anchor': anchor}, text),
        s('title', {}, `${text}: ${iso(t)}`)));
    });
    const hidden = rowsOf(this.report, this.withChecks, true).length - this.rows.length;
    this.hiddenNote.textContent = hidden > 0 && !this.all ? `${hidden} row${hidden === 1 ? '' : 's'} without a failure hidden` : '';

    const nFail = rows.filter((r) => r.windows && r.windows.length).length;
    this.svgDesc.textContent =
      `True time from ${iso(Math.round(this.from))} to ${iso(Math.round(this.to))}. ` +
      `${rows.filter((r) => r.type === 'check').length} checks, ${(this.report.clocks || []).length} clock models, ` +
      `${nFail} rows with a failure window. ` +
      (this.issuance !== null ? `Issuance estimated at ${iso(this.issuance)}. ` : '') +
      (this.at !== null ? `Judged at ${iso(this.at)}.` : '');
    this.caption.textContent = `Showing ${duration(Math.round(span))} from ${iso(Math.round(this.from))}.`;
    this.drawTable();
  }

  drawTable() {
    if (this.table.firstChild) return; // the windows do not depend on the view
    const body = h('tbody');
    for (const ck of this.report.checks || []) {
      for (const pc of ck.per_clock || []) {
        body.append(h('tr', {},
          h('th', {scope: 'row'}, ck.label), h('td', {}, pc.clock), h('td', {}, ck.failure_code),
          h('td', {class: 'mono'}, intervalText(pc.fails_for_true_times)),
          h('td', {}, pc.fails_at === null ? '—' : pc.fails_at ? 'fails' : 'passes')));
      }
    }
    this.table.append(h('table', {},
      h('caption', {}, 'Failure windows of true time, half-open [from, to)'),
      h('thead', {}, h('tr', {}, ['Check', 'Clock', 'Code', 'Fails for true times', 'At the judged instant']
        .map((c) => h('th', {scope: 'col'}, c)))), body));
  }
}
