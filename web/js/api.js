// JSON API client (docs/API.md). Every error answer of the node is
// {"error", "message"} (FHIR routes: an OperationOutcome); ApiError carries
// the status and the node's sentence, which the pages show as is.
export class ApiError extends Error {
  constructor(status, name, message, body) {
    super(message || `${status} ${name || 'error'}`);
    this.status = status;
    this.name_ = name;
    this.body = body;
  }
}

export function errorText(body, status) {
  if (!body || typeof body !== 'object') return `the node answered ${status}`;
  if (body.message) return body.message;
  if (body.resourceType === 'OperationOutcome' && body.issue && body.issue[0]) {
    const i = body.issue[0];
    return i.diagnostics || (i.details && i.details.text) || i.code || `the node answered ${status}`;
  }
  return `the node answered ${status}`;
}

export async function parse(res) {
  const text = await res.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch { body = { message: text.slice(0, 300) }; }
  if (!res.ok) throw new ApiError(res.status, body && body.error, errorText(body, res.status), body);
  return body;
}

export async function get(path) {
  return parse(await fetch(path, { headers: { Accept: 'application/json' } }));
}

let statusCache;
export async function status(fresh = false) {
  if (!statusCache || fresh) statusCache = get('/v1/status');
  return statusCache;
}

export async function account(keyHex) {
  try {
    return await get(`/v1/account/${keyHex}`);
  } catch (e) {
    if (e.status === 404) return null;
    throw e;
  }
}

let orgsCache;
export async function orgs() {
  if (!orgsCache) orgsCache = get('/v1/orgs').then((o) => o.organisations || []);
  return orgsCache;
}

export async function orgName(id) {
  const list = await orgs();
  const o = list.find((x) => x.id === Number(id));
  return o ? o.name : `organisation ${id}`;
}

// The node's route index (GET / as JSON): which optional parts of the API
// (research) this node has.
let routesCache;
export async function routes() {
  if (!routesCache) routesCache = get('/').then((r) => (r.routes || []).map((x) => `${x.method} ${x.path}`));
  return routesCache;
}

export async function hasRoute(prefix) {
  return (await routes()).some((r) => r.includes(prefix));
}
