package io.periscope.core.telemetry;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.status.Status;
import io.periscope.core.config.LogLevel;
import io.periscope.core.config.LoggingConfig;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class LogSetupTest {
    private static final Logger LOG = LoggerFactory.getLogger(LogSetupTest.class);

    @Test
    void shouldBeConfiguredInCodeWithOneStderrAppenderAndNoXml() {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        ch.qos.logback.classic.Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);

        assertThat(root.getAppender("STDERR")).isInstanceOfSatisfying(ConsoleAppender.class, appender -> {
            assertThat(appender.getTarget()).isEqualTo("System.err");
            assertThat(appender.getEncoder()).isInstanceOfSatisfying(PatternLayoutEncoder.class,
                    encoder -> assertThat(encoder.getPattern()).isEqualTo(LogSetup.TEXT_PATTERN));
        });
        assertThat(context.getStatusManager().getCopyOfStatusList()).extracting(Status::getMessage)
                .anySatisfy(m -> assertThat(m).contains(LogbackConfigurator.class.getName()))
                .noneSatisfy(m -> assertThat(m).contains("DefaultJoranConfigurator"));
    }

    @Test
    void shouldSwitchBetweenJsonAndTextLines() {
        PrintStream original = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            LogSetup.apply(new LoggingConfig(LogLevel.INFO, true));
            LOG.info("hello {}", "json");
            LogSetup.apply(new LoggingConfig(LogLevel.WARN, false));
            LOG.info("hidden below the threshold");
            LOG.warn("hello {}", "text");
        } finally {
            LogSetup.apply(new LoggingConfig(LogLevel.INFO, false));
            System.setErr(original);
        }
        String[] lines = captured.toString(StandardCharsets.UTF_8).split("\n");
        assertThat(lines).hasSize(2);
        assertThat(lines[0]).startsWith("{").contains("\"level\":\"INFO\"").contains("hello json").endsWith("}");
        assertThat(lines[1]).doesNotStartWith("{").contains("WARN").contains("hello text");
    }
}
