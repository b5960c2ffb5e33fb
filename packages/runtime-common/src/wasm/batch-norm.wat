;; thfr's training batch norm for tfjs-backend-wasm, in WebAssembly SIMD (128-bit), run on tfjs-wasm's own heap
;; (the module imports its memory): the two passes of each kernel of batch-norm-kernel.ts (@thfr/tensor), whose
;; per-channel step stays in JavaScript. Pointers are byte offsets into that heap. Every function walks `rows` rows
;; of `ch` float32 values, ch a multiple of 4; per-channel arrays hold `ch` values (the caller repeats a layer's
;; channels to a multiple of 4). Sums accumulate in float64, as the JavaScript reference does.
;; Compiled by scripts/build-wasm-kernels.mjs into batch-norm-wasm.ts; edit this file, then run that script.
(module
  (import "env" "memory" (memory 0))
  ;; sum[c] = Σ (x - shift[c]), sq[c] = Σ (x - shift[c])² (float64 [ch] each, zeroed here).
  (func (export "moments") (param $x i32) (param $shift i32) (param $rows i32) (param $ch i32) (param $sum i32) (param $sq i32)
    (local $p i32) (local $s i32) (local $end i32) (local $rowEnd i32) (local $ps i32) (local $pq i32) (local $d v128) (local $lo v128) (local $hi v128)
    ;; zero the accumulators
    (local.set $ps (local.get $sum)) (local.set $pq (local.get $sq))
    (local.set $end (i32.add (local.get $sum) (i32.shl (local.get $ch) (i32.const 3))))
    (block $z (loop $zl
      (br_if $z (i32.ge_u (local.get $ps) (local.get $end)))
      (v128.store (local.get $ps) (v128.const i64x2 0 0))
      (v128.store (local.get $pq) (v128.const i64x2 0 0))
      (local.set $ps (i32.add (local.get $ps) (i32.const 16)))
      (local.set $pq (i32.add (local.get $pq) (i32.const 16)))
      (br $zl)))
    (local.set $p (local.get $x))
    (local.set $end (i32.add (local.get $x) (i32.shl (i32.mul (local.get $rows) (local.get $ch)) (i32.const 2))))
    (block $done (loop $row
      (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
      (local.set $rowEnd (i32.add (local.get $p) (i32.shl (local.get $ch) (i32.const 2))))
      (local.set $s (local.get $shift)) (local.set $ps (local.get $sum)) (local.set $pq (local.get $sq))
      (block $rd (loop $col
        (br_if $rd (i32.ge_u (local.get $p) (local.get $rowEnd)))
        (local.set $d (f32x4.sub (v128.load (local.get $p)) (v128.load (local.get $s))))
        (local.set $lo (f64x2.promote_low_f32x4 (local.get $d)))
        (local.set $hi (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $d) (local.get $d))))
        (v128.store (local.get $ps) (f64x2.add (v128.load (local.get $ps)) (local.get $lo)))
        (v128.store offset=16 (local.get $ps) (f64x2.add (v128.load offset=16 (local.get $ps)) (local.get $hi)))
        (v128.store (local.get $pq) (f64x2.add (v128.load (local.get $pq)) (f64x2.mul (local.get $lo) (local.get $lo))))
        (v128.store offset=16 (local.get $pq) (f64x2.add (v128.load offset=16 (local.get $pq)) (f64x2.mul (local.get $hi) (local.get $hi))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (local.set $s (i32.add (local.get $s) (i32.const 16)))
        (local.set $ps (i32.add (local.get $ps) (i32.const 32)))
        (local.set $pq (i32.add (local.get $pq) (i32.const 32)))
        (br $col)))
      (br $row))))
  ;; y = (x - shift) scale + offset, then max(0, y) when relu (f32x4.pmax(0, y): +0 where it closes, 0 for NaN, as `y > 0 ? y : 0`).
  (func (export "normalize") (param $x i32) (param $y i32) (param $rows i32) (param $ch i32) (param $shift i32) (param $scale i32) (param $offset i32) (param $relu i32)
    (local $end i32) (local $rowEnd i32) (local $ps i32) (local $pa i32) (local $pb i32) (local $v v128)
    (local.set $end (i32.add (local.get $x) (i32.shl (i32.mul (local.get $rows) (local.get $ch)) (i32.const 2))))
    (block $done (loop $row
      (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
      (local.set $rowEnd (i32.add (local.get $x) (i32.shl (local.get $ch) (i32.const 2))))
      (local.set $ps (local.get $shift)) (local.set $pa (local.get $scale)) (local.set $pb (local.get $offset))
      (block $rd (loop $col
        (br_if $rd (i32.ge_u (local.get $x) (local.get $rowEnd)))
        (local.set $v (f32x4.add (f32x4.mul (f32x4.sub (v128.load (local.get $x)) (v128.load (local.get $ps))) (v128.load (local.get $pa))) (v128.load (local.get $pb))))
        (if (local.get $relu) (then (local.set $v (f32x4.pmax (v128.const i64x2 0 0) (local.get $v)))))
        (v128.store (local.get $y) (local.get $v))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $y (i32.add (local.get $y) (i32.const 16)))
        (local.set $ps (i32.add (local.get $ps) (i32.const 16)))
        (local.set $pa (i32.add (local.get $pa) (i32.const 16)))
        (local.set $pb (i32.add (local.get $pb) (i32.const 16)))
        (br $col)))
      (br $row))))
  ;; g = dy, or 0 where y <= 0 when y != 0 (the fused ReLU's mask; y = 0 is the null pointer: no mask); float64 sums of g
  ;; and g (x - mean) per channel (mean: float32 [ch]; sumG, sumGX zeroed here).
  (func (export "gradSums") (param $dy i32) (param $x i32) (param $y i32) (param $rows i32) (param $ch i32) (param $mean i32) (param $sumG i32) (param $sumGX i32)
    (local $end i32) (local $rowEnd i32) (local $pm i32) (local $ps i32) (local $pq i32) (local $g v128) (local $c v128) (local $glo v128) (local $ghi v128) (local $clo v128) (local $chi v128)
    (local.set $ps (local.get $sumG)) (local.set $pq (local.get $sumGX))
    (local.set $end (i32.add (local.get $sumG) (i32.shl (local.get $ch) (i32.const 3))))
    (block $z (loop $zl
      (br_if $z (i32.ge_u (local.get $ps) (local.get $end)))
      (v128.store (local.get $ps) (v128.const i64x2 0 0))
      (v128.store (local.get $pq) (v128.const i64x2 0 0))
      (local.set $ps (i32.add (local.get $ps) (i32.const 16)))
      (local.set $pq (i32.add (local.get $pq) (i32.const 16)))
      (br $zl)))
    (local.set $end (i32.add (local.get $x) (i32.shl (i32.mul (local.get $rows) (local.get $ch)) (i32.const 2))))
    (block $done (loop $row
      (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
      (local.set $rowEnd (i32.add (local.get $x) (i32.shl (local.get $ch) (i32.const 2))))
      (local.set $pm (local.get $mean)) (local.set $ps (local.get $sumG)) (local.set $pq (local.get $sumGX))
      (block $rd (loop $col
        (br_if $rd (i32.ge_u (local.get $x) (local.get $rowEnd)))
        (local.set $g (v128.load (local.get $dy)))
        (if (local.get $y) (then
          (local.set $g (v128.and (local.get $g) (f32x4.gt (v128.load (local.get $y)) (v128.const i64x2 0 0))))
          (local.set $y (i32.add (local.get $y) (i32.const 16)))))
        (local.set $c (f32x4.sub (v128.load (local.get $x)) (v128.load (local.get $pm))))
        (local.set $glo (f64x2.promote_low_f32x4 (local.get $g)))
        (local.set $ghi (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $g) (local.get $g))))
        (local.set $clo (f64x2.promote_low_f32x4 (local.get $c)))
        (local.set $chi (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $c) (local.get $c))))
        (v128.store (local.get $ps) (f64x2.add (v128.load (local.get $ps)) (local.get $glo)))
        (v128.store offset=16 (local.get $ps) (f64x2.add (v128.load offset=16 (local.get $ps)) (local.get $ghi)))
        (v128.store (local.get $pq) (f64x2.add (v128.load (local.get $pq)) (f64x2.mul (local.get $glo) (local.get $clo))))
        (v128.store offset=16 (local.get $pq) (f64x2.add (v128.load offset=16 (local.get $pq)) (f64x2.mul (local.get $ghi) (local.get $chi))))
        (local.set $dy (i32.add (local.get $dy) (i32.const 16)))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $pm (i32.add (local.get $pm) (i32.const 16)))
        (local.set $ps (i32.add (local.get $ps) (i32.const 32)))
        (local.set $pq (i32.add (local.get $pq) (i32.const 32)))
        (br $col)))
      (br $row))))
  ;; dx = k g + a (x - mean) + b per channel (g as in gradSums); coef holds four float32 rows of ch: mean, k, a, b.
  (func (export "gradInput") (param $dy i32) (param $x i32) (param $y i32) (param $dx i32) (param $rows i32) (param $ch i32) (param $coef i32)
    (local $end i32) (local $rowEnd i32) (local $pc i32) (local $chBytes i32) (local $g v128)
    (local.set $chBytes (i32.shl (local.get $ch) (i32.const 2)))
    (local.set $end (i32.add (local.get $x) (i32.shl (i32.mul (local.get $rows) (local.get $ch)) (i32.const 2))))
    (block $done (loop $row
      (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
      (local.set $rowEnd (i32.add (local.get $x) (local.get $chBytes)))
      (local.set $pc (local.get $coef))
      (block $rd (loop $col
        (br_if $rd (i32.ge_u (local.get $x) (local.get $rowEnd)))
        (local.set $g (v128.load (local.get $dy)))
        (if (local.get $y) (then
          (local.set $g (v128.and (local.get $g) (f32x4.gt (v128.load (local.get $y)) (v128.const i64x2 0 0))))
          (local.set $y (i32.add (local.get $y) (i32.const 16)))))
        (v128.store (local.get $dx)
          (f32x4.add
            (f32x4.add
              (f32x4.mul (local.get $g) (v128.load (i32.add (local.get $pc) (local.get $chBytes))))
              (f32x4.mul (f32x4.sub (v128.load (local.get $x)) (v128.load (local.get $pc)))
                         (v128.load (i32.add (local.get $pc) (i32.shl (local.get $chBytes) (i32.const 1))))))
            (v128.load (i32.add (local.get $pc) (i32.mul (local.get $chBytes) (i32.const 3))))))
        (local.set $dy (i32.add (local.get $dy) (i32.const 16)))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $dx (i32.add (local.get $dx) (i32.const 16)))
        (local.set $pc (i32.add (local.get $pc) (i32.const 16)))
        (br $col)))
      (br $row))))
)
