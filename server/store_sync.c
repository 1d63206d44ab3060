/* Group commit of the SQLite store; see store_sync.h. */
#include "store_sync.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "conf/log.h"
#include "store_priv.h"

/* SQLite's own automatic checkpoint threshold, which installing a WAL
 * hook turns off: we run it from our hook instead. */
#define WAL_CHECKPOINT_PAGES 1000

/* Runs in the committing thread, inside sqlite3_step, with the store mutex
 * held: the commit's frames are written (not synced) by now. */
static int counted_commit(void *arg, sqlite3 *db, const char *name, int pages)
{
	struct store *st = arg;
	uint64_t n = __atomic_load_n(&st->commits, __ATOMIC_RELAXED) + 1;

	__atomic_store_n(&st->commits, n, __ATOMIC_RELEASE);
	st->unsynced = n;
	if (pages >= WAL_CHECKPOINT_PAGES)
		(void)sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	return SQLITE_OK;
}

static int sync_dir_of(const char *path)
{
	char copy[PATH_MAX];

	snprintf(copy, sizeof(copy), "%s", path);
	int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

int store_sync_open(struct store *st, const char *db_path)
{
	char wal[PATH_MAX];

	if (snprintf(wal, sizeof(wal), "%s-wal", db_path) >= (int)sizeof(wal))
		return STORE_ERR_ARG;
	if (pthread_mutex_init(&st->sync_lock, NULL) != 0)
		return STORE_ERR_NOMEM;
	if (pthread_cond_init(&st->synced, NULL) != 0) {
		pthread_mutex_destroy(&st->sync_lock);
		return STORE_ERR_NOMEM;
	}
	st->sync_ready = true;
	/* The schema work of store_open ran at synchronous=NORMAL too: make
	 * it, and the -wal and -shm names, durable before anything else. */
	st->wal_fd = open(wal, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (st->wal_fd < 0 || fdatasync(st->wal_fd) != 0 || sync_dir_of(db_path) != 0) {
		wlog(WLOG_ERROR, "store: cannot sync %s: %s", wal, strerror(errno));
		return STORE_ERR_DB;
	}
	sqlite3_wal_hook(st->db, counted_commit, st);
	return STORE_OK;
}

void store_sync_close(struct store *st)
{
	if (!st->sync_ready)
		return;
	if (st->db != NULL)
		sqlite3_wal_hook(st->db, NULL, NULL);
	if (st->wal_fd >= 0)
		close(st->wal_fd);
	st->wal_fd = -1;
	pthread_cond_destroy(&st->synced);
	pthread_mutex_destroy(&st->sync_lock);
	st->sync_ready = false;
}

/* The leader's round, with sync_lock released around the sync itself. */
static void lead_one_sync(struct store *st)
{
	/* Every commit numbered up to here has written its frames. */
	uint64_t covered = __atomic_load_n(&st->commits, __ATOMIC_ACQUIRE);

	st->syncing = true;
	pthread_mutex_unlock(&st->sync_lock);
	int rc = fdatasync(st->wal_fd);
	int e = errno;
	pthread_mutex_lock(&st->sync_lock);
	st->syncing = false;
	if (rc != 0) {
		st->broken = true;
		wlog(WLOG_ERROR,
		     "store: fdatasync of the WAL failed: %s; refusing writes until "
		     "restarted",
		     strerror(e));
	} else if (covered > st->durable) {
		st->durable = covered;
	}
	pthread_cond_broadcast(&st->synced);
}

int store_sync_wait(struct store *st, uint64_t seq)
{
	int rc = STORE_OK;

	if (seq == 0 || !st->sync_ready)
		return STORE_OK;
	pthread_mutex_lock(&st->sync_lock);
	while (!st->broken && st->durable < seq) {
		if (st->syncing)
			pthread_cond_wait(&st->synced, &st->sync_lock);
		else
			lead_one_sync(st);
	}
	if (st->broken)
		rc = STORE_ERR_DB;
	pthread_mutex_unlock(&st->sync_lock);
	return rc;
}

int store_sync_health(struct store *st)
{
	if (!st->sync_ready)
		return STORE_OK;
	pthread_mutex_lock(&st->sync_lock);
	bool broken = st->broken;
	pthread_mutex_unlock(&st->sync_lock);
	return broken ? STORE_ERR_DB : STORE_OK;
}
