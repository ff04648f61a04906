// Steps that look at state (what a program reads from /proc, or what only the model can show) and
// machine-level setup steps.
import { walkForDisplay } from '../../hw/mmu.js';
import { PTE_P, PTE_PROTNONE, decodePte, pteHex } from '../../hw/pte.js';
import { ZERO_PFN } from '../../mm/page.js';
import { vmaPermString, type Vma } from '../../mm/vma.js';
import type { FieldValue } from '../outcome.js';
import { p, registerStep, type RunCtx, type StepResult } from '../registry.js';
import { formatArg, quoteBytes } from '../strace.js';

const EEXIST = 17;

function vmaAt(ctx: RunCtx, addr: number): Vma | null {
  const mm = ctx.self().task.mm;
  return mm ? mm.vmaLookup(addr) : null;
}

registerStep({
  name: 'maps', kind: 'query', result: 'int',
  params: [],
  run: (ctx) => ({ ret: 0, text: ctx.self().maps() }),
  strace: (c) => `maps()${c.retText} /* /proc/${c.thread?.pid ?? 'self'}/maps */`,
  doc: 'maps(): /proc/self/maps (expect line("$p-$p+0x1000 rw-p") or contains("[stack]"))',
});

registerStep({
  name: 'vma', kind: 'query', result: 'int', fields: ['start', 'end', 'perms', 'pkey'],
  params: [p('addr', 'addr', 'ptr')],
  run: (ctx, a): StepResult => {
    const v = vmaAt(ctx, a.num('addr'));
    if (!v) return { ret: -1, cErrno: 0 };
    return {
      ret: 0,
      fields: { start: { addr: BigInt(v.start) }, end: { addr: BigInt(v.end) }, perms: vmaPermString(v.flags), pkey: v.pkey },
      info: { vm_flags: '0x' + v.vmFlags().toString(16) },
    };
  },
  strace: (c) => `vma(${formatArg(c.args.value('addr'), 'ptr', 'addr')})${c.retText}` +
    (c.res.fields ? ` /* ${Object.entries(c.res.fields).map(([k, v]) => `${k}=${typeof v === 'object' ? '0x' + v.addr.toString(16) : String(v)}`).join(' ')} */` : ' /* no VMA */'),
  doc: 'vma(addr): the mapping holding addr, from /proc/self/maps and smaps (fields start, end, perms, pkey); -1 if none',
});

registerStep({
  name: 'smaps', kind: 'query', result: 'int', fields: ['Size', 'Rss', 'Pss', 'Anonymous', 'ProtectionKey'],
  params: [p('addr', 'addr', 'ptr')],
  run: (ctx, a): StepResult => {
    const v = vmaAt(ctx, a.num('addr'));
    if (!v) return { ret: -1, cErrno: 0 };
    const head = v.start.toString(16).padStart(8, '0') + '-';
    const blocks = ctx.self().smaps().split(/\n(?=[0-9a-f]+-[0-9a-f]+ )/);
    const block = blocks.find((b) => b.startsWith(head)) ?? '';
    const fields: Record<string, FieldValue> = {};
    for (const line of block.split('\n').slice(1)) {
      const m = /^([A-Za-z_]+):\s+(\d+)(?: kB)?$/.exec(line);
      if (m) fields[m[1]!] = Number(m[2]);
    }
    return { ret: 0, fields, text: block.trimEnd() + '\n' };
  },
  strace: (c) => `smaps(${formatArg(c.args.value('addr'), 'ptr', 'addr')})${c.retText}`,
  doc: 'smaps(addr): the smaps entry of the mapping holding addr (fields Rss, Pss, Anonymous, ProtectionKey, ... in kB)',
});

registerStep({
  name: 'pagemap', kind: 'query', result: 'int', fields: ['present', 'zero_page'],
  params: [p('addr', 'addr', 'ptr')],
  run: (ctx, a): StepResult => {
    const pte = ctx.self().pte(a.num('addr'));
    const present = pte !== null && (pte.lo & (PTE_P | PTE_PROTNONE)) !== 0;
    return {
      ret: 0,
      fields: { present: present ? 1 : 0, zero_page: present && pte.pfn === ZERO_PFN ? 1 : 0 },
      info: present ? { pfn: '0x' + pte.pfn.toString(16) } : {},
    };
  },
  strace: (c) => `pagemap(${formatArg(c.args.value('addr'), 'ptr', 'addr')})${c.retText} /* present=${String(c.res.fields?.present)}${c.res.fields?.zero_page ? ' (the zero page)' : ''} */`,
  doc: 'pagemap(addr): /proc/self/pagemap for the page (fields present, zero_page)',
});

registerStep({
  name: 'pte', kind: 'query', result: 'int', modelOnly: true, fields: ['present', 'pkey'],
  params: [p('addr', 'addr', 'ptr')],
  run: (ctx, a): StepResult => {
    const t = ctx.self();
    const mm = t.task.mm;
    if (!mm) return { ret: -1, cErrno: 0 };
    const walk = walkForDisplay(ctx.m.mem, mm.pgd, a.num('addr'));
    const text = walk.map((w) => `${w.level}[${String(w.index).padStart(3)}] table pfn 0x${w.tablePfn.toString(16)}: ${pteHex(w.lo, w.hi)}  ${decodePte(w.lo, w.hi)}`).join('\n') + '\n';
    const leaf = walk.length === 4 ? walk[3]! : null;
    const present = leaf !== null && (leaf.lo & PTE_P) !== 0;
    return {
      ret: 0, text,
      fields: { present: present ? 1 : 0, pkey: leaf ? (leaf.hi >>> 27) & 0xf : 0 },
      info: leaf ? { pte: pteHex(leaf.lo, leaf.hi) } : {},
    };
  },
  strace: (c) => `pte(${formatArg(c.args.value('addr'), 'ptr', 'addr')})${c.retText} /* page walk, model only */`,
  doc: 'pte(addr): the 4-level page walk for addr in this task (model only)',
});

// --- machine-level setup ------------------------------------------------------------------

registerStep({
  name: 'write_file', kind: 'setup', result: 'int', context: 'machine',
  params: [p('pathname', 'str'), p('content', 'data')],
  run: (ctx, a) => {
    const path = a.str('pathname');
    if (ctx.m.fs.lookup(path)) return { ret: -EEXIST };
    ctx.m.fs.createWithContent(path, a.bytes('content'));
    return { ret: 0 };
  },
  strace: (c) => `write_file(${quoteBytes(c.args.bytes('pathname'), 4096)}, ${quoteBytes(c.args.bytes('content'))})${c.retText} /* on disk, not in the page cache */`,
  c: (c) => `ret = write_file(${c.args.pathname}, ${c.args.content});`,
  doc: 'write_file(path, content): create a file whose content is on disk (its first access is a major fault)',
});

registerStep({
  name: 'drop_caches', kind: 'setup', result: 'int', context: 'machine',
  params: [],
  run: (ctx) => ({ ret: 0, info: { evicted: ctx.sim.dropCaches() } }),
  strace: (c) => `drop_caches()${c.retText} /* echo 1 > /proc/sys/vm/drop_caches: ${String(c.res.info?.evicted ?? 0)} pages evicted */`,
  c: () => 'ret = drop_caches();',
  doc: 'drop_caches(): write back and evict clean, unmapped page-cache pages',
});

registerStep({
  name: 'check_invariants', kind: 'setup', result: 'int', context: 'machine', modelOnly: true,
  params: [],
  run: (ctx) => {
    const errs = ctx.sim.check();
    return errs.length ? { ret: -1, cErrno: 0, text: errs.join('\n') + '\n' } : { ret: 0 };
  },
  doc: 'check_invariants(): the model\'s consistency checks (refcounts, mapcounts, RSS); 0 when consistent',
});
