package io.periscope.core.telemetry;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.encoder.Encoder;
import io.periscope.core.config.LoggingConfig;
import org.slf4j.ILoggerFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies {@code logging.level} and {@code logging.json} to logback at start and on reload. The
 * appender {@link LogbackConfigurator} made (named STDERR) gets either its text pattern or logback's
 * {@link JsonEncoder} (one JSON object per line). The environment variable PERISCOPE_LOG_LEVEL,
 * when set, wins over the config level so a user can turn on debug without editing the file.
 */
public final class LogSetup {
    /** The text layout. */
    public static final String TEXT_PATTERN =
            "%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %-5level [%thread] %logger{20} - %msg%n";
    private static final String APPENDER_NAME = LogbackConfigurator.APPENDER_NAME;

    private LogSetup() {
    }

    /** Reconfigures logback; a no-op when another slf4j binding is in use. */
    public static void apply(LoggingConfig config) {
        ILoggerFactory factory = LoggerFactory.getILoggerFactory();
        if (!(factory instanceof LoggerContext)) {
            return;
        }
        LoggerContext context = (LoggerContext) factory;
        ch.qos.logback.classic.Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        root.setLevel(LogbackConfigurator.levelFromEnvironment(Level.toLevel(config.level().name())));
        if (!(root.getAppender(APPENDER_NAME) instanceof OutputStreamAppender)) {
            return;
        }
        @SuppressWarnings("unchecked")
        OutputStreamAppender<ILoggingEvent> appender =
                (OutputStreamAppender<ILoggingEvent>) root.getAppender(APPENDER_NAME);
        boolean isJson = appender.getEncoder() instanceof JsonEncoder;
        if (isJson == config.json()) {
            return;
        }
        Encoder<ILoggingEvent> encoder = config.json() ? jsonEncoder() : textEncoder();
        encoder.setContext(context);
        encoder.start();
        appender.stop();
        appender.setEncoder(encoder);
        appender.start();
    }

    private static Encoder<ILoggingEvent> jsonEncoder() {
        JsonEncoder encoder = new JsonEncoder();
        // One flat object per event: time, level, thread, logger, formatted message, throwable.
        encoder.setWithSequenceNumber(false);
        encoder.setWithNanoseconds(false);
        encoder.setWithContext(false);
        encoder.setWithArguments(false);
        encoder.setWithMessage(false);
        encoder.setWithFormattedMessage(true);
        return encoder;
    }

    private static Encoder<ILoggingEvent> textEncoder() {
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setPattern(TEXT_PATTERN);
        return encoder;
    }
}
