package dev.autoscope.otel;

/**
 * A span's decision at its start, with everything that went into it.
 *
 * @param sampled whether the span is kept at its start ({@code randomness >= threshold})
 * @param rule the id of the deciding rule, null when the policy's default action decided
 * @param randomness the trace's 56-bit randomness
 * @param threshold the deciding action's threshold, in [0, 2^56]
 */
public record Decision(boolean sampled, String rule, long randomness, long threshold) {
    /** The threshold as OpenTelemetry's {@code th} value, null for rate 0. */
    public String th() {
        return Consistent.encodeTh(threshold);
    }

    /** How many spans a kept span stands for ({@code 2^56 / (2^56 - T)}), 0 when dropped. */
    public double adjustedCount() {
        return sampled ? Consistent.adjustedCount(threshold) : 0.0;
    }
}
