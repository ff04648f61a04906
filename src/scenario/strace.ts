// strace-style rendering: arguments, strings, return values, signals, exits.
import { formatEnum, formatFlags, signalName, siCodeName, strerror, type EnumSet, type FlagSet } from './constants.js';
import type { Outcome, SigOut } from './outcome.js';
import type { ArgFormat, Value } from './registry.js';

/** strace's default string limit (-s 32). */
export const STRSIZE = 32;

/** A buffer as strace prints it: C escapes, octal for the rest, "..." when truncated. */
export function quoteBytes(d: Uint8Array, max = STRSIZE): string {
  let s = '"';
  const n = Math.min(d.length, max);
  for (let i = 0; i < n; i++) {
    const c = d[i]!;
    const next = i + 1 < n ? d[i + 1]! : -1;
    switch (c) {
      case 0x22: s += '\\"'; break;
      case 0x5c: s += '\\\\'; break;
      case 0x0a: s += '\\n'; break;
      case 0x09: s += '\\t'; break;
      case 0x0d: s += '\\r'; break;
      case 0x0b: s += '\\v'; break;
      case 0x0c: s += '\\f'; break;
      default:
        if (c >= 0x20 && c < 0x7f) s += String.fromCharCode(c);
        else if (next >= 0x30 && next <= 0x37) s += '\\' + c.toString(8).padStart(3, '0');
        else s += '\\' + c.toString(8);
    }
  }
  s += '"';
  if (d.length > max) s += '...';
  return s;
}

export function hexAddr(v: bigint): string {
  return v === 0n ? 'NULL' : '0x' + BigInt.asUintN(64, v).toString(16);
}

function isFlagSet(f: ArgFormat): f is FlagSet {
  return typeof f === 'object' && 'bits' in f;
}

function isEnumSet(f: ArgFormat): f is EnumSet {
  return typeof f === 'object' && 'names' in f && !('bits' in f);
}

/** One argument as strace prints it. */
export function formatArg(v: Value, fmt: ArgFormat | undefined, kind: string): string {
  switch (v.t) {
    case 'bytes':
      return quoteBytes(v.v);
    case 'task':
      return v.name;
    case 'handler':
      return v.v;
    case 'fds':
      return `[${v.v[0]}, ${v.v[1]}]`;
    case 'iov':
      return '[' + v.v.map((e) => `{iov_base=${hexAddr(e.base)}, iov_len=${e.len}}`).join(', ') + ']';
    case 'int': {
      const x = v.v;
      if (fmt === undefined) return kind === 'addr' ? hexAddr(x) : kind === 'ulong' ? BigInt.asUintN(64, x).toString() : x.toString();
      if (fmt === 'hex') return x === 0n ? '0' : '0x' + BigInt.asUintN(64, x).toString(16); // %#lx
      if (fmt === 'ptr') return hexAddr(x);
      if (fmt === 'oct') return '0' + x.toString(8);
      if (fmt === 'dec' || fmt === 'str') return x.toString();
      if (fmt === 'signal') return signalName(Number(x));
      if (isFlagSet(fmt)) return x >= 0n && x <= 0xffffffffn ? formatFlags(fmt, Number(x)) : x.toString();
      if (isEnumSet(fmt)) return formatEnum(fmt, Number(x), x.toString());
      return x.toString();
    }
  }
}

/** ` = 0`, ` = 0x7f...`, ` = -1 EFAULT (Bad address)`. */
export function formatRet(o: Outcome, errnoNum?: number): string {
  if (o.status === 'not-modelled') return ' = ? <not yet modelled>';
  if (o.retKind === 'none' || o.ret === undefined) return o.killed ? ' = ?' : '';
  if (o.errno) return ` = -1 ${o.errno} (${errnoNum !== undefined ? strerror(errnoNum) : o.errno})`;
  switch (o.retKind) {
    case 'addr':
    case 'hex':
      return ` = 0x${BigInt.asUintN(64, o.ret).toString(16)}`;
    default:
      return ` = ${o.ret.toString()}`;
  }
}

/** --- SIGSEGV {si_signo=SIGSEGV, si_code=SEGV_PKUERR, si_addr=0x7f..., si_pkey=1} --- */
export function signalLine(s: SigOut): string {
  const f = [`si_signo=${s.sig}`, `si_code=${s.codeName}`];
  if (s.addr !== undefined) f.push(`si_addr=${hexAddr(s.addr)}`);
  if (s.pkey !== undefined) f.push(`si_pkey=${s.pkey}`);
  if (s.pid !== undefined) f.push(`si_pid=${s.pid}`, `si_uid=${s.uid ?? 0}`);
  return `--- ${s.sig} {${f.join(', ')}} ---`;
}

export function sigOut(info: { signo: number; code: number; addr?: number; pkey?: number; pfError?: number; pid?: number; uid?: number },
  nameOfPid?: (pid: number) => string): SigOut {
  const o: SigOut = { signo: info.signo, sig: signalName(info.signo), code: info.code, codeName: siCodeName(info.signo, info.code) };
  if (info.pid !== undefined) {
    o.pid = info.pid;
    o.sender = nameOfPid ? nameOfPid(info.pid) : String(info.pid);
    o.uid = info.uid ?? 0;
  } else if (info.addr !== undefined) o.addr = BigInt(info.addr);
  if (info.pkey !== undefined) o.pkey = info.pkey;
  if (info.pfError !== undefined) o.pfError = info.pfError;
  return o;
}
