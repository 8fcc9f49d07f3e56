// axe-core in a page: the serious and critical violations it finds there.

import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const FAILING = new Set(['serious', 'critical']);

// The serious and critical violations axe finds on the page as it stands (the page's
// context must bypass its Content-Security-Policy, so that axe can be added to it).
export async function audit(page) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.addScriptTag({ path: AXE });
  const { passed, violations } = await page.evaluate(async () => {
    const results = await window.axe.run(document, { resultTypes: ['violations'] });
    return {
      passed: results.passes.length,
      violations: results.violations
        .map(({ id, impact, help, nodes }) => ({ id, impact, help, targets: nodes.map((node) => node.target.join(' ')) })),
    };
  });
  assert.ok(passed > 0, 'axe checked the page (some rules passed)');
  return violations.filter((violation) => FAILING.has(violation.impact));
}

// Each violation in one line: "NAME: rule (impact) help: targets".
export const describeViolations = (name, violations) => violations
  .map((v) => `${name}: ${v.id} (${v.impact}) ${v.help}: ${v.targets.join(', ')}`);
