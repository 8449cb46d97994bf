package io.periscope.core.telemetry;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ConfiguratorRank;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.spi.ContextAwareBase;
import org.slf4j.Logger;

/**
 * Logback's start-up configuration, in code: one stderr appender named {@code STDERR} with
 * {@link LogSetup#TEXT_PATTERN} (stdout stays for command output), the root level from
 * PERISCOPE_LOG_LEVEL or INFO. Found by logback through {@code META-INF/services} before it looks for
 * a logback.xml; configuring from XML loaded ~370 classes (Joran, its model, the JDK's XML parser),
 * about 4 MB of metaspace resident for the agent's life, to build these same three objects.
 * {@link LogSetup} then applies {@code logging.*} from the agent's config.
 */
@ConfiguratorRank(ConfiguratorRank.CUSTOM_HIGH_PRIORITY)
public final class LogbackConfigurator extends ContextAwareBase implements Configurator {
    /** The appender's name, which {@link LogSetup} looks up. */
    static final String APPENDER_NAME = "STDERR";
    static final String LEVEL_VARIABLE = "PERISCOPE_LOG_LEVEL";

    /** Called by logback's ServiceLoader lookup. */
    public LogbackConfigurator() {
        super();
    }

    @Override
    public ExecutionStatus configure(LoggerContext context) {
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern(LogSetup.TEXT_PATTERN);
        encoder.start();
        ConsoleAppender<ILoggingEvent> appender = new ConsoleAppender<>();
        appender.setContext(context);
        appender.setName(APPENDER_NAME);
        appender.setTarget("System.err");
        appender.setEncoder(encoder);
        appender.start();
        ch.qos.logback.classic.Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        root.setLevel(levelFromEnvironment(Level.INFO));
        root.addAppender(appender);
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }

    /** PERISCOPE_LOG_LEVEL when set (an unknown name gives {@code otherwise}), else {@code otherwise}. */
    static Level levelFromEnvironment(Level otherwise) {
        String fromEnvironment = System.getenv(LEVEL_VARIABLE);
        return fromEnvironment != null && !fromEnvironment.isBlank()
                ? Level.toLevel(fromEnvironment.trim(), otherwise) : otherwise;
    }
}
