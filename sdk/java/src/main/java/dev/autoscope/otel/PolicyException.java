package dev.autoscope.otel;

/** A policy that cannot be read or is invalid; the message names the file and the field. */
public final class PolicyException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    PolicyException(String message) {
        super(message);
    }

    PolicyException(String message, Throwable cause) {
        super(message, cause);
    }
}
