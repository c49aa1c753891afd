;; One Adam update over float32 values in tfjs-backend-wasm's heap, bit for bit as the JS loop it
;; replaces (train/adam.ts's adamStep): each value is promoted to float64, m ← β1·m + (1−β1)·g,
;; v ← β2·v + (1−β2)·g·g, out ← w − stepSize·m / (√v + ε) in float64 (unfused, in that order), and
;; each result rounded to float32 when stored. Two values per f64x2 lane pair; an odd last value
;; alone. Pointers are byte offsets into the heap; `out` is a new tensor (see adam.ts).
;; The memory line is replaced for the threaded build, whose heap is shared.
(module
  (import "env" "memory" MEMORY)
  (func (export "adam")
    (param $w i32) (param $g i32) (param $m i32) (param $v i32) (param $out i32) (param $n i32)
    (param $stepSize f64) (param $beta1 f64) (param $beta2 f64) (param $epsilon f64)
    (local $pairsEnd i32) (local $c1 f64) (local $c2 f64)
    (local $g2 v128) (local $m2 v128) (local $v2 v128)
    (local $g1 f64) (local $m1 f64) (local $v1 f64)
    (local.set $c1 (f64.sub (f64.const 1) (local.get $beta1)))
    (local.set $c2 (f64.sub (f64.const 1) (local.get $beta2)))
    (local.set $pairsEnd (i32.add (local.get $w) (i32.shl (i32.and (local.get $n) (i32.const -2)) (i32.const 2))))
    (block $done
      (loop $pair
        (br_if $done (i32.ge_u (local.get $w) (local.get $pairsEnd)))
        (local.set $g2 (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $g))))
        (local.set $m2 (f64x2.add
          (f64x2.mul (f64x2.splat (local.get $beta1)) (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $m))))
          (f64x2.mul (f64x2.splat (local.get $c1)) (local.get $g2))))
        (local.set $v2 (f64x2.add
          (f64x2.mul (f64x2.splat (local.get $beta2)) (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $v))))
          (f64x2.mul (f64x2.mul (f64x2.splat (local.get $c2)) (local.get $g2)) (local.get $g2))))
        (v128.store64_lane 0 (local.get $m) (f32x4.demote_f64x2_zero (local.get $m2)))
        (v128.store64_lane 0 (local.get $v) (f32x4.demote_f64x2_zero (local.get $v2)))
        (v128.store64_lane 0 (local.get $out) (f32x4.demote_f64x2_zero (f64x2.sub
          (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $w)))
          (f64x2.div
            (f64x2.mul (f64x2.splat (local.get $stepSize)) (local.get $m2))
            (f64x2.add (f64x2.sqrt (local.get $v2)) (f64x2.splat (local.get $epsilon)))))))
        (local.set $w (i32.add (local.get $w) (i32.const 8)))
        (local.set $g (i32.add (local.get $g) (i32.const 8)))
        (local.set $m (i32.add (local.get $m) (i32.const 8)))
        (local.set $v (i32.add (local.get $v) (i32.const 8)))
        (local.set $out (i32.add (local.get $out) (i32.const 8)))
        (br $pair)))
    (if (i32.and (local.get $n) (i32.const 1))
      (then
        (local.set $g1 (f64.promote_f32 (f32.load (local.get $g))))
        (local.set $m1 (f64.add
          (f64.mul (local.get $beta1) (f64.promote_f32 (f32.load (local.get $m))))
          (f64.mul (local.get $c1) (local.get $g1))))
        (local.set $v1 (f64.add
          (f64.mul (local.get $beta2) (f64.promote_f32 (f32.load (local.get $v))))
          (f64.mul (f64.mul (local.get $c2) (local.get $g1)) (local.get $g1))))
        (f32.store (local.get $m) (f32.demote_f64 (local.get $m1)))
        (f32.store (local.get $v) (f32.demote_f64 (local.get $v1)))
        (f32.store (local.get $out) (f32.demote_f64 (f64.sub
          (f64.promote_f32 (f32.load (local.get $w)))
          (f64.div
            (f64.mul (local.get $stepSize) (local.get $m1))
            (f64.add (f64.sqrt (local.get $v1)) (local.get $epsilon))))))))))
