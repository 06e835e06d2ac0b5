/*
 * vigint_scan: a folder's names and its files' lstat, without the objects Node makes for them (a
 * Dirent per name; a Stats with four Dates per lstat), a block of files at a time in threads of
 * its own; and a real run's unlinks, a batch at a time in threads of their own, each file looked at
 * again right before; and the log line of each file a sweep deletes (fileLine). The one native
 * part of vigint-cleanup, used by src/scan.ts, src/unlinks.ts and src/log-line.ts when it is built
 * (npm install builds it; scripts/native.js) and not turned off with VIGINT_CLEANUP_NATIVE=0;
 * without it the scan reads folders with Node's fs, the same names in the same order, to the same
 * result, unlinks one file at a time, and the lines are made in JavaScript, the same bytes. Why,
 * with figures: README, "Performance".
 *
 * It builds no path and follows no symlink but the folder itself (as opendir). It unlinks only the
 * paths it is given, each only while it is still the regular file the caller chose (unlinkStart).
 * Names are copied only into the caller's buffers, within their lengths.
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

struct dirent64_raw {
  uint64_t d_ino;
  int64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};

/*
 * A block's lstats: the marked entries of [0, count), claimed CHUNK entries at a time by every
 * thread that works on them (threads started for them, and the caller while it waits), so that
 * none waits while another still has many to do.
 */
typedef struct {
  int fd;
  const char *names;
  const int32_t *ends;
  const uint8_t *marks;
  double *out;
  int32_t count;
  atomic_int next; /* the next chunk to claim */
} Work;

/* The most threads one block's lstats use; the fewest marked entries that call for one more; a claim. */
#define MAX_THREADS 8
#define MIN_SHARE 64
#define CHUNK 32

/*
 * Work under way in threads of its own (lstatStart, unlinkStart) until it is waited for: the
 * threads, and references that keep the caller's buffers alive until every thread is done. The
 * threads are started with the first job and wait for the next one until their owner goes, or an
 * unlinker's sweep ends (stopThreads): a thread started for each block of a folder, or each batch
 * of a real run, cost more than the work it took over (a real run of 100,000 files made ~800 of
 * them; see the unlinker below for what keeping them saved).
 */
typedef struct Threads Threads;
typedef struct {
  Threads *owner;
  int32_t index;
} Helper;

struct Threads {
  const char *name;      /* the threads' name (ps -L, /proc/<pid>/task/<tid>/comm): 15 bytes at most */
  bool callerWaits;      /* the caller of endThreads only waits, unless no thread could be started */
  bool busy;
  bool ready;            /* lock and conditions made */
  bool quit;             /* the owner goes: the threads end */
  int32_t helpers;       /* threads on the job under way */
  int32_t pool;          /* threads started */
  int32_t working;       /* threads of the job under way not yet done with it */
  unsigned long job;     /* jobs started so far */
  void *(*fn)(void *);
  void *arg;
  pthread_t ids[MAX_THREADS];
  Helper slots[MAX_THREADS];
  pthread_mutex_t lock;
  pthread_cond_t wake;   /* a job was started, or the threads are to end */
  pthread_cond_t done;   /* a thread is done with the job */
  napi_ref refs[4];
};

/* A folder's block of lstats under way. */
typedef struct {
  Threads threads;
  Work work;
} Job;

/* An open folder, its last block of entries (getdents64), read through by `read`, and its job. */
typedef struct {
  int fd;
  long len;
  long pos;
  Job job;
  char block[32768];
} Folder;

static void endJob(napi_env env, Folder *f);
static void stopThreads(napi_env env, Threads *t);

/* Marks our folders, so that no other external can be taken for one. */
static const napi_type_tag FOLDER_TAG = {0x76696769e7f0a1c3ULL, 0x6e745f7363616e31ULL};

static napi_value number(napi_env env, double v) {
  napi_value r;
  napi_create_double(env, v, &r);
  return r;
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  Folder *f = data;
  stopThreads(env, &f->job.threads);
  if (f->fd >= 0) close(f->fd);
  free(f);
}

/* The data of an external made by `tagged` with `tag`; NULL for any other value. */
static void *externalOf(napi_env env, napi_value v, const napi_type_tag *tag) {
  bool ours = false;
  void *p = NULL;
  if (napi_check_object_type_tag(env, v, tag, &ours) != napi_ok || !ours || napi_get_value_external(env, v, &p) != napi_ok) return NULL;
  return p;
}

/* The data of the call's sole argument, an external made by `tagged` with `tag`; NULL otherwise. */
static void *externalArg(napi_env env, napi_callback_info info, const napi_type_tag *tag) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1) return NULL;
  return externalOf(env, argv[0], tag);
}

static Folder *folderOf(napi_env env, napi_value v) {
  return externalOf(env, v, &FOLDER_TAG);
}

static int bytesOf(napi_env env, napi_value v, char **data, size_t *len) {
  return napi_get_buffer_info(env, v, (void **)data, len) == napi_ok;
}

static int arrayOf(napi_env env, napi_value v, napi_typedarray_type want, void **data, size_t *len) {
  napi_typedarray_type type;
  napi_value buffer;
  size_t offset;
  return napi_get_typedarray_info(env, v, &type, len, data, &buffer, &offset) == napi_ok && type == want;
}

static napi_value invalid(napi_env env) {
  napi_throw_type_error(env, NULL, "vigint_scan: bad arguments");
  return NULL;
}

/* `data` as an external marked with `tag`; on a failure, `fin` lets it go and this throws. */
static napi_value tagged(napi_env env, void *data, napi_finalize fin, const napi_type_tag *tag) {
  napi_value out;
  if (napi_create_external(env, data, fin, NULL, &out) != napi_ok) {
    fin(env, data, NULL);
    return invalid(env);
  }
  if (napi_type_tag_object(env, out, tag) != napi_ok) return invalid(env);
  return out;
}

/* open(path: Buffer ending in a NUL byte) -> a folder, or -errno */
static napi_value Open(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  char *path;
  size_t len;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || !bytesOf(env, argv[0], &path, &len) || len == 0 ||
      path[len - 1] != '\0')
    return invalid(env);
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return number(env, -errno);
  Folder *f = calloc(1, sizeof(Folder));
  if (f == NULL) {
    close(fd);
    return number(env, -ENOMEM);
  }
  f->fd = fd;
  f->len = 0;
  f->pos = 0;
  f->job.threads.name = "vigint-lstat";
  return tagged(env, f, finalize, &FOLDER_TAG);
}

/*
 * read(folder, names: Buffer, types: Uint8Array, ends: Int32Array, from, to, count) -> how many
 * entries it put in `names` (0: the folder is read through), or -errno. Each name is copied with
 * its NUL byte; ends[i] is the offset just past entry i's NUL, types[i] its d_type. With
 * count > 1, only names whose FNV-1a hash over their bytes, modulo count, is in [from, to).
 * "." and ".." are left out. Stops at the end of a block once it has some entries.
 */
static napi_value Read(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  char *names;
  size_t namesLen, typesLen, endsLen;
  void *typesData, *endsData;
  int32_t from, to, count;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 7) return invalid(env);
  Folder *f = folderOf(env, argv[0]);
  if (f == NULL || !bytesOf(env, argv[1], &names, &namesLen) || !arrayOf(env, argv[2], napi_uint8_array, &typesData, &typesLen) ||
      !arrayOf(env, argv[3], napi_int32_array, &endsData, &endsLen) || napi_get_value_int32(env, argv[4], &from) != napi_ok ||
      napi_get_value_int32(env, argv[5], &to) != napi_ok || napi_get_value_int32(env, argv[6], &count) != napi_ok || count < 1)
    return invalid(env);
  if (f->fd < 0) return number(env, -EBADF);
  /* the buffers of a block whose lstats are under way (lstatStart) are not written meanwhile */
  if (f->job.threads.busy && (f->job.work.names == names || (const void *)f->job.work.ends == endsData)) return number(env, -EBUSY);
  uint8_t *types = typesData;
  int32_t *ends = endsData;
  size_t n = 0, used = 0;
  for (;;) {
    if (f->pos >= f->len) {
      if (n > 0) break;
      long got = syscall(SYS_getdents64, f->fd, f->block, sizeof f->block);
      /* a folder removed while it is read: its end, as readdir(3) takes it */
      if (got < 0 && errno == ENOENT) return number(env, 0);
      if (got < 0) return number(env, -errno);
      if (got == 0) return number(env, 0);
      f->len = got;
      f->pos = 0;
    }
    struct dirent64_raw *e = (struct dirent64_raw *)(f->block + f->pos);
    const size_t head = offsetof(struct dirent64_raw, d_name);
    if (f->len - f->pos < (long)head || e->d_reclen <= head || e->d_reclen > f->len - f->pos) return number(env, -EIO);
    const char *name = e->d_name;
    size_t len = strnlen(name, e->d_reclen - head);
    if (len == e->d_reclen - head) return number(env, -EIO); /* a name without its NUL byte */
    if (n >= typesLen || n >= endsLen || used + len + 1 > namesLen || used + len + 1 > INT32_MAX) {
      if (n == 0) return number(env, -ENAMETOOLONG); /* the caller's buffer cannot hold one name */
      break;
    }
    f->pos += e->d_reclen;
    if (name[0] == '.' && (len == 1 || (len == 2 && name[1] == '.'))) continue;
    if (count > 1) {
      uint32_t h = 0x811c9dc5u;
      for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)name[i]) * 0x01000193u;
      int32_t bucket = (int32_t)(h % (uint32_t)count);
      if (bucket < from || bucket >= to) continue;
    }
    memcpy(names + used, name, len);
    names[used + len] = '\0';
    used += len + 1;
    types[n] = e->d_type;
    ends[n] = (int32_t)used;
    n++;
  }
  return number(env, (double)n);
}

/* What an lstat says, as 8 numbers: mode, dev, ino, size, blocks, nlink, and mtimeMs and ctimeMs as Node computes them. */
static void fill(double *o, const struct stat *st) {
  o[0] = (double)st->st_mode;
  o[1] = (double)st->st_dev;
  o[2] = (double)st->st_ino;
  o[3] = (double)st->st_size;
  o[4] = (double)st->st_blocks;
  o[5] = (double)st->st_nlink;
  o[6] = (double)st->st_mtim.tv_sec * 1e3 + (double)st->st_mtim.tv_nsec / 1e6;
  o[7] = (double)st->st_ctim.tv_sec * 1e3 + (double)st->st_ctim.tv_nsec / 1e6;
}

/*
 * lstat(folder or null, names: Buffer, at: offset of a NUL-ended name or path, out:
 * Float64Array(8)) -> 0, or -errno. With a folder, the name is looked up in it; with null, as a
 * system call given that name or path looks it up (from the working directory): the very file an
 * unlink given the same name would remove, were the folder moved and another put in its place.
 */
static napi_value Lstat(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  char *names;
  size_t namesLen, outLen;
  void *outData;
  int32_t at;
  napi_valuetype first;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 4 || napi_typeof(env, argv[0], &first) != napi_ok) return invalid(env);
  Folder *f = first == napi_null ? NULL : folderOf(env, argv[0]);
  if ((first != napi_null && f == NULL) || !bytesOf(env, argv[1], &names, &namesLen) || napi_get_value_int32(env, argv[2], &at) != napi_ok || at < 0 ||
      (size_t)at >= namesLen || memchr(names + at, '\0', namesLen - (size_t)at) == NULL || !arrayOf(env, argv[3], napi_float64_array, &outData, &outLen) ||
      outLen < 8)
    return invalid(env);
  if (f != NULL && f->fd < 0) return number(env, -EBADF);
  struct stat st;
  if (fstatat(f == NULL ? AT_FDCWD : f->fd, names + at, &st, AT_SYMLINK_NOFOLLOW) != 0) return number(env, -errno);
  fill(outData, &st);
  return number(env, 0);
}

/* A thread of a pool: each job it is among the helpers of, until the owner goes. */
static void *helper(void *arg) {
  Helper *h = arg;
  Threads *t = h->owner;
  unsigned long seen = 0;
  pthread_setname_np(pthread_self(), t->name);
  pthread_mutex_lock(&t->lock);
  for (;;) {
    while (!t->quit && t->job == seen) pthread_cond_wait(&t->wake, &t->lock);
    if (t->quit) break;
    seen = t->job;
    if (h->index >= t->helpers) continue;
    void *(*fn)(void *) = t->fn;
    void *work = t->arg;
    pthread_mutex_unlock(&t->lock);
    fn(work);
    pthread_mutex_lock(&t->lock);
    if (--t->working == 0) pthread_cond_signal(&t->done);
  }
  pthread_mutex_unlock(&t->lock);
  return NULL;
}

/*
 * References to argv[keep[i]], the buffers a job's threads read, that keep them alive until
 * letGo; false if one cannot be made (then none is held).
 */
static bool hold(napi_env env, napi_value *argv, const int keep[4], napi_ref refs[4]) {
  for (int i = 0; i < 4; i++) {
    if (napi_create_reference(env, argv[keep[i]], 1, &refs[i]) != napi_ok) {
      while (i-- > 0) napi_delete_reference(env, refs[i]);
      return false;
    }
  }
  return true;
}

/* Lets go of what `hold` held. */
static void letGo(napi_env env, napi_ref refs[4]) {
  for (int i = 0; i < 4; i++) napi_delete_reference(env, refs[i]);
}

/*
 * Sets `threads` threads on fn(arg) (the pool's, started as needed), holding argv[keep[i]] until
 * endThreads; false if a reference cannot be made (nothing started). A thread that cannot be
 * started leaves its part to the others, and to the one that ends them.
 */
static bool startThreads(napi_env env, Threads *t, napi_value *argv, const int keep[4], void *(*fn)(void *), void *arg, int32_t threads) {
  if (!hold(env, argv, keep, t->refs)) return false;
  if (!t->ready) {
    pthread_mutex_init(&t->lock, NULL);
    pthread_cond_init(&t->wake, NULL);
    pthread_cond_init(&t->done, NULL);
    t->ready = true;
  }
  pthread_mutex_lock(&t->lock);
  while (t->pool < threads) {
    t->slots[t->pool] = (Helper){.owner = t, .index = t->pool};
    if (pthread_create(&t->ids[t->pool], NULL, helper, &t->slots[t->pool]) != 0) break;
    t->pool++;
  }
  t->busy = true;
  t->fn = fn;
  t->arg = arg;
  t->helpers = threads < t->pool ? threads : t->pool;
  t->working = t->helpers;
  t->job++;
  pthread_cond_broadcast(&t->wake);
  pthread_mutex_unlock(&t->lock);
  return true;
}

/*
 * Does what is left of the job in this thread (unless `callerWaits`), waits for its threads, lets
 * the buffers go; at once if none is under way.
 */
static void endThreads(napi_env env, Threads *t) {
  if (!t->busy) return;
  if (!t->callerWaits || t->helpers == 0) t->fn(t->arg);
  pthread_mutex_lock(&t->lock);
  while (t->working > 0) pthread_cond_wait(&t->done, &t->lock);
  pthread_mutex_unlock(&t->lock);
  letGo(env, t->refs);
  t->busy = false;
}

/* Ends the job under way, then the threads (their owner goes); again, it does nothing. */
static void stopThreads(napi_env env, Threads *t) {
  endThreads(env, t);
  if (!t->ready) return;
  pthread_mutex_lock(&t->lock);
  t->quit = true;
  pthread_cond_broadcast(&t->wake);
  pthread_mutex_unlock(&t->lock);
  for (int32_t i = 0; i < t->pool; i++) pthread_join(t->ids[i], NULL);
  pthread_mutex_destroy(&t->lock);
  pthread_cond_destroy(&t->wake);
  pthread_cond_destroy(&t->done);
  t->pool = 0;
  t->ready = false;
  t->quit = false;
  t->job = 0;
}

/* The next chunk of [0, count) not yet claimed, into [*from, *to); false once none is left. */
static bool claim(atomic_int *next, int32_t count, int32_t chunk, int32_t *from, int32_t *to) {
  const int32_t c = atomic_fetch_add(next, 1);
  if (c >= (count + chunk - 1) / chunk) return false;
  *from = c * chunk;
  *to = *from + chunk < count ? *from + chunk : count;
  return true;
}

/* Looks at the marked entries of [from, end): 8 numbers each into out, or out[8i] = -errno. */
static void lookAt(int fd, const char *names, const int32_t *ends, const uint8_t *marks, double *out, int32_t from, int32_t end) {
  for (int32_t i = from; i < end; i++) {
    if (!marks[i]) continue;
    struct stat st;
    double *o = out + (size_t)i * 8;
    if (fstatat(fd, names + (i == 0 ? 0 : ends[i - 1]), &st, AT_SYMLINK_NOFOLLOW) != 0) o[0] = -errno;
    else fill(o, &st);
  }
}

/* Claims chunks of the block and looks at their marked entries, until none is left. */
static void *lstatWork(void *arg) {
  Work *w = arg;
  for (int32_t from, end; claim(&w->next, w->count, CHUNK, &from, &end);) lookAt(w->fd, w->names, w->ends, w->marks, w->out, from, end);
  return NULL;
}

/* Each marked name of [0, count) lies within the buffer and ends with its NUL byte. */
static bool namesWithin(const char *names, size_t namesLen, const int32_t *ends, const uint8_t *marks, int32_t count, int32_t *marked) {
  int32_t n = 0;
  for (int32_t i = 0, start = 0; i < count; start = ends[i], i++) {
    if (!marks[i]) continue;
    if (start < 0 || ends[i] <= start || (size_t)ends[i] > namesLen || names[ends[i] - 1] != '\0') return false;
    n++;
  }
  if (marked != NULL) *marked = n;
  return true;
}

/*
 * A block's arguments, argv[1] to argv[5] of lstatMany, lstatStart and aheadPush: names, ends:
 * Int32Array, marks: Uint8Array, count, out: Float64Array(8 * count), each marked name within
 * `names` and NUL-ended; into `work` (its fd and its next chunk left to the caller), with how
 * many are marked. False: bad arguments (nothing thrown).
 */
static bool blockOf(napi_env env, napi_value *argv, Work *work, int32_t *marked) {
  char *names;
  size_t namesLen, endsLen, marksLen, outLen;
  void *endsData, *marksData, *outData;
  int32_t count;
  if (!bytesOf(env, argv[1], &names, &namesLen) || !arrayOf(env, argv[2], napi_int32_array, &endsData, &endsLen) ||
      !arrayOf(env, argv[3], napi_uint8_array, &marksData, &marksLen) || napi_get_value_int32(env, argv[4], &count) != napi_ok || count < 0 ||
      (size_t)count > endsLen || (size_t)count > marksLen || !arrayOf(env, argv[5], napi_float64_array, &outData, &outLen) ||
      outLen < (size_t)count * 8 || !namesWithin(names, namesLen, endsData, marksData, count, marked))
    return false;
  work->names = names;
  work->ends = endsData;
  work->marks = marksData;
  work->out = outData;
  work->count = count;
  return true;
}

/*
 * The arguments of lstatMany and lstatStart: (folder, the block (blockOf)[, threads]), checked,
 * into `work`; `threads` lessened to one per MIN_SHARE marked entries (at least one), at most
 * MAX_THREADS. False: thrown.
 */
static bool workOf(napi_env env, napi_callback_info info, napi_value *argv, Folder **folder, Work *work, int32_t *threadsOut) {
  size_t argc = 7;
  int32_t threads = 1, marked = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 6) return invalid(env), false;
  Folder *f = folderOf(env, argv[0]);
  if (f == NULL || !blockOf(env, argv, work, &marked) || (argc > 6 && (napi_get_value_int32(env, argv[6], &threads) != napi_ok || threads < 1)))
    return invalid(env), false;
  if (threads > MAX_THREADS) threads = MAX_THREADS;
  if (threads > marked / MIN_SHARE) threads = marked / MIN_SHARE > 0 ? marked / MIN_SHARE : 1;
  work->fd = f->fd;
  atomic_init(&work->next, 0);
  *folder = f;
  *threadsOut = threads;
  return true;
}

/*
 * lstatMany(folder, names, ends: Int32Array, marks: Uint8Array, count, out: Float64Array(8 *
 * count)[, threads]) -> 0, or -errno: lstat of each marked entry of the last read, in one call
 * (a dry run's and status's whole block: fewer switches between JavaScript and the kernel).
 * out[8i..8i+7] as lstat's out; on a failure out[8i] = -errno (a mode is never negative). With
 * threads > 1, this thread and threads - 1 started for the call (and ended before it returns)
 * share the work: lstat is the kernel's work, and a block's files are independent of each other,
 * so they run side by side on as many cores.
 */
static napi_value LstatMany(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  Folder *f;
  Work work;
  pthread_t ids[MAX_THREADS];
  bool started[MAX_THREADS] = {false};
  int32_t threads;
  if (!workOf(env, info, argv, &f, &work, &threads)) return NULL;
  if (f->fd < 0) return number(env, -EBADF);
  if (f->job.threads.busy) return number(env, -EBUSY);
  /* (a thread that cannot be started leaves its part to the others) */
  for (int32_t t = 1; t < threads; t++) started[t] = pthread_create(&ids[t], NULL, lstatWork, &work) == 0;
  lstatWork(&work);
  for (int32_t t = 1; t < threads; t++) {
    if (started[t]) pthread_join(ids[t], NULL);
  }
  return number(env, 0);
}

/*
 * lstatStart(the arguments of lstatMany) -> 0, or -errno (-EBUSY: the folder's last block is
 * still under way): the same lstats, in `threads` threads started for them, while this one goes
 * on (it reads and sorts the next block into other buffers meanwhile, and helps once it waits).
 * The buffers given are kept alive, and must not be changed, until lstatWait(folder); `out` is
 * filled once that returned.
 */
static napi_value LstatStart(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  Folder *f;
  Work work;
  int32_t threads;
  if (!workOf(env, info, argv, &f, &work, &threads)) return NULL;
  if (f->fd < 0) return number(env, -EBADF);
  Job *job = &f->job;
  if (job->threads.busy) return number(env, -EBUSY);
  job->work = work; /* (copied before any thread sees it: `next` is still 0) */
  atomic_init(&job->work.next, 0);
  static const int keep[4] = {1, 2, 3, 5};
  if (!startThreads(env, &job->threads, argv, keep, lstatWork, &job->work, threads)) return invalid(env);
  return number(env, 0);
}

/* Does what is left of the folder's block under way, if any, waits for its threads, and lets its buffers go. */
static void endJob(napi_env env, Folder *f) {
  endThreads(env, &f->job.threads);
}

/* lstatWait(folder) -> 0 once the block given to lstatStart is done and its `out` filled (at once if none is under way) */
static napi_value LstatWait(napi_env env, napi_callback_info info) {
  Folder *f = externalArg(env, info, &FOLDER_TAG);
  if (f == NULL) return invalid(env);
  endJob(env, f);
  return number(env, 0);
}

/*
 * A listing's lstats, ahead of its scan: while the CLI's count reads a folder's names (before a
 * dry run or status in this thread), each block it read is handed over (aheadPush) and a thread
 * of the listing's own looks at the block's marked entries, block after block, in order; the
 * scan that takes the listing waits for a block (aheadWait) only if it gets there first, and
 * then helps. So the folder's looks run beside its reading, and then beside the handling of the
 * files, where before the count read the whole folder first with the other core idle.
 */
typedef struct {
  Work work;        /* in the listing's folder (its fd is the listing's copy) */
  atomic_int left;  /* chunks not yet done */
  bool held;        /* refs still held */
  napi_ref refs[4]; /* names, ends, marks, out */
} AheadBlock;

typedef struct {
  int fd; /* the folder, as the count opened it (a copy of its descriptor) */
  pthread_mutex_t lock;
  pthread_cond_t more; /* a block was pushed, or the listing goes */
  pthread_cond_t done; /* a block is done */
  AheadBlock **blocks;
  int32_t cap;
  int32_t pushed;
  int32_t first;  /* the thread's: the first block that may have chunks left to claim */
  int32_t helped; /* aheadWait's: blocks before it have none left to claim */
  atomic_bool quit;
  bool started;
  bool ended;
  pthread_t thread;
} Ahead;

static const napi_type_tag AHEAD_TAG = {0x76696769e7f0a1c5ULL, 0x6e745f6168656164ULL};

/* Claims and does chunks of `b` until none is left to claim (or the listing goes). */
static void aheadBlockWork(Ahead *a, AheadBlock *b) {
  Work *w = &b->work;
  for (int32_t from, end; !atomic_load(&a->quit) && claim(&w->next, w->count, CHUNK, &from, &end);) {
    lookAt(w->fd, w->names, w->ends, w->marks, w->out, from, end);
    if (atomic_fetch_sub(&b->left, 1) == 1) {
      pthread_mutex_lock(&a->lock);
      pthread_cond_broadcast(&a->done);
      pthread_mutex_unlock(&a->lock);
    }
  }
}

static void *aheadThread(void *arg) {
  Ahead *a = arg;
  pthread_mutex_lock(&a->lock);
  for (;;) {
    while (!atomic_load(&a->quit) && a->first >= a->pushed) pthread_cond_wait(&a->more, &a->lock);
    if (atomic_load(&a->quit)) break;
    const int32_t i = a->first;
    AheadBlock *b = a->blocks[i];
    pthread_mutex_unlock(&a->lock);
    aheadBlockWork(a, b);
    pthread_mutex_lock(&a->lock);
    if (a->first == i) a->first = i + 1;
  }
  pthread_mutex_unlock(&a->lock);
  return NULL;
}

/* Ends the thread, lets every block's buffers go, closes the descriptor; again, it does nothing. */
static void endAhead(napi_env env, Ahead *a) {
  if (a->ended) return;
  a->ended = true;
  pthread_mutex_lock(&a->lock);
  atomic_store(&a->quit, true);
  pthread_cond_broadcast(&a->more);
  pthread_mutex_unlock(&a->lock);
  if (a->started) pthread_join(a->thread, NULL);
  for (int32_t i = 0; i < a->pushed; i++) {
    AheadBlock *b = a->blocks[i];
    if (b->held) letGo(env, b->refs);
    free(b);
  }
  free(a->blocks);
  a->blocks = NULL;
  a->pushed = 0;
  close(a->fd);
  pthread_mutex_destroy(&a->lock);
  pthread_cond_destroy(&a->more);
  pthread_cond_destroy(&a->done);
}

static void finalizeAhead(napi_env env, void *data, void *hint) {
  (void)hint;
  endAhead(env, data);
  free(data);
}

static Ahead *aheadOf(napi_env env, napi_value v) {
  return externalOf(env, v, &AHEAD_TAG);
}

/* aheadStart(folder) -> a listing's lookahead in that folder (its thread starts with the first block), or -errno */
static napi_value AheadStart(napi_env env, napi_callback_info info) {
  Folder *f = externalArg(env, info, &FOLDER_TAG);
  if (f == NULL) return invalid(env);
  if (f->fd < 0) return number(env, -EBADF);
  int fd = fcntl(f->fd, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) return number(env, -errno);
  Ahead *a = calloc(1, sizeof(Ahead));
  if (a == NULL) {
    close(fd);
    return number(env, -ENOMEM);
  }
  a->fd = fd;
  atomic_init(&a->quit, false);
  pthread_mutex_init(&a->lock, NULL);
  pthread_cond_init(&a->more, NULL);
  pthread_cond_init(&a->done, NULL);
  return tagged(env, a, finalizeAhead, &AHEAD_TAG);
}

/*
 * aheadPush(ahead, names, ends: Int32Array, marks: Uint8Array, count, out: Float64Array(8 *
 * count)) -> the block's index (0, 1, ... in the order pushed), or -errno: its marked entries are
 * looked at as lstatMany does, in the listing's thread (or, if it cannot be started, in
 * aheadWait). The buffers are kept alive, and must not be changed, until aheadWait(ahead, index)
 * returned or the listing ended.
 */
static napi_value AheadPush(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  Work work;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 6) return invalid(env);
  Ahead *a = aheadOf(env, argv[0]);
  if (a == NULL || !blockOf(env, argv, &work, NULL) || work.count < 1) return invalid(env);
  if (a->ended) return number(env, -EBADF);
  if (a->pushed == INT32_MAX) return number(env, -ENOMEM);
  AheadBlock *b = calloc(1, sizeof(AheadBlock));
  if (b == NULL) return number(env, -ENOMEM);
  static const int keep[4] = {1, 2, 3, 5};
  if (!hold(env, argv, keep, b->refs)) {
    free(b);
    return invalid(env);
  }
  b->held = true;
  b->work = work;
  b->work.fd = a->fd;
  atomic_init(&b->work.next, 0);
  atomic_init(&b->left, (work.count + CHUNK - 1) / CHUNK);
  pthread_mutex_lock(&a->lock);
  if (a->pushed == a->cap) {
    const int32_t cap = a->cap == 0 ? 64 : a->cap * 2;
    AheadBlock **grown = realloc(a->blocks, (size_t)cap * sizeof *grown);
    if (grown == NULL) {
      pthread_mutex_unlock(&a->lock);
      letGo(env, b->refs);
      free(b);
      return number(env, -ENOMEM);
    }
    a->blocks = grown;
    a->cap = cap;
  }
  const int32_t index = a->pushed++;
  a->blocks[index] = b;
  pthread_cond_signal(&a->more);
  pthread_mutex_unlock(&a->lock);
  /* (a thread that cannot be started leaves the looks to aheadWait) */
  if (!a->started && pthread_create(&a->thread, NULL, aheadThread, a) == 0) {
    a->started = true;
    pthread_setname_np(a->thread, "vigint-lstat"); /* (named at once, not when it first runs) */
  }
  return number(env, index);
}

/*
 * aheadWait(ahead, index) -> 0 once block `index` is done and its `out` filled, its buffers let go
 * (this thread does what is left to claim of it and of the blocks before it); -EBADF once the
 * listing ended.
 */
static napi_value AheadWait(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t index;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2) return invalid(env);
  Ahead *a = aheadOf(env, argv[0]);
  if (a == NULL || napi_get_value_int32(env, argv[1], &index) != napi_ok || index < 0) return invalid(env);
  if (a->ended) return number(env, -EBADF);
  if (index >= a->pushed) return invalid(env);
  /* (blocks are pushed and the array grown in this thread only: read here without the lock) */
  for (; a->helped <= index; a->helped++) aheadBlockWork(a, a->blocks[a->helped]);
  AheadBlock *b = a->blocks[index];
  pthread_mutex_lock(&a->lock);
  while (atomic_load(&b->left) > 0) pthread_cond_wait(&a->done, &a->lock);
  pthread_mutex_unlock(&a->lock);
  if (b->held) {
    letGo(env, b->refs);
    b->held = false;
  }
  return number(env, 0);
}

/* aheadEnd(ahead): its thread ended (a chunk under way finishes), its buffers let go; at once (the finalizer would, later) */
static napi_value AheadEnd(napi_env env, napi_callback_info info) {
  Ahead *a = externalArg(env, info, &AHEAD_TAG);
  if (a == NULL) return invalid(env);
  endAhead(env, a);
  return NULL;
}

/*
 * The unlinker: a real run's deletions, a batch at a time, in threads of their own (unlinkStart)
 * while the sweep goes on, until unlinkWait. Each file is looked at again right before its unlink,
 * by the very name the unlink is given, and deleted only if it is still the file the sweep chose
 * (src/plan.ts, stillDeletable): a regular file, the same device, inode and change time, and a
 * modification time still before the cutoff. The caller of unlinkWait only waits, for two threads
 * of the unlinker's own, kept from batch to batch: a real run of 100,000 sparse files in the
 * library's thread (4 rounds on fresh copies, 2 cores) took 0.78-0.91 s that way, 0.92-1.07 s with
 * a thread started per batch and the caller unlinking beside it; in 4 more rounds, 0.69-0.91 s
 * with two kept threads, 0.88-1.03 s with one.
 */
typedef struct {
  const char *paths;
  const int32_t *ends;
  const double *expect; /* 4 per file: dev, ino, ctimeMs, unused */
  double *results;      /* 2 per file (see unlinkStart), and the unlinks' time in all (ms) */
  double cutoff;
  int32_t count;
  atomic_int next;
  _Atomic long long unlinkNs;
  atomic_bool cancel; /* set when the unlinker goes (the program ends): no further unlink starts */
} Deletions;

typedef struct {
  Threads threads;
  Deletions work;
} Unlinker;

static const napi_type_tag UNLINKER_TAG = {0x76696769e7f0a1c4ULL, 0x6e745f756e6c6e6bULL};
#define UNLINK_CHUNK 4

static void *unlinkWork(void *arg) {
  Deletions *w = arg;
  for (int32_t from, end; claim(&w->next, w->count, UNLINK_CHUNK, &from, &end);) {
    for (int32_t i = from; i < end; i++) {
      if (atomic_load(&w->cancel)) return NULL;
      const char *path = w->paths + (i == 0 ? 0 : w->ends[i - 1]);
      const double *e = w->expect + (size_t)i * 4;
      double *r = w->results + (size_t)i * 2;
      struct stat st;
      double now[8];
      if (fstatat(AT_FDCWD, path, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        r[0] = -errno;
        r[1] = 1; /* lstat */
        continue;
      }
      fill(now, &st);
      if (!S_ISREG(st.st_mode) || now[1] != e[0] || now[2] != e[1] || now[7] != e[2] || !(now[6] < w->cutoff)) {
        r[0] = 1; /* changed since the sweep chose it: kept */
        r[1] = now[6];
        continue;
      }
      struct timespec t0, t1;
      clock_gettime(CLOCK_MONOTONIC, &t0);
      const int failed = unlink(path) != 0 ? errno : 0;
      clock_gettime(CLOCK_MONOTONIC, &t1);
      atomic_fetch_add(&w->unlinkNs, (long long)(t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec));
      r[0] = -failed;
      r[1] = 2; /* unlink */
    }
  }
  return NULL;
}

static void endUnlinks(napi_env env, Unlinker *u) {
  if (!u->threads.busy) return;
  endThreads(env, &u->threads);
  u->work.results[(size_t)u->work.count * 2] = (double)atomic_load(&u->work.unlinkNs) / 1e6;
}

static void finalizeUnlinker(napi_env env, void *data, void *hint) {
  (void)hint;
  /* gone unreported (the program ends, or the sweep was dropped): what has not started does not start */
  Unlinker *u = data;
  if (u->threads.busy) atomic_store(&u->work.cancel, true);
  endUnlinks(env, data);
  stopThreads(env, &u->threads);
  free(data);
}

static Unlinker *unlinkerOf(napi_env env, napi_value v) {
  return externalOf(env, v, &UNLINKER_TAG);
}

/* unlinker() -> an unlinker (one batch at a time) */
static napi_value NewUnlinker(napi_env env, napi_callback_info info) {
  (void)info;
  Unlinker *u = calloc(1, sizeof(Unlinker));
  if (u == NULL) return invalid(env);
  u->threads.callerWaits = true;
  u->threads.name = "vigint-unlink";
  return tagged(env, u, finalizeUnlinker, &UNLINKER_TAG);
}

/*
 * unlinkStart(unlinker, paths: Buffer, ends: Int32Array, expect: Float64Array(4 * count), count,
 * cutoff, results: Float64Array(2 * count + 1), threads) -> 0, or -EBUSY (the last batch is still
 * under way): file i's NUL-ended path (or name, from the working directory) ends at ends[i]; it is
 * looked at and unlinked as above, in `threads` of the unlinker's threads (started with its first
 * batch, kept until unlinkEnd; the caller's, in unlinkWait, only if none could be started). Once
 * unlinkWait returned: results[2i] is 0 (deleted; results[2i + 1] = 2), -errno (results[2i + 1]:
 * 1 the lstat failed, 2 the unlink), or 1 (changed, kept: results[2i + 1] is its modification
 * time now); results[2 * count] the time spent in unlink in all, in ms. The buffers are kept
 * alive, and must not be changed, until then.
 */
static napi_value UnlinkStart(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  char *paths;
  size_t pathsLen, endsLen, expectLen, resultsLen;
  void *endsData, *expectData, *resultsData;
  int32_t count, threads;
  double cutoff;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 8) return invalid(env);
  Unlinker *u = unlinkerOf(env, argv[0]);
  if (u == NULL || !bytesOf(env, argv[1], &paths, &pathsLen) || !arrayOf(env, argv[2], napi_int32_array, &endsData, &endsLen) ||
      !arrayOf(env, argv[3], napi_float64_array, &expectData, &expectLen) || napi_get_value_int32(env, argv[4], &count) != napi_ok || count < 0 ||
      (size_t)count > endsLen || expectLen < (size_t)count * 4 || napi_get_value_double(env, argv[5], &cutoff) != napi_ok ||
      !arrayOf(env, argv[6], napi_float64_array, &resultsData, &resultsLen) || resultsLen < (size_t)count * 2 + 1 ||
      napi_get_value_int32(env, argv[7], &threads) != napi_ok || threads < 1)
    return invalid(env);
  const int32_t *ends = endsData;
  for (int32_t i = 0, start = 0; i < count; start = ends[i], i++) {
    /* each path within the buffer, ending with its NUL byte */
    if (start < 0 || ends[i] <= start || (size_t)ends[i] > pathsLen || paths[ends[i] - 1] != '\0') return invalid(env);
  }
  if (u->threads.busy) return number(env, -EBUSY);
  u->work = (Deletions){.paths = paths, .ends = ends, .expect = expectData, .results = resultsData, .cutoff = cutoff, .count = count};
  atomic_init(&u->work.next, 0);
  atomic_init(&u->work.unlinkNs, 0);
  atomic_init(&u->work.cancel, false);
  if (threads > MAX_THREADS) threads = MAX_THREADS;
  if (threads > (count + UNLINK_CHUNK - 1) / UNLINK_CHUNK) threads = (count + UNLINK_CHUNK - 1) / UNLINK_CHUNK;
  static const int keep[4] = {1, 2, 3, 6};
  if (!startThreads(env, &u->threads, argv, keep, unlinkWork, &u->work, threads)) return invalid(env);
  return number(env, 0);
}

/* unlinkWait(unlinker) -> 0 once the batch under way is done, its results filled (at once if none is) */
static napi_value UnlinkWait(napi_env env, napi_callback_info info) {
  Unlinker *u = externalArg(env, info, &UNLINKER_TAG);
  if (u == NULL) return invalid(env);
  endUnlinks(env, u);
  return number(env, 0);
}

/*
 * unlinkEnd(unlinker) -> 0 once the batch under way is done (as unlinkWait) and the unlinker's
 * threads have ended. They wait for the next batch until then: a sweep ends them when its unlinks
 * are done (an unlinker goes only when collected, and a host that runs the cleanup every day must
 * not keep idle threads until then); a later batch starts them anew.
 */
static napi_value UnlinkEnd(napi_env env, napi_callback_info info) {
  Unlinker *u = externalArg(env, info, &UNLINKER_TAG);
  if (u == NULL) return invalid(env);
  endUnlinks(env, u);
  stopThreads(env, &u->threads);
  return number(env, 0);
}

/* close(folder): at once (the finalizer would, later) */
static napi_value Close(napi_env env, napi_callback_info info) {
  Folder *f = externalArg(env, info, &FOLDER_TAG);
  if (f == NULL) return invalid(env);
  stopThreads(env, &f->job.threads);
  if (f->fd >= 0) close(f->fd);
  f->fd = -1;
  return NULL;
}

/*
 * The log line of one file (src/log-line.ts, fileLineInto, whose bytes these are to the byte):
 * `start`, the path (`folder` and the file's name), `","size":`, the size, `,"mtime":"`, the
 * mtime as Date#toISOString writes it, `end`. A sweep writes one per old file; made here, a line
 * costs one call instead of ~1 us of JavaScript that V8 has yet to compile when a run is short.
 */

/* Days since 1970-01-01 as a civil date (H. Hinnant's days_from_civil, inverted). */
static void civil(int64_t days, int64_t *y, int *m, int *d) {
  days += 719468;
  int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  int64_t doe = days - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  *d = (int)(doy - (153 * mp + 2) / 5 + 1);
  *m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

static char *digitsOf(char *to, uint64_t n, int width) {
  char tmp[24];
  int len = 0;
  do {
    tmp[len++] = (char)('0' + n % 10);
    n /= 10;
  } while (n > 0);
  while (len < width) tmp[len++] = '0';
  while (len > 0) *to++ = tmp[--len];
  return to;
}

/* ms as Date#toISOString (24 bytes), or NULL for a time outside the years 0000-9999 (it has its own form). */
static char *isoOf(char *to, double ms) {
  if (!(ms > -62167219200001.0 && ms < 253402300800000.0)) return NULL;
  int64_t whole = (int64_t)ms; /* (toward zero, as Math.trunc) */
  int64_t day = whole / 86400000;
  int64_t rest = whole % 86400000;
  if (rest < 0) {
    rest += 86400000;
    day--;
  }
  int64_t y;
  int m, d;
  civil(day, &y, &m, &d);
  if (y < 0 || y > 9999) return NULL;
  to = digitsOf(to, (uint64_t)y, 4);
  *to++ = '-';
  to = digitsOf(to, (uint64_t)m, 2);
  *to++ = '-';
  to = digitsOf(to, (uint64_t)d, 2);
  *to++ = 'T';
  to = digitsOf(to, (uint64_t)(rest / 3600000), 2);
  *to++ = ':';
  to = digitsOf(to, (uint64_t)(rest / 60000 % 60), 2);
  *to++ = ':';
  to = digitsOf(to, (uint64_t)(rest / 1000 % 60), 2);
  *to++ = '.';
  to = digitsOf(to, (uint64_t)(rest % 1000), 3);
  *to++ = 'Z';
  return to;
}

/*
 * fileLine(buf, at, start, folder, name, size, mtimeMs, end) -> the line's end in buf, or -1 when
 * it cannot be made so (nothing to use past `at`): a name with a character JSON escapes or that is
 * not printable ASCII, a size that is not a safe integer >= 0, an mtime outside the years
 * 0000-9999, or not room enough in buf. `folder` is taken as it is (its caller checked it).
 */
static napi_value FileLine(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  char *buf, *start, *folder, *end;
  size_t bufLen, startLen, folderLen, endLen, nameLen;
  int64_t at;
  double size, ms;
  napi_valuetype nameType;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 8 || !bytesOf(env, argv[0], &buf, &bufLen) ||
      napi_get_value_int64(env, argv[1], &at) != napi_ok || at < 0 || (size_t)at > bufLen || !bytesOf(env, argv[2], &start, &startLen) ||
      !bytesOf(env, argv[3], &folder, &folderLen) || napi_typeof(env, argv[4], &nameType) != napi_ok || nameType != napi_string ||
      napi_get_value_double(env, argv[5], &size) != napi_ok || napi_get_value_double(env, argv[6], &ms) != napi_ok || !bytesOf(env, argv[7], &end, &endLen))
    return invalid(env);
  if (!(size >= 0 && size <= 9007199254740991.0) || size != (double)(uint64_t)size) return number(env, -1);
  /* the name's length in UTF-16 units, as JavaScript counts it: a printable ASCII name has as many bytes */
  size_t units;
  if (napi_get_value_string_utf16(env, argv[4], NULL, 0, &units) != napi_ok) return invalid(env);
  /* 9 and 10: the text between path and size, size and mtime; 16 digits of size at most; 24 of mtime */
  size_t fixed = startLen + folderLen + 9 + 16 + 10 + 24 + endLen;
  if ((size_t)at + fixed + units > bufLen) return number(env, -1);
  char *to = buf + at;
  memcpy(to, start, startLen);
  to += startLen;
  memcpy(to, folder, folderLen);
  to += folderLen;
  /*
   * The name's UTF-8 bytes, in place: at most `units` of them, and the NUL napi writes after them
   * (where the size's text goes next, within `fixed`). Fewer bytes than units: a character that is
   * not ASCII (napi writes no part of one), so declined, as are the bytes over 0x7e below.
   */
  if (napi_get_value_string_utf8(env, argv[4], to, units + 1, &nameLen) != napi_ok) return invalid(env);
  if (nameLen != units) return number(env, -1);
  for (size_t i = 0; i < nameLen; i++) {
    unsigned char c = (unsigned char)to[i];
    if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') return number(env, -1);
  }
  to += nameLen;
  memcpy(to, "\",\"size\":", 9);
  to = digitsOf(to + 9, (uint64_t)size, 1);
  memcpy(to, ",\"mtime\":\"", 10);
  to = isoOf(to + 10, ms);
  if (to == NULL) return number(env, -1);
  memcpy(to, end, endLen);
  return number(env, (double)(to + endLen - buf));
}

NAPI_MODULE_INIT() {
  static const struct { const char *name; napi_callback fn; } all[] = {{"open", Open}, {"read", Read}, {"lstat", Lstat}, {"lstatMany", LstatMany}, {"lstatStart", LstatStart}, {"lstatWait", LstatWait}, {"close", Close}, {"unlinker", NewUnlinker}, {"unlinkStart", UnlinkStart}, {"unlinkWait", UnlinkWait}, {"unlinkEnd", UnlinkEnd}, {"aheadStart", AheadStart}, {"aheadPush", AheadPush}, {"aheadWait", AheadWait}, {"aheadEnd", AheadEnd}, {"fileLine", FileLine}};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
    napi_value fn;
    if (napi_create_function(env, all[i].name, NAPI_AUTO_LENGTH, all[i].fn, NULL, &fn) != napi_ok ||
        napi_set_named_property(env, exports, all[i].name, fn) != napi_ok)
      return NULL;
  }
  return exports;
}
