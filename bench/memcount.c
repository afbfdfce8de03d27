/*
 * memcount.so: an LD_PRELOAD counter of where a process's resident memory is, for finding what
 * a memory budget does not count (BENCHMARKS.md, "100 objects of 64 MiB: what the peak is made
 * of"). Linux + glibc only. Build and use:
 *
 *   cc -O2 -shared -fPIC -o target/memcount.so bench/memcount.c -lpthread -ldl
 *   LD_PRELOAD=$PWD/target/memcount.so target/examples/oss_download ... 2> mem.txt
 *
 * It counts the live blocks of malloc/calloc/realloc/memalign by usable size (under 64 KiB,
 * 64-256 KiB, 256 KiB-1 MiB, 1 MiB and more), the anonymous mappings of 200 KB-1.1 MB made
 * through mmap() outside malloc (the library's write buffers), and samples every 2 ms the RSS
 * (anonymous, file-backed), the thread count and mallinfo2() (bytes of glibc's heaps, in use,
 * free). At exit it prints to stderr (or appends to $MEMCOUNT_OUT) the sample with the highest
 * RSS and the one with the most live heap; MEMCOUNT_SERIES=1 adds a line every 0.3 s.
 * Allocations are slower (an atomic add each); judge memory with it, not time.
 */

// thread every 2 ms; at exit prints the sample of the highest RSS and of the highest live heap.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

static _Atomic long live[4];   // <64K, 64K-256K, 256K-1M, >=1M (usable sizes)
static _Atomic long nlive[4];
static _Atomic long big_allocs;   // count of >=128K allocations
static int ready;
#include <sys/mman.h>
static _Atomic long mapped, maxmapped;
void *mmap(void *a, size_t n, int prot, int flags, int fd, off_t off){
  static void *(*real)(void*,size_t,int,int,int,off_t); if(!real) real = dlsym(RTLD_NEXT,"mmap");
  void *p = real(a,n,prot,flags,fd,off);
  if (p != MAP_FAILED && (flags & MAP_ANONYMOUS) && n >= 200000 && n <= 1100000) { long m = atomic_fetch_add(&mapped, n) + n; long x = maxmapped; while (m > x && !atomic_compare_exchange_weak(&maxmapped, &x, m)); }
  return p; }
void *mmap64(void *a, size_t n, int prot, int flags, int fd, off_t off) { return mmap(a,n,prot,flags,fd,off); }
int munmap(void *a, size_t n){ static int (*real)(void*,size_t); if(!real) real = dlsym(RTLD_NEXT,"munmap");
  if (n >= 200000 && n <= 1100000) atomic_fetch_sub(&mapped, n);
  return real(a,n); }
static int cls(size_t n){ return n < 65536 ? 0 : n < 262144 ? 1 : n < 1048576 ? 2 : 3; }
extern void *__libc_malloc(size_t); extern void __libc_free(void*); extern void *__libc_calloc(size_t,size_t);
extern void *__libc_realloc(void*,size_t); extern void *__libc_memalign(size_t,size_t);
static void add(void *p){ if(!p) return; size_t n = malloc_usable_size(p); int c = cls(n); atomic_fetch_add(&live[c], n); atomic_fetch_add(&nlive[c],1); if (n>=131072) atomic_fetch_add(&big_allocs,1);}
static void sub(void *p){ if(!p) return; size_t n = malloc_usable_size(p); int c = cls(n); atomic_fetch_sub(&live[c], n); atomic_fetch_sub(&nlive[c],1);}
void *malloc(size_t n){ void *p = __libc_malloc(n); add(p); return p; }
void free(void *p){ sub(p); __libc_free(p); }
void *calloc(size_t a, size_t b){ void *p = __libc_calloc(a,b); add(p); return p; }
void *realloc(void *q, size_t n){ sub(q); void *p = __libc_realloc(q,n); if (p) add(p); else if (q && n) add(q); return p; }
void *memalign(size_t a, size_t n){ void *p = __libc_memalign(a,n); add(p); return p; }
void *aligned_alloc(size_t a, size_t n){ return memalign(a,n); }
int posix_memalign(void **r, size_t a, size_t n){ void *p = __libc_memalign(a,n); if(!p) return 12; add(p); *r = p; return 0; }

struct sample { long bufs, rss, anon, file, heap[4], n[4], arena, hblkhd, uord, ford, keepcost, threads; double t; };
static struct sample best_rss, best_heap; static long maxbufs;
static long rd(const char *f, const char *key){ FILE *fp = fopen(f,"r"); if(!fp) return -1; char line[256]; long v=-1; size_t k=strlen(key);
  while(fgets(line,sizeof line,fp)) if(!strncmp(line,key,k)){ v = atol(line+k); break;}
  fclose(fp); return v; }
static double now(void){ struct timespec ts; clock_gettime(CLOCK_MONOTONIC,&ts); return ts.tv_sec + ts.tv_nsec/1e9; }
static double t0;
static void take(struct sample *s){
  s->t = now()-t0;
  s->rss = rd("/proc/self/status","VmRSS:"); s->anon = rd("/proc/self/status","RssAnon:"); s->file = rd("/proc/self/status","RssFile:");
  s->threads = rd("/proc/self/status","Threads:");
  s->bufs = mapped/1024;
  for(int i=0;i<4;i++){ s->heap[i]=live[i]/1024; s->n[i]=nlive[i]; }
  struct mallinfo2 m = mallinfo2(); s->arena=m.arena/1024; s->hblkhd=m.hblkhd/1024; s->uord=m.uordblks/1024; s->ford=m.fordblks/1024; s->keepcost=m.keepcost/1024;
}
static void pr(const char *what, struct sample *s){
  long h = s->heap[0]+s->heap[1]+s->heap[2]+s->heap[3];
  fprintf(stderr, "MEMCOUNT %s t=%.2f bufs=%ld rss=%ld anon=%ld file=%ld threads=%ld | live heap=%ld KiB: <64K %ld (%ld) 64-256K %ld (%ld) 256K-1M %ld (%ld) >=1M %ld (%ld) | mallinfo arena=%ld mmapped=%ld inuse(arena)=%ld free(arena)=%ld top=%ld\n",
    what, s->t, s->bufs, s->rss, s->anon, s->file, s->threads, h, s->heap[0], s->n[0], s->heap[1], s->n[1], s->heap[2], s->n[2], s->heap[3], s->n[3], s->arena, s->hblkhd, s->uord, s->ford, s->keepcost);
}
static void *sampler(void *a){ (void)a; for(;;){ struct sample s; take(&s);
  long h = s.heap[0]+s.heap[1]+s.heap[2]+s.heap[3];
  if (s.rss > best_rss.rss) best_rss = s;
  if (s.bufs > maxbufs) maxbufs = s.bufs;
  if (h > best_heap.heap[0]+best_heap.heap[1]+best_heap.heap[2]+best_heap.heap[3]) best_heap = s;
  static int k; if (getenv("MEMCOUNT_SERIES") && ++k % 150 == 0) fprintf(stderr, "SERIES t=%.1f rss=%ld bufs=%ld arena=%ld inuse=%ld free=%ld\n", s.t, s.rss/1024, s.bufs/1024, s.arena/1024, s.uord/1024, s.ford/1024);
  usleep(2000);} return 0; }
__attribute__((destructor)) static void fin(void){ if(!ready) return; if (getenv("MEMCOUNT_OUT")) { FILE *f = fopen(getenv("MEMCOUNT_OUT"), "a"); if (f) { dup2(fileno(f), 2); } } pr("peak-rss", &best_rss); pr("peak-heap", &best_heap);
  fprintf(stderr,"MEMCOUNT VmHWM=%ld big_allocs=%ld maxbufs=%ld KiB\n", rd("/proc/self/status","VmHWM:"), big_allocs, maxmapped/1024); }
__attribute__((constructor)) static void init(void){ if (getenv("MEMCOUNT_OFF")) return; t0=now(); pthread_t t; pthread_attr_t at; pthread_attr_init(&at); pthread_attr_setstacksize(&at, 65536); pthread_create(&t,&at,sampler,0); ready=1; }
