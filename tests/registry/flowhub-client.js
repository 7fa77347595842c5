// Drives npm flowhub-registry 0.2.0 (the reference client of Flowhub's
// runtime registry) for tests/tests/registry_server.rs:
//
//   node flowhub-client.js HOST OP TOKEN RUNTIME_JSON
//
// OP: register | ping | get | list | del; TOKEN "-" for none. Prints one
// JSON line: {"ok": RESULT} or {"error": MESSAGE, "status": HTTP_STATUS}.
const registry = require('flowhub-registry');

const [host, op, token, json] = process.argv.slice(2);
const tok = token === '-' ? null : token;
const given = JSON.parse(json || '{}');
const runtime = () => new registry.Runtime(given, { host });

function done(err, result) {
  if (err) {
    const body = err.response ? err.response.body : null;
    console.log(JSON.stringify({ error: err.message, status: err.status || null, body }));
    return;
  }
  console.log(JSON.stringify({ ok: result === undefined ? null : result }));
}

switch (op) {
  case 'register':
    runtime().register(tok, (err, res) => done(err, res && { status: res.status, body: res.body }));
    break;
  case 'ping':
    runtime().ping((err) => done(err, null));
    break;
  case 'get':
    runtime().get(tok, (err, got) => done(err, got));
    break;
  case 'list':
    registry.list(tok, { host }, (err, list) => done(err, list && list.map((r) => r.runtime)));
    break;
  case 'del':
    runtime().del(tok, (err, res) => done(err, res ? { status: res.status } : null));
    break;
  default:
    console.log(JSON.stringify({ error: `unknown op ${op}` }));
}
