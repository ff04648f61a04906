// Helpers shared by step definitions.
import type { Thread } from '../../api.js';
import { PTE_P } from '../../hw/pte.js';
import type { Machine } from '../../kernel/machine.js';
import { quoteBytes, hexAddr } from '../strace.js';
import type { PrintCtx } from '../registry.js';

/**
 * Read a task's memory the way a tracer shows it, without side effects: only pages that are
 * present are read (no fault is taken, no counter moves); null if any page is absent.
 * Like strace's own reads (process_vm_readv), no protection key applies.
 */
export function peek(m: Machine, t: Thread, addr: number, len: number): Uint8Array | null {
  const out = new Uint8Array(len);
  let done = 0;
  while (done < len) {
    const va = addr + done;
    const pte = t.pte(va);
    if (!pte || !(pte.lo & PTE_P)) return null;
    const off = va % 4096;
    const n = Math.min(4096 - off, len - done);
    out.set(m.mem.frame(pte.pfn).subarray(off, off + n), done);
    done += n;
  }
  return out;
}

/** A user buffer argument as strace shows it: its contents (len bytes) if readable, else the address. */
export function bufArg(c: PrintCtx, addrName: string, len: number): string {
  const addr = c.args.big(addrName);
  if (c.thread && len >= 0 && addr >= 0n && addr < 2n ** 47n) {
    const d = peek(c.m, c.thread, Number(addr), Math.min(len, 33));
    if (d) return quoteBytes(d, 32);
  }
  return hexAddr(addr);
}
