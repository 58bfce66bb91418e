package dev.autoscope.otel;

import io.opentelemetry.sdk.autoconfigure.spi.AutoConfigurationCustomizer;
import io.opentelemetry.sdk.autoconfigure.spi.AutoConfigurationCustomizerProvider;
import io.opentelemetry.sdk.autoconfigure.spi.ConfigProperties;
import io.opentelemetry.sdk.autoconfigure.spi.ConfigurationException;
import io.opentelemetry.sdk.trace.SpanProcessor;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Completes {@code otel.traces.sampler=autoscope} under autoconfiguration (the Java agent
 * included): binds the sampler to the resource's final {@code service.name} (resource providers,
 * the agent's among them, may set it after the configuration is read), and puts every exporter's
 * span processor behind an {@link AutoscopeSpanProcessor} with the policy's overrides. Does nothing
 * when another sampler is configured.
 */
public final class AutoscopeCustomizerProvider implements AutoConfigurationCustomizerProvider {
    private static final io.opentelemetry.api.common.AttributeKey<String> SERVICE_NAME =
            io.opentelemetry.api.common.AttributeKey.stringKey("service.name");

    @Override
    public void customize(AutoConfigurationCustomizer customizer) {
        AtomicReference<String> resourceService = new AtomicReference<>();
        customizer.addResourceCustomizer(
                (resource, config) -> {
                    resourceService.set(resource.getAttribute(SERVICE_NAME));
                    return resource;
                });
        customizer.addSamplerCustomizer(
                (sampler, config) -> {
                    String service = resourceService.get();
                    if (sampler instanceof AutoscopeSampler autoscope
                            && service != null
                            && !service.isEmpty()) {
                        return autoscope.forService(service);
                    }
                    return sampler;
                });
        customizer.addSpanProcessorCustomizer(
                (processor, config) -> {
                    if (!isAutoscope(config)) {
                        return processor;
                    }
                    String service = resourceService.get();
                    if (service == null || service.isEmpty()) {
                        service = AutoscopeSamplerProvider.serviceName(config);
                    }
                    return wrap(processor, config, service);
                });
    }

    private static boolean isAutoscope(ConfigProperties config) {
        return AutoscopeSamplerProvider.NAME.equals(
                config.getString(AutoscopeSamplerProvider.SAMPLER_PROPERTY));
    }

    private static SpanProcessor wrap(
            SpanProcessor processor, ConfigProperties config, String service) {
        Policy policy;
        try {
            policy = Policy.load(AutoscopeSamplerProvider.policyPath(config));
        } catch (PolicyException e) {
            throw new ConfigurationException("autoscope sampler: " + e.getMessage(), e);
        }
        return policy.keepsSpansAtTheirEnd()
                ? AutoscopeSpanProcessor.wrap(processor, policy, service)
                : processor;
    }
}
