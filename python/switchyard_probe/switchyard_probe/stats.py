"""A sparse layer's record from its summed counts (names as in the engine's metrics: routed, kept,
loadCv, maxShare ...). Pure arithmetic on Python lists, run on rank 0 after the counts are reduced."""
import math


def layer_record(spec, routed, kept, entropy_sum, prob_sum, tokens):
    """spec: a RouterSpec; routed, kept, prob_sum: [E] lists; entropy_sum: nats summed over tokens;
    tokens: tokens routed (each counted once, whatever k)."""
    e = spec.num_experts
    routed = [int(round(x)) for x in routed]
    assignments = sum(routed)
    mean = assignments / e
    variance = sum((x - mean) ** 2 for x in routed) / e
    entropy = entropy_sum / tokens if tokens else 0.0
    record = {
        "layer": spec.name,
        "numExperts": e,
        "topK": spec.top_k,
        "assignments": assignments,
        "routed": routed,
        "shares": [x / assignments if assignments else 0.0 for x in routed],
        "routerEntropy": entropy,
        "normalizedEntropy": entropy / math.log(e) if e > 1 else 0.0,
        "loadCv": math.sqrt(variance) / mean if mean > 0 else 0.0,
        "maxShare": max(routed) / assignments if assignments else 0.0,
        "maxVio": (max(routed) - mean) / mean if mean > 0 else 0.0,
        "unusedExperts": sum(1 for x in routed if x == 0),
        "meanProb": [p / tokens if tokens else 0.0 for p in prob_sum],
    }
    if kept is not None:
        kept = [int(round(x)) for x in kept]
        dropped = max(0, assignments - sum(kept))
        record.update(kept=kept, dropped=dropped, overflowRate=dropped / assignments if assignments else 0.0)
    return record
