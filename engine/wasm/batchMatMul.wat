;; Batched matmuls over float32 in tfjs-backend-wasm's own heap; pointers are byte offsets into it.
;; bmm: C[i] = A[i] @ B[i], A [batch, M, K] (or [batch, K, M] with $tA), B [batch, K, N], C [batch, M, N]
;; tfjs-wasm 4.22 sends every batched (or transposed) matmul to a scalar loop; attention's
;; per-head products are all batched. Each output row is made 16 columns at a time in four SIMD
;; accumulators (then 4 columns, then one), summing over k in order, so results are deterministic.
;; The memory line is replaced for the threaded build, whose heap is shared.
(module
  (import "env" "memory" MEMORY)
  (func (export "bmm")
    (param $a i32) (param $b i32) (param $c i32) (param $batch i32) (param $M i32) (param $K i32) (param $N i32) (param $tA i32)
    (local $sAm i32) (local $sAk i32)
    (local $i i32) (local $m i32) (local $k i32) (local $n i32)
    (local $ap i32) (local $bp i32) (local $cp i32) (local $arow i32) (local $crow i32)
    (local $rowB i32) (local $n16 i32) (local $n4 i32)
    (local $s v128) (local $acc0 v128) (local $acc1 v128) (local $acc2 v128) (local $acc3 v128)
    (local $sum f32)
    (local.set $rowB (i32.shl (local.get $N) (i32.const 2)))
    ;; bytes from A[m, k] to A[m + 1, k] and to A[m, k + 1]
    (if (local.get $tA)
      (then (local.set $sAm (i32.const 4)) (local.set $sAk (i32.shl (local.get $M) (i32.const 2))))
      (else (local.set $sAm (i32.shl (local.get $K) (i32.const 2))) (local.set $sAk (i32.const 4))))
    (local.set $n16 (i32.and (local.get $N) (i32.const -16)))
    (local.set $n4 (i32.and (local.get $N) (i32.const -4)))
    (local.set $i (i32.const 0))
    (block $batches_done
      (loop $batches
        (br_if $batches_done (i32.ge_u (local.get $i) (local.get $batch)))
        (local.set $m (i32.const 0))
        (block $rows_done
          (loop $rows
            (br_if $rows_done (i32.ge_u (local.get $m) (local.get $M)))
            (local.set $arow (i32.add (local.get $a) (i32.mul (local.get $m) (local.get $sAm))))
            (local.set $crow (i32.add (local.get $c) (i32.shl (i32.mul (local.get $m) (local.get $N)) (i32.const 2))))
            (local.set $n (i32.const 0))
            ;; 16 columns at a time
            (block $n16_done
              (loop $n16_loop
                (br_if $n16_done (i32.ge_u (local.get $n) (local.get $n16)))
                (local.set $acc0 (v128.const i32x4 0 0 0 0))
                (local.set $acc1 (v128.const i32x4 0 0 0 0))
                (local.set $acc2 (v128.const i32x4 0 0 0 0))
                (local.set $acc3 (v128.const i32x4 0 0 0 0))
                (local.set $ap (local.get $arow))
                (local.set $bp (i32.add (local.get $b) (i32.shl (local.get $n) (i32.const 2))))
                (local.set $k (i32.const 0))
                (block $k_done
                  (loop $k_loop
                    (br_if $k_done (i32.ge_u (local.get $k) (local.get $K)))
                    (local.set $s (f32x4.splat (f32.load (local.get $ap))))
                    (local.set $acc0 (f32x4.add (local.get $acc0) (f32x4.mul (local.get $s) (v128.load offset=0 align=4 (local.get $bp)))))
                    (local.set $acc1 (f32x4.add (local.get $acc1) (f32x4.mul (local.get $s) (v128.load offset=16 align=4 (local.get $bp)))))
                    (local.set $acc2 (f32x4.add (local.get $acc2) (f32x4.mul (local.get $s) (v128.load offset=32 align=4 (local.get $bp)))))
                    (local.set $acc3 (f32x4.add (local.get $acc3) (f32x4.mul (local.get $s) (v128.load offset=48 align=4 (local.get $bp)))))
                    (local.set $ap (i32.add (local.get $ap) (local.get $sAk)))
                    (local.set $bp (i32.add (local.get $bp) (local.get $rowB)))
                    (local.set $k (i32.add (local.get $k) (i32.const 1)))
                    (br $k_loop)))
                (local.set $cp (i32.add (local.get $crow) (i32.shl (local.get $n) (i32.const 2))))
                (v128.store offset=0 align=4 (local.get $cp) (local.get $acc0))
                (v128.store offset=16 align=4 (local.get $cp) (local.get $acc1))
                (v128.store offset=32 align=4 (local.get $cp) (local.get $acc2))
                (v128.store offset=48 align=4 (local.get $cp) (local.get $acc3))
                (local.set $n (i32.add (local.get $n) (i32.const 16)))
                (br $n16_loop)))
            ;; then 4 columns at a time
            (block $n4_done
              (loop $n4_loop
                (br_if $n4_done (i32.ge_u (local.get $n) (local.get $n4)))
                (local.set $acc0 (v128.const i32x4 0 0 0 0))
                (local.set $ap (local.get $arow))
                (local.set $bp (i32.add (local.get $b) (i32.shl (local.get $n) (i32.const 2))))
                (local.set $k (i32.const 0))
                (block $k4_done
                  (loop $k4_loop
                    (br_if $k4_done (i32.ge_u (local.get $k) (local.get $K)))
                    (local.set $acc0 (f32x4.add (local.get $acc0) (f32x4.mul (f32x4.splat (f32.load (local.get $ap))) (v128.load align=4 (local.get $bp)))))
                    (local.set $ap (i32.add (local.get $ap) (local.get $sAk)))
                    (local.set $bp (i32.add (local.get $bp) (local.get $rowB)))
                    (local.set $k (i32.add (local.get $k) (i32.const 1)))
                    (br $k4_loop)))
                (v128.store align=4 (i32.add (local.get $crow) (i32.shl (local.get $n) (i32.const 2))) (local.get $acc0))
                (local.set $n (i32.add (local.get $n) (i32.const 4)))
                (br $n4_loop)))
            ;; then the last columns one by one
            (block $n1_done
              (loop $n1_loop
                (br_if $n1_done (i32.ge_u (local.get $n) (local.get $N)))
                (local.set $sum (f32.const 0))
                (local.set $ap (local.get $arow))
                (local.set $bp (i32.add (local.get $b) (i32.shl (local.get $n) (i32.const 2))))
                (local.set $k (i32.const 0))
                (block $k1_done
                  (loop $k1_loop
                    (br_if $k1_done (i32.ge_u (local.get $k) (local.get $K)))
                    (local.set $sum (f32.add (local.get $sum) (f32.mul (f32.load (local.get $ap)) (f32.load (local.get $bp)))))
                    (local.set $ap (i32.add (local.get $ap) (local.get $sAk)))
                    (local.set $bp (i32.add (local.get $bp) (local.get $rowB)))
                    (local.set $k (i32.add (local.get $k) (i32.const 1)))
                    (br $k1_loop)))
                (f32.store (i32.add (local.get $crow) (i32.shl (local.get $n) (i32.const 2))) (local.get $sum))
                (local.set $n (i32.add (local.get $n) (i32.const 1)))
                (br $n1_loop)))
            (local.set $m (i32.add (local.get $m) (i32.const 1)))
            (br $rows)))
        (local.set $a (i32.add (local.get $a) (i32.shl (i32.mul (local.get $M) (local.get $K)) (i32.const 2))))
        (local.set $b (i32.add (local.get $b) (i32.shl (i32.mul (local.get $K) (local.get $N)) (i32.const 2))))
        (local.set $c (i32.add (local.get $c) (i32.shl (i32.mul (local.get $M) (local.get $N)) (i32.const 2))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $batches)))))
