// Page-fault error code bits pushed by the CPU (arch/x86/include/asm/trap_pf.h: enum x86_pf_error_code).
export const X86_PF_PROT = 1 << 0; // 0: not present, 1: protection violation
export const X86_PF_WRITE = 1 << 1;
export const X86_PF_USER = 1 << 2;
export const X86_PF_RSVD = 1 << 3;
export const X86_PF_INSTR = 1 << 4;
export const X86_PF_PK = 1 << 5;
export const X86_PF_SHSTK = 1 << 6;
export const X86_PF_SGX = 1 << 15;

export function decodePfError(code: number): string {
  const parts = [
    code & X86_PF_PROT ? 'PROT' : 'NOT-PRESENT',
    code & X86_PF_WRITE ? 'WRITE' : 'READ',
    code & X86_PF_USER ? 'USER' : 'KERNEL',
  ];
  if (code & X86_PF_RSVD) parts.push('RSVD');
  if (code & X86_PF_INSTR) parts.push('INSTR');
  if (code & X86_PF_PK) parts.push('PK');
  return `0x${code.toString(16)} [${parts.join('|')}]`;
}
