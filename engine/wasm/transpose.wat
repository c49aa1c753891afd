;; dst[i] = src[i]ᵀ: src [batch, R, C] -> dst [batch, C, R], float32, byte offsets into tfjs-wasm's heap.
;; tfjs-backend-wasm 4.22 moves one value at a time down each output column, a cache miss per value
;; for a large matrix. Here 4 × 4 blocks are read as four rows, transposed in registers by shuffles
;; and written as four rows, in column bands of 32 so that the rows written stay in L1.
;; The edges (R or C not a multiple of 4) go one value at a time. The memory line is replaced for the
;; threaded build, whose heap is shared.
(module
  (import "env" "memory" MEMORY)
  (func (export "transpose") (param $src i32) (param $dst i32) (param $batch i32) (param $R i32) (param $C i32)
    (local $i i32) (local $band i32) (local $bandEnd i32) (local $r i32) (local $c i32)
    (local $R4 i32) (local $C4 i32) (local $rowS i32) (local $rowD i32)
    (local $s i32) (local $d i32)
    (local $r0 v128) (local $r1 v128) (local $r2 v128) (local $r3 v128)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local.set $R4 (i32.and (local.get $R) (i32.const -4)))
    (local.set $C4 (i32.and (local.get $C) (i32.const -4)))
    (local.set $rowS (i32.shl (local.get $C) (i32.const 2)))
    (local.set $rowD (i32.shl (local.get $R) (i32.const 2)))
    (block $batches_done
      (loop $batches
        (br_if $batches_done (i32.ge_u (local.get $i) (local.get $batch)))
        ;; 4 × 4 blocks, band by band of 32 columns
        (local.set $band (i32.const 0))
        (block $bands_done
          (loop $bands
            (br_if $bands_done (i32.ge_u (local.get $band) (local.get $C4)))
            (local.set $bandEnd (select (i32.add (local.get $band) (i32.const 32)) (local.get $C4)
              (i32.lt_u (i32.add (local.get $band) (i32.const 32)) (local.get $C4))))
            (local.set $r (i32.const 0))
            (block $rows_done
              (loop $rows
                (br_if $rows_done (i32.ge_u (local.get $r) (local.get $R4)))
                (local.set $c (local.get $band))
                (block $cols_done
                  (loop $cols
                    (br_if $cols_done (i32.ge_u (local.get $c) (local.get $bandEnd)))
                    ;; src[r .. r+3][c .. c+3]
                    (local.set $s (i32.add (local.get $src) (i32.shl (i32.add (i32.mul (local.get $r) (local.get $C)) (local.get $c)) (i32.const 2))))
                    (local.set $r0 (v128.load align=4 (local.get $s)))
                    (local.set $r1 (v128.load align=4 (i32.add (local.get $s) (local.get $rowS))))
                    (local.set $r2 (v128.load align=4 (i32.add (local.get $s) (i32.shl (local.get $rowS) (i32.const 1)))))
                    (local.set $r3 (v128.load align=4 (i32.add (local.get $s) (i32.mul (local.get $rowS) (i32.const 3)))))
                    ;; t0 = r0[0] r1[0] r0[1] r1[1], t1 = r0[2] r1[2] r0[3] r1[3]; t2, t3 the same of r2, r3
                    (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r0) (local.get $r1)))
                    (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r0) (local.get $r1)))
                    (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r2) (local.get $r3)))
                    (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r2) (local.get $r3)))
                    ;; dst[c .. c+3][r .. r+3]: column j of the block is row j of dst
                    (local.set $d (i32.add (local.get $dst) (i32.shl (i32.add (i32.mul (local.get $c) (local.get $R)) (local.get $r)) (i32.const 2))))
                    (v128.store align=4 (local.get $d) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)))
                    (v128.store align=4 (i32.add (local.get $d) (local.get $rowD)) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)))
                    (v128.store align=4 (i32.add (local.get $d) (i32.shl (local.get $rowD) (i32.const 1))) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)))
                    (v128.store align=4 (i32.add (local.get $d) (i32.mul (local.get $rowD) (i32.const 3))) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3)))
                    (local.set $c (i32.add (local.get $c) (i32.const 4)))
                    (br $cols)))
                (local.set $r (i32.add (local.get $r) (i32.const 4)))
                (br $rows)))
            (local.set $band (local.get $bandEnd))
            (br $bands)))
        ;; the edges: rows R4.. (every column), then columns C4.. of rows 0 .. R4
        (local.set $r (local.get $R4))
        (block $er_done
          (loop $er
            (br_if $er_done (i32.ge_u (local.get $r) (local.get $R)))
            (local.set $c (i32.const 0))
            (block $ec_done
              (loop $ec
                (br_if $ec_done (i32.ge_u (local.get $c) (local.get $C)))
                (call $one (local.get $src) (local.get $dst) (local.get $R) (local.get $C) (local.get $r) (local.get $c))
                (local.set $c (i32.add (local.get $c) (i32.const 1)))
                (br $ec)))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br $er)))
        (local.set $r (i32.const 0))
        (block $tr_done
          (loop $tr
            (br_if $tr_done (i32.ge_u (local.get $r) (local.get $R4)))
            (local.set $c (local.get $C4))
            (block $tc_done
              (loop $tc
                (br_if $tc_done (i32.ge_u (local.get $c) (local.get $C)))
                (call $one (local.get $src) (local.get $dst) (local.get $R) (local.get $C) (local.get $r) (local.get $c))
                (local.set $c (i32.add (local.get $c) (i32.const 1)))
                (br $tc)))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br $tr)))
        (local.set $src (i32.add (local.get $src) (i32.mul (local.get $R) (local.get $rowS))))
        (local.set $dst (i32.add (local.get $dst) (i32.mul (local.get $R) (local.get $rowS))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $batches))))

  ;; dst[c][r] = src[r][c]
  (func $one (param $src i32) (param $dst i32) (param $R i32) (param $C i32) (param $r i32) (param $c i32)
    (f32.store
      (i32.add (local.get $dst) (i32.shl (i32.add (i32.mul (local.get $c) (local.get $R)) (local.get $r)) (i32.const 2)))
      (f32.load (i32.add (local.get $src) (i32.shl (i32.add (i32.mul (local.get $r) (local.get $C)) (local.get $c)) (i32.const 2)))))))
