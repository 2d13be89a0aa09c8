/*
 * tfjs-norms' hot loops in WebAssembly SIMD (simd128), beneath the shared typed-array kernels
 * (kernels/cpu/norm_kernels.ts) on tfjs-backend-wasm. Built by scripts/build-simd.sh into
 * kernels/wasm/simd/norm_simd_bytes.ts; the orchestration (views, tables, statistics slots) stays
 * in TypeScript (kernels/wasm/simd_loops.ts): these functions only stream over memory.
 *
 * The module imports tfjs-backend-wasm's memory and works on its heap in place, so it must own no
 * memory: no data segments, no globals, no shadow stack (only scalar locals; checked by
 * test/wasm_simd/binary.test.ts). Scratch comes from the caller (tfjs's malloc).
 *
 * Numerics (as the JavaScript loops, kernels/cpu/norm_loops.ts, within float32 rounding):
 * - sums are shifted (x − k, k a float32 element of the slot, so the difference is exact for
 *   values close to k) and accumulated in float32 lanes over short blocks (BLOCK vectors per
 *   lane), each block then added to a float64 total: the float32 part only ever sums 16 terms.
 * - x̂ = ((x − k) − mo) · r with the mean split as k (float32) + mo (float32 offset), so values
 *   far from zero with a small spread (1000 + 0.01·noise) keep their precision.
 * - activations follow src/activation.ts; elu's exp is a float32 expm1 (range reduction by ln 2
 *   and a degree-7 polynomial), accurate to a few ulp.
 */
#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(#name))) 
#define INLINE static inline __attribute__((always_inline))
#define BLOCK 16

enum { LINEAR = 0, RELU = 1, LEAKY = 2, ELU = 3 };

typedef v128_t f4;

INLINE f4 splat(float v) { return wasm_f32x4_splat(v); }
INLINE f4 ld(const float* p) { return wasm_v128_load(p); }
INLINE void st(float* p, f4 v) { wasm_v128_store(p, v); }
INLINE f4 add(f4 a, f4 b) { return wasm_f32x4_add(a, b); }
INLINE f4 sub(f4 a, f4 b) { return wasm_f32x4_sub(a, b); }
INLINE f4 mul(f4 a, f4 b) { return wasm_f32x4_mul(a, b); }

/* Horizontal sum of a float32 vector, in float64. */
INLINE double hsum(f4 v) {
  return ((double)wasm_f32x4_extract_lane(v, 0) + (double)wasm_f32x4_extract_lane(v, 1)) +
         ((double)wasm_f32x4_extract_lane(v, 2) + (double)wasm_f32x4_extract_lane(v, 3));
}

/* exp(z) − 1 for z ≤ 0 (z is clamped to [−88, 0]; NaN stays NaN). */
INLINE f4 expm1_neg(f4 z) {
  z = wasm_f32x4_min(wasm_f32x4_max(z, splat(-88.0f)), splat(0.0f));
  f4 n = wasm_f32x4_nearest(mul(z, splat(1.44269504088896341f)));
  f4 r = sub(sub(z, mul(n, splat(0.693359375f))), mul(n, splat(-2.12194440e-4f)));
  f4 p = splat(1.0f / 5040);
  p = add(mul(p, r), splat(1.0f / 720));
  p = add(mul(p, r), splat(1.0f / 120));
  p = add(mul(p, r), splat(1.0f / 24));
  p = add(mul(p, r), splat(1.0f / 6));
  p = add(mul(p, r), splat(0.5f));
  p = add(mul(mul(p, r), r), r); /* expm1(r) */
  v128_t bits = wasm_i32x4_shl(wasm_i32x4_add(wasm_i32x4_trunc_sat_f32x4(n), wasm_i32x4_splat(127)), 23);
  bits = wasm_v128_and(bits, wasm_i32x4_gt(wasm_i32x4_trunc_sat_f32x4(n), wasm_i32x4_splat(-127)));
  f4 two = (f4)bits; /* 2^n, 0 below 2^-126 */
  return add(mul(two, p), sub(two, splat(1.0f)));
}

INLINE float expm1_neg1(float z) { return wasm_f32x4_extract_lane(expm1_neg(splat(z)), 0); }

/* act(z) (src/activation.ts). */
INLINE f4 act4(f4 z, const int act, f4 alpha) {
  if (act == LINEAR) return z;
  v128_t pos = wasm_f32x4_gt(z, splat(0.0f));
  f4 neg;
  if (act == RELU) neg = splat(0.0f);
  else if (act == LEAKY) neg = mul(alpha, z);
  else neg = mul(alpha, expm1_neg(z));
  return wasm_v128_bitselect(z, neg, pos);
}

INLINE float act1(float z, const int act, float alpha) {
  if (act == LINEAR || z > 0) return z;
  if (act == RELU) return 0.0f;
  if (act == LEAKY) return alpha * z;
  return alpha * expm1_neg1(z);
}

/* act'(z), left subgradient at 0. */
INLINE f4 grad4(f4 z, const int act, f4 alpha) {
  v128_t pos = wasm_f32x4_gt(z, splat(0.0f));
  f4 neg;
  if (act == RELU) neg = splat(0.0f);
  else if (act == LEAKY) neg = alpha;
  else neg = mul(alpha, add(expm1_neg(z), splat(1.0f)));
  return wasm_v128_bitselect(splat(1.0f), neg, pos);
}

INLINE float grad1(float z, const int act, float alpha) {
  if (act == LINEAR || z > 0) return 1.0f;
  if (act == RELU) return 0.0f;
  if (act == LEAKY) return alpha;
  return alpha * (expm1_neg1(z) + 1.0f);
}

/*
 * Calls body(ACT): a loop specialized for no activation, and one that picks the activation per
 * vector (a predictable branch; one specialization per activation would triple the module).
 */
#define DISPATCH(act, body) \
  if (act == RELU || act == LEAKY || act == ELU) { body(act); } else { body(LINEAR); }

/* ---------------------------------------------------------------- statistics */

/* Σ(x − k) and Σ(x − k)² over x[0, len), added to out[0], out[1]. */
INLINE void run_sums(const float* x, int len, float k, double* s1, double* s2) {
  f4 kv = splat(k);
  double t1 = 0, t2 = 0;
  int i = 0;
  while (i + 8 <= len) {
    f4 a1 = splat(0), a2 = splat(0), b1 = splat(0), b2 = splat(0);
    for (int b = 0; b < BLOCK && i + 8 <= len; b++, i += 8) {
      f4 d = sub(ld(x + i), kv), e = sub(ld(x + i + 4), kv);
      a1 = add(a1, d); a2 = add(a2, mul(d, d));
      b1 = add(b1, e); b2 = add(b2, mul(e, e));
    }
    t1 += hsum(a1) + hsum(b1);
    t2 += hsum(a2) + hsum(b2);
  }
  for (; i < len; i++) { double d = x[i] - k; t1 += d; t2 += d * d; }
  *s1 += t1;
  *s2 += t2;
}

/* Shifted sums of `runs` contiguous runs of `len`; run j uses table entry t = j % tmod. */
EXPORT(stats_runs) void stats_runs(const float* x, int runs, int len, int tmod, const float* k,
                                   double* s1, double* s2) {
  for (int j = 0; j < runs; j++) {
    int t = j % tmod;
    run_sums(x + (long)j * len, len, k[t], s1 + t, s2 + t);
  }
}

/* Adds acc[0, C) (float32) into tot[0, C) (float64) and clears acc. */
INLINE void flush(float* acc, double* tot, int C) {
  for (int c = 0; c < C; c++) { tot[c] += acc[c]; acc[c] = 0; }
}

INLINE void clear(float* acc, int n) {
  for (int c = 0; c < n; c++) acc[c] = 0;
}

/* Per-channel shifted sums over `rows` rows of C channels; acc: 2C floats of scratch. */
EXPORT(stats_rows) void stats_rows(const float* x, int rows, int C, const float* k, double* s1,
                                   double* s2, float* acc) {
  float* a1 = acc;
  float* a2 = acc + C;
  clear(acc, 2 * C);
  for (int r = 0; r < rows; r++) {
    const float* xr = x + (long)r * C;
    int c = 0;
    for (; c + 4 <= C; c += 4) {
      f4 d = sub(ld(xr + c), ld(k + c));
      st(a1 + c, add(ld(a1 + c), d));
      st(a2 + c, add(ld(a2 + c), mul(d, d)));
    }
    for (; c < C; c++) { float d = xr[c] - k[c]; a1[c] += d; a2[c] += d * d; }
    if ((r + 1) % BLOCK == 0 || r + 1 == rows) { flush(a1, s1, C); flush(a2, s2, C); }
  }
}

/* ---------------------------------------------------------------- forward apply */

/* y = act(((x − k) − mo)·sc + bt) over one run with scalar coefficients. */
INLINE void affine_run(const float* x, float* y, int len, float k, float mo, float sc, float bt,
                       const int act, float alpha) {
  f4 kv = splat(k), mv = splat(mo), sv = splat(sc), bv = splat(bt), av = splat(alpha);
  int i = 0;
  for (; i + 4 <= len; i += 4) st(y + i, act4(add(mul(sub(sub(ld(x + i), kv), mv), sv), bv), act, av));
  for (; i < len; i++) y[i] = act1(((x[i] - k) - mo) * sc + bt, act, alpha);
}

/* Runs of `len` elements, run j with the coefficients of table entry j % tmod. */
EXPORT(apply_runs) void apply_runs(const float* x, float* y, int runs, int len, int tmod, const float* k,
                                   const float* mo, const float* sc, const float* bt, int act, float alpha) {
#define BODY(A) for (int j = 0; j < runs; j++) { int t = j % tmod; long o = (long)j * len; \
    affine_run(x + o, y + o, len, k[t], mo[t], sc[t], bt[t], A, alpha); }
  DISPATCH(act, BODY)
#undef BODY
}

/* y = act(((x − k[c]) − mo[c])·sc[c] + bt[c]) over rows of C channels. */
INLINE void affine_rows(const float* x, float* y, int rows, int C, const float* k, const float* mo,
                        const float* sc, const float* bt, const int act, float alpha) {
  f4 av = splat(alpha);
  for (int r = 0; r < rows; r++) {
    const float* xr = x + (long)r * C;
    float* yr = y + (long)r * C;
    int c = 0;
    for (; c + 4 <= C; c += 4) {
      f4 z = add(mul(sub(sub(ld(xr + c), ld(k + c)), ld(mo + c)), ld(sc + c)), ld(bt + c));
      st(yr + c, act4(z, act, av));
    }
    for (; c < C; c++) yr[c] = act1(((xr[c] - k[c]) - mo[c]) * sc[c] + bt[c], act, alpha);
  }
}

EXPORT(apply_rows) void apply_rows(const float* x, float* y, int rows, int C, const float* k, const float* mo,
                                   const float* sc, const float* bt, int act, float alpha) {
#define BODY(A) affine_rows(x, y, rows, C, k, mo, sc, bt, A, alpha);
  DISPATCH(act, BODY)
#undef BODY
}

/* y = act(((x − k) − mo)·r·g[c] + b[c]) over one row of `len` channels (per-row scalars). */
INLINE void norm_row(const float* x, float* y, int len, float k, float mo, float r, const float* g,
                     const float* b, const int act, float alpha) {
  f4 kv = splat(k), mv = splat(mo), rv = splat(r), av = splat(alpha);
  int c = 0;
  for (; c + 4 <= len; c += 4) {
    f4 xh = mul(sub(sub(ld(x + c), kv), mv), rv);
    st(y + c, act4(add(mul(xh, ld(g + c)), ld(b + c)), act, av));
  }
  for (; c < len; c++) y[c] = act1(((x[c] - k) - mo) * r * g[c] + b[c], act, alpha);
}

/*
 * Contiguous statistics slots (slot s is x[s·count, (s+1)·count), count = cpg·S, channels
 * c0 = (s % groups)·cpg ...): mode 0 statistics only, 1 statistics then output while the slot is
 * in cache (the fused training forward), 2 output from the given exactMean and variance.
 * Statistics out: shift (the slot's first element), meanOffset, variance (float32), exactMean.
 * g and b are gamma and beta (the caller passes ones and zeros for absent ones).
 */
INLINE void slots_body(const float* x, float* y, int slots, int groups, int cpg, int S, const float* g,
                       const float* b, double eps, const int act, float alpha, int mode, float* shift,
                       float* meanOffset, float* variance, double* exactMean) {
  long count = (long)cpg * S;
  for (int s = 0; s < slots; s++) {
    const float* xs = x + s * count;
    float* ys = y + s * count;
    float k, mo;
    double var;
    if (mode == 2) {
      k = (float)exactMean[s];
      mo = (float)(exactMean[s] - k);
      var = variance[s];
    } else {
      k = count > 0 ? xs[0] : 0;
      double s1 = 0, s2 = 0;
      run_sums(xs, (int)count, k, &s1, &s2);
      double m = s1 / (double)count;
      double v = s2 / (double)count - m * m;
      shift[s] = k;
      meanOffset[s] = (float)m;
      variance[s] = (float)(v > 0 ? v : 0);
      exactMean[s] = k + m;
      if (mode == 0) continue;
      mo = (float)m;
      var = variance[s];
    }
    float r = (float)(1.0 / __builtin_sqrt(var + eps));
    int c0 = (s % groups) * cpg;
    if (S == 1) {
      norm_row(xs, ys, cpg, k, mo, r, g + c0, b + c0, act, alpha);
    } else {
      for (int j = 0; j < cpg; j++) {
        affine_run(xs + (long)j * S, ys + (long)j * S, S, k, mo, r * g[c0 + j], b[c0 + j], act, alpha);
      }
    }
  }
}

EXPORT(slots_forward) void slots_forward(const float* x, float* y, int slots, int groups, int cpg, int S,
                                         const float* g, const float* b, double eps, int act, float alpha,
                                         int mode, float* shift, float* meanOffset, float* variance,
                                         double* exactMean) {
#define BODY(A) slots_body(x, y, slots, groups, cpg, S, g, b, eps, A, alpha, mode, shift, meanOffset, \
                           variance, exactMean);
  DISPATCH(act, BODY)
#undef BODY
}

/* ---------------------------------------------------------------- backward */

/*
 * Backward tables (one entry per run or channel): x̂ = ((x − k) − mo)·r, z = x̂·gm + bt,
 * dz = dy·act'(z); reduce: Σdz and Σdz·x̂; apply: dx = dz·G + x̂·q1 + q2.
 */
INLINE void reduce_run(const float* dy, const float* x, int len, float k, float mo, float r, float gm, float bt,
                       const int act, float alpha, double* s1, double* s2) {
  f4 kv = splat(k), mv = splat(mo), rv = splat(r), gv = splat(gm), bv = splat(bt), av = splat(alpha);
  double t1 = 0, t2 = 0;
  int i = 0;
  while (i + 4 <= len) {
    f4 a1 = splat(0), a2 = splat(0);
    for (int b = 0; b < BLOCK && i + 4 <= len; b++, i += 4) {
      f4 xh = mul(sub(sub(ld(x + i), kv), mv), rv);
      f4 d = ld(dy + i);
      if (act != LINEAR) d = mul(d, grad4(add(mul(xh, gv), bv), act, av));
      a1 = add(a1, d);
      a2 = add(a2, mul(d, xh));
    }
    t1 += hsum(a1);
    t2 += hsum(a2);
  }
  for (; i < len; i++) {
    float xh = ((x[i] - k) - mo) * r;
    float d = dy[i] * grad1(xh * gm + bt, act, alpha);
    t1 += d;
    t2 += (double)d * xh;
  }
  *s1 += t1;
  *s2 += t2;
}

EXPORT(reduce_runs) void reduce_runs(const float* dy, const float* x, int runs, int len, int tmod, const float* k,
                                     const float* mo, const float* r, const float* gm, const float* bt, int act,
                                     float alpha, double* s1, double* s2) {
#define BODY(A) for (int j = 0; j < runs; j++) { int t = j % tmod; long o = (long)j * len; \
    reduce_run(dy + o, x + o, len, k[t], mo[t], r[t], gm[t], bt[t], A, alpha, s1 + t, s2 + t); }
  DISPATCH(act, BODY)
#undef BODY
}

INLINE void reduce_rows_body(const float* dy, const float* x, int rows, int C, const float* k, const float* mo,
                             const float* r, const float* gm, const float* bt, const int act, float alpha,
                             double* s1, double* s2, float* acc) {
  float* a1 = acc;
  float* a2 = acc + C;
  f4 av = splat(alpha);
  clear(acc, 2 * C);
  for (int row = 0; row < rows; row++) {
    const float* xr = x + (long)row * C;
    const float* dr = dy + (long)row * C;
    int c = 0;
    for (; c + 4 <= C; c += 4) {
      f4 xh = mul(sub(sub(ld(xr + c), ld(k + c)), ld(mo + c)), ld(r + c));
      f4 d = ld(dr + c);
      if (act != LINEAR) d = mul(d, grad4(add(mul(xh, ld(gm + c)), ld(bt + c)), act, av));
      st(a1 + c, add(ld(a1 + c), d));
      st(a2 + c, add(ld(a2 + c), mul(d, xh)));
    }
    for (; c < C; c++) {
      float xh = ((xr[c] - k[c]) - mo[c]) * r[c];
      float d = dr[c] * grad1(xh * gm[c] + bt[c], act, alpha);
      a1[c] += d;
      a2[c] += d * xh;
    }
    if ((row + 1) % BLOCK == 0 || row + 1 == rows) { flush(a1, s1, C); flush(a2, s2, C); }
  }
}

EXPORT(reduce_rows) void reduce_rows(const float* dy, const float* x, int rows, int C, const float* k,
                                     const float* mo, const float* r, const float* gm, const float* bt, int act,
                                     float alpha, double* s1, double* s2, float* acc) {
#define BODY(A) reduce_rows_body(dy, x, rows, C, k, mo, r, gm, bt, A, alpha, s1, s2, acc);
  DISPATCH(act, BODY)
#undef BODY
}

/*
 * Rows that are each one slot (LayerNorm): per-row k, mo, r; per-channel gm, bt. Per channel
 * Σdz, Σdz·x̂ (over rows, into chDz, chDzX) and per row Σdz·gm, Σdz·gm·x̂ (rowSg, rowSgx).
 */
INLINE void reduce_ln_body(const float* dy, const float* x, int rows, int C, const float* rk, const float* rmo,
                           const float* rr, const float* gm, const float* bt, const int act, float alpha,
                           double* chDz, double* chDzX, double* rowSg, double* rowSgx, float* acc) {
  float* a1 = acc;
  float* a2 = acc + C;
  f4 av = splat(alpha);
  clear(acc, 2 * C);
  for (int row = 0; row < rows; row++) {
    const float* xr = x + (long)row * C;
    const float* dr = dy + (long)row * C;
    f4 kv = splat(rk[row]), mv = splat(rmo[row]), rv = splat(rr[row]);
    f4 g1 = splat(0), g2 = splat(0);
    int c = 0;
    for (; c + 4 <= C; c += 4) {
      f4 xh = mul(sub(sub(ld(xr + c), kv), mv), rv);
      f4 d = ld(dr + c);
      f4 g = ld(gm + c);
      if (act != LINEAR) d = mul(d, grad4(add(mul(xh, g), ld(bt + c)), act, av));
      f4 dx = mul(d, xh);
      st(a1 + c, add(ld(a1 + c), d));
      st(a2 + c, add(ld(a2 + c), dx));
      g1 = add(g1, mul(d, g));
      g2 = add(g2, mul(dx, g));
    }
    double t1 = hsum(g1), t2 = hsum(g2);
    for (; c < C; c++) {
      float xh = ((xr[c] - rk[row]) - rmo[row]) * rr[row];
      float d = dr[c] * grad1(xh * gm[c] + bt[c], act, alpha);
      a1[c] += d;
      a2[c] += d * xh;
      t1 += (double)d * gm[c];
      t2 += (double)d * xh * gm[c];
    }
    rowSg[row] = t1;
    rowSgx[row] = t2;
    if ((row + 1) % BLOCK == 0 || row + 1 == rows) { flush(a1, chDz, C); flush(a2, chDzX, C); }
  }
}

EXPORT(reduce_ln) void reduce_ln(const float* dy, const float* x, int rows, int C, const float* rk,
                                 const float* rmo, const float* rr, const float* gm, const float* bt, int act,
                                 float alpha, double* chDz, double* chDzX, double* rowSg, double* rowSgx,
                                 float* acc) {
#define BODY(A) reduce_ln_body(dy, x, rows, C, rk, rmo, rr, gm, bt, A, alpha, chDz, chDzX, rowSg, rowSgx, acc);
  DISPATCH(act, BODY)
#undef BODY
}

/* dx = dz·G + x̂·q1 + q2 over one run (dy null: dz = 0). */
INLINE void bapply_run(const float* dy, const float* x, float* dx, int len, float k, float mo, float r, float gm,
                       float bt, float G, float q1, float q2, const int act, float alpha) {
  f4 kv = splat(k), mv = splat(mo), rv = splat(r), gv = splat(gm), bv = splat(bt), Gv = splat(G);
  f4 q1v = splat(q1), q2v = splat(q2), av = splat(alpha);
  int i = 0;
  for (; i + 4 <= len; i += 4) {
    f4 xh = mul(sub(sub(ld(x + i), kv), mv), rv);
    f4 out = add(mul(xh, q1v), q2v);
    if (dy) {
      f4 d = ld(dy + i);
      if (act != LINEAR) d = mul(d, grad4(add(mul(xh, gv), bv), act, av));
      out = add(mul(d, Gv), out);
    }
    st(dx + i, out);
  }
  for (; i < len; i++) {
    float xh = ((x[i] - k) - mo) * r;
    float d = dy ? dy[i] * grad1(xh * gm + bt, act, alpha) : 0.0f;
    dx[i] = d * G + (xh * q1 + q2);
  }
}

/* tab: 8 tables of `tmod` floats each, in the order k, mo, r, gm, bt, G, q1, q2. */
EXPORT(bapply_runs) void bapply_runs(const float* dy, const float* x, float* dx, int runs, int len, int tmod,
                                     const float* tab, int act, float alpha) {
  const float *k = tab, *mo = tab + tmod, *r = tab + 2 * tmod, *gm = tab + 3 * tmod, *bt = tab + 4 * tmod;
  const float *G = tab + 5 * tmod, *q1 = tab + 6 * tmod, *q2 = tab + 7 * tmod;
#define BODY(A) for (int j = 0; j < runs; j++) { int t = j % tmod; long o = (long)j * len; \
    bapply_run(dy ? dy + o : 0, x + o, dx + o, len, k[t], mo[t], r[t], gm[t], bt[t], G[t], q1[t], q2[t], A, alpha); }
  DISPATCH(act, BODY)
#undef BODY
}

INLINE void bapply_rows_body(const float* dy, const float* x, float* dx, int rows, int C, const float* tab,
                             const int act, float alpha) {
  const float *k = tab, *mo = tab + C, *r = tab + 2 * C, *gm = tab + 3 * C, *bt = tab + 4 * C;
  const float *G = tab + 5 * C, *q1 = tab + 6 * C, *q2 = tab + 7 * C;
  f4 av = splat(alpha);
  for (int row = 0; row < rows; row++) {
    long o = (long)row * C;
    int c = 0;
    for (; c + 4 <= C; c += 4) {
      f4 xh = mul(sub(sub(ld(x + o + c), ld(k + c)), ld(mo + c)), ld(r + c));
      f4 out = add(mul(xh, ld(q1 + c)), ld(q2 + c));
      if (dy) {
        f4 d = ld(dy + o + c);
        if (act != LINEAR) d = mul(d, grad4(add(mul(xh, ld(gm + c)), ld(bt + c)), act, av));
        out = add(mul(d, ld(G + c)), out);
      }
      st(dx + o + c, out);
    }
    for (; c < C; c++) {
      float xh = ((x[o + c] - k[c]) - mo[c]) * r[c];
      float d = dy ? dy[o + c] * grad1(xh * gm[c] + bt[c], act, alpha) : 0.0f;
      dx[o + c] = d * G[c] + (xh * q1[c] + q2[c]);
    }
  }
}

/* Rows of C channels with per-channel tables (tab as bapply_runs with tmod = C). */
EXPORT(bapply_rows) void bapply_rows(const float* dy, const float* x, float* dx, int rows, int C, const float* tab,
                                     int act, float alpha) {
#define BODY(A) bapply_rows_body(dy, x, dx, rows, C, tab, A, alpha);
  DISPATCH(act, BODY)
#undef BODY
}

/* LayerNorm rows: rtab holds 5 per-row tables (k, mo, r, q1, q2) of `rows` floats; G = gm·r. */
INLINE void bapply_ln_body(const float* dy, const float* x, float* dx, int rows, int C, const float* rtab,
                           const float* gm, const float* bt, const int act, float alpha) {
  f4 av = splat(alpha);
  for (int row = 0; row < rows; row++) {
    long o = (long)row * C;
    float k = rtab[row], mo = rtab[rows + row], r = rtab[2 * rows + row];
    float q1 = rtab[3 * rows + row], q2 = rtab[4 * rows + row];
    f4 kv = splat(k), mv = splat(mo), rv = splat(r), q1v = splat(q1), q2v = splat(q2);
    int c = 0;
    for (; c + 4 <= C; c += 4) {
      f4 xh = mul(sub(sub(ld(x + o + c), kv), mv), rv);
      f4 out = add(mul(xh, q1v), q2v);
      if (dy) {
        f4 g = ld(gm + c);
        f4 d = ld(dy + o + c);
        if (act != LINEAR) d = mul(d, grad4(add(mul(xh, g), ld(bt + c)), act, av));
        out = add(mul(d, mul(g, rv)), out);
      }
      st(dx + o + c, out);
    }
    for (; c < C; c++) {
      float xh = ((x[o + c] - k) - mo) * r;
      float d = dy ? dy[o + c] * grad1(xh * gm[c] + bt[c], act, alpha) : 0.0f;
      dx[o + c] = d * (gm[c] * r) + (xh * q1 + q2);
    }
  }
}

EXPORT(bapply_ln) void bapply_ln(const float* dy, const float* x, float* dx, int rows, int C, const float* rtab,
                                 const float* gm, const float* bt, int act, float alpha) {
#define BODY(A) bapply_ln_body(dy, x, dx, rows, C, rtab, gm, bt, A, alpha);
  DISPATCH(act, BODY)
#undef BODY
}

/* ---------------------------------------------------------------- RMSNorm */

/* invRms = (Σx²/D + eps)^-1/2 per row, y = x·invRms·gamma. */
EXPORT(rms_forward) void rms_forward(const float* x, const float* gamma, float* y, float* invRms, int rows, int D,
                                     double eps) {
  for (int row = 0; row < rows; row++) {
    const float* xr = x + (long)row * D;
    float* yr = y + (long)row * D;
    double sq = 0;
    int i = 0;
    while (i + 8 <= D) {
      f4 a = splat(0), b = splat(0);
      for (int n = 0; n < BLOCK && i + 8 <= D; n++, i += 8) {
        f4 u = ld(xr + i), v = ld(xr + i + 4);
        a = add(a, mul(u, u));
        b = add(b, mul(v, v));
      }
      sq += hsum(a) + hsum(b);
    }
    for (; i < D; i++) sq += (double)xr[i] * xr[i];
    float inv = (float)(1.0 / __builtin_sqrt(sq / D + eps));
    invRms[row] = inv;
    f4 iv = splat(inv);
    i = 0;
    for (; i + 4 <= D; i += 4) st(yr + i, mul(mul(ld(xr + i), iv), ld(gamma + i)));
    for (; i < D; i++) yr[i] = xr[i] * inv * gamma[i];
  }
}

/*
 * dx = inv·dy·gamma − x·inv³·Σ(dy·gamma·x)/D, dgamma = Σ_rows dy·x·inv (float64 in dg, then
 * rounded into dgamma); acc: D floats of scratch.
 */
EXPORT(rms_backward) void rms_backward(const float* dy, const float* x, const float* invRms, const float* gamma,
                                       float* dx, float* dgamma, int rows, int D, double* dg, float* acc) {
  for (int j = 0; j < D; j++) dg[j] = 0;
  clear(acc, D);
  for (int row = 0; row < rows; row++) {
    long o = (long)row * D;
    float inv = invRms[row];
    double s = 0;
    int i = 0;
    while (i + 4 <= D) {
      f4 a = splat(0);
      for (int n = 0; n < BLOCK && i + 4 <= D; n++, i += 4) a = add(a, mul(mul(ld(dy + o + i), ld(gamma + i)), ld(x + o + i)));
      s += hsum(a);
    }
    for (; i < D; i++) s += (double)dy[o + i] * gamma[i] * x[o + i];
    float kk = (float)((double)inv * inv * inv * s / D);
    f4 iv = splat(inv), kv = splat(kk);
    i = 0;
    for (; i + 4 <= D; i += 4) {
      f4 xi = ld(x + o + i), d = ld(dy + o + i);
      st(dx + o + i, sub(mul(mul(iv, d), ld(gamma + i)), mul(xi, kv)));
      st(acc + i, add(ld(acc + i), mul(mul(d, xi), iv)));
    }
    for (; i < D; i++) {
      float xi = x[o + i], d = dy[o + i];
      dx[o + i] = inv * d * gamma[i] - xi * kk;
      acc[i] += d * xi * inv;
    }
    if ((row + 1) % BLOCK == 0 || row + 1 == rows) flush(acc, dg, D);
  }
  for (int j = 0; j < D; j++) dgamma[j] = (float)dg[j];
}
