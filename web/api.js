// The proxy's local JSON API (same origin as this page).

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function parse(resp) {
  const text = await resp.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch (e) {
    throw new ApiError(resp.status, `HTTP ${resp.status}: the answer is not JSON`);
  }
  if (!resp.ok) {
    const msg = body && typeof body.error === 'string' ? body.error : `HTTP ${resp.status}`;
    throw new ApiError(resp.status, msg);
  }
  return body;
}

export function captureUrl(id, file) {
  return `/api/captures/${encodeURIComponent(id)}/${file}`;
}

export async function listCaptures() {
  return parse(await fetch('/api/captures', {cache: 'no-store'}));
}

export async function getReport(id) {
  return parse(await fetch(captureUrl(id, 'report'), {cache: 'no-store'}));
}

export async function replay(capture, clocks, at) {
  const body = {capture, clocks};
  if (at) body.at = at;
  return parse(await fetch('/api/replay', {
    method: 'POST',
    headers: {'Content-Type': 'application/json'},
    body: JSON.stringify(body),
  }));
}

/** The capture's metadata with its sightings (newest first). */
export async function getCapture(id) {
  return parse(await fetch(`/api/captures/${encodeURIComponent(id)}`, {cache: 'no-store'}));
}

/** The latest connections across captures, newest first. */
export async function listSightings(limit) {
  return parse(await fetch(`/api/sightings?limit=${limit}`, {cache: 'no-store'}));
}

/** Deletes every capture. The header is what a cross-site form cannot send. */
export async function clearStore() {
  return parse(await fetch('/api/captures', {method: 'DELETE', headers: {'X-Certskew-Confirm': 'clear'}}));
}
