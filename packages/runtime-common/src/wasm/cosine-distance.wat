;; thfr's fused 1 - cosine along channels for tfjs-backend-wasm, in WebAssembly SIMD (128-bit), run on tfjs-wasm's
;; own heap (the module imports its memory): the two kernels of cosine-distance-kernel.ts (@thfr/tensor). Pointers are
;; byte offsets into that heap. Every function walks `rows` rows of `ch` float32 values, ch a multiple of 4. A row's
;; sums run in four float32 lanes over blocks of 256 values, each block's total added in float64 (`sums`), so that a
;; row of a million values (RD4AD's flattened loss) keeps float64-like accuracy; the per-row arithmetic runs in float64.
;; Compiled by scripts/build-wasm-kernels.mjs into cosine-distance-wasm.ts; edit this file, then run that script.
(module
  (import "env" "memory" (memory 0))
  (func $hsum (param $v v128) (result f64)
    (f64.promote_f32 (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $v)) (f32x4.extract_lane 1 (local.get $v)))
      (f32.add (f32x4.extract_lane 2 (local.get $v)) (f32x4.extract_lane 3 (local.get $v))))))
  ;; a·b, |a|², |b|² over one row of `ch` values at a and b, into globals $dot, $sa, $sb (float64).
  (global $dot (mut f64) (f64.const 0))
  (global $sa (mut f64) (f64.const 0))
  (global $sb (mut f64) (f64.const 0))
  (func $sums (param $a i32) (param $b i32) (param $ch i32)
    (local $end i32) (local $blockEnd i32) (local $va v128) (local $vb v128) (local $dot v128) (local $sa v128) (local $sb v128)
    (global.set $dot (f64.const 0)) (global.set $sa (f64.const 0)) (global.set $sb (f64.const 0))
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $ch) (i32.const 2))))
    (block $done (loop $block
      (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
      (local.set $blockEnd (select (local.get $end) (i32.add (local.get $a) (i32.const 1024))
        (i32.lt_u (i32.sub (local.get $end) (local.get $a)) (i32.const 1024))))
      (local.set $dot (v128.const i64x2 0 0)) (local.set $sa (v128.const i64x2 0 0)) (local.set $sb (v128.const i64x2 0 0))
      (block $bd (loop $col
        (br_if $bd (i32.ge_u (local.get $a) (local.get $blockEnd)))
        (local.set $va (v128.load (local.get $a)))
        (local.set $vb (v128.load (local.get $b)))
        (local.set $dot (f32x4.add (local.get $dot) (f32x4.mul (local.get $va) (local.get $vb))))
        (local.set $sa (f32x4.add (local.get $sa) (f32x4.mul (local.get $va) (local.get $va))))
        (local.set $sb (f32x4.add (local.get $sb) (f32x4.mul (local.get $vb) (local.get $vb))))
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (local.set $b (i32.add (local.get $b) (i32.const 16)))
        (br $col)))
      (global.set $dot (f64.add (global.get $dot) (call $hsum (local.get $dot))))
      (global.set $sa (f64.add (global.get $sa) (call $hsum (local.get $sa))))
      (global.set $sb (f64.add (global.get $sb) (call $hsum (local.get $sb))))
      (br $block))))
  ;; out[r] = 1 - a·b / sqrt(max(|a|² |b|², eps2)) for each row r.
  (func (export "forward") (param $a i32) (param $b i32) (param $out i32) (param $rows i32) (param $ch i32) (param $eps2 f64)
    (local $end i32) (local $rowBytes i32)
    (local.set $rowBytes (i32.shl (local.get $ch) (i32.const 2)))
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $rows) (i32.const 2))))
    (block $done (loop $row
      (br_if $done (i32.ge_u (local.get $out) (local.get $end)))
      (call $sums (local.get $a) (local.get $b) (local.get $ch))
      (f32.store (local.get $out) (f32.demote_f64 (f64.sub (f64.const 1)
        (f64.div (global.get $dot) (f64.sqrt (f64.max (f64.mul (global.get $sa) (global.get $sb)) (local.get $eps2)))))))
      (local.set $a (i32.add (local.get $a) (local.get $rowBytes)))
      (local.set $b (i32.add (local.get $b) (local.get $rowBytes)))
      (local.set $out (i32.add (local.get $out) (i32.const 4)))
      (br $row))))
  ;; da = alpha b + betaA a, db = alpha a + betaB b per row, the coefficients of cosineGradientCoefficients from dy[r].
  (func (export "backward") (param $a i32) (param $b i32) (param $dy i32) (param $da i32) (param $db i32) (param $rows i32) (param $ch i32) (param $eps f64)
    (local $end i32) (local $rowEnd i32) (local $va v128) (local $vb v128)
    (local $g f64) (local $den f64) (local $alpha v128) (local $betaA v128) (local $betaB v128)
    (local.set $end (i32.add (local.get $dy) (i32.shl (local.get $rows) (i32.const 2))))
    (block $done (loop $row
      (br_if $done (i32.ge_u (local.get $dy) (local.get $end)))
      (call $sums (local.get $a) (local.get $b) (local.get $ch))
      (local.set $g (f64.promote_f32 (f32.load (local.get $dy))))
      (if (f64.ge (f64.mul (global.get $sa) (global.get $sb)) (f64.mul (local.get $eps) (local.get $eps)))
        (then
          (local.set $den (f64.sqrt (f64.mul (global.get $sa) (global.get $sb))))
          (local.set $alpha (f32x4.splat (f32.demote_f64 (f64.div (f64.neg (local.get $g)) (local.get $den)))))
          (local.set $betaA (f32x4.splat (f32.demote_f64 (f64.div (f64.mul (local.get $g) (global.get $dot)) (f64.mul (local.get $den) (global.get $sa))))))
          (local.set $betaB (f32x4.splat (f32.demote_f64 (f64.div (f64.mul (local.get $g) (global.get $dot)) (f64.mul (local.get $den) (global.get $sb)))))))
        (else
          (local.set $alpha (f32x4.splat (f32.demote_f64 (f64.div (f64.neg (local.get $g)) (local.get $eps)))))
          (local.set $betaA (v128.const i64x2 0 0))
          (local.set $betaB (v128.const i64x2 0 0))))
      (local.set $rowEnd (i32.add (local.get $a) (i32.shl (local.get $ch) (i32.const 2))))
      (block $wd (loop $write
        (br_if $wd (i32.ge_u (local.get $a) (local.get $rowEnd)))
        (local.set $va (v128.load (local.get $a)))
        (local.set $vb (v128.load (local.get $b)))
        (v128.store (local.get $da) (f32x4.add (f32x4.mul (local.get $alpha) (local.get $vb)) (f32x4.mul (local.get $betaA) (local.get $va))))
        (v128.store (local.get $db) (f32x4.add (f32x4.mul (local.get $alpha) (local.get $va)) (f32x4.mul (local.get $betaB) (local.get $vb))))
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (local.set $b (i32.add (local.get $b) (i32.const 16)))
        (local.set $da (i32.add (local.get $da) (i32.const 16)))
        (local.set $db (i32.add (local.get $db) (i32.const 16)))
        (br $write)))
      (local.set $dy (i32.add (local.get $dy) (i32.const 4)))
      (br $row))))
)
