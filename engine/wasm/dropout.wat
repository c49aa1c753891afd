;; tf.dropout(x, rate, undefined, seed) in one pass over float32 in tfjs-backend-wasm's heap, bit for
;; bit: u = the Alea generator's next value (seedrandom's, which tf.randomUniform draws from in JS),
;; rounded to float32; mask = floor(u + keep) / keep and out = x * mask, each in float32 as tfjs-wasm's
;; Add, Floor, RealDiv and Mul kernels compute them. Pointers are byte offsets into the heap.
;; The memory line is replaced for the threaded build, whose heap is shared.
(module
  (import "env" "memory" MEMORY)
  (func (export "dropout")
    (param $x i32) (param $out i32) (param $mask i32) (param $n i32)
    (param $s0 f64) (param $s1 f64) (param $s2 f64) (param $c f64) (param $keep f32)
    (local $end i32) (local $t f64) (local $m f32)
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        ;; Alea: t = 2091639·s0 + c·2⁻³²; s0 ← s1; s1 ← s2; c ← t | 0; s2 ← t − c (t is in [0, 2³¹))
        (local.set $t (f64.add (f64.mul (f64.const 2091639) (local.get $s0)) (f64.mul (local.get $c) (f64.const 2.3283064365386963e-10))))
        (local.set $s0 (local.get $s1))
        (local.set $s1 (local.get $s2))
        (local.set $c (f64.trunc (local.get $t)))
        (local.set $s2 (f64.sub (local.get $t) (local.get $c)))
        (local.set $m (f32.div (f32.floor (f32.add (f32.demote_f64 (local.get $s2)) (local.get $keep))) (local.get $keep)))
        (f32.store (local.get $mask) (local.get $m))
        (f32.store (local.get $out) (f32.mul (f32.load (local.get $x)) (local.get $m)))
        (local.set $x (i32.add (local.get $x) (i32.const 4)))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (local.set $mask (i32.add (local.get $mask) (i32.const 4)))
        (br $each)))))
