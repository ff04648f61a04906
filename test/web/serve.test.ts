// `gupsim serve`: static files of the built page, on 127.0.0.1 only, nothing outside its root.
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { serve } from '../../src/cli/serve.js';

function get(port: number, path: string, host = `127.0.0.1:${port}`, method = 'GET'): Promise<{ status: number; type: string; body: string }> {
  return new Promise((ok, fail) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers: { host } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => ok({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body }));
    });
    req.on('error', fail);
    req.end();
  });
}

test('serve binds 127.0.0.1 only and serves the site', async () => {
  const root = mkdtempSync(join(tmpdir(), 'gupsim-web-'));
  mkdirSync(join(root, 'assets'));
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>t</title>');
  writeFileSync(join(root, 'assets', 'a.js'), 'export {};');
  writeFileSync(join(root, '..', 'secret.txt'), 'no');
  const s = await serve({ root, port: 0 });
  try {
    const addr = s.server.address();
    assert.ok(addr && typeof addr === 'object');
    assert.equal(addr.address, '127.0.0.1');
    const index = await get(s.port, '/');
    assert.equal(index.status, 200);
    assert.match(index.type, /^text\/html/);
    const js = await get(s.port, '/assets/a.js');
    assert.equal(js.status, 200);
    assert.match(js.type, /^text\/javascript/);
    assert.equal((await get(s.port, '/nope.js')).status, 404);
    // Nothing outside the root, however the path is spelled.
    for (const p of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt']) {
      const r = await get(s.port, p);
      assert.ok(r.status === 403 || r.status === 404, `${p}: ${r.status}`);
      assert.notEqual(r.body, 'no');
    }
    // A page on another origin cannot reach it through DNS rebinding: the Host must be loopback.
    assert.equal((await get(s.port, '/', 'evil.example:80')).status, 403);
    assert.equal((await get(s.port, '/', `localhost:${s.port}`)).status, 200);
    assert.equal((await get(s.port, '/', undefined, 'POST')).status, 405);
  } finally {
    await s.close();
  }
});
