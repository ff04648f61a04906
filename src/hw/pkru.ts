// The PKRU register: two bits per key, AD (bit 2k) and WD (bit 2k+1)
// (arch/x86/include/asm/pkru.h: PKRU_AD_BIT, PKRU_WD_BIT, PKRU_BITS_PER_PKEY).
export const PKRU_AD_BIT = 0x1;
export const PKRU_WD_BIT = 0x2;
export const PKRU_BITS_PER_PKEY = 2;
export const NR_PKEYS = 16;

export function pkruAllowsRead(pkru: number, pkey: number): boolean {
  return ((pkru >>> (pkey * PKRU_BITS_PER_PKEY)) & PKRU_AD_BIT) === 0;
}

export function pkruAllowsWrite(pkru: number, pkey: number): boolean {
  return ((pkru >>> (pkey * PKRU_BITS_PER_PKEY)) & (PKRU_AD_BIT | PKRU_WD_BIT)) === 0;
}

/** Replace key k's two bits (arch/x86/kernel/fpu/xstate.c: arch_set_user_pkey_access()). */
export function pkruSetKey(pkru: number, pkey: number, rights: number): number {
  const shift = pkey * PKRU_BITS_PER_PKEY;
  return ((pkru & ~(0x3 << shift)) | ((rights & 0x3) << shift)) >>> 0;
}

export function pkruHex(pkru: number): string {
  return '0x' + (pkru >>> 0).toString(16).padStart(8, '0');
}

/** "k1:AD k2:WD ..." for every key with a bit set. */
export function decodePkru(pkru: number): string {
  const out: string[] = [];
  for (let k = 0; k < NR_PKEYS; k++) {
    const b = (pkru >>> (k * 2)) & 3;
    if (b) out.push(`${k}:${b & 1 ? 'AD' : ''}${b === 3 ? '+' : ''}${b & 2 ? 'WD' : ''}`);
  }
  return out.length ? out.join(' ') : 'all keys open';
}
