// Writes the API reference served at /docs into the dashboard's build:
//   node frontend/docs/build.mjs RENDERER_DIR OUT_DIR
// RENDERER_DIR holds the pinned renderer (node_modules/redoc, installed by setup from
// frontend/docs/package-lock.json); OUT_DIR is frontend/dist/docs. Each worker's OpenAPI
// document is copied to openapi/NAME.json and rendered by NAME/index.html; index.html
// is the quickstart, whose five lines and example apps are read from the README and
// examples/ at build time, so the page never drifts from them.

import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
const [rendererDir, out] = process.argv.slice(2);
if (!rendererDir || !out) {
  console.error('usage: node frontend/docs/build.mjs RENDERER_DIR OUT_DIR');
  process.exit(2);
}

// The three documents, in the order a developer needs them.
const DOCUMENTS = [
  { name: 'api', label: 'API', source: 'workers/api/src/openapi.json',
    blurb: 'what your server calls with its API key: tiers, tracking usage, end-users, checkout, webhooks, the request log.' },
  { name: 'platform-auth', label: 'Dashboard backend', source: 'workers/platform-auth/src/openapi.json',
    blurb: "the dashboard's backend, called with the developer's Clerk session: credentials, the plan, and the platform's tiers, usage and webhooks." },
  { name: 'stripe-oauth', label: 'Stripe Connect', source: 'workers/stripe-oauth/src/openapi.json',
    blurb: "connecting the developer's own Stripe account (OAuth or Account Links), and disconnecting it." },
];

// The example apps and the file that holds each one's whole integration.
const EXAMPLES = [
  { dir: 'express', main: 'server.js', title: 'Express (Node)' },
  { dir: 'hono-worker', main: 'src/index.ts', title: 'Hono on Cloudflare Workers' },
  { dir: 'axum', main: 'src/main.rs', title: 'axum (Rust)' },
];

const escape = (text) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
// Markdown's inline code and links, the only markup the examples' first paragraphs use.
const inline = (markdown) => escape(markdown)
  .replace(/`([^`]+)`/g, '<code>$1</code>')
  .replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, '$1');
const read = (path) => readFileSync(join(ROOT, path), 'utf8');
const fill = (template, values) => template.replace(/@([A-Z_]+)@/g, (all, key) => {
  if (!(key in values)) throw new Error(`no value for ${all}`);
  return values[key];
});

// The README's first TypeScript block under "## Five lines".
function fiveLines(readme) {
  const section = readme.split(/^## Five lines$/m)[1];
  const block = section?.match(/^```ts\n([\s\S]*?)^```$/m);
  if (!block) throw new Error('README.md has no ```ts block under "## Five lines"');
  return block[1].replace(/\n$/, '');
}

// An example README's first paragraph after its title.
function firstParagraph(readme) {
  const paragraph = readme.split(/\n\s*\n/).find((part) => !part.startsWith('#'));
  return paragraph.replace(/\s*\n\s*/g, ' ').trim();
}

function nav(current) {
  const links = DOCUMENTS.map(({ name, label }) => ({ href: `/docs/${name}/`, label, current: name === current }));
  links.push({ href: '/docs/#quickstart', label: 'Quickstart', current: false }, { href: '/', label: 'Dashboard', current: false });
  return links.map(({ href, label, current: here }) =>
    `<li><a href="${href}"${here ? ' aria-current="page"' : ''}>${escape(label)}</a></li>`).join('');
}

// Redoc's side menu shows Redocly's logo from their CDN; the reference loads nothing
// from elsewhere (its Content Security Policy allows images from itself only), so the
// copy shows an empty image in its place. Exactly one such address, or the build stops:
// a new version of the renderer is looked at again.
const LOGO = '"https://cdn.redoc.ly/redoc/logo-mini.svg"';
const NO_LOGO = '"data:image/svg+xml,%3Csvg xmlns=\'http://www.w3.org/2000/svg\' width=\'1\' height=\'1\'/%3E"';

mkdirSync(join(out, 'openapi'), { recursive: true });
const bundle = join(rendererDir, 'node_modules', 'redoc', 'bundles');
const renderer = readFileSync(join(bundle, 'redoc.standalone.js'), 'utf8');
if (renderer.split(LOGO).length !== 2 || /https:\/\/cdn\./.test(renderer.replace(LOGO, ''))) {
  throw new Error(`redoc.standalone.js: expected exactly one CDN address, ${LOGO}`);
}
writeFileSync(join(out, 'redoc.standalone.js'), renderer.replace(LOGO, NO_LOGO));
copyFileSync(join(bundle, 'redoc.standalone.js.LICENSE.txt'), join(out, 'redoc.standalone.js.LICENSE.txt'));
copyFileSync(join(HERE, 'docs.css'), join(out, 'docs.css'));

const reference = readFileSync(join(HERE, 'reference.html'), 'utf8');
for (const { name, source } of DOCUMENTS) {
  const document = read(source);
  const { info } = JSON.parse(document);
  writeFileSync(join(out, 'openapi', `${name}.json`), document);
  mkdirSync(join(out, name), { recursive: true });
  writeFileSync(join(out, name, 'index.html'), fill(reference, { TITLE: escape(info.title), NAME: name, NAV: nav(name) }));
}

const list = DOCUMENTS.map(({ name, label, source, blurb }) => {
  const { info } = JSON.parse(read(source));
  return `<li><a href="/docs/${name}/">${escape(label)}</a> (<code>${escape(info.title)}</code>): ${escape(blurb)}</li>`;
}).join('\n      ');

const examples = EXAMPLES.map(({ dir, main, title }) => {
  const about = inline(firstParagraph(read(`examples/${dir}/README.md`)));
  const code = escape(read(`examples/${dir}/${main}`).replace(/\n$/, ''));
  return `<article class="example" aria-labelledby="example-${dir}">
        <h3 id="example-${dir}">${escape(title)}</h3>
        <p>${about}</p>
        <details>
          <summary><code>examples/${dir}/${main}</code></summary>
          <pre data-testid="example-${dir}" data-source="examples/${dir}/${main}"><code>${code}</code></pre>
        </details>
      </article>`;
}).join('\n      ');

const index = readFileSync(join(HERE, 'index.html'), 'utf8');
writeFileSync(join(out, 'index.html'), fill(index, {
  NAV: nav(null), LIST: list, FIVE_LINES: escape(fiveLines(read('README.md'))), EXAMPLES: examples,
}));
console.log(`API reference: ${DOCUMENTS.map((d) => `/docs/${d.name}/`).join(', ')} and the quickstart at /docs/`);
