// Runs what a developer copies from the dashboard as they would: a curl example in bash,
// the SDK example as an ES module under Node with @dream-api/client installed (a link to
// this checkout's sdk/typescript, built by the test command's SDK step, or here).

import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFile as execFileCallback } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFile = promisify(execFileCallback);
const SDK = fileURLToPath(new URL('../../sdk/typescript', import.meta.url));
const TIMEOUT_MS = 20_000;

// useSdk(): before the file's tests, makes sure the SDK's package points at a built
// dist/ (building it if not), and returns a function giving a project directory whose
// node_modules/@dream-api/client is that package.
export function useSdk() {
  let project;
  before(async () => {
    const pkg = JSON.parse(readFileSync(join(SDK, 'package.json'), 'utf8'));
    assert.equal(pkg.name, '@dream-api/client');
    const entry = pkg.exports?.['.']?.default;
    assert.ok(entry, 'sdk/typescript/package.json exports "." for import');
    if (!existsSync(join(SDK, entry))) {
      await execFile('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: SDK, timeout: 180_000 });
      await execFile('npm', ['run', '--silent', 'build'], { cwd: SDK, timeout: 180_000 });
    }
    assert.ok(existsSync(join(SDK, entry)), `the SDK is built (${entry})`);
    project = mkdtempSync(join(tmpdir(), 'dream-snippets-'));
    mkdirSync(join(project, 'node_modules', '@dream-api'), { recursive: true });
    symlinkSync(SDK, join(project, 'node_modules', '@dream-api', 'client'), 'dir');
  });
  after(() => {
    if (project) rmSync(project, { recursive: true, force: true });
  });
  return () => project;
}

// The environment a snippet runs in: this process's, with DREAM_API_KEY as given (or
// left out, so that a snippet with the key written in cannot lean on it).
function environment(apiKey) {
  const env = { ...process.env };
  delete env.DREAM_API_KEY;
  if (apiKey) env.DREAM_API_KEY = apiKey;
  return env;
}

async function run(file, args, options, what) {
  try {
    return await execFile(file, args, { timeout: TIMEOUT_MS, maxBuffer: 1 << 20, ...options });
  } catch (error) {
    assert.fail(`${what} failed (${error.killed ? `killed after ${TIMEOUT_MS} ms` : `exit ${error.code}`}):\n${error.stdout}${error.stderr}`);
  }
}

// runCurl TEXT [API_KEY]: runs TEXT with bash; returns the JSON it printed.
export async function runCurl(text, apiKey) {
  const { stdout } = await run('bash', ['-c', text], { env: environment(apiKey) }, `the curl example\n${text}\n`);
  try {
    return JSON.parse(stdout);
  } catch {
    return assert.fail(`the curl example printed no JSON: ${stdout}`);
  }
}

// runSdk PROJECT NAME TEXT [API_KEY]: runs TEXT as NAME.mjs in PROJECT with Node; returns
// what it printed.
export async function runSdk(project, name, text, apiKey) {
  const file = join(project, `${name}.mjs`);
  writeFileSync(file, text);
  const { stdout } = await run(process.execPath, [file], { cwd: project, env: environment(apiKey) }, `the SDK example\n${text}\n`);
  return stdout;
}

// A track the API allowed, as the curl example prints it.
export function assertAllowedJson(answer, what) {
  assert.equal(answer.allowed, true, `${what} is allowed: ${JSON.stringify(answer)}`);
  assert.equal(answer.userId, 'user_123', `${what} meters user_123`);
}

// A track the API allowed, as the SDK example prints it: the result's verdict
// ("allowed", then the usage) or the result itself (console.log of it, or its JSON);
// never a refusal, nor a fail-open answer given without the API.
export function assertAllowedPrinted(printed, what) {
  assert.match(printed, /^allowed\b|["']?allowed["']?\s*:\s*true/m, `${what} prints an allowed track: ${printed}`);
  assert.doesNotMatch(printed, /refused|allowed["']?\s*:\s*false/, `${what} is not refused: ${printed}`);
  assert.doesNotMatch(printed, /degraded["']?\s*:\s*true/, `${what} reached the API: ${printed}`);
}
