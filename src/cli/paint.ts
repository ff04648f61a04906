// Terminal colors: only on a terminal (or when asked), never when NO_COLOR is set.
import type { Paint } from '../scenario/index.js';

export interface Painter extends Paint {
  ok(s: string): string;
  fail(s: string): string;
  bold(s: string): string;
}

const wrap = (a: string, b: string) => (s: string): string => `\x1b[${a}m${s}\x1b[${b}m`;

export function paintFor(flag: boolean | undefined): Painter {
  const on = flag ?? (process.stdout.isTTY === true && !process.env.NO_COLOR);
  if (!on) {
    const id = (s: string): string => s;
    return { ok: id, fail: id, bold: id, dim: id, decisive: id, bypass: id };
  }
  return {
    ok: wrap('32', '39'),
    fail: wrap('31', '39'),
    bold: wrap('1', '22'),
    dim: wrap('2', '22'),
    decisive: wrap('1;31', '22;39'),
    bypass: wrap('1;33', '22;39'),
  };
}
