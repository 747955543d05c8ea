// Time and duration formatting. Times are integer milliseconds since the
// epoch (exact in a double up to 2^53); the report's "time" objects carry
// {ms, rfc3339}, ms possibly a decimal string when beyond 2^53.

export const MS = 1, SEC = 1000, MIN = 60 * SEC, HOUR = 60 * MIN, DAY = 24 * HOUR;

/** The ms of a report time object, or null (null or unreadable input). */
export function tms(t) {
  if (t === null || t === undefined) return null;
  if (typeof t === 'number') return t;
  if (typeof t === 'object' && 'ms' in t) {
    // Beyond 2^53 the ms is a decimal string: a float is close enough
    // to place it (far) on the plot; text always uses rfc3339.
    const v = typeof t.ms === 'number' ? t.ms : Number(t.ms);
    return Number.isNaN(v) ? null : v;
  }
  if (typeof t === 'string') {
    const v = Date.parse(t);
    return Number.isNaN(v) ? null : v;
  }
  return null;
}

/** The display text of a report time object (its own RFC 3339 when present). */
export function ttext(t) {
  if (t === null || t === undefined) return '—';
  if (typeof t === 'object' && t.rfc3339) return t.rfc3339;
  if (typeof t === 'string') return t;
  const v = tms(t);
  return v === null ? String(t) : iso(v);
}

function pad(n, w) {
  return String(n).padStart(w, '0');
}

/** RFC 3339 UTC with milliseconds, for any ms a Date can hold. */
export function iso(ms) {
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return String(ms);
  return d.toISOString();
}

/** Tick label for a tick step: ms shown once the step is below a second. */
export function tickLabel(ms, step) {
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return '';
  const hh = pad(d.getUTCHours(), 2), mm = pad(d.getUTCMinutes(), 2), ss = pad(d.getUTCSeconds(), 2);
  if (step < SEC) return `${hh}:${mm}:${ss}.${pad(d.getUTCMilliseconds(), 3)}`;
  if (step < MIN) return `${hh}:${mm}:${ss}`;
  if (step < DAY) return `${hh}:${mm}`;
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}`;
}

/** "1h 2m 3.004s", "-90 ms", "3d 4h". */
export function duration(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  const sign = ms < 0 ? '-' : '';
  let a = Math.abs(ms);
  if (a < SEC) return `${sign}${a} ms`;
  const parts = [];
  const d = Math.floor(a / DAY); a -= d * DAY;
  const hr = Math.floor(a / HOUR); a -= hr * HOUR;
  const m = Math.floor(a / MIN); a -= m * MIN;
  if (d) parts.push(`${d}d`);
  if (hr) parts.push(`${hr}h`);
  if (m) parts.push(`${m}m`);
  if (a) parts.push(a % SEC ? `${(a / SEC).toFixed(3)}s` : `${a / SEC}s`);
  if (d >= 10) return sign + parts.slice(0, 2).join(' ');
  return sign + parts.join(' ');
}

/** Interval text: "[from, to)" with unbounded ends. */
export function intervalText(iv) {
  if (iv === null || iv === undefined) return 'never';
  const f = iv.from === null ? '−∞' : ttext(iv.from);
  const t = iv.to === null ? '+∞' : ttext(iv.to);
  return `[${f}, ${t})`;
}

/** Relative age of an instant against now, for "seen 3 s ago". */
export function ago(ms, now) {
  const d = now - ms;
  if (d < 0) return 'just now';
  if (d < MIN) return `${Math.round(d / SEC)} s ago`;
  if (d < HOUR) return `${Math.round(d / MIN)} min ago`;
  if (d < DAY) return `${Math.round(d / HOUR)} h ago`;
  return `${Math.round(d / DAY)} d ago`;
}
