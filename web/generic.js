// Renders any JSON value readably: objects as definition lists, arrays of
// flat objects as tables, report time objects as their RFC 3339 text. Used
// for report sections this page has no dedicated view for (trust,
// revocation, and whatever later schema versions add).
import {h} from './dom.js';

function isTime(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v) &&
    'rfc3339' in v && 'ms' in v && Object.keys(v).length === 2;
}

function isScalar(v) {
  return v === null || typeof v !== 'object' || isTime(v);
}

function scalarText(v) {
  if (v === null) return '—';
  if (isTime(v)) return v.rfc3339;
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  return String(v);
}

export function humanKey(k) {
  return String(k).replace(/_/g, ' ');
}

const MAX_DEPTH = 8;

export function generic(v, depth = 0) {
  if (isScalar(v)) return h('span', {class: typeof v === 'string' && v.length > 40 ? 'mono wrap' : ''}, scalarText(v));
  if (depth > MAX_DEPTH) return h('span', {}, '…');
  if (Array.isArray(v)) {
    if (v.length === 0) return h('span', {class: 'muted'}, 'none');
    if (v.every(isScalar)) return h('span', {}, v.map(scalarText).join(', '));
    const flat = v.every((o) => o && typeof o === 'object' && !Array.isArray(o) &&
      Object.values(o).every((x) => isScalar(x) || (Array.isArray(x) && x.every(isScalar))));
    if (flat) {
      const cols = [...new Set(v.flatMap((o) => Object.keys(o)))];
      return h('div', {class: 'table-scroll'}, h('table', {class: 'generic'},
        h('thead', {}, h('tr', {}, cols.map((c) => h('th', {scope: 'col'}, humanKey(c))))),
        h('tbody', {}, v.map((o) => h('tr', {}, cols.map((c) => h('td', {},
          c in o ? generic(o[c], depth + 1) : '')))))));
    }
    return h('ol', {class: 'generic'}, v.map((x) => h('li', {}, generic(x, depth + 1))));
  }
  const entries = Object.entries(v);
  if (entries.length === 0) return h('span', {class: 'muted'}, 'none');
  return h('dl', {class: 'generic'}, entries.map(([k, x]) => [
    h('dt', {}, humanKey(k)), h('dd', {}, generic(x, depth + 1))]));
}
