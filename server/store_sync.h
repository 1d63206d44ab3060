/*
 * Group commit of the SQLite store: durability by one fdatasync of the WAL
 * shared by every commit made before it, instead of one fsync inside each
 * COMMIT under the store mutex.
 *
 * The connection runs with synchronous=NORMAL, so a COMMIT only writes its
 * WAL frames (no sync) and the store mutex is free again at once. Every
 * commit gets a sequence number (the WAL hook counts them). Before a
 * thread that committed answers, it waits until a sync that started after
 * its commit has finished: the first waiter becomes the leader and runs
 * fdatasync on the WAL file outside the store mutex; the commits made
 * while it runs are covered by the next one, whose leader is one of their
 * threads. So no answer is sent for a write that is not on disk, and N
 * concurrent writers cost about one sync per round instead of N.
 *
 * The WAL file is never replaced while our connection is open (SQLite
 * removes it only when the last connection closes), so the descriptor
 * opened once at open time stays the file SQLite writes. A checkpoint
 * (run from the WAL hook, as SQLite's automatic one would) syncs the WAL
 * and the database itself at synchronous=NORMAL.
 *
 * A failed fdatasync is not retried: the kernel may have dropped the dirty
 * pages, so no later sync could prove them written. The store is then
 * broken: the commits of that round and every later store_begin/commit
 * fail (500 to the client) until wsopd is restarted, when SQLite recovers
 * what the WAL really holds.
 *
 * Internal to the store; callers hold nothing except where stated.
 */
#ifndef PKCS11WSOP_SERVER_STORE_SYNC_H
#define PKCS11WSOP_SERVER_STORE_SYNC_H

#include <stdint.h>

struct store;

/* After the schema is in place: opens <db_path>-wal, makes the directory
 * entries durable, installs the WAL hook. STORE_OK or STORE_ERR_DB. */
int store_sync_open(struct store *st, const char *db_path);
void store_sync_close(struct store *st);

/* Waits until commit number seq is on disk (seq 0: nothing to wait for).
 * Called without the store mutex, except for a rare path that is fine
 * serialising. STORE_OK, or STORE_ERR_DB when the store is broken. */
int store_sync_wait(struct store *st, uint64_t seq);

/* STORE_ERR_DB once a sync has failed, else STORE_OK. */
int store_sync_health(struct store *st);

#endif
