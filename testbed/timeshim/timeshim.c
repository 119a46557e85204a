/*
 * dnssec-testbed time shim: an LD_PRELOAD library that moves a process's wall clock by an offset read from a file.
 *
 * Why our own and not libfaketime (shared/reference/virtual-clock.md): Debian's libfaketime 0.9.10 allocates memory
 * inside its first clock_gettime call, and jemalloc (BIND, kresd) calls clock_gettime while it initialises: a
 * deadlock. This shim never allocates, never calls dlsym and has no constructor, so it is safe at any moment of a
 * process's life, including inside malloc's own start-up.
 *
 *   TESTBED_TIMESHIM_FILE=/path/offset   a text file holding the offset in whole seconds, e.g. "+2592000". Missing or
 *                                        unreadable file, or text that is not a number: offset 0 (never exit).
 *
 * The file is rewritten atomically by the harness (write a temp file, rename it over). A call checks it with one
 * stat(): the rename gives it a new inode, so the cached offset is reread only when the file really changed.
 *
 * What moves:   clock_gettime for CLOCK_REALTIME, _COARSE, _ALARM and CLOCK_TAI; gettimeofday; time; timespec_get.
 * What stays:   CLOCK_MONOTONIC, _RAW, _COARSE, BOOTTIME and the CPU clocks: event loops (libuv, libevent) time
 *               their timers with these, and a jump there would fire or starve every timer at once.
 * Absolute waits on the wall clock are translated back to real time:
 *   pthread_cond_timedwait on a CLOCK_REALTIME condvar (BIND 9.18's timer thread sleeps this way) waits at most
 *   one real second per call and then reports a spurious wakeup while the virtual deadline has not come, so a
 *   clock that jumps forward wakes such a sleeper within a second. POSIX allows spurious wakeups; callers loop.
 *   clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME) sleeps in slices of at most a second until the virtual deadline.
 * setsockopt(SOL_SOCKET, SO_TIMESTAMP*) is a successful no-op: PowerDNS Recursor compares each UDP query's kernel
 *   receive time with its own clock and silently drops queries that look more than a second "old". Without the
 *   option the kernel attaches no timestamp and the check is skipped.
 *
 * Limits (documented in docs/rollout.md): sem_timedwait, pthread_mutex_timedlock, pthread_rwlock_timed*,
 * pthread_cond_clockwait, timerfd and POSIX timers with absolute CLOCK_REALTIME deadlines are not translated, and
 * binaries linked against glibc's pre-2.3.2 condvar ABI are not supported. None of the four resolvers needs them.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))
#define ENV_NAME "TESTBED_TIMESHIM_FILE"
#define NSEC 1000000000L
/* glibc (2.25 and later) keeps a condvar's clock in bit 1 of __wrefs: set means CLOCK_MONOTONIC. */
#define COND_CLOCK_MONOTONIC_BIT 2u
#if __ELF_NATIVE_CLASS == 64
#define SYM_TYPE ELF64_ST_TYPE
#else
#define SYM_TYPE ELF32_ST_TYPE
#endif

#ifndef SO_TIMESTAMP_OLD
#define SO_TIMESTAMP_OLD 29
#endif
#ifndef SO_TIMESTAMPNS_OLD
#define SO_TIMESTAMPNS_OLD 35
#endif
#ifndef SO_TIMESTAMPING_OLD
#define SO_TIMESTAMPING_OLD 37
#endif
#define SO_TIMESTAMP_NEW_ 63
#define SO_TIMESTAMPNS_NEW_ 64
#define SO_TIMESTAMPING_NEW_ 65

/* ---- the real clock: the vDSO's clock_gettime, found by walking its ELF symbols; a syscall if that fails ---- */

typedef int (*clock_fn)(clockid_t, struct timespec *);
static clock_fn vdso_clock_gettime;
static int vdso_looked_up;   /* 0: not yet, 1: done (vdso_clock_gettime may still be NULL) */

static clock_fn find_vdso_clock_gettime(void)
{
    uintptr_t base = (uintptr_t)getauxval(AT_SYSINFO_EHDR);
    if (base == 0)
        return NULL;
    const ElfW(Ehdr) *ehdr = (const ElfW(Ehdr) *)base;
    const ElfW(Phdr) *phdr = (const ElfW(Phdr) *)(base + ehdr->e_phoff);
    uintptr_t bias = 0;
    int have_load = 0;
    const ElfW(Dyn) *dyn = NULL;
    for (int i = 0; i < ehdr->e_phnum; i++) {
        if (phdr[i].p_type == PT_LOAD && !have_load) {
            /* symbol values are link-time addresses; this is how far the kernel mapped them from there */
            bias = base + phdr[i].p_offset - phdr[i].p_vaddr;
            have_load = 1;
        } else if (phdr[i].p_type == PT_DYNAMIC) {
            dyn = (const ElfW(Dyn) *)(base + phdr[i].p_offset);
        }
    }
    if (!have_load || dyn == NULL)
        return NULL;
    const ElfW(Sym) *symtab = NULL;
    const char *strtab = NULL;
    const Elf32_Word *hash = NULL;
    for (; dyn->d_tag != DT_NULL; dyn++) {
        if (dyn->d_tag == DT_SYMTAB)
            symtab = (const ElfW(Sym) *)(bias + dyn->d_un.d_ptr);
        else if (dyn->d_tag == DT_STRTAB)
            strtab = (const char *)(bias + dyn->d_un.d_ptr);
        else if (dyn->d_tag == DT_HASH)
            hash = (const Elf32_Word *)(bias + dyn->d_un.d_ptr);
    }
    if (symtab == NULL || strtab == NULL || hash == NULL)
        return NULL;
    Elf32_Word count = hash[1];   /* DT_HASH: nbucket, nchain; nchain is the number of symbols */
    for (Elf32_Word i = 0; i < count; i++) {
        const ElfW(Sym) *sym = &symtab[i];
        if (sym->st_shndx == SHN_UNDEF || SYM_TYPE(sym->st_info) != STT_FUNC)
            continue;
        /* x86 names it __vdso_clock_gettime, arm64 __kernel_clock_gettime */
        const char *name = strtab + sym->st_name;
        if (strcmp(name, "__vdso_clock_gettime") == 0 || strcmp(name, "__kernel_clock_gettime") == 0)
            return (clock_fn)(bias + sym->st_value);
    }
    return NULL;
}

static int real_clock_gettime(clockid_t clk, struct timespec *ts)
{
    if (!__atomic_load_n(&vdso_looked_up, __ATOMIC_ACQUIRE)) {
        /* two threads may both look it up: they find the same address, so the race is harmless */
        __atomic_store_n(&vdso_clock_gettime, find_vdso_clock_gettime(), __ATOMIC_RELAXED);
        __atomic_store_n(&vdso_looked_up, 1, __ATOMIC_RELEASE);
    }
    clock_fn fn = __atomic_load_n(&vdso_clock_gettime, __ATOMIC_RELAXED);
    if (fn != NULL)
        return fn(clk, ts);
    return (int)syscall(SYS_clock_gettime, clk, ts);
}

/* ---- the offset: one stat() per call, the file reread only when it changed ---- */

struct offset_cache {
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
    long long offset;
};

static struct offset_cache cache;
static unsigned cache_seq;   /* seqlock: odd while a writer fills `cache` */

static long long parse_offset(const char *text, ssize_t len)
{
    ssize_t i = 0;
    while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r'))
        i++;
    int negative = 0;
    if (i < len && (text[i] == '+' || text[i] == '-'))
        negative = text[i++] == '-';
    if (i >= len || text[i] < '0' || text[i] > '9')
        return 0;
    long long value = 0;
    for (; i < len && text[i] >= '0' && text[i] <= '9'; i++) {
        if (value > 100000000000LL)   /* more than 3000 years: not a lab offset; refuse rather than overflow */
            return 0;
        value = value * 10 + (text[i] - '0');
    }
    while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r'))
        i++;
    if (i != len)
        return 0;
    return negative ? -value : value;
}

static long long read_offset_file(const char *path)
{
    char buf[64];
    int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t got = syscall(SYS_read, fd, buf, sizeof buf);
    syscall(SYS_close, fd);
    if (got <= 0 || got == (ssize_t)sizeof buf)
        return 0;
    return parse_offset(buf, got);
}

static const char *offset_path(void)
{
    /* getenv neither allocates nor locks; the environment of a daemon does not change under it */
    return getenv(ENV_NAME);
}

static long long current_offset(void)
{
    const char *path = offset_path();
    if (path == NULL || path[0] == '\0')
        return 0;
    struct stat st;
    if (stat(path, &st) != 0)
        return 0;
    unsigned seq = __atomic_load_n(&cache_seq, __ATOMIC_ACQUIRE);
    if ((seq & 1u) == 0) {
        struct offset_cache seen = cache;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (__atomic_load_n(&cache_seq, __ATOMIC_RELAXED) == seq && seq != 0 && seen.dev == st.st_dev
            && seen.ino == st.st_ino && seen.size == st.st_size && seen.mtime.tv_sec == st.st_mtim.tv_sec
            && seen.mtime.tv_nsec == st.st_mtim.tv_nsec)
            return seen.offset;
    }
    long long offset = read_offset_file(path);
    /* refill the cache if no other thread is doing it right now; otherwise just use what we read */
    if ((seq & 1u) == 0 && __atomic_compare_exchange_n(&cache_seq, &seq, seq + 1, 0, __ATOMIC_ACQUIRE,
                                                       __ATOMIC_RELAXED)) {
        cache.dev = st.st_dev;
        cache.ino = st.st_ino;
        cache.size = st.st_size;
        cache.mtime = st.st_mtim;
        cache.offset = offset;
        __atomic_store_n(&cache_seq, seq + 2, __ATOMIC_RELEASE);
    }
    return offset;
}

static int is_wall_clock(clockid_t clk)
{
    return clk == CLOCK_REALTIME || clk == CLOCK_REALTIME_COARSE || clk == CLOCK_REALTIME_ALARM || clk == CLOCK_TAI;
}

static void virtual_realtime(struct timespec *ts)
{
    real_clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += current_offset();
}

/* ---- the overrides ---- */

EXPORT int clock_gettime(clockid_t clk, struct timespec *ts)
{
    int saved = errno;
    int rc = real_clock_gettime(clk, ts);
    if (rc == 0 && is_wall_clock(clk))
        ts->tv_sec += current_offset();
    if (rc == 0)
        errno = saved;   /* the stat() behind the offset must not leave an errno behind on success */
    return rc;
}

EXPORT int gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
    int saved = errno;
    if (tv != NULL) {
        struct timespec ts;
        virtual_realtime(&ts);
        tv->tv_sec = ts.tv_sec;
        tv->tv_usec = ts.tv_nsec / 1000;
    }
    if (tz != NULL)
        memset(tz, 0, 2 * sizeof(int));   /* struct timezone, obsolete: UTC */
    errno = saved;
    return 0;
}

EXPORT time_t time(time_t *out)
{
    int saved = errno;
    struct timespec ts;
    virtual_realtime(&ts);
    if (out != NULL)
        *out = ts.tv_sec;
    errno = saved;
    return ts.tv_sec;
}

EXPORT int timespec_get(struct timespec *ts, int base)
{
    if (base != TIME_UTC)
        return 0;
    int saved = errno;
    virtual_realtime(ts);
    errno = saved;
    return base;
}

EXPORT int setsockopt(int fd, int level, int name, const void *value, socklen_t len)
{
    if (level == SOL_SOCKET && (name == SO_TIMESTAMP_OLD || name == SO_TIMESTAMPNS_OLD || name == SO_TIMESTAMPING_OLD
                                || name == SO_TIMESTAMP_NEW_ || name == SO_TIMESTAMPNS_NEW_
                                || name == SO_TIMESTAMPING_NEW_))
        return 0;
    return (int)syscall(SYS_setsockopt, fd, level, name, value, len);
}

static int ts_before(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

EXPORT int pthread_cond_timedwait(pthread_cond_t *restrict cond, pthread_mutex_t *restrict mutex,
                                  const struct timespec *restrict abstime)
{
    clockid_t clk = (cond->__data.__wrefs & COND_CLOCK_MONOTONIC_BIT) ? CLOCK_MONOTONIC : CLOCK_REALTIME;
    if (clk != CLOCK_REALTIME || abstime == NULL || abstime->tv_nsec < 0 || abstime->tv_nsec >= NSEC)
        return pthread_cond_clockwait(cond, mutex, clk, abstime);   /* untouched, including its EINVAL */
    /* abstime was computed from the virtual clock: wait until it in real time, a second at most per call */
    struct timespec real_now, limit, deadline = *abstime;
    real_clock_gettime(CLOCK_REALTIME, &real_now);
    deadline.tv_sec -= current_offset();
    limit = real_now;
    limit.tv_sec += 1;
    int capped = ts_before(&limit, &deadline);
    int rc = pthread_cond_clockwait(cond, mutex, CLOCK_REALTIME, capped ? &limit : &deadline);
    if (rc == ETIMEDOUT && capped) {
        struct timespec now;
        virtual_realtime(&now);
        if (ts_before(&now, abstime))
            return 0;   /* a spurious wakeup: the caller re-checks its condition and its clock, then waits again */
    }
    return rc;
}

EXPORT int clock_nanosleep(clockid_t clk, int flags, const struct timespec *req, struct timespec *rem)
{
    if (!(flags & TIMER_ABSTIME) || !is_wall_clock(clk) || req == NULL || req->tv_nsec < 0 || req->tv_nsec >= NSEC)
        return syscall(SYS_clock_nanosleep, clk, flags, req, rem) == 0 ? 0 : errno;
    for (;;) {
        struct timespec now;
        virtual_realtime(&now);
        if (!ts_before(&now, req))
            return 0;
        long long left = (long long)(req->tv_sec - now.tv_sec) * NSEC + (req->tv_nsec - now.tv_nsec);
        struct timespec slice = {0, 0};
        if (left >= NSEC)
            slice.tv_sec = 1;
        else
            slice.tv_nsec = (long)left;
        if (syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &slice, NULL) != 0 && errno == EINTR)
            return EINTR;
    }
}
