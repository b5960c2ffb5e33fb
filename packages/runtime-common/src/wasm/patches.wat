;; The patch matrix (im2col) of a convolution's NHWC input, on tfjs-wasm's own heap (the module imports its memory):
;; row (b, oy, ox), columns (i, j, c) in the order of tfjs' [kh, kw, in, out] filter, so that the filter is read as a
;; [kh·kw·in, out] matrix without a copy. Each tap of each output pixel is one run of `ch` contiguous floats: copied
;; with memory.copy, or zero-filled where the tap falls in the padding. Pointers are byte offsets into that heap.
;; `tiles` is the reverse for filters whose taps tile the input (stride = filter size, no padding): each patch row is
;; scattered back to its own kh x kw block, as the input gradient of such a conv needs.
;; Compiled by scripts/build-wasm-kernels.mjs into patches-wasm.ts.
(module
  (import "env" "memory" (memory 0))
  (func (export "patches")
    (param $x i32) (param $out i32) (param $batch i32) (param $inH i32) (param $inW i32) (param $ch i32)
    (param $outH i32) (param $outW i32) (param $kh i32) (param $kw i32) (param $strideH i32) (param $strideW i32)
    (param $dilationH i32) (param $dilationW i32) (param $padTop i32) (param $padLeft i32)
    (local $b i32) (local $oy i32) (local $ox i32) (local $i i32) (local $j i32) (local $iy i32) (local $ix i32)
    (local $run i32) (local $image i32) (local $rowBytes i32)
    (local.set $run (i32.shl (local.get $ch) (i32.const 2)))
    (local.set $rowBytes (i32.mul (local.get $inW) (local.get $run)))
    (local.set $b (i32.const 0))
    (block $bd (loop $bl
      (br_if $bd (i32.ge_u (local.get $b) (local.get $batch)))
      (local.set $image (i32.add (local.get $x) (i32.mul (i32.mul (local.get $b) (local.get $inH)) (local.get $rowBytes))))
      (local.set $oy (i32.const 0))
      (block $yd (loop $yl
        (br_if $yd (i32.ge_u (local.get $oy) (local.get $outH)))
        (local.set $ox (i32.const 0))
        (block $xd (loop $xl
          (br_if $xd (i32.ge_u (local.get $ox) (local.get $outW)))
          (local.set $i (i32.const 0))
          (block $id (loop $il
            (br_if $id (i32.ge_u (local.get $i) (local.get $kh)))
            (local.set $iy (i32.sub (i32.add (i32.mul (local.get $oy) (local.get $strideH)) (i32.mul (local.get $i) (local.get $dilationH))) (local.get $padTop)))
            (local.set $j (i32.const 0))
            (block $jd (loop $jl
              (br_if $jd (i32.ge_u (local.get $j) (local.get $kw)))
              (local.set $ix (i32.sub (i32.add (i32.mul (local.get $ox) (local.get $strideW)) (i32.mul (local.get $j) (local.get $dilationW))) (local.get $padLeft)))
              ;; unsigned compares: a negative coordinate is a large unsigned one, outside too
              (if (i32.and (i32.lt_u (local.get $iy) (local.get $inH)) (i32.lt_u (local.get $ix) (local.get $inW)))
                (then (memory.copy (local.get $out)
                        (i32.add (local.get $image) (i32.add (i32.mul (local.get $iy) (local.get $rowBytes)) (i32.mul (local.get $ix) (local.get $run))))
                        (local.get $run)))
                (else (memory.fill (local.get $out) (i32.const 0) (local.get $run))))
              (local.set $out (i32.add (local.get $out) (local.get $run)))
              (local.set $j (i32.add (local.get $j) (i32.const 1)))
              (br $jl)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $il)))
          (local.set $ox (i32.add (local.get $ox) (i32.const 1)))
          (br $xl)))
        (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
        (br $yl)))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $bl))))
  ;; dst [batch, outH·kh, outW·kw, ch] (NHWC) from src [batch·outH·outW, kh·kw·ch] (rows (b, oy, ox), columns (i, j, c)).
  (func (export "tiles")
    (param $src i32) (param $dst i32) (param $batch i32) (param $outH i32) (param $outW i32) (param $kh i32) (param $kw i32) (param $ch i32)
    (local $b i32) (local $oy i32) (local $ox i32) (local $i i32) (local $j i32) (local $run i32) (local $rowBytes i32) (local $image i32)
    (local.set $run (i32.shl (local.get $ch) (i32.const 2)))
    (local.set $rowBytes (i32.mul (i32.mul (local.get $outW) (local.get $kw)) (local.get $run)))
    (local.set $b (i32.const 0))
    (block $bd (loop $bl
      (br_if $bd (i32.ge_u (local.get $b) (local.get $batch)))
      (local.set $image (i32.add (local.get $dst) (i32.mul (i32.mul (i32.mul (local.get $b) (local.get $outH)) (local.get $kh)) (local.get $rowBytes))))
      (local.set $oy (i32.const 0))
      (block $yd (loop $yl
        (br_if $yd (i32.ge_u (local.get $oy) (local.get $outH)))
        (local.set $ox (i32.const 0))
        (block $xd (loop $xl
          (br_if $xd (i32.ge_u (local.get $ox) (local.get $outW)))
          (local.set $i (i32.const 0))
          (block $id (loop $il
            (br_if $id (i32.ge_u (local.get $i) (local.get $kh)))
            (local.set $j (i32.const 0))
            (block $jd (loop $jl
              (br_if $jd (i32.ge_u (local.get $j) (local.get $kw)))
              (memory.copy
                (i32.add (local.get $image)
                  (i32.add (i32.mul (i32.add (i32.mul (local.get $oy) (local.get $kh)) (local.get $i)) (local.get $rowBytes))
                           (i32.mul (i32.add (i32.mul (local.get $ox) (local.get $kw)) (local.get $j)) (local.get $run))))
                (local.get $src) (local.get $run))
              (local.set $src (i32.add (local.get $src) (local.get $run)))
              (local.set $j (i32.add (local.get $j) (i32.const 1)))
              (br $jl)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $il)))
          (local.set $ox (i32.add (local.get $ox) (i32.const 1)))
          (br $xl)))
        (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
        (br $yl)))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $bl))))
)
