#include <errno.h>
#include <pthread.h>
#include <sys/mman.h>
#include "shared_lock.h"

struct shared_lock {
    pthread_mutex_t mutex;
};

const char *shared_lock_create(shared_lock **out)
{
    shared_lock *lock = mmap(NULL, sizeof(*lock), PROT_READ | PROT_WRITE,
                             MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (lock == MAP_FAILED)
        return "cannot map shared memory for the lock";
    pthread_mutexattr_t attr;
    const char *why = NULL;
    if (pthread_mutexattr_init(&attr) != 0)
        why = "pthread_mutexattr_init failed";
    else if (pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED) != 0)
        why = "process-shared mutexes are not supported";
    else if (pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST) != 0)
        why = "robust mutexes are not supported";
    else if (pthread_mutex_init(&lock->mutex, &attr) != 0)
        why = "pthread_mutex_init failed";
    pthread_mutexattr_destroy(&attr);
    if (why) {
        munmap(lock, sizeof(*lock));
        return why;
    }
    *out = lock;
    return NULL;
}

int shared_lock_acquire(shared_lock *lock, int *owner_died)
{
    *owner_died = 0;
    int rc = pthread_mutex_lock(&lock->mutex);
    if (rc == EOWNERDEAD) {
        *owner_died = 1;
        rc = pthread_mutex_consistent(&lock->mutex);
    }
    return rc;
}

void shared_lock_release(shared_lock *lock)
{
    pthread_mutex_unlock(&lock->mutex);
}

void shared_lock_unmap(shared_lock *lock)
{
    munmap(lock, sizeof(*lock));
}
