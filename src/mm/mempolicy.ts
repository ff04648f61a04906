// get_mempolicy(MPOL_F_NODE|MPOL_F_ADDR) (mm/mempolicy.c: do_get_mempolicy(), lookup_node()):
// the node of the page at addr, found with a local GUP — so PKRU applies.
import { EFAULT, EINVAL } from '../kernel/errno.js';
import type { Machine } from '../kernel/machine.js';
import { getUserPagesFast, putUserPage } from './gup.js';

export const MPOL_F_NODE = 1, MPOL_F_ADDR = 2;

export function sysGetMempolicyNode(m: Machine, addr: number, flags: number): number {
  if (flags & ~(MPOL_F_NODE | MPOL_F_ADDR | 4)) return -EINVAL;
  if (flags !== (MPOL_F_NODE | MPOL_F_ADDR)) return -EINVAL; // only this form is modelled
  const mm = m.current.mm!;
  if (!mm.vmaLookup(addr)) return -EFAULT;
  const pages: number[] = [];
  const r = getUserPagesFast(m, addr - (addr % 4096), 1, 0, pages);
  if (r <= 0) return r < 0 ? r : -EFAULT;
  putUserPage(m, pages[0]!);
  return 0; // one NUMA node
}
