// Scenarios for the visualiser's tests.

/** A long scenario (exactly `steps` steps) mixing the things the page shows: faults, COW after
 * fork, protection keys (VMA splits and merges, WRPKRU), remote GUP, MADV_DONTNEED. */
export function longScenario(steps = 1000): string {
  const PAGES = 64;
  const head = [
    `scenario "${steps} steps"`,
    'task A',
    'A: sigaction(SIGSEGV, skip)',
    `A: p = mmap(NULL, ${PAGES * 4096}, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)`,
    'A: k = pkey_alloc(0, 0)',
    'A: B = fork()',
  ];
  const lines = [...head];
  for (let i = 0; lines.length - 2 < steps; i++) {
    const page = `p + ${((i * 7) % PAGES) * 4096}`;
    switch (i % 8) {
      case 0: lines.push(`A: store(${page}, "a")`); break;
      case 1: lines.push(`B: store(${page}, "b")`); break;
      case 2: lines.push(`A: load(${page}, 1)`); break;
      case 3: lines.push(`A: pkey_mprotect(${page}, 4096, PROT_READ|PROT_WRITE, ${i % 16 === 3 ? 'k' : '0'})`); break;
      case 4: lines.push(`A: wrpkru(${i % 16 === 4 ? '0x5555555c' : '0x55555554'})`); break;
      case 5: lines.push(`A: store(${page}, "c")`); break;
      case 6: lines.push(`kworker: get_user_pages_remote(mm=A, ${page}, 1, FOLL_WRITE)`); break;
      case 7: lines.push(`A: madvise(${page}, 4096, MADV_DONTNEED)`); break;
    }
  }
  return lines.join('\n') + '\n';
}
