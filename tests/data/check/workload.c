/* A small CPU-bound workload for foldkit's check tests: four stages with fixed amounts of work.
 *
 * usage: workload [CHECKSUM_PERCENT [ROUNDS]]
 *   CHECKSUM_PERCENT  how much work checksum_records() does, in percent of normal (default 100);
 *                     150 makes that one function 50% slower, the "regression" the tests look for.
 *   ROUNDS            how many batches to run (default 1500; about 1.3 s of CPU on the test machine).
 *
 * Built without inlining so that every stage is its own frame:
 *   gcc -O2 -g -fno-omit-frame-pointer -fno-inline -o workload workload.c
 * and recorded with DWARF unwinding (perf record -g --call-graph dwarf), because GCC 12 gives leaf
 * functions no frame pointer, which would hide their callers.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define RECORDS 4096

static uint64_t records[RECORDS];
static volatile uint64_t sink;

__attribute__((noinline)) static uint64_t mix_word(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

__attribute__((noinline)) static void parse_records(uint64_t seed, int passes)
{
	for (int p = 0; p < passes; p++)
		for (int i = 0; i < RECORDS; i++) {
			seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
			records[i] = seed ^ (seed >> 29);
		}
}

__attribute__((noinline)) static void hash_records(int passes)
{
	uint64_t h = 0;
	for (int p = 0; p < passes; p++)
		for (int i = 0; i < RECORDS; i++)
			h = (h ^ records[i]) * 0x100000001b3ULL;
	sink = h;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

__attribute__((noinline)) static void sort_records(void)
{
	qsort(records, RECORDS, sizeof records[0], cmp_u64);
}

__attribute__((noinline)) static void checksum_records(int percent)
{
	uint64_t c = 0;
	int n = RECORDS * percent / 100;
	for (int p = 0; p < 20; p++)
		for (int i = 0; i < n; i++)
			c += mix_word(records[i % RECORDS] + (uint64_t)p);
	sink = c;
}

__attribute__((noinline)) static void run_batch(uint64_t seed, int percent)
{
	parse_records(seed, 40);
	hash_records(60);
	sort_records();
	checksum_records(percent);
}

int main(int argc, char **argv)
{
	int percent = argc > 1 ? atoi(argv[1]) : 100;
	int rounds = argc > 2 ? atoi(argv[2]) : 1500;
	for (int r = 0; r < rounds; r++)
		run_batch((uint64_t)r + 1, percent);
	printf("%llu\n", (unsigned long long)sink);
	return 0;
}
