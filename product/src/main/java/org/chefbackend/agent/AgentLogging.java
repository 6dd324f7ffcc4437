package org.chefbackend.agent;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.filter.ThresholdFilter;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import java.io.IOException;
import java.nio.file.Path;
import org.slf4j.LoggerFactory;

/**
 * The agent's logging, set up in code: leaderl's log directory gets everything ({@code current}, rotated like the
 * services' logs; leaderl's pid is the agent's), the console only warnings.
 */
public final class AgentLogging {
    private AgentLogging() {
    }

    public static void quietConsole(Level consoleLevel) {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        context.reset();
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern(RotatingLogAppender.DEFAULT_PATTERN);
        encoder.start();
        ThresholdFilter threshold = new ThresholdFilter();
        threshold.setLevel(consoleLevel.toString());
        threshold.start();
        ConsoleAppender<ILoggingEvent> console = new ConsoleAppender<>();
        console.setContext(context);
        console.setTarget("System.err");
        console.setEncoder(encoder);
        console.addFilter(threshold);
        console.start();
        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.INFO);
        root.addAppender(console);
    }

    public static void toRotatingLog(Path directory, long maxBytes, int numToKeep) throws IOException {
        RotatingLogAppender.attachToRoot(new RotatingLog(directory, maxBytes, numToKeep));
    }
}
