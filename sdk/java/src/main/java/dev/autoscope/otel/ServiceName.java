package dev.autoscope.otel;

import java.util.Map;

/** The service name as OpenTelemetry's standard configuration gives it. */
final class ServiceName {
    static final String UNKNOWN = "unknown_service:java";

    private ServiceName() {}

    static String fromStandardConfiguration() {
        return fromStandardConfiguration(System.getProperties()::getProperty, System.getenv());
    }

    static String fromStandardConfiguration(
            java.util.function.Function<String, String> properties,
            Map<String, String> environment) {
        String name =
                firstNonEmpty(
                        properties.apply("otel.service.name"),
                        environment.get("OTEL_SERVICE_NAME"));
        if (name != null) {
            return name;
        }
        String attributes =
                firstNonEmpty(
                        properties.apply("otel.resource.attributes"),
                        environment.get("OTEL_RESOURCE_ATTRIBUTES"));
        String fromAttributes = fromResourceAttributes(attributes);
        return fromAttributes != null ? fromAttributes : UNKNOWN;
    }

    /** {@code service.name} in a {@code key=value,key=value} list (values percent-decoded). */
    static String fromResourceAttributes(String attributes) {
        if (attributes == null) {
            return null;
        }
        for (String pair : attributes.split(",")) {
            int equals = pair.indexOf('=');
            if (equals > 0 && pair.substring(0, equals).trim().equals("service.name")) {
                String value = pair.substring(equals + 1).trim();
                try {
                    value =
                            java.net.URLDecoder.decode(
                                    value, java.nio.charset.StandardCharsets.UTF_8);
                } catch (IllegalArgumentException e) {
                    // Not percent-encoded after all: keep the text as written.
                }
                return value.isEmpty() ? null : value;
            }
        }
        return null;
    }

    private static String firstNonEmpty(String first, String second) {
        if (first != null && !first.isBlank()) {
            return first.trim();
        }
        if (second != null && !second.isBlank()) {
            return second.trim();
        }
        return null;
    }
}
