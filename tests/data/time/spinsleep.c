/* A workload whose on-CPU and off-CPU times are known: it measures them itself.
 * Each round spins for SPIN_MS (in spin_phase, busy on the CPU) and then sleeps for SLEEP_MS (in
 * sleep_phase, nanosleep: off-CPU in state S). At the end it prints, on stdout, the CPU time it
 * spent in spin_phase (CLOCK_THREAD_CPUTIME_ID), the wall time of spin_phase (CLOCK_MONOTONIC: its CPU
 * time plus any time it was preempted) and the wall time spent inside nanosleep, all in ns, so tests can compare them with what foldkit charges.
 * Build: gcc -O1 -g -fno-omit-frame-pointer -o spinsleep spinsleep.c
 * Run:   ./spinsleep ROUNDS SPIN_MS SLEEP_MS
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static long long now_ns(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

volatile unsigned long sink;

__attribute__((noinline)) long long spin_phase(long ms) {
    long long start = now_ns(CLOCK_THREAD_CPUTIME_ID);
    long long until = now_ns(CLOCK_MONOTONIC) + ms * 1000000LL;
    /* the clock is read rarely: where clock_gettime is a system call (no vDSO clock), its frames
     * (libc, no frame pointer) would hide spin_phase from a frame-pointer unwind */
    while (now_ns(CLOCK_MONOTONIC) < until) {
        for (int i = 0; i < 200000; i++) sink += i;
    }
    return now_ns(CLOCK_THREAD_CPUTIME_ID) - start;
}

/* nanosleep as a raw system call, so the user-space end of the sleeping stack is sleep_phase itself
 * (libc's wrapper has no frame pointer, and a frame-pointer unwind would skip its caller). */
__attribute__((noinline)) long long sleep_phase(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    long long start = now_ns(CLOCK_MONOTONIC);
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "0"(35L /* SYS_nanosleep */), "D"(&ts), "S"(0L) : "rcx", "r11", "memory");
    (void)ret;
    return now_ns(CLOCK_MONOTONIC) - start;
}

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 10;
    long spin = argc > 2 ? atol(argv[2]) : 50;
    long slp = argc > 3 ? atol(argv[3]) : 100;
    long long spun = 0, spun_wall = 0, slept = 0;
    for (int r = 0; r < rounds; r++) {
        long long start = now_ns(CLOCK_MONOTONIC);
        spun += spin_phase(spin);
        spun_wall += now_ns(CLOCK_MONOTONIC) - start;
        slept += sleep_phase(slp);
    }
    printf("spin_cpu_ns=%lld spin_wall_ns=%lld sleep_ns=%lld\n", spun, spun_wall, slept);
    return 0;
}
