// SPDX-License-Identifier: GPL-2.0
/*
 * gupsim_gup: a small test module for the real-kernel oracle (oracle/module.ts builds it against
 * Debian's linux-headers package of each oracle kernel). It lets a scenario's kernel-context steps
 * call the GUP family directly, as tools/testing/selftests/mm/gup_test.c does through debugfs
 * (Debian kernels lack CONFIG_GUP_TEST).
 *
 * /dev/gupsim_gup, ioctl GUPSIM_IOC_CALL with a struct gupsim_kcall:
 *   ctx 0: the call runs in the caller's kernel context (current = the calling task);
 *   ctx 1: it runs in a kworker (current has no mm), as a work item the ioctl waits for.
 * Pages that a call gets are put again, pages it pins are unpinned, before the ioctl returns (the
 * model's steps do the same). gup_flags arrive in the model's numbering (the modern FOLL_* bits,
 * src/scenario/constants.ts) and are translated to this kernel's by name.
 */
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pid.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/version.h>
#include <linux/workqueue.h>

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("gupsim oracle: call get_user_pages() and friends from a test");

struct gupsim_kcall {
	__u32 op;
	__u32 ctx;
	__s32 pid;   /* the process whose mm a remote call uses (0: none) */
	__u32 flags; /* gup_flags, model numbering; fault_flags for fixup_user_fault */
	__u64 start;
	__u64 nr;    /* nr_pages, or len for access */
	__u64 buf;   /* access: user buffer receiving the bytes */
	__s64 ret;
	__u64 npages;
};

#define GUPSIM_IOC_CALL _IOWR('g', 1, struct gupsim_kcall)

enum {
	GK_GUP = 1, GK_GUP_UNLOCKED, GK_GUP_FAST, GK_GUP_REMOTE, GK_PIN, GK_PIN_UNLOCKED, GK_PIN_FAST, GK_PIN_REMOTE,
	GK_FIXUP, GK_ACCESS,
};

/* Errors the module reports instead of doing something that would oops the guest. */
#define GK_ENOMM 1000   /* a current->mm call in a kernel thread */
#define GK_EFLAGS 1001  /* a FOLL_ flag this kernel keeps internal */
#define GK_MAX_PAGES 4096

/* The model's FOLL_ bits (modern numbering) -> this kernel's. */
static long xlate(u32 f, unsigned int *out)
{
	unsigned int g = 0;
	if (f & (1u << 0)) g |= FOLL_WRITE;
	if (f & (1u << 2)) g |= FOLL_DUMP;
	if (f & (1u << 3)) g |= FOLL_FORCE;
	if (f & (1u << 4)) g |= FOLL_NOWAIT;
	if (f & (1u << 5)) g |= FOLL_NOFAULT;
	if (f & (1u << 6)) g |= FOLL_HWPOISON;
	if (f & (1u << 7)) g |= FOLL_ANON;
	if (f & (1u << 8)) g |= FOLL_LONGTERM;
	if (f & (1u << 9)) g |= FOLL_SPLIT_PMD;
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
	if (f & (1u << 10)) g |= FOLL_PCI_P2PDMA;
	if (f & (1u << 11)) g |= FOLL_INTERRUPTIBLE;
#else
	if (f & (3u << 10))
		return -GK_EFLAGS;
#endif
	/* FOLL_GET (bit 1) and bits 12 up (FOLL_TOUCH, FOLL_REMOTE, FOLL_PIN, ...) are internal */
	if (f & ~(((1u << 12) - 1) & ~(1u << 1)))
		return -GK_EFLAGS;
	*out = g;
	return 0;
}

/* 6.5 dropped the vmas argument */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 5, 0)
#define VMAS_ NULL,
#define VMAS_LAST , NULL
#else
#define VMAS_
#define VMAS_LAST
#endif

static void put_all(struct page **pages, long n)
{
	long i;
	for (i = 0; i < n; i++)
		put_page(pages[i]);
}

static long do_call(struct gupsim_kcall *k, void *kbuf)
{
	struct page **pages = NULL;
	struct mm_struct *mm = NULL, *cur = current->mm;
	struct task_struct *tsk = NULL;
	unsigned int gf = 0;
	long r;

	if (k->op != GK_FIXUP) {
		r = xlate(k->flags, &gf);
		if (r)
			return r;
	}
	if (k->op != GK_ACCESS && k->op != GK_FIXUP) {
		if (k->nr > GK_MAX_PAGES)
			return -E2BIG;
		pages = kvmalloc_array(k->nr ? k->nr : 1, sizeof(*pages), GFP_KERNEL);
		if (!pages)
			return -ENOMEM;
	}
	if (k->pid) {
		struct pid *p = find_get_pid(k->pid);
		tsk = p ? get_pid_task(p, PIDTYPE_PID) : NULL;
		put_pid(p);
		mm = tsk ? get_task_mm(tsk) : NULL;
		if (!mm) {
			r = -ESRCH;
			goto out;
		}
	}
	switch (k->op) {
	case GK_GUP:
		if (!cur) { r = -GK_ENOMM; break; }
		mmap_read_lock(cur);
		r = get_user_pages(k->start, k->nr, gf, pages VMAS_LAST);
		mmap_read_unlock(cur);
		if (r > 0) put_all(pages, r);
		break;
	case GK_GUP_UNLOCKED:
		if (!cur) { r = -GK_ENOMM; break; }
		r = get_user_pages_unlocked(k->start, k->nr, pages, gf);
		if (r > 0) put_all(pages, r);
		break;
	case GK_GUP_FAST:
		if (!cur) { r = -GK_ENOMM; break; }
		r = get_user_pages_fast(k->start, k->nr, gf, pages);
		if (r > 0) put_all(pages, r);
		break;
	case GK_GUP_REMOTE:
		mmap_read_lock(mm);
		r = get_user_pages_remote(mm, k->start, k->nr, gf, pages, VMAS_ NULL);
		mmap_read_unlock(mm);
		if (r > 0) put_all(pages, r);
		break;
	case GK_PIN:
		if (!cur) { r = -GK_ENOMM; break; }
		mmap_read_lock(cur);
		r = pin_user_pages(k->start, k->nr, gf, pages VMAS_LAST);
		mmap_read_unlock(cur);
		if (r > 0) unpin_user_pages(pages, r);
		break;
	case GK_PIN_UNLOCKED:
		if (!cur) { r = -GK_ENOMM; break; }
		r = pin_user_pages_unlocked(k->start, k->nr, pages, gf);
		if (r > 0) unpin_user_pages(pages, r);
		break;
	case GK_PIN_FAST:
		if (!cur) { r = -GK_ENOMM; break; }
		r = pin_user_pages_fast(k->start, k->nr, gf, pages);
		if (r > 0) unpin_user_pages(pages, r);
		break;
	case GK_PIN_REMOTE:
		mmap_read_lock(mm);
		r = pin_user_pages_remote(mm, k->start, k->nr, gf, pages, VMAS_ NULL);
		mmap_read_unlock(mm);
		if (r > 0) unpin_user_pages(pages, r);
		break;
	case GK_FIXUP:
		mmap_read_lock(mm);
		r = fixup_user_fault(mm, k->start, k->flags, NULL);
		mmap_read_unlock(mm);
		break;
	case GK_ACCESS:
		/* access_remote_vm() is not exported; access_process_vm() is it on the task's mm */
		r = access_process_vm(tsk, k->start, kbuf, (int)k->nr, gf);
		break;
	default:
		r = -EINVAL;
	}
	k->npages = r > 0 ? r : 0;
out:
	if (mm)
		mmput(mm);
	if (tsk)
		put_task_struct(tsk);
	kvfree(pages);
	return r;
}

struct kwork {
	struct work_struct work;
	struct gupsim_kcall *k;
	void *kbuf;
	long r;
};

static void kwork_fn(struct work_struct *w)
{
	struct kwork *kw = container_of(w, struct kwork, work);
	kw->r = do_call(kw->k, kw->kbuf);
}

static long gupsim_ioctl(struct file *f, unsigned int cmd, unsigned long arg)
{
	struct gupsim_kcall k;
	void *kbuf = NULL;
	long r;

	if (cmd != GUPSIM_IOC_CALL)
		return -ENOTTY;
	if (copy_from_user(&k, (void __user *)arg, sizeof(k)))
		return -EFAULT;
	if (k.op == GK_ACCESS) {
		if (k.nr > (1u << 20))
			return -E2BIG;
		kbuf = kvzalloc(k.nr ? k.nr : 1, GFP_KERNEL);
		if (!kbuf)
			return -ENOMEM;
	}
	if (k.ctx == 1) {
		struct kwork kw = { .k = &k, .kbuf = kbuf };
		INIT_WORK_ONSTACK(&kw.work, kwork_fn);
		queue_work(system_unbound_wq, &kw.work);
		flush_work(&kw.work);
		destroy_work_on_stack(&kw.work);
		r = kw.r;
	} else {
		r = do_call(&k, kbuf);
	}
	k.ret = r;
	if (kbuf && r > 0 && k.buf && copy_to_user((void __user *)k.buf, kbuf, r))
		r = -EFAULT;
	kvfree(kbuf);
	if (copy_to_user((void __user *)arg, &k, sizeof(k)))
		return -EFAULT;
	return 0;
}

static const struct file_operations gupsim_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = gupsim_ioctl,
};

static struct miscdevice gupsim_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "gupsim_gup",
	.fops = &gupsim_fops,
	.mode = 0666,
};

static int __init gupsim_init(void)
{
	return misc_register(&gupsim_dev);
}

static void __exit gupsim_exit(void)
{
	misc_deregister(&gupsim_dev);
}

module_init(gupsim_init);
module_exit(gupsim_exit);
