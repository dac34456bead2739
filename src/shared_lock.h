/* A lock for the processes forked after it is made (httpd's children): a process-shared,
 * robust pthread mutex in anonymous shared memory, without priority inheritance.
 *
 * APR's pthread mechanism turns priority inheritance on, which sends every contended lock
 * and unlock through the kernel (futex_lock_pi / futex_unlock_pi: 13% of a signed-in
 * request's CPU at 32 connections here); fcntl costs two system calls even when the lock is
 * free. This one costs an atomic operation when free and a plain futex wait when taken, and
 * a process that dies holding it does not block the others. */
#ifndef CS_SHARED_LOCK_H
#define CS_SHARED_LOCK_H

typedef struct shared_lock shared_lock;

/* NULL, or why it could not be made. */
const char *shared_lock_create(shared_lock **out);

/* 0 when held; *owner_died is set when the previous holder died holding it (what it guarded
 * may be half-updated). Otherwise an errno value. */
int shared_lock_acquire(shared_lock *lock, int *owner_died);
void shared_lock_release(shared_lock *lock);

/* Unmaps it from this process; processes forked earlier keep their own mapping. */
void shared_lock_unmap(shared_lock *lock);

#endif
