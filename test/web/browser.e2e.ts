// The visualiser in a real browser: Debian's Chromium, headless, driven by playwright-core, against
// the built page (web/dist) served by `gupsim serve` on 127.0.0.1. Run with `npm run test:web`
// (it builds the page first). Screenshots go to test-artifacts/web/.
//
// Expected values come from the kernel's rules, not from the model's output: PKRU at exec is
// 0x55555554 (key 0 open, keys 1..15 access-disabled); pkey_alloc(0, PKEY_DISABLE_WRITE) returns key
// 1 and sets its WD bit in the caller's PKRU only; pkey_mprotect on one page splits the VMA and
// writes the key into bits 62..59 of the PTE; fork shares anonymous pages write-protected
// (mapcount 2) and copies the caller's PKRU; a write by one side gives it its own copy; a local GUP
// consults the caller's PKRU, a remote one none. Only addresses (where mmap put the mapping) and
// pids are read from the page.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { serve, type Serving } from '../../src/cli/serve.js';
import { longScenario } from './fixtures.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const DIST = join(ROOT, 'web', 'dist');
const ART = join(ROOT, 'test-artifacts', 'web');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const TOUR = readFileSync(join(ROOT, 'web', 'examples', 'tour.scn'), 'utf8');
const TOUR_STEPS = TOUR.split('\n').filter((l) => /^\s*(A|B|kworker)\s*:/.test(l)).length;

const INIT_PKRU = 0x55555554;
const PKEY_DISABLE_WRITE = 0x2;
const hex8 = (v: number): string => '0x' + (v >>> 0).toString(16).padStart(8, '0');
/** The state label of key k in a PKRU value, as the page writes it (AD wins over WD). */
function keyState(pkru: number, k: number): string {
  const b = (pkru >>> (2 * k)) & 3;
  return b === 0 ? 'open' : b === 1 ? 'AD' : b === 2 ? 'WD' : 'AD+WD';
}
const expectedCells = (pkru: number): string[] => Array.from({ length: 16 }, (_, k) => keyState(pkru, k));
const AFTER_ALLOC = ((INIT_PKRU & ~(3 << 2)) | (PKEY_DISABLE_WRITE << 2)) >>> 0;

if (!existsSync(CHROMIUM)) {
  throw new Error(`Chromium not found at ${CHROMIUM}: the browser test needs Debian's Chromium (apt-get update && apt-get install -y chromium), or set CHROMIUM_PATH`);
}
if (!existsSync(join(DIST, 'index.html'))) {
  throw new Error(`${DIST}/index.html missing: build the page first (npm run build:web; npm run test:web does both)`);
}

let server: Serving;
let ctx: BrowserContext;
let page: Page;
let userDir: string;
const requests: string[] = [];
const problems: string[] = [];

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(ART, `${name}.png`) });
}

async function stepInfo(p: Page = page): Promise<number> {
  return Number(await p.locator('#stepinfo').getAttribute('data-step'));
}

/** Step with the keyboard (→ / ←) until step n is shown. */
async function stepTo(n: number): Promise<void> {
  await page.locator('#top h1').click();
  for (let guard = 0; guard < 2000; guard++) {
    const cur = await stepInfo();
    if (cur === n) return;
    await page.keyboard.press(cur < n ? 'ArrowRight' : 'ArrowLeft');
  }
  throw new Error(`could not reach step ${n}`);
}

function proc(label: string) {
  return page.locator(`.proc[data-label="${label}"]`);
}

async function cells(label: string): Promise<string[]> {
  return proc(label).locator('.thread').first().locator('.pk').evaluateAll((els) => els.map((e) => e.getAttribute('data-state') ?? ''));
}

async function vmas(label: string): Promise<{ start: number; end: number; perms: string; pkey: number }[]> {
  return proc(label).locator('.vma').evaluateAll((els) => els.map((e) => ({
    start: Number(e.getAttribute('data-start')), end: Number(e.getAttribute('data-end')),
    perms: e.getAttribute('data-perms') ?? '', pkey: Number(e.getAttribute('data-pkey')),
  })));
}

async function walkRows(): Promise<{ level: string; value: bigint; pkey: number }[]> {
  const rows = await page.locator('#walk tr[data-level]').evaluateAll((els) => els.map((e) => ({
    level: e.getAttribute('data-level') ?? '', value: e.getAttribute('data-value') ?? '0', pkey: Number(e.getAttribute('data-pkey')),
  })));
  return rows.map((r) => ({ ...r, value: BigInt(r.value) }));
}

async function frame(): Promise<{ pfn: string; refcount: number; mapcount: number; pincount: number; mappers: { label: string; text: string }[]; kernelRefs: number }> {
  const f = page.locator('#walk .frame[data-pfn]');
  await f.waitFor();
  const n = async (attr: string): Promise<number> => Number(await f.locator(`[data-${attr}]`).getAttribute(`data-${attr}`));
  const kernelRefs = Number((await f.locator('dt:text-is("kernel refs") + dd').textContent()) ?? NaN);
  return {
    pfn: (await f.getAttribute('data-pfn')) ?? '',
    refcount: await n('refcount'), mapcount: await n('mapcount'), pincount: await n('pincount'), kernelRefs,
    mappers: await f.locator('.mappers li').evaluateAll((els) => els.map((e) => ({ label: e.getAttribute('data-label') ?? '', text: e.textContent ?? '' }))),
  };
}

/** Walk an address of a process by typing it (this also stops following the step). */
async function walk(label: string, addr: number): Promise<void> {
  const tgid = await proc(label).getAttribute('data-tgid');
  await page.selectOption('#walktask', tgid!);
  await page.fill('#walkaddr', '0x' + addr.toString(16));
  await page.press('#walkaddr', 'Enter');
  await page.locator(`#walk .walk-head:has-text("0x${addr.toString(16)}")`).waitFor();
}

async function decisive(): Promise<{ result: string; text: string }> {
  const d = page.locator('#trace .decisive-summary');
  return { result: (await d.getAttribute('data-result')) ?? '', text: (await d.textContent()) ?? '' };
}

async function logRow(n: number): Promise<string> {
  return (await page.locator(`.log-row[data-step="${n}"]`).textContent()) ?? '';
}

/** Boxes of the elements matching `sel` that intersect (by more than half a pixel). */
async function overlaps(sel: string): Promise<string[]> {
  return page.locator(sel).evaluateAll((els) => {
    const out: string[] = [];
    const boxes = els.map((e) => e.getBoundingClientRect()).map((r) => ({ l: r.left, r: r.right, t: r.top, b: r.bottom }));
    for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < boxes.length; j++) {
        const a = boxes[i]!;
        const b = boxes[j]!;
        if (Math.min(a.r, b.r) - Math.max(a.l, b.l) > 0.5 && Math.min(a.b, b.b) - Math.max(a.t, b.t) > 0.5) {
          out.push(`${els[i]!.className || els[i]!.tagName} #${i} / ${els[j]!.className || els[j]!.tagName} #${j}`);
        }
      }
    }
    return out;
  });
}

describe('web visualiser in Chromium', () => {
  let p = 0; // where the tour's mmap put its mapping

  before(async () => {
    rmSync(ART, { recursive: true, force: true });
    mkdirSync(ART, { recursive: true });
    server = await serve({ root: DIST, port: 0 });
    userDir = mkdtempSync(join(tmpdir(), 'gupsim-chromium-'));
    ctx = await chromium.launchPersistentContext(userDir, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1280, height: 800 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    });
    page = ctx.pages()[0] ?? await ctx.newPage();
    page.on('request', (r) => requests.push(r.url()));
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
    });
  });

  after(async () => {
    await ctx?.close();
    await server?.close();
    if (userDir) rmSync(userDir, { recursive: true, force: true });
  });

  it('is served on 127.0.0.1 and loads without errors', async () => {
    const a = server.server.address();
    assert.ok(a && typeof a === 'object' && a.address === '127.0.0.1');
    await page.goto(server.url);
    await page.locator('html[data-ready="true"]').waitFor();
    assert.match(await page.title(), /gupsim/);
    assert.ok(await page.locator('.cm-editor').isVisible());
    await shot('01-load');
  });

  it('opens the tour example at step 0: PKRU at exec is 0x55555554', async () => {
    await page.selectOption('#examples', 'tour');
    await page.locator('#stepinfo', { hasText: `step 0 / ${TOUR_STEPS}` }).waitFor();
    assert.equal(await page.locator('.cm-content').evaluate((e) => (e.textContent ?? '').slice(0, 20)), TOUR.replace(/\n/g, '').slice(0, 20));
    assert.deepEqual(await cells('A'), expectedCells(INIT_PKRU));
    assert.deepEqual(await cells('A'), ['open', ...Array<string>(15).fill('AD')]);
    assert.equal(await proc('A').locator('.thread').first().getAttribute('data-pkru'), hex8(INIT_PKRU));
    await shot('02-tour-step0');
  });

  it('steps with the keyboard: pkey_alloc(0, PKEY_DISABLE_WRITE) makes key 1 WD', async () => {
    await stepTo(2);
    p = Number(/= (0x[0-9a-f]+)\s*$/.exec((await logRow(2)).split('\n')[0]!.trim())?.[1] ?? /= (0x[0-9a-f]+)/.exec(await logRow(2))?.[1]);
    assert.ok(p > 0 && p % 4096 === 0, `mmap address ${p}`);
    await stepTo(4);
    assert.deepEqual(await cells('A'), expectedCells(INIT_PKRU));
    await stepTo(5);
    assert.match(await logRow(5), /pkey_alloc\(0, PKEY_DISABLE_WRITE\) = 1/);
    assert.deepEqual(await cells('A'), expectedCells(AFTER_ALLOC));
    assert.equal((await cells('A'))[1], 'WD');
    assert.equal(await proc('A').locator('.thread').first().getAttribute('data-pkru'), hex8(AFTER_ALLOC));
    await shot('03-step05-pkey-alloc');
  });

  it('pkey_mprotect splits the VMA and the walk shows key 1 in the PTE', async () => {
    await stepTo(6);
    const v = (await vmas('A')).filter((x) => x.start >= p && x.end <= p + 0x4000);
    assert.deepEqual(v, [
      { start: p, end: p + 0x1000, perms: 'rw-p', pkey: 1 },
      { start: p + 0x1000, end: p + 0x4000, perms: 'rw-p', pkey: 0 },
    ]);
    // The walk follows the step: p, four levels, the leaf with key 1 in bits 62..59.
    assert.equal(await page.inputValue('#walkaddr'), '0x' + p.toString(16));
    const rows = await walkRows();
    assert.deepEqual(rows.map((r) => r.level), ['PGD', 'PUD', 'PMD', 'PTE']);
    for (const r of rows) assert.equal(r.value & 0x7n, 0x7n, `${r.level}: P, RW, US`);
    const pte = rows[3]!;
    assert.equal((pte.value >> 59n) & 0xfn, 1n);
    assert.equal(pte.pkey, 1);
    assert.match(await page.locator('#walk tr[data-level="PTE"] .pkey-leaf').textContent() ?? '', /PKEY\[62:59\]=0001/);
    const f = await frame();
    assert.equal(f.pfn, '0x' + ((pte.value >> 12n) & 0xffffffffffn).toString(16));
    assert.deepEqual([f.refcount, f.mapcount, f.pincount], [1, 1, 0]);
    await shot('04-step06-walk-pkey');
  });

  it('a write to key 1 faults with SEGV_PKUERR; the trace marks the PKRU check', async () => {
    await stepTo(8);
    assert.match(await page.locator('#status').textContent() ?? '', /SIGSEGV SEGV_PKUERR pkey=1/);
    assert.match(await logRow(8), new RegExp(`si_code=SEGV_PKUERR, si_addr=0x${p.toString(16)}, si_pkey=1`));
    const d = await decisive();
    assert.equal(d.result, 'deny');
    assert.match(d.text, new RegExp(hex8(AFTER_ALLOC)));
    assert.equal(await page.locator('#trace li.decisive').count(), 1);
    await shot('05-step08-pkuerr-trace');
  });

  it('fork shares the pages write-protected and copies PKRU', async () => {
    await stepTo(9);
    assert.equal(await page.locator('.proc').count() >= 2, true);
    assert.deepEqual(await cells('B'), expectedCells(AFTER_ALLOC));
    assert.deepEqual((await vmas('B')).map((x) => [x.start, x.end, x.pkey]), (await vmas('A')).map((x) => [x.start, x.end, x.pkey]));
    await walk('A', p + 0x1000);
    const f = await frame();
    assert.deepEqual([f.mapcount, f.refcount], [2, 2]);
    assert.deepEqual(f.mappers.map((m) => m.label).sort(), ['A', 'B']);
    for (const m of f.mappers) assert.match(m.text, /read-only/);
    assert.equal(await page.isChecked('#follow'), false);
    await shot('06-step09-fork-shared');
  });

  it('a write by the child gives it its own copy (COW)', async () => {
    await stepTo(10);
    await page.locator('#walk .walk-head:has-text("A ")').waitFor();
    const a = await frame();
    assert.equal(a.mapcount, 1);
    assert.deepEqual(a.mappers.map((m) => m.label), ['A']);
    await walk('B', p + 0x1000);
    const b = await frame();
    assert.equal(b.mapcount, 1);
    assert.notEqual(b.pfn, a.pfn);
    await shot('07-step10-cow-copy');
  });

  it('a pipe holds a reference to a spliced page', async () => {
    await stepTo(12);
    await walk('A', p + 0x1000);
    const f = await frame();
    assert.deepEqual([f.refcount, f.mapcount, f.kernelRefs], [2, 1, 1]);
  });

  it('local GUP consults the caller\'s PKRU; remote GUP consults none', async () => {
    await page.check('#follow');
    await stepTo(13);
    assert.match(await logRow(13), /get_user_pages\(.*FOLL_WRITE\) = -1 EFAULT/);
    const pidA = await proc('A').getAttribute('data-tgid');
    let d = await decisive();
    assert.equal(d.result, 'deny');
    assert.match(d.text, new RegExp(`PKRU of pid ${pidA} = ${hex8(AFTER_ALLOC)}`));
    await stepTo(14);
    d = await decisive();
    assert.equal(d.result, 'bypass');
    assert.match(d.text, /No PKRU consulted/);
    assert.match(d.text, /foreign/);
    await shot('08-step14-remote-gup');
  });

  it('steps back in time: every earlier state comes back', async () => {
    await stepTo(5);
    assert.equal(await proc('B').count(), 0);
    assert.deepEqual((await vmas('A')).filter((x) => x.start >= p && x.end <= p + 0x4000).map((x) => [x.start, x.end, x.pkey]), [[p, p + 0x4000, 0]]);
    assert.deepEqual(await cells('A'), expectedCells(AFTER_ALLOC));
    await page.keyboard.press('Home');
    assert.equal(await stepInfo(), 0);
    assert.deepEqual(await cells('A'), expectedCells(INIT_PKRU));
    await page.keyboard.press('End');
    assert.equal(await stepInfo(), TOUR_STEPS);
    // In the editor the arrows edit; Alt+arrows step, once per press.
    await page.locator('.cm-content').click();
    await page.keyboard.press('Alt+ArrowLeft');
    assert.equal(await stepInfo(), TOUR_STEPS - 1);
    await page.keyboard.press('Alt+ArrowRight');
    assert.equal(await stepInfo(), TOUR_STEPS);
    // Clicking a log line jumps to its step.
    await page.locator('.log-row[data-step="3"]').click();
    assert.equal(await stepInfo(), 3);
    assert.match(await page.locator('#status').textContent() ?? '', /Step 3/);
  });

  it('keeps the scenario, the step and the selection in the URL', async () => {
    await walk('A', p);
    await page.click('#share'); // "Copy link" writes the URL at once (otherwise it follows after a pause)
    await page.waitForFunction("location.hash.includes('step=3') && location.hash.includes('sel=')");
    const url = page.url();
    assert.match(url, /#.*src=/);
    assert.match(url, /step=3/);
    const second = await ctx.newPage();
    try {
      await second.goto(url);
      await second.locator('html[data-ready="true"]').waitFor();
      assert.equal(await stepInfo(second), 3);
      assert.equal(await second.inputValue('#walkaddr'), '0x' + p.toString(16));
      assert.equal(await second.locator('.cm-content').evaluate((e) => (e.textContent ?? '').slice(0, 20)), TOUR.replace(/\n/g, '').slice(0, 20));
      assert.equal(await second.locator('#walk .frame[data-pfn]').getAttribute('data-pfn'), await page.locator('#walk .frame[data-pfn]').getAttribute('data-pfn'));
    } finally {
      await second.close();
    }
  });

  it('shows parse errors inline with their message and position', async () => {
    const lines = TOUR.endsWith('\n') ? TOUR.split('\n').length : TOUR.split('\n').length + 1;
    await page.locator('.cm-content').click();
    await page.keyboard.press('Control+End');
    await page.keyboard.type('A: mmap(NULL, 4096');
    const problem = page.locator('#problem');
    await problem.waitFor({ state: 'visible' });
    let text = (await problem.textContent()) ?? '';
    assert.match(text, new RegExp(`:${lines}:\\d+: error: unexpected end of line`));
    assert.ok(await page.locator('.cm-lintRange-error').count() > 0);
    await shot('09-parse-error');
    // A misspelt step name: the message and its hint.
    for (let i = 0; i < 'A: mmap(NULL, 4096'.length; i++) await page.keyboard.press('Backspace');
    await page.keyboard.type('A: mmapp(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)');
    await page.locator('#problem:has-text("mmapp")').waitFor();
    text = (await problem.textContent()) ?? '';
    assert.match(text, new RegExp(`:${lines}:4: error: unknown step 'mmapp'`));
    assert.match(text, /did you mean mmap\?/);
    await shot('10-name-error');
    // Undoing the typing clears the error and the run comes back.
    for (let i = 0; i < 20 && (await problem.isVisible()); i++) {
      await page.keyboard.press('Control+z');
      await page.waitForTimeout(100);
    }
    await problem.waitFor({ state: 'hidden' });
    assert.equal(await page.locator('.cm-content').evaluate((e) => e.textContent), TOUR.replace(/\n/g, ''));
    assert.equal(await page.locator('.cm-lintRange-error').count(), 0);
  });

  it('is readable at 1280x800: nothing overflows or overlaps', async () => {
    await page.locator('.log-row[data-step="9"]').click();
    await walk('A', p + 0x1000);
    const size = await page.evaluate<{ w: number; h: number; iw: number; ih: number }>('({ w: document.documentElement.scrollWidth, h: document.documentElement.scrollHeight, iw: innerWidth, ih: innerHeight })');
    assert.ok(size.w <= size.iw && size.h <= size.ih, `page scrolls: ${JSON.stringify(size)}`);
    for (const sel of ['#procs', '#right', '#log', '#top']) {
      const o = await page.locator(sel).evaluate((e) => ({ sw: e.scrollWidth, cw: e.clientWidth }));
      assert.ok(o.sw <= o.cw + 1, `${sel} overflows sideways: ${JSON.stringify(o)}`);
    }
    for (const sel of ['#top > *:visible', '.proc[data-label="A"] .thread:first-child .pk', '.proc[data-label="A"] .vma:first-child > *', '#walk tr[data-level="PTE"] > *', '.frame-counts > *', 'main > section']) {
      assert.deepEqual(await overlaps(sel), [], sel);
    }
    // Colour is never the only carrier: key cells and VMAs have text labels.
    assert.deepEqual(await proc('A').locator('.thread').first().locator('.pk i').allTextContents(), expectedCells(AFTER_ALLOC).map((s) => (s === 'open' ? 'rw' : s)));
    assert.ok((await proc('A').locator('.vma .key-badge').allTextContents()).every((t) => /^k\d+$/.test(t)));
    await shot('11-layout-1280x800');
  });

  it('runs the model in the page: only static files come from the server', () => {
    const origin = server.url.replace(/\/$/, '');
    const foreign = requests.filter((u) => !u.startsWith(origin) && !u.startsWith('data:'));
    assert.deepEqual(foreign, []);
    const dynamic = requests.filter((u) => u.startsWith(origin) && !/\/(index\.html)?(#.*)?$|\/assets\/[^/]+\.(js|css)$/.test(u));
    assert.deepEqual(dynamic, []);
    assert.deepEqual(problems, []);
  });

  // Timing is measured and reported (artifacts perf.json, the README), never asserted: on a shared
  // machine a timed assertion fails for reasons that are not the code's.
  it('steps a 1,000-step scenario forward and back, reporting the time per step', async () => {
    const src = longScenario(1000);
    const frag = '#src=' + Buffer.from(src, 'utf8').toString('base64url');
    const before = requests.length;
    await page.goto(server.url + 'index.html' + frag);
    await page.reload();
    await page.locator('html[data-ready="true"]').waitFor();
    assert.equal(await page.locator('#stepinfo').textContent(), 'step 0 / 1000');
    // Three rounds (Reset between them) of: 1,000 steps forward (each runs on the model, is
    // snapshotted and rendered), 1,000 back (time travel: an earlier snapshot rendered), 1,000
    // forward again (recorded steps). Each step is timed from the call to the end of style and
    // layout. The per-step minimum over the rounds filters out pauses caused by other processes
    // on a shared machine; the first round is reported as measured too.
    // (A string, so the test's compiler cannot add helpers the page does not have.)
    const rounds = await page.evaluate<{ first: number[]; back: number[]; again: number[] }[]>(`(() => {
      const app = window.gupsim;
      const run = (f, n) => {
        const t = [];
        for (let i = 0; i < n; i++) {
          const t0 = performance.now();
          f();
          void document.body.offsetHeight; // style and layout of the new state
          t.push(performance.now() - t0);
        }
        return t;
      };
      const out = [];
      for (let k = 0; k < 3; k++) {
        if (k > 0) app.reset();
        const first = run(() => app.step(), 1000);
        const back = run(() => app.back(), 1000);
        const again = run(() => app.step(), 1000);
        out.push({ first, back, again });
      }
      return out;
    })()`);
    assert.equal(await stepInfo(), 1000);
    const stat = (t: number[]) => {
      const s = [...t].sort((a, b) => a - b);
      const q = (f: number) => s[Math.min(s.length - 1, Math.floor(f * s.length))]!;
      return { median: +q(0.5).toFixed(2), p95: +q(0.95).toFixed(2), max: +s[s.length - 1]!.toFixed(2), mean: +(t.reduce((a, b) => a + b, 0) / t.length).toFixed(2) };
    };
    const minOf = (k: 'first' | 'back' | 'again') => rounds[0]![k].map((_, i) => Math.min(...rounds.map((r) => r[k][i]!)));
    const report = {
      scenario: '1000 steps (test/web/fixtures.ts longScenario)', viewport: '1280x800', chromium: ctx.browser()?.version() ?? '?',
      perStepMinOf3Rounds: { forwardFirstRun: stat(minOf('first')), back: stat(minOf('back')), forwardAgain: stat(minOf('again')) },
      firstRoundAsMeasured: { forwardFirstRun: stat(rounds[0]!.first), back: stat(rounds[0]!.back), forwardAgain: stat(rounds[0]!.again) },
    };
    writeFileSync(join(ART, 'perf.json'), JSON.stringify(report, null, 2) + '\n');
    console.log(`step times (ms): ${JSON.stringify(report)}`);
    await shot('12-perf-1000-steps');
    for (const r of rounds) assert.deepEqual([r.first.length, r.back.length, r.again.length], [1000, 1000, 1000]);
    assert.equal(requests.slice(before).filter((u) => !u.startsWith(server.url)).length, 0);
  });
});
