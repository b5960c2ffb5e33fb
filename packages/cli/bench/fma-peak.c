// This CPU's float32 FMA ceiling, the hard limit under `thfr bench`'s roofline (docs/benchmarks.md, "Eighteenth
// session"): onnxruntime's "matrix peak" is the best rate a real conv or MatMul reaches; this is what the cores
// could do if every cycle issued two 8-wide FMAs (AVX2, Zen 3 / Skylake client), with no memory traffic at all.
// Twelve independent accumulators per thread hide the FMA latency (4 cycles x 2 ports = 8 in flight at least).
// Not part of the build or CI (no C toolchain is needed anywhere else):
//   gcc -O3 -funroll-loops -mavx2 -mfma -pthread packages/cli/bench/fma-peak.c -o /tmp/fma-peak
//   /tmp/fma-peak 1 && /tmp/fma-peak 2
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define CHAINS 12
#define STEPS 20000000L /* per chain; 12 x 20 M x 8 lanes x 2 FLOP = 3.84 GFLOP per thread */

static double seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static void *fma_chains(void *result) {
  __m256 acc[CHAINS];
  const __m256 scale = _mm256_set1_ps(0.999999f), shift = _mm256_set1_ps(1e-7f);
  for (int i = 0; i < CHAINS; i++) acc[i] = _mm256_set1_ps((float)i);
  for (long n = 0; n < STEPS; n++)
    for (int i = 0; i < CHAINS; i++) acc[i] = _mm256_fmadd_ps(acc[i], scale, shift);
  // Stored so the compiler cannot drop the loop.
  float lanes[8], sum = 0;
  for (int i = 0; i < CHAINS; i++) {
    _mm256_storeu_ps(lanes, acc[i]);
    sum += lanes[0];
  }
  *(float *)result = sum;
  return NULL;
}

int main(int argc, char **argv) {
  const int threads = argc > 1 ? atoi(argv[1]) : 1;
  if (threads < 1 || threads > 64) {
    fprintf(stderr, "fma-peak: threads must be 1..64, got %s\n", argv[1]);
    return 2;
  }
  pthread_t ids[64];
  float results[64];
  double best = 0;
  for (int round = 0; round < 5; round++) {
    const double start = seconds();
    for (int t = 0; t < threads; t++) pthread_create(&ids[t], NULL, fma_chains, &results[t]);
    for (int t = 0; t < threads; t++) pthread_join(ids[t], NULL);
    const double flops = (double)threads * STEPS * CHAINS * 8 * 2;
    const double rate = flops / (seconds() - start) / 1e9;
    if (rate > best) best = rate;
  }
  printf("%d thread(s): %.1f GFLOP/s float32 FMA, best of 5 (%.2f GHz x 32 FLOP per cycle per core)\n", threads, best,
         best / threads / 32);
  return 0;
}
