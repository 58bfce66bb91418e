package dev.autoscope.otel;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Policies written for tests. */
final class Policies {
    private Policies() {}

    /**
     * A policy that drops what no rule names ({@code default_action} rate 0) and keeps spans named
     * {@code keep-me}, with {@code keep_errors} as given.
     */
    static String dropAllButKeepMe(boolean keepErrors) {
        return """
                {"version": 2, "generator": {"tool": "test", "version": "1"},
                 "target_reduction": 0.9,
                 "default_action": {"action": "sample", "rate": 0.0},
                 "overrides": {"keep_errors": %s},
                 "rules": [
                   {"id": "keep-me", "match": [{"exact": "keep-me"}], "action": {"action": "keep"}},
                   {"id": "checkout-only", "service": "checkout", "match": [{"exact": "pay"}],
                    "action": {"action": "keep"}}
                 ]}
                """
                .formatted(keepErrors);
    }

    static Path write(Path folder, String name, String text) {
        try {
            Path path = folder.resolve(name);
            Files.writeString(path, text, StandardCharsets.UTF_8);
            return path;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
