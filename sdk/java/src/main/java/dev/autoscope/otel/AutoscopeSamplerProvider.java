package dev.autoscope.otel;

import io.opentelemetry.sdk.autoconfigure.spi.ConfigProperties;
import io.opentelemetry.sdk.autoconfigure.spi.ConfigurationException;
import io.opentelemetry.sdk.autoconfigure.spi.traces.ConfigurableSamplerProvider;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import java.nio.file.Path;

/**
 * {@code otel.traces.sampler=autoscope}: the {@link AutoscopeSampler} of the policy file named by
 * {@code otel.traces.sampler.arg}. The service is the one that configuration names; {@link
 * AutoscopeCustomizerProvider} then rebinds it to the resource's final {@code service.name}.
 */
public final class AutoscopeSamplerProvider implements ConfigurableSamplerProvider {
    /** The sampler's name in {@code otel.traces.sampler}. */
    public static final String NAME = "autoscope";

    static final String SAMPLER_PROPERTY = "otel.traces.sampler";
    static final String ARG_PROPERTY = "otel.traces.sampler.arg";

    @Override
    public Sampler createSampler(ConfigProperties config) {
        Path policy = policyPath(config);
        String service = serviceName(config);
        try {
            return AutoscopeSampler.load(policy, service);
        } catch (PolicyException e) {
            throw new ConfigurationException("autoscope sampler: " + e.getMessage(), e);
        }
    }

    /** The service the configuration names (the resource may name another later). */
    static String serviceName(ConfigProperties config) {
        String service = config.getString("otel.service.name");
        if (service == null || service.isBlank()) {
            service =
                    config.getMap("otel.resource.attributes")
                            .getOrDefault("service.name", ServiceName.UNKNOWN);
        }
        return service;
    }

    /** The policy file of the configuration; a clear error when it names none. */
    static Path policyPath(ConfigProperties config) {
        String arg = config.getString(ARG_PROPERTY);
        if (arg == null || arg.isBlank()) {
            throw new ConfigurationException(
                    "autoscope sampler: set "
                            + ARG_PROPERTY
                            + " (OTEL_TRACES_SAMPLER_ARG) to the policy file, e.g. policy.json");
        }
        return Path.of(arg.trim());
    }

    @Override
    public String getName() {
        return NAME;
    }
}
