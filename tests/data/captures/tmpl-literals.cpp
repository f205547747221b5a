// A small template-heavy workload: integer, unsigned, long, bool, char and enum template
// arguments, so demangled names spell literals of many types.
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

enum class Mode : int { Fast = 1, Slow = 2 };

template <typename T, std::size_t N, bool Flip>
__attribute__((noinline)) T accumulate(const std::array<T, N>& a, int rounds) {
  T sum = 0;
  for (int r = 0; r < rounds; ++r)
    for (std::size_t i = 0; i < N; ++i) sum += Flip ? a[N - 1 - i] * (T)r : a[i] + (T)r;
  return sum;
}

template <char C, int K>
__attribute__((noinline)) long count_char(const std::vector<char>& v, int rounds) {
  long n = 0;
  for (int r = 0; r < rounds; ++r)
    for (char c : v) n += (c == C) ? K : 1;
  return n;
}

template <long L, unsigned U, unsigned long long ULL>
__attribute__((noinline)) std::uint64_t mix(std::uint64_t x, int rounds) {
  for (int r = 0; r < rounds * 1000; ++r) x = x * (std::uint64_t)L + U + (x >> 7) + ULL;
  return x;
}

template <Mode M, short S, unsigned char UC, bool B>
struct Worker {
  __attribute__((noinline)) static double run(int rounds) {
    double d = 1.0;
    for (int r = 0; r < rounds * 3000; ++r) d = d * 1.0000001 + (B ? S : UC) * (M == Mode::Fast ? 1e-9 : 2e-9);
    return d;
  }
};

template <int Depth>
struct Recur {
  __attribute__((noinline)) static long go(long x, int rounds) { return Recur<Depth - 1>::go(x + Depth, rounds) + 1; }
};
template <>
struct Recur<0> {
  __attribute__((noinline)) static long go(long x, int rounds) { return (long)mix<-3L, 7u, 11ull>((std::uint64_t)x, rounds); }
};

int main(int argc, char** argv) {
  int rounds = argc > 1 ? std::atoi(argv[1]) : 200;
  std::array<double, 4096> a{};
  std::array<std::int64_t, 2048> b{};
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = (double)i * 0.5;
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = (std::int64_t)i;
  std::vector<char> text(1 << 16);
  for (std::size_t i = 0; i < text.size(); ++i) text[i] = (char)('a' + i % 26);
  double total = 0;
  for (int it = 0; it < 20; ++it) {
    total += accumulate<double, 4096, true>(a, rounds);
    total += (double)accumulate<std::int64_t, 2048, false>(b, rounds);
    total += (double)count_char<'x', 3>(text, rounds / 10);
    total += (double)count_char<'\n', -2>(text, rounds / 10);
    total += (double)mix<42L, 3000000000u, 18446744073709551615ull>(7, rounds);
    total += Worker<Mode::Fast, (short)-4, (unsigned char)200, true>::run(rounds);
    total += Worker<Mode::Slow, (short)9, (unsigned char)1, false>::run(rounds);
    total += (double)Recur<5>::go(1, rounds);
  }
  std::printf("%g\n", total);
  return 0;
}
