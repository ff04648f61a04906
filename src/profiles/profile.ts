// Kernel version profiles: one table of behaviour switches per profiled kernel, so model code asks
// the profile instead of testing version numbers. Each switch names the SEMANTICS.md VER-/ACC- rule.

export type ProfileName = 'linux-6.12' | 'linux-6.1' | 'linux-4.6' | 'linux-4.6-rev1';

export interface Profile {
  readonly name: ProfileName;
  readonly release: string;
  /** init_pkru_value for new processes and exec (OBJ-14, VER-2): 0 before v4.9. */
  readonly initPkru: number;
  /** ACC-1 ('tsk': fault.c and GUP charge an explicit task) vs ACC-2 ('current', v5.9+). */
  readonly faultAccounting: 'tsk' | 'current';
  /** A fault retried with FAULT_FLAG_TRIED counts as major (ACC-2, v5.9+). */
  readonly triedIsMajor: boolean;
  /** pkey_alloc/pkey_free/pkey_mprotect exist (VER-2, v4.9). */
  readonly pkeySyscalls: boolean;
  /** pkey 0 is an ordinary, freeable key (VER-8, ≈v4.17). */
  readonly pkey0Ordinary: boolean;
  /** fork copies the pkey bitmap and execute-only key (VER-7, ≈v4.19). */
  readonly forkCopiesPkeys: boolean;
  /**
   * When mprotect() moves a VMA off the execute-only key back to key 0 (PK-8 rule 3):
   * 'read-or-write' (v4.6: only when the new prot has PROT_READ or PROT_WRITE, so PROT_NONE kept
   * the key and a later PROT_READ|PROT_EXEC stayed unreadable) or 'not-exec' (2018 fix "x86/pkeys:
   * Override pkey when moving away from PROT_EXEC": any prot other than PROT_EXEC).
   */
  readonly execOnlyReset: 'read-or-write' | 'not-exec';
  /** The vsyscall gate page is listed in maps. */
  readonly vsyscallInMaps: boolean;
  /** /proc/PID/smaps has a `KSM:` line (not in 6.1.192, in 6.12.95: measured by the real-kernel oracle). */
  readonly smapsKsm: boolean;
  /** GUP never expands a stack (VER-18, v6.5). */
  readonly gupNoStackExpand: boolean;
  /** Name of the lock in kernel log messages (VER-11). */
  readonly mmapLockName: 'mmap_lock' | 'mmap_sem';
  /** The GUP family and its consumers (SEMANTICS.md §4, §6, §7). */
  readonly gup: GupSwitches;
  /** Protection keys and signal delivery with PKRU (SEMANTICS.md §5, VER-1/2/7/8/20). */
  readonly pkeys: PkeySwitches;
}

export interface PkeySwitches {
  /**
   * The execute-only key (PK-9): 'dedicated-15' (v4.6: PKEY_DEDICATED_EXECUTE_ONLY, outside any
   * allocator, reused while the caller's PKRU write-disables it) or 'allocated' (v4.9+: taken from
   * the mm's allocation map by mm_pkey_alloc(), reused while the caller's PKRU access-disables it).
   */
  readonly execOnlyKey: 'dedicated-15' | 'allocated';
  /**
   * The allocation map a new mm holds when the CPU/kernel has no OSPKE (PK-ALLOC-14). 6.12:
   * init_new_context() leaves the map and execute_only_pkey zeroed, so the first pkey_alloc()
   * takes key 0, arch_set_user_pkey_access() fails with EINVAL and mm_pkey_free(0) cannot undo it
   * (0 == execute_only_pkey): EINVAL, then ENOSPC. 6.1 (measured): ENOSPC at once, i.e. the map
   * already equals all_pkeys_mask (0x1) at the first call.
   */
  readonly noOspkeInitialMap: number;
  /**
   * VER-20 (v6.12, "x86/pkeys: Update PKRU to enable all pkeys before XSAVE"): get_sigframe()
   * writes the signal frame with PKRU = 0 and then stores the interrupted PKRU in the frame's
   * XSAVE area (update_pkru_in_sigframe()); before, the frame was written under the interrupted
   * PKRU, so a stack or altstack that PKRU denies could not receive a frame.
   */
  readonly sigframePkruZero: boolean;
  /** VER-20 (v6.12, "x86/pkeys: Restore altstack access in sigreturn()"): rt_sigreturn restores the altstack before the sigcontext (and PKRU). */
  readonly sigreturnAltstackFirst: boolean;
  /** sigaltstack() accepts SS_AUTODISARM (v4.7). */
  readonly ssAutodisarm: boolean;
}

const modernPkeys: PkeySwitches = {
  execOnlyKey: 'allocated', noOspkeInitialMap: 0x0, sigframePkruZero: true, sigreturnAltstackFirst: true, ssAutodisarm: true,
};
const seedPkeys: PkeySwitches = {
  execOnlyKey: 'dedicated-15', noOspkeInitialMap: 0x0, sigframePkruZero: false, sigreturnAltstackFirst: false, ssAutodisarm: false,
};

export interface GupSwitches {
  /** Which API exists: the seed patch as reviewed (Jan 15 2016), v4.6 as merged, or modern (GUP-6/7/8). */
  readonly api: 'seed-rev1' | 'seed-4.6' | 'modern';
  /** FOLL_PIN/pin_user_pages* exist (VER-10, v5.6). */
  readonly pin: boolean;
  /** /proc/PID/mem passes FOLL_FORCE: always before v6.12; v6.12 proc_mem.force_override=always by default (VER-22). */
  readonly procMemForce: 'always' | 'ptrace' | 'never';
  /** exec's get_arg_page() passes FOLL_FORCE (until v6.1, VER-16). */
  readonly execArgForce: boolean;
  /** FOLL_LONGTERM write pins of dirty-tracked shared file mappings are refused (VER-18, v6.5). */
  readonly longtermDirtyTrackedRefused: boolean;
  /** uprobes is_trap_at_addr() fallback (CON-14, REV-2, VER-23). */
  readonly isTrapAtAddr: 'local-current' | 'remote-null' | 'remote' | 'local';
}

const modernBase = {
  initPkru: 0x55555554,
  faultAccounting: 'current',
  triedIsMajor: true,
  pkeySyscalls: true,
  pkey0Ordinary: true,
  forkCopiesPkeys: true,
  execOnlyReset: 'not-exec',
  vsyscallInMaps: true,
  smapsKsm: true,
  gupNoStackExpand: true,
  mmapLockName: 'mmap_lock',
} as const;

const modernGup: GupSwitches = {
  api: 'modern', pin: true, procMemForce: 'always', execArgForce: false, isTrapAtAddr: 'local', longtermDirtyTrackedRefused: true,
};
const seedGup: GupSwitches = {
  api: 'seed-4.6', pin: false, procMemForce: 'always', execArgForce: true, isTrapAtAddr: 'remote-null', longtermDirtyTrackedRefused: false,
};

const seedBase = {
  initPkru: 0,
  faultAccounting: 'tsk',
  triedIsMajor: false,
  pkeySyscalls: false,
  pkey0Ordinary: false,
  forkCopiesPkeys: false,
  execOnlyReset: 'read-or-write',
  vsyscallInMaps: true,
  smapsKsm: false,
  gupNoStackExpand: false,
  mmapLockName: 'mmap_sem',
} as const;

export const PROFILES: Readonly<Record<ProfileName, Profile>> = {
  'linux-6.12': { name: 'linux-6.12', release: '6.12', ...modernBase, gup: modernGup, pkeys: modernPkeys },
  'linux-6.1': {
    name: 'linux-6.1', release: '6.1', ...modernBase, gupNoStackExpand: false, smapsKsm: false,
    gup: { ...modernGup, execArgForce: true, isTrapAtAddr: 'remote', longtermDirtyTrackedRefused: false },
    pkeys: { ...modernPkeys, noOspkeInitialMap: 0x1, sigframePkruZero: false, sigreturnAltstackFirst: false },
  },
  'linux-4.6': { name: 'linux-4.6', release: '4.6', ...seedBase, gup: seedGup, pkeys: seedPkeys },
  'linux-4.6-rev1': {
    name: 'linux-4.6-rev1', release: '4.6-rc (Jan 15 2016 revision)', ...seedBase,
    gup: { ...seedGup, api: 'seed-rev1', isTrapAtAddr: 'local-current' },
    pkeys: seedPkeys,
  },
};

export const DEFAULT_PROFILE: ProfileName = 'linux-6.12';

export function isProfileName(s: string): s is ProfileName {
  return Object.prototype.hasOwnProperty.call(PROFILES, s);
}
