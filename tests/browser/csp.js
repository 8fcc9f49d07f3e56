// What the Content Security Policy tests share: the policy as a map of directives, the
// _headers file scripts/workers.sh writes for a config.json (and the policy Pages gives
// a path from it), and a watch on every page of a context for policy violations.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

// "default-src 'none'; script-src 'self'" → { 'default-src': ["'none'"], 'script-src': ["'self'"] }.
export function parsePolicy(header) {
  assert.ok(header, 'the answer carries a Content-Security-Policy');
  const policy = {};
  for (const directive of header.split(';').map((d) => d.trim()).filter(Boolean)) {
    const [name, ...sources] = directive.split(/\s+/);
    assert.ok(!(name in policy), `${name} appears once in the policy`);
    policy[name] = sources;
  }
  return policy;
}

// The _headers scripts/workers.sh's write_dashboard_headers writes beside CONFIG (a
// config.json as an object), as its rules: [{ path, set: { name: value }, unset: [name] }].
export function dashboardHeaders(config) {
  const dir = mkdtempSync(join(tmpdir(), 'dream-headers-'));
  try {
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
    const run = spawnSync('bash', ['-c', 'source "$DREAM_ROOT/scripts/workers.sh" && write_dashboard_headers "$1"', 'headers', dir],
      { env: { ...process.env, DREAM_ROOT: ROOT }, encoding: 'utf8' });
    assert.equal(run.status, 0, `write_dashboard_headers failed: ${run.stderr}`);
    return parseHeaders(readFileSync(join(dir, '_headers'), 'utf8'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function parseHeaders(text) {
  const rules = [];
  for (const line of text.split('\n').filter((l) => l.trim())) {
    if (!/^\s/.test(line)) {
      rules.push({ path: line.trim(), set: {}, unset: [] });
    } else if (line.trim().startsWith('! ')) {
      rules.at(-1).unset.push(line.trim().slice(2).toLowerCase());
    } else {
      const at = line.indexOf(':');
      rules.at(-1).set[line.slice(0, at).trim().toLowerCase()] = line.slice(at + 1).trim();
    }
  }
  return rules;
}

// The headers Pages sends with PATH under RULES: each matching rule in order removes what
// it unsets, then adds what it sets.
export function headersFor(rules, path) {
  const headers = {};
  for (const rule of rules) {
    const pattern = new RegExp(`^${rule.path.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
    if (!pattern.test(path)) continue;
    for (const name of rule.unset) delete headers[name];
    for (const [name, value] of Object.entries(rule.set)) headers[name] = headers[name] ? `${headers[name]}, ${value}` : value;
  }
  return headers;
}

// Watches every page of CONTEXT (opened now or later) for Content Security Policy
// violations, as the page itself sees them (its securitypolicyviolation events) and as
// Chromium reports them in the console. Call before the first page opens.
export async function watchPolicy(context) {
  const violations = [];
  await context.exposeBinding('__dreamPolicyViolation', ({ frame }, v) => violations.push({ ...v, page: frame.url() }));
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__dreamPolicyViolation({ directive: e.effectiveDirective, blocked: e.blockedURI, source: e.sourceFile, line: e.lineNumber, sample: e.sample });
    });
  });
  const watch = (page) => page.on('console', (msg) => {
    if (/Content Security Policy/i.test(msg.text())) violations.push({ console: msg.text(), page: page.url() });
  });
  context.on('page', watch);
  for (const page of context.pages()) watch(page);
  return {
    violations,
    assertNone(what) {
      assert.deepEqual(violations, [], `${what} met no Content Security Policy violation`);
    },
  };
}
