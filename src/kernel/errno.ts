// include/uapi/asm-generic/errno-base.h and errno.h (the values x86-64 Linux uses).
export const EPERM = 1, ENOENT = 2, ESRCH = 3, EINTR = 4, EIO = 5, ENXIO = 6, E2BIG = 7, EBADF = 9,
  ECHILD = 10, EAGAIN = 11, ENOMEM = 12, EACCES = 13, EFAULT = 14, EBUSY = 16, EEXIST = 17, ENODEV = 19,
  ENOTDIR = 20, EISDIR = 21, EINVAL = 22, ENFILE = 23, EMFILE = 24, EFBIG = 27, ENOSPC = 28, ESPIPE = 29,
  EPIPE = 32, ERANGE = 34, ENOSYS = 38, EOVERFLOW = 75, ETIMEDOUT = 110, EOPNOTSUPP = 95, EREMOTEIO = 121, EHWPOISON = 133;

export const ERRNO_NAMES: Record<number, string> = {
  [EPERM]: 'EPERM', [ENOENT]: 'ENOENT', [ESRCH]: 'ESRCH', [EINTR]: 'EINTR', [EIO]: 'EIO', [ENXIO]: 'ENXIO',
  [E2BIG]: 'E2BIG', [EBADF]: 'EBADF', [ECHILD]: 'ECHILD', [EAGAIN]: 'EAGAIN', [ENOMEM]: 'ENOMEM',
  [EACCES]: 'EACCES', [EFAULT]: 'EFAULT', [EBUSY]: 'EBUSY', [EEXIST]: 'EEXIST', [ENODEV]: 'ENODEV',
  [ENOTDIR]: 'ENOTDIR', [EISDIR]: 'EISDIR', [EINVAL]: 'EINVAL', [ENFILE]: 'ENFILE', [EMFILE]: 'EMFILE',
  [EFBIG]: 'EFBIG', [ENOSPC]: 'ENOSPC', [ESPIPE]: 'ESPIPE', [EPIPE]: 'EPIPE', [ERANGE]: 'ERANGE',
  [ENOSYS]: 'ENOSYS', [EOVERFLOW]: 'EOVERFLOW', [ETIMEDOUT]: 'ETIMEDOUT', [EOPNOTSUPP]: 'EOPNOTSUPP', [EREMOTEIO]: 'EREMOTEIO',
  [EHWPOISON]: 'EHWPOISON',
};

export function errnoName(e: number): string {
  return ERRNO_NAMES[Math.abs(e)] ?? `E${Math.abs(e)}`;
}

/** Kernel convention: a negative errno in a long return value. */
export function isErr(r: number): boolean {
  return r < 0 && r >= -4095;
}
