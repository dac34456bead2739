/* shared_lock: mutual exclusion across forked processes, and a holder that dies. */
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include "shared_lock.h"
#include "unit.h"

/* Four processes each add 1 to a shared counter 20,000 times, read-then-write with a pause
 * in between: without the lock, updates would be lost. */
static void test_processes_exclude_each_other(apr_pool_t *p)
{
    (void)p;
    shared_lock *lock = NULL;
    CHECK(shared_lock_create(&lock) == NULL);
    volatile long *counter = mmap(NULL, sizeof(long), PROT_READ | PROT_WRITE,
                                  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(counter != MAP_FAILED);
    if (lock == NULL || counter == MAP_FAILED)
        return;
    *counter = 0;
    enum { PROCS = 4, ROUNDS = 20000 };
    pid_t kids[PROCS];
    for (int i = 0; i < PROCS; i++) {
        if ((kids[i] = fork()) == 0) {
            for (int r = 0; r < ROUNDS; r++) {
                int died;
                if (shared_lock_acquire(lock, &died) != 0)
                    _exit(2);
                long v = *counter;
                if (r % 64 == 0)
                    sched_yield();
                *counter = v + 1;
                shared_lock_release(lock);
            }
            _exit(0);
        }
    }
    for (int i = 0; i < PROCS; i++) {
        int status = 0;
        waitpid(kids[i], &status, 0);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    CHECK_INT(*counter, PROCS * ROUNDS);
    munmap((void *)counter, sizeof(long));
    shared_lock_unmap(lock);
}

/* A child killed while holding the lock: the next process gets it, told the owner died. */
static void test_holder_killed_does_not_block_the_others(apr_pool_t *p)
{
    (void)p;
    shared_lock *lock = NULL;
    CHECK(shared_lock_create(&lock) == NULL);
    if (lock == NULL)
        return;
    int ready[2];
    CHECK(pipe(ready) == 0);
    pid_t kid = fork();
    if (kid == 0) {
        int died;
        shared_lock_acquire(lock, &died);
        char c = 'x';
        (void)!write(ready[1], &c, 1);
        pause();
        _exit(0);
    }
    char c;
    CHECK(read(ready[0], &c, 1) == 1);
    kill(kid, SIGKILL);
    waitpid(kid, NULL, 0);
    int died = 0;
    CHECK_INT(shared_lock_acquire(lock, &died), 0);
    CHECK_INT(died, 1);
    shared_lock_release(lock);
    CHECK_INT(shared_lock_acquire(lock, &died), 0);
    CHECK_INT(died, 0);
    shared_lock_release(lock);
    close(ready[0]);
    close(ready[1]);
    shared_lock_unmap(lock);
}

static const unit_case cases[] = {
    UNIT(test_processes_exclude_each_other),
    UNIT(test_holder_killed_does_not_block_the_others),
    UNIT_END
};

int main(void) { return unit_run("shared_lock", cases); }
